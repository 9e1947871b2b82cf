"""postern beside a real nginx (Debian's nginx and libnginx-mod-mail),
both in front of the same Dovecot, Postfix and auth server. The same
scripted conversations run against both; the replies must match byte for
byte and the auth requests header by header (names, order, values).
Every deliberate difference is a row of DIFFERENCES, with its reason
(doc/nginx-differences.md says the same); any other difference fails,
and so does a row that no longer differs."""
import base64
import os
import socket
import ssl
import time

import lib

# (conversation, step, reason). Step 0 is the greeting; step n the reply
# to the n-th line sent; "auth" the auth request. Keep this short.
DIFFERENCES = [
    (c, 0, "the IMAP greeting carries the capabilities, [CAPABILITY ...], "
           "which saves a client the round trip of asking (RFC 9051 7.1)")
    for c in ("imap_pre_login", "imap_login", "imap_login_quoted",
              "imap_login_bad", "imap_authenticate_plain",
              "imap_authenticate_plain_ir", "imap_authenticate_cancel",
              "imap_authenticate_bad_base64", "imap_authenticate_unknown",
              "imap_errors", "imap_too_many_errors", "imap_line_too_long",
              "imap_id", "imap_literal", "imap_authenticate_login",
              "imap_starttls_unavailable")
] + [
    ("imap_id", 1, "ID is answered, * ID NIL (RFC 2971): nginx 1.22 says BAD"),
    ("imap_id", 2, "ID is answered, * ID NIL (RFC 2971): nginx 1.22 says BAD"),
]

# The conversations: (name, protocol, server, lines). Each line is sent
# as is (CRLF added) and its whole reply read; "<close>" reads until the
# server closes.
B64_PLAIN = base64.b64encode(b"\0alice\0wonderland").decode()
B64_BAD = base64.b64encode(b"\0alice\0wrong").decode()
CONVERSATIONS = [
    ("imap_pre_login", "imap", "plain",
     ["a CAPABILITY", "b NOOP", "c LOGOUT"]),
    ("imap_login", "imap", "plain",
     ["a LOGIN alice wonderland", "b LOGOUT"]),
    ("imap_login_quoted", "imap", "plain",
     ['a LOGIN "alice" "wonderland"', "b LOGOUT"]),
    ("imap_login_bad", "imap", "plain",
     ["a LOGIN alice wrong", "<close>"]),
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
    ("imap_id", "imap", "plain",
     ['a ID ("name" "x")', "b ID NIL", "c NOOP"]),
    ("imap_literal", "imap", "plain",
     ["a LOGIN {5}", "alice {10}", "wonderland", "b LOGOUT"]),
    ("imap_authenticate_login", "imap", "plain",
     ["a AUTHENTICATE LOGIN", base64.b64encode(b"alice").decode(),
      base64.b64encode(b"wonderland").decode(), "b LOGOUT"]),
    ("imap_starttls_unavailable", "imap", "plain",
     ["a STARTTLS", "b NOOP"]),
    ("pop3_pre_login", "pop3", "plain",
     ["CAPA", "NOOP", "QUIT"]),
    ("pop3_user_pass", "pop3", "plain",
     ["USER alice", "PASS wonderland", "STAT", "QUIT"]),
    ("pop3_bad_pass", "pop3", "plain",
     ["USER alice", "PASS wrong", "<close>"]),
    ("pop3_auth", "pop3", "plain",
     ["AUTH", "AUTH PLAIN " + B64_PLAIN, "QUIT"]),
    ("pop3_auth_plain_continued", "pop3", "plain",
     ["AUTH PLAIN", B64_PLAIN, "QUIT"]),
    ("pop3_errors", "pop3", "plain",
     ["PASS x", "USER", "BOGUS", "RETR 1", "QUIT"]),
    ("pop3_too_many_errors", "pop3", "plain",
     ["BOGUS", "BOGUS", "BOGUS", "BOGUS", "BOGUS", "<close>"]),
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
    ("smtp_line_too_long", "smtp", "plain",
     ["EHLO " + "x" * 5000, "<close>"]),
    ("smtp_auth_login", "smtp", "plain",
     ["EHLO client.example", "AUTH LOGIN", base64.b64encode(b"alice").decode(),
      base64.b64encode(b"wonderland").decode(), "QUIT"]),
    ("smtp_auth_cancel", "smtp", "plain",
     ["EHLO client.example", "AUTH LOGIN", "*", "QUIT"]),
    ("pop3_auth_cancel", "pop3", "plain",
     ["AUTH LOGIN", "*", "QUIT"]),
    ("pop3_line_too_long", "pop3", "plain",
     ["USER " + "x" * 300, "<close>"]),
    ("pop3_apop_unavailable", "pop3", "plain",
     ["APOP alice 0123456789abcdef0123456789abcdef", "QUIT"]),
]


class Raw:
    """Lines exactly as they came, endings included, for byte-for-byte
    comparison; text() is a line without its ending, for the reader."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def raw_line(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""   # nginx resets where postern lingers: both end
            if not data:
                raise EOFError
            self.buf += data
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def send(self, text):
        self.sock.sendall(text.encode())

    def close(self):
        self.sock.close()


def text(raw):
    return raw.decode("utf-8", "replace").rstrip("\r\n")


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
        line = text(raw)
        if proto == "smtp":
            if len(line) < 4 or line[3] != "-":
                return lines
        elif proto == "pop3":
            multi = state.get("multi")
            if multi and line == ".":
                state["multi"] = False
                return lines
            if not multi:
                if line.startswith("+OK") and sent.upper().split(" ")[0] in (
                        "CAPA", "AUTH") and sent.upper() in ("CAPA", "AUTH"):
                    state["multi"] = True
                    continue
                return lines
        else:
            tag = state.get("tag")
            if state.get("greeting") or line.startswith("+ ") or line == "+":
                return lines
            if tag and line.startswith(tag + " "):
                return lines
            if line.startswith("* BAD") or not line.startswith("* "):
                return lines


def converse(port, proto, lines):
    c = Raw(socket.create_connection(("127.0.0.1", port), timeout=3))
    state = {}
    out = [read_reply(proto, c, "", {"greeting": True})]
    for text in lines:
        if text == "<close>":
            out.append(read_until_closed(c))
            break
        c.send(text + "\r\n")
        if proto == "imap":
            # A continuation line keeps the command's tag.
            word = text.split(" ")[0]
            if " " in text and not state.get("continuing"):
                state["tag"] = word
        out.append(read_reply(proto, c, text, state))
        state["continuing"] = text_of_last(out[-1]).startswith("+")
        if out[-1] and out[-1][-1] == "<closed>":
            break
    c.close()
    return out


def text_of_last(lines):
    return text(lines[-1]) if lines and isinstance(lines[-1], bytes) else ""


def read_until_closed(c):
    lines = []
    while True:
        try:
            lines.append(c.raw_line())
        except EOFError:
            return lines + ["<closed>"]
        except socket.timeout:
            return lines + ["<open>"]


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__()
        d = self.dovecot
        self.postfix = self.track(lib.Postfix(self.tmp, d))
        self.auth = self.track(lib.AuthServer(
            self.tmp, d.imap_port,
            backends={"pop3": d.pop3_port, "smtp": self.postfix.port}))
        common = ('auth_http = "%s"\nauth_http_header = {"X-Proxy postern"}\n'
                  'smtp_auth = {plain, login}\n' % self.auth.url)
        self.postern = {p: self.track(lib.Postern(self.tmp, global_conf=common,
                                                  protocol=p))
                        for p in ("imap", "pop3", "smtp")}
        ports = {p: lib.free_port() for p in ("imap", "pop3", "smtp")}
        self.nginx_ports = ports
        self.nginx = self.track(lib.Nginx(self.tmp, """
    server_name postern.test;
    auth_http 127.0.0.1:%d/auth;
    auth_http_header X-Proxy nginx;
    smtp_auth plain login;
    server { listen 127.0.0.1:%d; protocol imap; }
    server { listen 127.0.0.1:%d; protocol pop3; }
    server { listen 127.0.0.1:%d; protocol smtp; }
""" % (self.auth.port, ports["imap"], ports["pop3"], ports["smtp"]),
            list(ports.values())))

    def dump(self):
        return super().dump() + "\nnginx log:\n" + self.nginx.read_log()[-1500:]


def requests_by(ctx, who, since):
    return [{k: v for k, v in r.items() if k != "X-Proxy"}
            for r in ctx.auth.requests()[since:] if r.get("X-Proxy") == who]


def run_one(ctx, name, proto, server, lines):
    since = len(ctx.auth.requests())
    got_n = converse(ctx.nginx_ports[proto], proto, lines)
    got_p = converse(ctx.postern[proto].port, proto, lines)
    time.sleep(0.05)
    diffs = []
    for i in range(max(len(got_n), len(got_p))):
        a = got_n[i] if i < len(got_n) else None
        b = got_p[i] if i < len(got_p) else None
        if a != b:
            diffs.append((i, a, b))
    rn, rp = requests_by(ctx, "nginx", since), requests_by(ctx, "postern", since)
    if [list(r.items()) for r in rn] != [list(r.items()) for r in rp]:
        diffs.append(("auth", rn, rp))
    return diffs


def test_conversations_match_nginx(ctx):
    unexplained, used = [], set()
    table = {(c, s): r for c, s, r in DIFFERENCES}
    for name, proto, server, lines in CONVERSATIONS:
        for step, a, b in run_one(ctx, name, proto, server, lines):
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
