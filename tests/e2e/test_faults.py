"""The fault matrix (doc/faults.md) for the cells no other file covers: a
backend that resets during the login, greets with garbage or with a
flood, or says nothing; an auth server whose answer is huge. Each gets
the protocol's reply, one log line naming it, and no process left behind.

A misbehaving backend cannot be a real Dovecot, so it is a small server
here, as the auth server is a small script."""
import socket
import threading
import time

import lib


class BadBackend:
    """Accepts connections and misbehaves in one way."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            if self.mode == "reset":
                c.sendall(b"* OK ready\r\n")
                c.recv(4096)              # the LOGIN
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.close()
            elif self.mode == "garbage":
                c.sendall(b"\x16\x03\x01\x00\xff garbage\r\n")
            elif self.mode == "huge":
                c.sendall(b"* OK " + b"x" * 100000 + b"\r\n")
            elif self.mode == "silent":
                time.sleep(30)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class Ctx(lib.Harness):
    def proxy(self, backend_port, extra=""):
        return self.track(lib.Postern(self.tmp, global_conf='timeout = "2s"\n' + extra,
                                      map_lines=["* 127.0.0.1:%d" % backend_port]))


def session_ended(log):
    """The process of the session that logged the last closing line has
    exited. Only that process is watched: other tests run beside this one
    and have postern processes of their own."""
    pid = lib.session_pid(log, "postern", "event=close")

    def gone():
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(") ")[1][0] == "Z"
        except OSError:
            return True
    lib.wait_for(gone, 5, "the session's process to exit")


def login_fails(ctx, p, event):
    c = lib.greet(p.port)
    start = time.monotonic()
    c.send("f1 LOGIN alice wonderland\r\n")
    line = c.line()
    assert line == "* BAD internal server error", line   # nginx's words
    assert c.closed()
    assert time.monotonic() - start < 5
    log = p.wait_log("event=close")
    assert event in log, log
    assert "result=tempfail" in log
    session_ended(log)


def test_backend_resets_during_login(ctx):
    b = BadBackend("reset")
    login_fails(ctx, ctx.proxy(b.port), "event=backend_error")
    b.close()


def test_backend_greets_with_garbage(ctx):
    b = BadBackend("garbage")
    p = ctx.proxy(b.port)
    login_fails(ctx, p, "unexpected greeting")
    b.close()


def test_backend_greets_with_a_flood(ctx):
    b = BadBackend("huge")
    p = ctx.proxy(b.port)
    login_fails(ctx, p, "line too long")
    b.close()


def test_backend_says_nothing(ctx):
    b = BadBackend("silent")
    p = ctx.proxy(b.port)
    login_fails(ctx, p, "timeout")
    b.close()


def test_auth_server_answers_too_much(ctx):
    a = ctx.track(lib.AuthServer(ctx.tmp, ctx.dovecot.imap_port, mode="huge"))
    p = ctx.track(lib.Postern(ctx.tmp, global_conf='auth_http = "%s"\n' % a.url))
    c = lib.greet(p.port)
    c.send("h1 LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert c.closed()
    assert "response too long" in p.wait_log("event=auth_error")
    session_ended(p.wait_log("event=close"))


def test_backend_is_postern_itself(ctx):
    """A map that sends users to the address they came in on (the old
    shipped "* 127.0.0.1" once Dovecot left port 143): refused at once,
    not one postern connecting to the next until the per-source limit."""
    port = lib.free_port()
    p = ctx.track(lib.Postern(ctx.tmp, port=port, global_conf='timeout = "2s"\n',
                              map_lines=["* 127.0.0.1:%d" % port]))
    login_fails(ctx, p, "postern's own address")
    # One session went to the backend: no second postern was started.
    log = p.read_log()
    assert log.count("from=lookup to=backend") == 1, log



def test_backend_is_postern_through_the_any_address(ctx):
    """An answer of 0.0.0.0 and postern's port: a connect to the
    unspecified address reaches this host, so each postern's backend was
    the next postern, none of them ever meeting its own address (each
    came in on 127.0.0.1); 200 processes in a 5 s login. Refused at once,
    as the address the client came in on is."""
    port = lib.free_port()
    p = ctx.track(lib.Postern(ctx.tmp, port=port, global_conf='timeout = "2s"\n',
                              map_lines=["* 0.0.0.0:%d" % port]))
    login_fails(ctx, p, "postern's own address")
    log = p.read_log()
    assert log.count("from=lookup to=backend") == 1, log

if __name__ == "__main__":
    lib.run([test_backend_resets_during_login,
             test_backend_greets_with_garbage,
             test_backend_greets_with_a_flood,
             test_backend_says_nothing,
             test_auth_server_answers_too_much,
             test_backend_is_postern_itself,
             test_backend_is_postern_through_the_any_address],
            Ctx)
