"""make install, as a package or an operator runs it: the units and the
seven xinetd entries name the configured paths, and those paths hold what
they should; systemd finds nothing else wrong with the units; and the
installed binary serves an IMAP-over-TLS login under the real xinetd,
started from the shipped entry."""
import glob
import os
import re
import shutil
import stat
import socket
import ssl
import subprocess

import lib

NAMES = ["imap", "pop3", "smtp", "submission", "imaps", "pop3s", "smtps"]
TLS_NAMES = ["imaps", "pop3s", "smtps"]   # postern-tls, started directly



def make_vars(*names):
    """What configure chose, as the Makefile has it."""
    out = {}
    with open(os.path.join(lib.BUILDDIR, "Makefile")) as f:
        for line in f:
            m = re.match(r"^(\w+) = (.*)$", line.rstrip("\n"))
            if m and m.group(1) in names:
                out[m.group(1)] = m.group(2)
    return out


def expand(value, known):
    while "${" in value or "$(" in value:
        value = re.sub(r"\$[({](\w+)[)}]", lambda m: known[m.group(1)], value)
    return value


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.dest = self.tmp("root")
        lib.make_install(self.dest)
        v = make_vars("prefix", "exec_prefix", "sbindir", "sysconfdir",
                      "datadir", "datarootdir", "libexecdir",
                      "systemdsystemunitdir", "activeconfig")
        self.paths = {k: expand(x, v) for k, x in v.items()}
        self.sbin = self.paths["sbindir"]
        self.conf = os.path.join(self.paths["sysconfdir"], "postern", "postern.conf")

    def under(self, path):
        return self.dest + path


def test_units_name_installed_paths(ctx):
    unitdir = ctx.under(ctx.paths["systemdsystemunitdir"])
    programs = {"postern-imap@.service": ctx.sbin + "/postern",
                "postern-imaps@.service": ctx.paths["libexecdir"] + "/postern-tls"}
    for service, program in programs.items():
        with open(os.path.join(unitdir, service)) as f:
            text = f.read()
        exec_start = re.search(r"^ExecStart=(\S+) -a (\S+) -s \w+$", text, re.M)
        assert exec_start, text
        assert exec_start.group(1) == program
        assert os.access(ctx.under(exec_start.group(1)), os.X_OK)
        # The active copy, which the gate writes; not installed.
        assert exec_start.group(2) == ctx.paths["activeconfig"]
        assert "LogsDirectory=postern-" in text
    with open(os.path.join(unitdir, "postern-config.service")) as f:
        text = f.read()
    assert "ExecStart=%s/postern -A -u postern -c %s -a %s\n" % (
        ctx.sbin, ctx.conf, ctx.paths["activeconfig"]) in text, text
    assert os.path.exists(ctx.under(ctx.conf))
    with open(os.path.join(unitdir, "postern-config.path")) as f:
        assert "PathChanged=%s\n" % ctx.conf in f.read()
    spawn = ctx.paths["libexecdir"] + "/postern-spawn"
    for name in NAMES:
        assert os.path.exists(os.path.join(unitdir, "postern-%s.socket" % name))
        with open(os.path.join(unitdir, "postern-%s.service" % name)) as f:
            assert "ExecStart=%s " % spawn in f.read(), name
    assert os.access(ctx.under(spawn), os.X_OK)
    # Execute-only: undumpable from its exec on (Makefile.am says why).
    relay = os.stat(ctx.under(ctx.paths["libexecdir"] + "/postern-tls-relay"))
    assert stat.S_IMODE(relay.st_mode) == 0o711, oct(relay.st_mode)
    if not shutil.which("systemd-analyze"):
        raise lib.Skip("no systemd-analyze")
    units = [os.path.join(unitdir, "postern-%s%s" % (n, s))
             for n in NAMES for s in (".socket", ".service", "@.service")]
    units += [os.path.join(unitdir, "postern-config." + s) for s in ("service", "path")]
    r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units,
                       capture_output=True, text=True, cwd=unitdir)
    # The binaries are under DESTDIR, not on this host (checked above).
    missing = ["Command %s is not executable" % p for p in
               list(programs.values()) + [spawn]]
    other = [l for l in r.stderr.splitlines()
             if l and not any(m in l for m in missing)]
    assert not other, other


def test_seven_xinetd_entries(ctx):
    entries = sorted(glob.glob(ctx.under(os.path.join(ctx.paths["datadir"],
                                                      "postern", "xinetd", "*"))))
    assert [os.path.basename(e) for e in entries] == \
        sorted("postern-%s.xinetd" % n for n in NAMES), entries
    for path in entries:
        k = lib.settings(path)
        assert k["user"] == "postern", path
        assert set(k["flags"].split()) >= {"KEEPALIVE", "IPv6"}, path
        name = os.path.basename(path)[len("postern-"):-len(".xinetd")]
        want = (ctx.paths["libexecdir"] + "/postern-tls" if name in TLS_NAMES
                else ctx.sbin + "/postern")
        assert k["server"] == want, path
        assert k["server_args"].startswith("-a %s -s " % ctx.paths["activeconfig"]), path
        assert os.access(ctx.under(k["server"]), os.X_OK)


def test_installed_binary_under_xinetd_with_the_imaps_entry(ctx):
    if not shutil.which("xinetd") or os.geteuid() != 0:
        raise lib.Skip("needs xinetd and root")
    d = ctx.dovecot
    p = lib.Postern(ctx.tmp, name="imaps", listen_flags=" ssl",
                    server_conf=ctx.certs.conf(),
                    map_lines=["* 127.0.0.1:%d" % d.imap_port])
    port = lib.free_port()
    with open(ctx.under(os.path.join(ctx.paths["datadir"], "postern", "xinetd",
                                     "postern-imaps.xinetd"))) as f:
        entry = f.read()
    # Only what this machine needs changes: the port, loopback, root (no
    # postern user here), the installed binary and the test's config.
    entry = re.sub(r"port\s+=\s+\d+", "port = %d\n    bind = 127.0.0.1" % port, entry)
    entry = re.sub(r"user\s+=\s+postern", "user = root", entry)
    tls = ctx.paths["libexecdir"] + "/postern-tls"
    assert "server      = %s\n" % tls in entry, entry
    entry = entry.replace(tls, ctx.under(tls))
    entry = entry.replace("-a " + ctx.paths["activeconfig"], "-a " + p.activated())
    # IPv6 would bind [::]; bound to 127.0.0.1 here, it must go.
    entry = entry.replace("flags       = KEEPALIVE IPv6", "flags = KEEPALIVE")
    env = " ".join("%s=%s" % kv for kv in lib.sanitizer_env().items())
    if env:
        entry = entry.replace("    cps", "    env = %s\n    cps" % env)
    conf = ctx.tmp("xinetd-imaps.conf")
    with open(conf, "w") as f:
        f.write("defaults\n{\n}\n" + entry)
    x = subprocess.Popen(["xinetd", "-dontfork", "-f", conf, "-pidfile",
                          ctx.tmp("xinetd-imaps.pid")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lib.wait_port(port, proc=x)
        context = ssl.create_default_context(cafile=ctx.certs.ca)
        context.check_hostname = False
        with context.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                          timeout=10),
                                 server_hostname="localhost") as s:
            c = lib.Client.over(s)
            assert c.line().startswith("* OK")
            c.send("a LOGIN alice wonderland\r\n")
            assert c.until_tag("a")[-1].startswith("a OK")
            c.send("b LOGOUT\r\n")
            c.until_tag("b")
        log = p.wait_log("result=relayed")
        assert "event=login" in log
        # The entry started postern-tls itself: no front before it.
        assert "postern[" not in log and "postern-tls[" in log, log
    finally:
        x.terminate()
        x.wait(10)


def setup():
    return Ctx()


if __name__ == "__main__":
    lib.run([test_units_name_installed_paths, test_seven_xinetd_entries,
             test_installed_binary_under_xinetd_with_the_imaps_entry],
            setup=setup)
