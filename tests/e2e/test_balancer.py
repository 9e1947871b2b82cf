"""A real load balancer in front of postern (issue 22, the balancer tier).

HAProxy (the Debian package, run here as an ordinary process on a
configuration this file writes) in TCP mode with send-proxy-v2, in front
of two postern nodes per protocol that share one ssl_session_ticket_key
file, as two machines behind a balancer would. Shown: the client's own
address reaches Dovecot (its log), a TLS session made on one node
resumes on the other, and a minute of HAProxy's health checks (layer-4
checks, which send a PROXY v2 LOCAL header and reset, and an IMAP
tcp-check that logs out) leaves no error line in postern's log and no
process behind. Clients connect from 127.0.0.2 and 127.0.0.3, HAProxy
from 127.0.0.1: an address that reaches Dovecot is the client's, not the
balancer's.
"""
import csv
import io
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import lib

HAPROXY = "/usr/sbin/haproxy"
# How long the health checks run before their log is judged; checks go
# every CHECK_INTER, so a minute is a few hundred of them per server.
CHECK_SECONDS = 60
CHECK_INTER = "250ms"
DROP_IN = os.path.join(lib.SRCDIR, "units", "postern-behind-balancer.conf.example")

CONFIG = """
global
    log stdout format raw local0 info
    stats socket {sock} mode 600 level admin
    maxconn 200

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # Without it a check must be done within inter (250ms): on a loaded
    # machine a greeting took longer and counted as a failed check.
    timeout check 5s

# Implicit TLS passes through: postern's nodes hold the certificate.
# Their health check is HAProxy's layer-4 one: connect, the PROXY header
# (LOCAL, for a check), then a reset.
frontend imaps
    bind 127.0.0.1:{imaps_port}
    default_backend imaps
backend imaps
    balance roundrobin
    server n1 127.0.0.1:{imaps1} send-proxy-v2 check inter {inter}
    server n2 127.0.0.1:{imaps2} send-proxy-v2 check inter {inter}

# Plain IMAP, checked by speaking it: greeting, LOGOUT, BYE.
frontend imap
    bind 127.0.0.1:{imap_port}
    default_backend imap
backend imap
    balance roundrobin
    option tcp-check
    tcp-check expect string *\\ OK
    tcp-check send a1\\ LOGOUT\\r\\n
    tcp-check expect string *\\ BYE
    server n1 127.0.0.1:{imap1} send-proxy-v2 check inter {inter}
    server n2 127.0.0.1:{imap2} send-proxy-v2 check inter {inter}

# The same plain nodes under the layer-4 check too.
backend imap_l4
    server n1 127.0.0.1:{imap1} send-proxy-v2 check inter {inter}
    server n2 127.0.0.1:{imap2} send-proxy-v2 check inter {inter}
"""


class HAProxy(lib.Server):
    def __init__(self, tmp, nodes):
        self.tmp = tmp
        self.log = tmp("haproxy.log")
        self.sock = tmp("haproxy.sock")
        self.imaps_port = lib.free_port()
        self.imap_port = lib.free_port()
        self.conf = tmp("haproxy.cfg")
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(
                sock=self.sock, inter=CHECK_INTER, imaps_port=self.imaps_port,
                imap_port=self.imap_port, imaps1=nodes["imaps"][0].port,
                imaps2=nodes["imaps"][1].port, imap1=nodes["imap"][0].port,
                imap2=nodes["imap"][1].port))
        self.started = None

    def start(self):
        r = subprocess.run([HAPROXY, "-c", "-f", self.conf], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        # -db: in the foreground, not a daemon; the test stops it.
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.conf],
                                     stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)
        lib.wait_port(self.imap_port, proc=self.proc)
        self.started = time.monotonic()
        return self

    def stats(self):
        """The servers of "show stat", by (backend, server)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return {(r["pxname"], r["svname"]): r for r in rows
                if r["svname"] not in ("FRONTEND", "BACKEND")}


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True, trusted="127.0.0.0/8")
        self.missing = None
        if not os.access(HAPROXY, os.X_OK):
            self.missing = "HAProxy is not installed (%s)" % HAPROXY
            return
        self.ticket_key = self.tmp("ticket.key")
        with open(self.ticket_key, "wb") as f:
            f.write(os.urandom(80))
        backend = ["* 127.0.0.1:%d" % self.dovecot.imap_port]
        # Only the balancer's header is believed; Dovecot is told the
        # client by ID (it trusts 127.0.0.0/8 for that).
        trusted = 'set_real_ip_from = {"127.0.0.1"}\n'
        tls = self.certs.conf(ssl_session_ticket_key='{"%s"}' % self.ticket_key)
        self.nodes = {
            "imaps": [self.track(lib.Postern(
                self.tmp, global_conf=trusted + tls, map_lines=backend,
                listen_flags=" ssl proxy_protocol")) for _ in range(2)],
            "imap": [self.track(lib.Postern(
                self.tmp, global_conf=trusted, map_lines=backend,
                listen_flags=" proxy_protocol")) for _ in range(2)],
        }
        # Judged from here: each node's own start (the harness's probe
        # connects without a header) is not the balancer's doing.
        time.sleep(0.5)
        self.marks = {p: len(p.read_log()) for p in self.all_nodes()}
        self.haproxy = self.track(HAProxy(self.tmp, self.nodes))

    def need(self):
        if self.missing:
            raise lib.Skip(self.missing)

    def all_nodes(self):
        return self.nodes["imaps"] + self.nodes["imap"]

    def tls_context(self):
        context = ssl.create_default_context(cafile=self.certs.ca)
        context.check_hostname = False
        return context

    def dump(self):
        if self.missing:
            return ""
        return ("\n".join("postern %d:\n%s" % (p.port, p.read_log()[-1500:])
                          for p in self.all_nodes()) +
                "\nhaproxy log:\n" + self.haproxy.read_log()[-1500:] +
                "\ndovecot log:\n" + self.dovecot.read_log()[-1500:])


def client_socket(port, source):
    return socket.create_connection(("127.0.0.1", port), timeout=10,
                                    source_address=(source, 0))


def served_by(ctx, kind, client):
    """The node whose log has the connection from client ("ip:port"), and
    that session's id; None when no node has it (yet)."""
    for p in ctx.nodes[kind]:
        m = re.search(r"session=(\w+) event=connect client=%s " % re.escape(client),
                      p.read_log())
        if m:
            return p, m.group(1)
    return None


def wait_served_by(ctx, kind, client):
    found = []
    lib.wait_for(lambda: found.append(served_by(ctx, kind, client)) or found[-1],
                 10, "a node's log of %s" % client)
    return found[-1]


def imap_session(sock):
    """Greeting, LOGIN, LOGOUT on an open (TLS or plain) socket; the TLS
    session, once logged in (TLS 1.3's ticket comes after the handshake,
    with the greeting), or None."""
    c = lib.Client.over(sock)
    assert c.line().startswith("* OK")
    c.send("a LOGIN alice %s\r\n" % lib.USERS["alice"])
    assert c.until_tag("a")[-1].startswith("a OK")
    session = getattr(sock, "session", None)
    c.send("b LOGOUT\r\n")
    c.until_tag("b")
    c.close()
    return session


def test_client_address_reaches_dovecot(ctx):
    ctx.need()
    for kind, port, wrap in (
            ("imaps", ctx.haproxy.imaps_port,
             lambda s: ctx.tls_context().wrap_socket(s, server_hostname="localhost")),
            ("imap", ctx.haproxy.imap_port, lambda s: s)):
        sock = wrap(client_socket(port, "127.0.0.2"))
        client = "127.0.0.2:%d" % sock.getsockname()[1]
        imap_session(sock)
        node, session = wait_served_by(ctx, kind, client)
        # The node saw the client and the balancer, each for what it is.
        assert re.search(r"client=%s peer=127\.0\.0\.1:\d+ " % re.escape(client),
                         node.read_log()), client
        # Dovecot's own word: the login came from the client, in the
        # session the node started.
        log = ctx.dovecot.wait_log("session=<%s>" % session, 10)
        line = [l for l in log.splitlines()
                if "Login: user=<alice>" in l and "session=<%s>" % session in l]
        assert line and "rip=127.0.0.2," in line[0], line


def handshake_line(p, session):
    m = re.search(r"session=%s event=tls_handshake result=ok .*" % session, p.read_log())
    return m.group(0) if m else ""


def test_tls_session_resumes_on_the_other_node(ctx):
    ctx.need()
    context = ctx.tls_context()
    sock = context.wrap_socket(client_socket(ctx.haproxy.imaps_port, "127.0.0.3"),
                               server_hostname="localhost")
    first_client = "127.0.0.3:%d" % sock.getsockname()[1]
    ticket = imap_session(sock)
    first, _ = wait_served_by(ctx, "imaps", first_client)
    # Round robin sends the next connection to the other node; HAProxy's
    # own connections or another test may have moved the turn, so try a
    # few times.
    for _ in range(6):
        sock = context.wrap_socket(client_socket(ctx.haproxy.imaps_port, "127.0.0.3"),
                                   server_hostname="localhost", session=ticket)
        client = "127.0.0.3:%d" % sock.getsockname()[1]
        reused = sock.session_reused
        imap_session(sock)
        node, session = wait_served_by(ctx, "imaps", client)
        if node is not first:
            break
    else:
        raise AssertionError("HAProxy never chose the other node")
    assert reused, "the other node did not take the ticket"
    lib.wait_for(lambda: handshake_line(node, session), 5, "the handshake line")
    assert "resumed=yes" in handshake_line(node, session), handshake_line(node, session)
    ctx.dovecot.wait_log("rip=127.0.0.3,")


def error_lines(text):
    """Lines of postern's log that say something went wrong: level warning
    or above, a session that ended in error or failed, a failed write
    or handshake not at debug level."""
    out = []
    for line in text.splitlines():
        level = re.search(r": <(\d)> ", line)
        if level and int(level.group(1)) <= 4:
            out.append(line)
        elif re.search(r"result=(error|fail)\b", line):
            out.append(line)
        elif "event=write_failed" in line and "<7>" not in line:
            out.append(line)
    return out


def session_processes(ctx):
    """What the nodes' spawners started that still runs."""
    spawners = {p.proc.pid for p in ctx.all_nodes()}
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid in spawners:
            out.append(int(entry))
    return out


def test_a_minute_of_health_checks_is_quiet(ctx):
    ctx.need()
    left = CHECK_SECONDS - (time.monotonic() - ctx.haproxy.started)
    if left > 0:
        time.sleep(left)
    stats = ctx.haproxy.stats()
    ours = {k: v for k, v in stats.items() if k[0] in ("imaps", "imap", "imap_l4")}
    assert len(ours) == 6, sorted(stats)
    for (backend, server), row in ours.items():
        # Every check passed: up, never failed, the kind of check we asked.
        want = "L7OK" if backend == "imap" else "L4OK"
        assert row["status"] == "UP", (backend, server, row["status"])
        # ("* " while a check is under way)
        assert row["check_status"].lstrip("* ") == want, (backend, server, row["check_status"])
        assert row["chkfail"] == "0", (backend, server, row["chkfail"])
    ctx.haproxy.proc.send_signal(signal.SIGTERM)
    ctx.haproxy.proc.wait(15)
    assert "is DOWN" not in ctx.haproxy.read_log(), ctx.haproxy.read_log()[-2000:]
    lib.wait_for(lambda: not session_processes(ctx), 20, "the nodes' sessions to end")
    for p in ctx.all_nodes():
        log = p.read_log()[ctx.marks[p]:]
        bad = error_lines(log)
        assert not bad, (p.port, bad[:5])
        # The checks did reach postern: the layer-4 ones as debug lines,
        # the tcp-checks as sessions that logged out.
        assert log.count("event=health_check") >= 10, p.port
        if p in ctx.nodes["imap"]:
            assert len(re.findall(r"event=close client=127\.0\.0\.1:\d+ .*result=logout",
                                  log)) >= 10, p.port


def test_drop_in_sizes_per_source_for_the_balancer(ctx):
    """The shipped drop-in (postern(8), behind a load balancer): every
    connection comes from the balancer, so the per-source limit must let
    one balancer take the whole socket's, in systemd and in xinetd."""
    assert os.path.exists(DROP_IN), DROP_IN
    with open(os.path.join(lib.SRCDIR, "units", "postern-spawn.service.in")) as f:
        shipped = dict(re.findall(r"(\w+)=(\d+)",
                                  re.search(r"^Environment=(.*)$", f.read(), re.M).group(1)))
    with open(DROP_IN) as f:
        text = f.read()
    assert "[Service]" in text
    mine = dict(re.findall(r"(\w+)=(\d+)",
                           re.search(r"^Environment=(.*)$", text, re.M).group(1)))
    # The spawner (the default): one balancer may take the whole service.
    assert int(mine["SESSIONS_PER_SOURCE"]) >= int(shipped["SESSIONS_MAX"])
    assert int(mine["SESSIONS_PER_SOURCE"]) >= int(mine["SESSIONS_MAX"])
    # And where the per-connection units are used, the socket's figure.
    m = re.search(r"MaxConnectionsPerSource=(\d+)", text)
    assert m and int(m.group(1)) >= int(mine["SESSIONS_MAX"]), text
    xinetd = lib.settings(os.path.join(lib.SRCDIR, "units", "postern-imap.xinetd.in"))
    # xinetd's per_source is shown (commented) with the value to use.
    m = re.search(r"^#\s*per_source\s*=\s*(\d+|UNLIMITED)\s*$", text, re.M)
    assert m, "no per_source line for xinetd"
    assert m.group(1) == "UNLIMITED" or int(m.group(1)) >= int(xinetd["instances"])


CTX = None


def setup():
    global CTX
    CTX = Ctx()
    return CTX


if __name__ == "__main__":
    lib.run([test_drop_in_sizes_per_source_for_the_balancer,
             test_client_address_reaches_dovecot,
             test_tls_session_resumes_on_the_other_node,
             test_a_minute_of_health_checks_is_quiet],
            setup=setup)
