"""Each folder of src/ holds one layer, and a file may include only from
its own layer and the layers below it (README, Layout). Also: GnuTLS only
in src/tls/ and postern-tls's main, libconfuse only in the text reader.
TAP: the tree as it is, then the check itself against a tree with a
planted violation, so that a check that passes everything fails here."""
import os
import re
import shutil
import sys
import tempfile

# What each folder may include besides itself. The mains at the top of
# src/ may include anything.
MAY_INCLUDE = {
    "core": set(),
    "lib": {"core"},
    "conf": {"core", "lib"},
    "lookup": {"core", "lib", "conf"},
    "relay": {"core"},
    "front": {"core", "lib", "conf", "lookup", "relay"},
    "proto": {"core", "lib", "conf", "lookup", "relay", "front"},
    "tls": {"core", "lib", "conf", "lookup", "relay", "front", "proto"},
    "tools": {"core", "lib", "conf"},
}
# System headers a layer alone may use: the file (or folder) that may.
ONLY_IN = {
    "gnutls/": ("tls/", "postern_tls.c"),
    "confuse.h": ("conf/conf_load.c",),
    "nettle/": ("relay/tls_record.", "relay/nettle_musl.c"),
}
LOCAL = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SYSTEM = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)


def problems(src):
    """Every include that breaks a rule, as a line of text."""
    where = {}          # header -> folder ("" for the top)
    files = []
    for folder, _, names in os.walk(src):
        rel = os.path.relpath(folder, src)
        rel = "" if rel == "." else rel
        for name in names:
            if name.endswith((".c", ".h")):
                where.setdefault(name, rel)
                files.append((rel, name))
    out = []
    for folder in sorted({f for f, _ in files}):
        if folder and folder not in MAY_INCLUDE:
            out.append("src/%s/: a folder with no rule" % folder)
    for folder, name in sorted(files):
        path = os.path.join(src, folder, name)
        with open(path, errors="replace") as f:
            text = f.read()
        shown = os.path.join(folder, name)
        for header in LOCAL.findall(text):
            base = os.path.basename(header)
            if base not in where:
                out.append("%s: includes %s, which is nowhere in src/" % (shown, header))
                continue
            theirs = where[base]
            if not folder or theirs == folder:
                continue
            if theirs == "":
                out.append("%s: includes %s, a program's" % (shown, header))
            elif theirs not in MAY_INCLUDE.get(folder, set()):
                out.append("%s: includes %s from %s/, which %s/ may not" %
                           (shown, header, theirs, folder))
        for header in SYSTEM.findall(text):
            for prefix, allowed in ONLY_IN.items():
                if header.startswith(prefix) and not any(
                        shown == a or shown.startswith(a) for a in allowed):
                    out.append("%s: includes <%s>, which only %s may" %
                               (shown, header, " and ".join(allowed)))
    return out


def planted(src):
    """A copy of src with one include across the rules, and one GnuTLS
    include where it may not be: the check must name both."""
    tmp = tempfile.mkdtemp(prefix="postern-layers-")
    try:
        copy = os.path.join(tmp, "src")
        shutil.copytree(src, copy, ignore=shutil.ignore_patterns("*.o", "*.a"))
        with open(os.path.join(copy, "core", "log.c"), "a") as f:
            f.write('\n#include "session.h"\n')
        with open(os.path.join(copy, "lib", "net.c"), "a") as f:
            f.write('\n#include <gnutls/gnutls.h>\n')
        return problems(copy)
    finally:
        shutil.rmtree(tmp)


def main():
    src = os.path.join(os.environ.get("POSTERN_SRCDIR",
                                      os.path.join(os.path.dirname(__file__), "..")),
                       "src")
    print("1..2")
    found = problems(src)
    print(("ok" if not found else "not ok") + " 1 - every include keeps to its layer")
    for line in found:
        print("# " + line)
    caught = planted(src)
    want = ["core/log.c: includes session.h", "lib/net.c: includes <gnutls/"]
    ok = all(any(line.startswith(w) for line in caught) for w in want)
    print(("ok" if ok else "not ok") + " 2 - a planted violation is caught")
    for line in caught:
        print("# " + line)
    sys.exit(0 if not found and ok else 1)


if __name__ == "__main__":
    main()
