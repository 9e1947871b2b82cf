"""The shipped units and xinetd entries: a flood is refused connection by
connection, never by switching the service off, and a vanished client
frees its slot in minutes (issue 9, hole 8)."""
import glob
import os
import shutil
import subprocess

import lib

UNITS = os.path.join(lib.SRCDIR, "units")



class Ctx(lib.Harness):
    pass


def test_sockets_never_stop_under_a_flood(ctx):
    sockets = sorted(glob.glob(os.path.join(UNITS, "*.socket")))
    assert len(sockets) == 7, sockets
    for path in sockets:
        k = lib.settings(path)
        assert k.get("Accept") == "yes", path
        # systemd's trigger limit stops the socket for good; off.
        assert k.get("TriggerLimitIntervalSec") == "0", path
        assert int(k["MaxConnections"]) >= int(k["MaxConnectionsPerSource"]) > 0
        assert k.get("KeepAlive") == "yes", path
        assert int(k["KeepAliveTimeSec"]) <= 600, path
        if shutil.which("systemd-analyze"):
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True)
            assert "Unknown key" not in r.stderr, r.stderr


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
    lib.run([test_sockets_never_stop_under_a_flood,
             test_xinetd_entries_refuse_per_connection,
             test_postern_keeps_the_client_socket_alive],
            Ctx)
