"""XOAUTH2 and OAUTHBEARER (RFC 7628) in the three protocols, end to end:
the client's token goes to the auth server as Auth-Pass; on OK the backend
gets either the password the auth server returned or the client's own
mechanism and token again, which a real Dovecot checks with its oauth2
passdb against an introspection endpoint (RFC 7662; authd.py plays the
identity provider). A refused token is a challenge carrying the auth
server's Auth-Error-SASL JSON, then the refusal."""
import base64
import json
import socket

import lib

TOKEN = "tok-alice"


def xoauth2(user, token):
    return base64.b64encode(("user=%s\x01auth=Bearer %s\x01\x01"
                             % (user, token)).encode()).decode()


def oauthbearer(user, token):
    return base64.b64encode(("n,a=%s,\x01host=localhost\x01port=143\x01"
                             "auth=Bearer %s\x01\x01" % (user, token)).encode()).decode()


MECHS = {"XOAUTH2": xoauth2, "OAUTHBEARER": oauthbearer}


class Ctx(lib.Harness):
    def __init__(self):
        auth_port = lib.free_port()
        super().__init__(introspection="http://127.0.0.1:%d/introspect" % auth_port)
        d = self.dovecot
        self.postfix = None
        try:
            self.postfix = self.track(lib.Postfix(self.tmp, d))
            smtp = self.postfix.port
        except lib.Skip:
            smtp = d.imap_port
        backends = {"pop3": d.pop3_port, "smtp": smtp}
        self.auth = self.track(lib.AuthServer(self.tmp, d.imap_port, port=auth_port,
                                              backends=backends))
        self.auth_pass = self.track(lib.AuthServer(self.tmp, d.imap_port,
                                                   mode="oauth-pass",
                                                   backends=backends))
        oauth = ('imap_auth = {plain, xoauth2, oauthbearer}\n'
                 'pop3_auth = {plain, xoauth2, oauthbearer}\n'
                 'smtp_auth = {plain, xoauth2, oauthbearer}\n'
                 'pop3_client_buffer = 8k\nproxy_smtp_auth = true\n')
        self.p = {}
        for proto in ("imap", "pop3", "smtp"):
            for name, a in (("replay", self.auth), ("pass", self.auth_pass)):
                self.p[proto, name] = self.track(lib.Postern(
                    self.tmp, protocol=proto, name="%s-%s" % (proto, name),
                    global_conf='auth_http = "%s"\n%s' % (a.url, oauth)))
        self.p["imap", "map"] = self.track(lib.Postern(
            self.tmp, name="imap-map", global_conf=oauth,
            map_lines=["* 127.0.0.1:%d" % d.imap_port]))

    def auth_requests(self, a):
        return [r for r in a.requests() if r["_path"] == "/auth"]

    def dump(self):
        return super().dump() + "\ndovecot log:\n" + self.dovecot.read_log()[-2000:]


def greet(p):
    c = lib.Client(p.port)
    c.line()
    return c


def login(p, proto, mech, message, mail=False):
    """The client's side of one OAuth login; every line it got back. With
    mail, an SMTP login goes on to send a message, whose queue entry is
    where Postfix logs the login."""
    c = greet(p)
    if proto == "imap":
        c.send("a AUTHENTICATE %s %s\r\n" % (mech, message))
        lines = [c.line()]
        if lines[-1].startswith("+ "):
            c.send("AQ==\r\n" if mech == "OAUTHBEARER" else "\r\n")
            lines.append(c.line())
    elif proto == "pop3":
        c.send("AUTH %s %s\r\n" % (mech, message))
        lines = [c.line()]
        if lines[-1].startswith("+ "):
            c.send("AQ==\r\n" if mech == "OAUTHBEARER" else "\r\n")
            lines.append(c.line())
    else:
        c.send("EHLO client.example\r\n")
        ehlo = c.reply()
        assert any(("AUTH " in l and mech in l) for l in ehlo), ehlo
        c.send("AUTH %s %s\r\n" % (mech, message))
        lines = [c.line()]
        if lines[-1].startswith("334 "):
            c.send("AQ==\r\n" if mech == "OAUTHBEARER" else "\r\n")
            lines.append(c.line())
        if mail and lines[-1].startswith("235 "):
            for cmd, code in (("MAIL FROM:<alice@example.org>", "250"),
                              ("RCPT TO:<bob@example.org>", "250"), ("DATA", "354"),
                              ("Subject: oauth\r\n\r\nbody\r\n.", "250")):
                c.send(cmd + "\r\n")
                reply = c.reply()
                assert reply[-1].startswith(code), (cmd, reply)
    c.close()
    return lines


OK = {"imap": "a OK", "pop3": "+OK", "smtp": "235 "}


def test_announced(ctx):
    c = greet(ctx.p["imap", "replay"])
    c.send("a CAPABILITY\r\n")
    caps = c.until_tag("a")[0]
    assert "AUTH=XOAUTH2 AUTH=OAUTHBEARER" in caps, caps
    c.close()
    c = greet(ctx.p["pop3", "replay"])
    c.send("CAPA\r\n")
    assert "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER" in list(iter(c.line, "."))
    c.close()


def test_token_replayed_to_dovecot(ctx):
    """No Auth-Pass: the backend gets the client's mechanism and token and
    checks the token itself; Dovecot's log names the mechanism."""
    for proto in ("imap", "pop3"):
        for mech, make in MECHS.items():
            before = len(ctx.dovecot.read_log())
            lines = login(ctx.p[proto, "replay"], proto, mech, make("alice", TOKEN))
            assert lines[-1].startswith(OK[proto]), (proto, mech, lines)
            req = ctx.auth_requests(ctx.auth)[-1]
            assert req["Auth-Method"] == mech.lower(), req
            assert req["Auth-User"] == "alice" and req["Auth-Pass"] == TOKEN, req
            lib.wait_for(lambda: "method=%s" % mech in ctx.dovecot.read_log()[before:],
                         5, "Dovecot's %s login" % mech)
            assert "%s-login: Info: Login: user=<alice>, method=%s" % (proto, mech) \
                in ctx.dovecot.read_log()[before:]
    intro = [r for r in ctx.auth.requests() if r["_path"] == "/introspect"]
    assert intro and intro[-1]["token"] == TOKEN


def test_smtp_token_replayed_through_postfix(ctx):
    if not ctx.postfix:
        raise lib.Skip("Postfix needs root and the postfix package")
    for mech, make in MECHS.items():
        lines = login(ctx.p["smtp", "replay"], "smtp", mech, make("alice", TOKEN),
                      mail=True)
        assert lines[-1].startswith("235 "), (mech, lines)
        lib.wait_for(lambda: "sasl_method=%s, sasl_username=alice" % mech
                     in ctx.postfix.read_log(), 5, "Postfix's %s login" % mech)


def test_password_from_the_auth_server(ctx):
    """With Auth-Pass the backend sees an ordinary login."""
    for proto in ("imap", "pop3") + (("smtp",) if ctx.postfix else ()):
        before = len(ctx.dovecot.read_log())
        lines = login(ctx.p[proto, "pass"], proto, "XOAUTH2", xoauth2("alice", TOKEN))
        assert lines[-1].startswith(OK[proto]), (proto, lines)
        if proto != "smtp":
            lib.wait_for(lambda: "method=PLAIN" in ctx.dovecot.read_log()[before:],
                         5, "Dovecot's PLAIN login")


def test_refused_token_is_a_challenge_then_no(ctx):
    refusals = {"imap": "a NO Invalid token", "pop3": "-ERR Invalid token",
                "smtp": "535 5.7.0 Invalid token"}
    for proto in ("imap", "pop3", "smtp"):
        for mech, make in MECHS.items():
            lines = login(ctx.p[proto, "replay"], proto, mech, make("alice", "stolen"))
            assert len(lines) == 2, (proto, mech, lines)
            challenge = lines[0].split(" ", 1)[1]
            assert json.loads(base64.b64decode(challenge)) == \
                {"status": "invalid_token", "scope": "mail"}, lines
            assert lines[1] == refusals[proto], (proto, lines)
    log = ctx.p["imap", "replay"].read_log()
    assert "stolen" not in log and TOKEN not in log


def test_backend_judges_with_the_map(ctx):
    """No auth server: Dovecot checks the token; a bad one is refused there
    and the client still gets the challenge first."""
    lines = login(ctx.p["imap", "map"], "imap", "XOAUTH2", xoauth2("alice", TOKEN))
    assert lines[-1].startswith("a OK"), lines
    lines = login(ctx.p["imap", "map"], "imap", "OAUTHBEARER", oauthbearer("alice", "bad"))
    assert lines[0].startswith("+ ") and lines[-1].startswith("a NO"), lines


def test_no_token_left_in_the_relay(ctx):
    """The relay that runs after the login holds no copy of the token:
    postern-relay, exec'd with nothing but fds and the crossing."""
    p = ctx.p["imap", "replay"]
    c = greet(p)
    c.send("a AUTHENTICATE XOAUTH2 %s\r\n" % xoauth2("alice", TOKEN))
    assert c.until_tag("a")[-1].startswith("a OK")
    c.send("b NOOP\r\n")
    assert c.until_tag("b")[-1].startswith("b OK")
    pid = lib.session_pid(p.wait_log("event=handoff"), "postern", "event=login")
    needles = {TOKEN.encode(), xoauth2("alice", TOKEN).encode()}
    assert lib.memory_holds(pid, needles) == set()
    c.send("z LOGOUT\r\n")
    c.close()


def test_malformed_messages_are_invalid_commands(ctx):
    c = greet(ctx.p["imap", "replay"])
    bad = base64.b64encode(b"user=alice\x01auth=Bearer a b\x01\x01").decode()
    c.send("a AUTHENTICATE XOAUTH2 %s\r\n" % bad)
    assert c.line() == "a BAD invalid command"
    c.send("b AUTHENTICATE OAUTHBEARER\r\n")
    assert c.line() == "+ "
    c.send(base64.b64encode(b"p=tls-unique,,\x01auth=Bearer x\x01\x01").decode() + "\r\n")
    assert c.line() == "b BAD invalid command"
    c.close()
    assert "channel binding" in ctx.p["imap", "replay"].read_log()


def setup():
    return Ctx()


if __name__ == "__main__":
    lib.run([test_announced, test_token_replayed_to_dovecot,
             test_smtp_token_replayed_through_postfix,
             test_password_from_the_auth_server,
             test_refused_token_is_a_challenge_then_no,
             test_backend_judges_with_the_map,
             test_no_token_left_in_the_relay,
             test_malformed_messages_are_invalid_commands], setup=setup)
