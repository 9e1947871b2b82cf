"""The exec into postern-relay: byte-exact transfer, pipelined bytes across
the exec, half-close, idle timeout, the closing log line."""
import imaplib
import os
import re
import time

import lib


class Ctx:
    def __init__(self):
        self.tmp = lib.TempDir()
        self.dovecot = lib.Dovecot(self.tmp)
        body = os.urandom(10 * 1024 * 1024)
        # A 10 MB message in base64 lines, as a real attachment would be.
        import base64
        text = base64.encodebytes(body).replace(b"\n", b"\r\n")
        self.big = (b"From: a@example.org\r\nTo: alice@example.org\r\n"
                    b"Subject: big\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\n" + text)
        self.dovecot.add_message("alice", self.big, name="2000000000.big.test")
        self.dovecot.start()
        self.p = lib.Postern(self.tmp, map_lines=["* 127.0.0.1:%d" % self.dovecot.imap_port],
                             global_conf='proxy_timeout = "2s"\n').start()

    def dump(self):
        return "postern log:\n" + self.p.read_log()[-3000:]


def setup():
    return Ctx()


def teardown(ctx):
    ctx.p.stop()
    ctx.dovecot.stop()
    ctx.tmp.cleanup()


def test_fetch_10mb_byte_exact(ctx):
    m = imaplib.IMAP4("127.0.0.1", ctx.p.port)
    m.login("alice", "wonderland")
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", "big")
    num = data[0].split()[0]
    typ, data = m.fetch(num, "(BODY.PEEK[])")
    got = data[0][1]
    assert len(got) == len(ctx.big), (len(got), len(ctx.big))
    assert lib.sha256(got) == lib.sha256(ctx.big)
    m.logout()
    log = ctx.p.wait_log("result=relayed")
    down = [int(x) for x in re.findall(r"relay_down=(\d+)", log)]
    assert max(down) > len(ctx.big), down


def test_pipelined_after_login(ctx):
    c = lib.Client(ctx.p.port)
    c.line()
    # One write: the login and three more commands that the front must
    # hand to the backend untouched across the exec.
    c.send("a LOGIN alice wonderland\r\nb SELECT INBOX\r\n"
           "c FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\r\nd LOGOUT\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    assert c.until_tag("b")[-1].startswith("b OK")
    lines = c.until_tag("c")
    assert any(l.startswith("Subject: ") for l in lines), lines
    assert c.until_tag("d")[-1].startswith("d OK")
    assert c.closed()
    assert re.search(r"client_leftover=[1-9]", ctx.p.read_log())


def test_half_close_from_client(ctx):
    import socket
    c = lib.Client(ctx.p.port)
    c.line()
    c.send("a LOGIN alice wonderland\r\n")
    c.until_tag("a")
    c.send("b LOGOUT\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    lines = c.until_tag("b")
    assert lines[-1].startswith("b OK"), lines
    assert c.closed()


def test_idle_relay_ends_on_proxy_timeout(ctx):
    c = lib.Client(ctx.p.port)
    c.line()
    c.send("a LOGIN alice wonderland\r\n")
    c.until_tag("a")
    start = time.time()
    assert c.closed(timeout=10)
    assert 1.5 < time.time() - start < 8
    assert 'reason="idle timeout"' in ctx.p.wait_log('reason="idle timeout"')


def test_relay_is_the_same_process(ctx):
    # The relay replaced postern by exec: same pid in both log lines.
    log = ctx.p.read_log()
    relay_pids = set(re.findall(r"postern-relay\[(\d+)\]", log))
    front_pids = set(re.findall(r"postern\[(\d+)\]", log))
    assert relay_pids and relay_pids <= front_pids


def test_relay_runs_boxed(ctx):
    """Issue 9: once it only moves bytes, the relay can do nothing else."""
    m = imaplib.IMAP4("127.0.0.1", ctx.p.port)
    m.login("alice", "wonderland")
    m.noop()
    pids = lib.pids_of("postern-relay")
    # The front's filter, inherited, and the relay's own.
    assert pids and all(lib.boxed(p, filters=2) for p in pids), pids
    m.logout()


if __name__ == "__main__":
    lib.run([test_fetch_10mb_byte_exact,
             test_pipelined_after_login,
             test_half_close_from_client,
             test_idle_relay_ends_on_proxy_timeout,
             test_relay_is_the_same_process,
             test_relay_runs_boxed],
            setup, teardown)
