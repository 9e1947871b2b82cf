"""The client's real address, end to end. A load balancer's PROXY header
(v1, v2, trusted or not, LOCAL, IPv6, malformed, missing, slow), allow
and deny, the resolver against a real dnsmasq, a PROXY header towards
Dovecot, and Dovecot told who the client is by ID and XCLIENT: Dovecot's
own log, the auth server's requests and Postfix's Received line show the
client, never postern.

And real client programs, through postern and straight to the server,
the same program both ways: mbsync (full and incremental sync over IMAPS
and STARTTLS), fetchmail (POP3S and STLS), msmtp and swaks (submission
with STARTTLS, and 465); the SHA-256 of every message must be the same
both ways."""
import base64
import os
import pwd
import re
import shutil
import socket
import subprocess
import ssl
import struct
import subprocess
import time

import lib

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, sport=40000, dst=None, dport=143):
    fam = "TCP6" if ":" in src else "TCP4"
    dst = dst or ("2001:db8::1" if ":" in src else "127.0.0.1")
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def v2(src, sport=40000, dst=None, dport=143):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    dst = dst or ("2001:db8::1" if fam == socket.AF_INET6 else "127.0.0.1")
    body = (socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) +
            struct.pack(">HH", sport, dport))
    return (V2SIG + bytes([0x21, 0x21 if fam == socket.AF_INET6 else 0x11]) +
            struct.pack(">H", len(body)) + body)


V2_LOCAL = V2SIG + b"\x20\x00\x00\x00"


def connect(p, header=b""):
    s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    s.sendall(header)
    return lib.Client.over(s)


def imap_login(p, header, password="wonderland", user="alice"):
    """Log in through p after header; the tagged reply and the seconds the
    LOGIN took."""
    c = connect(p, header)
    assert c.line().startswith("* OK"), "no greeting"
    start = time.monotonic()
    c.send("a LOGIN %s %s\r\n" % (user, password))
    reply = c.until_tag("a")[-1]
    took = time.monotonic() - start
    c.send("b LOGOUT\r\n")
    c.close()
    return reply, took


def reset(sock):
    """Close with a reset, as HAProxy ends every check."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def children(pid):
    """The processes pid started that still run (a session's, whatever
    program it has become by exec)."""
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry))
    return out


def quiet_mark(p):
    """Where p's log ends once every session process p started is gone
    (so no line is still to come)."""
    lib.wait_for(lambda: not children(p.proc.pid), 15,
                 "the sessions of port %d to end" % p.port)
    return len(p.read_log())


def quiet_log_since(p, mark, sessions):
    """p's lines after mark, once that many sessions have begun to log
    and every one has logged its end (its close line, or a health check's
    debug line). The spawner's list of children is not enough to know
    that: the kernel's /proc/PID/task/TID/children can miss a child that
    is running."""
    def ids(pattern):
        return set(re.findall(pattern, p.read_log()[mark:]))

    def over():
        begun = ids(r"session=(\w+)")
        ended = ids(r"session=(\w+) event=(?:close|health_check)")
        return len(begun) >= sessions and begun <= ended
    lib.wait_for(over, 15, "%d sessions on port %d to end" % (sessions, p.port))
    return p.read_log()[mark:quiet_mark(p)].splitlines()


def closed_without_greeting(c):
    data = c.sock.recv(100)
    assert data == b"", data
    c.close()


# The client programs' own users: their mailboxes change under the sync
# tests, so no other test's counts move.
READER, READER_PASS = "reader", "r3ader-pass"
SINK = "sink@example.org"
CLIENT_USERS = {READER: READER_PASS, SINK: "s1nk-pass"}


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True, trusted="127.0.0.0/8", haproxy=True,
                         users=dict(lib.USERS, **CLIENT_USERS))
        self.clients = {}
        d = self.dovecot
        self.auth = self.track(lib.AuthServer(
            self.tmp, d.imap_port, backends={"pop3": d.pop3_port,
                                             "smtp": d.imap_port}))
        self.dns = self.track(lib.Dnsmasq(
            self.tmp, host_records={"mx.good.test": "192.0.2.7",
                                    "liar.test": "192.0.2.99"},
            local=["2.0.192.in-addr.arpa", "test"],
            ptr_records={lib.reverse_name("192.0.2.8"): "liar.test",
                         lib.reverse_name("192.0.2.9"): "evil\\r\\nx.test"}))
        self.fake_dns = self.track(lib.FakeDns({
            lib.reverse_name("192.0.2.10"): ("ptr", b"evil\r\nRCPT TO:<x>.test"),
            lib.reverse_name("192.0.2.11"): ("servfail",)}))
        self.silent_dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.silent_dns.bind(("127.0.0.1", 0))
        trusted = 'set_real_ip_from = {"127.0.0.1"}\n'
        auth = 'auth_http = "%s"\n' % self.auth.url
        pp = " proxy_protocol"
        self.imap = self.proxy(trusted + auth, listen_flags=pp)
        self.pop3 = self.proxy(trusted, listen_flags=pp, protocol="pop3",
                               map_lines=["* 127.0.0.1:%d" % d.pop3_port])
        self.untrusted = self.proxy('set_real_ip_from = {"10.0.0.0/8"}\n' + auth,
                                    listen_flags=pp)
        self.imaps = self.proxy(trusted + auth + self.certs.conf(),
                                listen_flags=" ssl" + pp)
        self.slow = self.proxy(trusted + auth + 'timeout = 1s\n', listen_flags=pp)
        rules = 'allow("192.0.2.0/24")\nallow("2001:db8::/32")\ndeny("all")\n'
        self.ruled = {proto: self.proxy(trusted + auth + rules +
                                        ("smtp_auth = {none}\n"
                                         if proto == "smtp" else ""),
                                        listen_flags=pp, protocol=proto)
                      for proto in ("imap", "pop3", "smtp")}
        self.no_direct = self.proxy(auth + 'deny("127.0.0.1")\n')
        self.out_v1 = self.proxy(trusted + 'proxy_protocol = on\n'
                                 'proxy_forward_client = false\n',
                                 listen_flags=pp,
                                 map_lines=["* 127.0.0.1:%d" % d.imap_haproxy_port])
        self.out_v2 = self.proxy(trusted + 'proxy_protocol = v2\n'
                                 'proxy_forward_client = false\n',
                                 listen_flags=pp,
                                 map_lines=["* 127.0.0.1:%d" % d.imap_haproxy_port])
        self.out_pop3 = self.proxy(trusted + 'proxy_protocol = v2\n'
                                   'proxy_forward_client = false\n',
                                   listen_flags=pp, protocol="pop3",
                                   map_lines=["* 127.0.0.1:%d" % d.pop3_haproxy_port])
        self.forwarded = self.proxy(trusted, listen_flags=pp,
                                    map_lines=["* 127.0.0.1:%d" % d.imap_port])
        self.unforwarded = self.proxy(trusted + 'proxy_forward_client = false\n',
                                      listen_flags=pp,
                                      map_lines=["* 127.0.0.1:%d" % d.imap_port])
        # IMAP looks names up only when told to; SMTP always (below).
        resolver = 'resolver = {"127.0.0.1:%d"}\nresolver_imap_pop3 = true\n'
        self.resolved = self.proxy(trusted + auth + resolver % self.dns.port,
                                   listen_flags=pp)
        self.resolved_fake = self.proxy(trusted + auth + resolver % self.fake_dns.port,
                                        listen_flags=pp)
        self.resolved_silent = self.proxy(
            trusted + auth + 'resolver_timeout = 1s\n' +
            resolver % self.silent_dns.getsockname()[1], listen_flags=pp)
        self.resolver_as_nginx = {proto: self.proxy(
            trusted + auth + 'resolver = {"127.0.0.1:%d"}\nresolver_timeout = 5s\n'
            % self.silent_dns.getsockname()[1], listen_flags=pp, protocol=proto)
            for proto in ("imap", "pop3")}
        self.postfix = None
        try:
            # With a certificate: the client programs use STARTTLS when
            # they go to Postfix straight.
            self.postfix = self.track(lib.Postfix(self.tmp, self.dovecot,
                                                  self.certs))
            self.smtp = self.proxy(
                trusted + 'proxy_smtp_auth = true\n' + resolver % self.dns.port,
                listen_flags=pp, protocol="smtp",
                map_lines=["* 127.0.0.1:%d" % self.postfix.port])
            self.smtp_out = self.proxy(
                trusted + 'proxy_smtp_auth = true\nproxy_protocol = v2\n'
                'xclient = false\n', listen_flags=pp, protocol="smtp",
                map_lines=["* 127.0.0.1:%d" % self.postfix.proxy_port])
        except lib.Skip:
            pass

    def proxy(self, conf, **kw):
        return self.track(lib.Postern(self.tmp, global_conf=conf, **kw))

    def client_proxy(self, kind):
        """postern for a client program, made on first use: imaps, pop3s,
        smtps (implicit TLS); imap, pop3, submission (STARTTLS only)."""
        if kind in self.clients:
            return self.clients[kind]
        if kind in ("submission", "smtps") and not self.postfix:
            raise lib.Skip("Postfix needs root and the postfix package")
        protocol = {"imaps": "imap", "imap": "imap", "pop3s": "pop3",
                    "pop3": "pop3", "smtps": "smtp", "submission": "smtp"}[kind]
        backend = {"imap": self.dovecot.imap_port, "pop3": self.dovecot.pop3_port,
                   "smtp": self.postfix.port if self.postfix else 0}[protocol]
        tls = {"ssl": "true"} if kind.endswith("s") else {"starttls": '"only"'}
        glob = "proxy_smtp_auth = true\n" if protocol == "smtp" else ""
        self.clients[kind] = self.track(lib.Postern(
            self.tmp, protocol=protocol, global_conf=glob,
            server_conf=self.certs.conf(**tls),
            map_lines=["* 127.0.0.1:%d" % backend]))
        return self.clients[kind]

    def dump(self):
        return (super().dump() + "\ndovecot log:\n" +
                self.dovecot.read_log()[-2000:])

    def close(self):
        self.silent_dns.close()
        super().close()


def last_request(ctx):
    return ctx.auth.requests()[-1]


def close_line(p, client):
    """The session's closing line, from whichever program ended it."""
    found = []

    def seen():
        found[:] = [l for l in p.read_log().splitlines()
                    if "event=close client=%s " % client in l]
        return bool(found)
    lib.wait_for(seen, 5, "the closing line of %s" % client)
    return found[-1]


def session_of(line):
    return line.split("session=")[1].split()[0]


def test_v1_trusted_sets_client_everywhere(ctx):
    reply, _ = imap_login(ctx.imap, v1("192.0.2.21", 40021))
    assert reply.startswith("a OK"), reply
    req = last_request(ctx)
    assert req["Client-IP"] == "192.0.2.21"
    assert req["Proxy-Protocol-Addr"] == "192.0.2.21"
    assert req["Proxy-Protocol-Port"] == "40021"
    assert req["Proxy-Protocol-Server-Addr"] == "127.0.0.1"
    assert req["Proxy-Protocol-Server-Port"] == "143"
    # nginx's order: Client-IP, Proxy-Protocol-*, then the rest.
    keys = list(req)
    assert keys.index("Proxy-Protocol-Addr") == keys.index("Client-IP") + 1
    # Dovecot, told by ID, logs the client and postern's session id; the
    # relay's closing line names the client too.
    close = close_line(ctx.imap, "192.0.2.21:40021")
    assert "postern-relay" in close, close
    session = session_of(close)
    dlog = ctx.dovecot.wait_log("rip=192.0.2.21")
    line = [l for l in dlog.splitlines() if "Login: user=<alice>" in l
            and "rip=192.0.2.21" in l][0]
    assert "session=<%s>" % session in line, line
    assert "client=192.0.2.21:40021 peer=127.0.0.1:" in ctx.imap.read_log()


def test_v2_ipv6_pop3_forwarded_by_xclient(ctx):
    c = connect(ctx.pop3, v2("2001:db8::22", 40022, dport=110))
    assert c.line().startswith("+OK")
    c.send("USER alice\r\n")
    assert c.line().startswith("+OK")
    c.send("PASS wonderland\r\n")
    assert c.line().startswith("+OK"), "login failed"
    c.send("STAT\r\n")
    assert c.line().startswith("+OK 1 ")
    c.send("QUIT\r\n")
    c.close()
    line = [l for l in ctx.dovecot.wait_log("rip=2001:db8::22").splitlines()
            if "pop3-login: Info: Login" in l and "rip=2001:db8::22" in l][0]
    session = session_of(close_line(ctx.pop3, "[2001:db8::22]:40022"))
    assert "session=<%s>" % session in line, line


def test_untrusted_peer_header_is_read_not_believed(ctx):
    reply, _ = imap_login(ctx.untrusted, v1("192.0.2.23"))
    assert reply.startswith("a OK"), reply
    req = last_request(ctx)
    assert req["Client-IP"] == "127.0.0.1"
    assert req["Proxy-Protocol-Addr"] == "192.0.2.23"
    assert "event=proxy_protocol_untrusted" in ctx.untrusted.read_log()


def test_v2_local_keeps_the_peer(ctx):
    reply, _ = imap_login(ctx.imap, V2_LOCAL)
    assert reply.startswith("a OK"), reply
    req = last_request(ctx)
    assert req["Client-IP"] == "127.0.0.1"
    assert "Proxy-Protocol-Addr" not in req


def test_layer4_check_is_logged_at_debug_only(ctx):
    """HAProxy's layer-4 check with send-proxy-v2: a LOCAL header, then a
    reset. A health check, not a failed session: one debug line, nothing
    at info or above (no write_failed, no result=error, on a TLS port no
    failed handshake)."""
    for p in (ctx.imap, ctx.pop3, ctx.imaps):
        mark = quiet_mark(p)
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
            s.sendall(V2_LOCAL)
            reset(s)
        lines = quiet_log_since(p, mark, 3)
        checks = [l for l in lines if "event=health_check" in l]
        assert len(checks) == 3, (p.port, lines)
        loud = [l for l in lines if "<7>" not in l]
        assert not loud, loud


def test_check_that_logs_out_then_resets_is_not_an_error(ctx):
    """HAProxy's tcp-check: greeting, LOGOUT (or QUIT), then a reset once
    BYE is read, or at once. The client said goodbye: every session ends
    result=logout, and no write_failed above debug."""
    rounds = 10
    marks = {p: quiet_mark(p) for p in (ctx.imap, ctx.pop3)}
    for i in range(rounds):
        c = connect(ctx.imap, V2_LOCAL)
        assert c.line().startswith("* OK")
        c.send("a1 LOGOUT\r\n")
        if i % 2:
            assert c.line().startswith("* BYE")
        reset(c.sock)
        c = connect(ctx.pop3, V2_LOCAL)
        assert c.line().startswith("+OK")
        c.send("QUIT\r\n")
        if i % 2:
            assert c.line().startswith("+OK")
        reset(c.sock)
    for p, mark in marks.items():
        lines = quiet_log_since(p, mark, rounds)
        closes = [l for l in lines if "event=close " in l]
        assert len(closes) == rounds, closes
        assert all("result=logout" in l for l in closes), \
            [l for l in closes if "result=logout" not in l]
        loud = [l for l in lines if "write_failed" in l and "<7>" not in l]
        assert not loud, loud


def test_bad_missing_or_slow_header_closes_without_greeting(ctx):
    before = len(ctx.auth.requests())
    for header, why in ((b"GET / HTTP/1.0\r\n\r\n", "not a PROXY header"),
                        (b"a LOGIN alice wonderland\r\n", "not a PROXY header"),
                        (b"PROXY TCP4 192.0.2.1 127.0.0.1 1 99999\r\n",
                         "PROXY v1: bad port"),
                        (V2SIG + b"\x21\x12\x00\x0c" + bytes(12),
                         "PROXY v2: not a stream connection")):
        closed_without_greeting(connect(ctx.imap, header))
        ctx.imap.wait_log('reason="%s"' % why)
    start = time.monotonic()
    closed_without_greeting(connect(ctx.slow, b"PROXY TCP4 192.0.2."))
    assert time.monotonic() - start < 5
    ctx.slow.wait_log('reason="no PROXY header in time"')
    closed_without_greeting(connect(ctx.slow))
    assert len(ctx.auth.requests()) == before


def tls_after_header(port, header, certs):
    """TLS whose ClientHello leaves in the same write as the PROXY header,
    then IMAP over it; returns (send, line) functions."""
    ctx = ssl.create_default_context(cafile=certs.ca)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(header + out.read())
    while True:
        data = sock.recv(65536)
        assert data, "closed during the handshake"
        inc.write(data)
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(out.read())
    sock.sendall(out.read())
    buf = bytearray()

    def send(text):
        obj.write(text.encode())
        sock.sendall(out.read())

    def line():
        while b"\r\n" not in buf:
            try:
                buf.extend(obj.read(65536))
                continue
            except ssl.SSLWantReadError:
                pass
            data = sock.recv(65536)
            assert data, "closed"
            inc.write(data)
        i = buf.index(b"\r\n")
        text = buf[:i].decode()
        del buf[:i + 2]
        return text
    return send, line, sock


def test_tls_right_behind_the_header_crosses_into_postern_tls(ctx):
    send, line, sock = tls_after_header(ctx.imaps.port,
                                        v2("192.0.2.24", 40024, dport=993),
                                        ctx.certs)
    assert line().startswith("* OK")
    send("a LOGIN alice wonderland\r\n")
    while True:
        reply = line()
        if reply.startswith("a "):
            break
    assert reply.startswith("a OK"), reply
    send("b LOGOUT\r\n")
    sock.close()
    assert last_request(ctx)["Client-IP"] == "192.0.2.24"
    close = close_line(ctx.imaps, "192.0.2.24:40024")
    assert "postern-tls" in close, close
    ctx.dovecot.wait_log("rip=192.0.2.24")


def test_allow_and_deny_in_order_before_any_lookup(ctx):
    before = len(ctx.auth.requests())
    refusals = {"imap": "* BYE Access denied", "pop3": "-ERR Access denied",
                "smtp": "554 5.7.1 Access denied"}
    for proto, p in ctx.ruled.items():
        for addr in ("192.0.2.25", "2001:db8::25"):
            c = connect(p, v1(addr))
            assert not c.line().startswith(refusals[proto][:4]), proto
            c.close()
        c = connect(p, v1("198.51.100.25"))
        assert c.line() == refusals[proto]
        closed_without_greeting(c)
        p.wait_log("event=access_denied client=198.51.100.25:40000")
    c = connect(ctx.no_direct)
    assert c.line() == "* BYE Access denied"
    assert len(ctx.auth.requests()) == before


def dovecot_login_line(ctx, rip):
    log = ctx.dovecot.wait_log("rip=%s," % rip)
    return [l for l in log.splitlines() if "rip=%s," % rip in l][0]


def test_proxy_protocol_out_v1_v2_to_dovecot(ctx):
    """Dovecot's haproxy listener refuses anyone without a header; it logs
    the address the header carries."""
    for p, addr in ((ctx.out_v1, "192.0.2.26"), (ctx.out_v2, "192.0.2.27")):
        reply, _ = imap_login(p, v1(addr))
        assert reply.startswith("a OK"), reply
        assert "Login: user=<alice>" in dovecot_login_line(ctx, addr)
    reply, _ = imap_login(ctx.out_v2, v2("2001:db8::28"))
    assert reply.startswith("a OK"), reply
    dovecot_login_line(ctx, "2001:db8::28")
    c = connect(ctx.out_pop3, v1("192.0.2.29", dport=110))
    assert c.line().startswith("+OK")
    c.send("USER alice\r\n")
    c.line()
    c.send("PASS wonderland\r\n")
    assert c.line().startswith("+OK"), "POP3 login through PROXY v2 failed"
    c.send("QUIT\r\n")
    c.close()
    assert "pop3-login" in dovecot_login_line(ctx, "192.0.2.29")


def test_resolver_confirmed_name_and_its_failures(ctx):
    cases = (("192.0.2.7", ctx.resolved, "mx.good.test"),
             ("192.0.2.8", ctx.resolved, "[UNAVAILABLE]"),   # A does not lead back
             ("192.0.2.9", ctx.resolved, "[UNAVAILABLE]"),   # not a host name
             ("192.0.2.30", ctx.resolved, "[UNAVAILABLE]"),  # no PTR at all
             ("192.0.2.10", ctx.resolved_fake, "[UNAVAILABLE]"),  # CR LF
             ("192.0.2.11", ctx.resolved_fake, "[TEMPUNAVAIL]"),  # SERVFAIL
             ("192.0.2.12", ctx.resolved_silent, "[TEMPUNAVAIL]"))  # timeout
    for addr, p, name in cases:
        reply, _ = imap_login(p, v1(addr))
        assert reply.startswith("a OK"), reply
        req = last_request(ctx)
        assert req["Client-IP"] == addr
        assert req["Client-Host"] == name, (addr, req.get("Client-Host"))
    dlog = ctx.dns.read_log()
    assert "query[PTR] 7.2.0.192.in-addr.arpa" in dlog
    assert "query[A] mx.good.test" in dlog
    assert "query[A] liar.test" in dlog
    assert re.search(r'event=resolve_failed client=192\.0\.2\.10 '
                     r'name=\[UNAVAILABLE\] resolve_ms=\d+ '
                     r'reason="the PTR name is not a valid host name"',
                     ctx.resolved_fake.read_log())


def test_resolver_only_for_smtp_unless_told(ctx):
    """nginx looks client names up for SMTP only: a resolver in an IMAP or
    POP3 section asks nothing, waits for nothing, and the auth server gets
    no Client-Host (test_resolver_confirmed_name_and_its_failures turns it
    on with resolver_imap_pop3; test_xclient_name_and_port_reach_postfix
    shows SMTP's)."""
    # The PTR names of this test's two clients, as a question carries them
    # (the silent server is shared: another section's lookup, retried late,
    # may still arrive).
    ours = (b"\x0240\x012\x010\x03192\x07in-addr", b"\x0241\x012\x010\x03192\x07in-addr")

    def asked():
        """The questions about this test's clients since the last call."""
        got = []
        ctx.silent_dns.setblocking(False)
        while True:
            try:
                q = ctx.silent_dns.recv(512)
            except BlockingIOError:
                return got
            if any(name in q for name in ours):
                got.append(q)

    asked()
    reply, took = imap_login(ctx.resolver_as_nginx["imap"], v1("192.0.2.40"))
    assert reply.startswith("a OK"), reply
    req = last_request(ctx)
    assert req["Client-IP"] == "192.0.2.40" and "Client-Host" not in req, req
    c = connect(ctx.resolver_as_nginx["pop3"], v1("192.0.2.41", dport=110))
    assert c.line().startswith("+OK")
    c.send("USER alice\r\n")
    assert c.line().startswith("+OK")
    c.send("PASS wonderland\r\n")
    assert c.line().startswith("+OK")
    c.close()
    req = last_request(ctx)
    assert req["Auth-Protocol"] == "pop3" and "Client-Host" not in req, req
    # The resolver never heard a question (it would not have answered: a
    # lookup would have taken resolver_timeout).
    assert asked() == [], "the resolver was asked"
    for p in ctx.resolver_as_nginx.values():
        # The login line follows the client's +OK: wait for it.
        log = p.wait_log("event=login")
        assert "event=resolve" not in log, log
        assert "resolve_ms=" not in log, log
    assert took < 5, took


def test_resolver_lookups_timed_and_counted(ctx):
    """Each lookup's time on its own line and the login's (resolve_ms,
    apart from lookup_ms), and postern-stats' row: how many, how many
    failed, how long."""
    logs = [ctx.resolved, ctx.resolved_fake, ctx.resolved_silent]
    text = "".join(p.read_log() for p in logs)
    names = re.findall(r"event=resolved client=\S+ name=\S+ resolve_ms=(\d+)", text)
    failed = re.findall(r"event=resolve_failed client=\S+ name=\S+ "
                        r"resolve_ms=(\d+) reason=", text)
    assert names and failed, text
    # The silent server's lookup lasted its resolver_timeout (1s).
    assert max(int(ms) for ms in failed) >= 1000, failed
    assert re.search(r"event=login .* lookup_ms=\d+ resolve_ms=\d+ result=ok", text), text
    stats = os.path.join(lib.BUILDDIR, "src", "postern-stats")
    out = subprocess.run([stats, *[p.log for p in logs]], capture_output=True,
                         text=True, timeout=30).stdout
    row = r"^client names +looked up %d, failed %d; ms p50 \d+, p90 \d+, p99 \d+, " \
          r"max (\d+)$" % (len(names) + len(failed), len(failed))
    m = re.search(row, out, re.M)
    assert m and int(m.group(1)) >= 1000, out


def send_mail(p, header, marker):
    c = connect(p, header)
    assert c.line().startswith("220 ")
    for cmd in ("EHLO client.example", "AUTH PLAIN " +
                base64.b64encode(b"\0alice\0wonderland").decode(),
                "MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.org>",
                "DATA"):
        c.send(cmd + "\r\n")
        reply = c.reply()
        assert reply[-1][:1] in "23", (cmd, reply)
    c.send("Subject: %s\r\n\r\nbody\r\n.\r\n" % marker)
    assert c.reply()[-1].startswith("250")
    c.send("QUIT\r\n")
    c.close()


def test_xclient_name_and_port_reach_postfix(ctx):
    if not ctx.postfix:
        raise lib.Skip("Postfix needs root and the postfix package")
    send_mail(ctx.smtp, v1("192.0.2.7", 40031, dport=25),
              "resolved-%d" % time.time_ns())
    # Postfix, told by XCLIENT, names the client, its port included.
    lib.wait_for(lambda: "client=mx.good.test[192.0.2.7]:40031" in
                 ctx.postfix.read_log(), 10, "Postfix's log of the client")


def test_proxy_protocol_out_to_postfix(ctx):
    if not ctx.postfix:
        raise lib.Skip("Postfix needs root and the postfix package")
    send_mail(ctx.smtp_out, v1("192.0.2.35", 40035, dport=25),
              "proxied-%d" % time.time_ns())
    lib.wait_for(lambda: "client=unknown[192.0.2.35]:40035" in
                 ctx.postfix.read_log(), 10, "Postfix's log of the client")


def need(program):
    if not shutil.which(program):
        raise lib.Skip("%s is not installed" % program)


def run_client(args, env=None, stdin=None, ok=(0,)):
    """A client program, run to its end; its output when it succeeded."""
    r = subprocess.run(args, capture_output=True, timeout=180, env=env,
                       stdin=stdin)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    assert r.returncode in ok, (args[0], r.returncode, out[-3000:])
    return out


def private_file(path, text):
    """A client's configuration: it holds a password, so only we read it
    (fetchmail and msmtp insist)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def mailbox_hashes(directory, strip=None):
    """The SHA-256 of each message of a Maildir (its cur and new), or of
    each file of a plain directory, with LF line ends and without header
    lines that begin with strip; sorted."""
    out = []
    maildir = os.path.isdir(os.path.join(directory, "cur"))
    folders = [os.path.join(directory, sub) for sub in ("cur", "new")] \
        if maildir else [directory]
    for folder in folders:
        for name in os.listdir(folder):
            if name.startswith("."):
                continue   # mbsync's state, not mail
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read().replace(b"\r\n", b"\n")
            if strip:
                head, _, body = data.partition(b"\n\n")
                head = b"".join(l for l in (head + b"\n").splitlines(True)
                                if not l.startswith(strip))
                data = head + b"\n" + body
            out.append(lib.sha256(data))
    return sorted(out)


def message_names(maildir):
    return {n.split(",")[0] for sub in ("cur", "new")
            for n in os.listdir(os.path.join(maildir, sub))}


def reader_mail(ctx):
    """The reader's mailbox, filled once: a large message, one in 8 bits
    with lines POP3 must dot-stuff, and Dovecot's welcome."""
    if getattr(ctx, "reader_filled", False):
        return
    big = base64.encodebytes(os.urandom(1_500_000)).replace(b"\n", b"\r\n")
    ctx.dovecot.add_message(READER, b"Subject: big\r\n\r\n" + big)
    ctx.dovecot.add_message(
        READER, b"Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" +
        "Gr\u00fc\u00dfe, se\u00f1or\r\n.\r\n..two dots\r\n.leading\r\n".encode() +
        b"x" * 990 + b"\r\n")
    ctx.reader_filled = True


# The certificate names localhost and postern.test: mbsync checks the
# name it connects to (localhost; postern listens on 127.0.0.1, which
# mbsync tries after ::1), fetchmail the certificate's common name.
MBSYNCRC = """IMAPAccount account
Host localhost
Port {port}
User {user}
Pass {password}
SSLType {ssl}
CertificateFile {ca}

IMAPStore far
Account account

MaildirStore near
Path {dir}/
Inbox {dir}/INBOX

Channel sync
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync Pull
SyncState *
"""


TUID = b"X-TUID: "


def mbsync(ctx, name, port, ssl_type):
    """mbsync, one channel pulling the reader's INBOX into a Maildir of
    its own (kept between runs: the second run is incremental)."""
    base = ctx.tmp("mbsync-" + name)
    os.makedirs(base, exist_ok=True)
    rc = os.path.join(base, "mbsyncrc")
    if not os.path.exists(rc):
        private_file(rc, MBSYNCRC.format(port=port, user=READER, password=READER_PASS,
                                         ssl=ssl_type, ca=ctx.certs.ca, dir=base))
    run_client(["mbsync", "-c", rc, "-a"])
    return os.path.join(base, "INBOX")


def test_mbsync_full_and_incremental_sync(ctx):
    need("mbsync")
    reader_mail(ctx)
    for ssl_type, kind, straight_port in (("IMAPS", "imaps", ctx.dovecot.imaps_port),
                                          ("STARTTLS", "imap", ctx.dovecot.imap_port)):
        p = ctx.client_proxy(kind)
        via = mbsync(ctx, kind + "-postern", p.port, ssl_type)
        straight = mbsync(ctx, kind + "-dovecot", straight_port, ssl_type)
        # mbsync tags what it stores with a random X-TUID line of its own.
        full = mailbox_hashes(via, TUID)
        assert full == mailbox_hashes(straight, TUID), kind
        # And each is Dovecot's message as it is stored.
        assert full == mailbox_hashes(ctx.dovecot.maildir(READER)), kind
        assert 'event=login' in p.read_log() and 'user="%s"' % READER in p.read_log()
        # Incremental: one new message; the others stay as they were.
        before = message_names(via)
        ctx.dovecot.add_message(READER, b"Subject: new for %s\r\n\r\n%s\r\n" %
                                (kind.encode(), os.urandom(12).hex().encode()))
        via = mbsync(ctx, kind + "-postern", p.port, ssl_type)
        straight = mbsync(ctx, kind + "-dovecot", straight_port, ssl_type)
        after = mailbox_hashes(via, TUID)
        assert len(after) == len(full) + 1, (kind, len(after), len(full))
        assert after == mailbox_hashes(straight, TUID), kind
        assert after == mailbox_hashes(ctx.dovecot.maildir(READER)), kind
        assert before < message_names(via), kind


FETCHMAILRC = """set no bouncemail
set invisible
poll 127.0.0.1 port {port} protocol POP3 timeout 60
    user "{user}" there with password "{password}" is "{local}" here
    {tls} sslcertck sslcertfile "{ca}" sslcommonname "postern.test"
    keep fetchall no rewrite
    mda "cat > {dir}/message.$$"
"""


def fetchmail(ctx, name, port, tls):
    """fetchmail, every message of the reader (kept on the server), each
    into a file of its own, unchanged (no Received line of its own)."""
    base = ctx.tmp("fetchmail-" + name)
    out = os.path.join(base, "mail")
    os.makedirs(out)
    rc = private_file(os.path.join(base, "fetchmailrc"), FETCHMAILRC.format(
        port=port, user=READER, password=READER_PASS, ca=ctx.certs.ca, dir=out,
        local=pwd.getpwuid(os.geteuid()).pw_name, tls=tls))
    env = dict(os.environ, FETCHMAILHOME=base, HOME=base)
    run_client(["fetchmail", "--nosyslog", "-f", rc], env=env)
    return out


def test_fetchmail_pop3s_and_stls(ctx):
    need("fetchmail")
    reader_mail(ctx)
    for tls, kind, straight_port in (("ssl", "pop3s", ctx.dovecot.pop3s_port),
                                     ("sslproto TLS1.2+", "pop3", ctx.dovecot.pop3_port)):
        p = ctx.client_proxy(kind)
        via = mailbox_hashes(fetchmail(ctx, kind + "-postern", p.port, tls))
        straight = mailbox_hashes(fetchmail(ctx, kind + "-dovecot", straight_port, tls))
        assert via == straight, kind
        assert via == mailbox_hashes(ctx.dovecot.maildir(READER)), kind
        assert 'user="%s"' % READER in p.read_log()


SUBMITTED = (b"From: Alice <alice@example.org>\r\n"
             b"To: <sink@example.org>\r\n"
             b"Subject: through a client program\r\n"
             b"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
             b"Message-ID: <client-program@example.org>\r\n"
             b"MIME-Version: 1.0\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n"
             b"Content-Transfer-Encoding: 8bit\r\n\r\n" +
             "Gr\u00fc\u00dfe\r\n.\r\n..two dots\r\n.leading\r\n".encode() +
             base64.encodebytes(bytes(range(256)) * 800).replace(b"\n", b"\r\n"))


def submit_file(ctx, marker, last_crlf=True):
    """The message a client sends: SUBMITTED behind a first header that
    finds it again in the sink's Maildir. (swaks ends DATA with CRLF .
    CRLF after whatever it is given: its copy goes without the last CRLF.)"""
    path = ctx.tmp("submit-%s.eml" % marker)
    data = b"X-Postern-Test: " + marker.encode() + b"\r\n" + SUBMITTED
    with open(path, "wb") as f:
        f.write(data if last_crlf else data[:-2])
    return path


def delivered(ctx, marker):
    """The SHA-256 of the message the sink received with marker, from the
    line after the marker's on (the servers' trace lines stand above it)."""
    found = []
    tag = b"X-Postern-Test: " + marker.encode() + b"\n"

    def arrived():
        md = ctx.dovecot.maildir(SINK)
        for sub in ("new", "cur"):
            d = os.path.join(md, sub)
            for name in os.listdir(d) if os.path.isdir(d) else ():
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read().replace(b"\r\n", b"\n")
                if tag in data:
                    found.append(data.split(tag, 1)[1])
                    return True
        return False
    lib.wait_for(arrived, 30, "the message %s in the sink's Maildir" % marker)
    return lib.sha256(found[0])


MSMTPRC = """defaults
tls on
tls_trust_file {ca}
logfile -

account submit
host 127.0.0.1
port {port}
tls_starttls {starttls}
auth plain
user alice
password {password}
from alice@example.org
"""


def msmtp(ctx, port, starttls, marker):
    rc = private_file(ctx.tmp("msmtprc-" + marker), MSMTPRC.format(
        ca=ctx.certs.ca, port=port, starttls="on" if starttls else "off",
        password=lib.USERS["alice"]))
    with open(submit_file(ctx, marker), "rb") as f:
        run_client(["msmtp", "-C", rc, "-a", "submit", SINK], stdin=f)
    return delivered(ctx, marker)


SWAKSRC = """server 127.0.0.1:{port}
{tls}
tls-verify
tls-ca-path {ca}
auth PLAIN
auth-user alice
auth-password {password}
from alice@example.org
to {to}
data @{data}
"""


def swaks(ctx, port, starttls, marker):
    rc = private_file(ctx.tmp("swaksrc-" + marker), SWAKSRC.format(
        port=port, tls="tls" if starttls else "tls-on-connect", ca=ctx.certs.ca,
        password=lib.USERS["alice"], to=SINK,
        data=submit_file(ctx, marker, last_crlf=False)))
    run_client(["swaks", "--config", rc])
    return delivered(ctx, marker)


def submission_cases(ctx, send, name):
    """One client program through postern's submission (STARTTLS) and 465
    and straight to Postfix (STARTTLS): the same message arrives."""
    if not ctx.postfix:
        raise lib.Skip("Postfix needs root and the postfix package")
    stamp = "%s-%d" % (name, time.time_ns())
    straight = send(ctx, ctx.postfix.port, True, stamp + "-postfix")
    for kind, starttls in (("submission", True), ("smtps", False)):
        p = ctx.client_proxy(kind)
        assert send(ctx, p.port, starttls, "%s-%s" % (stamp, kind)) == straight, kind
        assert 'user="alice"' in p.read_log()
    # Unchanged on the way, too: the servers only add lines above it.
    assert straight == lib.sha256(SUBMITTED.replace(b"\r\n", b"\n"))


def test_msmtp_submission_and_465(ctx):
    need("msmtp")
    submission_cases(ctx, msmtp, "msmtp")


def test_swaks_submission_and_465(ctx):
    need("swaks")
    support = run_client(["swaks", "--support"], ok=(0, 1))
    if "=== TLS supported" not in support:
        raise lib.Skip("swaks cannot speak TLS here (it needs Net::SSLeay, "
                       "libnet-ssleay-perl)")
    submission_cases(ctx, swaks, "swaks")


def test_dovecot_penalty_falls_on_the_bad_client_only(ctx):
    """A wrong password from one client delays that client, not the next
    one: Dovecot's auth penalty is per address, and sees real ones."""
    reply, _ = imap_login(ctx.forwarded, v1("192.0.2.41"), password="wrong")
    assert reply.startswith("a NO"), reply
    reply, other = imap_login(ctx.forwarded, v1("192.0.2.42"))
    assert reply.startswith("a OK"), reply
    reply, same = imap_login(ctx.forwarded, v1("192.0.2.41"))
    assert reply.startswith("a OK"), reply
    assert other < 1.0 and same >= 1.5, (other, same)


def test_without_forwarding_dovecot_sees_postern(ctx):
    """The control for the test above; last, since Dovecot then holds a
    penalty against 127.0.0.1."""
    reply, _ = imap_login(ctx.unforwarded, v1("192.0.2.51"), password="wrong")
    assert reply.startswith("a NO"), reply
    reply, took = imap_login(ctx.unforwarded, v1("192.0.2.52"))
    assert reply.startswith("a OK"), reply
    assert "rip=192.0.2.52" not in ctx.dovecot.read_log()
    assert took >= 1.5, took


CTX = None


def setup():
    global CTX
    CTX = Ctx()
    return CTX


if __name__ == "__main__":
    lib.run([test_v1_trusted_sets_client_everywhere,
             test_v2_ipv6_pop3_forwarded_by_xclient,
             test_untrusted_peer_header_is_read_not_believed,
             test_v2_local_keeps_the_peer,
             test_layer4_check_is_logged_at_debug_only,
             test_check_that_logs_out_then_resets_is_not_an_error,
             test_bad_missing_or_slow_header_closes_without_greeting,
             test_tls_right_behind_the_header_crosses_into_postern_tls,
             test_allow_and_deny_in_order_before_any_lookup,
             test_proxy_protocol_out_v1_v2_to_dovecot,
             test_resolver_confirmed_name_and_its_failures,
             test_resolver_only_for_smtp_unless_told,
             test_resolver_lookups_timed_and_counted,
             test_xclient_name_and_port_reach_postfix,
             test_proxy_protocol_out_to_postfix,
             test_mbsync_full_and_incremental_sync,
             test_fetchmail_pop3s_and_stls,
             test_msmtp_submission_and_465,
             test_swaks_submission_and_465,
             test_dovecot_penalty_falls_on_the_bad_client_only,
             test_without_forwarding_dovecot_sees_postern],
            setup=setup)
