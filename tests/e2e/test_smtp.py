"""SMTP through postern to a real Postfix (XCLIENT, AUTH checked by
Dovecot, delivery over LMTP into Dovecot): nginx's replies, the three
ways to log in at the backend, smtp_auth none, pipelining, early talkers."""
import base64
import hashlib
import hmac
import os
import poplib
import smtplib
import socket
import subprocess
import time

import lib

CLIENT = "127.0.0.2"   # not postern's address, so XCLIENT shows


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__()
        self.postfix = self.track(lib.Postfix(self.tmp, self.dovecot))
        self.auth = self.track(lib.AuthServer(
            self.tmp, self.dovecot.imap_port,
            backends={"smtp": self.postfix.port, "pop3": self.dovecot.pop3_port}))
        self.xclient = self.proxy('auth_http = "%s"\n'
                                  'smtp_auth = {plain, login, cram-md5}\n'
                                  'smtp_capabilities = {"SIZE 52428800", '
                                  'PIPELINING, 8BITMIME}\n' % self.auth.url)
        self.map = self.proxy('proxy_smtp_auth = true\n',
                              map_lines=["* 127.0.0.1:%d" % self.postfix.port])
        self.none = self.proxy('auth_http = "%s"\nsmtp_auth = {none}\n'
                               'smtp_capabilities = {PIPELINING}\n' % self.auth.url)

    def proxy(self, conf, **kw):
        return self.track(lib.Postern(self.tmp, protocol="smtp",
                                      global_conf=conf, **kw))

    def dump(self):
        return super().dump() + "\npostfix log:\n" + self.postfix.read_log()[-2000:]


def client(p):
    return lib.Client.over(socket.create_connection(
        ("127.0.0.1", p.port), timeout=10, source_address=(CLIENT, 0)))


def greet(p):
    c = client(p)
    assert c.line() == "220 postern.test ESMTP ready"
    return c


def smtp(p):
    return smtplib.SMTP("127.0.0.1", p.port, source_address=(CLIENT, 0), timeout=20)


def pop3_messages(user):
    """Every message in user's mailbox, read straight from Dovecot."""
    m = poplib.POP3("127.0.0.1", CTX.dovecot.pop3_port)
    m.user(user)
    m.pass_(lib.USERS[user])
    out = [b"\r\n".join(m.retr(i + 1)[1]) + b"\r\n" for i in range(m.stat()[0])]
    m.quit()
    return out


def wait_delivered(user, marker):
    found = []

    def seen():
        found[:] = [m for m in pop3_messages(user) if marker in m]
        return bool(found)
    lib.wait_for(seen, 15, "delivery of %r" % marker)
    return found[0]


def test_greeting_ehlo_helo_as_nginx(ctx):
    c = greet(ctx.xclient)
    c.send("EHLO client.example\r\n")
    lines = [c.line() for _ in range(5)]
    assert lines == ["250-postern.test", "250-SIZE 52428800", "250-PIPELINING",
                     "250-8BITMIME", "250 AUTH PLAIN LOGIN CRAM-MD5"], lines
    c.send("HELO client.example\r\n")
    assert c.line() == "250 postern.test"
    c.send("EHLO\r\n")
    assert c.line() == "501 5.5.4 Invalid argument"
    c.send("NOOP\r\nRSET\r\n")
    assert [c.line(), c.line()] == ["250 2.0.0 OK"] * 2
    c.send("QUIT\r\n")
    assert c.line() == "221 2.0.0 Bye"
    assert c.closed()


def test_commands_out_of_place(ctx):
    c = greet(ctx.xclient)
    c.send("MAIL FROM:<a@example.org>\r\n")
    assert c.line() == "530 5.7.1 Authentication required"
    c.send("RCPT TO:<bob@example.org>\r\n")
    assert c.line() == "503 5.5.1 Bad sequence of commands"
    c.send("VRFY bob\r\n")
    assert c.line() == "500 5.5.1 Invalid command"
    c.close()


def test_max_errors(ctx):
    c = greet(ctx.xclient)
    for i in range(5):
        c.send("BOGUS %d\r\n" % i)
        assert c.line() == "500 5.5.1 Invalid command"
    assert c.closed()   # as nginx: the fifth error's reply is the last


def test_line_over_smtp_client_buffer(ctx):
    c = greet(ctx.xclient)
    c.send("EHLO " + "a" * 5000 + "\r\n")
    assert c.line() == "500 5.5.1 Invalid command"
    assert c.closed()


def test_xclient_carries_client_address_and_login(ctx):
    marker = b"xclient-%d" % time.time_ns()
    s = smtp(ctx.xclient)
    s.ehlo("client.example")
    s.login("alice", "wonderland")        # smtplib picks CRAM-MD5
    s.sendmail("alice@example.org", ["bob@example.org"],
               b"Subject: " + marker + b"\r\n\r\nbody\r\n")
    s.quit()
    msg = wait_delivered("bob@example.org", marker)
    # Postfix saw the client, not postern, and the login XCLIENT gave it.
    assert b"from client.example (unknown [127.0.0.2])" in msg, msg[:600]
    assert b"(Authenticated sender: alice)" in msg, msg[:600]
    req = ctx.auth.requests()[-1]
    assert req["Auth-Method"] == "cram-md5" and req["Auth-Protocol"] == "smtp"
    assert req["Client-IP"] == CLIENT
    assert "sasl_method=XCLIENT, sasl_username=alice" in ctx.postfix.read_log()


def swaks(p, *args):
    return subprocess.run(["swaks", "--server", "127.0.0.1:%d" % p.port,
                           "--local-interface", CLIENT, "--timeout", "20",
                           *args], capture_output=True, text=True)


def test_swaks_auth_plain_and_login(ctx):
    for mech in ("PLAIN", "LOGIN"):
        marker = "swaks-%s-%d" % (mech, time.time_ns())
        r = swaks(ctx.xclient, "--auth", mech, "--auth-user", "bob@example.org",
                  "--auth-password", lib.USERS["bob@example.org"],
                  "--from", "bob@example.org", "--to", "bob@example.org",
                  "--header", "Subject: " + marker)
        assert r.returncode == 0, r.stdout[-2000:]
        assert "235 2.0.0 OK" in r.stdout
        wait_delivered("bob@example.org", marker.encode())
        assert ctx.auth.requests()[-1]["Auth-Method"] == "plain"


def test_wrong_password_gets_auth_server_text(ctx):
    c = greet(ctx.xclient)
    c.send("AUTH PLAIN %s\r\n" % base64.b64encode(b"\0alice\0nope").decode())
    assert c.line() == "535 5.7.0 Invalid login or password"
    assert c.closed()


def test_proxy_smtp_auth_with_the_map(ctx):
    """The map checks no password: the backend's AUTH does."""
    s = smtp(ctx.map)
    s.ehlo("client.example")
    try:
        s.login("alice", "wrong")
        raise AssertionError("a wrong password was accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.login("alice", "wonderland")
    marker = b"map-%d" % time.time_ns()
    s.sendmail("alice@example.org", ["bob@example.org"],
               b"Subject: " + marker + b"\r\n\r\nbody\r\n")
    s.quit()
    msg = wait_delivered("bob@example.org", marker)
    assert b"(Authenticated sender: alice)" in msg
    assert "sasl_method=PLAIN, sasl_username=alice" in ctx.postfix.read_log()


def test_proxy_smtp_auth_uses_login_where_plain_is_missing(ctx):
    """A backend whose EHLO lists AUTH LOGIN but not PLAIN (Exchange;
    nginx ticket #601) gets AUTH LOGIN."""
    p = ctx.proxy('proxy_smtp_auth = true\n',
                  map_lines=["* 127.0.0.1:%d" % ctx.postfix.login_only_port])
    marker = b"login-only-%d" % time.time_ns()
    s = smtp(p)
    s.ehlo("client.example")
    s.login("alice", "wonderland")
    s.sendmail("alice@example.org", ["bob@example.org"],
               b"Subject: " + marker + b"\r\n\r\nbody\r\n")
    s.quit()
    wait_delivered("bob@example.org", marker)
    lib.wait_for(lambda: "sasl_method=LOGIN, sasl_username=alice" in
                 ctx.postfix.read_log(), 5, "Postfix's LOGIN")


def test_map_without_proxy_smtp_auth_is_refused(ctx):
    p = lib.Postern(ctx.tmp, protocol="smtp")
    r = subprocess.run([lib.POSTERN, "-t", "-c", p.conf], capture_output=True, text=True)
    assert r.returncode == 1 and "need proxy_smtp_auth" in r.stderr, r


def test_cram_md5_by_hand(ctx):
    c = greet(ctx.xclient)
    c.send("AUTH CRAM-MD5\r\n")
    line = c.line()
    assert line.startswith("334 ")
    salt = base64.b64decode(line[4:])
    assert salt.startswith(b"<") and salt.endswith(b"@postern.test>")
    digest = hmac.new(b"wonderland", salt, hashlib.md5).hexdigest()
    c.send(base64.b64encode(b"alice " + digest.encode()) + b"\r\n")
    assert c.line() == "235 2.0.0 OK"
    assert ctx.auth.requests()[-1]["Auth-Salt"] == salt.decode()
    c.send("QUIT\r\n")
    assert c.line().startswith("221 ")
    c.close()


def test_auth_cancel(ctx):
    c = greet(ctx.xclient)
    c.send("AUTH LOGIN\r\n")
    assert c.line() == "334 VXNlcm5hbWU6"
    c.send("*\r\n")
    assert c.line() == "500 5.5.1 Invalid command"   # nginx's words
    c.close()


def test_none_mode_headers_and_delivery(ctx):
    marker = "none-%d" % time.time_ns()
    r = swaks(ctx.none, "--ehlo", "client.example", "--from", "sender@outside.test",
              "--to", "bob@example.org", "--header", "Subject: " + marker)
    assert r.returncode == 0, r.stdout[-2000:]
    req = [q for q in ctx.auth.requests() if q["Auth-Method"] == "none"][-1]
    assert req["Auth-User"] == "" and req["Auth-Pass"] == ""
    assert req["Auth-SMTP-Helo"] == "client.example"
    assert req["Auth-SMTP-From"] == "MAIL FROM:<sender@outside.test>", req
    assert req["Auth-SMTP-To"] == "RCPT TO:<bob@example.org>", req
    msg = wait_delivered("bob@example.org", marker.encode())
    assert b"from client.example (unknown [127.0.0.2])" in msg


def test_none_mode_refusal_uses_auth_error_code(ctx):
    c = greet(ctx.none)
    c.send("EHLO client.example\r\nMAIL FROM:<x@outside.test>\r\n")
    assert c.line() == "250-postern.test" and c.line() == "250 PIPELINING"
    assert c.line() == "250 2.0.0 OK"
    c.send("MAIL FROM:<y@outside.test>\r\n")
    assert c.line() == "503 5.5.1 Bad sequence of commands"
    c.send("RCPT TO:<reject@example.org>\r\n")
    assert c.line() == "550 5.7.1 Recipient refused by policy"
    c.close()


def test_none_mode_values_are_bounded_and_clean(ctx):
    """What reaches Auth-SMTP-* is exactly what the client sent: nothing
    from memory (CVE-2025-53859), no CR or LF to forge headers."""
    c = greet(ctx.none)
    c.send("EHLO client.example\r\n")
    c.line(), c.line()
    c.send("MAIL FROM:<a@b.test>\rAuth-Status: OK\r\n")
    assert c.line() == "500 5.5.1 Invalid command"
    c.send("MAIL FROM:<a@b.test>\x00junk\r\n")
    assert c.line() == "500 5.5.1 Invalid command"
    c.send("MAIL FROM:<" + "x" * 1100 + "@b.test>\r\n")
    assert c.line() == "501 5.5.4 Invalid argument"
    c.send("HELO " + "h" * 300 + "\r\n")
    assert c.line() == "501 5.5.4 Invalid argument"
    before = len(ctx.auth.requests())
    c.send("RSET\r\nMAIL FROM:<a@b.test> SIZE=10\r\nRCPT TO:<reject-me@example.org>\r\n")
    assert c.line() == "250 2.0.0 OK" and c.line() == "250 2.0.0 OK"
    assert c.line().startswith("550 5.7.1")
    c.close()
    reqs = ctx.auth.requests()[before:]
    assert len(reqs) == 1, reqs
    req = reqs[0]
    assert req["Auth-SMTP-Helo"] == "client.example"
    assert req["Auth-SMTP-From"] == "MAIL FROM:<a@b.test> SIZE=10"
    assert req["Auth-SMTP-To"] == "RCPT TO:<reject-me@example.org>"
    assert "Auth-Status" not in req


def test_pipelining_after_auth_and_in_none_mode(ctx):
    marker = "pipe-%d" % time.time_ns()
    ir = base64.b64encode(b"\0alice\0wonderland").decode()
    c = greet(ctx.xclient)
    c.send("EHLO client.example\r\n")
    c.reply()
    c.send("AUTH PLAIN %s\r\nMAIL FROM:<alice@example.org>\r\n"
           "RCPT TO:<bob@example.org>\r\nDATA\r\n" % ir)
    assert c.line() == "235 2.0.0 OK"
    assert c.line().startswith("250 2.1.0")
    assert c.line().startswith("250 2.1.5")
    assert c.line().startswith("354 ")
    c.send("Subject: %s\r\n\r\nbody\r\n.\r\nQUIT\r\n" % marker)
    assert c.line().startswith("250 2.0.0 Ok: queued")
    assert c.line().startswith("221 ")
    wait_delivered("bob@example.org", marker.encode())

    marker = "pipe-none-%d" % time.time_ns()
    c = greet(ctx.none)
    c.send("EHLO client.example\r\nMAIL FROM:<s@outside.test>\r\n"
           "RCPT TO:<bob@example.org>\r\nDATA\r\n")
    assert [c.line(), c.line()] == ["250-postern.test", "250 PIPELINING"]
    assert c.line() == "250 2.0.0 OK"
    assert c.line().startswith("250 2.1.5")     # the backend's RCPT reply
    assert c.line().startswith("354 ")
    c.send("Subject: %s\r\n\r\nbody\r\n.\r\nQUIT\r\n" % marker)
    assert c.line().startswith("250 2.0.0 Ok: queued")
    wait_delivered("bob@example.org", marker.encode())


def test_greeting_delay_refuses_early_talkers(ctx):
    p = ctx.proxy('auth_http = "%s"\nsmtp_greeting_delay = 1s\n' % ctx.auth.url)
    c = client(p)
    c.send("EHLO bot.example\r\n")
    assert c.line() == "503 5.5.0 Improper use of SMTP command pipelining"
    assert c.closed()   # as nginx: a bot that does not wait is let go
    assert 'reason="spoke before the greeting"' in p.wait_log("event=close")
    assert "event=early_talker" in p.read_log()
    started = time.time()
    c = client(p)
    assert c.line() == "220 postern.test ESMTP ready"
    assert time.time() - started >= 0.9
    c.send("EHLO patient.example\r\n")
    assert c.line().startswith("250")
    c.close()


def test_curl_sends_10mb_retrieved_byte_exact_through_pop3(ctx):
    """A 10 MB message in through postern's SMTP, out through postern's
    POP3: what the client sent is what the reader gets."""
    pop3 = ctx.track(lib.Postern(ctx.tmp, protocol="pop3",
                                 map_lines=["* 127.0.0.1:%d" % ctx.dovecot.pop3_port]))
    marker = "big-%d" % time.time_ns()
    body = base64.encodebytes(os.urandom(7_500_000)).replace(b"\n", b"\r\n")
    sent = (b"From: alice@example.org\r\nTo: bob@example.org\r\n"
            b"Subject: " + marker.encode() + b"\r\n"
            b"Message-ID: <" + marker.encode() + b"@example.org>\r\n"
            b"Date: Tue, 24 Nov 2026 00:00:00 +0000\r\n\r\n" + body)
    path = ctx.tmp(marker + ".eml")
    with open(path, "wb") as f:
        f.write(sent)
    r = subprocess.run(["curl", "-sS", "--max-time", "120",
                        "smtp://127.0.0.1:%d/client.example" % ctx.xclient.port,
                        "--interface", CLIENT, "--user", "alice:wonderland",
                        "--mail-from", "alice@example.org",
                        "--mail-rcpt", "bob@example.org", "-T", path],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = poplib.POP3("127.0.0.1", pop3.port, timeout=60)
    m.user("bob@example.org")
    m.pass_(lib.USERS["bob@example.org"])
    got = None
    end = time.time() + 30
    while got is None and time.time() < end:
        for i in range(m.stat()[0]):
            top = b"\r\n".join(m.top(i + 1, 0)[1])
            if marker.encode() in top:
                got = b"\r\n".join(m.retr(i + 1)[1]) + b"\r\n"
        if got is None:
            m.quit()
            time.sleep(0.5)
            m = poplib.POP3("127.0.0.1", pop3.port, timeout=60)
            m.user("bob@example.org")
            m.pass_(lib.USERS["bob@example.org"])
    m.quit()
    assert got is not None, "the 10 MB message never arrived"
    assert len(sent) > 10_000_000
    # Postfix and Dovecot add trace headers in front; the rest is ours.
    assert got.endswith(sent), (len(got), len(sent))
    assert lib.sha256(got[-len(sent):]) == lib.sha256(sent)


def test_without_xclient_the_backend_sees_postern(ctx):
    p = ctx.proxy('auth_http = "%s"\nxclient = false\n' % ctx.auth.url)
    marker = b"noxclient-%d" % time.time_ns()
    s = smtp(p)
    s.helo("old.example")                  # HELO, not EHLO
    s.ehlo_resp = None
    s.esmtp_features["auth"] = "PLAIN"     # smtplib wants EHLO for AUTH
    s.login("alice", "wonderland")
    s.sendmail("alice@example.org", ["bob@example.org"],
               b"Subject: " + marker + b"\r\n\r\nbody\r\n")
    s.quit()
    msg = wait_delivered("bob@example.org", marker)
    # The backend sees postern's address, and the client's HELO name.
    assert b"from old.example (localhost [127.0.0.1])" in msg, msg[:600]
    assert b"127.0.0.2" not in msg.split(b"\r\n\r\n")[0]


def test_none_mode_with_the_map_routes_the_recipient(ctx):
    p = ctx.proxy('smtp_auth = {none}\n',
                  map_lines=["@example.org 127.0.0.1:%d" % ctx.postfix.port])
    c = greet(p)
    c.send("HELO client.example\r\n")
    assert c.line() == "250 postern.test"
    c.send("MAIL FROM:<s@outside.test>\r\nRCPT TO:<someone@elsewhere.test>\r\n")
    assert c.line() == "250 2.0.0 OK"
    assert c.line() == "550 5.7.1 Recipient address rejected"
    marker = "map-none-%d" % time.time_ns()
    c.send("MAIL FROM:<s@outside.test>\r\nRCPT TO:<bob@example.org>\r\n")
    assert c.line() == "250 2.0.0 OK"
    assert c.line().startswith("250 2.1.5")
    c.send("DATA\r\n")
    assert c.line().startswith("354 ")
    c.send("Subject: %s\r\n\r\nbody\r\n.\r\nQUIT\r\n" % marker)
    assert c.line().startswith("250 2.0.0 Ok: queued")
    wait_delivered("bob@example.org", marker.encode())


def test_backend_or_auth_server_down_is_451(ctx):
    p = ctx.proxy('proxy_smtp_auth = true\n', map_lines=["* 127.0.0.1:%d" % lib.free_port()])
    c = greet(p)
    c.send("AUTH PLAIN %s\r\n" % base64.b64encode(b"\0alice\0wonderland").decode())
    assert c.line() == "451 4.3.2 Internal server error"
    assert c.closed()
    assert "event=backend_down" in p.read_log()
    p = ctx.proxy('auth_http = "http://127.0.0.1:%d/auth"\n' % lib.free_port())
    c = greet(p)
    c.send("AUTH PLAIN %s\r\n" % base64.b64encode(b"\0alice\0wonderland").decode())
    assert c.line() == "451 4.3.2 Internal server error"
    assert c.closed()
    assert "event=auth_error" in p.read_log()


def test_no_password_in_logs(ctx):
    logs = "".join(p.read_log() for p in ctx.running if isinstance(p, lib.Postern))
    lib.assert_no_passwords(logs)
    assert base64.b64encode(b"\0alice\0wonderland").decode() not in logs


def setup():
    global CTX
    CTX = Ctx()
    return CTX


def none_session(ctx, rcpt="bob@example.org"):
    """A port-25 client past its login: EHLO, MAIL, RCPT (routed)."""
    c = greet(ctx.none)
    c.send("EHLO client.example\r\nMAIL FROM:<s@outside.test>\r\n"
           "RCPT TO:<%s>\r\n" % rcpt)
    assert [c.line(), c.line(), c.line()] == [
        "250-postern.test", "250 PIPELINING", "250 2.0.0 OK"]
    assert c.line().startswith("250 2.1.5")
    return c


def test_client_cannot_speak_xclient_after_login(ctx):
    """Issue 9, hole 3: Postfix obeys XCLIENT from postern's address, so a
    client whose bytes were copied blindly could name itself any login or
    address and relay. The guard answers XCLIENT, XFORWARD and STARTTLS
    itself, in their turn; Postfix never sees them."""
    c = none_session(ctx)
    c.send("RCPT TO:<victim@elsewhere.test>\r\n")
    assert c.line().startswith("554 5.7.1"), "relay refused before"
    c.send("RSET\r\nXCLIENT LOGIN=alice ADDR=10.9.9.9\r\nNOOP\r\n")
    assert c.line().startswith("250 ")                       # RSET
    assert c.line() == "550 5.7.0 Command not permitted"     # in its turn
    assert c.line().startswith("250 ")                       # NOOP
    c.send("EHLO again.example\r\n")
    ehlo = c.reply()
    assert ehlo[-1].startswith("250 ") and all(
        l.startswith("250-") for l in ehlo[:-1]), ehlo
    words = [l[4:].split()[0].upper() for l in ehlo[1:]]
    assert not {"XCLIENT", "XFORWARD", "STARTTLS"} & set(words), ehlo
    c.send("MAIL FROM:<s@outside.test>\r\nRCPT TO:<victim@elsewhere.test>\r\n")
    assert c.line().startswith("250 2.1.0")
    assert c.line().startswith("554 5.7.1"), "the client relayed"
    c.send("xforward ADDR=10.9.9.9\r\n  XClient NAME=x\r\nSTARTTLS\r\n")
    assert c.line() == "550 5.7.0 Command not permitted"
    assert c.line() == "550 5.7.0 Command not permitted"
    assert c.line() == "454 4.7.0 TLS not available after login"
    # DATA refused by the backend: what follows is commands again.
    c.send("RSET\r\nDATA\r\nXCLIENT LOGIN=alice\r\nQUIT\r\n")
    assert c.line().startswith("250 ")
    assert c.line().startswith("503 5.5.1"), "DATA without a recipient"
    assert c.line() == "550 5.7.0 Command not permitted"
    assert c.line().startswith("221 ")
    c.close()
    log = ctx.none.wait_log("event=command_refused command=STARTTLS")
    assert log.count("event=command_refused command=XCLIENT") == 3
    assert "event=command_refused command=XFORWARD" in log
    # Postfix writes its log through its own logger, a moment later.
    def victim():
        return [l for l in ctx.postfix.read_log().splitlines()
                if "victim@elsewhere.test" in l]
    lib.wait_for(lambda: len(victim()) >= 2, what="Postfix's two refusals")
    assert all("reject: RCPT" in l for l in victim()), victim()


def test_guard_reads_lines_as_postfix_does(ctx):
    """Issue 20, item 1: Postfix splits words on every isspace() byte and
    ends DATA at "." with any number of CRs; the guard read both otherwise,
    and behind a port where Postfix trusts postern's XCLIENT (xclient =
    false, postern in smtpd_authorized_xclient_hosts) an unauthenticated
    client named itself alice and relayed. Each way is refused in its turn,
    logged, and Postfix's own log shows it never obeyed one."""
    p = ctx.proxy('auth_http = "%s"\nsmtp_auth = {none}\nxclient = false\n'
                  'smtp_capabilities = {PIPELINING}\n' % ctx.auth.url)
    before = len(ctx.postfix.read_log())
    c = greet(p)
    c.send("EHLO client.example\r\nMAIL FROM:<s@outside.test>\r\n"
           "RCPT TO:<bob@example.org>\r\n")
    assert [c.line(), c.line(), c.line()] == [
        "250-postern.test", "250 PIPELINING", "250 2.0.0 OK"]
    assert c.line().startswith("250 2.1.5")
    for attack in (b"\rXCLIENT LOGIN=alice\r\n", b"\x0bXCLIENT LOGIN=alice\r\n",
                   b"\x0cXFORWARD ADDR=10.9.9.9\r\n",
                   b"XCLIENT\x0bLOGIN=alice\r\n", b"XCLIENT\x0cLOGIN=alice\r\n"):
        c.send(attack)
        assert c.line() == "500 5.5.2 Error: control character in command", attack
    c.send("RCPT TO:<victim@elsewhere.test>\r\n")
    assert c.line().startswith("554 5.7.1"), "the client relayed"
    # ".\r\r\n" ends the message for Postfix: so it does for the guard.
    c.send("DATA\r\n")
    assert c.line().startswith("354 ")
    c.send("Subject: cr\r\n\r\nbody\r\n.\r\r\nXCLIENT LOGIN=alice\r\n"
           "RCPT TO:<victim@elsewhere.test>\r\n")
    assert c.line().startswith("250 2.0.0 Ok: queued")    # the final dot first
    assert c.line() == "550 5.7.0 Command not permitted"
    assert c.line().startswith("503 5.5.1"), "RCPT outside a transaction"
    c.send("MAIL FROM:<s@outside.test>\r\nRCPT TO:<victim@elsewhere.test>\r\n")
    assert c.line().startswith("250 2.1.0")
    assert c.line().startswith("554 5.7.1"), "the client relayed"
    # Nor may it log in at Postfix itself, round postern's auth server
    # (found by an attack from outside: alice's password relayed).
    c.send("RSET\r\nAUTH PLAIN %s\r\nMAIL FROM:<s@outside.test>\r\n"
           "RCPT TO:<victim@elsewhere.test>\r\n" % base64.b64encode(
               b"\0alice\0" + lib.USERS["alice"].encode()).decode())
    assert c.line().startswith("250 ")
    assert c.line() == "503 5.5.1 Error: authentication not available here"
    assert c.line().startswith("250 2.1.0")
    assert c.line().startswith("554 5.7.1"), "the client relayed"
    c.send("RSET\r\n")
    assert c.line().startswith("250 ")
    # A BDAT line Postfix would read otherwise is the guard's to answer.
    c.send("BDAT 19 x\r\nXCLIENT LOGIN=alice\r\n")
    assert c.line() == "501 5.5.4 Syntax: BDAT count [LAST]"
    assert c.line() == "550 5.7.0 Command not permitted"
    c.send("QUIT\r\n")
    assert c.line().startswith("221 ")
    c.close()
    log = p.wait_log("event=command_refused command=BDAT")
    assert log.count("event=command_refused command=control-character") == 5
    def victim():
        return [l for l in ctx.postfix.read_log()[before:].splitlines()
                if "victim@elsewhere.test" in l]
    lib.wait_for(lambda: len(victim()) >= 3, what="Postfix's refusals")
    assert all("reject: RCPT" in l for l in victim()), victim()
    assert "sasl_username" not in ctx.postfix.read_log()[before:]
    assert "XCLIENT" not in ctx.postfix.read_log()[before:].replace(
        "smtpd_authorized_xclient_hosts", "")


def test_content_that_reads_like_commands_passes_byte_exact(ctx):
    """DATA and BDAT content is data: lines like XCLIENT, a "..", a lone
    "." after a bare LF in a BDAT chunk, all arrive as sent."""
    seen = len(ctx.none.read_log())
    marker = "guard-%d" % time.time_ns()
    body = ("Subject: %s\r\n\r\nXCLIENT LOGIN=alice\r\n..leading dot\r\n"
            "STARTTLS\r\n" % marker)
    c = none_session(ctx)
    c.send("DATA\r\n")
    assert c.line().startswith("354 ")
    c.send(body + ".\r\n")
    assert c.line().startswith("250 2.0.0 Ok: queued")
    msg = wait_delivered("bob@example.org", marker.encode())
    assert b"\r\nXCLIENT LOGIN=alice\r\n.leading dot\r\nSTARTTLS\r\n" in msg
    marker = "bdat-%d" % time.time_ns()
    chunk = ("Subject: %s\r\n\r\nXCLIENT LOGIN=alice\r\n.\r\n"
             "XFORWARD ADDR=1.2.3.4\r\n" % marker).encode()
    c.send("MAIL FROM:<s@outside.test>\r\nRCPT TO:<bob@example.org>\r\n")
    assert c.line().startswith("250 2.1.0") and c.line().startswith("250 2.1.5")
    c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    line = c.line()
    assert line.startswith("250 2.0.0 Ok:") and "queued" in line, line
    c.send("QUIT\r\n")
    assert c.line().startswith("221 ")
    msg = wait_delivered("bob@example.org", marker.encode())
    assert b"\r\nXCLIENT LOGIN=alice\r\n.\r\nXFORWARD ADDR=1.2.3.4\r\n" in msg
    assert "event=command_refused" not in ctx.none.read_log()[seen:]


def test_guard_relay_takes_every_leftover_byte(ctx):
    """Issue 20, item 6: the front may hand over up to 1 MiB the client
    sent past its login; the guard took 256 KiB of it and dropped the rest
    silently. Here postern-guard-relay is run by hand under the exec
    contract with 600 KB on its leftover pipe: a BDAT chunk larger than
    the guard's input buffer, and a command behind it."""
    import fcntl
    chunk = os.urandom(300_000).replace(b"\n", b"x") * 2
    sent = b"BDAT %d LAST\r\n" % len(chunk) + chunk + b"NOOP\r\n"
    c_ours, c_theirs = socket.socketpair()
    b_ours, b_theirs = socket.socketpair()
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
    os.write(w, sent)
    os.close(w)
    log = ctx.tmp("leftover-relay.log")
    env = dict(lib.sanitizer_env(), POSTERN_GUARD="smtp",
               POSTERN_SESSION="leftover", POSTERN_LOG=log,
               POSTERN_LOG_LEVEL="7")

    def fds():
        # Out of the way first, so that no dup2 lands on one still needed.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
                for fd in (c_theirs.fileno(), b_theirs.fileno(), r)]
        for fd, want in zip(high, (3, 4, 5)):
            os.dup2(fd, want)
    proc = subprocess.Popen([lib.GUARD_RELAY], env=env, preexec_fn=fds,
                            pass_fds=(3, 4, 5))
    c_theirs.close()
    b_theirs.close()
    os.close(r)
    got = b""
    b_ours.settimeout(10)
    while len(got) < len(sent):
        piece = b_ours.recv(1 << 20)
        assert piece, "the backend got %d of %d bytes" % (len(got), len(sent))
        got += piece
    assert lib.sha256(got) == lib.sha256(sent)
    b_ours.sendall(b"250 2.0.0 Ok: chunk\r\n250 2.0.0 Ok\r\n")
    c_ours.settimeout(10)
    answers = b""
    while answers.count(b"\r\n") < 2:
        answers += c_ours.recv(4096)
    assert answers == b"250 2.0.0 Ok: chunk\r\n250 2.0.0 Ok\r\n", answers
    c_ours.close()
    b_ours.close()
    assert proc.wait(10) == 0


def test_guard_relay_runs_boxed(ctx):
    """Issue 9: once it only moves bytes, the relay can do nothing else."""
    c = none_session(ctx)
    c.send("NOOP\r\n")
    assert c.line().startswith("250")
    pids = lib.pids_of("postern-guard-relay")
    assert pids and all(lib.boxed(p) for p in pids), pids
    c.close()


def test_login_timeout(ctx):
    """Issue 9, hole 4: NOOP resets the idle timer, not login_timeout."""
    p = ctx.proxy('auth_http = "%s"\nlogin_timeout = "2s"\n' % ctx.auth.url)
    c = greet(p)
    started = time.monotonic()
    line = lib.noop_until_closed(c, "NOOP\r\n", "250 2.0.0 OK")
    assert line == "421 4.7.0 postern.test Login timed out", line
    assert 1.5 < time.monotonic() - started < 4
    assert "event=login_timeout" in p.wait_log('reason="login timed out"')


if __name__ == "__main__":
    lib.run([test_greeting_ehlo_helo_as_nginx,
             test_commands_out_of_place,
             test_max_errors,
             test_line_over_smtp_client_buffer,
             test_xclient_carries_client_address_and_login,
             test_swaks_auth_plain_and_login,
             test_wrong_password_gets_auth_server_text,
             test_proxy_smtp_auth_with_the_map,
             test_proxy_smtp_auth_uses_login_where_plain_is_missing,
             test_map_without_proxy_smtp_auth_is_refused,
             test_cram_md5_by_hand,
             test_auth_cancel,
             test_none_mode_headers_and_delivery,
             test_none_mode_refusal_uses_auth_error_code,
             test_none_mode_values_are_bounded_and_clean,
             test_pipelining_after_auth_and_in_none_mode,
             test_greeting_delay_refuses_early_talkers,
             test_curl_sends_10mb_retrieved_byte_exact_through_pop3,
             test_without_xclient_the_backend_sees_postern,
             test_none_mode_with_the_map_routes_the_recipient,
             test_backend_or_auth_server_down_is_451,
             test_no_password_in_logs,
             test_login_timeout,
             test_client_cannot_speak_xclient_after_login,
             test_guard_reads_lines_as_postfix_does,
             test_content_that_reads_like_commands_passes_byte_exact,
             test_guard_relay_takes_every_leftover_byte,
             test_guard_relay_runs_boxed],
            setup)
