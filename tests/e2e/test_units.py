"""The shipped units and xinetd entries: the sockets hand off to one
spawner each (issue 25), a flood is refused connection by connection,
never by switching the service off, and a vanished client frees its slot
in minutes (issue 9, hole 8). The booted test runs them under systemd."""
import glob
import os
import shutil
import subprocess

import lib

UNITS = os.path.join(lib.SRCDIR, "units")



class Ctx(lib.Harness):
    pass


NAMES = ["imap", "pop3", "smtp", "submission", "imaps", "pop3s", "smtps"]
TLS_NAMES = ["imaps", "pop3s", "smtps"]


def built(name):
    """A unit made at build time from units/*.in."""
    return os.path.join(lib.BUILDDIR, "units", name)


def verify(paths):
    if shutil.which("systemd-analyze"):
        r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + paths,
                           capture_output=True, text=True)
        assert "Unknown key" not in r.stderr and "Invalid" not in r.stderr, r.stderr


def test_sockets_hand_off_to_one_spawner_each(ctx):
    """Accept=no by default: the socket's own service, postern-spawn,
    accepts; a flood is refused session by session, by its limits."""
    sockets = sorted(glob.glob(os.path.join(UNITS, "*.socket")))
    assert len(sockets) == 7, sockets
    for path in sockets:
        name = os.path.basename(path)[len("postern-"):-len(".socket")]
        k = lib.settings(path)
        assert k.get("Accept") == "no", path
        assert k.get("FileDescriptorName") == name, path
        assert "Service" not in k, path     # postern-NAME.service
        assert k.get("KeepAlive") == "yes", path
        assert int(k["KeepAliveTimeSec"]) <= 600, path
        unit = built("postern-%s.service" % name)
        with open(unit) as f:
            text = f.read()
        s = lib.settings(unit)
        assert s["ExecStart"].split()[0].endswith("/postern-spawn"), unit
        assert "-m ${SESSIONS_MAX} -p ${SESSIONS_PER_SOURCE}" in s["ExecStart"], unit
        program = "/postern-tls" if name in TLS_NAMES else "/postern"
        assert s["ExecStart"].split()[5].endswith(program), unit
        env = dict(kv.split("=") for kv in s["Environment"].split())
        assert int(env["SESSIONS_MAX"]) >= int(env["SESSIONS_PER_SOURCE"]) >= 100, env
        assert int(s["TasksMax"]) > int(env["SESSIONS_MAX"]), unit
        # Restarting the spawner (an upgrade) leaves its sessions running.
        assert s["KillMode"] == "process", unit
        # One dynamic user per service, shared with its per-connection
        # units; never the package's static "postern".
        assert s["DynamicUser"] == "yes" and s["User"] == "postern-" + name, unit
        assert "StandardInput" not in s, unit
        verify([path, unit])


def test_a_unit_per_connection_stays_available(ctx):
    """postern-NAME@.service, a real unit per socket (not an alias), with
    -s NAME (systemd passes no FileDescriptorName= under Accept=yes) and the
    connection as LISTEN_FDS, so that postern logs to the journal."""
    for name in NAMES:
        unit = built("postern-%s@.service" % name)
        assert not os.path.islink(unit), unit
        s = lib.settings(unit)
        assert s["ExecStart"].endswith(" -s " + name), unit
        assert "StandardInput" not in s, unit
        assert s["User"] == "postern-" + name, unit
    k = lib.settings(os.path.join(UNITS, "per-connection.conf"))
    assert k["Accept"] == "yes"
    # systemd's trigger limit stops the socket for good; off.
    assert k["TriggerLimitIntervalSec"] == "0"
    assert int(k["MaxConnections"]) >= int(k["MaxConnectionsPerSource"]) >= 100


def test_the_gate_takes_bursts_and_may_resolve(ctx):
    s = lib.settings(built("postern-config.service"))
    assert s.get("StartLimitIntervalSec") == "0"
    assert "PrivateNetwork" not in s
    verify([built("postern-config.service"), built("postern-config.path")])


def test_xinetd_entries_refuse_per_connection(ctx):
    # Made at build time from units/*.xinetd.in, with the configured paths.
    entries = sorted(glob.glob(os.path.join(lib.BUILDDIR, "units", "*.xinetd")))
    assert len(entries) == 7, entries
    for path in entries:
        k = lib.settings(path)
        rate, pause = (int(x) for x in k["cps"].split())
        # xinetd's default of 50 a second switches the service off.
        assert rate >= int(k["instances"]) and pause <= 2, path
        assert "KEEPALIVE" in k.get("flags", "").split(), path


def test_postern_keeps_the_client_socket_alive(ctx):
    """Where no unit sets it (inetd, a container's spawner), postern does."""
    p = ctx.track(lib.Postern(ctx.tmp, map_lines=["* 127.0.0.1:%d" %
                                                  ctx.dovecot.imap_port]))
    c = lib.greet(p.port)
    r = subprocess.run(["ss", "-tnoH", "state", "established",
                        "( sport = :%d )" % p.port], capture_output=True,
                       text=True, check=True)
    assert "keepalive" in r.stdout, r.stdout
    c.close()


if __name__ == "__main__":
    lib.run([test_sockets_hand_off_to_one_spawner_each,
             test_a_unit_per_connection_stays_available,
             test_the_gate_takes_bursts_and_may_resolve,
             test_xinetd_entries_refuse_per_connection,
             test_postern_keeps_the_client_socket_alive],
            Ctx)
