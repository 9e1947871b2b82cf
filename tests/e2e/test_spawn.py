"""postern-spawn: Accept=yes for listening sockets passed in, as Podman
passes a host socket unit's sockets into a container. The real
systemd-socket-activate passes them here the same way (LISTEN_FDS,
LISTEN_FDNAMES, no --accept). Plain IMAP goes to postern and IMAPS to
postern-tls, each started as systemd would start it, with the client's
own address; the per-source and total limits close what is over them;
finished sessions are reaped. With -a, a socket's section is the one
listening on its port, whatever the socket is named (issue 23: a Mailu
shape, internal and public listeners, served the internal section on the
public port), and a port with no section or two stops the start."""
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time

import lib

SPAWN = os.path.join(lib.BUILDDIR, "src", "postern-spawn")


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.plain, self.tls = lib.free_port(), lib.free_port()
        # One config with both sections; the sockets' names pick them.
        p = lib.Postern(self.tmp, map_lines=["* 127.0.0.1:%d" % self.dovecot.imap_port],
                        raw_conf=None)
        with open(p.conf) as f:
            base = f.read()
        self.conf = self.tmp("spawn.conf")
        self.log = p.log
        with open(self.conf, "w") as f:
            f.write(base + "server imaps {\n  protocol = imap\n  ssl = true\n%s}\n"
                    % self.certs.conf())
        self.err = self.tmp("spawn.err")

    def start(self, *limits):
        cmd = ["systemd-socket-activate",
               "-l", "127.0.0.1:%d" % self.plain, "-l", "127.0.0.1:%d" % self.tls,
               "--fdname=imap:imaps"]
        # systemd-socket-activate passes on only what -E names.
        for k, v in lib.sanitizer_env().items():
            cmd += ["-E", "%s=%s" % (k, v)]
        active = self.tmp("spawn-active.conf")
        subprocess.run([lib.POSTERN, "-A", "-c", self.conf, "-a", active],
                       check=True, capture_output=True, timeout=60)
        cmd += [SPAWN, *limits, "-t", "imaps=" + lib.TLS, lib.POSTERN, "-a", active]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                stderr=open(self.err, "w"))
        lib.wait_port(self.plain, proc=proc)
        time.sleep(0.2)
        return proc


def setup():
    return Ctx()


def stop(proc):
    proc.terminate()
    proc.wait(10)


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return f.read().split()


def test_plain_and_tls_logins(ctx):
    proc = ctx.start()
    try:
        since = len(ctx.dovecot.read_log())
        lib.login_logout(lib.greet(ctx.plain))
        t = lib.tls_client(ctx.tls, ctx.certs.ca)
        assert t.line().startswith("* OK")
        lib.login_logout(t)
        lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                     what="two logins at Dovecot")
        log = open(ctx.log).read()
        assert "event=connect client=127.0.0.1:" in log
        assert "server=imap protocol=imap tls=no" in log
        # imaps: postern-tls itself, started by the spawner.
        assert [l for l in log.splitlines()
                if l.split(" ")[1].startswith("postern-tls[") and "server=imaps" in l], log
        # Sessions over: the spawner keeps no child. Without --accept,
        # systemd-socket-activate execs it in its own process.
        assert open("/proc/%d/comm" % proc.pid).read().strip() == "postern-spawn"
        lib.wait_for(lambda: not children(proc.pid), what="finished sessions reaped")
    finally:
        stop(proc)


def test_limits_close_what_is_over_them(ctx):
    proc = ctx.start("-m", "3", "-p", "2")
    held = []
    try:
        for _ in range(2):
            held.append(lib.greet(ctx.plain))
        s = socket.create_connection(("127.0.0.1", ctx.plain), timeout=5)
        assert s.recv(100) == b"", "a third connection from one host"
        s.close()
        lib.wait_for(lambda: "refused (max connections per source)" in open(ctx.err).read(),
                     what="the refusal on stderr")
        # From another loopback address: the per-source limit is per host,
        # and the total of 3 leaves room for one.
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", ctx.plain))
        c = lib.Client.over(s)
        assert c.line().startswith("* OK")
        held.append(c)
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", ctx.plain))
        assert s.recv(100) == b"", "a fourth connection in all"
        s.close()
        lib.wait_for(lambda: "refused (max connections)" in open(ctx.err).read(),
                     what="the total refusal")
    finally:
        for c in held:
            c.close()
        stop(proc)


def mailu_conf(ctx, internal, public, tls, extra=""):
    """Mailu's shape: an internal plain listener that the importer named
    imap, the public one with STARTTLS, and implicit TLS; activated as
    postern -A does, the image beside it."""
    conf, active = ctx.tmp("mailu.conf"), ctx.tmp("mailu-active.conf")
    with open(ctx.conf) as f:
        base = f.read().split("server imap ", 1)[0]
    with open(conf, "w") as f:
        f.write(base + 'server imap {\n  listen = "%d"\n  protocol = imap\n}\n'
                'server imap-143 {\n  listen = "%d"\n  protocol = imap\n'
                '  starttls = on\n%s}\n'
                'server imaps {\n  listen = "%d ssl"\n  protocol = imap\n%s}\n%s'
                % (internal, public, ctx.certs.conf(), tls, ctx.certs.conf(), extra))
    r = subprocess.run([lib.POSTERN, "-A", "-c", conf, "-a", active],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return active


def activate_sockets(ctx, ports, names, *args):
    cmd = ["systemd-socket-activate", "--fdname=" + names]
    for port in ports:
        cmd += ["-l", "127.0.0.1:%d" % port]
    for k, v in lib.sanitizer_env().items():
        cmd += ["-E", "%s=%s" % (k, v)]
    return subprocess.Popen(cmd + [SPAWN, *args], stdout=subprocess.DEVNULL,
                            stderr=open(ctx.err, "w"))


def test_sections_by_port_not_by_name(ctx):
    internal, public, tls = lib.free_port(), lib.free_port(), lib.free_port()
    active = mailu_conf(ctx, internal, public, tls)
    # Named as the old entry point named them: the public port "imap".
    proc = activate_sockets(ctx, [public, tls], "imap:imap", "-a", active,
                            lib.POSTERN, "-a", active)
    try:
        lib.wait_port(public, proc=proc)
        time.sleep(0.2)
        since = len(ctx.dovecot.read_log())
        c = lib.greet(public)
        c.send("c CAPABILITY\r\n")
        caps = c.until_tag("c")
        assert "STARTTLS" in caps[0], caps
        lib.login_logout(c)
        t = lib.tls_client(tls, ctx.certs.ca)
        assert t.line().startswith("* OK")
        lib.login_logout(t)
        lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                     what="two logins at Dovecot")
        log = open(ctx.log).read()
        assert "server=imap-143 protocol=imap tls=no" in log, log
        assert [l for l in log.splitlines()
                if l.split(" ")[1].startswith("postern-tls[") and "server=imaps" in l], log
        err = open(ctx.err).read()
        assert "port %d: section imap-143" % public in err, err
        assert "port %d: section imaps, %s" % (tls, lib.TLS) in err, err
        # postern -A of an edit that renames the public section: the next
        # connection is served by it under its new name.
        conf = ctx.tmp("mailu.conf")
        with open(conf) as f:
            text = f.read().replace("server imap-143 ", "server imap-public ")
        with open(conf, "w") as f:
            f.write(text)
        r = subprocess.run([lib.POSTERN, "-A", "-c", conf, "-a", active],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        lib.login_logout(lib.greet(public))
        lib.wait_for(lambda: "server=imap-public protocol=imap" in open(ctx.log).read(),
                     what="the renamed section serving")
        assert "port %d: section imap-public" % public in open(ctx.err).read()
    finally:
        stop(proc)


def test_port_without_one_section_stops_the_start(ctx):
    internal, public, tls = lib.free_port(), lib.free_port(), lib.free_port()
    # Two sections on the public port.
    active = mailu_conf(ctx, internal, public, tls,
                        'server imap-again {\n  listen = "%d"\n  protocol = imap\n}\n' % public)
    stray = lib.free_port()
    for ports, reason in (([public], "port %d: sections imap-143 and imap-again both "
                           "listen on it" % public),
                          ([stray], "port %d: no section listens on it" % stray)):
        proc = activate_sockets(ctx, ports, "imap", "-a", active, lib.POSTERN, "-a", active)
        try:
            # The first connection makes systemd-socket-activate exec it.
            # A fresh socket per try: on Linux a socket whose connect was
            # refused fails every later connect with ECONNABORTED.
            held = []

            def connected():
                c = socket.socket()
                c.settimeout(10)
                if c.connect_ex(("127.0.0.1", ports[0])) == 0:
                    held.append(c)
                    return True
                c.close()
                return False
            lib.wait_for(connected, what="the socket listening")
            s = held[0]
            assert proc.wait(10) == 100
            try:
                assert s.recv(100) == b"", "a socket served"
            except ConnectionResetError:
                pass    # closed with the connection still queued
            s.close()
        finally:
            if proc.poll() is None:
                stop(proc)
        err = open(ctx.err).read()
        assert "postern-spawn: %s; not starting" % reason in err, err


def test_without_sockets_it_says_so(ctx):
    r = subprocess.run([SPAWN, lib.POSTERN], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")})
    assert r.returncode == 100 and "no listening sockets passed" in r.stderr


def as_a_user():
    """The prefix that runs a command as a user of its own, as the
    services' dynamic user and the container's 65532 are: root's
    CAP_SYS_PTRACE would open any process's memory."""
    if os.getuid() != 0:
        return []
    if not shutil.which("setpriv"):
        raise lib.Skip("setpriv (util-linux) is not installed")
    return ["setpriv", "--reuid", "60321", "--regid", "60321", "--clear-groups"]


def served_by_shell(ctx, script, *spawn_args, preexec_fn=None):
    """A spawner on a socket passed in whose PROGRAM is /bin/sh -c SCRIPT,
    started as a session would be; what SCRIPT writes to fd 3 is the
    client's."""
    port = lib.free_port()
    cmd = as_a_user() + ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port,
                         "--fdname=imap"]
    for k, v in lib.sanitizer_env().items():
        cmd += ["-E", "%s=%s" % (k, v)]
    proc = subprocess.Popen(cmd + [SPAWN, *spawn_args, "/bin/sh", "-c", script],
                            stdout=subprocess.DEVNULL, stderr=open(ctx.err, "w"),
                            preexec_fn=preexec_fn)
    lib.wait_port(port, proc=proc)
    return proc, port


def read_all(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data.decode()
            data += chunk


def test_a_session_cannot_reach_into_the_spawner(ctx):
    # A session runs as the spawner's user. The front's filter kills on
    # ptrace, but /proc/PID/mem of a dumpable process of one's own user
    # opens with plain open(2); the spawner holds every listening socket,
    # so one session that wrote into it would see everyone's connections.
    proc, port = served_by_shell(
        ctx, 'if true 2>/dev/null </proc/$PPID/mem; then echo opened >&3; '
             'else echo refused >&3; fi; '
             'if true 2>/dev/null </proc/$$/mem; then echo own >&3; fi')
    try:
        # Its own memory it may open: the check itself works.
        got = read_all(port)
        assert got == "refused\nown\n", got
    finally:
        stop(proc)


def test_a_session_gets_its_socket_and_nothing_else(ctx):
    # As the container's PID 1 (-l), started by a runtime that left a
    # descriptor open, SIGHUP ignored and SIGUSR1 blocked: a session must
    # start as systemd starts one, with fds 0-2 and its connection at 3,
    # every signal at its default and none blocked.
    internal, public, tls = lib.free_port(), lib.free_port(), lib.free_port()
    active = mailu_conf(ctx, internal, public, tls)
    stray = os.open(ctx.conf, os.O_RDONLY)

    def runtime():
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        proc = subprocess.Popen(
            placing(stray, 5) + [SPAWN, "-a", active, "-l", "/bin/sh", "-c",
             # dash clears its own mask: the spawner's is the one a
             # session inherits.
             'ls /proc/$$/fd >&3; grep ^SigIgn /proc/$$/status >&3; '
             'grep ^SigBlk /proc/$PPID/status >&3'],
            pass_fds=[stray], preexec_fn=runtime, env={**os.environ, **lib.sanitizer_env()},
            stdout=subprocess.DEVNULL, stderr=open(ctx.err, "w"))
    finally:
        os.close(stray)
    try:
        lib.wait_port(internal, proc=proc)
        lines = read_all(internal).split()
        # dash keeps a descriptor of its own at 10 and above.
        assert [fd for fd in lines[:lines.index("SigIgn:")] if int(fd) < 10] == \
            ["0", "1", "2", "3"], lines
        assert lines[lines.index("SigBlk:") + 1] == "0" * 16, lines
        # Signals 32 and 33 are the C library's own, which it lets no
        # program set (make check leaves them ignored).
        ignored = int(lines[lines.index("SigIgn:") + 1], 16)
        assert ignored & ~(0b11 << 31) == 0, lines
    finally:
        stop(proc)


def placing(fd, at, listen_pid=False):
    """The prefix of a command that starts it with fd moved to at (the
    test's own descriptors stay as they are) and, as systemd would set it,
    LISTEN_PID its own pid."""
    code = ("import os, sys\n" +
            ("os.dup2(%d, %d)\nos.close(%d)\n" % (fd, at, fd) if fd != at else "") +
            ("os.environ['LISTEN_PID'] = str(os.getpid())\n" if listen_pid else "") +
            "os.execv(sys.argv[1], sys.argv[1:])\n")
    return [sys.executable, "-c", code]


def refusals(err):
    """How many refusals the spawner told of: a line each, or a count."""
    n = 0
    for line in err.splitlines():
        words = line.split()
        if line.startswith("postern-spawn: ") and ": refused (" in line:
            n += 1
        elif line.startswith("postern-spawn: ") and words[2:4] == ["more", "refused"]:
            n += int(words[1])
    return n


def test_a_flood_of_refusals_is_counted_not_told_line_by_line(ctx):
    # One address at its limit can be refused thousands of times a second
    # (a connect each). A line each would fill the journal, and past
    # journald's rate limit for the unit, the sessions' own lines (the
    # failed logins a ban tool reads) would be dropped with them.
    proc = ctx.start("-m", "8", "-p", "1")
    held = lib.greet(ctx.plain)
    flood = 300
    try:
        for _ in range(flood):
            s = socket.create_connection(("127.0.0.1", ctx.plain), timeout=5)
            try:
                assert s.recv(100) == b"", "a connection over the limit served"
            except ConnectionResetError:
                pass
            s.close()
        lib.wait_for(lambda: refusals(open(ctx.err).read()) == flood,
                     what="every refusal told or counted")
        err = open(ctx.err).read()
        lines = [l for l in err.splitlines() if "refused" in l]
        assert len(lines) <= flood // 10, err
        # The address, not a port: the limit counts hosts.
        assert "postern-spawn: 127.0.0.1: refused (max connections per source)" in err, err
        assert "more refused (max connections per source)" in err, err
    finally:
        held.close()
        stop(proc)


def test_a_session_it_cannot_start_is_told(ctx):
    # Past the service's TasksMax (or its user's RLIMIT_NPROC) fork
    # fails: the client is closed, and the operator must learn why.
    if os.getuid() != 0:
        raise lib.Skip("needs root to give the spawner a user of its own")
    # The spawner and one session: the user's process limit.
    proc, port = served_by_shell(
        ctx, "echo served >&3; exec sleep 5",
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NPROC, (2, 2)))
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            assert s.recv(100) == b"", "a session started past the limit"
        except ConnectionResetError:
            pass
        s.close()
        lib.wait_for(lambda: "refused (cannot start a session: " in open(ctx.err).read(),
                     what="the failed start told")
    finally:
        stop(proc)


def test_a_socket_it_cannot_accept_on_stops_the_start(ctx):
    # A socket unit's ListenDatagram= (or a FIFO, or a LISTEN_FDS that
    # counts one too many) is passed like a listening socket: poll finds
    # it ready for ever and accept fails each time, a loop at full CPU.
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    env = {**os.environ, **lib.sanitizer_env(), "LISTEN_FDS": "1",
           "LISTEN_FDNAMES": "imap"}
    with udp:
        proc = subprocess.Popen(placing(udp.fileno(), 3, listen_pid=True) +
                                [SPAWN, "/bin/true"], pass_fds=[udp.fileno()], env=env,
                                stderr=subprocess.PIPE, text=True)
    try:
        err = proc.communicate(timeout=10)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 100, err
    assert "fd 3 (imap): not a listening stream socket; not starting" in err, err


def test_a_limit_that_is_not_a_number_is_refused(ctx):
    # SESSIONS_MAX and SESSIONS_PER_SOURCE come from a drop-in an operator
    # writes: "2k" was read as 2 and "-1" as no limit, silently.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    for args in (["-m", "2k"], ["-p", "-1"], ["-m", "1,000"], ["-p", ""],
                 ["-m", "99999999999999999999"]):
        r = subprocess.run([SPAWN, *args, "/bin/true"], capture_output=True,
                           text=True, env=env)
        assert r.returncode == 100 and r.stderr.startswith("usage:"), (args, r.stderr)


if __name__ == "__main__":
    lib.run([test_plain_and_tls_logins, test_limits_close_what_is_over_them,
             test_sections_by_port_not_by_name, test_port_without_one_section_stops_the_start,
             test_without_sockets_it_says_so,
             test_a_session_cannot_reach_into_the_spawner,
             test_a_session_gets_its_socket_and_nothing_else,
             test_a_flood_of_refusals_is_counted_not_told_line_by_line,
             test_a_session_it_cannot_start_is_told,
             test_a_socket_it_cannot_accept_on_stops_the_start,
             test_a_limit_that_is_not_a_number_is_refused], setup=setup)
