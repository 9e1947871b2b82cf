"""The container image's entry point, run outside a container: the
ENTRYPOINT of container/Containerfile, word for word but for the paths
(this build tree's programs, a temporary configuration and active copy)
and the user (nobody here, postern in the image). postern-spawn as PID 1
would run it: the reload gate as root, a listener on every section's port,
root left for the user, and each connection served by the section that
listens on its port: in Mailu's shape (issue 23), the public port is the
STARTTLS section even though the internal one is named imap. A broken
configuration, a port with two sections, or a section with no port stops
it before anything listens; SIGTERM ends it. test_container_image.py
builds and runs the image itself."""
import json
import os
import re
import signal
import socket
import subprocess

import lib

CONTAINERFILE = os.path.join(lib.SRCDIR, "container", "Containerfile")
SPAWN = os.path.join(lib.BUILDDIR, "src", "postern-spawn")
NOBODY = 65534


def entrypoint():
    """The Containerfile's ENTRYPOINT, as a list."""
    with open(CONTAINERFILE) as f:
        text = f.read().replace("\\\n", " ")
    return json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.config = self.tmp("etc", "postern.conf")
        self.active = self.tmp("run", "postern.conf")
        self.log = self.tmp("postern.log")
        os.makedirs(os.path.dirname(self.config))
        # The sessions run as nobody: what they read and write is theirs.
        open(self.log, "w").close()
        os.chown(self.log, NOBODY, NOBODY)
        os.chmod(self.certs.server_key, 0o644)
        self.internal, self.public, self.tls = (lib.free_port() for _ in range(3))
        with open(self.tmp("users.map"), "w") as f:
            f.write("* 127.0.0.1:%d\n" % self.dovecot.imap_port)
        self.write_config()
        self.out = self.tmp("entry.out")

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write('error_log = "%s"\nlog_level = "info"\nauth_map = "%s"\n'
                    'relay_program = "%s"\ntls_program = "%s"\n%s'
                    'server imap {\n  listen = "%d"\n  protocol = "imap"\n}\n'
                    'server imap-143 {\n  listen = "%d"\n  protocol = "imap"\n'
                    '  starttls = on\n%s}\n'
                    'server imaps {\n  listen = "%d ssl"\n  protocol = "imap"\n%s}\n'
                    % (self.log, self.tmp("users.map"), lib.RELAY, lib.TLS, extra,
                       self.internal, self.public, self.certs.conf(), self.tls,
                       self.certs.conf()))

    def command(self):
        """The image's entry point, with this tree's paths."""
        out = []
        for word in entrypoint():
            word = {"@libexecdir@/postern-spawn": SPAWN, "@sbindir@/postern": lib.POSTERN,
                    "/run/postern/postern.conf": self.active,
                    "@pkgsysconfdir@/postern.conf": self.config,
                    "65532:65532": "%d:%d" % (NOBODY, NOBODY)}.get(word, word)
            assert "@" not in word and not word.startswith("/run/"), word
            out.append(word)
        return out

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
        return subprocess.Popen(self.command(), env=dict(env, **lib.sanitizer_env()),
                                stdout=subprocess.DEVNULL, stderr=open(self.out, "w"),
                                start_new_session=True)

    def output(self):
        with open(self.out) as f:
            return f.read()


def setup():
    if os.geteuid() != 0:
        raise lib.Skip("the entry point starts as root and leaves it; needs root")
    return Ctx()


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def status_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(x) for x in f.read().split()]


def nothing_listens(*ports):
    for port in ports:
        s = socket.socket()
        assert s.connect_ex(("127.0.0.1", port)) != 0, "port %d listens" % port
        s.close()


def test_entrypoint_options(ctx):
    words = entrypoint()
    assert words[0] == "@libexecdir@/postern-spawn"
    for option in (["-a", "/run/postern/postern.conf"], ["-A", "@pkgsysconfdir@/postern.conf"],
                   ["-l"], ["-u", "65532:65532"]):
        i = words.index(option[0])
        assert words[i:i + len(option)] == option, words
    assert words[-3:] == ["@sbindir@/postern", "-a", "/run/postern/postern.conf"]


def test_serves_each_port_as_its_section(ctx):
    proc = ctx.start()
    try:
        for port in (ctx.internal, ctx.public, ctx.tls):
            lib.wait_port(port, proc=proc)
        since = len(ctx.dovecot.read_log())
        # The public port: STARTTLS, as its section says.
        c = lib.greet(ctx.public)
        c.send("c CAPABILITY\r\n")
        caps = c.until_tag("c")
        assert "STARTTLS" in caps[0], caps
        c.send("a LOGIN alice %s\r\n" % lib.USERS["alice"])
        assert c.until_tag("a")[-1].startswith("a OK")
        # An idle session: the relay runs as the user, and so does PID 1.
        lib.wait_for(lambda: any(status_uid(p) == NOBODY for p in children(proc.pid)),
                     what="the session's process")
        assert all(status_uid(p) == NOBODY for p in children(proc.pid))
        assert status_uid(proc.pid) == NOBODY
        c.send("b LOGOUT\r\n")
        c.until_tag("b")
        c.close()
        t = lib.tls_client(ctx.tls, ctx.certs.ca)
        assert t.line().startswith("* OK")
        lib.login_logout(t)
        lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                     what="two logins at Dovecot")
        with open(ctx.log) as f:
            log = f.read()
        assert "client=127.0.0.1:" in log and "server=imap-143 protocol=imap tls=no" in log, log
        assert re.search(r"postern-tls\[\d+\]: .*event=connect .*server=imaps", log), log
        with open(ctx.active) as f, open(ctx.config) as g:
            assert f.read() == g.read()
        assert os.path.exists(ctx.active + ".image")
        out = ctx.output()
        assert "port %d: section imap-143" % ctx.public in out, out
        assert "port %d: section imaps, %s" % (ctx.tls, lib.TLS) in out, out
        # SIGTERM: it ends, at once and cleanly.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        stop(proc)


def test_what_stops_the_start(ctx):
    cases = [
        ("no_such_directive = 1\n",
         "%s:6: no such option 'no_such_directive'" % ctx.config,
         "did not pass the reload gate"),
        ('server imap-again {\n  listen = "%d"\n  protocol = "imap"\n}\n' % ctx.public,
         "port %d: sections imap-again and imap-143 both listen on it" % ctx.public,
         "; not starting"),
        ('server nowhere {\n  protocol = "imap"\n}\n',
         "section nowhere: no listen port", "; not starting"),
    ]
    try:
        for extra, reason, end in cases:
            ctx.write_config(extra)
            proc = ctx.start()
            try:
                assert proc.wait(30) == 100
            finally:
                stop(proc)
            out = ctx.output()
            assert reason in out and end in out, out
            nothing_listens(ctx.internal, ctx.public, ctx.tls)
    finally:
        ctx.write_config()


if __name__ == "__main__":
    lib.run([test_entrypoint_options, test_serves_each_port_as_its_section,
             test_what_stops_the_start], setup=setup)
