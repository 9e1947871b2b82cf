"""TLS through postern-tls: implicit TLS and STARTTLS/STLS for IMAP, POP3
and SMTP with real clients (python ssl, curl, gnutls-cli, openssl
s_client, swaks), starttls only, the STARTTLS injection, ALPN, client
certificates and the Auth-SSL headers, ticket resumption across
processes, a 10 MB message, and clients that give up mid-handshake."""
import base64
import imaplib
import os
import poplib
import smtplib
import socket
import ssl
import shutil
import subprocess
import time

import lib


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        body = base64.encodebytes(os.urandom(7_700_000)).replace(b"\n", b"\r\n")
        self.big = b"Subject: big\r\n\r\n" + body
        self.dovecot.add_message("bob@example.org", self.big, name="2000000000.big.test")
        self.ticket_key = self.tmp("ticket.key")
        with open(self.ticket_key, "wb") as f:
            f.write(os.urandom(80))
        self.postfix = self.track(lib.Postfix(self.tmp, self.dovecot, self.certs))
        self.auth = self.track(lib.AuthServer(
            self.tmp, self.dovecot.imap_port,
            backends={"pop3": self.dovecot.pop3_port, "smtp": self.postfix.port}))
        self.started = {}

    def proxy(self, protocol="imap", tls="implicit", auth=False, **ssl):
        """A postern for protocol; tls is implicit, on or only."""
        key = (protocol, tls, auth, tuple(sorted(ssl.items())))
        if key in self.started:
            return self.started[key]
        backend = {"imap": self.dovecot.imap_port, "pop3": self.dovecot.pop3_port,
                   "smtp": self.postfix.port}[protocol]
        extra = dict(ssl)
        if tls == "implicit":
            extra.setdefault("ssl", "true")
        else:
            extra["starttls"] = '"%s"' % tls
        extra.setdefault("ssl_session_ticket_key", '{"%s"}' % self.ticket_key)
        glob = 'timeout = "5s"\n'
        if auth:
            glob += 'auth_http = "%s"\n' % self.auth.url
        if protocol == "smtp" and not auth:
            glob += "proxy_smtp_auth = true\n"
        p = self.track(lib.Postern(self.tmp, protocol=protocol, global_conf=glob,
                                   server_conf=self.certs.conf(**extra),
                                   map_lines=["* 127.0.0.1:%d" % backend]))
        self.started[key] = p
        return p

    def tls_connect(self, p, cert=None, **wrap):
        """A TLS socket to postern p, with a client certificate if given."""
        return self.context(cert=cert).wrap_socket(
            socket.create_connection(("127.0.0.1", p.port)),
            server_hostname="localhost", **wrap)

    def context(self, cert=None, alpn=None):
        c = ssl.create_default_context(cafile=self.certs.ca)
        c.check_hostname = False
        if cert:
            c.load_cert_chain(*cert)
        if alpn:
            c.set_alpn_protocols(alpn)
        return c


def setup():
    return Ctx()


def test_imap_implicit_and_starttls(ctx):
    m = imaplib.IMAP4_SSL("127.0.0.1", ctx.proxy().port, ssl_context=ctx.context())
    assert "STARTTLS" not in m.capabilities
    m.login("alice", "wonderland")
    m.select("INBOX")
    m.logout()
    m = imaplib.IMAP4("127.0.0.1", ctx.proxy(tls="on").port)
    assert "STARTTLS" in m.capabilities and "AUTH=PLAIN" in m.capabilities
    m.starttls(ssl_context=ctx.context())
    m.login("alice", "wonderland")
    m.select("INBOX")
    m.logout()


def test_pop3_implicit_and_stls(ctx):
    m = poplib.POP3_SSL("127.0.0.1", ctx.proxy("pop3").port, context=ctx.context())
    m.user("alice")
    m.pass_("wonderland")
    assert m.stat()[0] == 1
    m.quit()
    m = poplib.POP3("127.0.0.1", ctx.proxy("pop3", "on").port)
    assert "STLS" in m.capa()
    m.stls(context=ctx.context())
    assert "STLS" not in m.capa()
    m.user("alice")
    m.pass_("wonderland")
    assert m.stat()[0] == 1
    m.quit()


def mail(marker):
    return ("From: alice@example.org\r\nTo: bob@example.org\r\nSubject: %s\r\n\r\n"
            "over TLS\r\n" % marker).encode()


def delivered(ctx, marker):
    def seen():
        m = poplib.POP3("127.0.0.1", ctx.dovecot.pop3_port)
        m.user("bob@example.org")
        m.pass_(lib.USERS["bob@example.org"])
        found = any(marker.encode() in b"\n".join(m.top(i + 1, 0)[1])
                    for i in range(m.stat()[0]))
        m.quit()
        return found
    lib.wait_for(seen, 15, "delivery of " + marker)


def test_smtp_implicit_and_starttls(ctx):
    marker = "smtps-%d" % time.time_ns()
    s = smtplib.SMTP_SSL("127.0.0.1", ctx.proxy("smtp", auth=True).port,
                         context=ctx.context(), timeout=20)
    s.ehlo("client.example")
    assert not s.has_extn("starttls")
    s.login("alice", "wonderland")
    s.sendmail("alice@example.org", ["bob@example.org"], mail(marker))
    s.quit()
    delivered(ctx, marker)
    marker = "starttls-%d" % time.time_ns()
    s = smtplib.SMTP("127.0.0.1", ctx.proxy("smtp", "on", auth=True).port, timeout=20)
    s.ehlo("client.example")
    assert s.has_extn("starttls")
    s.starttls(context=ctx.context())
    s.ehlo("client.example")
    assert not s.has_extn("starttls")
    s.login("alice", "wonderland")
    s.sendmail("alice@example.org", ["bob@example.org"], mail(marker))
    s.quit()
    delivered(ctx, marker)
    req = ctx.auth.requests()[-1]
    assert req["Auth-SSL"] == "on" and req["Auth-SSL-Protocol"].startswith("TLSv1."), req
    assert req["Auth-SSL-Cipher"].startswith("TLS_"), req


def curl(url, *args):
    return subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert",
                           CTX.certs.ca, *args, url], capture_output=True, text=True)


def test_curl_over_tls(ctx):
    r = curl("imaps://alice:wonderland@localhost:%d/" % ctx.proxy().port)
    assert "INBOX" in r.stdout, r
    r = curl("imap://alice:wonderland@localhost:%d/" % ctx.proxy(tls="on").port,
             "--ssl-reqd")
    assert "INBOX" in r.stdout, r
    r = curl("pop3s://alice:wonderland@localhost:%d/1" % ctx.proxy("pop3").port)
    assert "Hello alice." in r.stdout, r
    r = curl("pop3://alice:wonderland@localhost:%d/1" % ctx.proxy("pop3", "on").port,
             "--ssl-reqd")
    assert "Hello alice." in r.stdout, r
    path = ctx.tmp("curl-mail.eml")
    for url, extra in (("smtps://localhost:%d/client.example" % ctx.proxy("smtp").port, []),
                       ("smtp://localhost:%d/client.example" % ctx.proxy("smtp", "on").port,
                        ["--ssl-reqd"])):
        marker = "curl-tls-%d" % time.time_ns()
        with open(path, "wb") as f:
            f.write(mail(marker))
        r = curl(url, "--user", "alice:wonderland", "--mail-from", "alice@example.org",
                 "--mail-rcpt", "bob@example.org", "-T", path, *extra)
        assert r.returncode == 0, r
        delivered(ctx, marker)


def test_gnutls_cli_and_openssl_starttls(ctx):
    """Other TLS stacks: gnutls-cli and openssl s_client, each protocol."""
    for proto, tls_name, script, want in (
            ("imap", "imap", "a CAPABILITY\r\na LOGOUT\r\n", "a OK"),
            ("pop3", "pop3", "CAPA\r\nQUIT\r\n", "SASL"),
            ("smtp", "smtp", "EHLO x\r\nQUIT\r\n", "250")):
        p = ctx.proxy(proto, "on")
        r = subprocess.run(["gnutls-cli", "--x509cafile", ctx.certs.ca,
                            "--starttls-proto", tls_name, "--port", str(p.port),
                            "localhost"], input=script, capture_output=True,
                           text=True, timeout=20)
        assert want in r.stdout, (proto, r.stdout[-800:], r.stderr[-800:])
        r = subprocess.run(["openssl", "s_client", "-quiet", "-CAfile", ctx.certs.ca,
                            "-starttls", tls_name, "-connect", "127.0.0.1:%d" % p.port],
                           input=script, capture_output=True, text=True, timeout=20)
        assert want in r.stdout, (proto, r.stdout[-800:], r.stderr[-800:])


def test_starttls_only_refuses_plaintext_login(ctx):
    c = lib.greet(ctx.proxy(tls="only").port)
    c.send("a CAPABILITY\r\n")
    caps = c.until_tag("a")[0]
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps and "AUTH=" not in caps, caps
    c.send("b LOGIN alice wonderland\r\n")
    assert c.line() == "b BAD invalid command"   # as nginx; LOGINDISABLED said so
    c.close()
    c = lib.Client(ctx.proxy("pop3", "only").port)
    c.line()
    c.send("CAPA\r\n")
    capa = list(iter(c.line, "."))
    assert "STLS" in capa and "USER" not in capa and not any(
        x.startswith("SASL") for x in capa), capa
    c.send("USER alice\r\n")
    assert c.line() == "-ERR invalid command"
    c.close()
    c = lib.Client(ctx.proxy("smtp", "only").port)
    c.line()
    c.send("EHLO client.example\r\n")
    ehlo = c.reply()
    assert "250 STARTTLS" in ehlo and not any("AUTH" in x for x in ehlo), ehlo
    c.send("AUTH PLAIN %s\r\n" % base64.b64encode(b"\0alice\0wonderland").decode())
    assert c.line() == "500 5.5.1 Invalid command"
    c.close()


def upgrade(ctx, c):
    """A raw lib.Client's socket in TLS after its STARTTLS reply; what it
    had read in clear is gone with the old client."""
    return lib.Client.over(ctx.context().wrap_socket(c.sock,
                                                     server_hostname="localhost"))


def test_no_command_injection_across_starttls(ctx):
    """What a client sends behind STARTTLS in clear is dropped, never run
    inside TLS (CVE-2011-0411, CVE-2014-3556)."""
    p = ctx.proxy(tls="on")
    c = lib.greet(p.port)
    c.send("a STARTTLS\r\nb LOGIN alice wonderland\r\n")
    assert c.line() == "a OK completed"
    c = upgrade(ctx, c)
    c.send("c NOOP\r\n")
    assert c.line() == "c OK completed"   # no "b" reply came before it
    c.send("d CAPABILITY\r\n")
    assert "STARTTLS" not in c.until_tag("d")[0]
    c.close()
    assert "event=starttls_injection dropped=" in p.wait_log("starttls_injection")

    c = lib.Client(ctx.proxy("pop3", "on").port)
    c.line()
    c.send("STLS\r\nUSER alice\r\n")
    assert c.line() == "+OK"
    c = upgrade(ctx, c)
    c.send("PASS wonderland\r\n")
    assert c.line() == "-ERR invalid command"   # the USER never counted
    c.close()

    c = lib.Client(ctx.proxy("smtp", "on", auth=True).port)
    c.line()
    c.send("EHLO client.example\r\nSTARTTLS\r\nAUTH PLAIN %s\r\n"
           % base64.b64encode(b"\0alice\0wonderland").decode())
    c.reply()
    assert c.line() == "220 2.0.0 Start TLS"
    c = upgrade(ctx, c)
    c.send("MAIL FROM:<alice@example.org>\r\n")
    assert c.line() == "530 5.7.1 Authentication required"
    c.close()


def test_alpn_must_match_the_protocol(ctx):
    p = ctx.proxy()
    with socket.create_connection(("127.0.0.1", p.port)) as raw:
        s = ctx.context(alpn=["imap"]).wrap_socket(raw, server_hostname="localhost")
        assert s.selected_alpn_protocol() == "imap"
        s.close()
    for wrong in (["pop3"], ["http/1.1"]):
        raw = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        try:
            s = ctx.context(alpn=wrong).wrap_socket(raw, server_hostname="localhost")
            s.recv(100)
            raise AssertionError("ALPN %s was accepted" % wrong)
        except (ssl.SSLError, ConnectionResetError, OSError):
            pass
        finally:
            raw.close()
    assert "event=tls_handshake result=fail" in p.read_log()


def test_client_certificates(ctx):
    ca = '"%s"' % ctx.certs.ca
    p = ctx.proxy(auth=True, ssl_verify_client="on", ssl_client_certificate=ca,
                  auth_http_pass_client_cert="true")
    # No certificate: nginx's words instead of a greeting.
    with ctx.tls_connect(p) as s:
        assert s.recv(200) == b"* BYE No required SSL certificate\r\n"
    # A certificate from a CA nobody trusts.
    with ctx.tls_connect(p, cert=(ctx.certs.rogue, ctx.certs.rogue_key)) as s:
        assert s.recv(200) == b"* BYE SSL certificate error\r\n"
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port,
                          ssl_context=ctx.context(cert=(ctx.certs.client, ctx.certs.client_key)))
    m.login("alice", "wonderland")
    m.logout()
    req = ctx.auth.requests()[-1]
    assert req["Auth-SSL"] == "on"
    assert req["Auth-SSL-Verify"] == "SUCCESS", req
    assert "CN=alice" in req["Auth-SSL-Subject"], req
    assert req["Auth-SSL-Issuer"] == "CN=postern test CA", req   # as nginx: not encoded
    assert len(req["Auth-SSL-Fingerprint"]) == 40
    assert req["Auth-SSL-Serial"]
    assert req["Auth-SSL-Cert"].startswith("-----BEGIN%20CERTIFICATE-----%0A"), req
    # optional: no certificate is fine, and the auth server hears NONE.
    p = ctx.proxy(auth=True, ssl_verify_client="optional", ssl_client_certificate=ca)
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("alice", "wonderland")
    m.logout()
    assert ctx.auth.requests()[-1]["Auth-SSL-Verify"] == "NONE"
    # optional_no_ca: a certificate nobody vouches for is let through, and
    # the auth server is told why it failed.
    p = ctx.proxy(auth=True, ssl_verify_client="optional_no_ca")
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context(
        cert=(ctx.certs.rogue, ctx.certs.rogue_key)))
    m.login("alice", "wonderland")
    m.logout()
    req = ctx.auth.requests()[-1]
    assert req["Auth-SSL-Verify"].startswith("FAILED:"), req
    assert "CN=mallory" in req["Auth-SSL-Subject"]


def test_certificate_subject_cannot_forge_log_lines(ctx):
    """Issue 9, hole 6: any self-signed certificate reaches the log when
    ssl_verify_client is on; a LF or a quote in its subject must stay
    inside its field."""
    key, cert = ctx.tmp("evil.key"), ctx.tmp("evil.pem")
    subject = '/CN=evil\nsession=0 event=login result=ok user="root"'
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", subject],
                   check=True, capture_output=True)
    p = ctx.proxy(ssl_verify_client="on",
                  ssl_client_certificate='"%s"' % ctx.certs.ca)
    with ctx.tls_connect(p, cert=(cert, key)) as s:
        assert s.recv(200) == b"* BYE SSL certificate error\r\n"
    log = p.wait_log("event=client_cert_refused")
    line = [l for l in log.splitlines() if "client_cert_refused" in l][0]
    # The DN as nginx's OpenSSL prints it (LF as \0A, the quote as \"),
    # each backslash and quote escaped again by the log.
    assert 'subject="CN=evil\\x5c0Asession=0 event=login result=ok ' \
        'user=\\x5c\\x22root\\x5c\\x22"' in line, line
    assert not [l for l in log.splitlines()
                if "session=0 " in l and "client_cert_refused" not in l]


def test_a_name_too_long_to_print_is_left_out_not_cut(ctx):
    """A subject whose text does not fit reached the auth server cut, in
    GnuTLS's words: another name than the certificate's. It is left out
    (as nginx leaves out an empty one), and the log says why."""
    key, cert = ctx.tmp("long.key"), ctx.tmp("long.pem")
    subject = "".join("/OU=%02d%s" % (i, "x" * 58) for i in range(10)) + "/CN=alice"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", subject],
                   check=True, capture_output=True)
    p = ctx.proxy(auth=True, ssl_verify_client="optional_no_ca")
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port,
                          ssl_context=ctx.context(cert=(cert, key)))
    m.login("alice", "wonderland")
    m.logout()
    req = ctx.auth.requests()[-1]
    assert req["Auth-SSL-Verify"].startswith("FAILED:"), req
    assert "Auth-SSL-Subject" not in req and "Auth-SSL-Issuer" not in req, req
    assert req["Auth-SSL-Fingerprint"], req
    p.wait_log("event=client_cert_name name=subject")


def test_no_password_left_in_the_relaying_process(ctx):
    """Issue 9, hole 7: postern-tls relays in its own process, so every copy
    of the password (line buffer, parser, SASL, GnuTLS's records) must be
    gone before the relay runs. Read its memory while it relays."""
    password = lib.USERS["alice"].encode()
    plain = base64.b64encode(b"\0alice\0" + password)
    needles = {password, plain}

    def relaying_pid(p, login):
        log = p.wait_log(login)
        return lib.session_pid(log, "postern-tls", "event=login")

    # A section of their own, so that the log holds only these sessions.
    fresh = {"ssl_session_timeout": '"7m"'}
    p = ctx.proxy(**fresh)
    for how in ("login", "authenticate"):
        with ctx.tls_connect(p) as s:
            c = lib.Client.over(s)
            assert c.line().startswith("* OK")
            if how == "login":
                c.send("a LOGIN alice %s\r\n" % password.decode())
            else:
                c.send(b"a AUTHENTICATE PLAIN " + plain + b"\r\n")
            assert c.until_tag("a")[-1].startswith("a OK")
            c.send("b NOOP\r\n")
            assert c.until_tag("b")[-1].startswith("b OK")
            pid = relaying_pid(p, "event=login")
            assert lib.memory_holds(pid, needles) == set(), how
            assert lib.boxed(pid), "postern-tls relays unboxed"
            c.send("z LOGOUT\r\n")
            c.until_tag("z")
        p.wait_log("result=relayed")
    p = ctx.proxy("pop3", **fresh)
    with ctx.tls_connect(p) as s:
        c = lib.Client.over(s)
        assert c.line().startswith("+OK")
        c.send("USER alice\r\nPASS %s\r\n" % password.decode())
        assert c.line() == "+OK" and c.line().startswith("+OK")
        c.send("STAT\r\n")
        assert c.line().startswith("+OK")
        assert lib.memory_holds(relaying_pid(p, "event=login"), needles) == set()
    p = ctx.proxy("smtp", **fresh)
    with ctx.tls_connect(p) as s:
        c = lib.Client.over(s)
        assert c.line().startswith("220")
        c.send("EHLO client.test\r\n")
        assert c.reply()[-1].startswith("250 ")
        c.send(b"AUTH PLAIN " + plain + b"\r\n")
        assert c.line().startswith("235")
        c.send("NOOP\r\n")
        assert c.line().startswith("250")
        assert lib.memory_holds(relaying_pid(p, "event=login"), needles) == set()


def test_trusted_certificate_and_verify_depth(ctx):
    """ssl_trusted_certificate verifies without naming the CA to clients;
    ssl_verify_depth bounds the intermediates; POP3 and SMTP refuse in
    their own words."""
    ca = '"%s"' % ctx.certs.ca
    far = (ctx.certs.far_client, ctx.certs.far_client_key)

    def first_bytes(p, cert):
        with ctx.tls_connect(p, cert=cert) as s:
            return s.recv(200)
    shallow = ctx.proxy(ssl_verify_client="on", ssl_trusted_certificate=ca)
    assert first_bytes(shallow, far) == b"* BYE SSL certificate error\r\n"
    deep = ctx.proxy(ssl_verify_client="on", ssl_trusted_certificate=ca,
                     ssl_verify_depth="2")
    assert first_bytes(deep, far).startswith(b"* OK [CAPABILITY")
    assert first_bytes(ctx.proxy("pop3", ssl_verify_client="on",
                                 ssl_trusted_certificate=ca), None) == \
        b"-ERR No required SSL certificate\r\n"
    assert first_bytes(ctx.proxy("smtp", ssl_verify_client="on",
                                 ssl_trusted_certificate=ca), None) == \
        b"421 4.7.1 No required SSL certificate\r\n"


def test_sasl_external_in_the_three_protocols(ctx):
    ca = '"%s"' % ctx.certs.ca
    cert = (ctx.certs.client, ctx.certs.client_key)
    kw = dict(ssl_verify_client="on", ssl_client_certificate=ca)
    p = ctx.proxy(auth=True, imap_auth="{plain, external}", **kw)
    with ctx.tls_connect(p, cert=cert) as s:
        c = lib.Client.over(s)
        assert "AUTH=EXTERNAL" in c.line()
        c.send("a AUTHENTICATE EXTERNAL =\r\n")
        assert c.until_tag("a")[-1].startswith("a OK"), "imap"
    req = ctx.auth.requests()[-1]
    assert req["Auth-Method"] == "external" and req["Auth-User"] == ""
    assert req["Auth-SSL-Verify"] == "SUCCESS"
    p = ctx.proxy("pop3", auth=True, pop3_auth="{plain, external}", **kw)
    with ctx.tls_connect(p, cert=cert) as s:
        c = lib.Client.over(s)
        c.line()
        c.send("AUTH EXTERNAL\r\n")
        assert c.line() == "+ VXNlcm5hbWU6"
        c.send(base64.b64encode(b"alice") + b"\r\n")
        assert c.line().startswith("+OK"), "pop3"
        c.send("STAT\r\n")
        assert c.line().startswith("+OK 1 ")
    p = ctx.proxy("smtp", auth=True, smtp_auth="{plain, external}", **kw)
    with ctx.tls_connect(p, cert=cert) as s:
        c = lib.Client.over(s)
        c.line()
        c.send("EHLO client.example\r\n")
        ehlo = c.reply()
        assert "250 AUTH PLAIN EXTERNAL" in ehlo, ehlo
        c.send("AUTH EXTERNAL =\r\n")
        assert c.line() == "235 2.0.0 OK"
    # Without TLS there is nothing to be external about.
    p = ctx.proxy(tls="on", auth=True, imap_auth="{plain, external}")
    c = lib.greet(p.port)
    c.send("a AUTHENTICATE EXTERNAL =\r\n")
    assert c.line() == "a BAD invalid command"
    c.close()


def test_session_resumes_in_another_process(ctx):
    p = ctx.proxy()
    context = ctx.context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2   # the ticket comes at once
    # Same name as the second connection: clients offer a session only
    # to the name it came from.
    first = imaplib.IMAP4_SSL("localhost", p.port, ssl_context=context)
    session = first.sock.session
    first.logout()
    raw = socket.create_connection(("127.0.0.1", p.port))
    s = context.wrap_socket(raw, server_hostname="localhost", session=session)
    assert s.session_reused, "the ticket was not accepted by a new process"
    s.close()
    # TLS 1.3 too: the ticket arrives after the handshake, with the greeting.
    context = ctx.context()
    first = imaplib.IMAP4_SSL("localhost", p.port, ssl_context=context)
    first.noop()
    session = first.sock.session
    first.logout()
    raw = socket.create_connection(("127.0.0.1", p.port))
    s = context.wrap_socket(raw, server_hostname="localhost", session=session)
    assert s.recv(100).startswith(b"* OK")
    assert s.session_reused
    s.close()
    assert "resumed=yes" in p.wait_log("resumed=yes")


def ticket_from(ctx, p, version):
    """A session (with its ticket) from postern p."""
    context = ctx.context()
    context.maximum_version = version
    m = imaplib.IMAP4_SSL("localhost", p.port, ssl_context=context)
    m.noop()
    session = m.sock.session
    m.logout()
    return context, session


def resumes(p, context, session):
    raw = socket.create_connection(("127.0.0.1", p.port))
    s = context.wrap_socket(raw, server_hostname="localhost", session=session)
    s.recv(100)
    reused = s.session_reused
    s.close()
    return reused


def test_ticket_key_rotation_first_encrypts_all_decrypt(ctx):
    keys = []
    for name in ("new", "old"):
        keys.append(ctx.tmp("ticket-%s.key" % name))
        with open(keys[-1], "wb") as f:
            f.write(os.urandom(48))
    new, old = keys

    def proxy(*files):
        return ctx.track(lib.Postern(
            ctx.tmp, map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port],
            server_conf=ctx.certs.conf(ssl="true", ssl_session_ticket_key="{%s}" %
                                       ", ".join('"%s"' % f for f in files))))
    before, rotated, only_new = proxy(old), proxy(new, old), proxy(new)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context, session = ticket_from(ctx, before, version)
        assert resumes(rotated, context, session), ("old ticket", version)
        assert not resumes(only_new, context, session), ("dropped key", version)
        # New tickets come from the first key.
        context, session = ticket_from(ctx, rotated, version)
        assert resumes(only_new, context, session), ("first key", version)
        # Also in a session resumed with the old key: whatever ticket the
        # client holds after it is the one it came with or one the first
        # key opens, so the old key can retire.
        context, session = ticket_from(ctx, before, version)
        raw = socket.create_connection(("127.0.0.1", rotated.port))
        s = context.wrap_socket(raw, server_hostname="localhost", session=session)
        assert s.recv(100).startswith(b"* OK")   # after the tickets, if any
        assert s.session_reused, ("old ticket", version)
        held = s.session
        s.close()
        assert held.id == session.id or resumes(only_new, context, held), \
            ("ticket under the old key", version)


def test_10mb_byte_exact_over_tls(ctx):
    m = imaplib.IMAP4_SSL("127.0.0.1", ctx.proxy().port, ssl_context=ctx.context())
    m.login("bob@example.org", lib.USERS["bob@example.org"])
    m.select("INBOX")
    num = m.search(None, "SUBJECT", "big")[1][0].split()[0]
    got = m.fetch(num, "(BODY.PEEK[])")[1][0][1]
    m.logout()
    assert len(got) == len(ctx.big) > 10_000_000
    assert lib.sha256(got) == lib.sha256(ctx.big)


def test_clients_that_give_up_mid_handshake(ctx):
    p = ctx.proxy()
    # Half a ClientHello, then gone.
    with socket.create_connection(("127.0.0.1", p.port)) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    # Not TLS at all.
    with socket.create_connection(("127.0.0.1", p.port)) as s:
        s.sendall(b"a LOGIN alice wonderland\r\n")
        s.settimeout(10)
        try:
            assert s.recv(100) in (b"",) or True
        except ConnectionResetError:
            pass
    # Says nothing: the handshake times out with the session's timeout.
    s = socket.create_connection(("127.0.0.1", p.port))
    started = time.time()
    s.settimeout(15)
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass
    assert 4 <= time.time() - started < 12
    s.close()
    log = p.wait_log("handshake: timed out")
    assert log.count("event=tls_handshake result=fail") >= 3, log[-2000:]
    # And the next client is served as ever.
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("alice", "wonderland")
    m.logout()


def test_key_from_systemd_credentials_directory(ctx):
    creds = ctx.tmp("credentials")
    os.makedirs(creds, exist_ok=True)
    with open(ctx.certs.server_key, "rb") as f, open(os.path.join(creds, "tls.key"), "wb") as g:
        g.write(f.read())
    conf = ('ssl = true\nssl_certificate = {"%s"}\n'
            'ssl_certificate_key = {"${CREDENTIALS_DIRECTORY}/tls.key"}\n' % ctx.certs.server)
    p = ctx.track(lib.Postern(ctx.tmp, server_conf=conf, env={"CREDENTIALS_DIRECTORY": creds},
                              map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port]))
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("alice", "wonderland")
    m.logout()


def to_backend(ctx, protocol, port, mode, glob="", **server):
    """A postern with TLS towards the backend at port."""
    conf = ('proxy_ssl = "%s"\nproxy_ssl_verify = true\n'
            'proxy_ssl_trusted_certificate = "%s"\ntimeout = "5s"\n%s'
            % (mode, ctx.certs.ca, glob))
    server_conf = ctx.certs.conf(**server) if server else ""
    return ctx.track(lib.Postern(ctx.tmp, protocol=protocol, global_conf=conf,
                                 server_conf=server_conf,
                                 map_lines=["* 127.0.0.1:%d" % port]))


def dovecot_log(ctx):
    with open(ctx.tmp("dovecot", "dovecot.log"), errors="replace") as f:
        return f.read()


def test_proxy_ssl_to_dovecot(ctx):
    """A plaintext client, TLS from postern to Dovecot: implicit to the
    IMAPS port, STLS on the POP3 port; and TLS on both sides."""
    p = to_backend(ctx, "imap", ctx.dovecot.imaps_port, "on")
    m = imaplib.IMAP4("127.0.0.1", p.port)
    m.login("alice", "wonderland")
    m.select("INBOX")
    m.logout()
    assert "event=backend_tls mode=on name=127.0.0.1 protocol=TLSv1.3" in \
        p.wait_log("event=backend_tls")
    p = to_backend(ctx, "pop3", ctx.dovecot.pop3_port, "starttls")
    m = poplib.POP3("127.0.0.1", p.port)
    m.user("alice")
    m.pass_("wonderland")
    assert m.stat()[0] == 1
    m.quit()
    assert "event=backend_tls mode=starttls" in p.wait_log("event=backend_tls")
    p = to_backend(ctx, "imap", ctx.dovecot.imap_port, "starttls", ssl="true")
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("bob@example.org", lib.USERS["bob@example.org"])
    m.select("INBOX")
    num = m.search(None, "SUBJECT", "big")[1][0].split()[0]
    got = m.fetch(num, "(BODY.PEEK[])")[1][0][1]
    m.logout()
    assert lib.sha256(got) == lib.sha256(ctx.big)
    lib.wait_for(lambda: dovecot_log(ctx).count("TLS") >= 3, 5, "Dovecot's TLS logins")
    logins = [l for l in dovecot_log(ctx).splitlines() if "Login: user=" in l]
    assert any("user=<alice>" in l and "TLS" in l for l in logins), logins[-5:]


def test_proxy_ssl_starttls_to_postfix(ctx):
    marker = "backend-tls-%d" % time.time_ns()
    p = to_backend(ctx, "smtp", ctx.postfix.port, "starttls",
                   glob='auth_http = "%s"\n' % ctx.auth.url)
    s = smtplib.SMTP("127.0.0.1", p.port, timeout=20)
    s.ehlo("client.example")
    s.login("alice", "wonderland")
    s.sendmail("alice@example.org", ["bob@example.org"], mail(marker))
    s.quit()
    delivered(ctx, marker)
    m = poplib.POP3("127.0.0.1", ctx.dovecot.pop3_port)
    m.user("bob@example.org")
    m.pass_(lib.USERS["bob@example.org"])
    msgs = [b"\n".join(m.retr(i + 1)[1]) for i in range(m.stat()[0])]
    m.quit()
    msg = [x for x in msgs if marker.encode() in x][0]
    # Postfix got XCLIENT inside TLS: the client's name, and TLS noted.
    assert b"from client.example" in msg and b"(using TLSv1.3" in msg, msg[:700]


def test_proxy_ssl_verify_refuses_a_wrong_name(ctx):
    p = to_backend(ctx, "imap", ctx.dovecot.imaps_port, "on",
                   glob='proxy_ssl_name = "wrong.example"\n')
    c = lib.greet(p.port)
    c.send("a LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert "event=backend_tls_error" in p.wait_log("backend_tls_error")


def test_auth_backend_tls_overrides_per_user(ctx):
    off = ctx.track(lib.AuthServer(ctx.tmp, ctx.dovecot.imap_port, backend_tls="off"))
    p = to_backend(ctx, "imap", 1, "on", glob='auth_http = "%s"\n' % off.url)
    m = imaplib.IMAP4("127.0.0.1", p.port)
    m.login("alice", "wonderland")
    m.logout()
    # Plain both ways after all: postern-tls hands the bytes to the relay.
    log = p.wait_log("postern-relay[")
    assert "event=backend_tls" not in log
    on = ctx.track(lib.AuthServer(ctx.tmp, ctx.dovecot.imap_port, backend_tls="starttls"))
    p = to_backend(ctx, "imap", 1, "off", glob='auth_http = "%s"\n' % on.url, ssl="true")
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("alice", "wonderland")
    m.logout()
    assert "event=backend_tls mode=starttls" in p.wait_log("event=backend_tls")
    # The plaintext front has no GnuTLS: it says so, and the client is told
    # to come back later.
    p = to_backend(ctx, "imap", 1, "off", glob='auth_http = "%s"\n' % on.url)
    c = lib.greet(p.port)
    c.send("a LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert "needs postern-tls" in p.wait_log("backend_tls_error")


def run_ok(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def test_encrypted_key_protocols_and_crl(ctx):
    certs = ctx.certs
    enc = certs.path("server-enc.key")
    run_ok("certtool", "--load-privkey", certs.server_key, "--to-p8",
           "--password", "s3cret", "--outfile", enc)
    pwfile = certs.path("passwords")
    with open(pwfile, "w") as f:
        f.write("not-this-one\ns3cret\n")
    conf = ('ssl = true\nssl_certificate = {"%s"}\nssl_certificate_key = {"%s"}\n'
            'ssl_password_file = "%s"\nssl_protocols = {"TLSv1.3"}\n'
            % (certs.server, enc, pwfile))
    p = ctx.track(lib.Postern(ctx.tmp, server_conf=conf,
                              map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port]))
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    assert m.sock.version() == "TLSv1.3"
    m.logout()
    old = ctx.context()
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=old)
        raise AssertionError("TLS 1.2 was accepted with ssl_protocols TLSv1.3")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass
    # A revoked client certificate is a certificate error.
    tpl = certs.path("crl.tpl")
    with open(tpl, "w") as f:
        f.write("crl_next_update = 30\ncrl_number = 1\n")
    crl = certs.path("crl.pem")
    run_ok("certtool", "--generate-crl", "--load-ca-privkey", certs.ca_key,
           "--load-ca-certificate", certs.ca, "--load-certificate", certs.client,
           "--template", tpl, "--outfile", crl)
    p = ctx.proxy(ssl_verify_client="on", ssl_client_certificate='"%s"' % certs.ca,
                  ssl_crl='"%s"' % crl)
    with ctx.tls_connect(p, cert=(certs.client, certs.client_key)) as s:
        assert s.recv(200) == b"* BYE SSL certificate error\r\n"
    assert "revoked" in p.wait_log("client_cert_refused")


def test_rsa_and_ecdsa_pairs_and_dhparam(ctx):
    """Two certificate pairs: each client gets the one it can use; DHE
    uses ssl_dhparam."""
    certs = ctx.certs
    dh = certs.path("dh.pem")
    run_ok("certtool", "--generate-dh-params", "--outfile", dh)
    conf = ('ssl = true\nssl_certificate = {"%s", "%s"}\n'
            'ssl_certificate_key = {"%s", "%s"}\nssl_dhparam = "%s"\n'
            % (certs.rsa, certs.server, certs.rsa_key, certs.server_key, dh))
    p = ctx.track(lib.Postern(ctx.tmp, server_conf=conf,
                              map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port]))
    for ciphers, key in (("ECDHE-RSA-AES128-GCM-SHA256", "rsa"),
                         ("ECDHE-ECDSA-AES128-GCM-SHA256", "ecdsa"),
                         ("DHE-RSA-AES128-GCM-SHA256", "rsa")):
        c = ctx.context()
        c.maximum_version = ssl.TLSVersion.TLSv1_2
        c.set_ciphers(ciphers)
        m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=c)
        assert m.sock.cipher()[0] == ciphers, (ciphers, m.sock.cipher())
        der = m.sock.getpeercert(binary_form=True)
        m.logout()
        with open(certs.rsa if key == "rsa" else certs.server) as f:
            assert ssl.PEM_cert_to_DER_cert(f.read()) == der, ciphers


def test_a_key_of_another_certificate_is_refused(ctx):
    """postern -t proves with GnuTLS that each key is its certificate's;
    a connection compares the public keys instead (a tenth of the CPU),
    and refuses the pair with the same words."""
    certs = ctx.certs
    # The key file the connections read, replaced after -A (files are read
    # per connection; only the configuration is compiled).
    key = ctx.tmp("replaced-%d.key" % lib.free_port())
    shutil.copy(certs.server_key, key)
    conf = ('ssl = true\nssl_certificate = {"%s"}\nssl_certificate_key = {"%s"}\n'
            % (certs.server, key))
    p = ctx.track(lib.Postern(ctx.tmp, server_conf=conf,
                              map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port]))
    p.activated()
    shutil.copy(certs.rsa_key, key)
    words = "The certificate and the given key do not match"
    r = subprocess.run([lib.POSTERN, "-t", "-c", p.conf], capture_output=True, text=True)
    assert r.returncode == 1 and words in r.stderr, r.stderr
    raw = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        ctx.context().wrap_socket(raw, server_hostname="localhost").recv(100)
        raise AssertionError("a handshake with a mismatched key")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass
    finally:
        raw.close()
    log = p.wait_log(words)
    assert "%s and %s: %s" % (certs.server, key, words) in log


def test_tls_relay_close_notify_and_idle_timeout(ctx):
    p = ctx.proxy(proxy_timeout='"2s"')
    # Ragged EOFs are errors here: a close without close_notify would raise.
    s = ctx.tls_connect(p, suppress_ragged_eofs=False)
    c = lib.Client.over(s)
    c.line()
    c.send("a LOGIN alice wonderland\r\nb LOGOUT\r\n")
    c.until_tag("b")
    # Dovecot closed after LOGOUT; the relay passes that on as close_notify.
    assert c.sock.recv(100) == b""
    s.close()
    # The client ends first with close_notify: the relay half-closes
    # towards Dovecot, which closes, and the client gets close_notify back.
    s = ctx.tls_connect(p)
    c = lib.Client.over(s)
    c.line()
    c.send("a LOGIN alice wonderland\r\n")
    c.until_tag("a")
    s.settimeout(10)
    s.unwrap()          # returns once the peer's close_notify came
    s.close()
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
    m.login("alice", "wonderland")
    time.sleep(3)
    try:
        m.noop()
        raise AssertionError("the idle session was still open")
    except (imaplib.IMAP4.abort, OSError):
        pass
    assert 'reason="idle timeout"' in p.wait_log("idle timeout")


def test_tls_under_inetd(ctx):
    """Under inetd the socket is fds 0-2: postern-tls gets it on fd 3 all
    the same, implicit and by STARTTLS."""
    for extra in (dict(ssl="true"), dict(starttls='"on"')):
        p = ctx.track(lib.Postern(ctx.tmp, inetd=True, server_conf=ctx.certs.conf(**extra),
                                  map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port]))
        if "ssl" in extra:
            m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=ctx.context())
        else:
            m = imaplib.IMAP4("127.0.0.1", p.port)
            m.starttls(ssl_context=ctx.context())
        m.login("alice", "wonderland")
        m.select("INBOX")
        m.logout()
        assert "result=relayed" in p.wait_log("result=relayed")


def test_plaintext_front_does_not_load_gnutls(ctx):
    r = subprocess.run(["ldd", lib.POSTERN], capture_output=True, text=True)
    assert "gnutls" not in r.stdout, r.stdout
    r = subprocess.run(["ldd", lib.TLS], capture_output=True, text=True)
    assert "gnutls" in r.stdout


def test_no_password_in_logs(ctx):
    logs = "".join(p.read_log() for p in ctx.running if isinstance(p, lib.Postern))
    lib.assert_no_passwords(logs)


def setup_ctx():
    global CTX
    CTX = Ctx()
    return CTX


if __name__ == "__main__":
    lib.run([test_imap_implicit_and_starttls,
             test_pop3_implicit_and_stls,
             test_smtp_implicit_and_starttls,
             test_curl_over_tls,
             test_gnutls_cli_and_openssl_starttls,
             test_starttls_only_refuses_plaintext_login,
             test_no_command_injection_across_starttls,
             test_alpn_must_match_the_protocol,
             test_client_certificates,
             test_trusted_certificate_and_verify_depth,
             test_sasl_external_in_the_three_protocols,
             test_session_resumes_in_another_process,
             test_ticket_key_rotation_first_encrypts_all_decrypt,
             test_10mb_byte_exact_over_tls,
             test_clients_that_give_up_mid_handshake,
             test_key_from_systemd_credentials_directory,
             test_encrypted_key_protocols_and_crl,
             test_tls_relay_close_notify_and_idle_timeout,
             test_rsa_and_ecdsa_pairs_and_dhparam,
             test_a_key_of_another_certificate_is_refused,
             test_proxy_ssl_to_dovecot,
             test_proxy_ssl_starttls_to_postfix,
             test_proxy_ssl_verify_refuses_a_wrong_name,
             test_auth_backend_tls_overrides_per_user,
             test_tls_under_inetd,
             test_plaintext_front_does_not_load_gnutls,
             test_no_password_in_logs,
             test_certificate_subject_cannot_forge_log_lines,
             test_a_name_too_long_to_print_is_left_out_not_cut,
             test_no_password_left_in_the_relaying_process],
            setup_ctx)
