"""postern against an auth_http server speaking nginx's protocol."""
import base64
import hashlib
import hmac
import imaplib
import socket
import time
import urllib.parse

import lib


class Ctx(lib.Harness):
    def proxy(self, auth_url, extra=""):
        conf = 'auth_http = "%s"\nauth_http_header = {"X-Auth-Key secret-key"}\n' \
               'imap_auth = {plain, login}\n%s' % (auth_url, extra)
        return self.track(lib.Postern(self.tmp, global_conf=conf))

    def auth(self, **kw):
        return self.track(lib.AuthServer(self.tmp, self.dovecot.imap_port, **kw))


def greet(p):
    return lib.greet(p.port)


def test_headers_the_auth_server_saw(ctx):
    a = ctx.auth()
    p = ctx.proxy(a.url)
    m = imaplib.IMAP4("127.0.0.1", p.port)
    m.login("bob@example.org", lib.USERS["bob@example.org"])
    m.logout()
    req = a.requests()[-1]
    assert req["_path"] == "/auth"
    assert req["Host"] == "127.0.0.1"
    assert req["Auth-Method"] == "plain"
    assert req["Auth-User"] == "bob@example.org"
    # nginx escapes space, '%' and control characters, nothing else.
    assert req["Auth-Pass"] == 'b0b%20pass%20"quoted"%20\\slash', req["Auth-Pass"]
    assert req["Auth-Protocol"] == "imap"
    assert req["Auth-Login-Attempt"] == "1"
    assert req["Client-IP"] == "127.0.0.1"
    assert req["X-Auth-Key"] == "secret-key"
    assert "Auth-Salt" not in req


def test_auth_http_by_host_name(ctx):
    """A name in auth_http is resolved when the configuration is read, and
    sent as Host:, as nginx does."""
    first = socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)[0][4][0]
    if first != "127.0.0.1":
        raise lib.Skip("localhost resolves to %s first here" % first)
    a = ctx.auth()
    p = ctx.proxy("http://localhost:%d/auth" % a.port)
    m = imaplib.IMAP4("127.0.0.1", p.port)
    m.login("alice", "wonderland")
    m.logout()
    req = a.requests()[-1]
    assert req["Host"] == "localhost" and req["Auth-User"] == "alice", req
    assert "event=login" in p.wait_log("result=relayed")


def test_authenticate_login_is_plain_to_the_auth_server(ctx):
    a = ctx.auth()
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("a AUTHENTICATE LOGIN %s\r\n" % base64.b64encode(b"alice").decode())
    assert c.line() == "+ UGFzc3dvcmQ6"
    c.send(base64.b64encode(b"wonderland") + b"\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    assert a.requests()[-1]["Auth-Method"] == "plain"
    c.close()


def test_authenticate_cram_md5(ctx):
    a = ctx.auth()
    p = ctx.proxy(a.url, 'imap_auth = {plain, cram-md5}\n')
    c = greet(p)
    c.send("c CAPABILITY\r\n")
    assert "AUTH=CRAM-MD5" in c.until_tag("c")[0]
    c.send("a AUTHENTICATE CRAM-MD5\r\n")
    line = c.line()
    salt = base64.b64decode(line[2:])
    assert line.startswith("+ ") and salt.endswith(b"@postern.test>"), line
    digest = hmac.new(b"wonderland", salt, hashlib.md5).hexdigest()
    c.send(base64.b64encode(b"alice " + digest.encode()) + b"\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    req = a.requests()[-1]
    assert req["Auth-Method"] == "cram-md5" and req["Auth-Salt"] == salt.decode()
    assert req["Auth-Pass"] == digest
    c.close()


def test_auth_server_rewrites_user_and_password(ctx):
    a = ctx.auth(aliases={"nick": ["alice", "wonderland"]})
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("r1 LOGIN nick whatever\r\n")
    assert c.until_tag("r1")[-1].startswith("r1 OK")
    c.send("r2 SELECT INBOX\r\n")
    assert c.until_tag("r2")[-1].startswith("r2 OK")
    c.close()


def test_failure_with_auth_wait_lets_client_retry(ctx):
    a = ctx.auth(wait=1)
    p = ctx.proxy(a.url)
    c = greet(p)
    start = time.time()
    c.send("f1 LOGIN alice wrong\r\n")
    assert c.line() == "f1 NO Invalid login or password"
    assert time.time() - start >= 0.9, "Auth-Wait was not honoured"
    c.send("f2 LOGIN alice wonderland\r\n")
    assert c.until_tag("f2")[-1].startswith("f2 OK")
    attempts = [r["Auth-Login-Attempt"] for r in a.requests()[-2:]]
    assert attempts == ["1", "2"], attempts
    c.close()


def test_failure_without_auth_wait_closes(ctx):
    a = ctx.auth(wait=0)
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("f3 LOGIN alice wrong\r\n")
    assert c.line() == "f3 NO Invalid login or password"
    assert c.closed()
    assert "result=fail" in p.wait_log("event=close")


def test_auth_status_wait_asks_again(ctx):
    a = ctx.auth(mode="wait-once")
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("w1 LOGIN alice wonderland\r\n")
    assert c.until_tag("w1")[-1].startswith("w1 OK")
    assert len(a.requests()) == 2
    c.close()


def test_auth_server_down(ctx):
    p = ctx.proxy("http://127.0.0.1:%d/auth" % lib.free_port())
    c = greet(p)
    c.send("d1 LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert c.closed()
    log = p.wait_log("event=auth_error")
    assert "Connection refused" in log


def test_auth_server_slow(ctx):
    a = ctx.auth(mode="slow")
    p = ctx.proxy(a.url, extra='auth_http_timeout = "1s"\n')
    c = greet(p)
    start = time.time()
    c.send("s1 LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert time.time() - start < 5
    assert "timeout" in p.wait_log("event=auth_error")


def test_auth_server_malformed(ctx):
    a = ctx.auth(mode="malformed")
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("m1 LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert "invalid status line" in p.wait_log("event=auth_error")


def test_an_answer_with_a_nul_ends_at_its_blank_line(ctx):
    """A NUL in the answer hid the blank line after it, and a server that
    kept the connection open held the login until auth_http_timeout: the
    answer ends at its blank line, and is refused at once as invalid (the
    NUL would have cut the Auth-Status it stood in to "O")."""
    a = ctx.auth(mode="nul-held")
    p = ctx.proxy(a.url, extra='auth_http_timeout = "8s"\n')
    c = greet(p)
    c.send("z1 LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    log = p.wait_log("event=auth_error")
    assert 'invalid answer: a NUL byte"' in log, log[-1500:]
    assert "timeout" not in log


def test_answer_without_auth_status_fails_closed(ctx):
    """Issue 9, hole 5: nginx takes no Auth-Status as OK; a wrong password
    would reach the backend's door. postern refuses it as a temporary
    failure, and no login is tried at the backend."""
    a = ctx.auth(mode="no-status")
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("n1 LOGIN alice not-her-password\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert c.closed()
    log = p.wait_log("event=close")
    assert "sent no Auth-Status" in log and "result=tempfail" in log
    assert "event=login" not in log and "backend=127" not in log


def test_login_timeout_cuts_auth_wait(ctx):
    """Issue 9, hole 4: Auth-Wait sleeps count against login_timeout."""
    a = ctx.auth(wait=5)
    p = ctx.proxy(a.url, 'login_timeout = "2s"\n')
    c = greet(p)
    started = time.monotonic()
    c.send("w1 LOGIN alice not-her-password\r\n")
    assert c.line() == "* BYE Login timed out"
    assert c.closed()
    assert time.monotonic() - started < 3.5
    assert "event=login_timeout" in p.wait_log('reason="login timed out"')


def test_auth_status_text_stays_in_its_field(ctx):
    """Issue 9, hole 6: the auth server's Auth-Status text was logged raw;
    a quote in it could close the field and make new ones."""
    a = ctx.auth(mode="quoting")
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send("q1 LOGIN alice not-her-password\r\n")
    assert c.line() == 'q1 NO No" result=ok user="root'
    log = p.wait_log("event=close")
    assert 'reason="No\\x22 result=ok user=\\x22root"' in log, log


def test_auth_server_on_unix_socket(ctx):
    a = ctx.auth(unix=True)
    p = ctx.proxy(a.url)
    m = imaplib.IMAP4("127.0.0.1", p.port)
    m.login("alice", "wonderland")
    m.logout()
    req = a.requests()[-1]
    assert req["Host"] == "localhost" and req["_path"] == "/auth"


def test_escaping_of_user_with_space_and_percent(ctx):
    a = ctx.auth()
    p = ctx.proxy(a.url)
    c = greet(p)
    c.send('e1 LOGIN "odd user%" "x"\r\n')
    c.line()
    req = a.requests()[-1]
    assert req["Auth-User"] == "odd%20user%25", req["Auth-User"]
    assert urllib.parse.unquote(req["Auth-User"]) == "odd user%"
    c.close()


def test_no_password_in_log(ctx):
    for p in [r for r in ctx.running if isinstance(r, lib.Postern)]:
        lib.assert_no_passwords(p.read_log(), also=["whatever"])


if __name__ == "__main__":
    lib.run([test_headers_the_auth_server_saw,
             test_auth_http_by_host_name,
             test_authenticate_login_is_plain_to_the_auth_server,
             test_authenticate_cram_md5,
             test_auth_server_rewrites_user_and_password,
             test_failure_with_auth_wait_lets_client_retry,
             test_failure_without_auth_wait_closes,
             test_auth_status_wait_asks_again,
             test_auth_server_down,
             test_auth_server_slow,
             test_auth_server_malformed,
             test_an_answer_with_a_nul_ends_at_its_blank_line,
             test_answer_without_auth_status_fails_closed,
             test_login_timeout_cuts_auth_wait,
             test_auth_status_text_stays_in_its_field,
             test_auth_server_on_unix_socket,
             test_escaping_of_user_with_space_and_percent,
             test_no_password_in_log],
            Ctx)
