"""Logging to the journal: one entry per event with POSTERN_* fields.

journald cannot run inside the test machine's container; when its socket
is absent we stand in for it by binding /run/systemd/journal/socket and
reading the datagrams postern writes (the native protocol: KEY=value
lines). Where a journald runs, journalctl is asked instead."""
import imaplib
import json
import os
import socket
import ssl
import subprocess
import threading
import time

import lib

JOURNAL = "/run/systemd/journal/socket"


class Collector:
    """Reads native journal protocol datagrams sent to JOURNAL, as they
    come: a datagram socket's queue is short (net.unix.max_dgram_qlen),
    and a logger waits while it is full, as it would for journald."""

    def __init__(self):
        os.makedirs(os.path.dirname(JOURNAL), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(JOURNAL)
        self.sock.settimeout(0.2)
        self.got = []
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            entry = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    entry[k] = v
            self.got.append(entry)

    def entries(self):
        time.sleep(0.3)
        return list(self.got)

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()
        os.unlink(JOURNAL)


def journalctl_entries(since):
    out = subprocess.run(["journalctl", "-o", "json", "--no-pager",
                          "--since", "@%d" % int(since),
                          "SYSLOG_IDENTIFIER=postern",
                          "SYSLOG_IDENTIFIER=postern-relay",
                          "SYSLOG_IDENTIFIER=postern-tls"],
                         capture_output=True, text=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def journald_listening():
    """True if something receives on JOURNAL; a stale file is removed."""
    if not os.path.exists(JOURNAL):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.connect(JOURNAL)
            return True
        except ConnectionRefusedError:
            os.unlink(JOURNAL)
            return False


def journal_of_one_session(log, login, tls=False, env=None):
    """Dovecot and a postern logging with error_log = log (with implicit
    TLS if asked); login(port, certs) is one client session. Returns the
    journal entries it made and Dovecot's IMAP port."""
    tmp = lib.TempDir()
    d = lib.Dovecot(tmp).start()
    collector = None
    start = time.time() - 1
    if not journald_listening():
        if os.geteuid() != 0:
            raise lib.Skip("no journald and not root")
        collector = Collector()
    certs = lib.Certs(tmp) if tls else None
    p = lib.Postern(tmp, map_lines=["* 127.0.0.1:%d" % d.imap_port],
                    global_conf='error_log = "%s"\n' % log,
                    server_conf=certs.conf(ssl="true") if certs else "", env=env)
    try:
        p.start()
        login(p.port, certs)
        time.sleep(0.5)
        if collector:
            return collector.entries(), d.imap_port
        time.sleep(1)
        return journalctl_entries(start), d.imap_port
    finally:
        p.stop()
        d.stop()
        if collector:
            collector.close()
        tmp.cleanup()


def imap_login(port, certs):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("alice", "wonderland")
    m.logout()


def test_journal_fields():
    entries, imap_port = journal_of_one_session("journal", imap_login)
    logins = [e for e in entries if e.get("POSTERN_EVENT") == "login"]
    assert logins, entries
    e = logins[-1]
    assert e["SYSLOG_IDENTIFIER"] == "postern"
    assert e["PRIORITY"] == "6"
    assert e["POSTERN_USER"] == "alice"
    assert e["POSTERN_RESULT"] == "ok"
    assert e["POSTERN_BACKEND"] == "127.0.0.1:%d" % imap_port
    assert len(e["POSTERN_SESSION"]) == 16
    assert e["MESSAGE"].startswith("session=%s event=login" % e["POSTERN_SESSION"])
    connects = [x for x in entries if x.get("POSTERN_EVENT") == "connect"]
    assert connects and connects[-1]["POSTERN_PROTOCOL"] == "imap"
    # The relay links only libc, and its closing line has fields too.
    closes = [x for x in entries if x.get("SYSLOG_IDENTIFIER") == "postern-relay"
              and x.get("POSTERN_EVENT") == "close"]
    assert closes, entries
    c = closes[-1]
    assert c["POSTERN_RESULT"] == "relayed" and c["POSTERN_USER"] == "alice"
    assert c["POSTERN_SESSION"] == e["POSTERN_SESSION"]
    assert int(c["POSTERN_RELAY_DOWN"]) > 0
    for x in entries:
        assert "wonderland" not in json.dumps(x)


def test_auto_under_systemd_reaches_postern_tls():
    """error_log auto: JOURNAL_STREAM (set by systemd) means the journal,
    for postern-tls too, which the front starts with a fresh environment."""
    def imaps_login(port, certs):
        context = ssl.create_default_context(cafile=certs.ca)
        context.check_hostname = False
        m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context)
        m.login("alice", "wonderland")
        m.logout()

    entries, _ = journal_of_one_session("auto", imaps_login, tls=True,
                                        env={"JOURNAL_STREAM": "8:12345"})
    tls = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "postern-tls"]
    events = {e.get("POSTERN_EVENT") for e in tls}
    assert {"tls_handshake", "login", "close"} <= events, events
    assert [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "postern"
            and e.get("POSTERN_EVENT") == "connect"]


if __name__ == "__main__":
    lib.run([test_journal_fields, test_auto_under_systemd_reaches_postern_tls])
