"""Shared parts of postern's end-to-end tests.

Everything here is real: a Dovecot started as an ordinary process with its
own configuration under a temporary directory, postern started by the real
systemd-socket-activate, ports picked free on loopback. Tests print TAP.
"""
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

BUILDDIR = os.environ.get("POSTERN_BUILDDIR",
                          os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SRCDIR = os.environ.get("POSTERN_SRCDIR", BUILDDIR)
POSTERN = os.path.join(BUILDDIR, "src", "postern")
RELAY = os.path.join(BUILDDIR, "src", "postern-relay")
GUARD_RELAY = os.path.join(BUILDDIR, "src", "postern-guard-relay")
TLS = os.path.join(BUILDDIR, "src", "postern-tls")
TLS_RELAY = os.path.join(BUILDDIR, "src", "postern-tls-relay")

USERS = {
    "alice": "wonderland",
    "bob@example.org": "b0b pass \"quoted\" \\slash",
    "carol": "s\u00e9same-\u00fcnicode",
}


def sanitizer_env():
    """A sanitizer build's options (tests/sanitize), to pass on where the
    spawner clears the environment (systemd-socket-activate, xinetd)."""
    return {k: os.environ[k] for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS")
            if k in os.environ}


_PORTS_GIVEN = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A port no one listens on, below the kernel's ephemeral range: a
    port from that range can be taken, between the pick and the server's
    bind, by any test's outgoing connection (tests run in parallel). Never
    the same port twice in one process."""
    low, _ = _ephemeral_range()
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(10000, max(low, 10001))
        if port in _PORTS_GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def wait_for(predicate, timeout=5.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class TempDir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="postern-test-")
        # Dovecot's mail processes run as an unprivileged user when we are
        # root; they must be able to walk into the tree.
        os.chmod(self.path, 0o755)

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Server:
    """What every server a test starts shares: a process to stop (politely,
    then not) and a log file (self.log) to read and wait on."""

    proc = None
    log = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def terminate(self):
        self.proc.terminate()

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except (FileNotFoundError, TypeError):
            return ""

    def wait_log(self, text, timeout=5.0):
        wait_for(lambda: text in self.read_log(), timeout,
                 "%r in %s's log" % (text, type(self).__name__))
        return self.read_log()


def settings(path):
    """key = value lines of a file (an xinetd entry, a unit), comments out."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


class Dovecot(Server):
    """A real Dovecot on loopback, with USERS and their Maildirs."""

    def __init__(self, tmp, users=USERS, listen="127.0.0.1", certs=None,
                 trusted=None, haproxy=False, introspection=None, extra=""):
        # trusted: login_trusted_networks, the hosts whose ID or XCLIENT
        # Dovecot believes. haproxy: two more listeners that require a
        # PROXY header from 127.0.0.0/8. introspection: an OAuth 2.0
        # introspection URL; XOAUTH2 and OAUTHBEARER are then checked there
        # by Dovecot's oauth2 passdb. extra: more settings, appended
        # (Dovecot merges a service block named twice).
        self.tmp = tmp
        self.users = users
        self.log = tmp("dovecot", "dovecot.log")
        self.imap_port = free_port()
        self.pop3_port = free_port()
        # With certs: TLS on, STARTTLS on the plain ports, and these two.
        self.imaps_port = free_port() if certs else 0
        self.pop3s_port = free_port() if certs else 0
        self.lmtp_port = free_port()   # Postfix delivers here
        self.auth_port = free_port()   # Postfix checks SMTP AUTH here
        self.imap_haproxy_port = free_port() if haproxy else 0
        self.pop3_haproxy_port = free_port() if haproxy else 0
        self.proc = None
        if os.geteuid() == 0:
            self.mail_user = pwd.getpwnam("nobody")
            internal, login = "dovecot", "dovenull"
        else:
            self.mail_user = pwd.getpwuid(os.geteuid())
            internal = login = self.mail_user.pw_name

        os.makedirs(tmp("dovecot", "run"))
        os.makedirs(tmp("dovecot", "state"))
        with open(tmp("dovecot", "passwd"), "w") as f:
            for user, password in users.items():
                f.write("%s:{PLAIN}%s::::::\n" % (user, password))
        ssl = ("ssl = yes\nssl_cert = <%s\nssl_key = <%s" % (certs.server, certs.server_key)
               if certs else "ssl = no")
        oauth = ""
        if introspection:
            with open(tmp("dovecot", "oauth2.conf"), "w") as f:
                f.write("introspection_mode = post\nintrospection_url = %s\n"
                        "username_attribute = username\nactive_attribute = active\n"
                        "active_value = true\n" % introspection)
            oauth = ("passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                     "  args = %s\n}\n" % tmp("dovecot", "oauth2.conf"))
        conf = f"""
protocols = imap pop3 lmtp
listen = {listen}
base_dir = {tmp('dovecot', 'run')}
state_dir = {tmp('dovecot', 'state')}
log_path = {tmp('dovecot', 'dovecot.log')}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if introspection else ""}
{"login_trusted_networks = " + trusted if trusted else ""}
{"haproxy_trusted_networks = 127.0.0.0/8" if haproxy else ""}
mail_location = maildir:~/Maildir
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp('dovecot', 'passwd')}
}}
userdb {{
  driver = static
  args = uid={self.mail_user.pw_uid} gid={self.mail_user.pw_gid} home={tmp('dovecot', 'home')}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
  }}
  inet_listener imap_haproxy {{
    port = {self.imap_haproxy_port}
    haproxy = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = {self.pop3s_port}
  }}
  inet_listener pop3_haproxy {{
    port = {self.pop3_haproxy_port}
    haproxy = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service auth {{
  inet_listener auth-postfix {{
    address = 127.0.0.1
    port = {self.auth_port}
  }}
}}
{extra}
"""
        with open(tmp("dovecot", "dovecot.conf"), "w") as f:
            f.write(conf)
        for user in users:
            self.add_message(user, b"Subject: welcome\r\n\r\nHello " +
                             user.encode() + b".\r\n")

    def maildir(self, user):
        return self.tmp("dovecot", "home", user, "Maildir")

    def add_message(self, user, data, name=None):
        md = self.maildir(user)
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        name = name or "%d.%d.test" % (time.time_ns(), os.getpid())
        path = os.path.join(md, "new", name)
        with open(path, "wb") as f:
            f.write(data)
        uid, gid = self.mail_user.pw_uid, self.mail_user.pw_gid
        for root, dirs, files in os.walk(self.tmp("dovecot", "home")):
            os.chown(root, uid, gid)
            for n in files:
                os.chown(os.path.join(root, n), uid, gid)
        return path

    def start(self):
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", self.tmp("dovecot", "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=open(self.tmp("dovecot", "stderr"), "w"))
        wait_port(self.imap_port, proc=self.proc)
        return self


DEFAULT_SERVER = """
server {name} {{
    listen = "{port}{flags}"
    protocol = {protocol}
{extra}
}}
"""


class Certs:
    """A CA, a server certificate for postern.test/localhost/127.0.0.1, a
    client certificate from the CA, and one from a CA nobody trusts; all
    made by certtool."""

    def __init__(self, tmp):
        self.dir = tmp("certs")
        os.makedirs(self.dir, exist_ok=True)
        self.ca, self.ca_key = self._make("ca", "cn = postern test CA\nca\ncert_signing_key\n")
        self.server, self.server_key = self._make(
            "server", "cn = postern.test\ndns_name = postern.test\n"
            "dns_name = localhost\nip_address = 127.0.0.1\ntls_www_server\n"
            "encryption_key\nsigning_key\n", self.ca, self.ca_key)
        self.rsa, self.rsa_key = self._make(
            "server-rsa", "cn = postern.test\ndns_name = localhost\n"
            "ip_address = 127.0.0.1\ntls_www_server\nencryption_key\nsigning_key\n",
            self.ca, self.ca_key, key_type="rsa")
        self.client, self.client_key = self._make(
            "client", "cn = alice\nemail = alice@example.org\n"
            "tls_www_client\nsigning_key\n", self.ca, self.ca_key)
        # A client one intermediate CA away from the root, and its chain.
        inter, inter_key = self._make("inter-ca", "cn = postern intermediate CA\nca\n"
                                      "cert_signing_key\n", self.ca, self.ca_key)
        leaf, self.far_client_key = self._make(
            "far-client", "cn = alice\ntls_www_client\nsigning_key\n", inter, inter_key)
        self.far_client = self.path("far-client-chain.pem")
        with open(self.far_client, "w") as out:
            for part in (leaf, inter):
                with open(part) as f:
                    out.write(f.read())
        rogue_ca, rogue_key = self._make("rogue-ca", "cn = rogue CA\nca\ncert_signing_key\n")
        self.rogue, self.rogue_key = self._make(
            "rogue", "cn = mallory\ntls_www_client\nsigning_key\n", rogue_ca, rogue_key)

    def _make(self, name, template, ca=None, ca_key=None, key_type="ecdsa"):
        key, cert = self.path(name + ".key"), self.path(name + ".pem")
        tpl = self.path(name + ".tpl")
        with open(tpl, "w") as f:
            f.write(template + "expiration_days = 30\nserial = %d\n" % (time.time_ns() % 10**9))
        subprocess.run(["certtool", "--generate-privkey", "--key-type", key_type,
                        "--outfile", key], check=True, capture_output=True)
        args = ["certtool", "--load-privkey", key, "--template", tpl, "--outfile", cert]
        if ca:
            args += ["--generate-certificate", "--load-ca-certificate", ca,
                     "--load-ca-privkey", ca_key]
        else:
            args += ["--generate-self-signed"]
        subprocess.run(args, check=True, capture_output=True)
        return cert, key

    def path(self, name):
        return os.path.join(self.dir, name)

    def conf(self, **extra):
        """ssl_* directives for a server section."""
        lines = ['ssl_certificate = {"%s"}' % self.server,
                 'ssl_certificate_key = {"%s"}' % self.server_key]
        lines += ['%s = %s' % kv for kv in extra.items()]
        return "\n".join(lines) + "\n"


class Postfix(Server):
    """A real Postfix as an ordinary process: smtpd on a loopback port,
    trusting postern's XCLIENT, checking AUTH against Dovecot, delivering
    example.org over LMTP into Dovecot. Needs root (Postfix drops to its
    own user) and the postfix package."""

    def __init__(self, tmp, dovecot, certs=None):
        if os.geteuid() != 0 or not shutil.which("postfix"):
            raise Skip("Postfix needs root and the postfix package")
        self.tmp = tmp
        self.port = free_port()
        # A second smtpd that wants a PROXY header (smtpd_upstream_proxy_protocol),
        # and a third that does not let postern speak XCLIENT.
        self.proxy_port = free_port()
        self.noxclient_port = free_port()
        # And a fourth that offers AUTH LOGIN only, as Exchange does.
        self.login_only_port = free_port()
        self.dir = tmp("postfix")
        self.log = tmp("postfix", "postfix.log")
        conf = tmp("postfix", "conf")
        os.makedirs(conf)
        os.makedirs(tmp("postfix", "queue"))
        os.makedirs(tmp("postfix", "data"))
        pw = pwd.getpwnam("postfix")
        os.chown(tmp("postfix", "data"), pw.pw_uid, pw.pw_gid)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {tmp('postfix', 'queue')}
data_directory = {tmp('postfix', 'data')}
maillog_file = {self.log}
maillog_file_prefixes = {tmp.path}
myhostname = backend.test
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
relay_domains = example.org
relay_transport = lmtp:inet:127.0.0.1:{dovecot.lmtp_port}
smtpd_authorized_xclient_hosts = 127.0.0.1
smtpd_client_port_logging = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{dovecot.auth_port}
smtpd_sasl_authenticated_header = yes
smtpd_relay_restrictions = permit_sasl_authenticated, permit_auth_destination, reject
smtpd_recipient_restrictions =
message_size_limit = 52428800
""")
            if certs:
                f.write("smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
                        "smtpd_tls_security_level = may\n"
                        "smtpd_tls_received_header = yes\n"
                        % (certs.server, certs.server_key))
        with open("/etc/postfix/master.cf") as f:
            master = f.read().splitlines()
        out = []
        for line in master:
            fields = line.split()
            if line[:1].isalnum() and len(fields) >= 8:
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = "127.0.0.1:%d" % self.port
                fields[4] = "n"          # no chroot: the queue is ours
                line = " ".join(fields)
            out.append(line)
        out.append("127.0.0.1:%d inet n - n - - smtpd "
                   "-o smtpd_upstream_proxy_protocol=haproxy" % self.proxy_port)
        out.append("127.0.0.1:%d inet n - n - - smtpd "
                   "-o smtpd_authorized_xclient_hosts=" % self.noxclient_port)
        out.append("127.0.0.1:%d inet n - n - - smtpd "
                   "-o smtpd_sasl_mechanism_filter=login" % self.login_only_port)
        with open(os.path.join(conf, "master.cf"), "w") as f:
            f.write("\n".join(out) + "\n")
        self.conf = conf
        self.proc = None

    def start(self):
        err = open(self.tmp("postfix", "stderr"), "w")
        subprocess.run(["postfix", "-c", self.conf, "check"], check=True,
                       stdout=err, stderr=err)
        self.proc = subprocess.Popen(["postfix", "-c", self.conf, "start-fg"],
                                     stdout=err, stderr=err)
        wait_port(self.port, proc=self.proc)
        return self

    def terminate(self):
        subprocess.run(["postfix", "-c", self.conf, "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Postern(Server):
    """postern behind the real systemd-socket-activate."""

    def __init__(self, tmp, global_conf="", server_conf="", inetd=False,
                 map_lines=None, name=None, raw_conf=None, port=None,
                 protocol="imap", env=None, listen_flags="", program=None,
                 args=None, activate=True):
        # listen_flags: " ssl", " proxy_protocol", as nginx writes them.
        # args: the program's arguments in place of its config's.
        # activate: as the shipped units run it, on the active copy that
        # "postern -A" made of the config (and its image); a config that
        # does not pass the check is given with -c.
        self.args = args
        self.activate = activate
        name = name or protocol
        self.env = env or {}
        self.program = program or POSTERN   # another build's postern
        self.tmp = tmp
        self.port = port or free_port()
        self.log = tmp("postern-%d.log" % self.port)
        self.conf = tmp("postern-%d.conf" % self.port)
        self.active = tmp("active-%d.conf" % self.port)
        self.map = tmp("users-%d.map" % self.port)
        self.inetd = inetd
        self.name = name
        with open(self.map, "w") as f:
            f.write("\n".join(map_lines or []) + "\n")
        if raw_conf is None:
            raw_conf = (
                'error_log = "%s"\nlog_level = "debug"\nrelay_program = "%s"\n'
                'guard_relay_program = "%s"\ntls_program = "%s"\n'
                'tls_relay_program = "%s"\n'
                'auth_map = "%s"\nserver_name = "postern.test"\n'
                % (self.log, RELAY, GUARD_RELAY, TLS, TLS_RELAY, self.map)
                + global_conf
                + DEFAULT_SERVER.format(port=self.port, extra=server_conf,
                                        flags=listen_flags,
                                        name=name, protocol=protocol))
        with open(self.conf, "w") as f:
            f.write(raw_conf)
        self.proc = None

    def start(self):
        # test_dual_stack.py sets "[::]": a dual-stack socket, where an IPv4
        # client arrives as ::ffff:a.b.c.d.
        listen = os.environ.get("POSTERN_TEST_LISTEN", "127.0.0.1")
        cmd = ["systemd-socket-activate", "-l", "%s:%d" % (listen, self.port)]
        if self.inetd:
            cmd += ["--inetd"]
        else:
            cmd += ["--fdname=" + self.name]
        for k, v in dict(sanitizer_env(), **self.env).items():
            cmd += ["-E", "%s=%s" % (k, v)]
        cmd += ["-a", self.program] + (self.args or self.conf_args())
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(self.tmp("activate-%d.err" % self.port), "w"))
        wait_port(self.port, proc=self.proc)
        # wait_port made one connection of its own; let it finish.
        time.sleep(0.1)
        return self


    def activated(self):
        """postern -A of this config; the active copy's path (connections
        read its image), or AssertionError with -A's reasons."""
        r = subprocess.run([POSTERN, "-A", "-c", self.conf, "-a", self.active],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return self.active

    def conf_args(self):
        # A config -A refuses is given with -c: a connection then finds no
        # image (FILE.image), which is what such a test is about.
        if self.activate:
            # postern -A, of this build or of the one given
            tool = self.program if os.path.basename(self.program) == "postern" else POSTERN
            r = subprocess.run([tool, "-A", "-c", self.conf, "-a", self.active],
                               capture_output=True, text=True, timeout=60)
            if r.returncode == 0:
                return ["-a", self.active]
        return ["-c", self.conf]

    def connect(self, timeout=10.0):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


class Client:
    """Raw line-level client for exact-byte checks."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    @classmethod
    def over(cls, sock):
        """A client on a socket already made (bound elsewhere, or TLS)."""
        c = cls.__new__(cls)
        c.sock, c.buf = sock, b""
        return c

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def poll_lines(self):
        """Whatever whole lines have arrived, without waiting; EOFError
        once the server has closed."""
        self.sock.setblocking(False)
        try:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        lines = []
        while b"\n" in self.buf:
            lines.append(self.line())
        return lines

    def reply(self):
        """One SMTP reply, all its lines ("250-..." up to "250 ...")."""
        lines = [self.line()]
        while lines[-1][3:4] == "-":
            lines.append(self.line())
        return lines

    def until_tag(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(self.buf), n))
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def closed(self, timeout=5.0):
        """True once the server closed the connection (EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            return False

    def close(self):
        self.sock.close()


class Harness:
    """A temporary tree, a Dovecot, and whatever a test file starts on top;
    close() stops them all."""

    def __init__(self, certs=False, **dovecot_kw):
        self.tmp = TempDir()
        self.certs = Certs(self.tmp) if certs else None
        self.dovecot = Dovecot(self.tmp, certs=self.certs, **dovecot_kw).start()
        self.running = []

    def track(self, server):
        """Start server and stop it at close(); returns it."""
        self.running.append(server.start())
        return server

    def dump(self):
        logs = [r.read_log()[-3000:] for r in self.running if isinstance(r, Postern)]
        return "postern log:\n" + logs[-1] if logs else ""

    def close(self):
        for r in self.running:
            r.stop()
        self.dovecot.stop()
        self.tmp.cleanup()


def make_install(dest):
    """make install DESTDIR=dest of the build tree, as a package does."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "-C", BUILDDIR, "install", "DESTDIR=" + dest],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def tls_client(port, ca):
    """A raw client over implicit TLS, trusting ca, before the greeting."""
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    return Client.over(context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10),
        server_hostname="localhost"))


def login_logout(c, user="alice", password=None):
    """LOGIN that must succeed, then LOGOUT and close; after the greeting."""
    c.send("a LOGIN %s %s\r\n" % (user, password or USERS[user]))
    assert c.until_tag("a")[-1].startswith("a OK")
    c.send("b LOGOUT\r\n")
    c.until_tag("b")
    c.close()


def greet(port):
    """A raw client past the greeting."""
    c = Client(port)
    greeting = c.line()
    assert greeting.startswith("* OK"), greeting
    return c


class Skip(Exception):
    """Raised by a test that cannot run on this machine, with the reason."""


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def noop_until_closed(client, noop, ok, limit=40, pause=0.2):
    """Send noop and expect ok until the server says something else; that
    line is returned, and the connection must close after it."""
    for _ in range(limit):
        client.send(noop)
        line = client.line()
        if line != ok:
            assert client.closed()
            return line
        time.sleep(pause)
    raise AssertionError("still open after %d NOOPs" % limit)


def memory_holds(pid, needles):
    """Which of needles (bytes) stand anywhere in the writable memory of
    process pid: heap, stack, anonymous and data mappings."""
    found = set()
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "w" not in fields[1]:
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if end - start > 1 << 30:
                continue  # a sanitizer's shadow, reserved, never written
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            found.update(n for n in needles if n in chunk)
    return found


def boxed(pid, filters=1):
    """A process runs under seccomp filters (at least this many: the
    front's and its own), without new privileges."""
    with open("/proc/%d/status" % pid) as f:
        status = dict(l.split(":", 1) for l in f if ":" in l)
    return status["Seccomp"].strip() == "2" and \
        status["NoNewPrivs"].strip() == "1" and \
        int(status.get("Seccomp_filters", str(filters)).strip()) >= filters


def pids_of(comm):
    """Processes whose name (as /proc shows it, 15 characters) is comm."""
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() == comm[:15]:
                    out.append(int(pid))
        except (OSError, ValueError):
            pass
    return out


def session_pid(log, program, session_line_marker):
    """The pid of program's process in the last session whose log has the
    line with marker: "postern-tls[PID]: ... session=ID ..."."""
    sid = re.findall(r"session=(\w+) " + re.escape(session_line_marker),
                     log)[-1]
    return int(re.search(re.escape(program) + r"\[(\d+)\]: <\d> session=" +
                         sid, log).group(1))


def assert_no_passwords(text, also=()):
    """No password of USERS (nor what else is given) appears in text, as
    it is or percent-encoded as auth_http sends it."""
    for password in list(USERS.values()) + list(also):
        for form in (password, password.replace(" ", "%20")):
            assert form not in text, "a password reached the log"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def run(tests, setup=None, teardown=None):
    """Run test functions, print TAP, exit non-zero if any failed."""
    print("1..%d" % len(tests), flush=True)
    failed = 0
    ctx = None
    try:
        ctx = setup() if setup else None
    except Exception:
        for i, t in enumerate(tests, 1):
            print("not ok %d - %s # setup failed" % (i, t.__name__))
        traceback.print_exc(file=sys.stdout)
        sys.exit(1)
    try:
        for i, t in enumerate(tests, 1):
            name = t.__name__
            try:
                t(ctx) if setup else t()
                print("ok %d - %s" % (i, name), flush=True)
            except Skip as why:
                print("ok %d - %s # SKIP %s" % (i, name, why), flush=True)
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, name), flush=True)
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
                if ctx is not None and hasattr(ctx, "dump"):
                    for line in ctx.dump().splitlines():
                        print("# " + line)
    finally:
        if teardown:
            teardown(ctx)
        elif hasattr(ctx, "close"):
            ctx.close()
    sys.exit(1 if failed else 0)


class AuthServer(Server):
    """tests/e2e/authd.py on a loopback port or a unix socket."""

    def __init__(self, tmp, backend_port, users=USERS, aliases=None,
                 wait=0, mode="normal", unix=False, backends=None,
                 backend_tls=None, port=None, imap_deny=None):
        self.tmp = tmp
        self.port = port or free_port()
        self.record = tmp("auth-%d.jsonl" % self.port)
        self.unix = tmp("auth-%d.sock" % self.port) if unix else None
        users_file = tmp("auth-users-%d.json" % self.port)
        aliases_file = tmp("auth-aliases-%d.json" % self.port)
        with open(users_file, "w") as f:
            json.dump(users, f)
        with open(aliases_file, "w") as f:
            json.dump(aliases or {}, f)
        self.cmd = [sys.executable, os.path.join(SRCDIR, "tests", "e2e", "authd.py"),
                    "--record", self.record, "--users", users_file,
                    "--aliases", aliases_file,
                    "--backend", "127.0.0.1:%d" % backend_port,
                    *sum((["--backend", "%s=127.0.0.1:%d" % (p, n)]
                          for p, n in (backends or {}).items()), []),
                    "--wait", str(wait), "--mode", mode]
        self.cmd += ["--unix", self.unix] if unix else ["--port", str(self.port)]
        if backend_tls:
            self.cmd += ["--backend-tls", backend_tls]
        for user, names in (imap_deny or {}).items():
            self.cmd += ["--imap-deny", "%s=%s" % (user, names)]
        self.proc = None

    @property
    def url(self):
        return "unix:%s:/auth" % self.unix if self.unix else \
            "http://127.0.0.1:%d/auth" % self.port

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE)
        assert self.proc.stdout.readline().strip() == b"ready"
        return self

    def requests(self):
        try:
            with open(self.record) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []


class Dnsmasq(Server):
    """A real DNS server (Debian's dnsmasq-base) on a loopback port, with
    only the records a test gives it: host_records {name: ip} (each makes
    the PTR too), ptr_records {reverse name: name}. Names under the
    local domains that it has no record of are NXDOMAIN; elsewhere,
    with no upstream, it answers REFUSED."""

    def __init__(self, tmp, host_records=None, ptr_records=None, local=()):
        if not shutil.which("dnsmasq"):
            raise Skip("dnsmasq is not installed (package dnsmasq-base)")
        self.port = free_port()
        self.log = tmp("dnsmasq-%d.log" % self.port)
        self.cmd = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                    "--port=%d" % self.port, "--listen-address=127.0.0.1",
                    "--bind-interfaces", "--no-resolv", "--no-hosts",
                    "--pid-file=" + tmp("dnsmasq-%d.pid" % self.port),
                    "--user=" + pwd.getpwuid(os.geteuid()).pw_name,
                    "--log-queries", "--log-facility=" + self.log]
        self.cmd += ["--host-record=%s,%s" % kv for kv in (host_records or {}).items()]
        self.cmd += ["--ptr-record=%s,%s" % kv for kv in (ptr_records or {}).items()]
        self.cmd += ["--local=/%s/" % d for d in local]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_port(self.port, proc=self.proc)
        return self



def reverse_name(ip):
    """The in-addr.arpa name of an IPv4 address."""
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


class FakeDns:
    """What no real DNS server here will serve: a SERVFAIL on demand, and a
    PTR whose name carries CR and LF (dnsmasq refuses to load one). A
    thread in the test's process; answers[reverse name] is ("servfail",)
    or ("ptr", raw name bytes)."""

    def __init__(self, answers):
        self.answers = answers
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = None

    def start(self):
        import threading
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self):
        import struct
        while True:
            try:
                q, peer = self.sock.recvfrom(2048)
            except OSError:
                return
            labels, pos = [], 12
            while q[pos]:
                labels.append(q[pos + 1:pos + 1 + q[pos]].decode("latin-1"))
                pos += 1 + q[pos]
            question = q[12:pos + 5]
            what = self.answers.get(".".join(labels), ("servfail",))
            rcode = 2 if what[0] == "servfail" else 0
            head = q[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1,
                                       0 if rcode else 1, 0, 0)
            body = b""
            if not rcode:
                name = b"".join(bytes([len(l)]) + l for l in what[1].split(b".")) + b"\0"
                body = b"\xc0\x0c" + struct.pack(">HHIH", 12, 1, 60, len(name)) + name
            self.sock.sendto(head + question + body, peer)

    def stop(self):
        self.sock.close()


class Nginx(Server):
    """A real nginx with Debian's mail module (libnginx-mod-mail), as an
    ordinary process: its own prefix and configuration under tmp, daemon
    off, loopback ports. mail_conf is the inside of its mail {} block."""

    MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"

    def __init__(self, tmp, mail_conf, ports, http_conf=None, name="nginx",
                 workers=1, log_level="info"):
        # http_conf: an http {} block's inside as well (an auth_http
        # responder made of add_header lines, for the benchmark).
        if not shutil.which("nginx") or not os.path.exists(self.MODULE):
            raise Skip("nginx and libnginx-mod-mail are not installed")
        self.tmp = tmp
        self.prefix = tmp(name)
        os.makedirs(self.prefix, exist_ok=True)
        self.ports = ports
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.log = os.path.join(self.prefix, "error.log")
        user = "" if os.geteuid() else "user nobody nogroup;\n"
        blocks = "mail {\n%s\n}\n" % mail_conf if mail_conf else ""
        if http_conf is not None:
            blocks += ("http {\naccess_log off;\nclient_body_temp_path %s/body;\n"
                       "%s\n}\n" % (self.prefix, http_conf))
        with open(self.conf, "w") as f:
            f.write("load_module %s;\n%sdaemon off;\nworker_processes %d;\n"
                    "pid %s/nginx.pid;\nerror_log %s %s;\n"
                    "events { worker_connections 1024; }\n%s"
                    % (self.MODULE, user, workers, self.prefix, self.log,
                       log_level, blocks))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["nginx", "-p", self.prefix, "-c", self.conf, "-e", self.log],
            stdout=subprocess.DEVNULL, stderr=open(self.log + ".stderr", "w"))
        for port in self.ports:
            wait_port(port, proc=self.proc)
        return self

