"""IMAP before login and the login paths, on the embedded map lookup,
against a real Dovecot, with postern under systemd-socket-activate."""
import base64
import imaplib
import subprocess

import lib


class Ctx:
    def __init__(self):
        self.tmp = lib.TempDir()
        self.ipv6 = lib.have_ipv6_loopback()
        self.dovecot = lib.Dovecot(
            self.tmp, listen="127.0.0.1, ::1" if self.ipv6 else "127.0.0.1").start()
        self.postern = lib.Postern(
            self.tmp, map_lines=["# everyone lives on the one Dovecot",
                                 "* 127.0.0.1:%d" % self.dovecot.imap_port],
            global_conf='imap_auth = {plain, login}\n').start()
        self.port = self.postern.port

    def client(self):
        c = lib.Client(self.port)
        greeting = c.line()
        assert greeting.startswith("* OK ["), greeting
        return c

    def dump(self):
        return "postern log:\n" + self.postern.read_log()[-3000:]


def setup():
    return Ctx()


def teardown(ctx):
    ctx.postern.stop()
    ctx.dovecot.stop()
    ctx.tmp.cleanup()


def test_greeting_carries_capabilities(ctx):
    c = lib.Client(ctx.port)
    g = c.line()
    assert g.startswith("* OK [CAPABILITY "), g
    assert g.endswith("] IMAP4 ready"), g   # nginx's words, no host name
    assert "IMAP4rev1" in g and "AUTH=PLAIN" in g and "AUTH=LOGIN" in g
    c.close()


def test_capability_noop_logout(ctx):
    c = ctx.client()
    c.send("a1 CAPABILITY\r\n")
    caps = c.until_tag("a1")
    assert caps[0].startswith("* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS"), caps
    # As nginx: only what is configured, and the AUTH= methods.
    assert "SASL-IR" not in caps[0] and "ID" not in caps[0].split()
    assert caps[1] == "a1 OK completed"
    c.send("a2 noop\r\n")
    assert c.line() == "a2 OK completed"
    c.send("a3 LOGOUT\r\n")
    assert c.line() == "* BYE"
    assert c.line() == "a3 OK completed"
    assert c.closed()


def test_id_before_login(ctx):
    c = ctx.client()
    c.send('i1 ID ("name" "test client" "version" NIL)\r\n')
    lines = c.until_tag("i1")
    # Answered, but with nothing that names or dates postern.
    assert lines == ["* ID NIL", "i1 OK completed"], lines
    c.send("i2 ID NIL\r\n")
    assert c.until_tag("i2")[-1] == "i2 OK completed"
    c.send('i3 ID ("odd")\r\n')
    assert c.line().startswith("i3 BAD")
    c.close()


def test_imaplib_login_select_fetch(ctx):
    m = imaplib.IMAP4("127.0.0.1", ctx.port)
    typ, data = m.login("alice", "wonderland")
    assert typ == "OK" and b"Logged in" in data[0], data
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) >= 1
    typ, data = m.fetch("1", "(BODY[])")
    assert b"Hello alice." in data[0][1]
    m.logout()


def test_login_atom(ctx):
    c = ctx.client()
    c.send("t1 LOGIN alice wonderland\r\n")
    assert c.until_tag("t1")[-1].startswith("t1 OK"), c.buf
    c.send("t2 LOGOUT\r\n")
    assert c.until_tag("t2")[-1].startswith("t2 OK")
    c.close()


def test_login_quoted_with_escapes(ctx):
    c = ctx.client()
    c.send('q1 LOGIN "bob@example.org" "b0b pass \\"quoted\\" \\\\slash"\r\n')
    last = c.until_tag("q1")[-1]
    assert last.startswith("q1 OK"), last
    c.close()


def test_login_synchronising_literal(ctx):
    c = ctx.client()
    password = lib.USERS["carol"].encode()
    c.send("l1 LOGIN carol {%d}\r\n" % len(password))
    assert c.line().startswith("+ "), "no continuation for {n}"
    c.send(password + b"\r\n")
    last = c.until_tag("l1")[-1]
    assert last.startswith("l1 OK"), last
    c.close()


def test_login_non_synchronising_literal(ctx):
    c = ctx.client()
    user = b"alice"
    c.send(b"l2 LOGIN {%d+}\r\n%s {%d+}\r\nwonderland\r\n" % (len(user), user, 10))
    lines = c.until_tag("l2")
    assert not any(l.startswith("+") for l in lines), lines
    assert lines[-1].startswith("l2 OK"), lines
    c.close()


def test_authenticate_plain_initial_response(ctx):
    c = ctx.client()
    ir = base64.b64encode(b"\0alice\0wonderland").decode()
    c.send("p1 AUTHENTICATE PLAIN %s\r\n" % ir)
    assert c.until_tag("p1")[-1].startswith("p1 OK")
    c.close()


def test_authenticate_plain_continuation(ctx):
    c = ctx.client()
    c.send("p2 AUTHENTICATE PLAIN\r\n")
    assert c.line() == "+ "
    c.send(base64.b64encode(b"ignored\0alice\0wonderland") + b"\r\n")
    assert c.until_tag("p2")[-1].startswith("p2 OK")
    c.close()


def test_authenticate_login(ctx):
    c = ctx.client()
    c.send("p3 AUTHENTICATE LOGIN\r\n")
    assert c.line() == "+ VXNlcm5hbWU6"
    c.send(base64.b64encode(b"alice") + b"\r\n")
    assert c.line() == "+ UGFzc3dvcmQ6"
    c.send(base64.b64encode(b"wonderland") + b"\r\n")
    assert c.until_tag("p3")[-1].startswith("p3 OK")
    c.close()


def test_authenticate_cancel_and_bad_base64(ctx):
    c = ctx.client()
    c.send("p4 AUTHENTICATE PLAIN\r\n")
    assert c.line() == "+ "
    c.send("*\r\n")
    assert c.line().startswith("p4 BAD"), "cancel"
    c.send("p5 AUTHENTICATE PLAIN !!notbase64\r\n")
    assert c.line().startswith("p5 BAD")
    c.send("p6 AUTHENTICATE CRAM-MD5\r\n")
    assert c.line() == "p6 BAD invalid command"   # not configured: nginx's words
    c.close()


def test_wrong_password_then_retry(ctx):
    c = ctx.client()
    c.send("w1 LOGIN alice nope\r\n")
    last = c.until_tag("w1")[-1]
    assert last == "w1 NO [AUTHENTICATIONFAILED] Authentication failed.", last
    c.send("w2 LOGIN alice wonderland\r\n")
    assert c.until_tag("w2")[-1].startswith("w2 OK")
    c.close()


def test_curl_lists_inbox(ctx):
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "20",
         "imap://alice:wonderland@127.0.0.1:%d/" % ctx.port],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "INBOX" in out.stdout, out.stdout


def test_curl_fetches_message(ctx):
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "20",
         "imap://alice:wonderland@127.0.0.1:%d/INBOX;UID=1" % ctx.port],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "Hello alice." in out.stdout, out.stdout


def test_ipv6_backend(ctx):
    if not ctx.ipv6:
        raise lib.Skip("no IPv6 loopback on this machine")
    p = lib.Postern(ctx.tmp, map_lines=["alice [::1]:%d" % ctx.dovecot.imap_port]).start()
    try:
        m = imaplib.IMAP4("127.0.0.1", p.port)
        m.login("alice", "wonderland")
        m.logout()
        assert "backend=[::1]:%d" % ctx.dovecot.imap_port in p.wait_log("result=relayed")
    finally:
        p.stop()


def test_log_has_closing_lines_and_no_password(ctx):
    log = ctx.postern.wait_log("result=relayed")
    assert "event=connect" in log and "event=login" in log
    assert 'user="alice"' in log and "duration=" in log
    lib.assert_no_passwords(log)
    assert base64.b64encode(b"\0alice\0wonderland").decode() not in log


if __name__ == "__main__":
    lib.run([test_greeting_carries_capabilities,
             test_capability_noop_logout,
             test_id_before_login,
             test_imaplib_login_select_fetch,
             test_login_atom,
             test_login_quoted_with_escapes,
             test_login_synchronising_literal,
             test_login_non_synchronising_literal,
             test_authenticate_plain_initial_response,
             test_authenticate_plain_continuation,
             test_authenticate_login,
             test_authenticate_cancel_and_bad_base64,
             test_wrong_password_then_retry,
             test_curl_lists_inbox,
             test_curl_fetches_message,
             test_ipv6_backend,
             test_log_has_closing_lines_and_no_password],
            setup, teardown)
