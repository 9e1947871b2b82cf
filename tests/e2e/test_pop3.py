"""POP3 through postern to a real Dovecot: every command before login,
nginx's exact replies, the embedded map and an auth_http server."""
import base64
import hashlib
import hmac
import poplib
import re
import subprocess
import time

import lib


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__()
        self.map = self.proxy()

    def proxy(self, global_conf="", **kw):
        kw.setdefault("map_lines", ["* 127.0.0.1:%d" % self.dovecot.pop3_port])
        return self.track(lib.Postern(self.tmp, protocol="pop3",
                                      global_conf=global_conf, **kw))

    def with_auth(self, pop3_auth="{plain, apop, cram-md5}"):
        a = self.track(lib.AuthServer(self.tmp, self.dovecot.pop3_port))
        p = self.proxy('auth_http = "%s"\npop3_auth = %s\n' % (a.url, pop3_auth))
        return a, p


def greet(p, expect="+OK POP3 ready"):
    c = lib.Client(p.port)
    line = c.line()
    assert line == expect or line.startswith(expect + " <"), line
    return c, line


def test_greeting_and_capa_as_nginx(ctx):
    c, line = greet(ctx.map)
    assert line == "+OK POP3 ready"
    c.send("CAPA\r\n")
    lines = [c.line() for _ in range(6)]
    assert lines == ["+OK Capability list follows", "TOP", "USER", "UIDL",
                     "SASL PLAIN LOGIN", "."], lines
    c.send("NOOP\r\n")
    assert c.line() == "+OK"
    c.send("QUIT\r\n")
    assert c.line() == "+OK"
    assert c.closed()


def test_auth_without_mechanism_lists_methods(ctx):
    c, _ = greet(ctx.map)
    c.send("AUTH\r\n")
    lines = [c.line() for _ in range(4)]
    assert lines == ["+OK methods supported:", "PLAIN", "LOGIN", "."], lines
    c.close()


def test_poplib_user_pass_retr(ctx):
    m = poplib.POP3("127.0.0.1", ctx.map.port)
    m.user("alice")
    resp = m.pass_("wonderland")
    assert resp.startswith(b"+OK"), resp   # the backend's own reply
    count, _ = m.stat()
    assert count == 1
    _, lines, _ = m.retr(1)
    assert b"Hello alice." in lines, lines
    m.quit()


def test_password_with_spaces_and_quotes(ctx):
    m = poplib.POP3("127.0.0.1", ctx.map.port)
    m.user("bob@example.org")
    m.pass_(lib.USERS["bob@example.org"])
    assert m.stat()[0] >= 1
    m.quit()


def test_auth_plain_with_and_without_initial_response(ctx):
    ir = base64.b64encode(b"\0alice\0wonderland").decode()
    c, _ = greet(ctx.map)
    c.send("AUTH PLAIN %s\r\n" % ir)
    assert c.line().startswith("+OK")
    c.send("STAT\r\n")
    assert c.line().startswith("+OK 1 ")
    c.close()
    c, _ = greet(ctx.map)
    c.send("AUTH PLAIN\r\n")
    assert c.line() == "+ "
    c.send(ir + "\r\n")
    assert c.line().startswith("+OK")
    c.close()


def test_auth_login(ctx):
    c, _ = greet(ctx.map)
    c.send("AUTH LOGIN\r\n")
    assert c.line() == "+ VXNlcm5hbWU6"
    c.send(base64.b64encode(b"alice") + b"\r\n")
    assert c.line() == "+ UGFzc3dvcmQ6"
    c.send(base64.b64encode(b"wonderland") + b"\r\n")
    assert c.line().startswith("+OK")
    c.send("STAT\r\n")
    assert c.line().startswith("+OK 1 ")
    c.close()


def test_cancel_and_bad_base64(ctx):
    c, _ = greet(ctx.map)
    c.send("AUTH PLAIN\r\n")
    assert c.line() == "+ "
    c.send("*\r\n")
    assert c.line() == "-ERR invalid command"   # nginx's words for a cancel
    c.send("AUTH PLAIN !!!!\r\n")
    assert c.line() == "-ERR invalid command"
    c.close()


def test_wrong_password_then_retry(ctx):
    m = poplib.POP3("127.0.0.1", ctx.map.port)
    m.user("alice")
    try:
        m.pass_("wrong")
        raise AssertionError("a wrong password was accepted")
    except poplib.error_proto as e:
        assert str(e).startswith("b'-ERR"), e
    m.user("alice")
    m.pass_("wonderland")
    m.quit()


def test_invalid_commands_and_max_errors(ctx):
    c, _ = greet(ctx.map)
    for cmd in ("RETR 1", "PASS nouser", "FOO", "US\x01ER x"):
        c.send(cmd + "\r\n")
        assert c.line() == "-ERR invalid command", cmd
    c.send("BAR\r\n")    # the fifth: max_errors is 5
    assert c.line() == "-ERR invalid command"
    assert c.closed()   # as nginx: no further line a client could misread
    assert "too many errors" in ctx.map.read_log()


def test_line_over_pop3_client_buffer(ctx):
    c, _ = greet(ctx.map)
    c.send("USER " + "a" * 600 + "\r\n")
    assert c.line() == "-ERR invalid command"
    assert c.closed()
    assert "event=line_too_long limit=512" in ctx.map.read_log()


def apop_digest(salt, password):
    return hashlib.md5((salt + password).encode()).hexdigest()


def test_apop_through_auth_http(ctx):
    a, p = ctx.with_auth()
    c, line = greet(p)
    salt = re.fullmatch(r"\+OK POP3 ready (<\d+\.\d+@postern\.test>)", line).group(1)
    c.send("APOP alice %s\r\n" % apop_digest(salt, "wrong"))
    assert c.line() == "-ERR Invalid login or password"
    assert c.closed()     # nginx closes after a refusal without Auth-Wait
    c, line = greet(p)
    salt = line.split(" ")[-1]
    c.send("APOP alice %s\r\n" % apop_digest(salt, "wonderland"))
    assert c.line().startswith("+OK")
    c.send("STAT\r\n")
    assert c.line().startswith("+OK 1 ")
    c.close()
    req = a.requests()[-1]
    assert req["Auth-Method"] == "apop" and req["Auth-Salt"] == salt, req
    assert req["Auth-Pass"] == apop_digest(salt, "wonderland")
    assert req["Auth-Protocol"] == "pop3"


def test_cram_md5_through_auth_http(ctx):
    a, p = ctx.with_auth()
    c, line = greet(p)
    c.send("CAPA\r\n")
    assert "SASL PLAIN LOGIN CRAM-MD5" in list(iter(c.line, "."))
    c.send("AUTH CRAM-MD5\r\n")
    challenge = c.line()
    assert challenge.startswith("+ ")
    salt = base64.b64decode(challenge[2:]).decode()
    assert salt == line.split(" ")[-1]
    digest = hmac.new(b"wonderland", salt.encode(), hashlib.md5).hexdigest()
    c.send(base64.b64encode(("alice " + digest).encode()) + b"\r\n")
    assert c.line().startswith("+OK")
    c.send("STAT\r\n")
    assert c.line().startswith("+OK 1 ")
    c.close()
    req = a.requests()[-1]
    assert req["Auth-Method"] == "cram-md5" and req["Auth-Salt"] == salt


def test_apop_needs_auth_http(ctx):
    p = lib.Postern(ctx.tmp, protocol="pop3", global_conf="pop3_auth = {plain, apop}\n")
    r = subprocess.run([lib.POSTERN, "-t", "-c", p.conf], capture_output=True, text=True)
    assert r.returncode == 1, r
    assert "need auth_http" in r.stderr, r.stderr


def test_backend_down_is_internal_server_error(ctx):
    p = ctx.proxy(map_lines=["* 127.0.0.1:%d" % lib.free_port()])
    c, _ = greet(p)
    c.send("USER alice\r\nPASS wonderland\r\n")
    assert c.line() == "+OK"
    assert c.line() == "-ERR internal server error"
    assert c.closed()


def test_under_inetd(ctx):
    p = ctx.proxy(inetd=True)
    m = poplib.POP3("127.0.0.1", p.port)
    m.user("alice")
    m.pass_("wonderland")
    assert m.stat()[0] == 1
    m.quit()
    assert "result=relayed" in p.wait_log("result=relayed")


def test_login_timeout(ctx):
    """Issue 9, hole 4: NOOP resets the idle timer, not login_timeout."""
    p = ctx.proxy('login_timeout = "2s"\n')
    c, _ = greet(p)
    started = time.monotonic()
    assert lib.noop_until_closed(c, "NOOP\r\n", "+OK") == "-ERR Login timed out"
    assert 1.5 < time.monotonic() - started < 4
    assert "event=login_timeout" in p.wait_log('reason="login timed out"')


def test_curl_lists_and_retrieves(ctx):
    url = "pop3://alice:wonderland@127.0.0.1:%d/" % ctx.map.port
    r = subprocess.run(["curl", "-sS", "--max-time", "10", url],
                       capture_output=True, text=True)
    assert r.returncode == 0 and re.match(r"1 \d+", r.stdout), r
    r = subprocess.run(["curl", "-sS", "--max-time", "10", url + "1"],
                       capture_output=True, text=True)
    assert "Hello alice." in r.stdout, r


if __name__ == "__main__":
    lib.run([test_greeting_and_capa_as_nginx,
             test_auth_without_mechanism_lists_methods,
             test_poplib_user_pass_retr,
             test_password_with_spaces_and_quotes,
             test_auth_plain_with_and_without_initial_response,
             test_auth_login,
             test_cancel_and_bad_base64,
             test_wrong_password_then_retry,
             test_invalid_commands_and_max_errors,
             test_line_over_pop3_client_buffer,
             test_apop_through_auth_http,
             test_cram_md5_through_auth_http,
             test_apop_needs_auth_http,
             test_backend_down_is_internal_server_error,
             test_under_inetd,
             test_curl_lists_and_retrieves,
             test_login_timeout],
            Ctx)
