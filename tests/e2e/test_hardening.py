"""Every installed program is hardened as Debian builds its packages
(configure's default, unless --disable-hardening): PIE, RELRO with
BIND_NOW (relocations read-only before main), a stack protector, and,
where glibc is linked (not the static musl programs, nor a sanitizer
build), fortified libc calls."""
import os
import re
import subprocess

import lib


def make_vars(*names):
    """What configure chose, as the Makefile has it, expanded."""
    with open(os.path.join(lib.BUILDDIR, "Makefile")) as f:
        values = dict(re.findall(r"^(\w+) = (.*)$", f.read(), re.M))

    def expand(value):
        return re.sub(r"\$[({](\w+)[)}]", lambda m: expand(values[m.group(1)]), value)
    return {name: expand(values[name]) for name in names}


class Ctx(lib.TempDir):
    def __init__(self):
        super().__init__()
        self.vars = make_vars("bindir", "sbindir", "libexecdir", "CFLAGS",
                              "CPPFLAGS", "HARDENING")
        self.dest = self("root")
        lib.make_install(self.dest)
        self.programs = []
        for d in ("bindir", "sbindir", "libexecdir"):
            top = self.dest + self.vars[d]
            for name in sorted(os.listdir(top)) if os.path.isdir(top) else []:
                path = os.path.join(top, name)
                with open(path, "rb") as f:
                    if f.read(4) == b"\x7fELF":
                        self.programs.append(path)

    def close(self):
        self.cleanup()


def setup():
    return Ctx()


def readelf(*args):
    return subprocess.run(["readelf", "-W"] + list(args), capture_output=True,
                          text=True, check=True).stdout


def test_every_program_is_pie_with_relro_and_bind_now(ctx):
    if ctx.vars.get("HARDENING") == "no":
        raise lib.Skip("configured with --disable-hardening")
    names = {os.path.basename(p) for p in ctx.programs}
    assert {"postern", "postern-text", "postern-tls", "postern-relay",
            "postern-guard-relay", "postern-stats"} <= names, names
    for p in ctx.programs:
        assert re.search(r"Type:\s+DYN", readelf("-h", p)), (p, "not PIE")
        assert "GNU_RELRO" in readelf("-l", p), (p, "no GNU_RELRO")
        dynamic = readelf("-d", p)
        assert re.search(r"\(BIND_NOW\)|\(FLAGS\)\s+BIND_NOW|\(FLAGS_1\)\s+Flags:.*\bNOW\b",
                         dynamic), (p, "no BIND_NOW", dynamic)


def test_stack_protector_and_fortified_calls(ctx):
    if ctx.vars.get("HARDENING") == "no":
        raise lib.Skip("configured with --disable-hardening")
    fortified = "_FORTIFY_SOURCE" in ctx.vars["CPPFLAGS"] + ctx.vars["CFLAGS"]
    dynamic_seen = 0
    for p in ctx.programs:
        if "INTERP" in readelf("-l", p):
            dynamic_seen += 1
            imports = set(re.findall(r"\bUND\s+([^\s@]+)", readelf("--dyn-syms", p)))
            assert "__stack_chk_fail" in imports, (p, "no stack protector")
            if fortified:
                assert any(re.fullmatch(r"__\w+_chk", s) and s != "__stack_chk_fail"
                           for s in imports), (p, "no fortified calls")
        else:
            # Static (musl): libc defines __stack_chk_fail itself, so what
            # shows the protector is the program's code calling it.
            code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", p],
                                  capture_output=True, text=True, check=True).stdout
            assert re.search(r"call\s+\S+ <__stack_chk_fail", code), (p, "no stack protector")
    assert dynamic_seen, ctx.programs


if __name__ == "__main__":
    lib.run([test_every_program_is_pie_with_relro_and_bind_now,
             test_stack_protector_and_fortified_calls], setup=setup)
