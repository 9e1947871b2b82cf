"""The Debian package: dpkg-buildpackage builds it from the source as
shipped (make distdir), it holds what an operator needs and enables
nothing, and its binaries, unpacked into a throwaway root, log a user in
to the real Dovecot."""
import glob
import os
import shutil
import subprocess

import lib


def dpkg_buildpackage(src, work):
    """dpkg-buildpackage -b in src; the .deb it leaves in work."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    # The unit tests ran already; the build must not need the network,
    # root, or anything but its Build-Depends.
    env["DEB_BUILD_OPTIONS"] = "nocheck parallel=%d" % (os.cpu_count() or 1)
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    debs = glob.glob(os.path.join(work, "postern_*.deb"))
    assert len(debs) == 1, os.listdir(work)
    return debs[0]


def build_package(work):
    """The package of this tree, built from make distdir in work."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    src = os.path.join(work, "postern")
    r = subprocess.run(["make", "-s", "-C", lib.BUILDDIR, "distdir",
                        "distdir=" + src], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return dpkg_buildpackage(src, work)


class Ctx(lib.Harness):
    def __init__(self):
        if not shutil.which("dpkg-buildpackage") or not shutil.which("dh"):
            raise lib.Skip("dpkg-dev and debhelper are not installed")
        super().__init__()
        work = self.tmp("deb")
        os.makedirs(work)
        self.deb = build_package(work)
        self.root = self.tmp("root")
        subprocess.run(["dpkg-deb", "-x", self.deb, self.root], check=True)


def test_the_package_holds_what_an_operator_needs(ctx):
    r = subprocess.run(["dpkg-deb", "-c", ctx.deb], capture_output=True,
                       text=True, check=True)
    listing = r.stdout
    for path in ("./usr/sbin/postern", "./usr/libexec/postern-text",
                 "./usr/libexec/postern-tls",
                 "./usr/libexec/postern-relay", "./usr/libexec/postern-guard-relay",
                 "./etc/postern/postern.conf", "./lib/systemd/system/postern-imap.service",
                 "./lib/systemd/system/postern-imaps.socket",
                 "./lib/systemd/system/postern-imaps.service",
                 "./lib/systemd/system/postern-imaps@.service",
                 "./lib/systemd/system/postern-smtp@.service",
                 "./usr/share/postern/systemd/per-connection.conf",
                 "./lib/systemd/system/postern-config.service",
                 "./lib/systemd/system/postern-config.path",
                 "./usr/share/man/man8/postern.8.gz",
                 "./usr/share/postern/xinetd/postern-smtps.xinetd"):
        assert path in listing, path
    # The relay that reads a session's keys is execute-only, so that it is
    # undumpable from its exec on (Makefile.am's install-exec-hook).
    relay, = [l for l in listing.splitlines()
              if l.endswith(" ./usr/libexec/postern-tls-relay")]
    assert relay.startswith("-rwx--x--x root/root"), relay
    # Nothing is enabled by the package itself.
    assert "./etc/systemd/system" not in listing
    with open(os.path.join(ctx.root, "lib/systemd/system/postern-imap@.service")) as f:
        assert "ExecStart=/usr/sbin/postern -a /var/lib/postern/postern.conf -s imap\n" \
            in f.read()
    # The units 0.1's sockets named each connection after, until the
    # postinst's reload: present, as what their connections start, and
    # never enabled (debian/upgrade-from-0.1@.service).
    for unit, program in (("postern@.service", "/usr/sbin/postern"),
                          ("postern-tls@.service", "/usr/libexec/postern-tls")):
        with open(os.path.join(ctx.root, "lib/systemd/system", unit)) as f:
            text = f.read()
        assert "ExecStart=%s -a /var/lib/postern/postern.conf\n" % program in text, unit
        assert "[Install]" not in text and "@program@" not in text, unit
    with open(os.path.join(ctx.root, "lib/systemd/system/postern-imaps.service")) as f:
        assert "/usr/libexec/postern-spawn -m ${SESSIONS_MAX} -p ${SESSIONS_PER_SOURCE} " \
            "/usr/libexec/postern-tls -a /var/lib/postern/postern.conf\n" in f.read()
    # The statically linked musl is declared, as Debian wants.
    r = subprocess.run(["dpkg-deb", "-f", ctx.deb, "Built-Using"], capture_output=True,
                       text=True, check=True)
    assert r.stdout.startswith("musl (= "), r.stdout
    r = subprocess.run(["dpkg-deb", "-I", ctx.deb, "postinst"], capture_output=True,
                       text=True, check=True)
    assert "adduser --system" in r.stdout
    assert 'postern -A -c "$active" -a "$active"' in r.stdout
    assert "deb-systemd-invoke start" not in r.stdout
    # An upgrade stops no socket (tests/e2e/test_booted_systemd.py runs one).
    r = subprocess.run(["dpkg-deb", "-I", ctx.deb, "preinst"], capture_output=True,
                       text=True)
    assert "deb-systemd-invoke stop" not in r.stdout, r.stdout
    # -t reads the map where the config names it, as a login would: the
    # package's, under the unpacked root here.
    shipped = os.path.join(ctx.root, "etc/postern/postern.conf")
    with open(shipped) as f:
        text = f.read()
    assert '"/etc/postern/users.map"' in text
    checked = ctx.tmp("packaged.conf")
    with open(checked, "w") as f:
        f.write(text.replace("/etc/postern/users.map",
                             os.path.join(ctx.root, "etc/postern/users.map")))
    r = subprocess.run([os.path.join(ctx.root, "usr/sbin/postern"), "-t", "-c",
                        checked], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_login_through_the_packaged_binaries(ctx):
    d = ctx.dovecot
    libexec = os.path.join(ctx.root, "usr/libexec")
    p = ctx.track(lib.Postern(
        ctx.tmp, program=os.path.join(ctx.root, "usr/sbin/postern"),
        map_lines=["* 127.0.0.1:%d" % d.imap_port],
        global_conf='relay_program = "%s/postern-relay"\n' % libexec))
    c = lib.greet(p.port)
    c.send("a LOGIN alice wonderland\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    c.send("b LOGOUT\r\n")
    c.until_tag("b")
    c.close()
    log = p.wait_log("result=relayed")
    assert "postern-relay" in log


def setup():
    return Ctx()


if __name__ == "__main__":
    lib.run([test_the_package_holds_what_an_operator_needs,
             test_a_login_through_the_packaged_binaries], setup=setup)
