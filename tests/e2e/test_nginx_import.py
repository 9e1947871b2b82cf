"""postern-nginx-import on nginx configurations that the real nginx
accepts or refuses (nginx -t, with Debian's mail module).

The first one: the result passes postern -t, and the converted sections
serve logins through the same auth_http server, plain and implicit TLS,
with Dovecot's evidence. The socket units name each listen; what is not
carried over is listed.

Then the fixtures of tests/fixtures/nginx, the shapes of configurations
from the field: each goes through nginx -t and the importer, and either
both refuse it at the same file and line, or nginx and the imported
postern run side by side in front of the same Dovecot, Postfix and auth
server, and the same conversations get the same replies byte for byte
(test_nginx_diff's rows excepted: the IMAP greeting's capabilities) and
make the same auth requests; TLS is probed suite by suite."""
import os
import re
import shutil
import socket
import ssl
import subprocess
import urllib.parse

import lib
import test_nginx_diff as diff

IMPORT = os.path.join(lib.BUILDDIR, "src", "postern-nginx-import")
FIXTURES = os.path.join(lib.SRCDIR, "tests", "fixtures", "nginx")
# The ports the fixtures' listens stand for, in the field.
FIELD_PORTS = {"IMAP": 143, "SMTP": 25, "IMAP_INTERNAL": 10143,
               "SMTP_INTERNAL": 10025, "POP3": 110, "STRONG": 993,
               "DEFAULT": 1993, "WIDENED": 2993, "IMAPS": 993, "SUBMISSION": 587}


class Fixture:
    """One fixture, filled in, in a prefix of its own with the test
    certificates in ssl/; imported into out/."""

    def __init__(self, ctx, name, tag, ports, auth=None):
        self.ctx, self.name, self.ports = ctx, name, ports
        auth = auth or ctx.auth
        self.prefix = ctx.tmp("%s-%s" % (name, tag))
        self.out = os.path.join(self.prefix, "out")
        shutil.copytree(os.path.join(FIXTURES, name), self.prefix)
        os.makedirs(os.path.join(self.prefix, "ssl"))
        os.makedirs(self.out)
        c = ctx.certs
        for src, dst in ((c.server, "server.pem"), (c.server_key, "server.key"),
                         (c.rsa, "server-rsa.pem"), (c.rsa_key, "server-rsa.key")):
            shutil.copy(src, os.path.join(self.prefix, "ssl", dst))
        # The CAs of test_nginx_diff's client certificates with rich names.
        shutil.copy(ctx.clients_ca, os.path.join(self.prefix, "ssl", "clients.pem"))
        user = "" if os.geteuid() else "user nobody nogroup; "
        # One line, so that the fixture's line numbers hold.
        fill = {"HEAD": "load_module %s; %sdaemon off; pid %s/nginx.pid; "
                        "error_log %s/error.log info;"
                        % (lib.Nginx.MODULE, user, self.prefix, self.prefix),
                "AUTH": "127.0.0.1:%d/auth" % auth.port}
        fill.update({"PORT_" + k: str(v) for k, v in ports.items()})
        for folder, _, names in os.walk(self.prefix):
            for n in names:
                if n.endswith(".conf"):
                    path = os.path.join(folder, n)
                    with open(path) as f:
                        text = f.read()
                    text = re.sub(r"@([A-Z_0-9]+)@", lambda m: fill[m.group(1)], text)
                    with open(path, "w") as f:
                        f.write(text)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.log = os.path.join(self.prefix, "error.log")

    def nginx_t(self):
        return subprocess.run(["nginx", "-t", "-p", self.prefix + "/", "-c", self.conf,
                               "-e", self.log], capture_output=True, text=True)

    def imported(self):
        return subprocess.run([IMPORT, "-p", self.prefix + "/", "-o", self.out, self.conf],
                              capture_output=True, text=True, timeout=30)

    def units(self):
        """{section name: (port, unit text)} of the import."""
        out = {}
        for n in os.listdir(self.out):
            if n.startswith("postern-") and n.endswith(".socket"):
                with open(os.path.join(self.out, n)) as f:
                    text = f.read()
                port = int(re.search(r"\(port (\d+)\)", text).group(1))
                out[n[len("postern-"):-len(".socket")]] = (port, text)
        return out


class NginxRun(lib.Server):
    """The real nginx on a fixture, as an ordinary process."""

    def __init__(self, fixture):
        self.fixture, self.log = fixture, fixture.log

    def start(self):
        f = self.fixture
        self.proc = subprocess.Popen(["nginx", "-p", f.prefix + "/", "-c", f.conf,
                                      "-e", f.log], stdout=subprocess.DEVNULL,
                                     stderr=open(f.log + ".stderr", "w"))
        for port in f.ports.values():
            lib.wait_port(port, proc=self.proc)
        return self


def openssl_name(cert, which):
    """The certificate's subject or issuer as nginx's OpenSSL prints it
    for Auth-SSL-Subject and -Issuer (X509_NAME_print_ex, RFC 2253)."""
    r = subprocess.run(["openssl", "x509", "-noout", which, "-nameopt", "RFC2253",
                        "-in", cert], capture_output=True, text=True, check=True)
    return r.stdout.strip().split("=", 1)[1]


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.postfix = self.track(lib.Postfix(self.tmp, self.dovecot))
        self.auth = self.track(lib.AuthServer(
            self.tmp, self.dovecot.imap_port,
            backends={"pop3": self.dovecot.pop3_port, "smtp": self.postfix.port}))
        # Client certificates whose names hold the attributes auth
        # scripts match (emailAddress, SN, GN, x500UniqueIdentifier, ...),
        # made as test_nginx_diff makes them; an auth server that lets
        # alice in only with the rich one's subject, as OpenSSL prints it.
        self.named = {n: diff.make_named(self.tmp, n, *v) for n, v in diff.NAMED.items()}
        self.clients_ca = self.tmp("clients-ca.pem")
        with open(self.clients_ca, "w") as out:
            for ca, _, _ in self.named.values():
                with open(ca) as f:
                    out.write(f.read())
        self.subject = openssl_name(self.named["rich"][1], "-subject")
        self.issuer = openssl_name(self.named["rich"][1], "-issuer")
        self.cert_auth = lib.AuthServer(
            self.tmp, self.dovecot.imap_port,
            backends={"pop3": self.dovecot.pop3_port, "smtp": self.postfix.port})
        self.cert_auth.cmd += ["--subject", "alice=" + self.subject]
        self.track(self.cert_auth)
        self.plain, self.tls = lib.free_port(), lib.free_port()
        self.out = self.tmp("imported")
        os.makedirs(self.out)
        self.nginx_conf = self.tmp("nginx.conf")
        with open(self.nginx_conf, "w") as f:
            f.write(f"""load_module {lib.Nginx.MODULE};
pid {self.tmp('nginx.pid')};
events {{ worker_connections 64; }}
mail {{
    server_name mail.example.test;
    auth_http 127.0.0.1:{self.auth.port}/auth;
    auth_http_header X-Auth-Key "secret key";
    proxy_buffer 8k;
    imap_capabilities IMAP4rev1 UIDPLUS IDLE;
    imap_auth plain login;
    ssl_certificate {self.certs.server};
    ssl_certificate_key {self.certs.server_key};
    ssl_session_cache shared:MAIL:1m;
    server {{
        listen 127.0.0.1:{self.plain} backlog=64;
        protocol imap;
        proxy_pass_error_message on;
    }}
    server {{
        listen 127.0.0.1:{self.tls} ssl;
        protocol imap;
    }}
}}
""")

    def convert(self):
        return subprocess.run([IMPORT, "-o", self.out, self.nginx_conf],
                              capture_output=True, text=True, timeout=30)

    def postern(self, name, port, out=None):
        with open(os.path.join(out or self.out, "postern.conf")) as f:
            imported = f.read()
        # Only what a test machine needs on top, after the import so that
        # it counts: its programs and a log.
        tail = ('\nerror_log = "%s"\nlog_level = "debug"\nrelay_program = "%s"\n'
                'guard_relay_program = "%s"\ntls_program = "%s"\n'
                % (self.tmp("postern-%s-%d.log" % (name, port)), lib.RELAY,
                   lib.GUARD_RELAY, lib.TLS))
        return self.track(lib.Postern(self.tmp, raw_conf=imported + tail, name=name,
                                      port=port))


def setup():
    if not os.path.exists(lib.Nginx.MODULE) or not shutil.which("nginx"):
        raise lib.Skip("no nginx mail module")
    return Ctx()


def test_nginx_accepts_the_input(ctx):
    r = subprocess.run(["nginx", "-t", "-p", ctx.tmp(), "-c", ctx.nginx_conf,
                        "-e", ctx.tmp("nginx-error.log")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_conversion_and_its_notes(ctx):
    r = ctx.convert()
    assert r.returncode == 0, r.stderr
    assert "nginx.conf:8: proxy_buffer: " in r.stderr, r.stderr
    assert "nginx.conf:13: ssl_session_cache: " in r.stderr
    assert "2 server section(s)" in r.stderr
    with open(os.path.join(ctx.out, "postern-imap.socket")) as f:
        unit = f.read()
    assert "ListenStream=127.0.0.1:%d\nBacklog=64\n" % ctx.plain in unit
    # The shipped units' shape: the socket hands its port to the shipped
    # spawner service; no unit per connection.
    assert "Accept=no\n" in unit and "FileDescriptorName=imap\n" in unit
    assert "MaxConnections" not in unit and "Accept=yes\n" not in unit
    with open(os.path.join(ctx.out, "postern-imaps.socket")) as f:
        assert "ListenStream=127.0.0.1:%d\n" % ctx.tls in f.read()
    r = subprocess.run([lib.POSTERN, "-t", "-c", ctx.postern("check", lib.free_port()).conf],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_converted_sections_serve_logins(ctx):
    if not os.path.exists(os.path.join(ctx.out, "postern.conf")):
        assert ctx.convert().returncode == 0
    plain = ctx.postern("imap", ctx.plain)
    tls = ctx.postern("imaps", ctx.tls)
    since = len(ctx.dovecot.read_log())
    c = lib.greet(plain.port)
    c.send("c CAPABILITY\r\n")
    caps = c.until_tag("c")
    assert caps[0] == "* CAPABILITY IMAP4rev1 UIDPLUS IDLE AUTH=PLAIN AUTH=LOGIN", caps
    lib.login_logout(c)
    t = lib.tls_client(tls.port, ctx.certs.ca)
    assert t.line().startswith("* OK")
    lib.login_logout(t)
    lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                 what="two logins at Dovecot")
    # The auth server saw the header the nginx configuration named.
    assert all(r["X-Auth-Key"] == "secret key" for r in ctx.auth.requests())


def free_ports(name):
    with open(os.path.join(FIXTURES, name, "nginx.conf")) as f:
        keys = set(re.findall(r"@PORT_([A-Z_0-9]+)@", f.read()))
    return {k: lib.free_port() for k in keys}


def nginx_where(stderr):
    """nginx -t's "[emerg] ... in FILE:LINE"."""
    m = re.search(r"\[emerg\] .* in (\S+:\d+)$", stderr, re.M)
    return m and m.group(1)


def test_fixtures_refused_by_both_or_neither(ctx):
    """The fixtures with their field ports (nginx -t binds nothing)."""
    for name in sorted(os.listdir(FIXTURES)):
        if not os.path.isdir(os.path.join(FIXTURES, name)):
            continue
        f = Fixture(ctx, name, "field", {k: FIELD_PORTS[k] for k in free_ports(name)})
        n, i = f.nginx_t(), f.imported()
        assert (n.returncode == 0) == (i.returncode == 0), \
            "%s: nginx -t %d, import %d:\n%s\n%s" % (name, n.returncode, i.returncode,
                                                     n.stderr, i.stderr)
        if n.returncode:
            # The same file and line, and the import says why.
            where = nginx_where(n.stderr)
            assert where and ("postern-nginx-import: %s: " % where) in i.stderr, \
                (n.stderr, i.stderr)
            assert "conflicts with" in i.stderr, i.stderr
        else:
            # postern -t takes the result, with this machine's programs.
            checked = os.path.join(f.out, "checked.conf")
            with open(os.path.join(f.out, "postern.conf")) as src, open(checked, "w") as dst:
                dst.write(src.read() + '\nrelay_program = "%s"\nguard_relay_program = "%s"\n'
                          'tls_program = "%s"\n' % (lib.RELAY, lib.GUARD_RELAY, lib.TLS))
            r = subprocess.run([lib.POSTERN, "-t", "-c", checked], capture_output=True,
                               text=True)
            assert r.returncode == 0, (name, r.stderr)


def test_mailu_public_sections_take_the_standard_names(ctx):
    f = Fixture(ctx, "mailu", "names", {k: FIELD_PORTS[k] for k in free_ports("mailu")})
    r = f.imported()
    assert r.returncode == 0, r.stderr
    units = f.units()
    assert {k: v[0] for k, v in units.items()} == {
        "imap": 143, "smtp": 25, "imap-10143": 10143, "smtp-10025": 10025}, units
    with open(os.path.join(f.out, "postern.conf")) as conf:
        text = conf.read()
    # Every section says its port; the public IMAP one is the STARTTLS one.
    assert re.search(r'server imap \{\n    listen = "143"\n    protocol = imap\n'
                     r'    imap_auth = \{"plain", "login"\}\n    starttls = "only"\n', text), text
    assert 'server imap-10143 {\n    listen = "127.0.0.1:10143"\n' in text
    assert 'server smtp {\n    listen = "25"\n' in text
    # The included TLS file, its relative paths read against the prefix.
    assert 'ssl_certificate = {"%s/ssl/server.pem"}' % f.prefix in text, text
    assert 'error_log = "stderr"' in text
    assert 'proxy_pass_error_message = true' in text      # from conf.d/*.conf
    assert 'auth_http_timeout = "30s"' in text
    assert "ListenStream=143\nBindIPv6Only=both\n" in units["imap"][1]
    assert "%s/tls.conf:2: ssl_ciphers: DHE suites: left out" % f.prefix in r.stderr, r.stderr
    assert "%s/nginx.conf:11: ssl_session_cache:" % f.prefix in r.stderr


def test_relative_names_follow_the_configuration_file(ctx):
    """nginx reads include and relative certificate names against its -c
    file's directory, whatever its -p prefix; the import, told no -p,
    reads them where nginx does (it read them under /etc/nginx/)."""
    f = Fixture(ctx, "mailu", "conf-dir", {k: FIELD_PORTS[k] for k in free_ports("mailu")})
    elsewhere = ctx.tmp("another-prefix")
    os.makedirs(elsewhere)
    n = subprocess.run(["nginx", "-t", "-p", elsewhere + "/", "-c", f.conf, "-e", f.log],
                       capture_output=True, text=True)
    assert n.returncode == 0, n.stderr
    # The file named relative to the importer's working directory.
    r = subprocess.run([IMPORT, "-o", f.out,
                        os.path.join(os.path.basename(f.prefix), "nginx.conf")],
                       capture_output=True, text=True, timeout=30,
                       cwd=os.path.dirname(f.prefix))
    assert r.returncode == 0, r.stderr
    with open(os.path.join(f.out, "postern.conf")) as conf:
        text = conf.read()
    assert 'ssl_certificate = {"%s/ssl/server.pem"}' % f.prefix in text, text
    assert "proxy_pass_error_message = true" in text      # conf.d/*.conf
    checked = os.path.join(f.out, "checked.conf")
    with open(checked, "w") as dst:
        dst.write(text + '\nrelay_program = "%s"\nguard_relay_program = "%s"\n'
                  'tls_program = "%s"\n' % (lib.RELAY, lib.GUARD_RELAY, lib.TLS))
    t = subprocess.run([lib.POSTERN, "-t", "-c", checked], capture_output=True, text=True)
    assert t.returncode == 0, t.stderr


# What each section of a fixture is asked, and in which way: (port key,
# protocol, kind as in test_nginx_diff, lines).
MAILU = [
    ("IMAP_INTERNAL", "imap", "plain", ["a CAPABILITY", "b LOGIN alice wonderland",
                                        "c LOGOUT"]),
    ("IMAP_INTERNAL", "imap", "plain", ["a AUTHENTICATE PLAIN " + diff.B64_PLAIN,
                                        "b LOGOUT"]),
    ("SMTP_INTERNAL", "smtp", "plain", ["EHLO client.example",
                                        "AUTH PLAIN " + diff.B64_PLAIN, "QUIT"]),
    ("IMAP", "imap", "starttls", ["a CAPABILITY", "b LOGIN alice wonderland", "c STARTTLS",
                                  "<starttls>", "d CAPABILITY",
                                  "e LOGIN alice wonderland", "f LOGOUT"]),
    ("SMTP", "smtp", "starttls", ["EHLO client.example", "MAIL FROM:<a@example.org>",
                                  "STARTTLS", "<starttls>", "EHLO client.example",
                                  "MAIL FROM:<alice@example.org>",
                                  "RCPT TO:<bob@example.org>", "RSET", "QUIT"]),
]


DOVECOT_TIMES = re.compile(rb"\((?:[0-9.]+ \+ )*[0-9.]+ secs\)")


def same_backend_text(reply):
    """Dovecot says how long a command took: not the proxy's words."""
    return [DOVECOT_TIMES.sub(b"(<time>)", x) if isinstance(x, bytes) else x
            for x in reply or []]


def salted(requests):
    """Auth requests to compare: a salt is random, and so the digest of a
    salted mechanism (APOP, CRAM-MD5) that is its Auth-Pass."""
    return [[(k, "<digest>" if k == "Auth-Pass" and "Auth-Salt" in q else v)
             for k, v in q.items() if k != "Auth-Salt"] for q in requests]


def side_by_side(ctx, name, asks, auth=None, replies=None):
    """nginx on the fixture, postern on its import (each on its own ports);
    the differences of every conversation, as test_nginx_diff counts them.
    replies, if a list, gets postern's replies to each conversation."""
    auth = auth or ctx.auth
    fn, fp = (Fixture(ctx, name, tag, free_ports(name), auth)
              for tag in ("nginx", "postern"))
    r = fp.imported()
    assert r.returncode == 0, r.stderr
    ctx.track(NginxRun(fn))
    by_port = {port: sec for sec, (port, _) in fp.units().items()}
    started = {}
    out = []
    for key, proto, kind, lines in asks:
        port = fp.ports[key]
        if port not in started:
            started[port] = ctx.postern(by_port[port], port, out=fp.out)
        before = len(auth.requests())
        got_n = diff.Conversation(ctx, fn.ports[key], proto, kind).run(lines)
        middle = len(auth.requests())
        got_p = diff.Conversation(ctx, port, proto, kind).run(lines)
        if replies is not None:
            replies.append(got_p)
        reqs = auth.requests()
        rn, rp = (salted(reqs[before:middle]), salted(reqs[middle:]))
        for step in range(max(len(got_n), len(got_p))):
            a = same_backend_text(got_n[step] if step < len(got_n) else None)
            b = same_backend_text(got_p[step] if step < len(got_p) else None)
            # test_nginx_diff's row: postern's IMAP greeting carries its
            # capabilities.
            if a != b and not (proto == "imap" and step == 0):
                out.append("%s %s step %d:\n  nginx:   %r\n  postern: %r"
                           % (key, lines[0], step, a, b))
        if rn != rp:
            out.append("%s %s auth:\n  nginx:   %r\n  postern: %r" % (key, lines[0], rn, rp))
    return fp, r, out


def test_mailu_side_by_side(ctx):
    since = len(ctx.dovecot.read_log())
    _, _, differences = side_by_side(ctx, "mailu", MAILU)
    assert not differences, "\n".join(differences)
    # Logins reached Dovecot, twice per side on the internal port and once
    # after STARTTLS.
    lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 6,
                 what="six logins at Dovecot")


# A blog's client-certificate setup: the rich names' certificate is the
# one the auth script knows for alice; the other verifies but is not hers;
# none at all where one is required, or optional.
STARTTLS_AUTH = ["EHLO client.example", "STARTTLS", "<starttls>", "EHLO client.example",
                 "AUTH PLAIN " + diff.B64_PLAIN]
CLIENT_CERTS = [
    ("IMAPS", "imap", "names-rich", ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("IMAPS", "imap", "names-strings", ["a LOGIN alice wonderland", "<close>"]),
    ("IMAPS", "imap", "verify-nocert", ["<close>"]),
    ("SUBMISSION", "smtp", "starttls-rich", STARTTLS_AUTH + ["QUIT"]),
    ("SUBMISSION", "smtp", "starttls", STARTTLS_AUTH + ["<close>"]),
]


def test_client_certificates_side_by_side(ctx):
    """The client-certificate shape: verify on and optional, the CA's
    file relative, auth_http_pass_client_cert; Auth-SSL-Subject and
    -Issuer of a certificate with emailAddress, SN, GN,
    x500UniqueIdentifier and more, as nginx sends them, are what the auth
    script matches: alice gets in with hers over IMAPS and after STARTTLS,
    with the other certificate or none she does not."""
    since = len(ctx.dovecot.read_log())
    before = len(ctx.cert_auth.requests())
    replies = []
    fp, r, differences = side_by_side(ctx, "client-cert", CLIENT_CERTS, ctx.cert_auth,
                                      replies)
    assert not differences, "\n".join(differences)
    with open(os.path.join(fp.out, "postern.conf")) as f:
        text = f.read()
    assert "auth_http_pass_client_cert = true" in text, text
    assert 'ssl_client_certificate = "%s/ssl/clients.pem"' % fp.prefix in text, text
    # Both sent the subject and issuer OpenSSL prints, once per login
    # with the certificate (IMAPS and after STARTTLS, nginx and postern).
    sent = [(urllib.parse.unquote(q.get("Auth-SSL-Subject", "")),
             urllib.parse.unquote(q.get("Auth-SSL-Issuer", "")), q.get("Auth-SSL-Verify"))
            for q in ctx.cert_auth.requests()[before:]]
    assert sent.count((ctx.subject, ctx.issuer, "SUCCESS")) == 4, (ctx.subject, sent)
    for want in ("emailAddress=alice@example.org", "SN=Liddell", "GN=Alice",
                 "x500UniqueIdentifier=demo"):
        assert want in ctx.subject, ctx.subject
    # alice got in with hers, and only with hers.
    def replied(conversation, start):
        return any(isinstance(line, bytes) and line.startswith(start)
                   for reply in replies[conversation] for line in reply)

    assert replied(0, b"a OK") and not replied(1, b"a OK"), replies[:2]
    assert replied(3, b"235 ") and not replied(4, b"235 "), replies[3:]
    lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                 what="alice's two IMAPS logins at Dovecot")


# The example of nginx's own documentation: every protocol, the salted
# mechanisms, capabilities, xclient off.
NGINX_DOCS = [
    ("IMAP", "imap", "plain", ["a CAPABILITY", "b LOGIN alice wonderland", "c LOGOUT"]),
    ("POP3", "pop3", "plain", ["CAPA", "USER alice", "PASS wonderland", "STAT", "QUIT"]),
    ("POP3", "pop3", "plain", [diff.apop("alice", "wonderland"), "STAT", "QUIT"]),
    ("POP3", "pop3", "plain", ["USER stale", "PASS wonderland", "<close>"]),
    ("SMTP", "smtp", "plain", ["EHLO client.example", "AUTH PLAIN " + diff.B64_PLAIN,
                               "MAIL FROM:<alice@example.org>", "RSET", "QUIT"]),
    ("SUBMISSION", "smtp", "plain", ["EHLO client.example", "AUTH CRAM-MD5",
                                     diff.cram("alice", "wonderland"), "QUIT"]),
]


def test_nginx_docs_example_side_by_side(ctx):
    since = len(ctx.dovecot.read_log())
    replies = []
    _, _, differences = side_by_side(ctx, "nginx-docs", NGINX_DOCS, replies=replies)
    assert not differences, "\n".join(differences)
    assert replies[0][0][0].startswith(b"* OK"), replies[0]
    assert b"LITERAL+ QUOTA" in replies[0][1][0], replies[0]
    assert replies[4][2] == [b"235 2.0.0 OK\r\n"], replies[4]
    assert replies[5][3] == [b"235 2.0.0 OK\r\n"], replies[5]
    # IMAP once, POP3 twice (USER/PASS and APOP), per side.
    lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 6,
                 what="six logins at Dovecot")


AUTH_SERVER = [
    ("IMAP", "imap", "plain", ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("IMAP", "imap", "pass", ["a LOGIN stale wonderland", "<close>"]),
    ("SMTP", "smtp", "plain", ["EHLO client.example", "AUTH LOGIN", diff.b64("alice"),
                               diff.b64("wonderland"), "QUIT"]),
]


def test_auth_server_example_side_by_side(ctx):
    """The shared secret reaches the auth server as nginx sends it, its
    dollar sign and braces as they are (postern.conf expanded ${HOME}),
    and so does a value with the characters that end a word, a
    directive, a block or a line in either syntax."""
    before = len(ctx.auth.requests())
    _, _, differences = side_by_side(ctx, "auth-server", AUTH_SERVER)
    assert not differences, "\n".join(differences)
    sent = ctx.auth.requests()[before:]
    assert len(sent) == 6, sent
    assert all(q.get("X-Auth-Key") == "k3y-${HOME}" and q.get("X-Frontend") == "mail proxy"
               and q.get("X-Odd") == 'a"b\\c}d;e#f {g}' for q in sent), sent


def tls_probe(port, version, cipher=None):
    """Whether a handshake at one version (and one TLS 1.2 suite) passes."""
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = c.maximum_version = version
    try:
        c.set_ciphers((cipher or "ALL") + ":@SECLEVEL=0")
    except ssl.SSLError:
        return None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with c.wrap_socket(s, server_hostname="localhost") as t:
                return t.version(), t.cipher()[0]
    except (ssl.SSLError, ConnectionResetError, socket.timeout, OSError):
        return False


def tls12_suites():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return sorted({x["name"] for x in c.get_ciphers() if x["protocol"] != "TLSv1.3"})


def test_cipher_lists_side_by_side(ctx):
    """Suite by suite at TLS 1.2: postern takes what nginx takes, and
    beyond that exactly the suites the import said it would add."""
    asks = [(k, "imap", "tls", ["a LOGIN alice wonderland", "b LOGOUT"])
            for k in ("STRONG", "DEFAULT", "WIDENED")]
    fp, r, differences = side_by_side(ctx, "ciphers", asks)
    assert not differences, "\n".join(differences)
    for old in ("SSLv3", "TLSv1", "TLSv1.1"):
        assert "nginx.conf:11: ssl_protocols: %s: left out" % old in r.stderr, r.stderr
    with open(fp.conf) as f:
        numbered = list(enumerate(f.read().splitlines(), 1))
    ciphers_lines = [n for n, line in numbered if "ssl_ciphers" in line]
    protocols_line = [n for n, line in numbered if "ssl_protocols" in line][0]
    anchors = {"STRONG": ciphers_lines[0], "DEFAULT": protocols_line,
               "WIDENED": ciphers_lines[1]}
    fn_ports = {k: p for k, p in ctx.running[-len(asks) - 1].fixture.ports.items()}
    suites = tls12_suites()
    report = []
    for key, line in anchors.items():
        noted = re.search(r"nginx\.conf:%d: \S+: GnuTLS enables .* offered too: (.*)$"
                          % line, r.stderr, re.M)
        extra = set(noted.group(1).split()) if noted else set()
        noted = re.search(r"nginx\.conf:%d: \S+: GnuTLS does not have these, which "
                          r"nginx offers: (.*); left out$" % line, r.stderr, re.M)
        missing = set(noted.group(1).split()) if noted else set()
        took_n = {s for s in suites if tls_probe(fn_ports[key], ssl.TLSVersion.TLSv1_2, s)}
        took_p = {s for s in suites if tls_probe(fp.ports[key], ssl.TLSVersion.TLSv1_2, s)}
        assert took_n, key
        if took_p != (took_n - missing) | extra or not extra <= took_p:
            report.append("%s: nginx only %s; postern only %s; noted %s, %s"
                          % (key, sorted(took_n - took_p), sorted(took_p - took_n),
                             sorted(extra), sorted(missing)))
        # TLS 1.3 in both; the versions left out, in neither.
        for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            a, b = tls_probe(fn_ports[key], v), tls_probe(fp.ports[key], v)
            if bool(a) != bool(b) or a:
                report.append("%s %s: nginx %r, postern %r" % (key, v, a, b))
        assert tls_probe(fp.ports[key], ssl.TLSVersion.TLSv1_3)
    assert not report, "\n".join(report)
    assert "WIDENED" in anchors and "SEED-SHA: no cipher suite" in r.stderr, r.stderr


def pop3_talk(host, port):
    """A POP3 login, its replies byte for byte."""
    with socket.create_connection((host, port), timeout=10) as s:
        c = diff.Raw(s)
        replies = [c.raw_line()]
        for line in ("USER alice", "PASS wonderland", "STAT", "QUIT"):
            c.send(line + "\r\n")
            replies.append(c.raw_line())
        return replies


def spawner_of(path):
    """The built postern-NAME.service's command line and environment."""
    k = lib.settings(path)
    env = dict(kv.split("=", 1) for kv in k.get("Environment", "").split())
    argv = [env.get(w[2:-1], w) if w.startswith("${") else w
            for w in k["ExecStart"].split()]
    return argv, env


def test_sockets_hand_off_to_the_shipped_spawner(ctx):
    """Mailu's internal and public IMAP listeners: two sockets, one shipped
    postern-imap.service (the second socket names it with Service=), run
    with its own command line and limits; each connection gets its
    socket's section, with Dovecot's evidence. systemd-analyze verify
    takes the sockets beside the built services."""
    f = Fixture(ctx, "mailu", "spawn", free_ports("mailu"))
    r = f.imported()
    assert r.returncode == 0, r.stderr
    units = f.units()
    served = {}
    for name, (port, text) in units.items():
        k = dict(line.split("=", 1) for line in text.splitlines()
                 if "=" in line and not line.startswith("#"))
        assert k["Accept"] == "no" and k["FileDescriptorName"] == name, text
        for gone in ("MaxConnections", "MaxConnectionsPerSource",
                     "TriggerLimitIntervalSec"):
            assert gone not in k, text
        service = k.get("Service", "postern-%s.service" % name)
        served.setdefault(service, []).append((name, port))
        assert "served by %s" % service in r.stderr, r.stderr
    # Every service is a shipped one, and the socket of its own name is
    # among the generated ones.
    for service, socks in served.items():
        own = service[len("postern-"):-len(".service")]
        assert own in units, (service, socks)
        assert os.path.exists(os.path.join(lib.BUILDDIR, "units", service)), service
    imap = served["postern-imap.service"]
    assert len(imap) == 2, served
    if shutil.which("systemd-analyze"):
        d = ctx.tmp("verify-units")
        os.makedirs(d)
        for service in served:
            shutil.copy(os.path.join(lib.BUILDDIR, "units", service), d)
        for name in units:
            shutil.copy(os.path.join(f.out, "postern-%s.socket" % name), d)
        v = subprocess.run(["systemd-analyze", "verify", "--man=no"]
                           + sorted(os.path.join(d, n) for n in os.listdir(d)),
                           capture_output=True, text=True)
        assert "Unknown key" not in v.stderr and "Invalid" not in v.stderr, v.stderr
        # A Service= naming no loaded unit, a service without its socket.
        assert "not loaded" not in v.stderr and "not found" not in v.stderr, v.stderr
    # The active copy, as postern-config.service makes it.
    log = ctx.tmp("spawned-sessions.log")
    conf, active = os.path.join(f.out, "spawned.conf"), os.path.join(f.out, "active.conf")
    with open(os.path.join(f.out, "postern.conf")) as src, open(conf, "w") as dst:
        dst.write(src.read() + '\nerror_log = "%s"\nlog_level = "debug"\n'
                  'relay_program = "%s"\nguard_relay_program = "%s"\n'
                  'tls_program = "%s"\n' % (log, lib.RELAY, lib.GUARD_RELAY, lib.TLS))
    a = subprocess.run([lib.POSTERN, "-A", "-c", conf, "-a", active],
                       capture_output=True, text=True, timeout=60)
    assert a.returncode == 0, a.stderr
    argv, env = spawner_of(os.path.join(lib.BUILDDIR, "units", "postern-imap.service"))
    assert argv[0].endswith("/postern-spawn") and argv[5].endswith("/postern"), argv
    assert argv[1:5] == ["-m", env["SESSIONS_MAX"], "-p", env["SESSIONS_PER_SOURCE"]], argv
    # This build's programs and active copy where the unit names the
    # installed ones.
    argv = [os.path.join(lib.BUILDDIR, "src", "postern-spawn")] + argv[1:5] + \
        [lib.POSTERN, "-a", active]
    cmd = ["systemd-socket-activate", "--fdname=" + ":".join(n for n, _ in imap)]
    for _, port in imap:
        cmd += ["-l", "127.0.0.1:%d" % port]
    for k, v in lib.sanitizer_env().items():
        cmd += ["-E", "%s=%s" % (k, v)]
    proc = subprocess.Popen(cmd + argv, stdout=subprocess.DEVNULL,
                            stderr=open(ctx.tmp("spawned.err"), "w"))
    try:
        for _, port in imap:
            lib.wait_port(port, proc=proc)
        since = len(ctx.dovecot.read_log())
        internal = f.ports["IMAP_INTERNAL"]
        public = f.ports["IMAP"]
        c = lib.greet(internal)
        c.send("c CAPABILITY\r\n")
        caps = c.until_tag("c")
        assert "STARTTLS" not in caps[0], caps
        lib.login_logout(c)
        c = lib.greet(public)
        c.send("c CAPABILITY\r\n")
        caps = c.until_tag("c")
        # starttls only: the public section, not the internal one.
        assert "STARTTLS" in caps[0] and "LOGINDISABLED" in caps[0], caps
        c.close()
        lib.wait_for(lambda: "Login: user=<alice>" in ctx.dovecot.read_log()[since:],
                     what="the internal login at Dovecot")
        names = {n for n, p in imap}
        lib.wait_for(lambda: all("server=%s " % n in open(log).read() for n in names),
                     what="both sections in the sessions' log")
        # One spawner for both sockets: systemd-socket-activate execs it.
        assert open("/proc/%d/comm" % proc.pid).read().strip() == "postern-spawn"
    finally:
        proc.terminate()
        proc.wait(10)


def test_one_per_source_limit_everywhere(ctx):
    """Issue 23 item 11: one per-source figure, chosen in postern(8)'s
    SIZING from what clients hold (an office behind one NAT), in every
    shipped way of running postern and in what the import says: the
    spawner services, the per-connection drop-in, the xinetd entries."""
    r = ctx.convert()
    assert r.returncode == 0, r.stderr
    said = dict(re.findall(r"(SESSIONS_MAX|SESSIONS_PER_SOURCE)=(\d+)", r.stderr))
    assert set(said) == {"SESSIONS_MAX", "SESSIONS_PER_SOURCE"}, r.stderr
    per_source = {}
    for name in ("imap", "pop3", "smtp", "submission", "imaps", "pop3s", "smtps"):
        _, env = spawner_of(os.path.join(lib.BUILDDIR, "units", "postern-%s.service" % name))
        assert env["SESSIONS_MAX"] == said["SESSIONS_MAX"], (name, env)
        per_source["postern-%s.service" % name] = env["SESSIONS_PER_SOURCE"]
        x = lib.settings(os.path.join(lib.BUILDDIR, "units", "postern-%s.xinetd" % name))
        per_source["postern-%s.xinetd" % name] = x["per_source"]
        assert x["instances"] == said["SESSIONS_MAX"], (name, x)
    k = lib.settings(os.path.join(lib.SRCDIR, "units", "per-connection.conf"))
    per_source["per-connection.conf"] = k["MaxConnectionsPerSource"]
    # postern-spawn's own default (a spawner started by hand), and the
    # container's entry point.
    usage = subprocess.run([os.path.join(lib.BUILDDIR, "src", "postern-spawn"), "-h"],
                           capture_output=True, text=True).stderr
    per_source["postern-spawn -p"] = re.search(r"-p PER_SOURCE \((\d+)\)", usage).group(1)
    with open(os.path.join(lib.SRCDIR, "container", "Containerfile")) as f:
        per_source["Containerfile"] = re.search(r'"-p", "(\d+)"', f.read()).group(1)
    assert set(per_source.values()) == {said["SESSIONS_PER_SOURCE"]}, per_source
    # Room for an office of twenty behind one address, about six IMAP
    # sessions each (a computer's client and a phone), as SIZING counts.
    assert int(said["SESSIONS_PER_SOURCE"]) >= 20 * 6
    with open(os.path.join(lib.SRCDIR, "doc", "postern.8")) as f:
        assert "To choose\n.B SESSIONS_PER_SOURCE\n(%s as shipped" \
            % said["SESSIONS_PER_SOURCE"] in f.read()


def test_one_idle_figure_everywhere(ctx):
    """Issue 23 item 11: postern(8) said an idle session takes 100 kB and
    container/README.md 21 KiB. One measured figure for an idle plaintext
    session (postern-relay) and one for a TLS one (postern-tls-relay), the
    same in both."""
    with open(os.path.join(lib.SRCDIR, "doc", "postern.8")) as f:
        man = f.read()
    with open(os.path.join(lib.SRCDIR, "container", "README.md")) as f:
        readme = " ".join(f.read().split())
    plain = re.search(r"\.B postern-relay\nof about (\d+) KiB private memory", man)
    tls = re.search(r"\.B postern-tls-relay\nof about (\d+) KiB", man)
    assert plain and tls, "postern(8) states no idle figure"
    assert "`postern-relay` of uid 65532: about **%s KiB** of private memory, the " \
           "figure postern(8) states" % plain.group(1) in readme, readme
    assert "`postern-tls-relay` of about **%s KiB** private, as postern(8) states" \
        % tls.group(1) in readme, readme
    # No other figure for an idle session's memory in either.
    assert not re.search(r"idle[^.]*\b100 kB", man), "postern(8) still says 100 kB"


def test_listen_pair_side_by_side(ctx):
    """nginx's two sockets, postern's one: both families get the same
    conversation."""
    if not lib.have_ipv6_loopback():
        raise lib.Skip("no IPv6 loopback")
    fn, fp = (Fixture(ctx, "listen-pair", tag, free_ports("listen-pair"))
              for tag in ("nginx", "postern"))
    r = fp.imported()
    assert r.returncode == 0, r.stderr
    units = fp.units()
    assert list(units) == ["pop3-%d" % fp.ports["POP3"]] or list(units) == ["pop3"], units
    (name, (port, unit)), = units.items()
    assert "ListenStream=%d\nBindIPv6Only=both\n" % port in unit, unit
    assert "one socket for IPv4 and IPv6" in r.stderr, r.stderr
    ctx.track(NginxRun(fn))
    # systemd-socket-activate binds "[::]:port" as the unit's one socket
    # for both families would be.
    os.environ["POSTERN_TEST_LISTEN"] = "[::]"
    try:
        ctx.postern(name, port, out=fp.out)
    finally:
        del os.environ["POSTERN_TEST_LISTEN"]
    for host in ("127.0.0.1", "::1"):
        a, b = pop3_talk(host, fn.ports["POP3"]), pop3_talk(host, port)
        assert a == b, (host, a, b)
        assert b[2].startswith(b"+OK"), b


if __name__ == "__main__":
    lib.run([test_nginx_accepts_the_input, test_conversion_and_its_notes,
             test_converted_sections_serve_logins,
             test_fixtures_refused_by_both_or_neither,
             test_mailu_public_sections_take_the_standard_names,
             test_relative_names_follow_the_configuration_file,
             test_mailu_side_by_side, test_client_certificates_side_by_side,
             test_nginx_docs_example_side_by_side, test_auth_server_example_side_by_side,
             test_sockets_hand_off_to_the_shipped_spawner,
             test_one_per_source_limit_everywhere, test_one_idle_figure_everywhere,
             test_cipher_lists_side_by_side,
             test_listen_pair_side_by_side], setup=setup)
