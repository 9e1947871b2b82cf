"""The reload gate (issue 14): connections read the active copy, and
"postern -A" makes an edit active only once it passes the check, TLS
files included. A broken edit never reaches a connection; a good one
reaches the next connection; the active copy keeps the edited file's
mode and is replaced whole (a rename), never written in place.

Issue 13: "postern -A" also writes the image of the active copy.
Issue 21: the image is the only thing a connection reads: an edit in
place of the active copy is never read, and without a usable image (a
damaged one, one the user cannot read) the client gets the protocol's
temporary failure and the log says to run postern -A.

Issue 20: the active copy and its image have the edited file's owner and
group as well as its mode, so that a service user that reads the edited
file through its group reads the active copy too; and a connection reads
the active copy whenever it exists: one its user cannot read gets the
protocol's temporary failure, never the unchecked edit."""
import grp
import imaplib
import os
import pwd
import re
import shutil
import ssl
import stat
import subprocess

import lib


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.edited = self.tmp("etc", "postern.conf")
        self.active = self.tmp("state", "postern.conf")
        os.makedirs(os.path.dirname(self.edited))
        os.makedirs(os.path.dirname(self.active))
        # A postern whose own config is the template of the edits; it
        # runs with -a, as the units do.
        self.p = lib.Postern(self.tmp, map_lines=["* 127.0.0.1:%d" % self.dovecot.imap_port],
                             args=["-a", self.active])
        with open(self.p.conf) as f:
            self.good = f.read()
        self.write(self.good)
        assert self.activate().returncode == 0
        self.track(self.p)

    def write(self, text, mode=0o640):
        with open(self.edited, "w") as f:
            f.write(text)
        os.chmod(self.edited, mode)

    def activate(self):
        return subprocess.run([lib.POSTERN, "-A", "-c", self.edited, "-a", self.active],
                              capture_output=True, text=True)

    def active_text(self):
        with open(self.active) as f:
            return f.read()


def setup():
    return Ctx()


def login(ctx, p=None):
    since = len(ctx.dovecot.read_log())
    c = lib.greet((p or ctx.p).port)
    c.send("a LOGIN alice wonderland\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    c.send("b LOGOUT\r\n")
    c.until_tag("b")
    c.close()
    lib.wait_for(lambda: "Login: user=<alice>" in ctx.dovecot.read_log()[since:],
                 what="Dovecot's login line")


def test_the_active_copy_is_the_checked_edit(ctx):
    assert ctx.active_text() == ctx.good
    assert stat.S_IMODE(os.stat(ctx.active).st_mode) == 0o640
    assert not os.path.exists(ctx.active + ".new")
    login(ctx)


def test_a_broken_edit_never_reaches_connections(ctx):
    ctx.write(ctx.good + "this is not a directive\n")
    r = ctx.activate()
    assert r.returncode == 1, r.stderr
    # The reason names the operator's file and line.
    line = ctx.good.count("\n") + 1
    assert "%s:%d: no such option 'this'" % (ctx.edited, line) in r.stderr, r.stderr
    assert "%s unchanged" % ctx.active in r.stderr
    assert ctx.active_text() == ctx.good
    login(ctx)


def test_tls_files_are_checked_before_activation(ctx):
    broken = ctx.good.replace("protocol = imap", "protocol = imap\n"
                              'ssl_certificate = {"%s"}\n'
                              'ssl_certificate_key = {"/nonexistent/key.pem"}\n'
                              'starttls = "on"' % ctx.certs.server)
    assert broken != ctx.good
    ctx.write(broken)
    r = ctx.activate()
    assert r.returncode == 1, r.stderr
    assert "/nonexistent/key.pem" in r.stderr, r.stderr
    assert ctx.active_text() == ctx.good
    login(ctx)


def test_a_good_edit_reaches_the_next_connection(ctx):
    edited = ctx.good.replace("protocol = imap", "protocol = imap\n"
                              'imap_capabilities = {"IMAP4rev1", "XGATE"}')
    assert edited != ctx.good
    ctx.write(edited, mode=0o644)
    r = ctx.activate()
    assert r.returncode == 0, r.stderr
    assert "is active as %s" % ctx.active in r.stderr
    assert ctx.active_text() == edited
    assert stat.S_IMODE(os.stat(ctx.active).st_mode) == 0o644
    c = lib.Client(ctx.p.port)
    assert "XGATE" in c.line()
    c.close()
    login(ctx)


def config_reads(p, since):
    """How each of p's connections since then read its configuration."""
    return re.findall(r'event=config image="([^"]*)"', p.read_log()[since:])


def test_connections_read_the_image(ctx):
    ctx.write(ctx.good, mode=0o640)
    assert ctx.activate().returncode == 0
    image = ctx.active + ".image"
    assert os.path.exists(image) and not os.path.exists(image + ".new")
    # It holds what the text holds, so it has the text's mode.
    assert stat.S_IMODE(os.stat(image).st_mode) == 0o640
    since = len(ctx.p.read_log())
    login(ctx)
    assert config_reads(ctx.p, since) == [image]


def test_an_edit_in_place_is_never_read(ctx):
    text = re.sub(r"imap_capabilities = .*\n", "", ctx.active_text())
    text = text.replace("protocol = imap", "protocol = imap\n"
                        'imap_capabilities = {"IMAP4rev1", "XINPLACE"}', 1)
    with open(ctx.active, "w") as f:      # same inode, new change time
        f.write(text)
    since = len(ctx.p.read_log())
    c = lib.Client(ctx.p.port)
    assert "XINPLACE" not in c.line()
    c.close()
    login(ctx)
    assert config_reads(ctx.p, since) == [ctx.active + ".image"] * 2
    # Activated, it is read.
    with open(ctx.edited, "w") as f:
        f.write(text)
    assert ctx.activate().returncode == 0
    c = lib.Client(ctx.p.port)
    assert "XINPLACE" in c.line()
    c.close()
    ctx.write(ctx.good)
    assert ctx.activate().returncode == 0


def test_a_damaged_image_gets_the_temporary_failure(ctx):
    with open(ctx.active + ".image", "r+b") as f:
        f.write(b"not an image at all")
    err = ctx.tmp("activate-%d.err" % ctx.p.port)
    since = len(open(err).read())
    c = lib.Client(ctx.p.port)
    assert c.closed()
    assert c.buf == b"* BYE Service temporarily unavailable\r\n", c.buf
    want = ("%s.image: not a postern configuration image; run postern -A"
            % ctx.active)
    lib.wait_for(lambda: want in open(err).read()[since:], what="the reason")
    assert ctx.activate().returncode == 0
    since = len(ctx.p.read_log())
    login(ctx)
    assert config_reads(ctx.p, since) == [ctx.active + ".image"]


def service_user():
    """nobody:nogroup: an unprivileged user that reads the configuration
    through its group only, as the packages' postern user does."""
    if os.geteuid() != 0:
        raise lib.Skip("needs root, to run connections as another user")
    try:
        return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    except KeyError:
        raise lib.Skip("no nobody:nogroup on this machine")


def as_service_user(ctx):
    """An edited file root:nogroup 0640, made active, and postern started
    per connection as nobody:nogroup on the active copy: setpriv between
    systemd-socket-activate and postern does what User= and Group= do in
    a unit (and what the container's entry point does)."""
    if getattr(ctx, "svc", None):
        return ctx.svc
    uid, gid = service_user()
    edited = ctx.tmp("svc-etc", "postern.conf")
    active = ctx.tmp("svc-state", "postern.conf")
    os.makedirs(os.path.dirname(edited))
    os.makedirs(os.path.dirname(active))
    user = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]
    p = lib.Postern(ctx.tmp, map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port],
                    server_conf='imap_capabilities = {"IMAP4rev1", "XACTIVE"}',
                    program=shutil.which("setpriv"), args=user[1:] + [lib.POSTERN, "-a", active])
    with open(p.log, "a"):
        pass
    os.chown(p.log, uid, gid)
    shutil.copy(p.conf, edited)
    os.chown(edited, 0, gid)
    os.chmod(edited, 0o640)
    r = subprocess.run([lib.POSTERN, "-A", "-c", edited, "-a", active],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ctx.svc = (p, edited, active, user, gid)
    ctx.track(p)
    return ctx.svc


def test_the_service_user_reads_only_what_was_activated(ctx):
    p, edited, active, user, gid = as_service_user(ctx)
    for path in (active, active + ".image"):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, gid, 0o640), path
    # An edit never activated, which the service user can read.
    with open(edited) as f:
        text = f.read()
    with open(edited, "w") as f:
        f.write(text.replace("XACTIVE", "XEDITED"))
    assert subprocess.run(user + ["cat", edited], capture_output=True).returncode == 0
    since = len(p.read_log())
    c = lib.Client(p.port)
    greeting = c.line()
    c.close()
    assert "XACTIVE" in greeting and "XEDITED" not in greeting, greeting
    login(ctx, p)
    assert config_reads(p, since) == [active + ".image"] * 2


def test_an_image_the_service_user_cannot_read_is_refused(ctx):
    p, edited, active, user, gid = as_service_user(ctx)
    with open(edited) as f:
        text = f.read()
    with open(edited, "w") as f:
        f.write(text.replace("XACTIVE", "XEDITED"))
    err = ctx.tmp("activate-%d.err" % p.port)
    since = len(open(err).read())
    os.chmod(active + ".image", 0o600)
    try:
        c = lib.Client(p.port)
        assert c.closed()
        assert c.buf == b"* BYE Service temporarily unavailable\r\n", c.buf
        want = "postern: configuration: %s.image: Permission denied" % active
        lib.wait_for(lambda: want in open(err).read()[since:], what="the reason")
    finally:
        os.chmod(active + ".image", 0o640)
    # Readable again: the active image, and still not the edit.
    c = lib.Client(p.port)
    greeting = c.line()
    c.close()
    assert "XACTIVE" in greeting and "XEDITED" not in greeting, greeting


def test_the_credentials_recipe_passes_the_gate(ctx):
    """The units' recipe (issue 22 item 2): a key handed over with
    LoadCredential= and named "${CREDENTIALS_DIRECTORY}/tls.key". -A runs
    where the variable is unset (a shell, the gate's unit): it must pass,
    say the file is left to the connections, and keep the name as written
    for each connection to resolve in its own credentials directory."""
    creds = ctx.tmp("credentials-%d" % lib.free_port())
    os.makedirs(creds)
    shutil.copy(ctx.certs.server_key, os.path.join(creds, "tls.key"))
    conf = ('ssl = true\nssl_certificate = {"%s"}\n'
            'ssl_certificate_key = {"${CREDENTIALS_DIRECTORY}/tls.key"}\n'
            % ctx.certs.server)
    p = lib.Postern(ctx.tmp, server_conf=conf, activate=False,
                    map_lines=["* 127.0.0.1:%d" % ctx.dovecot.imap_port],
                    env={"CREDENTIALS_DIRECTORY": creds})
    env = dict(os.environ)
    env.pop("CREDENTIALS_DIRECTORY", None)
    r = subprocess.run([lib.POSTERN, "-A", "-c", p.conf, "-a", p.active],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "${CREDENTIALS_DIRECTORY} are read by each connection" in r.stderr, r.stderr
    with open(p.active + ".image", "rb") as f:
        assert b"${CREDENTIALS_DIRECTORY}/tls.key" in f.read()
    # Where the variable is set, the file is checked, and a wrong one
    # refused.
    env["CREDENTIALS_DIRECTORY"] = ctx.tmp("empty-credentials")
    os.makedirs(env["CREDENTIALS_DIRECTORY"], exist_ok=True)
    r = subprocess.run([lib.POSTERN, "-t", "-c", p.conf], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 1 and "tls.key" in r.stderr, r.stderr
    p.args = ["-a", p.active]
    ctx.track(p.start())
    since = len(ctx.dovecot.read_log())
    tls = ssl.create_default_context(cafile=ctx.certs.ca)
    tls.check_hostname = False
    m = imaplib.IMAP4_SSL("127.0.0.1", p.port, ssl_context=tls)
    assert m.login("alice", "wonderland")[0] == "OK"
    m.logout()
    lib.wait_for(lambda: "Login: user=<alice>" in ctx.dovecot.read_log()[since:],
                 what="Dovecot's login line")


def test_files_are_checked_as_the_service_user(ctx):
    """A key only root may read passes a check run as root, then fails
    every connection run as the service user: -u checks as that user."""
    uid, gid = service_user()
    key = ctx.tmp("root-only-%d.key" % lib.free_port())
    shutil.copy(ctx.certs.server_key, key)
    os.chmod(key, 0o600)
    conf = ctx.good + ('server imaps {\n protocol = imap\n ssl = true\n'
                       ' listen = "%d"\n ssl_certificate = {"%s"}\n'
                       ' ssl_certificate_key = {"%s"}\n}\n'
                       % (lib.free_port(), ctx.certs.server, key))
    path = ctx.tmp("root-only-%d.conf" % lib.free_port())
    with open(path, "w") as f:
        f.write(conf)
    r = subprocess.run([lib.POSTERN, "-t", "-c", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([lib.POSTERN, "-t", "-u", "nobody", "-c", path],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "%s: Permission denied" % key in r.stderr, r.stderr
    os.chown(key, 0, gid)
    os.chmod(key, 0o640)
    # A number is a user as DynamicUser= makes one: that uid and the
    # same gid, no other groups.
    r = subprocess.run([lib.POSTERN, "-t", "-u", "61234", "-c", path],
                       capture_output=True, text=True)
    assert r.returncode == 1 and key in r.stderr, r.stderr
    r = subprocess.run([lib.POSTERN, "-A", "-u", "nobody", "-c", path, "-a",
                        ctx.tmp("root-only.active")], capture_output=True, text=True)
    assert r.returncode == 0, "nobody is in nogroup: " + r.stderr


def test_check_and_activate_are_exclusive(ctx):
    r = subprocess.run([lib.POSTERN, "-t", "-A", "-c", ctx.edited],
                       capture_output=True, text=True)
    assert r.returncode == 100 and "usage" in r.stderr


if __name__ == "__main__":
    lib.run([test_the_active_copy_is_the_checked_edit,
             test_a_broken_edit_never_reaches_connections,
             test_tls_files_are_checked_before_activation,
             test_a_good_edit_reaches_the_next_connection,
             test_connections_read_the_image,
             test_an_edit_in_place_is_never_read,
             test_a_damaged_image_gets_the_temporary_failure,
             test_the_service_user_reads_only_what_was_activated,
             test_an_image_the_service_user_cannot_read_is_refused,
             test_the_credentials_recipe_passes_the_gate,
             test_files_are_checked_as_the_service_user,
             test_check_and_activate_are_exclusive], setup=setup)
