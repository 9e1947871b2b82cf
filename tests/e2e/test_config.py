"""postern -t, errors with file:line, and starting without a socket."""
import os
import re
import shutil
import subprocess

import lib


def run(*args, **kw):
    return subprocess.run([lib.POSTERN] + list(args), capture_output=True,
                          text=True, timeout=20, **kw)


def write(tmp, text):
    """A config; one that names no lookup routes through a map of its own
    (-t reads the map as a login would)."""
    path = tmp("conf-%d.conf" % lib.free_port())
    if not re.search(r"^\s*auth_(map|http)\s*=", text, re.M):
        with open(path + ".map", "w") as f:
            f.write("* 127.0.0.1:10143\n")
        # Last, so that the lines the tests name stay where they are.
        text += '\nauth_map = "%s.map"\n' % path
    with open(path, "w") as f:
        f.write(text)
    return path


def test_shipped_config_is_valid(tmp):
    """The shipped config and map, as installed: the map where the config
    names it."""
    conf = open(os.path.join(lib.SRCDIR, "conf", "postern.conf")).read()
    assert '"/etc/postern/users.map"' in conf or "auth_map" not in conf
    path = tmp("shipped.conf")
    with open(path, "w") as f:
        f.write(conf.replace("/etc/postern/users.map",
                             os.path.join(lib.SRCDIR, "conf", "users.map")))
    if "auth_map" not in conf:
        with open(path, "a") as f:
            f.write('auth_map = "%s"\n' % os.path.join(lib.SRCDIR, "conf", "users.map"))
    r = run("-t", "-c", path)
    assert r.returncode == 0, r.stderr
    assert "successful" in r.stderr


def test_the_map_is_checked_with_file_and_line(tmp):
    """A typo in the map fails -t and -A with the map's file and line, as
    nginx -t fails on a missing certificate, instead of every login
    failing later; a missing map fails too."""
    path = write(tmp, 'server s { protocol = "imap" }\n')
    with open(path + ".map", "w") as f:
        f.write("# routes\nalice@example.org 127.0.0.1:10143\n* 127.0.0.1:23143x\n")
    for mode in (["-t"], ["-A", "-a", tmp("never-active.conf")]):
        r = run(*(mode + ["-c", path]))
        assert r.returncode == 1, r.stderr
        assert '%s.map:3: "127.0.0.1:23143x" is not an address' % path in r.stderr, r.stderr
    assert not os.path.exists(tmp("never-active.conf.image"))
    os.unlink(path + ".map")
    r = run("-t", "-c", path)
    assert r.returncode == 1 and "%s.map: No such file" % path in r.stderr, r.stderr


def test_unknown_directive_names_file_and_line(tmp):
    path = write(tmp, 'server_name = "x"\n\nlisten_here = 1\n')
    r = run("-t", "-c", path)
    assert r.returncode == 1
    assert "%s:3:" % path in r.stderr and "listen_here" in r.stderr, r.stderr


def test_bad_duration_names_file_and_line(tmp):
    path = write(tmp, 'timeout = "5 parsecs"\nserver s { protocol = "imap" }\n')
    r = run("-t", "-c", path)
    assert r.returncode == 1
    assert "%s:1:" % path in r.stderr and "invalid duration" in r.stderr, r.stderr


def test_bad_values_in_server_section(tmp):
    for bad, word in [('imap_client_buffer = "12q"', "invalid size"),
                      ('imap_auth = {"gssapi"}', "unsupported method"),
                      ('protocol = "nntp"', "unknown protocol"),
                      ('listen = "99999"', "listen")]:
        path = write(tmp, 'server s {\n  protocol = "imap"\n  %s\n}\n' % bad)
        r = run("-t", "-c", path)
        assert r.returncode == 1, bad
        assert "%s:3:" % path in r.stderr and word in r.stderr, (bad, r.stderr)


def test_auth_http_name_that_does_not_resolve(tmp):
    # .invalid never resolves (RFC 6761); the error names file and line.
    path = write(tmp, 'server s {\n  protocol = "imap"\n'
                      '  auth_http = "http://auth.invalid:9000/x"\n}\n')
    r = run("-t", "-c", path)
    assert r.returncode == 1, r.stderr
    assert '%s:3: auth_http: cannot resolve "auth.invalid"' % path in r.stderr, r.stderr


def test_durations_and_sizes_as_nginx_writes_them(tmp):
    path = write(tmp, 'timeout = "1m 30s"\nproxy_timeout = "500ms"\n'
                      'auth_http_timeout = 30\nimap_client_buffer = "8k"\n'
                      'server s { protocol = "imap" }\n')
    r = run("-t", "-c", path)
    assert r.returncode == 0, r.stderr


def test_per_protocol_auth_values(tmp):
    """Each *_auth takes what its protocol does, as nginx's do."""
    for proto, good, bad in [("pop3", "apop", "login"), ("smtp", "none", "apop"),
                             ("imap", "cram-md5", "none")]:
        ok = write(tmp, 'auth_http = "http://127.0.0.1:9/a"\n'
                        '%s_auth = {"%s"}\nserver s { protocol = "%s" }\n'
                   % (proto, good, proto))
        r = run("-t", "-c", ok)
        assert r.returncode == 0, (proto, good, r.stderr)
        path = write(tmp, '%s_auth = {"%s"}\nserver s { protocol = "%s" }\n'
                     % (proto, bad, proto))
        r = run("-t", "-c", path)
        assert r.returncode == 1 and "unsupported method" in r.stderr, (proto, bad)


def test_protocol_from_well_known_listen_port(tmp):
    """As nginx: without protocol, the listen port says which."""
    path = write(tmp, 'server s { listen = "127.0.0.1:995" }\n'
                      'server t { listen = "4242" }\n')
    r = run("-t", "-c", path)
    assert r.returncode == 1 and "server t: no protocol" in r.stderr, r.stderr
    for port, greeting in [("110", "+OK POP3 ready"),
                           ("587", "220 postern.test ESMTP ready"),
                           ("143", "* OK [CAPABILITY")]:
        conf = ('error_log = "%s"\nserver_name = "postern.test"\n'
                'auth_http = "http://127.0.0.1:9/a"\n'
                'server guess { listen = "%s" }\n' % (tmp("guess.log"), port))
        p = lib.Postern(tmp, raw_conf=conf, name="guess").start()
        try:
            c = lib.Client(p.port)
            line = c.line()
            assert line.startswith(greeting), (port, line)
            c.close()
        finally:
            p.stop()


def test_tls_files_are_checked_by_postern_tls(tmp):
    """postern -t has postern-tls load what TLS sections name."""
    certs = lib.Certs(tmp)
    good = ('tls_program = "%s"\nserver s {\n listen = "993 ssl"\n'
            ' ssl_certificate = {"%s"}\n ssl_certificate_key = {"%s"}\n}\n'
            % (lib.TLS, certs.server, certs.server_key))
    r = run("-t", "-c", write(tmp, good))
    assert r.returncode == 0, r.stderr
    for bad, word in [(good.replace(certs.server_key, certs.client_key), "server s"),
                      (good.replace(certs.server, tmp("missing.pem")), "missing.pem")]:
        r = run("-t", "-c", write(tmp, bad))
        assert r.returncode == 1 and word in r.stderr and "failed" in r.stderr, r.stderr


def test_tls_program_is_run_only_from_postern_s_directory(tmp):
    """postern -t and -A run as root on a file others may edit: the
    tls_program it names is run only from the directory of postern's own
    programs, and only when no one but root can change it."""
    certs = lib.Certs(tmp)
    pkg, elsewhere = tmp("pkg"), tmp("elsewhere")
    for d in (pkg, elsewhere):
        os.makedirs(d)
        os.chmod(d, 0o755)
    for program in ("postern", "postern-text"):
        shutil.copy(os.path.join(lib.BUILDDIR, "src", program), pkg)
    marker = tmp("ran")
    for d in (pkg, elsewhere):
        with open(os.path.join(d, "tls"), "w") as f:
            f.write("#!/bin/sh\necho ran > %s\n" % marker)
        os.chmod(os.path.join(d, "tls"), 0o755)
    os.symlink(os.path.join(elsewhere, "tls"), os.path.join(pkg, "link"))
    own = os.path.join(pkg, "tls")

    def check(program, *args):
        if os.path.exists(marker):
            os.unlink(marker)
        path = write(tmp, 'tls_program = "%s"\nserver s {\n listen = "993 ssl"\n'
                          ' ssl_certificate = {"%s"}\n ssl_certificate_key = {"%s"}\n}\n'
                     % (program, certs.server, certs.server_key))
        r = subprocess.run([os.path.join(pkg, "postern")] + list(args or ["-t"]) +
                           ["-c", path], capture_output=True, text=True, timeout=20)
        return r, os.path.exists(marker)

    r, ran = check(own)
    assert r.returncode == 0 and ran, r.stderr
    refused = [(os.path.join(elsewhere, "tls"), "not in"),
               (os.path.join(pkg, "link"), "not in"),
               (own, "writable by group or others", lambda: os.chmod(own, 0o775)),
               (own, "writable by group or others", lambda: os.chmod(own, 0o757)),
               (own, pkg + ": writable by group or others",
                lambda: os.chmod(pkg, 0o777))]
    if os.geteuid() == 0:
        refused.append((own, "owned by another user",
                        lambda: os.chown(own, 65534, -1)))
    for program, reason, *change in refused:
        for change_it in change:
            change_it()
        for args in (["-t"], ["-A", "-a", tmp("active.conf")]):
            r, ran = check(program, *args)
            assert r.returncode == 1 and not ran, (program, args, r.stderr)
            assert "tls_program %s: %s" % (program, reason) in r.stderr, r.stderr
            assert "not run" in r.stderr, r.stderr
        assert not os.path.exists(tmp("active.conf"))
        os.chmod(own, 0o755)
        os.chmod(pkg, 0o755)
        if os.geteuid() == 0:
            os.chown(own, 0, -1)


def test_no_socket_exits_100(tmp):
    r = run("-c", os.path.join(lib.SRCDIR, "conf", "postern.conf"),
            stdin=subprocess.DEVNULL)
    assert r.returncode == 100, r.returncode
    assert "no socket" in r.stderr, r.stderr


def test_bad_usage_exits_100(tmp):
    r = run("-x")
    assert r.returncode == 100 and "usage" in r.stderr


def setup():
    return lib.TempDir()


def test_unreadable_config_gets_the_protocols_reply(tmp):
    """A bad edit must not drop clients in silence: each gets its
    protocol's temporary failure (nothing on a TLS socket), and the
    log says why."""
    want = {"imap": b"* BYE Service temporarily unavailable\r\n",
            "pop3": b"-ERR Service temporarily unavailable\r\n",
            "smtp": b"421 4.3.0 Service temporarily unavailable\r\n",
            "imaps": b""}
    for name, reply in want.items():
        p = lib.Postern(tmp, name=name, raw_conf='server_name = "x"\nbogus = 1\n')
        p.start()
        try:
            c = lib.Client(p.port)
            assert c.closed()
            assert c.buf == reply, (name, c.buf)
        finally:
            p.stop()


def configured(name):
    """A directory as configure set it in the build's Makefile."""
    with open(os.path.join(lib.BUILDDIR, "Makefile")) as f:
        values = dict(re.findall(r"^(\w+) = (.*)$", f.read(), re.M))
    value = values[name]
    while "${" in value:
        value = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], value)
    return value


def test_without_an_image_clients_still_get_a_reply(tmp):
    """A connection reads only the image postern -A made: without one (a
    config never activated) the client hears the protocol's temporary
    failure and the log says what to run, and the text is never read."""
    p = lib.Postern(tmp, activate=False)
    p.start()
    try:
        c = lib.Client(p.port)
        assert c.closed()
        assert c.buf == b"* BYE Service temporarily unavailable\r\n", c.buf
        err = tmp("activate-%d.err" % p.port)
        lib.wait_for(lambda: "run postern -A" in open(err).read(), what="the reason")
        assert p.conf + ".image" in open(err).read()
    finally:
        p.stop()


def test_without_postern_text_the_operator_hears_why(tmp):
    """-t and -A are postern-text's: a broken install says so."""
    alone = tmp("alone")
    os.makedirs(alone)
    shutil.copy(lib.POSTERN, alone)
    libexec = os.path.join(configured("libexecdir"), "postern-text")
    if os.path.exists(libexec):
        raise lib.Skip("%s is installed on this machine" % libexec)
    r = subprocess.run([os.path.join(alone, "postern"), "-t", "-c",
                        write(tmp, 'server s { protocol = "imap" }\n')],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 111, r
    assert "cannot run" in r.stderr and "postern-text" in r.stderr, r.stderr


if __name__ == "__main__":
    lib.run([test_shipped_config_is_valid,
             test_the_map_is_checked_with_file_and_line,
             test_unknown_directive_names_file_and_line,
             test_bad_duration_names_file_and_line,
             test_bad_values_in_server_section,
             test_auth_http_name_that_does_not_resolve,
             test_durations_and_sizes_as_nginx_writes_them,
             test_per_protocol_auth_values,
             test_protocol_from_well_known_listen_port,
             test_tls_files_are_checked_by_postern_tls,
             test_tls_program_is_run_only_from_postern_s_directory,
             test_no_socket_exits_100,
             test_bad_usage_exits_100,
             test_unreadable_config_gets_the_protocols_reply,
             test_without_an_image_clients_still_get_a_reply,
             test_without_postern_text_the_operator_hears_why],
            setup, lambda t: t.cleanup())
