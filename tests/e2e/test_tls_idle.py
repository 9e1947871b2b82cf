#!/usr/bin/env python3
"""A TLS session that stays idle, then moves data: what a mail client does
all day. Once handshake and login are over, postern-tls gives back what
only the handshake needed (its certificate credentials, the backend's
trust); the session must still relay afterwards. Each test: LOGIN, SELECT,
IDLE, a pause, a new message delivered by LMTP to Dovecot, its EXISTS seen
through the proxy, DONE, the message fetched whole (its SHA-256), LOGOUT;
Dovecot's log shows the delivery and the session's end."""
import re
import smtplib
import time

import lib

# Long enough that the session is past every start-up step and sits in
# the relay's wait; the relay has no timer of its own shorter than this.
PAUSE = 3.0


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.count = 0

    def proxy(self, port, server_conf="", global_conf=""):
        return self.track(lib.Postern(
            self.tmp, server_conf=server_conf, global_conf=global_conf,
            map_lines=["* 127.0.0.1:%d" % port]))

    def deliver(self, subject):
        """A new message for alice, by LMTP as an MTA delivers it."""
        text = "line of the idle test\r\n" * 200
        with smtplib.LMTP("127.0.0.1", self.dovecot.lmtp_port, timeout=10) as m:
            m.sendmail("sender@example.org", ["alice"],
                       ("Subject: %s\r\n\r\n" % subject + text).encode())
        return text.encode()


def setup():
    return Ctx()


def idle_then_mail(ctx, c, subject):
    """After the greeting: the session's whole course; the message's text
    as fetched through the proxy against the one delivered (Dovecot adds
    its own header lines)."""
    c.send("a LOGIN alice wonderland\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    c.send("b SELECT INBOX\r\n")
    exists = [l for l in c.until_tag("b") if l.endswith(" EXISTS")]
    before = int(exists[0].split()[1])
    c.send("c IDLE\r\n")
    assert c.line().startswith("+")
    time.sleep(PAUSE)
    sent = ctx.deliver(subject)
    line = c.line()
    while not line.endswith(" EXISTS"):
        line = c.line()
    assert int(line.split()[1]) == before + 1, line
    c.send("DONE\r\n")
    assert c.until_tag("c")[-1].startswith("c OK")
    c.send("d FETCH %d BODY.PEEK[TEXT]\r\n" % (before + 1))
    head = c.line()
    size = int(re.search(r"\{(\d+)\}$", head).group(1))
    got = c.read_exact(size)
    assert c.until_tag("d")[-1].startswith("d OK")
    c.send("z LOGOUT\r\n")
    c.until_tag("z")
    c.close()
    assert lib.sha256(got) == lib.sha256(sent)
    log = ctx.dovecot.read_log()
    assert re.search(r"lmtp\(alice\).*saved mail to INBOX", log), log[-2000:]
    lib.wait_for(lambda: "Logged out" in ctx.dovecot.read_log().split(
        "saved mail to INBOX")[-1], 5, "Dovecot's end of the session")


def test_idle_over_implicit_tls(ctx):
    p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(ssl="true"))
    c = lib.tls_client(p.port, ctx.certs.ca)
    assert c.line().startswith("* OK")
    idle_then_mail(ctx, c, "idle over implicit TLS")
    assert "event=tls_handshake result=ok" in p.wait_log("event=tls_handshake")


def test_idle_with_tls_on_both_sides(ctx):
    """TLS to the client and to Dovecot (proxy_ssl, verified): both
    sides' credentials and the backend's trust are given back."""
    p = ctx.proxy(ctx.dovecot.imaps_port, ctx.certs.conf(ssl="true"),
                  'proxy_ssl = "on"\nproxy_ssl_verify = true\n'
                  'proxy_ssl_trusted_certificate = "%s"\n' % ctx.certs.ca)
    c = lib.tls_client(p.port, ctx.certs.ca)
    assert c.line().startswith("* OK")
    idle_then_mail(ctx, c, "idle with TLS on both sides")
    assert "verify=yes" in p.wait_log("event=backend_tls")


def test_idle_to_a_tls_backend_unverified(ctx):
    """A plaintext client, TLS to Dovecot without proxy_ssl_verify: no
    trust is read at all, and the session still works."""
    p = ctx.proxy(ctx.dovecot.imaps_port,
                  global_conf='proxy_ssl = "on"\nproxy_ssl_verify = false\n')
    c = lib.Client(p.port)
    assert c.line().startswith("* OK")
    idle_then_mail(ctx, c, "idle to a TLS backend")
    assert "verify=no" in p.wait_log("event=backend_tls")


if __name__ == "__main__":
    lib.run([test_idle_over_implicit_tls,
             test_idle_with_tls_on_both_sides,
             test_idle_to_a_tls_backend_unverified], setup=setup)
