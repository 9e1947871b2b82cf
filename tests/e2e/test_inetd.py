"""inetd mode: the client socket on fd 0 (and 1 and 2, as xinetd does), under
systemd-socket-activate --inetd and under a real xinetd."""
import imaplib
import os
import pwd
import shutil
import subprocess

import lib


class Ctx(lib.Harness):
    pass


def session(port):
    m = imaplib.IMAP4("127.0.0.1", port)
    typ, _ = m.login("alice", "wonderland")
    assert typ == "OK"
    typ, data = m.select("INBOX")
    assert typ == "OK"
    typ, data = m.fetch("1", "(BODY[])")
    assert b"Hello alice." in data[0][1]
    m.logout()


def test_socket_activate_inetd(ctx):
    p = ctx.track(lib.Postern(ctx.tmp, inetd=True,
                              map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port]))
    session(p.port)
    log = p.wait_log("result=relayed")
    assert "event=connect" in log


def test_inetd_errors_never_reach_the_client(ctx):
    # stderr is the client socket here; a config error must go to the log
    # file named by... nothing, so syslog: the client sees only a close.
    p = ctx.track(lib.Postern(ctx.tmp, inetd=True, raw_conf="bogus_directive = 1\n"))
    c = lib.Client(p.port)
    assert c.closed()
    assert c.buf == b"", c.buf


def test_socket_name_picks_the_section(ctx):
    # Neither section listens on the port: only FileDescriptorName= decides.
    conf = ('error_log = "%s"\nrelay_program = "%s"\nauth_map = "%s"\n'
            'server imap { protocol = "imap" listen = "1" '
            'imap_capabilities = {"IMAP4rev1", "X-FIRST"} }\n'
            'server second { protocol = "imap" listen = "2" '
            'imap_capabilities = {"IMAP4rev1", "X-SECOND"} }\n')
    p = ctx.track(lib.Postern(ctx.tmp, name="second",
                              raw_conf=conf % ("/dev/null", lib.RELAY,
                                               os.path.join(lib.SRCDIR, "conf", "users.map"))))
    c = lib.Client(p.port)
    greeting = c.line()
    assert "X-SECOND" in greeting and "X-FIRST" not in greeting, greeting
    c.close()


class Xinetd:
    def __init__(self, tmp, conf_path, user="root"):
        self.tmp = tmp
        self.port = lib.free_port()
        self.conf = tmp("xinetd-%d.conf" % self.port)
        user = "    user = %s\n" % user if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write("""defaults
{
}
service postern-test
{
    type = UNLISTED
    port = %d
    bind = 127.0.0.1
    socket_type = stream
    protocol = tcp
    wait = no
%s    server = %s
    server_args = -a %s -s imap
%s}
""" % (self.port, user, lib.POSTERN, conf_path,
       "    env = %s\n" % " ".join("%s=%s" % kv for kv in lib.sanitizer_env().items())
       if lib.sanitizer_env() else ""))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["xinetd", "-dontfork", "-f", self.conf,
             "-pidfile", self.tmp("xinetd-%d.pid" % self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lib.wait_port(self.port, proc=self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def test_xinetd(ctx):
    assert shutil.which("xinetd"), "xinetd is not installed"
    p = lib.Postern(ctx.tmp, map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port])
    x = ctx.track(Xinetd(ctx.tmp, p.activated()))
    session(x.port)
    log = p.wait_log("result=relayed")
    # xinetd put the socket on fds 0-2; nothing postern logged went there.
    assert "event=login" in log


# The system's Python: the probe runs as nobody, who may not reach the
# one running the tests (under /root, say).
PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "python3"

# Run as the sessions' user: for each "pid:fd" given, what that user can
# take from the process. A line per pid: "pid mem environ fd pidfd_getfd"
# (of that descriptor), each "ok" or the errno's name.
PROBE = r"""
import ctypes, errno, os, sys

libc = ctypes.CDLL(None, use_errno=True)


def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]


def mem(pid):
    with open("/proc/%d/mem" % pid, "rb", 0):
        pass


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        f.read()


def fds(pid):
    os.listdir("/proc/%d/fd" % pid)


def getfd(pid, target):
    pidfd = os.pidfd_open(pid)
    try:
        fd = libc.syscall(438, pidfd, target, 0)   # pidfd_getfd
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        os.close(fd)
    finally:
        os.close(pidfd)


for arg in sys.argv[1:]:
    pid, target = map(int, arg.split(":"))
    print(pid, attempt(lambda: mem(pid)), attempt(lambda: environ(pid)),
          attempt(lambda: fds(pid)), attempt(lambda: getfd(pid, target)))
"""


def children(ppid, comm):
    """The processes ppid started whose name is comm."""
    out = []
    for pid in lib.pids_of(comm):
        try:
            with open("/proc/%d/stat" % pid) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                    out.append(pid)
        except (OSError, ValueError, IndexError):
            pass
    return sorted(out)


def test_sessions_under_one_user_cannot_reach_each_other(ctx):
    # xinetd runs every session as the same user: what one session could
    # do to a sibling, a process of that user can. Each program makes
    # itself non-dumpable, so /proc hands the sibling's memory, environment
    # and descriptors to root only, and pidfd_getfd refuses its socket
    # (the client's, fd 3 in a relay).
    if os.geteuid() != 0:
        raise lib.Skip("needs root to run xinetd's sessions as nobody")
    assert shutil.which("xinetd"), "xinetd is not installed"
    nobody = pwd.getpwnam("nobody")
    p = lib.Postern(ctx.tmp, map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port])
    with open(p.log, "w"):
        pass
    os.chown(p.log, nobody.pw_uid, nobody.pw_gid)
    x = ctx.track(Xinetd(ctx.tmp, p.activated(), user="nobody"))
    sessions = []
    control = None
    try:
        for _ in range(2):
            m = imaplib.IMAP4("127.0.0.1", x.port)
            sessions.append(m)
            assert m.login("alice", "wonderland")[0] == "OK"
            assert m.select("INBOX")[0] == "OK"
        lib.wait_for(lambda: len(children(x.proc.pid, "postern-relay")) == 2,
                     what="two relaying sessions")
        relays = children(x.proc.pid, "postern-relay")
        for pid in relays:
            assert os.stat("/proc/%d" % pid).st_uid == nobody.pw_uid
            assert os.stat("/proc/%d/environ" % pid).st_uid == 0
        # The same user's ordinary (dumpable) process, as a sibling too:
        # the probe can take all from it, so what it cannot take from the
        # sessions is the sessions' doing, not the probe's.
        # Dumpable once it has exec'd sleep (setuid made it not).
        control = subprocess.Popen(["sleep", "60"], user=nobody.pw_uid,
                                   group=nobody.pw_gid, extra_groups=[],
                                   stdin=subprocess.DEVNULL)
        lib.wait_for(lambda: lib.pids_of("sleep").count(control.pid),
                     what="the control's exec")
        r = subprocess.run([PYTHON, "-c", PROBE, "%d:0" % control.pid]
                           + ["%d:3" % pid for pid in relays],
                           user=nobody.pw_uid, group=nobody.pw_gid,
                           extra_groups=[], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        seen = dict((int(l.split()[0]), l.split()[1:])
                    for l in r.stdout.splitlines())
        assert seen[control.pid] == ["ok"] * 4, seen
        for pid in relays:
            assert seen[pid] == ["EACCES", "EACCES", "EACCES", "EPERM"], seen
        # And both sessions still work.
        for m in sessions:
            assert m.noop()[0] == "OK"
    finally:
        if control:
            control.kill()
            control.wait()
        for m in sessions:
            try:
                m.logout()
            except Exception:
                pass


if __name__ == "__main__":
    lib.run([test_socket_activate_inetd,
             test_inetd_errors_never_reach_the_client,
             test_socket_name_picks_the_section,
             test_xinetd,
             test_sessions_under_one_user_cannot_reach_each_other],
            Ctx)
