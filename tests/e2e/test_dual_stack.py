"""The address-bearing tests again, in two network namespaces this test
makes: one host without IPv6, and one dual-stack host where postern's
socket listens on [::], so that an IPv4 client arrives as ::ffff:a.b.c.d
(issue 22). Whatever postern reports must be the plain IPv4 address: its
log lines, the auth server's Client-IP, Postfix's XCLIENT ADDR (which
Postfix logs and writes in Received:), and Dovecot's view through ID. An
IPv6 client on the dual-stack host stays IPv6."""
import os
import shutil
import socket
import subprocess
import sys

import lib
import test_imap_auth_http as imap_tests
import test_smtp as smtp_tests

HERE = os.path.dirname(os.path.abspath(__file__))


def no_mapped_address(ctx):
    """Nothing anyone was told carries a mapped address."""
    seen = [r.read_log() for r in ctx.running if isinstance(r, lib.Postern)]
    seen += [str(r.requests()) for r in ctx.running
             if isinstance(r, lib.AuthServer)]
    if hasattr(ctx, "postfix"):
        seen.append(ctx.postfix.read_log())
    seen.append(ctx.dovecot.read_log())
    text = "\n".join(seen)
    assert "::ffff:" not in text.lower(), [
        l for l in text.splitlines() if "::ffff:" in l.lower()][:5]
    assert "127.0.0.2" in text or "127.0.0.1" in text


def ipv6_client_stays_ipv6(ctx):
    if os.environ.get("POSTERN_TEST_LISTEN") != "[::]":
        raise lib.Skip("a host without IPv6")
    a = ctx.auth()
    p = ctx.proxy(a.url)
    c = lib.Client.over(socket.create_connection(("::1", p.port), timeout=10))
    assert c.line().startswith("* OK")
    c.send("a LOGIN alice wonderland\r\n")
    assert c.until_tag("a")[-1].startswith("a OK")
    c.send("z LOGOUT\r\n")
    c.close()
    assert a.requests()[-1]["Client-IP"] == "::1"
    assert "client=[::1]:" in p.wait_log("result=relayed")


def inner():
    """Run inside a namespace: the address-bearing tests, then the check."""
    failed = 0
    for setup, tests in (
            (imap_tests.Ctx, [imap_tests.test_headers_the_auth_server_saw,
                              ipv6_client_stays_ipv6, no_mapped_address]),
            (smtp_tests.setup, [smtp_tests.test_xclient_carries_client_address_and_login,
                                smtp_tests.test_none_mode_headers_and_delivery,
                                no_mapped_address])):
        ctx = setup()
        try:
            for t in tests:
                try:
                    t(ctx)
                    print("# %s: ok" % t.__name__, flush=True)
                except lib.Skip as why:
                    print("# %s: skipped (%s)" % (t.__name__, why), flush=True)
                except Exception as e:
                    failed += 1
                    print("# %s: FAILED %r" % (t.__name__, e), flush=True)
                    for line in ctx.dump().splitlines()[-30:]:
                        print("#   " + line)
        finally:
            ctx.close()
    sys.exit(1 if failed else 0)


def host(name, ipv6):
    """A network namespace with only its loopback, IPv6 on it or not."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        raise lib.Skip("network namespaces need root and iproute2")
    ns = "postern-%d-%s" % (os.getpid(), name)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    run = ["ip", "netns", "exec", ns]
    subprocess.run(run + ["ip", "link", "set", "lo", "up"], check=True)
    for key in ("all", "default", "lo"):
        subprocess.run(run + ["sysctl", "-q", "-w",
                              "net.ipv6.conf.%s.disable_ipv6=%d" % (key, not ipv6)],
                       check=True)
    return ns


def in_namespace(name, ipv6, listen):
    ns = host(name, ipv6)
    try:
        env = dict(os.environ, POSTERN_TEST_LISTEN=listen)
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable,
                            os.path.join(HERE, "test_dual_stack.py"), "--inner"],
                           env=env, capture_output=True, text=True, timeout=600)
        print(r.stdout, end="")
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        if ipv6:
            assert "ipv6_client_stays_ipv6: ok" in r.stdout, r.stdout
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def test_host_without_ipv6():
    in_namespace("v4", False, "0.0.0.0")


def test_dual_stack_host():
    in_namespace("v6", True, "[::]")


if __name__ == "__main__":
    if sys.argv[1:] == ["--inner"]:
        inner()
    lib.run([test_host_without_ipv6, test_dual_stack_host])
