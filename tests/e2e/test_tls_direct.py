"""postern-tls started directly by the socket, with no postern exec
first (issue 13: one exec per IMAPS connection, not two). It must do all
the front does: find the socket (systemd or inetd), pick the section,
read a PROXY header and apply access rules, refuse without a word on a
TLS port when the config is unusable; and then serve as before: implicit
TLS for IMAP and POP3, and STARTTLS in-process for a plaintext section."""
import imaplib
import json
import os
import re
import poplib
import socket
import ssl
import subprocess

import lib


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)

    def direct(self, protocol="imap", tls=True, inetd=False, server_conf="",
               listen_flags="", global_conf=""):
        backend = {"imap": self.dovecot.imap_port,
                   "pop3": self.dovecot.pop3_port}[protocol]
        conf = self.certs.conf(**({"ssl": "true"} if tls else
                                  {"starttls": '"on"'})) + server_conf
        # Named as the shipped TLS sockets are: imaps, pop3s.
        return self.track(lib.Postern(
            self.tmp, protocol=protocol, program=lib.TLS, inetd=inetd,
            name=protocol + "s" if tls else protocol,
            server_conf=conf, listen_flags=listen_flags,
            global_conf='timeout = "5s"\n' + global_conf,
            map_lines=["* 127.0.0.1:%d" % backend]))

    def context(self):
        c = ssl.create_default_context(cafile=self.certs.ca)
        c.check_hostname = False
        return c


def setup():
    return Ctx()


def logged_in_at_dovecot(ctx, user, since):
    """Dovecot's own word that user logged in, after byte offset since."""
    lib.wait_for(lambda: "Login: user=<%s>" % user in ctx.dovecot.read_log()[since:],
                 what="Dovecot's login line for " + user)


def test_imaps_login_with_one_exec(ctx):
    p = ctx.direct()
    since = len(ctx.dovecot.read_log())
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("alice", "wonderland")
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) >= 1
    m.logout()
    logged_in_at_dovecot(ctx, "alice", since)
    log = p.wait_log("result=relayed")
    # Every line of the session is postern-tls's, or after login the
    # relay's it exec'd in its place: the front never ran.
    session = [l for l in log.splitlines() if "session=" in l]
    assert session and all(re.search(r" postern-tls(-relay)?\[", l)
                           for l in session), session
    assert "event=connect client=127.0.0.1" in log
    assert "event=tls_handshake result=ok mode=implicit" in log


def test_a_failed_handshake_has_its_close_line(ctx):
    """Issue 22, item 5: garbage for a ClientHello, a connect-and-close and
    a client that rejects the certificate each ended without event=close,
    so postern-stats never counted them. Implicit TLS, started directly
    and by the front, and after STARTTLS."""
    def sessions(p):
        return [l for l in p.read_log().splitlines() if "event=close" in l]

    def attempts(port, starttls=False):
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        if starttls:
            c.recv(4096)
            c.sendall(b"a STARTTLS\r\n")
            c.recv(4096)
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")   # no ClientHello
        c.recv(4096)
        c.close()
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        if starttls:
            c.recv(4096)
            c.sendall(b"a STARTTLS\r\n")
            c.recv(4096)
        c.close()                                   # connect and close
        strict = ssl.create_default_context()       # trusts no test CA
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        if starttls:
            raw.recv(4096)
            raw.sendall(b"a STARTTLS\r\n")
            raw.recv(4096)
        try:
            strict.wrap_socket(raw, server_hostname="postern.test")
            assert False, "the client took a certificate it cannot trust"
        except ssl.SSLCertVerificationError:
            pass
        raw.close()

    for p, starttls in ((ctx.direct(), False),
                        (ctx.track(lib.Postern(
                            ctx.tmp, server_conf=ctx.certs.conf(ssl="true"),
                            global_conf='timeout = "5s"\n',
                            map_lines=["* 127.0.0.1:1"])), False),
                        (ctx.direct(tls=False), True)):
        before = len(sessions(p))
        attempts(p.port, starttls)
        lib.wait_for(lambda: len(sessions(p)) >= before + 3,
                     what="three close lines")
        new = sessions(p)[before:]
        assert len(new) == 3, new
        assert all('result=error reason="TLS handshake failed: ' in l
                   for l in new), new
        # postern-stats counts each one (issue 23 item 11).
        out = subprocess.run([os.path.join(lib.BUILDDIR, "src", "postern-stats"), "--json",
                              p.log], capture_output=True, text=True, timeout=30).stdout
        failed = p.read_log().count("event=tls_handshake result=fail")
        assert failed >= 3 and \
            json.loads(out)["refusals"]["tls_handshake_failed"] == failed, out


def test_pop3s_login(ctx):
    p = ctx.direct(protocol="pop3")
    since = len(ctx.dovecot.read_log())
    m = poplib.POP3_SSL("127.0.0.1", p.port, context=ctx.context())
    m.user("alice")
    m.pass_("wonderland")
    count, _ = m.stat()
    assert count >= 1
    m.quit()
    logged_in_at_dovecot(ctx, "alice", since)


def test_under_inetd(ctx):
    p = ctx.direct(inetd=True)
    since = len(ctx.dovecot.read_log())
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("bob@example.org", lib.USERS["bob@example.org"])
    m.logout()
    logged_in_at_dovecot(ctx, "bob@example.org", since)


def test_starttls_in_process_for_a_plaintext_section(ctx):
    p = ctx.direct(tls=False)
    m = imaplib.IMAP4("127.0.0.1", p.port)
    m.starttls(ssl_context=ctx.context())
    m.login("alice", "wonderland")
    m.logout()
    log = p.wait_log("result=relayed")
    assert "event=tls_handshake result=ok mode=starttls" in log


def test_proxy_header_gives_the_real_client(ctx):
    p = ctx.direct(listen_flags=" proxy_protocol",
                   server_conf='set_real_ip_from = {"127.0.0.1"}\n')
    s = socket.create_connection(("127.0.0.1", p.port))
    s.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 993\r\n")
    t = ctx.context().wrap_socket(s, server_hostname="localhost")
    f = t.makefile("rb")
    assert f.readline().startswith(b"* OK")
    t.sendall(b"a LOGIN alice wonderland\r\n")
    while not f.readline().startswith(b"a OK"):
        pass
    t.sendall(b"b LOGOUT\r\n")
    while f.readline():
        pass
    f.close()
    t.close()
    log = p.wait_log("result=relayed")
    assert "event=connect client=198.51.100.7:40000 peer=127.0.0.1" in log


def test_access_rules_refuse_before_the_handshake(ctx):
    p = ctx.direct(server_conf='deny("all")\n')
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.settimeout(5)
    assert s.recv(100) == b"", "nothing is said in clear on a TLS port"
    s.close()
    p.wait_log("event=access_denied client=127.0.0.1")


def test_unusable_config_closes_and_says_why(ctx):
    """Even on a plaintext socket: postern-tls cannot know without its
    config that the socket is not TLS, so it says nothing in clear."""
    p = ctx.direct(tls=False)
    # What it reads: the image, damaged.
    with open(p.active + ".image", "r+b") as f:
        f.write(b"this is not an image")
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.settimeout(5)
    assert s.recv(100) == b""
    s.close()
    # Before the config names a log file, errors go to the spawner's
    # stderr and the log: systemd-socket-activate's stderr here.
    path = ctx.tmp("activate-%d.err" % p.port)
    lib.wait_for(lambda: "postern-tls: configuration:" in open(path).read(),
                 what="the start-up error")


def test_session_runs_boxed(ctx):
    p = ctx.direct()
    t = ctx.context().wrap_socket(socket.create_connection(("127.0.0.1", p.port)),
                                  server_hostname="localhost")
    f = t.makefile("rb")
    assert f.readline().startswith(b"* OK")
    pids = lib.pids_of("postern-tls")
    assert pids and any(lib.boxed(pid) for pid in pids), pids
    t.sendall(b"a LOGOUT\r\n")
    f.close()
    t.close()


if __name__ == "__main__":
    lib.run([test_imaps_login_with_one_exec, test_a_failed_handshake_has_its_close_line,
             test_pop3s_login, test_under_inetd,
             test_starttls_in_process_for_a_plaintext_section,
             test_proxy_header_gives_the_real_client,
             test_access_rules_refuse_before_the_handshake,
             test_unusable_config_closes_and_says_why,
             test_session_runs_boxed], setup=setup)
