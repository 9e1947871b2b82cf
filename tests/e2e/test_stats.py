"""postern-stats on the log of real sessions: logins that worked and one
Dovecot refused, through a postern that logs to a file, and connections
an access rule turned away; then the numbers in text, JSON and
Prometheus's format, and a time window that leaves them out."""
import json
import os
import re
import subprocess
import time

import lib

STATS = os.path.join(lib.BUILDDIR, "src", "postern-stats")


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__()
        d = self.dovecot
        self.open = self.track(lib.Postern(self.tmp, map_lines=["* 127.0.0.1:%d" % d.imap_port],
                                           global_conf='log_level = "info"\n'))
        self.closed = self.track(lib.Postern(self.tmp, map_lines=["* 127.0.0.1:%d" % d.imap_port],
                                             server_conf='deny("127.0.0.0/8")\n'))
        for password in ("wonderland", "wonderland", "wrong"):
            c = lib.greet(self.open.port)
            c.send("a LOGIN alice %s\r\n" % password)
            c.until_tag("a")
            c.send("b LOGOUT\r\n")
            c.closed()
        for _ in range(2):
            s = self.closed.connect()
            s.recv(100)
            s.close()
        self.open.wait_log("result=fail")
        lib.wait_for(lambda: self.open.read_log().count("event=close") >= 3,
                     what="three closed sessions")
        self.closed.wait_log("event=access_denied")
        lib.wait_for(lambda: self.closed.read_log().count("event=access_denied") >= 2,
                     what="two refusals")

    def count(self, text):
        """How often text is in the two logs: what the tool must find."""
        return self.open.read_log().count(text) + self.closed.read_log().count(text)

    def stats(self, *args):
        r = subprocess.run([STATS, *args, self.open.log, self.closed.log],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout


def setup():
    return Ctx()


def test_text(ctx):
    out = ctx.stats()
    assert re.search(r"^logins +ok 2, failed 1, errors 0$", out, re.M), out
    assert re.search(r"^  protocol imap +ok 2, failed 1$", out, re.M), out
    assert re.search(r"^  backend 127\.0\.0\.1:%d +ok 2, failed 1$" % ctx.dovecot.imap_port,
                     out, re.M), out
    # The refused connections, and wait_port's probe when it started.
    assert "access_denied %d" % ctx.count("event=access_denied") in out, out
    assert ctx.count("event=access_denied") >= 2
    assert re.search(r"^auth lookup ms +p50 \d+, p90 \d+, p99 \d+, max \d+ \(3 answers\)$",
                     out, re.M), out
    assert re.search(r"^  127\.0\.0\.1 +\d+ connections, 1 failed logins$", out, re.M), out


def test_json(ctx):
    j = json.loads(ctx.stats("--json"))
    assert j["logins"] == {"ok": 2, "failed": 1, "errors": 0}, j
    assert j["protocols"]["imap"] == {"ok": 2, "failed": 1}
    assert j["refusals"]["access_denied"] == ctx.count("event=access_denied")
    assert j["lookup_ms"]["answers"] == 3
    # Every session's bytes: at least the greetings sent and the logins read.
    assert j["bytes"]["from_clients"] > 3 * len("a LOGIN alice wonderland\r\n") - 10
    assert j["bytes"]["to_clients"] > 0
    top = j["busiest_clients"][0]
    assert top["client"] == "127.0.0.1" and top["failed_logins"] == 1
    # Connections that got as far as a connect line: the three sessions
    # and wait_port's probe (refused ones end before it).
    assert j["connections"] == ctx.count("event=connect") >= 3, j
    assert top["connections"] == j["connections"], j


def test_prometheus(ctx):
    out = ctx.stats("--prometheus")
    assert 'postern_logins_total{protocol="imap",result="ok"} 2\n' in out
    assert 'postern_logins_total{protocol="imap",result="failed"} 1\n' in out
    assert 'postern_refusals_total{event="access_denied"} %d\n' % \
        ctx.count("event=access_denied") in out
    assert "postern_auth_lookup_milliseconds_count 3\n" in out
    # The text format: HELP and TYPE before each metric family, then
    # name{labels} value lines.
    for line in out.splitlines():
        assert line.startswith("# ") or re.fullmatch(
            r'[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? \d+', line), line


def test_window(ctx):
    out = ctx.stats("--since", "2999-01-01T00:00:00")
    assert re.search(r"^logins +ok 0, failed 0, errors 0$", out, re.M), out
    out = ctx.stats("--since", "1h")
    assert re.search(r"^logins +ok 2, failed 1, errors 0$", out, re.M), out
    r = subprocess.run([STATS, "--since", "yesterday-ish"], capture_output=True, text=True)
    assert r.returncode == 2 and "not a time" in r.stderr


JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"


def configured(name):
    """A directory as configure set it in the build's Makefile."""
    with open(os.path.join(lib.BUILDDIR, "Makefile")) as f:
        values = dict(re.findall(r"^(\w+) = (.*)$", f.read(), re.M))
    value = values[name]
    while "${" in value:
        value = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], value)
    return value


def test_journal_entries_are_postern_s_by_trusted_fields(ctx):
    """In the journal, postern's entries are those journald saw come from
    postern's programs (_EXE, which journald sets): SYSLOG_IDENTIFIER is
    the sender's say (logger -t postern), and _COMM only a program's name
    (a copy of logger called postern)."""
    if not os.path.exists(JOURNAL_REMOTE):
        raise lib.Skip("no systemd-journal-remote to write a journal with")
    # The real login lines, as postern's programs would send them.
    lines = [re.sub(r"^\S+ \S+\[\d+\]: <\d> ", "", line)
             for line in ctx.open.read_log().splitlines() if "event=login" in line]
    assert len(lines) == 3, lines
    real = {"_EXE": configured("sbindir") + "/postern", "_COMM": "postern",
            "SYSLOG_IDENTIFIER": "postern"}
    tls = {"_EXE": configured("libexecdir") + "/postern-tls",
           "_COMM": "postern-tls", "SYSLOG_IDENTIFIER": "postern-tls"}
    forged = [{"_EXE": "/usr/bin/logger", "_COMM": "logger",
               "SYSLOG_IDENTIFIER": "postern"},
              {"_EXE": "/home/mallory/postern", "_COMM": "postern",
               "SYSLOG_IDENTIFIER": "postern"},
              {"_EXE": "/usr/bin/logger", "_COMM": "logger",
               "SYSLOG_IDENTIFIER": "postern-tls", "_SYSTEMD_UNIT": "user@1000.service"}]
    entries = [(real, line) for line in lines] + [(tls, lines[0])]
    entries += [(fields, line) for fields in forged for line in lines]
    now = int(time.time() * 1e6)
    export = b""
    for i, (fields, message) in enumerate(entries):
        record = dict(fields, __REALTIME_TIMESTAMP=str(now + i),
                      __MONOTONIC_TIMESTAMP=str(1000 + i),
                      _BOOT_ID="0123456789abcdef0123456789abcdef",
                      MESSAGE=message)
        export += b"".join(("%s=%s\n" % kv).encode() for kv in record.items()) + b"\n"
    journal = ctx.tmp("journal-%d" % now)
    os.makedirs(journal)
    subprocess.run([JOURNAL_REMOTE, "--output=%s/remote.journal" % journal, "-"],
                   input=export, check=True, capture_output=True, timeout=30)
    r = subprocess.run([STATS, "--json", "--directory", journal],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    # Three from postern and one more from postern-tls; none forged.
    assert j["logins"] == {"ok": 3, "failed": 1, "errors": 0}, j


if __name__ == "__main__":
    lib.run([test_text, test_json, test_prometheus, test_window,
             test_journal_entries_are_postern_s_by_trusted_fields], setup=setup)
