"""The container image's entry point, run outside a container (no image
can be built here): against a make-install tree it checks the
configuration through the reload gate, starts the real xinetd with the
shipped entries of the sections the configuration has, and serves logins
on them (plain IMAP through postern, IMAPS through postern-tls started
directly), with the client's real address. A broken configuration stops
it before xinetd starts. The Containerfile builds that tree and uses this
entry point."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import lib

ENTRYPOINT = os.path.join(lib.SRCDIR, "container", "entrypoint")
CONTAINERFILE = os.path.join(lib.SRCDIR, "container", "Containerfile")


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.dest = self.tmp("root")
        lib.make_install(self.dest)
        with open(os.path.join(lib.BUILDDIR, "Makefile")) as f:
            self.prefix = re.search(r"^prefix = (.*)$", f.read(), re.M).group(1)
        self.ports = {"imap": lib.free_port(), "imaps": lib.free_port()}
        self.log = self.tmp("container.log")
        self.config = self.tmp("etc", "postern.conf")
        os.makedirs(os.path.dirname(self.config))
        self.write_config()

    def write_config(self, extra=""):
        with open(self.tmp("users.map"), "w") as f:
            f.write("* 127.0.0.1:%d\n" % self.dovecot.imap_port)
        with open(self.config, "w") as f:
            f.write('error_log = "%s"\nlog_level = "info"\nauth_map = "%s"\n'
                    'relay_program = "%s"\ntls_program = "%s"\n%s'
                    'server imap {\n  protocol = "imap"\n}\n'
                    'server imaps {\n  protocol = "imap"\n  ssl = true\n%s}\n'
                    % (self.log, self.tmp("users.map"), self.installed("postern-relay"),
                       self.installed("postern-tls"), extra, self.certs.conf()))

    def installed(self, program):
        """The image's own copy: postern -A runs only a tls_program beside
        its postern-text."""
        return os.path.join(self.dest + self.prefix, "libexec", program)

    def env(self):
        env = dict(os.environ,
                   POSTERN_ROOT=self.dest, POSTERN_PREFIX=self.prefix,
                   POSTERN_CONFIG=self.config,
                   POSTERN_ACTIVE=self.tmp("state", "postern.conf"),
                   POSTERN_RUN=self.tmp("run"), POSTERN_USER="root",
                   POSTERN_PORTS=" ".join("%s=%d" % kv for kv in self.ports.items()))
        return env

    def start(self):
        return subprocess.Popen([ENTRYPOINT], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)


def setup():
    if not shutil.which("xinetd") or os.geteuid() != 0:
        raise lib.Skip("needs xinetd and root")
    return Ctx()


def stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[0]


def login(c):
    assert c.line().startswith("* OK")
    lib.login_logout(c)


def test_entry_point_serves_both_sections(ctx):
    proc = ctx.start()
    try:
        for port in ctx.ports.values():
            lib.wait_port(port, proc=proc)
        since = len(ctx.dovecot.read_log())
        login(lib.Client(ctx.ports["imap"]))
        login(lib.tls_client(ctx.ports["imaps"], ctx.certs.ca))
        lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                     what="two logins at Dovecot")
        lib.wait_for(lambda: os.path.exists(ctx.log) and
                     open(ctx.log).read().count("result=relayed") >= 2,
                     what="both sessions relayed")
        with open(ctx.log) as f:
            log = f.read()
        # The real client, and postern-tls with no front before it.
        assert "event=connect client=127.0.0.1:" in log
        assert re.search(r"postern-tls\[\d+\]: .*event=connect .*server=imaps", log), log
        with open(ctx.tmp("state", "postern.conf")) as f, open(ctx.config) as g:
            assert f.read() == g.read()
    finally:
        out = stop(proc)
    assert "serving: imap imaps" in out, out


def test_broken_config_stops_before_serving(ctx):
    ctx.write_config(extra="no_such_directive = 1\n")
    proc = ctx.start()
    try:
        out = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            stop(proc)
    ctx.write_config()
    assert proc.returncode == 1, out
    assert "%s:6: no such option 'no_such_directive'" % ctx.config in out, out
    assert "not starting" in out
    for port in ctx.ports.values():
        s = socket.socket()
        assert s.connect_ex(("127.0.0.1", port)) != 0, "something listens"
        s.close()
    time.sleep(0.1)


def test_socket_activation_as_podman_passes_it(ctx):
    """Listening sockets passed in (LISTEN_FDS, as Podman passes the
    host's): the entry point serves them with postern-spawn, no xinetd."""
    port = lib.free_port()
    env = ctx.env()
    cmd = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, "--fdname=imap"]
    for k in ("POSTERN_ROOT", "POSTERN_PREFIX", "POSTERN_CONFIG", "POSTERN_ACTIVE",
              "POSTERN_RUN", "POSTERN_USER"):
        cmd += ["-E", "%s=%s" % (k, env[k])]
    for k, v in lib.sanitizer_env().items():
        cmd += ["-E", "%s=%s" % (k, v)]
    proc = subprocess.Popen(cmd + [ENTRYPOINT], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        lib.wait_port(port, proc=proc)
        since = len(ctx.dovecot.read_log())
        login(lib.Client(port))
        lib.wait_for(lambda: "Login: user=<alice>" in ctx.dovecot.read_log()[since:],
                     what="the login at Dovecot")
    finally:
        out = stop(proc)
    assert "serving the socket(s) passed in: imap" in out, out


def test_containerfile_builds_this_tree_and_uses_the_entry_point(ctx):
    with open(CONTAINERFILE) as f:
        text = f.read()
    assert re.search(r"^FROM debian:12-slim AS build$", text, re.M)
    assert "./configure --prefix=/usr --sysconfdir=/etc" in text
    assert "install -m 755 container/entrypoint /out/usr/sbin/postern-container" in text
    runtime = text.split("AS build", 1)[1]
    assert re.search(r"^FROM debian:12-slim$", runtime, re.M)
    assert "xinetd" in runtime and "useradd --system" in runtime
    assert 'ENTRYPOINT ["/usr/sbin/postern-container"]' in runtime
    # What the entry point needs at run time is in the runtime stage.
    for package in ("libconfuse2", "libgnutls30"):
        assert package in runtime, package


if __name__ == "__main__":
    lib.run([test_entry_point_serves_both_sections,
             test_broken_config_stops_before_serving,
             test_socket_activation_as_podman_passes_it,
             test_containerfile_builds_this_tree_and_uses_the_entry_point],
            setup=setup)
