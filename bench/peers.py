"""What bench/compare and bench/idle-cost share: reading /proc, building
the two helper programs, and starting the peers postern is measured
beside (Dovecot as a proxy in its two login modes, stunnel4 in inetd
mode, nginx's mail proxy and its auth_http responder). Every server
started here is appended to the caller's list, which the caller stops
in a finally block, so that nothing outlives the run."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import lib  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
STACK_KB = 16   # THREAD_SIZE on x86-64


# ---------------------------------------------------------------- /proc --
def children(pid):
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def descendants(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def stat_cpu(pid):
    """CPU seconds of pid and of the children it has reaped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17; [0] here is field 3.
    return sum(int(x) for x in fields[11:15]) / TICK


def tree_cpu(pid):
    """A process tree's CPU, the dead (reaped or not) included."""
    return sum(stat_cpu(p) for p in descendants(pid))


def field(path, name):
    try:
        with open(path) as f:
            return int(re.search(r"^%s:\s+(\d+)" % name, f.read(), re.M).group(1))
    except (OSError, AttributeError):
        return 0


def process_cost(pid):
    """(Pss, page tables, kernel stacks) of pid, kB."""
    return (field("/proc/%d/smaps_rollup" % pid, "Pss"),
            field("/proc/%d/status" % pid, "VmPTE"),
            STACK_KB * field("/proc/%d/status" % pid, "Threads"))


def tree_cost(pids):
    """The sums of process_cost over pids."""
    costs = [process_cost(p) for p in pids]
    return [sum(c[i] for c in costs) for i in range(3)]


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, value = line.split(":", 1)
            out[name] = int(value.split()[0])
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ------------------------------------------------------------ helpers --
def build_helpers(tmp, libc):
    """The client (bench/imapload.c) and the floor (bench/splice-floor.c,
    static; libc "musl", as postern-relay is, when musl-gcc is here,
    else "glibc"). Returns (client, floor, the floor's libc)."""
    load = tmp("imapload")
    floor = tmp("splice-floor")
    src = os.path.join(HERE, "splice-floor.c")
    subprocess.run(["gcc", "-O2", "-o", load, os.path.join(HERE, "imapload.c"),
                    "-lgnutls", "-lpthread"], check=True)
    if libc == "musl" and (not shutil.which("musl-gcc") or subprocess.run(
            ["musl-gcc", "-O2", "-static", "-o", floor, src]).returncode != 0):
        libc = "glibc"
    if libc == "glibc":
        subprocess.run(["gcc", "-O2", "-static", "-o", floor, src], check=True)
    # Pages of a program just written are dirty in the page cache and
    # count as Private_Dirty in every process that maps them.
    os.sync()
    return load, floor, libc


def spawned(argv, port, servers, inetd=False):
    """argv started per connection by systemd-socket-activate on port."""
    proc = subprocess.Popen(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port]
                            + (["--inetd"] if inetd else []) + ["-a"] + argv,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers.append(proc)
    lib.wait_port(port, proc=proc)
    time.sleep(0.1)   # wait_port's own connection
    return proc


def stunnel_inetd(tmp, certs, backend_port, servers):
    """stunnel4 in inetd mode, one process per connection, in front of
    backend_port; returns (its spawner, its port), or None when stunnel4
    is not installed."""
    if not os.path.exists("/usr/bin/stunnel4"):
        return None
    port = lib.free_port()
    with open(tmp("stunnel.conf"), "w") as f:
        f.write("foreground = yes\npid =\ndebug = err\noutput = %s\n"
                "cert = %s\nkey = %s\nconnect = 127.0.0.1:%d\n"
                % (tmp("stunnel.log"), certs.server, certs.server_key, backend_port))
    return spawned(["/usr/bin/stunnel4", tmp("stunnel.conf")], port, servers,
                   inetd=True), port


# ------------------------------------------------------ Dovecot proxy --
class DovecotProxy(lib.Server):
    """A second Dovecot that only proxies: a static passdb answers every
    login with proxy=y to the backend (the client's password is passed
    on, the backend checks it). mode "hs", high-security: a login process
    per connection (service_count = 1), which holds the session, TLS
    included, while it is proxied. mode "hp", high-performance: as many
    login processes as cores, kept (service_count = 0), each taking many
    clients. A plain port and an implicit-TLS one, the bench's
    certificate."""

    def __init__(self, tmp, name, backend_port, mode, certs):
        self.dir = tmp(name)
        self.mode = mode
        self.log = os.path.join(self.dir, "dovecot.log")
        self.imap_port, self.imaps_port = lib.free_port(), lib.free_port()
        for sub in ("run", "state"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        if mode == "hs":
            login = "  service_count = 1\n  process_limit = 3000\n"
        else:
            login = ("  service_count = 0\n  process_min_avail = %d\n"
                     "  client_limit = 3000\n  vsz_limit = 2G\n" % CORES)
        internal, login_user = ("dovecot", "dovenull") if os.geteuid() == 0 else \
            (pwd.getpwuid(os.geteuid()).pw_name,) * 2
        conf = f"""protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
ssl = yes
ssl_cert = <{certs.server}
ssl_key = <{certs.server_key}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login_user}
# Room for 3000 login processes and their connections to auth, anvil,
# log and ipc.
default_client_limit = 10000
default_process_limit = 3000
mail_max_userip_connections = 10000
passdb {{
  driver = static
  args = nopassword=y proxy=y host=127.0.0.1 port={backend_port}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
{login}}}
"""
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", self.conf], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, "stderr"), "w"))
        lib.wait_port(self.imap_port, proc=self.proc)
        lib.wait_port(self.imaps_port, proc=self.proc)
        return self

    def proxied(self):
        """Sessions this proxy has handed to the backend so far."""
        return self.read_log().count("Started proxying")


def dovecot_proxy(tmp, name, backend_port, mode, certs, servers):
    d = DovecotProxy(tmp, name, backend_port, mode, certs)
    servers.append(d.start())
    return d


def backend_logins(dovecot):
    """Logins the backend Dovecot has logged so far."""
    return dovecot.read_log().count("Login: user=<")


# -------------------------------------------------------------- nginx --
def nginx_auth(tmp, backend_port, servers):
    """An auth_http responder that costs next to nothing (a second nginx
    answering from add_header); returns its URL's host:port."""
    port = lib.free_port()
    auth = lib.Nginx(tmp, None, [port], name="nginx-auth", log_level="error",
                     http_conf=(
                         "server {\n listen 127.0.0.1:%d;\n location /auth {\n"
                         "  add_header Auth-Status OK;\n"
                         "  add_header Auth-Server 127.0.0.1;\n"
                         "  add_header Auth-Port %d;\n  return 204;\n }\n}\n"
                         % (port, backend_port)))
    servers.append(auth.start())
    return port


def nginx_mail(tmp, name, auth_port, certs, workers, servers):
    """nginx's mail proxy, plain and implicit TLS: (nginx, plain port,
    TLS port). Room for 4000 connections a worker (two a session)."""
    plain, tls = lib.free_port(), lib.free_port()
    n = lib.Nginx(tmp, (
        "server_name localhost;\nauth_http 127.0.0.1:%d/auth;\n"
        "server {\n listen 127.0.0.1:%d;\n protocol imap;\n}\n"
        "server {\n listen 127.0.0.1:%d ssl;\n protocol imap;\n"
        " ssl_certificate %s;\n ssl_certificate_key %s;\n}\n"
        % (auth_port, plain, tls, certs.server, certs.server_key)),
        [plain, tls], name=name, workers=workers, log_level="error")
    with open(n.conf) as f:
        text = f.read()
    with open(n.conf, "w") as f:
        f.write(text.replace("worker_connections 1024;", "worker_connections 4096;"))
    servers.append(n.start())
    return n, plain, tls


def stop_all(servers):
    """Stop what was started, the last first; every one even if one fails."""
    for s in reversed(servers):
        try:
            if hasattr(s, "stop"):
                s.stop()
            elif s.poll() is None:
                s.terminate()
                try:
                    s.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    s.kill()
                    s.wait()
        except Exception as e:  # noqa: BLE001 - the others must still stop
            print("stopping %r: %s" % (s, e), file=sys.stderr)
    del servers[:]


def stop_on_sigterm():
    """SIGTERM unwinds like ^C does, through the finally blocks that stop
    every server and remove the temporary directories."""
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
