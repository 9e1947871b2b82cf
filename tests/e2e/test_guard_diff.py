"""A differential test of the guard (postern-guard-relay) against the real
servers behind it: a seeded generator of hostile sessions goes through
postern into the real Postfix and the real Dovecot, and the backend's own
record decides, never postern's.

SMTP (smtp_auth none, xclient = false, in front of the Postfix port that
trusts XCLIENT from postern's address): Postfix logs every command it
reads from 127.0.0.1 (debug_peer_list), and its session summary counts
the commands it recognized. A case fails if Postfix read an XCLIENT,
XFORWARD or STARTTLS command, gave a second greeting (an XCLIENT obeyed),
logged a sasl_username, or accepted a recipient outside its domains.

IMAP (imap_deny_commands = {"DELETE", "RENAME"}): before each case the
mailbox "victim" is made at Dovecot directly; after it, Dovecot is asked
directly whether it is still there, and Dovecot's mail_log must show no
mailbox deleted or renamed.

Issue 20's reproductions run first, as fixed cases. POSTERN_DIFF_CASES=N
runs N generated cases per protocol (default 150); POSTERN_DIFF_SEED
picks the generator's seed (printed, so a run can be repeated)."""
import base64
import imaplib
import os
import random
import re
import socket
import time

import lib

CLIENT = "127.0.0.2"
CASES = int(os.environ.get("POSTERN_DIFF_CASES", "150"))
SEED = int(os.environ.get("POSTERN_DIFF_SEED") or
           (random.SystemRandom().randrange(1 << 31)
            if "POSTERN_DIFF_CASES" in os.environ else 20))
IO_TIMEOUT = 5.0       # connecting, greeting, login
SYNC_TIMEOUT = 1.5     # waiting for a case's end to show
PER_CONNECTION = 4     # SMTP cases sharing one session while it keeps in step

MAIL_LOG = """mail_plugins = $mail_plugins notify mail_log
plugin {
  mail_log_events = mailbox_delete mailbox_rename
}
protocol imap {
  mail_max_userip_connections = 100000
}
"""
# A session the guard keeps after its client left ends by this.
PROXY_TIMEOUT = 'proxy_timeout = "5s"\n'
LOGIN_FAILURES = []   # (case, what came back): a login through postern that failed
LINGERING = []   # (protocol, case, mode, bytes): backend session outlived the client


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(extra=MAIL_LOG)
        self.postfix = None
        try:
            pf = lib.Postfix(self.tmp, self.dovecot)
        except lib.Skip as why:
            self.no_postfix = str(why)
        else:
            # Postfix's own record: every command it reads from postern.
            with open(os.path.join(pf.conf, "main.cf"), "a") as f:
                f.write("debug_peer_list = 127.0.0.1\ndebug_peer_level = 2\n")
            self.postfix = self.track(pf)
            self.auth = self.track(lib.AuthServer(
                self.tmp, self.dovecot.imap_port,
                backends={"smtp": self.postfix.port}))
            self.smtp = self.track(lib.Postern(
                self.tmp, protocol="smtp",
                global_conf='auth_http = "%s"\nsmtp_auth = {none}\n'
                            'xclient = false\nsmtp_capabilities = {PIPELINING}\n'
                            % self.auth.url + PROXY_TIMEOUT))
        self.imap = self.track(lib.Postern(
            self.tmp, global_conf='imap_deny_commands = {"DELETE", "RENAME"}\n' + PROXY_TIMEOUT,
            map_lines=["* 127.0.0.1:%d" % self.dovecot.imap_port]))
        self.m = None

    def direct(self):
        """Dovecot itself, past postern, as alice; one session kept."""
        if self.m is None:
            self.m = imaplib.IMAP4("127.0.0.1", self.dovecot.imap_port, timeout=IO_TIMEOUT)
            self.m.login("alice", lib.USERS["alice"])
        return self.m

    def dump(self):
        out = super().dump() + "\ndovecot log:\n" + self.dovecot.read_log()[-1500:]
        if self.postfix:
            out += "\npostfix log:\n" + self.postfix.read_log()[-1500:]
        return out

    def close(self):
        if self.m is not None:
            try:
                self.m.logout()
            except Exception:
                pass
        super().close()


class HarnessBroke(Exception):
    """The harness, not the guard, failed: a session could not be set up."""


def send_as(sock, data, mode, rng):
    """Write data in the case's way: whole, in its pieces, at random cuts,
    or a byte at a time (no Nagle, a pause between writes, so the reads
    on the other side are split too)."""
    if mode == "whole":
        sock.sendall(b"".join(data))
        return
    if mode == "pieces":
        pieces = data
    else:
        flat = b"".join(data)
        if mode == "bytes":
            cuts = list(range(1, len(flat)))
        else:
            cuts = sorted(rng.sample(range(1, len(flat)), min(len(flat) - 1, rng.randint(1, 6)))) \
                if len(flat) > 1 else []
        bounds = [0] + cuts + [len(flat)]
        pieces = [flat[a:b] for a, b in zip(bounds, bounds[1:])]
    pause = 0.001 if mode == "bytes" else 0.02
    for p in pieces:
        if p:
            sock.sendall(p)
            time.sleep(pause)


def pick_mode(rng, data):
    size = sum(len(d) for d in data)
    r = rng.random()
    if r < 0.45:
        return "whole"
    if r < 0.65:
        return "pieces"
    if r < 0.85 or size > 400:
        return "cuts"
    return "bytes"


def show(data):
    return repr(b"".join(data))


# ---------------------------------------------------------------- SMTP

SMTP_VERBS = {
    b"XCLIENT": [b"LOGIN=alice", b"ADDR=10.9.9.9", b"LOGIN=alice ADDR=10.9.9.9",
                 b"NAME=spike.example"],
    b"XFORWARD": [b"ADDR=10.9.9.9", b"NAME=spike.example"],
    b"STARTTLS": [b""],
}
LEADS = [b"", b"", b"", b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x00", b"\r\r",
         b" \x0b", b"\x0c\t", b"\n", b"\r\n", b"\x0b\x0c\r\t "]
SEPS = [b" ", b" ", b"\t", b"\x0b", b"\x0c", b"\r", b"\x00", b"  ", b" \r", b"\x0b "]
EOLS = [b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r\r\n", b"\r\r\r\n", b" \r\n",
        b"\t\r\n", b"\x0b\r\n", b"\x00\r\n"]
BENIGN = [b"NOOP", b"RSET", b"HELP", b"VRFY bob", b"EHLO again.example",
          b"HELO again.example", b"MAIL FROM:<s@outside.test>",
          b"RCPT TO:<bob@example.org>", b"RCPT TO:<victim@elsewhere.test>",
          b"DATA", b"BDAT", b"BDAT 0 LAST", b".", b"", b"XCLIENTX LOGIN=alice",
          b"X CLIENT LOGIN=alice", b"NOOP XCLIENT LOGIN=alice"]
TRANSACTION = b"RSET\r\nMAIL FROM:<s@outside.test>\r\nRCPT TO:<bob@example.org>\r\n"
# The probe after each case: a recipient no one may relay to, answered by
# Postfix with its address, which tells the case's replies are all in.
PROBE = b"RSET\r\nMAIL FROM:<s@outside.test>\r\nRCPT TO:<probe@elsewhere.test>\r\n"


def case_word(rng, word):
    r = rng.random()
    if r < 0.6:
        return word
    if r < 0.8:
        return word.lower()
    return bytes(c ^ 0x20 if chr(c).isalpha() and rng.random() < 0.5 else c for c in word)


def smtp_hostile(rng):
    verb = rng.choice(list(SMTP_VERBS))
    arg = rng.choice(SMTP_VERBS[verb])
    line = rng.choice(LEADS) + case_word(rng, verb)
    if arg:
        line += rng.choice(SEPS) + arg
    elif rng.random() < 0.3:
        line += rng.choice(SEPS)
    return line + rng.choice(EOLS)


def smtp_benign(rng):
    return rng.choice(BENIGN) + rng.choice([b"\r\n", b"\r\n", b"\n"])


def smtp_body(rng):
    lines = []
    for _ in range(rng.randint(0, 4)):
        r = rng.random()
        if r < 0.3:
            lines.append(smtp_hostile(rng))
        elif r < 0.5:
            lines.append(rng.choice([b".", b"..", b". ", b".\r", b"\r.", b" ."]) +
                         rng.choice([b"\r\n", b"\n", b"\r"]))
        else:
            lines.append(b"Subject: diff %d" % rng.randrange(10 ** 6) +
                         rng.choice([b"\r\n", b"\n", b"\r"]))
    return lines


DATA_ENDS = [b".\r\n", b".\n", b".\r\r\n", b".\r\r\r\n", b". \r\n", b".\t\r\n",
             b"..\r\n", b".\x0b\r\n", b".\x00\r\n", b".\r", b"\n.\n", b"\r\n.\r\n",
             b".\r\n\r\n"]


def smtp_data(rng):
    pieces = [TRANSACTION, b"DATA\r\n"] + smtp_body(rng)
    pieces.append(rng.choice([b"body\r\n", b"body\n", b"body\r", b""]))
    pieces.append(rng.choice(DATA_ENDS))
    pieces.append(smtp_hostile(rng))
    if rng.random() < 0.5:
        pieces.append(smtp_benign(rng))
    if rng.random() < 0.6:
        pieces.append(b"\r\n.\r\n")   # in case the message did not end
    return pieces


def bdat_size(rng, n):
    r = rng.random()
    if r < 0.3:
        return b"%d" % n
    if r < 0.6:
        return b"%d" % max(0, n + rng.randint(-4, 4))
    return rng.choice([b"%05d" % n, b"0%d" % n, b"+%d" % n, b"%d" % (n + 10 ** 19),
                       b"99999999999999999999%d" % n, b"-1", b"", b"0x%x" % n,
                       b"%d %d" % (n, n), b"\t%d" % n, b"%d\x0b" % n, b" %d" % n])


def smtp_bdat(rng):
    pieces = [TRANSACTION]
    for _ in range(rng.randint(1, 2)):
        chunk = b"".join(smtp_body(rng)) + rng.choice([b"", smtp_hostile(rng)])
        tail = rng.choice([b"", b"", b" LAST", b" x", b" LAST x", b"\x0bLAST",
                           b" last", b"\tLAST", b"  LAST"])
        pieces.append(case_word(rng, b"BDAT") + rng.choice([b" ", b" ", b"\t", b"\x0b"]) +
                      bdat_size(rng, len(chunk)) + tail + rng.choice(EOLS[:6]))
        pieces.append(chunk)
    pieces.append(smtp_hostile(rng))
    if rng.random() < 0.3:
        pieces.append(b"BDAT 0 LAST\r\n")
    return pieces


def smtp_pipelined(rng):
    pieces = [smtp_benign(rng) if rng.random() < 0.6 else smtp_hostile(rng)
              for _ in range(rng.randint(3, 20))]
    return pieces + [smtp_hostile(rng)]


def smtp_split_lines(rng):
    # A command word across a CR, a line glued to the next by a lone CR.
    hostile = smtp_hostile(rng)
    return [rng.choice([b"NOOP\r", b"NOOP\r\r", b"RSET\r", b"NOOP", b"\r", b"NOOP "]),
            hostile, smtp_benign(rng)]


def smtp_case(rng):
    kind = rng.choice([smtp_data, smtp_data, smtp_bdat, smtp_bdat, smtp_pipelined,
                       smtp_split_lines, lambda r: [smtp_hostile(r)]])
    return [p for p in kind(rng) if p]


SMTP_FIXED = [
    [b"\rXCLIENT LOGIN=alice\r\n"],
    [b"\x0bXCLIENT LOGIN=alice\r\n"],
    [b"\x0cXFORWARD ADDR=10.9.9.9\r\n"],
    [b"XCLIENT\x0bADDR=10.9.9.9\r\n"],
    [b"XCLIENT\x0bLOGIN=alice\r\n"],
    [b"XCLIENT\x0cLOGIN=alice\r\n"],
    [b"DATA\r\n", b"Subject: cr\r\n\r\nbody\r\n", b".\r\r\n", b"XCLIENT LOGIN=alice\r\n",
     b"RCPT TO:<victim@elsewhere.test>\r\n"],
    [b"DATA\r\n", b"Subject: lf\r\n\r\nbody\n", b".\n", b"XCLIENT LOGIN=alice\r\n"],
    [b"DATA\r\n", b"Subject: sp\r\n\r\nbody\r\n", b". \r\n", b"XCLIENT LOGIN=alice\r\n",
     b"\r\n.\r\n"],
    [b"BDAT 19 x\r\n", b"XCLIENT LOGIN=alice\r\n"],
    [b"BDAT 5 x\r\n", b"XCLIENT LOGIN=alice\r\n"],
    [b"BDAT 005\r\n", b"XCLIXCLIENT LOGIN=alice\r\n"],
    [b"XCLIENT\x00LOGIN=alice\r\n"],
    [b"STARTTLS\r\n"],
    [b"sTaRtTlS\t\r\n"],
]

ANY_SPACE = r"[\s?]"   # Postfix logs a control byte as "?"
FORBIDDEN = re.compile(r"%s*(xclient|xforward|starttls)(?:%s|$)" % (ANY_SPACE, ANY_SPACE), re.I)
SMTPD = re.compile(r"postfix/smtpd\[(\d+)\]: ([<>]) \S+: (.*)$")


def smtp_violations(log):
    """What in this stretch of Postfix's log shows a forbidden command
    obeyed: Postfix's own lines, each with why."""
    bad = []
    greetings = {}
    last_cmd = {}
    for line in log.splitlines():
        c = re.search(r"postfix/smtpd\[(\d+)\]: connect from ", line)
        if c:
            greetings[c.group(1)] = 0
        m = SMTPD.search(line)
        if m:
            pid, way, text = m.groups()
            if way == "<":
                last_cmd[pid] = text
                if FORBIDDEN.match(text):
                    bad.append("Postfix read the command: " + line)
            else:
                if text.startswith("220 "):
                    greetings[pid] = greetings.get(pid, 0) + 1
                    if greetings[pid] > 1:
                        bad.append("Postfix greeted again (XCLIENT obeyed): " + line)
                cmd = last_cmd.get(pid, "")
                if re.match(r"rcpt to:\s*<[^>]*@elsewhere\.test>", cmd, re.I) and \
                        text.startswith("250"):
                    bad.append("Postfix relayed: " + cmd + " -> " + text)
        if "postfix/smtpd" in line and " disconnect from " in line and \
                re.search(r" (xclient|xforward|starttls)=", line):
            bad.append("Postfix counted the command: " + line)
        if "sasl_username" in line or "sasl_method" in line:
            bad.append("Postfix logged a login: " + line)
    return bad


class SmtpSession:
    """A port-25 client past its login (EHLO, MAIL, RCPT routed)."""

    def __init__(self, ctx):
        try:
            sock = socket.create_connection(("127.0.0.1", ctx.smtp.port),
                                            timeout=IO_TIMEOUT, source_address=(CLIENT, 0))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.c = lib.Client.over(sock)
            assert self.c.line() == "220 postern.test ESMTP ready"
            self.c.send("EHLO client.example\r\nMAIL FROM:<s@outside.test>\r\n"
                        "RCPT TO:<bob@example.org>\r\n")
            got = [self.c.line() for _ in range(4)]
        except (OSError, EOFError, AssertionError) as e:
            raise HarnessBroke("SMTP session setup: %r" % e)
        if got[:3] != ["250-postern.test", "250 PIPELINING", "250 2.0.0 OK"] or \
                not got[3].startswith("250 2.1.5"):
            raise HarnessBroke("SMTP session setup: %r" % got)
        self.alive = True

    def run(self, data, mode, rng):
        """Send a case and the probe; False once the session is out of step
        or over."""
        try:
            self.c.sock.settimeout(IO_TIMEOUT)
            send_as(self.c.sock, data, mode, rng)
        except OSError:
            self.alive = False
            return False
        for probe in (PROBE, b"\r\n.\r\n" + PROBE):
            try:
                self.c.sock.settimeout(IO_TIMEOUT)
                self.c.send(probe)
                end = time.monotonic() + SYNC_TIMEOUT
                while True:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    self.c.sock.settimeout(left)
                    if "probe@elsewhere.test" in self.c.line():
                        return True
            except socket.timeout:
                continue
            except (OSError, EOFError):
                break
        self.alive = False
        return False

    def close(self):
        try:
            self.c.sock.settimeout(0.5)
            self.c.send(b"QUIT\r\n")
        except OSError:
            pass
        self.c.close()


def smtp_group(ctx, cases, rng):
    """Run cases on as few sessions as keep in step; each session's stretch
    of Postfix's log is checked once it ended there. Returns the
    violations, with the cases of the session they were in."""
    found = []
    todo = list(cases)
    while todo:
        start = len(ctx.postfix.read_log())
        s = SmtpSession(ctx)
        ran = []
        while todo and len(ran) < PER_CONNECTION:
            case = todo.pop(0)
            ran.append(case)
            if not s.run(case[1], case[2], rng):
                break
        s.close()
        # This session's smtpd: the first to log a connect since we began.
        pid = re.search(r"postfix/smtpd\[(\d+)\]: connect from ",
                        ctx.postfix.read_log()[start:])
        if not pid:
            raise HarnessBroke("Postfix logged no connect for the session")
        tag = "postfix/smtpd[%s]: " % pid.group(1)
        done = re.compile(re.escape(tag) + "disconnect from ")
        try:
            lib.wait_for(lambda: done.search(ctx.postfix.read_log()[start:]), 3,
                         "Postfix to end the session")
        except AssertionError:
            LINGERING.extend(("smtp", c[0], c[2], show(c[1])) for c in ran)
        mine = []
        for line in ctx.postfix.read_log()[start:].splitlines():
            if tag in line:
                mine.append(line)
                if done.search(line):
                    break
        bad = smtp_violations("\n".join(mine))
        if bad:
            found.append((ran, bad))
    return found


def smtp_report(ctx, found, rng):
    """Violations as text: the session's cases, then each case alone."""
    out = []
    for ran, bad in found:
        out.append("session of cases %s: %s" % ([c[0] for c in ran], bad[:5]))
        for case in ran:
            alone = smtp_group(ctx, [case], rng) if len(ran) > 1 else [(ran, bad)]
            if alone:
                out.append("  case %s mode=%s bytes=%s -> %s" % (
                    case[0], case[2], show(case[1]), alone[0][1][:3]))
    return out


def report_lingering(protocol):
    """Not a failure: the backend's session outlived the client's by more
    than a few seconds (the guard held it; proxy_timeout ended it)."""
    mine = [l for l in LINGERING if l[0] == protocol]
    if mine:
        print("# %s: %d cases left the backend session open after the client "
              "closed; the first: %s" % (protocol, len(mine), mine[:3]))
    LINGERING[:] = [l for l in LINGERING if l[0] != protocol]


def need_postfix(ctx):
    if ctx.postfix is None:
        raise lib.Skip(ctx.no_postfix)


def test_smtp_issue_reproductions(ctx):
    need_postfix(ctx)
    rng = random.Random(SEED)
    cases = [("fixed-%d" % i, data, mode) for i, data in enumerate(SMTP_FIXED)
             for mode in ("whole", "pieces", "bytes")]
    found = smtp_group(ctx, cases, rng)
    report = smtp_report(ctx, found, rng)
    for line in report:
        print("# " + line)
    print("# smtp: %d fixed cases" % len(cases))
    report_lingering("smtp")
    assert not found, "\n".join(report)


def test_smtp_generated(ctx):
    need_postfix(ctx)
    rng = random.Random(SEED)
    started = time.monotonic()
    cases = []
    for i in range(CASES):
        data = smtp_case(rng)
        cases.append(("gen-%d" % i, data, pick_mode(rng, data)))
    found = []
    for i in range(0, len(cases), 40):
        found += smtp_group(ctx, cases[i:i + 40], rng)
    # The whole log once more: nothing any session did, attributed or not.
    whole = smtp_violations(ctx.postfix.read_log())
    report = smtp_report(ctx, found, rng)
    for line in report:
        print("# " + line)
    print("# smtp: %d generated cases, seed %d, %.0fs" % (
        len(cases), SEED, time.monotonic() - started))
    report_lingering("smtp")
    assert not found and not whole, "\n".join(report + whole[:10])


# ---------------------------------------------------------------- IMAP

VICTIM = b"victim"
MARKERS = [b"{%d}", b"{%d}", b"{%d+}", b"{%d+}", b"{}", b"{+}", b"~{%d}", b"~{%d+}",
           b"{0%d}", b"{%d }", b"{ %d}", b"{%d++}", b"{-%d}", b"{+%d}"]
CARRIERS = [b"a NOOP %s", b"a NOOP x%s", b"a noop %s", b"a NOOP \"x\" %s",
            b"a SELECT x%s", b"a SELECT %s", b"a SELECT \"x\"%s", b"a EXAMINE %s",
            b"a LIST \"\" %s", b"a LIST \"\" \"x\"%s", b"a LIST (%s", b"a LIST \"\" (x %s",
            b"a STATUS victim (MESSAGES %s", b"a STATUS %s", b"a STATUS \"victim\"%s",
            b"a APPEND no-such-box %s", b"a APPEND no-such-box (\\Seen) %s",
            b"a APPEND INBOX %s", b"a APPEND victim %s", b"a APPEND INBOX (\\Seen %s",
            b"a APPEND INBOX \"1-Jan-2020 00:00:00 +0000\" %s",
            b"a SEARCH TEXT %s", b"a UID SEARCH TEXT %s", b"a FETCH 1 (BODY[]%s",
            b"a UID FETCH 1 BODY[] %s", b"a ID (\"name\" %s", b"a CREATE %s",
            b"a SUBSCRIBE %s", b"a LSUB \"\" %s", b"a ENABLE %s", b"a COPY 1 %s",
            b"a LOGIN %s", b"a CAPABILITY %s", b"a CHECK %s", b"%s", b"a %s",
            b"%s NOOP", b"a NOOP %s x", b"a SELECT x%sx", b"a GETQUOTAROOT %s",
            b"a NAMESPACE %s", b"a UNSELECT %s"]


def imap_hostile(rng):
    tag = rng.choice([b"D2", b"D2", b"a", b"d", b"zz1", b"*", b"+", b"A.1", b"x{5}",
                      b"D2]", b"D2\"", b"1"])
    verb = rng.choice([b"DELETE", b"DELETE", b"RENAME", b"UID DELETE", b"UID RENAME"])
    verb = case_word(rng, verb)
    box = rng.choice([VICTIM, VICTIM, b"\"victim\"", b"{6}\r\nvictim", b"{6+}\r\nvictim",
                      b"\"vic\\tim\"", b"~{6}\r\nvictim"])
    args = box
    if verb.upper().endswith(b"RENAME"):
        args += b" " + rng.choice([b"gone%d" % rng.randrange(100), b"\"gone\"",
                                   b"{4+}\r\ngone"])
    sep = rng.choice([b" ", b" ", b" ", b"  ", b"\t", b"\x0b", b"\r"])
    return tag + sep + verb + b" " + args + rng.choice([b"\r\n", b"\r\n", b"\n", b"\r\r\n"])


def imap_marker(rng, n):
    form = rng.choice(MARKERS)
    return form % n if b"%d" in form else form


def imap_size(rng, rest):
    r = rng.random()
    if r < 0.55:
        return max(0, len(rest) + rng.randint(-3, 3))
    if r < 0.75:
        return rng.randint(0, 40)
    if r < 0.9:
        return max(0, rng.randint(0, len(rest) + 2))
    return rng.choice([0, 1, 2, 4294967296, 4294967295 + len(rest), 10 ** 20])


def imap_unit(rng):
    """A carrier with a literal marker, the hostile line behind it, and
    what may follow."""
    hostile = imap_hostile(rng)
    after = rng.choice([b"", b"", b"\r\n", b"DONE\r\n", b" x\r\n", b")\r\n", hostile])
    n = imap_size(rng, hostile + after)
    carrier = case_word(rng, rng.choice(CARRIERS)) if rng.random() < 0.2 \
        else rng.choice(CARRIERS)
    carrier = carrier.replace(b"%S", b"%s")   # case_word's flip undone
    line = carrier % imap_marker(rng, n) + rng.choice([b"\r\n", b"\r\n", b"\n"])
    return [line, hostile, after]


PREAMBLES = [b"", b"", b"", b"i IDLE\r\nDONE\r\n", b"i IDLE\r\n", b"i idle\r\ndone\r\n",
             b"s SELECT INBOX\r\n", b"a NOOP\r\n", b"n NOOP\r\n", b"a NOOP\r\na NOOP\r\n",
             b"s SELECT victim\r\n", b"u UID FETCH 1:* FLAGS\r\n", b"i IDLE\r\nDONE\r\na NOOP\r\n"]


def imap_case(rng):
    pieces = [rng.choice(PREAMBLES)]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if rng.random() < 0.85:
            pieces += imap_unit(rng)
        else:
            pieces.append(imap_hostile(rng))
        if rng.random() < 0.2:
            pieces.append(rng.choice(PREAMBLES))
    return [p for p in pieces if p]


def imap_fixed():
    hostile = b"D2 DELETE victim\r\n"     # 18 bytes
    out = []
    for n in (17, 18, 19):
        out.append([b"a NOOP {%d+}\r\n" % n, hostile])
        out.append([b"a NOOP {%d+}\r\n" % n, hostile, b"\r\n"])
        out.append([b"a NOOP {%d}\r\n" % n, hostile])
        out.append([b"a SELECT x{%d}\r\n" % n, hostile])
        out.append([b"a APPEND no-such-box {%d}\r\n" % n, hostile])
        out.append([b"a APPEND no-such-box {%d+}\r\n" % n, hostile, b"\r\n"])
        out.append([b"i IDLE\r\n", b"DONE\r\n", b"a APPEND no-such-box {%d}\r\n" % n, hostile])
    out.append([b"a NOOP {19+}\r\nD2 DELETE victim\r\n"])
    out.append([b"a SELECT x{19}\r\n", hostile])
    out.append([b"a APPEND no-such-box {19}\r\n", hostile])
    out.append([b"a RENAME victim gone\r\n", b"a DELETE victim\r\n"])
    return out


DOVECOT_GONE = re.compile(r"Mailbox (deleted|renamed)")
DOVECOT_LOGIN = re.compile(r"imap-login: Info: Login: user=<alice>.*mpid=(\d+),.* session=<([^>]*)>")


def victim_exists(ctx):
    typ, data = ctx.direct().list('""', "victim")
    return typ == "OK" and any(d and d.endswith(b" victim") for d in data)


def imap_run(ctx, name, data, mode, rng):
    """One case through postern: log in, send it, LOGOUT; then Dovecot,
    asked directly, must still have the mailbox, and its log no deletion.
    Returns the evidence of a violation, or []."""
    if not victim_exists(ctx):
        ctx.direct().create("victim")
    for attempt in range(3):
        start = len(ctx.dovecot.read_log())
        try:
            sock = socket.create_connection(("127.0.0.1", ctx.imap.port), timeout=IO_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = lib.Client.over(sock)
            c.line()
            plain = base64.b64encode(b"\0alice\0" + lib.USERS["alice"].encode())
            c.send(b"L0 AUTHENTICATE PLAIN " + plain + b"\r\n")
            ok = c.until_tag("L0")[-1]
        except (OSError, EOFError) as e:
            ok = repr(e)
        if ok.startswith("L0 OK"):
            break
        # Not the case's doing (it has not been sent): noted, tried again.
        LOGIN_FAILURES.append((name, ok))
        sock.close()
        time.sleep(1)
    else:
        raise HarnessBroke("IMAP login: %r" % ok)
    answered = True   # LOGOUT's reply came, or the session ended
    try:
        send_as(sock, data, mode, rng)
        c.send(b"zz LOGOUT\r\n")
        end = time.monotonic() + 1.0
        while True:
            left = end - time.monotonic()
            if left <= 0:
                answered = False
                break
            sock.settimeout(left)
            if c.line().startswith("zz "):
                break
    except socket.timeout:
        answered = False
    except (OSError, EOFError):
        pass
    c.close()
    # This session at Dovecot: the first login since we began; its end.
    try:
        lib.wait_for(lambda: DOVECOT_LOGIN.search(ctx.dovecot.read_log()[start:]), 3,
                     "Dovecot's login line")
    except AssertionError:
        raise HarnessBroke("Dovecot logged no login for the session")
    login = DOVECOT_LOGIN.search(ctx.dovecot.read_log()[start:])
    ended = re.compile(r"imap\(alice\)<%s><%s>: (Info: )?(Disconnected|Logged out)"
                       % (login.group(1), re.escape(login.group(2))))
    try:
        lib.wait_for(lambda: ended.search(ctx.dovecot.read_log()[start:]),
                     2 if answered else 0.3, "Dovecot to end the session")
    except AssertionError:
        LINGERING.append(("imap", name, mode, show(data)))
    bad = []
    if not victim_exists(ctx):
        bad.append("Dovecot no longer has the mailbox victim")
    bad += [l for l in ctx.dovecot.read_log()[start:].splitlines() if DOVECOT_GONE.search(l)]
    return bad


def imap_cases(ctx, cases, rng):
    report = []
    done = 0
    try:
        for name, data, mode in cases:
            bad = imap_run(ctx, name, data, mode, rng)
            done += 1
            if bad:
                report.append("case %s mode=%s bytes=%s -> %s" % (name, mode, show(data), bad[:3]))
    finally:
        if done < len(cases):
            print("# imap: stopped after %d of %d cases" % (done, len(cases)))
        if LOGIN_FAILURES:
            print("# imap: %d logins through postern failed and were retried: %s"
                  % (len(LOGIN_FAILURES), LOGIN_FAILURES[:3]))
            LOGIN_FAILURES[:] = []
    return report


def test_imap_issue_reproductions(ctx):
    rng = random.Random(SEED)
    cases = [("fixed-%d" % i, data, mode) for i, data in enumerate(imap_fixed())
             for mode in ("whole", "pieces", "bytes")]
    report = imap_cases(ctx, cases, rng)
    for line in report:
        print("# " + line)
    print("# imap: %d fixed cases" % len(cases))
    report_lingering("imap")
    assert not report, "\n".join(report)


def test_imap_generated(ctx):
    rng = random.Random(SEED + 1)
    started = time.monotonic()
    cases = []
    for i in range(CASES):
        data = imap_case(rng)
        cases.append(("gen-%d" % i, data, pick_mode(rng, data)))
    report = imap_cases(ctx, cases, rng)
    whole = [l for l in ctx.dovecot.read_log().splitlines() if DOVECOT_GONE.search(l)]
    for line in report:
        print("# " + line)
    print("# imap: %d generated cases, seed %d, %.0fs" % (
        len(cases), SEED + 1, time.monotonic() - started))
    report_lingering("imap")
    assert not report and not whole, "\n".join(report + whole[:10])


def setup():
    print("# seed %d (POSTERN_DIFF_SEED=%d repeats it), %d generated cases per protocol"
          % (SEED, SEED, CASES), flush=True)
    return Ctx()


if __name__ == "__main__":
    lib.run([test_smtp_issue_reproductions,
             test_smtp_generated,
             test_imap_issue_reproductions,
             test_imap_generated], setup=setup)
