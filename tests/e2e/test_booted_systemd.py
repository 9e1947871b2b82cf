"""The package under a real systemd as PID 1 (issue 22's booted tier,
issue 25): systemd-nspawn boots this host's own tree, seen through an
overlay whose upper layer is a tmpfs (no debootstrap, nothing kept), with
--private-network: its own loopback. The previous package version is
installed, its sockets enabled, and upgraded to this one while a client
logs in over and over; then the shipped units serve every protocol, the
journal finds the sessions, the gate takes a burst of saves and a name
only DNS knows, and the spawner's limits count live sessions.

The test process joins the container's network namespace after the boot:
Dovecot, Postfix, the auth server and the clients are this host's
programs on the container's loopback; postern, its units and its
journal are inside. systemctl and journalctl run inside through nsenter
(no machined registration).
"""
import ctypes
import glob
import json
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import lib
import test_debian

NAMES = ["imap", "pop3", "smtp", "submission", "imaps", "pop3s", "smtps"]
PORTS = {"imap": 143, "pop3": 110, "smtp": 25, "submission": 587,
         "imaps": 993, "pop3s": 995, "smtps": 465}
CLONE_NEWNET = 0x40000000


class Booted:
    """systemd booted by systemd-nspawn on an overlay of /."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.base = tempfile.mkdtemp(prefix="postern-boot-", dir="/run")
        self.root = os.path.join(self.base, "root")
        self.mounted = []
        self.nspawn = None
        self.leader = None
        self.name = "postern-boot-%d" % os.getpid()

    def mount(self):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs",
                        self.base], check=True)
        self.mounted.append(self.base)
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(self.base, d))
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            "lowerdir=/,upperdir=%s/upper,workdir=%s/work"
                            % (self.base, self.base), self.root],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise lib.Skip("no overlay of / here: " + r.stderr.strip())
        self.mounted.append(self.root)

    def quiet(self):
        """Nothing this host enables runs in the container: its services
        would take ports and time. Only systemd's own boot is left."""
        etc = self.path("/etc/systemd/system")
        for link in glob.glob(os.path.join(etc, "*.wants", "*")):
            os.unlink(link)
        for link in glob.glob(self.path("/etc/rc[2-5].d/S*")):
            name = os.path.basename(link)[3:] + ".service"
            target = os.path.join(etc, name)
            if not os.path.lexists(target):
                os.symlink("/dev/null", target)
        # A machine of its own: its journal is not mistaken for the host's.
        with open(self.path("/etc/machine-id"), "w") as f:
            f.write(os.urandom(16).hex() + "\n")
        with open(self.path("/etc/resolv.conf.postern"), "w") as f:
            f.write("nameserver 127.0.0.1\n")

    def boot(self):
        self.mount()
        self.quiet()
        self.console = open(self.tmp("nspawn.log"), "w")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-D", self.root, "-M", self.name, "--boot",
             "--register=no", "--keep-unit", "--private-network",
             "--resolv-conf=off", "--console=passive"],
            stdin=subprocess.DEVNULL, stdout=self.console,
            stderr=subprocess.STDOUT)
        end = time.time() + 60
        while self.leader is None:
            if self.nspawn.poll() is not None or time.time() > end:
                raise lib.Skip("systemd-nspawn cannot boot here: " +
                               open(self.tmp("nspawn.log")).read()[-600:])
            self.leader = self.find_leader()
            time.sleep(0.1)
        # Until PID 1 listens on its private socket, systemctl says nothing.
        state, end = "", time.time() + 90
        while not state and time.time() < end:
            r = self.run("systemctl", "is-system-running", "--wait", check=False,
                         timeout=90)
            state = r.stdout.strip()
            if not state:
                time.sleep(0.2)
        assert state in ("running", "degraded"), (state, r.stderr, self.failed())

    def find_leader(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.nspawn.pid,
                                                     self.nspawn.pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        for pid in kids:
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() == "systemd":
                        return int(pid)
            except OSError:
                pass
        return None

    def failed(self):
        return self.run("systemctl", "--failed", "--no-pager", check=False).stdout

    def path(self, p):
        return self.root + p

    def run(self, *cmd, check=True, timeout=60, input=None):
        r = subprocess.run(["nsenter", "-t", str(self.leader), "-m", "-u",
                            "-i", "-n", "-p", "--", *cmd],
                           capture_output=True, text=True, timeout=timeout,
                           input=input)
        if check:
            assert r.returncode == 0, (cmd, r.returncode, r.stdout[-2000:],
                                       r.stderr[-2000:])
        return r

    def systemctl(self, *args, check=True):
        return self.run("systemctl", "--no-pager", *args, check=check)

    def journal(self, *args):
        return self.run("journalctl", "--no-pager", *args, check=False).stdout

    def write(self, p, text, mode=0o644):
        full = self.path(p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, mode)

    def join_network(self):
        """This process (and what it starts) on the container's loopback."""
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/proc/%d/ns/net" % self.leader, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)

    def pid1_cpu_ticks(self):
        with open("/proc/%d/stat" % self.leader) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])    # utime, stime

    def close(self):
        if self.nspawn and self.nspawn.poll() is None:
            if self.leader:
                self.run("systemctl", "poweroff", check=False)
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                # The container's PID 1 first: killing it ends its whole
                # PID namespace, which nspawn's own end would leave behind.
                if self.leader:
                    try:
                        os.kill(self.leader, 9)
                    except ProcessLookupError:
                        pass
                self.nspawn.kill()
                self.nspawn.wait()
        for m in reversed(self.mounted):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def previous_package(work):
    """The package as the changelog's previous version shipped it, built
    from git once and kept in /var/cache/postern-tests (a few hundred kB);
    None without git."""
    if not shutil.which("git") or not os.path.isdir(os.path.join(lib.SRCDIR, ".git")) \
            and not os.path.isfile(os.path.join(lib.SRCDIR, ".git")):
        return None
    git = ["git", "-C", lib.SRCDIR]
    with open(os.path.join(lib.SRCDIR, "debian", "changelog")) as f:
        versions = re.findall(r"^postern \(([^)]+)\)", f.read(), re.M)
    if len(versions) < 2:
        return None
    prev = versions[1]
    commits = subprocess.run(git + ["log", "--format=%H", "--", "debian/changelog"],
                             capture_output=True, text=True).stdout.split()
    commit = None
    for c in commits:
        top = subprocess.run(git + ["show", "%s:debian/changelog" % c],
                             capture_output=True, text=True).stdout
        if top.startswith("postern (%s)" % prev):
            commit = c
            break
    if commit is None:
        return None
    # The last commit of that version: the one before the next entry.
    newer = subprocess.run(git + ["rev-list", "--ancestry-path", "%s..HEAD" % commit,
                                  "--", "debian/changelog"],
                           capture_output=True, text=True).stdout.split()
    if newer:
        commit = subprocess.run(git + ["rev-parse", newer[-1] + "^"],
                                capture_output=True, text=True).stdout.strip()
    cache = "/var/cache/postern-tests"
    os.makedirs(cache, exist_ok=True)
    deb = os.path.join(cache, "postern_%s_%s.deb" % (prev, commit[:12]))
    if os.path.exists(deb):
        return deb
    out = os.path.join(work, "previous")
    src = os.path.join(out, "postern")
    os.makedirs(src)
    subprocess.run("git -C '%s' archive %s | tar -x -C '%s'" % (lib.SRCDIR, commit, src),
                   shell=True, check=True)
    built = test_debian.dpkg_buildpackage(src, out)
    shutil.copy(built, deb + ".part")
    os.rename(deb + ".part", deb)
    return deb


CONF = """server_name = "postern.test"
log_level = "info"
{sections}
"""


KEY = "/etc/postern/tls/key.pem"
TLS_NAMES = ("imaps", "pop3s", "smtps")


def section(name, ctx, extra="", key=KEY):
    tls = name in TLS_NAMES
    body = ['listen = "%d%s"' % (PORTS[name], " ssl" if tls else ""),
            'protocol = "%s"' % {"imap": "imap", "imaps": "imap", "pop3": "pop3",
                                 "pop3s": "pop3"}.get(name, "smtp"),
            'auth_map = "/etc/postern/%s.map"' % name]
    if name == "smtp":
        body.append("smtp_auth = {none}")
    elif name in ("submission", "smtps"):
        body.append("proxy_smtp_auth = true")
    if tls:
        body += ['ssl_certificate = {"/etc/postern/tls/cert.pem"}',
                 'ssl_certificate_key = {"%s"}' % key]
    return "server %s {\n    %s\n%s}\n" % (name, "\n    ".join(body), extra)


class Ctx(lib.Harness):
    def __init__(self):
        if os.geteuid() != 0:
            raise lib.Skip("booting systemd-nspawn needs root")
        for tool in ("systemd-nspawn", "nsenter", "dpkg-buildpackage", "dh"):
            if not shutil.which(tool):
                raise lib.Skip("%s is not installed" % tool)
        if not os.path.exists("/lib/systemd/systemd"):
            raise lib.Skip("this host's tree has no systemd to boot")
        self.tmp = lib.TempDir()
        self.box = None
        self.running = []
        self.dovecot = None
        try:
            self.setup()
        except BaseException:
            self.close()
            raise

    def setup(self):
        work = self.tmp("deb")
        os.makedirs(work)
        self.deb = test_debian.build_package(work)
        self.previous = previous_package(work)
        self.box = Booted(self.tmp)
        self.box.boot()
        self.box.join_network()
        self.certs = lib.Certs(self.tmp)
        self.dovecot = lib.Dovecot(self.tmp, certs=self.certs).start()
        self.postfix = self.track(lib.Postfix(self.tmp, self.dovecot))
        self.upgrade_log = None
        if self.previous:
            self.install(self.previous)
            self.configure()
            self.enable()
            self.upgrade_log = self.upgrade_under_load()
        else:
            self.install(self.deb)
            self.configure()
            self.enable()
        self.protect_key()

    def install(self, deb):
        shutil.copy(deb, self.box.path("/root/postern.deb"))
        self.box.run("dpkg", "-i", "/root/postern.deb", timeout=120)

    def upgrade(self, deb):
        """dpkg -i in its two steps. Between them the previous version's
        sockets (Accept=yes) still name each connection's unit after its
        units, postern@ and postern-tls@, and systemd starts the ones it
        queued when the postinst reloads it: those names must still load."""
        shutil.copy(deb, self.box.path("/root/postern.deb"))
        self.box.run("dpkg", "--unpack", "/root/postern.deb", timeout=120)
        self.unpacked = self.box.systemctl(
            "show", "-p", "Id,LoadState", "postern@0-upgrade.service",
            "postern-tls@0-upgrade.service").stdout
        # The operator's postern.conf is theirs: kept, as an unattended
        # upgrade keeps it (the shipped example may have changed since).
        self.box.run("dpkg", "--force-confold", "--configure", "postern", timeout=120)

    def configure(self, extra=None):
        box = self.box
        d, pf = self.dovecot, self.postfix
        backends = {"imap": d.imap_port, "imaps": d.imap_port, "pop3": d.pop3_port,
                    "pop3s": d.pop3_port, "submission": pf.port, "smtps": pf.port}
        for name in NAMES:
            line = ("@example.org 127.0.0.1:%d" % pf.port if name == "smtp"
                    else "* 127.0.0.1:%d" % backends[name])
            box.write("/etc/postern/%s.map" % name, line + "\n")
        os.makedirs(box.path("/etc/postern/tls"), exist_ok=True)
        shutil.copy(self.certs.server, box.path("/etc/postern/tls/cert.pem"))
        shutil.copy(self.certs.server_key, box.path("/etc/postern/tls/key.pem"))
        os.chmod(box.path("/etc/postern/tls/key.pem"), 0o644)
        self.write_conf(extra or {})

    def protect_key(self):
        """The key unreadable to others: this version's services read it
        through their group (the previous version's dynamic users had no
        way but a world-readable key or LoadCredential=)."""
        self.box.run("chown", "root:postern", "/etc/postern/tls/key.pem")
        self.box.run("chmod", "0640", "/etc/postern/tls/key.pem")

    def write_conf(self, extra, key=KEY):
        sections = "".join(section(n, self, extra.get(n, ""), key) for n in NAMES)
        self.box.write("/etc/postern/postern.conf", CONF.format(sections=sections))

    def enable(self):
        self.box.systemctl("enable", "--now", "postern-config.service",
                           "postern-config.path",
                           *["postern-%s.socket" % n for n in NAMES])

    def upgrade_under_load(self):
        """Logins on 143 and 993 while dpkg installs this version over the
        previous one: every connection must be greeted and logged in."""
        stop = threading.Event()
        results = []

        def loop(port, tls):
            while not stop.is_set():
                try:
                    c = (lib.tls_client(port, self.certs.ca) if tls
                         else lib.Client(port))
                    assert c.line().startswith("* OK")
                    lib.login_logout(c)
                    results.append("ok")
                except Exception as e:    # a refusal, a reset, a timeout
                    results.append("%s:%r" % (port, e))
                    time.sleep(0.1)
        threads = [threading.Thread(target=loop, args=(143, False)),
                   threading.Thread(target=loop, args=(993, True))]
        for t in threads:
            t.start()
        try:
            lib.wait_for(lambda: results.count("ok") >= 4, 30, "logins before the upgrade")
            before = len(results)
            self.upgrade(self.deb)
            lib.wait_for(lambda: len(results) >= before + 10, 60,
                         "logins after the upgrade")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        return results

    def dump(self):
        if not self.box or not self.box.leader:
            return ""
        units = self.box.journal("-o", "short-precise", "_PID=1", "--grep",
                                 "postern-[a-z0-9]+\\.(socket|service)")
        return ("PID 1 on the postern units:\n" + units[-4000:]
                + "\njournal:\n" + self.box.journal("-n", "60", "-o", "short")[-4000:]
                + "\nfailed:\n" + self.box.failed())

    def close(self):
        for r in self.running:
            r.stop()
        if self.dovecot:
            self.dovecot.stop()
        if self.box:
            self.box.close()
        self.tmp.cleanup()


def journal_has(ctx, text, *args, timeout=10):
    lib.wait_for(lambda: text in ctx.box.journal(*args), timeout,
                 "%r in journalctl %s" % (text, " ".join(args)))


def delivered(ctx, user, marker):
    md = ctx.dovecot.maildir(user)
    for path in glob.glob(os.path.join(md, "new", "*")) + glob.glob(os.path.join(md, "cur", "*")):
        with open(path, "rb") as f:
            if marker in f.read():
                return True
    return False


def ssl_context(ctx):
    context = ssl.create_default_context(cafile=ctx.certs.ca)
    context.check_hostname = False
    return context


def test_an_upgrade_keeps_every_socket_listening(ctx):
    if ctx.upgrade_log is None:
        raise lib.Skip("no previous package version to upgrade from (needs git "
                       "and a previous changelog entry)")
    bad = [r for r in ctx.upgrade_log if r != "ok"]
    assert not bad, (len(ctx.upgrade_log), bad[:5])
    assert ctx.unpacked.count("LoadState=loaded") == 2, ctx.unpacked
    version = ctx.box.run("dpkg-query", "-W", "-f", "${Version}", "postern").stdout
    with open(os.path.join(lib.SRCDIR, "debian", "changelog")) as f:
        assert f.readline().startswith("postern (%s)" % version), version
    for n in NAMES:
        assert ctx.box.systemctl("is-active", "postern-%s.socket" % n,
                                 check=False).stdout.strip() == "active", n
    # The image was made again, by this version, from the active copy.
    r = ctx.box.run("postern", "-t", "-c", "/var/lib/postern/postern.conf")
    assert os.path.getmtime(ctx.box.path("/var/lib/postern/postern.conf.image")) >= \
        os.path.getmtime(ctx.box.path("/usr/sbin/postern")), r


def test_every_socket_serves_a_login_through_its_spawner(ctx):
    d = ctx.dovecot
    # IMAP and IMAPS
    for port, tls in ((143, False), (993, True)):
        c = lib.tls_client(port, ctx.certs.ca) if tls else lib.Client(port)
        assert c.line().startswith("* OK")
        lib.login_logout(c)
    # POP3 and POP3S
    for port, tls in ((110, False), (995, True)):
        p = (poplib.POP3_SSL("127.0.0.1", port, context=ssl_context(ctx), timeout=10)
             if tls else poplib.POP3("127.0.0.1", port, timeout=10))
        p.user("alice")
        p.pass_("wonderland")
        assert p.stat()[0] >= 1
        p.quit()
    lib.wait_for(lambda: len(re.findall(r"pop3-login: (?:Info: )?Login: user=<alice>",
                                        d.read_log())) >= 2,
                 10, "Dovecot's POP3 logins")
    # Submission (587) and SMTPS (465): the backend checks the password.
    for port, tls in ((587, False), (465, True)):
        marker = b"booted-%d-%d" % (port, time.time_ns())
        s = (smtplib.SMTP_SSL("127.0.0.1", port, context=ssl_context(ctx), timeout=10)
             if tls else smtplib.SMTP("127.0.0.1", port, timeout=10))
        s.ehlo("client.example")
        s.login("alice", "wonderland")
        s.sendmail("alice@example.org", ["bob@example.org"],
                   b"Subject: " + marker + b"\r\n\r\nbody\r\n")
        s.quit()
        lib.wait_for(lambda: delivered(ctx, "bob@example.org", marker), 20,
                     "delivery through %d" % port)
    # Port 25: no login, the map routes the recipient.
    marker = b"booted-25-%d" % time.time_ns()
    s = smtplib.SMTP("127.0.0.1", 25, timeout=10)
    s.helo("client.example")
    s.sendmail("someone@outside.test", ["bob@example.org"],
               b"Subject: " + marker + b"\r\n\r\nbody\r\n")
    s.quit()
    lib.wait_for(lambda: delivered(ctx, "bob@example.org", marker), 20,
                 "delivery through 25")
    assert "sasl_username=alice" in ctx.postfix.read_log()
    assert len(re.findall(r"imap-login: (?:Info: )?Login: user=<alice>",
                          d.read_log())) >= 2
    # Each socket started its one spawner; no unit per connection.
    for n in NAMES:
        assert ctx.box.systemctl("is-active", "postern-%s.service" % n,
                                 check=False).stdout.strip() == "active", n
    units = ctx.box.systemctl("list-units", "--all", "--plain", "--no-legend",
                              "postern-*@*").stdout
    assert "postern-imap@" not in units, units


def test_sessions_are_found_by_unit_and_by_field(ctx):
    c = lib.Client(143)
    assert c.line().startswith("* OK")
    lib.login_logout(c)
    journal_has(ctx, "event=login", "-u", "postern-imap.service",
                "POSTERN_USER=alice")
    out = ctx.box.journal("-u", "postern-imap.service", "POSTERN_USER=alice",
                          "-o", "verbose")
    assert "POSTERN_RESULT=" in out and "_SYSTEMD_UNIT=postern-imap.service" in out, out[-2000:]
    # The relay's closing line carries the fields too.
    journal_has(ctx, "event=close", "-u", "postern-imap.service", "POSTERN_USER=alice")
    # postern-stats reads the journal.
    r = ctx.box.run("postern-stats", "--since", "1h", "--json")
    stats = json.loads(r.stdout)
    assert stats["protocols"]["imap"]["ok"] >= 1 and stats["connections"] >= 1, stats
    assert "127.0.0.1:%d" % ctx.dovecot.imap_port in stats["backends"], stats


def test_each_service_runs_as_its_own_dynamic_user(ctx):
    held = []
    try:
        for port in (143, 993):
            c = lib.tls_client(port, ctx.certs.ca) if port == 993 else lib.Client(port)
            assert c.line().startswith("* OK")
            c.send("a LOGIN alice wonderland\r\n")
            assert c.until_tag("a")[-1].startswith("a OK")
            held.append(c)
        ps = ctx.box.run("ps", "-eo", "user:32,comm").stdout
        # The IMAPS session's relay after the hand-off is postern-tls-relay
        # (comm: its first 15 characters), still as the service's user.
        users = {l.split()[1]: l.split()[0] for l in ps.splitlines()[1:] if len(l.split()) == 2
                 and l.split()[1] in ("postern-relay", "postern-tls-rel")}
        assert users.get("postern-relay") == "postern-imap", ps
        assert users.get("postern-tls-rel") == "postern-imaps", ps
        # Not the package's static user, which xinetd's entries use.
        static = ctx.box.run("id", "-u", "postern").stdout.strip()
        for n in ("postern-imap", "postern-imaps"):
            uid = ctx.box.run("id", "-u", n).stdout.strip()
            assert uid != static and int(uid) >= 61184, (n, uid)
    finally:
        for c in held:
            c.close()


def ping_pop3():
    try:
        poplib.POP3("127.0.0.1", 110, timeout=10).quit()
        return True
    except (poplib.error_proto, OSError):
        return False


def test_live_sessions_count_against_the_per_source_limit(ctx):
    box = ctx.box
    box.write("/etc/systemd/system/postern-pop3.service.d/limit.conf",
              "[Service]\nEnvironment=SESSIONS_PER_SOURCE=3\n")
    box.systemctl("daemon-reload")
    box.systemctl("restart", "postern-pop3.service")
    try:
        held = []
        for _ in range(3):
            p = poplib.POP3("127.0.0.1", 110, timeout=10)
            held.append(p)
        # A fourth live session from this address is closed unanswered.
        s = socket.create_connection(("127.0.0.1", 110), timeout=10)
        assert s.recv(100) == b""
        s.close()
        held.pop().quit()
        lib.wait_for(lambda: ping_pop3(), 5, "a slot freed by the session that ended")
        for p in held:
            p.quit()
        # Ended sessions no longer count: forty short sessions one after
        # another are all served (systemd's MaxConnectionsPerSource= counts
        # the units it has not reaped yet, and refuses most of them).
        for i in range(40):
            p = poplib.POP3("127.0.0.1", 110, timeout=10)
            p.quit()
        journal_has(ctx, "max connections per source", "-u", "postern-pop3.service")
    finally:
        os.unlink(box.path("/etc/systemd/system/postern-pop3.service.d/limit.conf"))
        box.systemctl("daemon-reload")
        box.systemctl("restart", "postern-pop3.service")


def wait_active(ctx, needle, timeout=20):
    lib.wait_for(lambda: needle in open(ctx.box.path("/var/lib/postern/postern.conf")).read(),
                 timeout, "%r in the active copy" % needle)


def test_a_burst_of_saves_is_activated(ctx):
    """Eight saves in about three seconds, then a broken one: the last good
    one is active, the broken one refused, logins go on."""
    for i in range(8):
        ctx.write_conf({"imap": "    # save %d\n" % i})
        time.sleep(0.4)
    wait_active(ctx, "# save 7")
    box = ctx.box
    state = box.systemctl("show", "-p", "Result", "postern-config.service").stdout
    assert "start-limit-hit" not in state, state
    assert box.systemctl("is-active", "postern-config.path", check=False).stdout.strip() \
        == "active"
    box.write("/etc/postern/postern.conf",
              open(box.path("/etc/postern/postern.conf")).read() + "server broken {\n")
    journal_has(ctx, "postern", "-u", "postern-config.service", "-p", "err")
    c = lib.Client(143)
    assert c.line().startswith("* OK")
    lib.login_logout(c)
    assert "# save 7" in open(box.path("/var/lib/postern/postern.conf")).read()
    ctx.write_conf({})
    wait_active(ctx, "server smtps")


def test_the_gate_resolves_a_name_only_dns_knows(ctx):
    if not shutil.which("dnsmasq"):
        raise lib.Skip("dnsmasq is not installed (package dnsmasq-base)")
    box = ctx.box
    dns = lib.Dnsmasq(ctx.tmp, host_records={"auth.postern.test": "127.0.0.1"},
                      local=("postern.test",))
    dns.cmd = [a if not a.startswith("--port=") else "--port=53" for a in dns.cmd]
    dns.port = 53
    auth = ctx.track(lib.AuthServer(ctx.tmp, ctx.dovecot.imap_port))
    os.replace(box.path("/etc/resolv.conf.postern"), box.path("/etc/resolv.conf"))
    ctx.track(dns)
    ctx.write_conf({"imap": '    auth_http = "http://auth.postern.test:%d/auth"\n'
                    % auth.port})
    lib.wait_for(lambda: "auth.postern.test" in dns.read_log(), 20, "the gate's DNS query")
    wait_active(ctx, "auth.postern.test")
    c = lib.Client(143)
    assert c.line().startswith("* OK")
    lib.login_logout(c)
    assert any(r.get("Auth-User") == "alice" for r in auth.requests()), auth.requests()
    ctx.write_conf({})
    lib.wait_for(lambda: "auth.postern.test" not in
                 open(box.path("/var/lib/postern/postern.conf")).read(), 20,
                 "the map back in the active copy")


def test_a_unit_per_connection_is_named_for_its_socket(ctx):
    """Accept=yes through the shipped drop-in: postern-imap@....service
    units, found by journalctl -u, with their POSTERN_* fields (the
    connection is LISTEN_FDS, not inetd's standard input)."""
    box = ctx.box
    os.makedirs(box.path("/etc/systemd/system/postern-imap.socket.d"), exist_ok=True)
    shutil.copy(box.path("/usr/share/postern/systemd/per-connection.conf"),
                box.path("/etc/systemd/system/postern-imap.socket.d/per-connection.conf"))
    box.systemctl("daemon-reload")
    box.systemctl("stop", "postern-imap.service")
    box.systemctl("restart", "postern-imap.socket")
    try:
        c = lib.Client(143)
        assert c.line().startswith("* OK")
        lib.login_logout(c)
        journal_has(ctx, "event=login", "-u", "postern-imap@*", "POSTERN_USER=alice")
        out = ctx.box.journal("-u", "postern-imap@*", "POSTERN_USER=alice", "-o", "verbose")
        assert re.search(r"_SYSTEMD_UNIT=postern-imap@\d+-", out), out[-1500:]
        assert "SYSLOG_IDENTIFIER=postern" in out
        shown = box.systemctl("show", "-p", "NAccepted", "postern-imap.socket").stdout
        assert int(shown.strip().split("=")[1]) >= 1, shown
    finally:
        os.unlink(box.path("/etc/systemd/system/postern-imap.socket.d/per-connection.conf"))
        box.systemctl("daemon-reload")
        box.systemctl("restart", "postern-imap.socket")
    c = lib.Client(143)
    assert c.line().startswith("* OK")
    lib.login_logout(c)

CREDENTIAL = "${CREDENTIALS_DIRECTORY}/tls.key"


def imap_logins(ctx):
    return len(re.findall(r"imap-login: (?:Info: )?Login: user=<alice>",
                          ctx.dovecot.read_log()))


def imaps_login(ctx):
    before = imap_logins(ctx)
    c = lib.tls_client(993, ctx.certs.ca)
    assert c.line().startswith("* OK")
    lib.login_logout(c)
    lib.wait_for(lambda: imap_logins(ctx) > before, 10, "Dovecot's IMAPS login")


def gate_failures(ctx):
    return ctx.box.journal("-u", "postern-config.service", "-o", "cat").count(
        "Failed with result")


def test_a_root_only_key_is_handed_over_by_load_credential(ctx):
    """The recipe the units document: the key root-only, a drop-in
    LoadCredential=tls.key:... for each TLS service, and the file named
    "${CREDENTIALS_DIRECTORY}/tls.key". The gate passes it; each connection
    reads the key from its service's credentials directory."""
    box = ctx.box
    box.run("chown", "root:root", KEY)
    box.run("chmod", "0600", KEY)
    dropins = ["/etc/systemd/system/postern-%s.service.d/key.conf" % n for n in TLS_NAMES]
    try:
        for d in dropins:
            box.write(d, "[Service]\nLoadCredential=tls.key:%s\n" % KEY)
        box.systemctl("daemon-reload")
        box.systemctl("restart", *["postern-%s.service" % n for n in TLS_NAMES])
        ctx.write_conf({}, key=CREDENTIAL)
        wait_active(ctx, CREDENTIAL)
        assert "Result=success" in box.systemctl("show", "-p", "Result",
                                                 "postern-config.service").stdout
        imaps_login(ctx)
        p = poplib.POP3_SSL("127.0.0.1", 995, context=ssl_context(ctx), timeout=10)
        p.user("alice")
        p.pass_("wonderland")
        p.quit()
        # The same key named directly: the gate reads it as the sessions'
        # user would and refuses, saying why; the active copy stays.
        failed = gate_failures(ctx)
        ctx.write_conf({"imaps": "    # named directly\n"})
        lib.wait_for(lambda: gate_failures(ctx) > failed, 20, "the gate's refusal")
        said = box.journal("-u", "postern-config.service", "-o", "cat", "-n", "30")
        print("# the gate: " + " | ".join(l for l in said.splitlines() if KEY in l))
        assert "server imaps" in said and KEY in said, said[-2000:]
        assert CREDENTIAL in open(box.path("/var/lib/postern/postern.conf")).read()
        imaps_login(ctx)
    finally:
        for d in dropins:
            if os.path.exists(box.path(d)):
                os.unlink(box.path(d))
        ctx.protect_key()
        box.systemctl("daemon-reload")
        ctx.write_conf({})
        lib.wait_for(lambda: CREDENTIAL not in
                     open(box.path("/var/lib/postern/postern.conf")).read(), 20,
                     "the key named directly again")
        box.systemctl("restart", *["postern-%s.service" % n for n in TLS_NAMES])
    imaps_login(ctx)


def established(port):
    """ss's lines for this host's end of the connections to port."""
    r = subprocess.run(["ss", "-tnieo", "state", "established",
                        "( sport = :%d )" % port], capture_output=True, text=True)
    return r.stdout


def test_accepted_sockets_have_the_socket_units_keepalive(ctx):
    """The connection the spawner accepted probes a silent client after 5
    minutes, not the kernel's 2 hours: the socket units' KeepAlive= and
    KeepAliveTimeSec=300 on the listening socket, which Linux copies to
    each accepted one, and postern's own setting on the client socket."""
    if not shutil.which("ss"):
        raise lib.Skip("ss is not installed (package iproute2)")
    held = []
    try:
        for port in (143, 993):
            c = lib.tls_client(port, ctx.certs.ca) if port == 993 else lib.Client(port)
            assert c.line().startswith("* OK")
            held.append(c)
        for port in (143, 993):
            out = established(port)
            timers = re.findall(r"timer:\(keepalive,(?:(\d+)min)?(\d+)(?:\.\d+)?sec", out)
            assert timers, (port, out)
            for minutes, seconds in timers:
                left = int(minutes or 0) * 60 + int(seconds)
                # KeepAliveTimeSec=300: the first probe after 5 minutes'
                # silence (the kernel's default is 2 hours).
                assert 200 < left <= 300, (port, out)
    finally:
        for c in held:
            c.close()


# The most exposure each unit may show in systemd-analyze security (0 is
# the least, 10 the most; systemd calls under 2 "OK", under 4.5 "MEDIUM").
# The figures as measured are in postern(8), SANDBOX.
EXPOSURE = {"spawner": 1.5, "connection": 1.5, "gate": 2.5}


def kind(unit):
    return "gate" if unit == "postern-config.service" else \
        "connection" if "@" in unit else "spawner"


def exposure(ctx, unit):
    out = ctx.box.run("systemd-analyze", "security", "--no-pager", unit).stdout
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, out[-2000:]
    return float(m.group(1))


def test_every_unit_is_within_its_exposure_level(ctx):
    seen = {}
    units = ["postern-%s.service" % n for n in NAMES] + \
        ["postern-%s@probe.service" % n for n in NAMES] + ["postern-config.service"]
    for unit in units:
        seen[unit] = exposure(ctx, unit)
    print("# systemd-analyze security: " + ", ".join(
        "%s %.1f" % (u, e) for u, e in sorted(seen.items())))
    for unit, level in seen.items():
        assert level <= EXPOSURE[kind(unit)], (unit, level, seen)


def test_cgroup_limits_are_in_place(ctx):
    """MemoryMax= and TasksMax= of a spawner: systemd enforces them only
    where it can write the controllers."""
    box = ctx.box
    shown = box.systemctl("show", "-p", "MemoryMax,TasksMax,ControlGroup",
                          "postern-imaps.service").stdout
    assert "TasksMax=600" in shown and "MemoryMax=671088640" in shown, shown
    cg = re.search(r"ControlGroup=(\S+)", shown).group(1)
    for f in ("/sys/fs/cgroup%s/memory.max" % cg,
              "/sys/fs/cgroup/unified%s/memory.max" % cg,
              "/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % cg):
        r = box.run("cat", f, check=False)
        if r.returncode == 0:
            assert r.stdout.strip() in ("671088640",), (f, r.stdout)
            return
    v2 = ""
    for f in ("/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/unified/cgroup.controllers"):
        if os.path.exists(f):
            v2 = open(f).read().strip()
            break
    # A unified boot (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1) boots here too, but
    # gets only the host's cgroup2 controllers.
    raise lib.Skip("no memory controller systemd may write in the container: the "
                   "host's v1 controllers are read-only there, and its cgroup2 "
                   "has only [%s], so a unified boot cannot enforce them either" % v2)


def setup():
    return Ctx()


if __name__ == "__main__":
    lib.run([test_an_upgrade_keeps_every_socket_listening,
             test_every_socket_serves_a_login_through_its_spawner,
             test_sessions_are_found_by_unit_and_by_field,
             test_each_service_runs_as_its_own_dynamic_user,
             test_live_sessions_count_against_the_per_source_limit,
             test_a_burst_of_saves_is_activated,
             test_the_gate_resolves_a_name_only_dns_knows,
             test_a_unit_per_connection_is_named_for_its_socket,
             test_a_root_only_key_is_handed_over_by_load_credential,
             test_accepted_sockets_have_the_socket_units_keepalive,
             test_every_unit_is_within_its_exposure_level,
             test_cgroup_limits_are_in_place],
            setup=setup)
