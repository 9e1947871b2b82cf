"""The minimal container image, built and run (issue 22): the suite makes
it with container/build-image (FROM scratch: no registry is needed) and
runs it with real Podman, as root, with runc.

- What is in it: no shell, the static programs, and postern-tls's and
  postern-text's shared libraries exactly as ldd lists them; under 15 MB.
- With -p port mapping: the configuration mounted read-only and activated
  at start, a Mailu-shaped one (issue 23: an internal plain listener named
  imap, the public one with STARTTLS), each port served by its section;
  IMAP and IMAPS logins reach a real Dovecot on the host, whose log shows
  the client's address (the host's own, which the mapping does not
  masquerade); PID 1 is postern-spawn as the postern user; SIGTERM stops
  it cleanly (exit 0, not podman's SIGKILL after its timeout).
- Under socket activation (systemd-socket-activate ... podman run): the
  host's listening sockets passed in, the client's address as it is.
- A configuration that does not pass, or two sections on one port: the
  container stops at once with the reason in its log.
- The idle memory of a logged-in session's relay in the container is
  printed (container/README.md quotes it)."""
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import time

import lib

PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs",
          "--events-backend", "file"]
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
BUILD = os.path.join(lib.SRCDIR, "container", "build-image")
IMAGE_MAX = 15 * 1000 * 1000
USER = 65532
SESSIONS = 30      # under the image's per-source limit (128)


def podman(*args, timeout=120, check=True):
    r = subprocess.run(PODMAN + list(args), capture_output=True, text=True,
                       timeout=timeout)
    assert not check or r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r


def host_address():
    """An IPv4 address of this host that is not loopback: a client there
    reaches a mapped port without the masquerading loopback gets."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True).stdout
    for m in re.finditer(r"inet (\d+\.\d+\.\d+\.\d+)/", out):
        if not m.group(1).startswith("10.88."):
            return m.group(1)
    return None


def why_podman_cannot_run():
    if os.geteuid() != 0:
        return "the image is run by rootful Podman; needs root"
    for tool in ("podman", "runc", "systemd-socket-activate", "ldd", "readelf"):
        if not shutil.which(tool):
            return "%s is not installed" % tool
    r = subprocess.run(PODMAN + ["info", "--format", "json"], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        return "podman info fails: " + r.stderr.strip()[-300:]
    return None


class Ctx(lib.Harness):
    def __init__(self, address, subnet):
        self.address = address
        super().__init__(certs=True, listen="127.0.0.1, %s" % address,
                         trusted="127.0.0.0/8 %s" % subnet,
                         # Its default of 10 per user and address.
                         extra="protocol imap {\n  mail_max_userip_connections = %d\n}\n"
                         % (SESSIONS + 10))
        self.tag = "localhost/postern-test:%d" % os.getpid()
        self.names = []
        r = subprocess.run([BUILD, "-t", self.tag, lib.BUILDDIR], capture_output=True,
                           text=True, timeout=600,
                           env=dict(os.environ, PODMAN=" ".join(PODMAN)))
        assert r.returncode == 0, r.stderr[-3000:]
        self.built = r.stderr
        self.mapped = {143: lib.free_port(), 993: lib.free_port()}
        self.etc = self.config_dir("etc", 143, "993 ssl")
        self.container = None

    def config_dir(self, name, public, tls, extra=""):
        """A configuration to mount at /etc/postern: Mailu's shape, its TLS
        key readable by the image's user only."""
        etc = self.tmp(name)
        os.makedirs(etc)
        for src, dst in ((self.certs.server, "server.pem"),
                         (self.certs.server_key, "server.key")):
            shutil.copy(src, os.path.join(etc, dst))
        key = os.path.join(etc, "server.key")
        os.chown(key, USER, USER)
        os.chmod(key, 0o600)
        tls_conf = ('  ssl_certificate = {"/etc/postern/server.pem"}\n'
                    '  ssl_certificate_key = {"/etc/postern/server.key"}\n')
        with open(os.path.join(etc, "users.map"), "w") as f:
            f.write("* %s:%d\n" % (self.address, self.dovecot.imap_port))
        with open(os.path.join(etc, "postern.conf"), "w") as f:
            f.write('error_log = "stderr"\nlog_level = "info"\n'
                    'auth_map = "/etc/postern/users.map"\n'
                    'server imap {\n  listen = "10143"\n  protocol = "imap"\n}\n'
                    'server imap-143 {\n  listen = "%s"\n  protocol = "imap"\n'
                    '  starttls = on\n%s}\n'
                    'server imaps {\n  listen = "%s"\n  protocol = "imap"\n%s}\n%s'
                    % (public, tls_conf, tls, tls_conf, extra))
        return etc

    def name(self):
        self.names.append("postern-test-%d-%d" % (os.getpid(), len(self.names)))
        return self.names[-1]

    def run_args(self, etc):
        return ULIMITS + ["-v", "%s:/etc/postern:ro" % etc, self.tag]

    def start_mapped(self):
        if self.container:
            return self.container
        name = self.name()
        ports = []
        for inside, outside in self.mapped.items():
            ports += ["-p", "%s:%d:%d" % (self.address, outside, inside)]
        podman("run", "-d", "--name", name, *ports, *self.run_args(self.etc))
        self.container = name
        greet_at(self.address, self.mapped[143], name).close()
        return name

    def close(self):
        for name in self.names:
            podman("rm", "-f", "-t", "0", name, check=False)
        podman("rmi", "-f", self.tag, check=False)
        super().close()


def setup():
    why = why_podman_cannot_run()
    if why:
        raise lib.Skip(why)
    address = host_address()
    if not address:
        raise lib.Skip("no non-loopback IPv4 address on this host: a client on "
                       "loopback reaches a mapped port masqueraded")
    net = json.loads(podman("network", "inspect", "podman").stdout)[0]
    subnet = str(ipaddress.ip_network(net["subnets"][0]["subnet"]))
    return Ctx(address, subnet)


def connect(address, port, source=None, timeout=10):
    s = socket.socket()
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((address, port))
    return s


def greet_at(address, port, name, source=None, deadline=60):
    """The greeting at address:port, once the container serves it."""
    end = time.monotonic() + deadline
    while True:
        try:
            c = lib.Client.over(connect(address, port, source))
            assert c.line().startswith("* OK")
            return c
        except (OSError, EOFError):
            if time.monotonic() > end:
                raise AssertionError("no greeting: " + logs(name))
            time.sleep(0.2)


def tls_at(address, port, ca, source=None):
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    c = lib.Client.over(context.wrap_socket(connect(address, port, source),
                                            server_hostname="localhost"))
    assert c.line().startswith("* OK")
    return c


def logs(name):
    r = podman("logs", name, check=False)
    return r.stdout + r.stderr


def logins_from(ctx, since, rip):
    return [l for l in ctx.dovecot.read_log()[since:].splitlines()
            if "Login: user=<alice>" in l and "rip=%s," % rip in l]


def pid1(name):
    return int(podman("inspect", "--format", "{{.State.Pid}}", name).stdout)


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    return (re.search(r"^Name:\s+(\S+)", text, re.M).group(1),
            int(re.search(r"^Uid:\s+(\d+)", text, re.M).group(1)))


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(x) for x in f.read().split()]


def test_image_holds_only_what_runs(ctx):
    size = int(podman("image", "inspect", "--format", "{{.Size}}", ctx.tag).stdout)
    print("# image size: %.1f MB (%d bytes)" % (size / 1e6, size))
    assert size < IMAGE_MAX, size
    name = ctx.name()
    podman("create", "--name", name, ctx.tag)
    tar = ctx.tmp("image.tar")
    podman("export", "-o", tar, name)
    with tarfile.open(tar) as t:
        files = {"/" + m.name.lstrip("./"): m for m in t.getmembers()}
    assert not [f for f in files if f.endswith("/sh") or f.endswith("/busybox")], sorted(files)
    libs = set()
    for program in ("postern-tls", "postern-text"):
        out = subprocess.run(["ldd", os.path.join(lib.BUILDDIR, "src", program)],
                             capture_output=True, text=True).stdout
        libs |= set(re.findall(r"(?:=> |^\s+)(/\S+) \(", out, re.M))
    shared = {f for f, m in files.items() if m.isfile() and ".so" in os.path.basename(f)}
    assert shared == libs, (sorted(shared), sorted(libs))
    programs = {os.path.basename(f) for f, m in files.items()
                if m.isfile() and m.mode & 0o111 and ".so" not in f}
    assert programs == {"postern", "postern-relay", "postern-guard-relay", "postern-spawn",
                        "postern-tls", "postern-tls-relay", "postern-text"}, programs
    with tarfile.open(tar) as t:
        passwd = t.extractfile("etc/passwd").read().decode()
    assert "postern:x:%d:%d:" % (USER, USER) in passwd


def test_port_mapping_logins_reach_dovecot(ctx):
    since = len(ctx.dovecot.read_log())
    name = ctx.start_mapped()
    # PID 1: postern-spawn, no longer root.
    assert status(pid1(name)) == ("postern-spawn", USER)
    # The public port is the STARTTLS section, though another is named imap.
    c = greet_at(ctx.address, ctx.mapped[143], name)
    c.send("c CAPABILITY\r\n")
    caps = c.until_tag("c")
    assert "STARTTLS" in caps[0], caps
    lib.login_logout(c)
    lib.login_logout(tls_at(ctx.address, ctx.mapped[993], ctx.certs.ca))
    lib.wait_for(lambda: len(logins_from(ctx, since, ctx.address)) >= 2, 10,
                 what="two logins at Dovecot from %s" % ctx.address)
    out = logs(name)
    assert "is active as /run/postern/postern.conf" in out, out
    assert "postern-spawn: port 143: section imap-143" in out, out
    assert "postern-spawn: port 993: section imaps" in out, out
    assert re.search(r"postern\[\d+\]: .*event=connect client=%s:\d+ server=imap-143 "
                     % re.escape(ctx.address), out), out
    assert re.search(r"postern-tls\[\d+\]: .*event=connect client=%s:\d+ server=imaps"
                     % re.escape(ctx.address), out), out


def private_dirty(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        return int(re.search(r"^Private_Dirty:\s+(\d+) kB", f.read(), re.M).group(1))


def cgroup_memory(pid):
    """The container's memory cgroup's usage (the kernel's part, socket
    buffers included), where cgroup v1 shows it; else None."""
    with open("/proc/%d/cgroup" % pid) as f:
        m = re.search(r"^\d+:memory:(\S+)$", f.read(), re.M)
    path = m and "/sys/fs/cgroup/memory%s/memory.usage_in_bytes" % m.group(1)
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        return int(f.read())


def test_idle_sessions_memory(ctx):
    """Logged in and idle: what each session's relay keeps (Private_Dirty,
    as bench/relay-memory measures it), in the container; and the growth
    of the container's memory cgroup per session."""
    name = ctx.start_mapped()
    # One session first, so that what every session shares is counted
    # before.
    lib.login_logout(greet_at(ctx.address, ctx.mapped[143], name))
    lib.wait_for(lambda: not children(pid1(name)), 10, what="the session's end")
    before = cgroup_memory(pid1(name))
    since = len(ctx.dovecot.read_log())
    held = []
    try:
        for i in range(SESSIONS):
            c = greet_at(ctx.address, ctx.mapped[143], name)
            c.send("a LOGIN alice %s\r\n" % lib.USERS["alice"])
            assert c.until_tag("a")[-1].startswith("a OK")
            held.append(c)
        lib.wait_for(lambda: len(logins_from(ctx, since, ctx.address)) >= SESSIONS, 10,
                     what="%d logins at Dovecot" % SESSIONS)
        pid = pid1(name)
        lib.wait_for(lambda: sum(status(p)[0] == "postern-relay" for p in children(pid))
                     >= SESSIONS, 10, what="the relays")
        relays = [p for p in children(pid) if status(p)[0] == "postern-relay"]
        kib = [private_dirty(p) for p in relays]
        print("# idle session's relay in the container: %.1f KiB Private_Dirty "
              "(mean of %d; min %d, max %d)" % (sum(kib) / len(kib), len(kib),
                                                 min(kib), max(kib)))
        assert all(status(p)[1] == USER for p in relays)
        after = cgroup_memory(pid)
        if before and after:
            print("# the container's memory cgroup: %.1f KiB more per idle session"
                  % ((after - before) / 1024 / SESSIONS))
    finally:
        for c in held:
            c.close()


def test_sigterm_stops_it_cleanly(ctx):
    name = ctx.start_mapped()
    # podman stop sends SIGTERM and, after the timeout, SIGKILL (137).
    podman("stop", "-t", "30", name)
    ctx.container = None
    assert podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"


def test_socket_activation(ctx):
    plain, tls = lib.free_port(), lib.free_port()
    etc = ctx.config_dir("etc-activated", plain, "%d ssl" % tls)
    name = ctx.name()
    cmd = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % plain,
           "-l", "127.0.0.1:%d" % tls] + PODMAN + ["run", "--rm", "--name", name,
                                                  *ctx.run_args(etc)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    since = len(ctx.dovecot.read_log())
    try:
        # The first connection starts the container: it waits in the
        # host's socket meanwhile.
        lib.wait_for(lambda: connect_ok(plain), 10, what="the host's socket")
        c = greet_at("127.0.0.1", plain, name, source="127.0.0.2")
        c.send("c CAPABILITY\r\n")
        assert "STARTTLS" in c.until_tag("c")[0]
        lib.login_logout(c)
        lib.login_logout(tls_at("127.0.0.1", tls, ctx.certs.ca, source="127.0.0.3"))
        for rip in ("127.0.0.2", "127.0.0.3"):
            lib.wait_for(lambda: logins_from(ctx, since, rip), 10,
                         what="the login at Dovecot from %s" % rip)
        out = logs(name)
        assert "postern-spawn: port %d: section imap-143" % plain in out, out
        assert "postern-spawn: port %d: section imaps" % tls in out, out
        podman("stop", "-t", "30", name)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def connect_ok(port):
    s = socket.socket()
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


def test_what_stops_the_start(ctx):
    cases = [
        (ctx.config_dir("etc-two", 143, "993 ssl",
                        'server imap-again {\n  listen = "143"\n  protocol = "imap"\n}\n'),
         "port 143: sections imap-143 and imap-again both listen on it; not starting"),
        (ctx.config_dir("etc-broken", 143, "993 ssl", "no_such_directive = 1\n"),
         "no such option 'no_such_directive'"),
    ]
    for etc, reason in cases:
        name = ctx.name()
        r = podman("run", "--name", name, *ctx.run_args(etc), check=False)
        assert r.returncode == 100, (r.returncode, r.stdout, r.stderr)
        assert reason in r.stdout + r.stderr, r.stdout + r.stderr


if __name__ == "__main__":
    lib.run([test_image_holds_only_what_runs, test_port_mapping_logins_reach_dovecot,
             test_idle_sessions_memory, test_sigterm_stops_it_cleanly,
             test_socket_activation, test_what_stops_the_start], setup=setup)
