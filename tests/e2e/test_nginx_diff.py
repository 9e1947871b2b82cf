"""postern beside a real nginx (Debian's nginx and libnginx-mod-mail),
both in front of the same Dovecot, Postfix and auth servers. The same
scripted conversations run against both; the replies must match byte for
byte and the auth requests header by header (names, order, values).
Every deliberate difference is a row of DIFFERENCES, with its reason
(doc/nginx-differences.md says the same); any other difference fails,
and so does a row that no longer differs. Random salts are the one thing
normalised before comparing."""
import base64
import hashlib
import hmac
import re
import os
import socket
import ssl
import subprocess

import lib

B64_PLAIN = base64.b64encode(b"\0alice\0wonderland").decode()
B64_BAD = base64.b64encode(b"\0alice\0wrong").decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


def cram(user, password):
    """A CRAM-MD5 answer to the challenge in the last reply line."""
    def answer(reply):
        salt = base64.b64decode(lib_text(reply[-1]).split(" ", 1)[1])
        digest = hmac.new(password.encode(), salt, hashlib.md5).hexdigest()
        return b64("%s %s" % (user, digest))
    return answer


def apop(user, password):
    """APOP with the salt of the greeting, the first reply."""
    def answer(reply, greeting):
        salt = re.search(r"<[^>]*>", lib_text(greeting[0])).group(0)
        return "APOP %s %s" % (user, hashlib.md5((salt + password).encode()).hexdigest())
    answer.wants_greeting = True
    return answer


def lib_text(raw):
    return raw.decode("utf-8", "replace").rstrip("\r\n")


# (conversation, step, reason). Step 0 is the greeting; step n the reply
# to the n-th line sent; "auth" the auth requests. Keep this short.
IMAP_ALL = ("imap_pre_login", "imap_login", "imap_login_quoted",
            "imap_login_bad", "imap_authenticate_plain",
            "imap_authenticate_plain_ir", "imap_authenticate_cancel",
            "imap_authenticate_bad_base64", "imap_authenticate_unknown",
            "imap_errors", "imap_too_many_errors", "imap_line_too_long",
            "imap_id", "imap_literal", "imap_authenticate_login",
            "imap_starttls_unavailable", "imap_backend_refuses",
            "imap_backend_refuses_passed", "imap_backend_down",
            "imap_starttls", "imap_tls", "imap_tls_cert", "imap_tls12",
            "imap_tls12_cert", "imap_optional_none", "imap_cert_names",
            "imap_cert_strings")
DIFFERENCES = [
    (c, 0, "the IMAP greeting carries the capabilities, [CAPABILITY ...], "
           "which saves a client the round trip of asking (RFC 9051 7.1)")
    for c in IMAP_ALL
] + [
    ("imap_id", 1, "ID is answered, * ID NIL (RFC 2971): nginx 1.22 says BAD"),
    ("imap_id", 2, "ID is answered, * ID NIL (RFC 2971): nginx 1.22 says BAD"),
    ("pop3_long_user", 1, "pop3_client_buffer is 512 by default: RFC 2449 "
                          "allows 255-octet arguments, nginx's 128 refuses them"),
    ("pop3_long_user", 2, "pop3_client_buffer is 512 by default: RFC 2449 "
                          "allows 255-octet arguments, nginx's 128 refuses them"),
]

# The conversations: (name, protocol, kind, lines). A line is sent as is
# (CRLF added) and its whole reply read; a function makes the line from
# the last reply; "<starttls>" starts TLS on the socket; "<close>" reads
# until the server closes. The kind picks the pair of servers.
CONVERSATIONS = [
    ("imap_pre_login", "imap", "plain", ["a CAPABILITY", "b NOOP", "c LOGOUT"]),
    ("imap_login", "imap", "plain", ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_login_quoted", "imap", "plain",
     ['a LOGIN "alice" "wonderland"', "b LOGOUT"]),
    ("imap_login_bad", "imap", "plain", ["a LOGIN alice wrong", "<close>"]),
    ("imap_authenticate_plain", "imap", "plain",
     ["a AUTHENTICATE PLAIN", B64_PLAIN, "b LOGOUT"]),
    ("imap_authenticate_plain_ir", "imap", "plain",
     ["a AUTHENTICATE PLAIN " + B64_PLAIN, "b LOGOUT"]),
    ("imap_authenticate_cancel", "imap", "plain",
     ["a AUTHENTICATE PLAIN", "*", "b NOOP"]),
    ("imap_authenticate_bad_base64", "imap", "plain",
     ["a AUTHENTICATE PLAIN", "!!!", "b NOOP"]),
    ("imap_authenticate_unknown", "imap", "plain",
     ["a AUTHENTICATE GSSAPI", "b NOOP"]),
    ("imap_errors", "imap", "plain",
     ["a SELECT INBOX", "b", "", "c LOGIN", "d NOOP"]),
    ("imap_too_many_errors", "imap", "plain",
     ["a BOGUS", "b BOGUS", "c BOGUS", "d BOGUS", "e BOGUS", "<close>"]),
    ("imap_line_too_long", "imap", "plain",
     ["a LOGIN " + "x" * 5000 + " y", "<close>"]),
    ("imap_id", "imap", "plain", ['a ID ("name" "x")', "b ID NIL", "c NOOP"]),
    ("imap_literal", "imap", "plain",
     ["a LOGIN {5}", "alice {10}", "wonderland", "b LOGOUT"]),
    ("imap_authenticate_login", "imap", "plain",
     ["a AUTHENTICATE LOGIN", b64("alice"), b64("wonderland"), "b LOGOUT"]),
    ("imap_starttls_unavailable", "imap", "plain", ["a STARTTLS", "b NOOP"]),
    # The auth server says yes, the backend no (an alias with a stale
    # password): nginx's internal error, or the backend's own words.
    ("imap_backend_refuses", "imap", "plain",
     ["a LOGIN stale wonderland", "<close>"]),
    ("imap_backend_refuses_passed", "imap", "pass",
     ["a LOGIN stale wonderland", "<close>"]),
    ("imap_backend_down", "imap", "down", ["a LOGIN alice wonderland", "<close>"]),
    ("imap_starttls", "imap", "starttls",
     ["a CAPABILITY", "b STARTTLS", "<starttls>", "c CAPABILITY",
      "d LOGIN alice wonderland", "e LOGOUT"]),
    ("imap_tls", "imap", "tls", ["a CAPABILITY", "b LOGIN alice wonderland",
                                 "c LOGOUT"]),
    ("imap_tls_cert", "imap", "verify", ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_tls12", "imap", "tls-1.2", ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_tls12_cert", "imap", "verify-1.2", ["a LOGIN alice wonderland",
                                                "b LOGOUT"]),
    ("imap_optional_rogue", "imap", "optional-rogue",
     ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_optional_none", "imap", "optional-nocert",
     ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_tls_no_cert", "imap", "verify-nocert", ["<close>"]),
    ("imap_tls_rogue_cert", "imap", "verify-rogue", ["<close>"]),
    ("pop3_pre_login", "pop3", "plain", ["CAPA", "NOOP", "QUIT"]),
    ("pop3_user_pass", "pop3", "plain",
     ["USER alice", "PASS wonderland", "STAT", "QUIT"]),
    ("pop3_bad_pass", "pop3", "plain", ["USER alice", "PASS wrong", "<close>"]),
    ("pop3_auth", "pop3", "plain", ["AUTH", "AUTH PLAIN " + B64_PLAIN, "QUIT"]),
    ("pop3_auth_plain_continued", "pop3", "plain", ["AUTH PLAIN", B64_PLAIN, "QUIT"]),
    ("pop3_errors", "pop3", "plain", ["PASS x", "USER", "BOGUS", "RETR 1", "QUIT"]),
    ("pop3_too_many_errors", "pop3", "plain",
     ["BOGUS", "BOGUS", "BOGUS", "BOGUS", "BOGUS", "<close>"]),
    ("pop3_auth_cancel", "pop3", "plain", ["AUTH LOGIN", "*", "QUIT"]),
    ("pop3_line_too_long", "pop3", "plain", ["USER " + "x" * 600, "<close>"]),
    ("pop3_long_user", "pop3", "plain", ["USER " + "x" * 200, "QUIT"]),
    ("pop3_apop_unavailable", "pop3", "plain",
     ["APOP alice 0123456789abcdef0123456789abcdef", "QUIT"]),
    ("pop3_apop", "pop3", "cram", [apop("alice", "wonderland"), "STAT", "QUIT"]),
    ("pop3_cram_md5", "pop3", "cram",
     ["AUTH CRAM-MD5", cram("alice", "wonderland"), "QUIT"]),
    ("pop3_backend_refuses", "pop3", "plain",
     ["USER stale", "PASS wonderland", "<close>"]),
    ("pop3_stls", "pop3", "starttls",
     ["CAPA", "STLS", "<starttls>", "CAPA", "USER alice", "PASS wonderland", "QUIT"]),
    ("pop3_tls_cert", "pop3", "verify", ["USER alice", "PASS wonderland", "QUIT"]),
    ("pop3_tls_no_cert", "pop3", "verify-nocert", ["<close>"]),
    ("pop3_tls_rogue_cert", "pop3", "verify-rogue", ["<close>"]),
    ("smtp_pre_login", "smtp", "plain",
     ["EHLO client.example", "HELO client.example", "NOOP", "RSET",
      "MAIL FROM:<a@example.org>", "QUIT"]),
    ("smtp_auth_plain", "smtp", "plain",
     ["EHLO client.example", "AUTH PLAIN " + B64_PLAIN, "QUIT"]),
    ("smtp_auth_bad", "smtp", "plain",
     ["EHLO client.example", "AUTH PLAIN " + B64_BAD, "<close>"]),
    ("smtp_errors", "smtp", "plain",
     ["BOGUS", "AUTH PLAIN " + B64_PLAIN, "EHLO", "QUIT"]),
    ("smtp_too_many_errors", "smtp", "plain",
     ["BOGUS", "BOGUS", "BOGUS", "BOGUS", "BOGUS", "<close>"]),
    ("smtp_line_too_long", "smtp", "plain", ["EHLO " + "x" * 5000, "<close>"]),
    ("smtp_auth_login", "smtp", "plain",
     ["EHLO client.example", "AUTH LOGIN", b64("alice"), b64("wonderland"), "QUIT"]),
    ("smtp_auth_cancel", "smtp", "plain",
     ["EHLO client.example", "AUTH LOGIN", "*", "QUIT"]),
    ("smtp_cram_md5_no_pass", "smtp", "cram",
     ["EHLO client.example", "AUTH CRAM-MD5", cram("alice", "wonderland"), "QUIT"]),
    ("smtp_xclient_refused", "smtp", "noxclient",
     ["EHLO client.example", "AUTH PLAIN " + B64_PLAIN, "<close>"]),
    ("smtp_xclient_refused_passed", "smtp", "noxclient-pass",
     ["EHLO client.example", "AUTH PLAIN " + B64_PLAIN, "<close>"]),
    ("smtp_early_talker", "smtp", "delay", ["<early>EHLO client.example", "<close>"]),
    ("smtp_none", "smtp", "none",
     ["EHLO client.example", "MAIL FROM:<alice@example.org>",
      "RCPT TO:<bob@example.org>", "RSET", "QUIT"]),
    ("smtp_starttls", "smtp", "starttls",
     ["EHLO client.example", "STARTTLS", "<starttls>", "EHLO client.example",
      "AUTH PLAIN " + B64_PLAIN, "QUIT"]),
    ("smtp_tls_cert", "smtp", "verify",
     ["EHLO client.example", "AUTH PLAIN " + B64_PLAIN, "QUIT"]),
    ("smtp_tls_no_cert", "smtp", "verify-nocert", ["<close>"]),
    ("smtp_tls_rogue_cert", "smtp", "verify-rogue", ["<close>"]),
    # Auth-SSL-Subject and -Issuer as OpenSSL prints them for nginx: the
    # attributes auth scripts match (emailAddress, SN, GN, ...), one
    # OpenSSL does not know, a multi-valued RDN, escapes, and each string
    # type; the certificate itself passed on too (Auth-SSL-Cert).
    ("imap_cert_names", "imap", "names-rich", ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_cert_strings", "imap", "names-strings",
     ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("smtp_cert_names", "smtp", "names-rich",
     ["EHLO client.example", "AUTH PLAIN " + B64_PLAIN, "QUIT"]),
]

# What each kind of server adds to the common settings: (postern, nginx).
TLS_P = 'ssl_certificate = {"%(cert)s"}\nssl_certificate_key = {"%(key)s"}\n'
TLS_N = "ssl_certificate %(cert)s; ssl_certificate_key %(key)s;"
VERIFY_P = (TLS_P + 'ssl = true\nssl_verify_client = on\n'
            'ssl_client_certificate = "%(ca)s"\n')
VERIFY_N = TLS_N + " ssl_verify_client on; ssl_client_certificate %(ca)s;"
KINDS = {
    "plain": ("", ""),
    "pass": ("proxy_pass_error_message = true\n", "proxy_pass_error_message on;"),
    "down": ('auth_http = "%(down_url)s"\n', "auth_http %(down_auth)s;"),
    "cram": ('auth_http = "%(nopass_url)s"\nsmtp_auth = {plain, login, cram-md5}\n'
             'pop3_auth = {plain, apop, cram-md5}\n',
             "auth_http %(nopass_auth)s; smtp_auth plain login cram-md5; "
             "pop3_auth plain apop cram-md5;"),
    "noxclient": ('auth_http = "%(noxclient_url)s"\n', "auth_http %(noxclient_auth)s;"),
    "noxclient-pass": ('auth_http = "%(noxclient_url)s"\n'
                       'proxy_pass_error_message = true\n',
                       "auth_http %(noxclient_auth)s; proxy_pass_error_message on;"),
    "delay": ('smtp_greeting_delay = "500ms"\n', "smtp_greeting_delay 500ms;"),
    "none": ('smtp_auth = {none}\n', "smtp_auth none;"),
    "starttls": (TLS_P + 'starttls = on\n', TLS_N + " starttls on;"),
    "tls": (TLS_P + 'ssl = true\n', TLS_N),
    "verify": (VERIFY_P, VERIFY_N),
    "optional": (VERIFY_P.replace("= on", "= optional"),
                 VERIFY_N.replace(" on;", " optional;")),
}
KINDS["names"] = (VERIFY_P.replace("%(ca)s", "%(names_ca)s") +
                  "auth_http_pass_client_cert = true\n",
                  VERIFY_N.replace("%(ca)s", "%(names_ca)s") +
                  " auth_http_pass_client_cert on;")
CLIENT_CERT = {"verify": "client", "verify-1.2": "client", "verify-rogue": "rogue",
               "optional-rogue": "rogue", "names-rich": "rich",
               "names-strings": "strings", "starttls-rich": "rich"}
TLS_KINDS = ("tls", "verify", "optional", "names")


def kind_of(kind):
    """Servers are shared by kinds that differ only in the client: its
    certificate, or the TLS version it stops at."""
    return kind.split("-")[0] if kind.split("-")[0] in TLS_KINDS else kind


# Client certificates whose names hold what Auth-SSL-Subject and -Issuer
# must print as nginx does, made by openssl (certtool cannot choose the
# string types): (issuer CA's subject, subject, string_mask). The CA's own
# subject is the client's Auth-SSL-Issuer.
NAMED = {
    "rich": ("/DC=org/DC=example/O=Example\\, Inc./OU=Mail+OU=Certificates"
             "/CN=Names CA #1/emailAddress=ca@example.org",
             "/C=DE/ST=Berlin/L=Berlin/O=Example/OU=Mail/title=Dr./CN=alice"
             "/SN=Liddell/GN=Alice/initials=A./emailAddress=alice@example.org"
             "/x500UniqueIdentifier=demo/UID=alice+serialNumber=42"
             "/pseudonym=al/organizationIdentifier=VATDE-123/dnQualifier=q"
             "/unknownAttribute=not known to OpenSSL", "utf8only"),
    # PrintableString, T61String (Latin-1) and BMPString, as OpenSSL's
    # "default" mask picks them; RFC 2253's specials and the first and
    # last characters that must be escaped; UTF-8 outside ASCII.
    "strings": ("/CN=Zo\u00eb's CA/O=\u20ac Corp",
                "/CN=\\#alice/OU=a\\,b\\+c;d<e>f\\\\g=h"
                "/O=Stra\u00dfe/L=\u20ac/street=plain", "default"),
}


# unknownAttribute: an OID the openssl here is told of, nginx's OpenSSL not.
OPENSSL_CNF = """oid_section = oids
[oids]
unknownAttribute = 1.3.6.1.4.1.99999.1
[req]
distinguished_name = dn
string_mask = %s
utf8 = yes
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
"""


def make_named(tmp, name, ca_subject, subject, mask):
    """A CA with ca_subject and a client certificate with subject signed
    by it; returns (ca, cert, key)."""
    d = tmp("names-" + name)
    os.makedirs(d, exist_ok=True)

    def path(n):
        return os.path.join(d, n)

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    with open(path("openssl.cnf"), "w") as f:
        f.write(OPENSSL_CNF % mask)
    new = ["req", "-config", path("openssl.cnf"), "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-multivalue-rdn"]
    openssl(*new, "-x509", "-keyout", path("ca.key"), "-out", path("ca.pem"),
            "-days", "30", "-subj", ca_subject, "-extensions", "ca")
    openssl(*new, "-keyout", path("client.key"), "-out", path("client.csr"),
            "-subj", subject)
    openssl("x509", "-req", "-in", path("client.csr"), "-CA", path("ca.pem"),
            "-CAkey", path("ca.key"), "-set_serial", "4242", "-days", "30",
            "-extfile", path("openssl.cnf"), "-extensions", "client",
            "-out", path("client.pem"))
    return path("ca.pem"), path("client.pem"), path("client.key")


class Raw:
    """Lines exactly as they came, endings included, for byte-for-byte
    comparison."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def raw_line(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                data = b""   # nginx resets where postern lingers: both end
            if not data:
                raise EOFError
            self.buf += data
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def send(self, text):
        self.sock.sendall(text.encode())


def read_reply(proto, s, sent, state):
    """The whole reply to one line: a list of lines, "<closed>" last when
    the server closed."""
    lines = []
    while True:
        try:
            raw = s.raw_line()
        except EOFError:
            return lines + ["<closed>"]
        except socket.timeout:
            return lines + ["<timeout>"]
        lines.append(raw)
        line = lib_text(raw)
        if proto == "smtp":
            if len(line) < 4 or line[3] != "-":
                return lines
        elif proto == "pop3":
            if state.get("multi"):
                if line == ".":
                    state["multi"] = False
                    return lines
                continue
            if line.startswith("+OK") and sent.upper() in ("CAPA", "AUTH"):
                state["multi"] = True
                continue
            return lines
        else:
            if state.get("greeting") or line.startswith("+ ") or line == "+":
                return lines
            tag = state.get("tag")
            if tag and line.startswith(tag + " "):
                return lines
            if line.startswith("* BAD") or not line.startswith("* "):
                return lines


def read_until_closed(c):
    lines = []
    while True:
        try:
            lines.append(c.raw_line())
        except EOFError:
            return lines + ["<closed>"]
        except socket.timeout:
            return lines + ["<open>"]


class Conversation:
    def __init__(self, ctx, port, proto, kind):
        self.ctx, self.port, self.proto, self.kind = ctx, port, proto, kind

    def context(self):
        c = ssl.create_default_context(cafile=self.ctx.certs.ca)
        c.check_hostname = False
        if self.kind.endswith("-1.2"):
            c.maximum_version = ssl.TLSVersion.TLSv1_2
        cert = CLIENT_CERT.get(self.kind)
        if cert:
            certs = self.ctx.certs
            chains = {"client": (certs.client, certs.client_key),
                      "rogue": (certs.rogue, certs.rogue_key)}
            chains.update({n: v[1:] for n, v in self.ctx.named.items()})
            c.load_cert_chain(*chains[cert])
        return c

    def run(self, lines):
        # Dovecot delays a refusal by seconds (auth_failure_delay, and its
        # penalty grows with each one from 127.0.0.1).
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if kind_of(self.kind) in TLS_KINDS:
            try:
                sock = self.context().wrap_socket(sock, server_hostname="localhost")
            except (ssl.SSLError, ConnectionResetError) as e:
                return [["<tls refused: %s>" % type(e).__name__]]
        c = Raw(sock)
        out, state = [], {}
        if lines and isinstance(lines[0], str) and lines[0].startswith("<early>"):
            # Talks before the greeting, then reads whatever comes.
            c.send(lines[0][len("<early>"):] + "\r\n")
            return [read_until_closed(c)]
        out.append(read_reply(self.proto, c, "", {"greeting": True}))
        for line in lines:
            if line == "<close>":
                out.append(read_until_closed(c))
                break
            if line == "<starttls>":
                c = Raw(self.context().wrap_socket(c.sock, server_hostname="localhost"))
                continue
            if callable(line):
                line = (line(out[-1], out[0]) if getattr(line, "wants_greeting", 0)
                        else line(out[-1]))
            try:
                c.send(line + "\r\n")
            except (ConnectionResetError, BrokenPipeError):
                out.append(["<closed>"])   # it had closed after its reply
                break
            if self.proto == "imap":
                word = line.split(" ")[0]
                if " " in line and not state.get("continuing"):
                    state["tag"] = word
            out.append(read_reply(self.proto, c, line, state))
            last = out[-1][-1] if out[-1] else ""
            state["continuing"] = isinstance(last, bytes) and last.startswith(b"+")
            if out[-1] and out[-1][-1] == "<closed>":
                break
        c.sock.close()
        return [[normalise(x) for x in reply] for reply in out]


SALT = re.compile(rb"<[0-9.]+@[^>]*>")


def normalise(line):
    """Salts are random: APOP's in the greeting, CRAM-MD5's challenges."""
    if not isinstance(line, bytes):
        return line
    line = SALT.sub(b"<salt>", line)
    m = re.match(rb"^(334|\+) ([A-Za-z0-9+/=]+)\r\n$", line)
    if m:
        try:
            if SALT.match(base64.b64decode(m.group(2))):
                return m.group(1) + b" <salt>\r\n"
        except ValueError:
            pass
    return line


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        d = self.dovecot
        self.postfix = self.track(lib.Postfix(self.tmp, d))
        backends = {"pop3": d.pop3_port, "smtp": self.postfix.port}
        aliases = {"stale": ("alice", "not-her-password")}
        self.auths = {
            "main": self.track(lib.AuthServer(self.tmp, d.imap_port, aliases=aliases,
                                              backends=backends)),
            "down": self.track(lib.AuthServer(self.tmp, lib.free_port(),
                                              backends=backends)),
            "nopass": self.track(lib.AuthServer(self.tmp, d.imap_port, mode="no-pass",
                                                backends=backends)),
            "noxclient": self.track(lib.AuthServer(
                self.tmp, d.imap_port,
                backends=dict(backends, smtp=self.postfix.noxclient_port))),
        }
        self.named = {n: make_named(self.tmp, n, *v) for n, v in NAMED.items()}
        fill = {"cert": self.certs.server, "key": self.certs.server_key,
                "ca": self.certs.ca, "names_ca": self.tmp("names-ca.pem")}
        with open(fill["names_ca"], "w") as out:
            for ca, _, _ in self.named.values():
                with open(ca) as f:
                    out.write(f.read())
        for name, a in self.auths.items():
            fill[name + "_url"] = a.url
            fill[name + "_auth"] = "127.0.0.1:%d/auth" % a.port
        wanted = sorted({(proto, kind_of(kind)) for _, proto, kind, _ in CONVERSATIONS})
        self.postern, self.nginx_ports, servers = {}, {}, []
        for proto, kind in wanted:
            extra_p, extra_n = (k % fill for k in KINDS[kind])
            self.postern[proto, kind] = self.track(lib.Postern(
                self.tmp, protocol=proto, name="%s-%s" % (proto, kind),
                global_conf='auth_http = "%s"\nauth_http_header = {"X-Proxy postern"}\n'
                            'smtp_auth = {plain, login}\n' % self.auths["main"].url,
                server_conf=extra_p))
            port = self.nginx_ports[proto, kind] = lib.free_port()
            servers.append("server { listen 127.0.0.1:%d%s; protocol %s; %s }" %
                           (port, " ssl" if kind in TLS_KINDS else "",
                            proto, extra_n))
        self.nginx = self.track(lib.Nginx(self.tmp, """
    server_name postern.test;
    ssl_protocols TLSv1.2 TLSv1.3;
    auth_http %s;
    auth_http_header X-Proxy nginx;
    smtp_auth plain login;
    %s
""" % (fill["main_auth"], "\n    ".join(servers)), list(self.nginx_ports.values())))

    def requests(self):
        return [r for a in self.auths.values() for r in a.requests()]

    def dump(self):
        return super().dump() + "\nnginx log:\n" + self.nginx.read_log()[-1500:]


def requests_by(ctx, who, before):
    out = []
    for a, n in zip(ctx.auths.values(), before):
        for r in a.requests()[n:]:
            if r.get("X-Proxy") != who:
                continue
            r = {k: v for k, v in r.items() if k != "X-Proxy"}
            if "Auth-Salt" in r:
                r["Auth-Salt"] = "<salt>"
                r["Auth-Pass"] = "<digest>"
            out.append(list(r.items()))
    return out


def differences(ctx, proto, kind, lines):
    before = [len(a.requests()) for a in ctx.auths.values()]
    got_n = Conversation(ctx, ctx.nginx_ports[proto, kind_of(kind)], proto,
                         kind).run(lines)
    got_p = Conversation(ctx, ctx.postern[proto, kind_of(kind)].port, proto,
                         kind).run(lines)
    diffs = []
    for i in range(max(len(got_n), len(got_p))):
        a = got_n[i] if i < len(got_n) else None
        b = got_p[i] if i < len(got_p) else None
        if a != b:
            diffs.append((i, a, b))
    rn, rp = requests_by(ctx, "nginx", before), requests_by(ctx, "postern", before)
    if rn != rp:
        diffs.append(("auth", rn, rp))
    return diffs


def test_conversations_match_nginx(ctx):
    unexplained, used = [], set()
    table = {(c, s): r for c, s, r in DIFFERENCES}
    for name, proto, kind, lines in CONVERSATIONS:
        for step, a, b in differences(ctx, proto, kind, lines):
            if (name, step) in table:
                used.add((name, step))
            else:
                unexplained.append("%s step %s:\n  nginx:   %r\n  postern: %r"
                                   % (name, step, a, b))
    stale = [k for k in table if k not in used]
    assert not unexplained, "differences from nginx:\n" + "\n".join(unexplained)
    assert not stale, "table rows that no longer differ: %r" % stale


CTX = None


def setup():
    global CTX
    CTX = Ctx()
    return CTX


if __name__ == "__main__":
    lib.run([test_conversations_match_nginx], setup=setup)
