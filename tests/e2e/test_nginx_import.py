"""postern-nginx-import on an nginx configuration that the real nginx
accepts (nginx -t, with Debian's mail module): the result passes
postern -t, and the converted sections serve logins through the same
auth_http server, plain and implicit TLS, with Dovecot's evidence. The
socket units name each listen; what is not carried over is listed."""
import os
import subprocess

import lib

IMPORT = os.path.join(lib.BUILDDIR, "src", "postern-nginx-import")


class Ctx(lib.Harness):
    def __init__(self):
        super().__init__(certs=True)
        self.auth = self.track(lib.AuthServer(self.tmp, self.dovecot.imap_port))
        self.plain, self.tls = lib.free_port(), lib.free_port()
        self.out = self.tmp("imported")
        os.makedirs(self.out)
        self.nginx_conf = self.tmp("nginx.conf")
        with open(self.nginx_conf, "w") as f:
            f.write(f"""load_module {lib.Nginx.MODULE};
pid {self.tmp('nginx.pid')};
events {{ worker_connections 64; }}
mail {{
    server_name mail.example.test;
    auth_http 127.0.0.1:{self.auth.port}/auth;
    auth_http_header X-Auth-Key "secret key";
    proxy_buffer 8k;
    imap_capabilities IMAP4rev1 UIDPLUS IDLE;
    imap_auth plain login;
    ssl_certificate {self.certs.server};
    ssl_certificate_key {self.certs.server_key};
    ssl_session_cache shared:MAIL:1m;
    server {{
        listen 127.0.0.1:{self.plain} backlog=64;
        protocol imap;
        proxy_pass_error_message on;
    }}
    server {{
        listen 127.0.0.1:{self.tls} ssl;
        protocol imap;
    }}
}}
""")

    def convert(self):
        return subprocess.run([IMPORT, "-o", self.out, self.nginx_conf],
                              capture_output=True, text=True, timeout=30)

    def postern(self, name, port):
        with open(os.path.join(self.out, "postern.conf")) as f:
            imported = f.read()
        # Only what a test machine needs on top: its programs and a log.
        head = ('error_log = "%s"\nrelay_program = "%s"\ntls_program = "%s"\n'
                % (self.tmp("postern-%s.log" % name), lib.RELAY, lib.TLS))
        return self.track(lib.Postern(self.tmp, raw_conf=head + imported, name=name,
                                      port=port))


def setup():
    if not os.path.exists(lib.Nginx.MODULE):
        raise lib.Skip("no nginx mail module")
    return Ctx()


def test_nginx_accepts_the_input(ctx):
    r = subprocess.run(["nginx", "-t", "-p", ctx.tmp(), "-c", ctx.nginx_conf,
                        "-e", ctx.tmp("nginx-error.log")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_conversion_and_its_notes(ctx):
    r = ctx.convert()
    assert r.returncode == 0, r.stderr
    assert "line 8: proxy_buffer: " in r.stderr, r.stderr
    assert "line 13: ssl_session_cache: " in r.stderr
    assert "line 15: listen: backlog=64: set it in the socket unit" in r.stderr
    assert "2 server section(s)" in r.stderr
    with open(os.path.join(ctx.out, "postern-imap.socket")) as f:
        unit = f.read()
    assert "ListenStream=127.0.0.1:%d\n" % ctx.plain in unit
    assert "Accept=yes\n" in unit and "FileDescriptorName=imap\n" in unit
    with open(os.path.join(ctx.out, "postern-imaps.socket")) as f:
        assert "ListenStream=127.0.0.1:%d\n" % ctx.tls in f.read()
    r = subprocess.run([lib.POSTERN, "-t", "-c", ctx.postern("check", lib.free_port()).conf],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_converted_sections_serve_logins(ctx):
    if not os.path.exists(os.path.join(ctx.out, "postern.conf")):
        assert ctx.convert().returncode == 0
    plain = ctx.postern("imap", ctx.plain)
    tls = ctx.postern("imaps", ctx.tls)
    since = len(ctx.dovecot.read_log())
    c = lib.greet(plain.port)
    c.send("c CAPABILITY\r\n")
    caps = c.until_tag("c")
    assert caps[0] == "* CAPABILITY IMAP4rev1 UIDPLUS IDLE AUTH=PLAIN AUTH=LOGIN", caps
    lib.login_logout(c)
    t = lib.tls_client(tls.port, ctx.certs.ca)
    assert t.line().startswith("* OK")
    lib.login_logout(t)
    lib.wait_for(lambda: ctx.dovecot.read_log()[since:].count("Login: user=<alice>") >= 2,
                 what="two logins at Dovecot")
    # The auth server saw the header the nginx configuration named.
    assert all(r["X-Auth-Key"] == "secret key" for r in ctx.auth.requests())


if __name__ == "__main__":
    lib.run([test_nginx_accepts_the_input, test_conversion_and_its_notes,
             test_converted_sections_serve_logins], setup=setup)
