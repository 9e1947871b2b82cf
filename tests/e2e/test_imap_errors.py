"""Bad input and broken neighbours: every case gets the protocol's reply
and a log line, never a crash, a hang or a silent drop."""
import time

import lib


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__()
        self.p = self.proxy()

    def proxy(self, extra="", map_to=None):
        port = map_to or self.dovecot.imap_port
        return self.track(lib.Postern(self.tmp, global_conf=extra,
                                      map_lines=["* 127.0.0.1:%d" % port]))


def greet(p):
    return lib.greet(p.port)


def test_unknown_command_and_invalid_syntax(ctx):
    c = greet(ctx.p)
    # The client hears nginx's words; the log says what each was.
    c.send("u1 SELECT INBOX\r\n")
    assert c.line() == "u1 BAD invalid command"
    c.send("u2 LOGIN \"unterminated\r\n")
    assert c.line() == "u2 BAD invalid command"
    c.send("+bad NOOP\r\n")
    assert c.line() == "* BAD invalid command"
    c.send("\r\n")
    assert c.line() == "* BAD invalid command"
    c.send("u3 NOOP\r\n")
    assert c.line() == "u3 OK completed"
    c.close()
    log = ctx.p.wait_log('event=invalid_command reason="unknown command"')
    assert log.count("event=invalid_command") >= 4


def test_too_many_errors_closes(ctx):
    p = ctx.proxy('max_errors = 3\n')
    c = greet(p)
    for i in range(3):
        c.send("e%d BOGUS\r\n" % i)
        assert c.line() == "e%d BAD invalid command" % i
    assert c.closed()   # as nginx: the last error's reply is the last word
    assert 'reason="too many errors"' in p.wait_log("event=close")


def test_line_longer_than_buffer_is_refused(ctx):
    p = ctx.proxy('imap_client_buffer = "256"\n')
    c = greet(p)
    c.send("l1 LOGIN " + "a" * 400 + " b\r\n")
    assert c.line() == "l1 BAD invalid command"
    assert c.closed()
    assert "event=line_too_long limit=256" in p.wait_log("event=close")


def test_literal_larger_than_buffer_is_refused_before_sending(ctx):
    p = ctx.proxy('imap_client_buffer = "1k"\n')
    c = greet(p)
    c.send("l2 LOGIN alice {5000}\r\n")
    line = c.line()
    assert not line.startswith("+"), "continuation sent for an oversize literal"
    assert line == "l2 BAD invalid command", line
    assert c.closed()


def test_backend_down_is_a_temporary_failure(ctx):
    p = ctx.proxy(map_to=lib.free_port())
    c = greet(p)
    c.send("b1 LOGIN alice wonderland\r\n")
    assert c.line() == "* BAD internal server error"   # nginx's words
    assert c.closed()
    log = p.wait_log("event=close")
    assert "event=backend_down" in log and "result=tempfail" in log


def test_backend_refusal_text_with_proxy_pass_error_message(ctx):
    p = ctx.proxy("proxy_pass_error_message = true\n")
    c = greet(p)
    c.send("b2 LOGIN alice nope\r\n")
    line = c.until_tag("b2")[-1]
    assert line.startswith("b2 NO [AUTHENTICATIONFAILED]"), line
    c.close()


def test_user_without_route_fails(ctx):
    p = ctx.track(lib.Postern(ctx.tmp, map_lines=["@example.org 127.0.0.1:%d" % ctx.dovecot.imap_port]))
    c = greet(p)
    c.send("n1 LOGIN alice wonderland\r\n")
    assert c.line().startswith("n1 NO")
    c.send('n2 LOGIN "bob@example.org" "%s"\r\n' % lib.USERS["bob@example.org"].replace("\\", "\\\\").replace('"', '\\"'))
    assert c.until_tag("n2")[-1].startswith("n2 OK")
    c.close()


def test_idle_client_times_out(ctx):
    p = ctx.proxy('timeout = "1s"\n')
    c = greet(p)
    start = time.time()
    assert c.line().startswith("* BYE")
    assert c.closed()
    assert 0.8 < time.time() - start < 5
    assert "result=timeout" in p.wait_log("event=close")


def test_client_that_vanishes_mid_command(ctx):
    c = greet(ctx.p)
    c.send("v1 LOGIN alice {10}\r\n")
    assert c.line().startswith("+")
    c.close()
    assert 'reason="client closed"' in ctx.p.wait_log('reason="client closed"')


def test_binary_garbage(ctx):
    c = greet(ctx.p)
    c.send(b"\x00\xff\xfe garbage \x01\r\n")
    assert c.line().startswith("* BAD")
    c.send("g1 NOOP\r\n")
    assert c.line() == "g1 OK completed"
    c.close()


def test_empty_strings_in_a_full_store(ctx):
    """Issue 9, hole 1: with the 4k store exactly full, each "" wrote a NUL
    past it; glibc aborted and, under inetd, told the client so."""
    c = greet(ctx.p)
    c.send("a X " + "A" * 4091 + ' "" ""\r\n')
    assert c.line() == "a BAD invalid command"
    assert c.closed()
    log = ctx.p.wait_log('reason="command too long"')
    assert "event=line_too_long limit=4096" in log


def test_literal_over_the_argument_limit_at_the_end_of_a_read(ctx):
    """Issue 9, hole 2: 64 arguments, then a literal whose last byte ends
    a read. The byte after it in the buffer is the header's LF; reading it
    sent the parser walking the heap and echoing it as tags."""
    c = greet(ctx.p)
    header = "a X" + " x" * 64 + " {139+}\r\n"
    assert len(header) == 140  # the LF sits where the literal will end
    c.send(header)
    time.sleep(0.3)
    c.send("L" * 139)
    time.sleep(0.3)
    c.send("\r\n")
    assert c.line() == "a BAD invalid command"
    c.send("n NOOP\r\n")
    assert c.line() == "n OK completed"
    c.close()
    assert 'reason="too many arguments"' in ctx.p.read_log()


def test_login_timeout_ends_noops_and_a_drip(ctx):
    """Issue 9, hole 4: timeout is an idle timer that NOOP and every byte
    reset; login_timeout bounds the whole time before login."""
    p = ctx.proxy('login_timeout = "2s"\ntimeout = "60s"\n')
    started = time.monotonic()
    c = greet(p)
    for n in range(40):
        c.send("n%d NOOP\r\n" % n)
        line = c.line()
        if line.startswith("* BYE"):
            break
        assert line == "n%d OK completed" % n
        time.sleep(0.2)
    assert line == "* BYE Login timed out", line
    assert c.closed()
    assert 1.5 < time.monotonic() - started < 4
    drip = greet(p)
    started = time.monotonic()
    lines = []
    for b in b"d1 LOGIN alice wonderland\r\n" * 10:
        drip.send(bytes([b]))
        time.sleep(0.2)
        lines = drip.poll_lines()
        if lines:
            break
    assert lines == ["* BYE Login timed out"], lines
    assert drip.closed()
    assert time.monotonic() - started < 4
    log = p.wait_log('reason="login timed out"')
    assert "event=login_timeout" in log and "limit=2000" in log


if __name__ == "__main__":
    lib.run([test_unknown_command_and_invalid_syntax,
             test_too_many_errors_closes,
             test_line_longer_than_buffer_is_refused,
             test_literal_larger_than_buffer_is_refused_before_sending,
             test_backend_down_is_a_temporary_failure,
             test_backend_refusal_text_with_proxy_pass_error_message,
             test_user_without_route_fails,
             test_idle_client_times_out,
             test_client_that_vanishes_mid_command,
             test_binary_garbage,
             test_empty_strings_in_a_full_store,
             test_literal_over_the_argument_limit_at_the_end_of_a_read,
             test_login_timeout_ends_noops_and_a_drip],
            Ctx)
