"""inetd mode: the client socket on fd 0 (and 1 and 2, as xinetd does), under
systemd-socket-activate --inetd and under a real xinetd."""
import imaplib
import os
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
    conf = ('error_log = "%s"\nrelay_program = "%s"\n'
            'server imap { protocol = "imap" listen = "1" '
            'imap_capabilities = {"IMAP4rev1", "X-FIRST"} }\n'
            'server second { protocol = "imap" listen = "2" '
            'imap_capabilities = {"IMAP4rev1", "X-SECOND"} }\n')
    p = ctx.track(lib.Postern(ctx.tmp, name="second",
                              raw_conf=conf % ("/dev/null", lib.RELAY)))
    c = lib.Client(p.port)
    greeting = c.line()
    assert "X-SECOND" in greeting and "X-FIRST" not in greeting, greeting
    c.close()


class Xinetd:
    def __init__(self, tmp, conf_path):
        self.tmp = tmp
        self.port = lib.free_port()
        self.conf = tmp("xinetd-%d.conf" % self.port)
        user = "    user = root\n" if os.geteuid() == 0 else ""
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
    server_args = -c %s -s imap
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
    x = ctx.track(Xinetd(ctx.tmp, p.conf))
    session(x.port)
    log = p.wait_log("result=relayed")
    # xinetd put the socket on fds 0-2; nothing postern logged went there.
    assert "event=login" in log


if __name__ == "__main__":
    lib.run([test_socket_activate_inetd,
             test_inetd_errors_never_reach_the_client,
             test_socket_name_picks_the_section,
             test_xinetd],
            Ctx)
