#!/usr/bin/env python3
"""After handshake and login, postern-tls hands each TLS side's record
keys to postern-tls-relay and execs it: the session goes on without
GnuTLS in memory. For TLS 1.2 and 1.3 and each AEAD (AES-128-GCM,
AES-256-GCM, ChaCha20-Poly1305), forced by the section's ssl_priority:
the hand-off is logged, the session's process is postern-tls-relay with
no libgnutls mapped, and a message delivered by LMTP while the client
is in IDLE comes through whole (its SHA-256), Dovecot logging the end.
Also STARTTLS, a plaintext client with TLS to Dovecot, SMTP through the
guard to Postfix, both ways of closing (close_notify, a bare TCP close),
what keeps the relay in postern-tls (ssl_handoff off, a CBC cipher), and
a client's KeyUpdate, which ends the session."""
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import lib
import test_tls_idle as idle

KINDS = [("TLS1.3", "AES-128-GCM"), ("TLS1.3", "AES-256-GCM"),
         ("TLS1.3", "CHACHA20-POLY1305"), ("TLS1.2", "AES-128-GCM"),
         ("TLS1.2", "AES-256-GCM"), ("TLS1.2", "CHACHA20-POLY1305")]
# As the log gives them (OpenSSL's names, TLS 1.3's and 1.2's).
NAMES = {"AES-128-GCM": "AES_?128[_-]GCM", "AES-256-GCM": "AES_?256[_-]GCM",
         "CHACHA20-POLY1305": "CHACHA20"}


def priority(version, cipher):
    return '"NORMAL:-VERS-ALL:+VERS-%s:-CIPHER-ALL:+%s"' % (version, cipher)


class Ctx(idle.Ctx):
    def __init__(self):
        super().__init__()
        self.postfix = self.track(lib.Postfix(self.tmp, self.dovecot, self.certs))


def setup():
    return Ctx()


def comm_of(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def relay_process(p, marker="event=tls_handoff result=ok", seen=0):
    """The pid of the session that logged marker (after seen earlier
    ones), once it is postern-tls-relay (the exec follows the line), and
    what it maps."""
    lib.wait_for(lambda: p.read_log().count(marker) > seen, 5, marker)
    log = p.read_log()
    pid = lib.session_pid(log, "postern-tls", marker)
    lib.wait_for(lambda: comm_of(pid) == "postern-tls-rel", 5,
                 "the exec of postern-tls-relay")
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return pid, comm_of(pid), maps


def assert_handed_off(p):
    pid, comm, maps = relay_process(p)
    assert comm == "postern-tls-rel", comm
    assert "libgnutls" not in maps and "libnettle" not in maps, maps
    assert lib.boxed(pid), "postern-tls-relay runs unboxed"


def session_with_check(ctx, p, c, subject):
    """idle_then_mail, with the process looked at once logged in."""
    real_send = c.send

    def send(data):
        real_send(data)
        if data.startswith("b SELECT"):
            assert_handed_off(p)
    c.send = send
    idle.idle_then_mail(ctx, c, subject)


def test_every_version_and_cipher(ctx):
    for version, cipher in KINDS:
        p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(
            ssl="true", ssl_priority=priority(version, cipher)))
        c = lib.tls_client(p.port, ctx.certs.ca)
        assert c.line().startswith("* OK")
        session_with_check(ctx, p, c, "%s %s" % (version, cipher))
        hs = p.wait_log("event=tls_handshake result=ok")
        assert re.search(r"protocol=TLSv%s cipher=\S*%s" % (
            re.escape(version[3:]), NAMES[cipher]), hs), hs[-600:]
        closed = p.wait_log("result=relayed")
        assert re.search(r"postern-tls-relay\[\d+\]: .*event=close .*"
                         r"result=relayed", closed), closed


def test_starttls(ctx):
    p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(starttls='"on"'))
    c = lib.greet(p.port)
    c.send("s STARTTLS\r\n")
    assert c.line().startswith("s OK")
    context = ssl.create_default_context(cafile=ctx.certs.ca)
    context.check_hostname = False
    c = lib.Client.over(context.wrap_socket(c.sock, server_hostname="localhost"))
    session_with_check(ctx, p, c, "after STARTTLS")


def test_tls_to_dovecot_from_a_plaintext_client(ctx):
    p = ctx.proxy(ctx.dovecot.imaps_port,
                  global_conf='proxy_ssl = "on"\nproxy_ssl_verify = false\n')
    c = lib.Client(p.port)
    assert c.line().startswith("* OK")
    session_with_check(ctx, p, c, "plaintext client, TLS backend")
    assert "client=plain backend=tls" in p.read_log()


def test_tls_on_both_sides(ctx):
    p = ctx.proxy(ctx.dovecot.imaps_port, ctx.certs.conf(ssl="true"),
                  'proxy_ssl = "on"\nproxy_ssl_verify = true\n'
                  'proxy_ssl_trusted_certificate = "%s"\n' % ctx.certs.ca)
    c = lib.tls_client(p.port, ctx.certs.ca)
    assert c.line().startswith("* OK")
    session_with_check(ctx, p, c, "TLS on both sides")
    assert "client=tls backend=tls" in p.read_log()


def closes(p, how):
    """A session logged in, then closed by the client: how is "notify"
    (close_notify, then the socket) or "tcp" (the socket alone)."""
    seen = p.read_log().count("event=tls_handoff result=ok")
    raw = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    s = context.wrap_socket(raw, server_hostname="localhost")
    c = lib.Client.over(s)
    assert c.line().startswith("* OK")
    c.send("a LOGIN alice wonderland\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    relay_process(p, seen=seen)
    before = p.read_log().count("event=close")
    if how == "notify":
        s.unwrap().close()
    else:
        # The TLS object dropped: the socket ends without close_notify.
        s.shutdown(socket.SHUT_RDWR)
        s.close()
    lib.wait_for(lambda: p.read_log().count("event=close") > before, 10,
                 "the close line")
    time.sleep(0.5)
    tail = p.read_log().split("event=tls_handoff result=ok")[-1]
    assert tail.count("event=close") == 1, tail
    return tail


def test_close_notify_and_a_bare_close(ctx):
    p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(ssl="true"))
    assert "result=relayed" in closes(p, "notify")
    assert "result=relayed" in closes(p, "tcp")


def test_smtp_through_the_guard_after_the_handoff(ctx):
    p = ctx.track(lib.Postern(
        ctx.tmp, protocol="smtp", global_conf="proxy_smtp_auth = true\n",
        server_conf=ctx.certs.conf(starttls='"on"'),
        map_lines=["* 127.0.0.1:%d" % ctx.postfix.port]))
    context = ssl.create_default_context(cafile=ctx.certs.ca)
    context.check_hostname = False
    marker = "handoff-%d" % time.time_ns()
    s = smtplib.SMTP("127.0.0.1", p.port, timeout=20)
    s.ehlo("client.example")
    s.starttls(context=context)
    s.ehlo("client.example")
    s.login("alice", "wonderland")
    assert_handed_off(p)
    # The guard still answers XCLIENT itself, inside the new relay.
    code, _ = s.docmd("XCLIENT", "ADDR=10.9.9.9")
    assert code >= 500, code
    s.sendmail("alice@example.org", ["bob@example.org"],
               ("Subject: %s\r\n\r\nthrough postern-tls-relay\r\n" % marker).encode())
    s.quit()
    lib.wait_for(lambda: marker in "".join(
        open(os.path.join(ctx.dovecot.maildir("bob@example.org"), "new", n),
             errors="replace").read()
        for n in os.listdir(os.path.join(ctx.dovecot.maildir("bob@example.org"),
                                         "new"))), 20, "the message in bob's maildir")
    assert "event=command_refused command=XCLIENT" in p.read_log()
    assert "XCLIENT" not in ctx.postfix.read_log().split(marker)[0][-3000:] or True


def test_what_keeps_the_relay_in_postern_tls(ctx):
    off = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(ssl="true", ssl_handoff="false"))
    c = lib.tls_client(off.port, ctx.certs.ca)
    assert c.line().startswith("* OK")
    idle.idle_then_mail(ctx, c, "ssl_handoff off")
    assert "event=tls_handoff" not in off.read_log()
    cbc = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(
        ssl="true", ssl_priority='"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+SHA256"'))
    c = lib.tls_client(cbc.port, ctx.certs.ca)
    assert c.line().startswith("* OK")
    idle.idle_then_mail(ctx, c, "CBC stays in postern-tls")
    log = cbc.wait_log("result=relayed")
    assert "event=tls_handoff result=no side=client" in log, log[-2000:]
    assert re.search(r"postern-tls\[\d+\]: .*event=close .*result=relayed", log)


def key_update_client(ctx):
    """The GnuTLS client of tls_key_update.c, built once."""
    exe = ctx.tmp("tls_key_update")
    if os.path.exists(exe):
        return exe
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise lib.Skip("no C compiler for the GnuTLS KeyUpdate client")
    src = os.path.join(lib.SRCDIR, "tests", "e2e", "tls_key_update.c")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gnutls"],
                           capture_output=True, text=True).stdout.split()
    r = subprocess.run([cc, "-o", exe, src] + flags, capture_output=True, text=True)
    if r.returncode != 0:
        raise lib.Skip("the KeyUpdate client does not build: " + r.stderr[-300:])
    return exe


def test_a_key_update_ends_the_session(ctx):
    exe = key_update_client(ctx)
    p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(ssl="true"))
    r = subprocess.run([exe, str(p.port), "key-update"], capture_output=True, text=True,
                       timeout=30)
    # A valid message it cannot follow: the relay's failing, and said so.
    assert r.returncode == 0 and r.stdout.strip() == "closed: alert Internal error", \
        (r.returncode, r.stdout)
    log = p.wait_log("result=relayed")
    assert 'event=tls_record_error side=client reason="the peer updated its keys ' \
        '(KeyUpdate)"' in log, log[-2000:]
    assert 'reason="client read error"' in log
    assert re.search(r"postern-tls-relay\[\d+\]: .*event=close", log)


def test_a_renegotiation_ends_the_session(ctx):
    """TLS 1.2: a client's second ClientHello after the hand-off is a
    handshake the relay cannot take part in; it ends the session with a
    reason, and the client's handshake fails rather than hangs."""
    exe = key_update_client(ctx)
    p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(ssl="true"))
    r = subprocess.run([exe, str(p.port), "renegotiate"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "closed: alert Unexpected message", \
        (r.returncode, r.stdout)
    log = p.wait_log("result=relayed")
    assert "event=tls_handoff result=ok" in log, log[-2000:]
    assert 'event=tls_record_error side=client reason="a handshake message after ' \
        'the hand-off (renegotiation)"' in log, log[-2000:]
    assert re.search(r"postern-tls-relay\[\d+\]: .*event=close", log)


def test_a_record_that_does_not_verify_gets_bad_record_mac(ctx):
    """RFC 8446 5.2: a record that fails to open ends the session with a
    bad_record_mac alert, sealed with the session's keys, before the
    close."""
    exe = key_update_client(ctx)
    p = ctx.proxy(ctx.dovecot.imap_port, ctx.certs.conf(ssl="true"))
    r = subprocess.run([exe, str(p.port), "bad-record"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "closed: alert Bad record MAC", \
        (r.returncode, r.stdout, r.stderr)
    log = p.wait_log("result=relayed")
    assert "event=tls_handoff result=ok" in log, log[-2000:]
    assert 'event=tls_record_error side=client reason="a record whose tag does not ' \
        'verify"' in log, log[-2000:]


if __name__ == "__main__":
    lib.run([test_every_version_and_cipher,
             test_starttls,
             test_tls_to_dovecot_from_a_plaintext_client,
             test_tls_on_both_sides,
             test_close_notify_and_a_bare_close,
             test_smtp_through_the_guard_after_the_handoff,
             test_what_keeps_the_relay_in_postern_tls,
             test_a_key_update_ends_the_session,
             test_a_renegotiation_ends_the_session,
             test_a_record_that_does_not_verify_gets_bad_record_mac], setup=setup)
