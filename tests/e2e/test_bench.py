"""bench/compare --quick, as a smoke run: the benchmark must keep
working (it is not in the timed tests; its figures live in
doc/performance.md). Every target's sessions must succeed, and every
figure of the table must be measured, not left empty."""
import os
import re
import subprocess

import lib

ROWS = 11


def run_bench(tmp):
    out = tmp("table.md")
    r = subprocess.run(
        ["python3", os.path.join(lib.SRCDIR, "bench", "compare"), "--quick",
         "--markdown", out],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, POSTERN_BUILDDIR=lib.BUILDDIR))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    with open(out) as f:
        return f.read(), r.stdout


def cells(table):
    rows = [line.split("|")[1:-1] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| metric")]
    return [[c.strip() for c in row] for row in rows]


def number(text):
    assert re.fullmatch(r"[0-9]+(\.[0-9]+)?", text), text
    return float(text)


def test_the_table_is_measured_whole():
    tmp = lib.TempDir()
    try:
        table, stdout = run_bench(tmp)
    finally:
        tmp.cleanup()
    assert "FAILED" not in stdout
    rows = cells(table)
    assert len(rows) == ROWS, table
    for label, nginx, floor, postern, *_ in rows:
        # Every figure is there; a quick run's CPU per GB may round to 0
        # (a 2 MB FETCH is under a clock tick).
        number(nginx)
        number(postern)
        if "s/GB" not in label and "Private_Dirty" not in label:
            assert number(postern) > 0 and number(nginx) > 0, label
        if not label.startswith("IMAPS"):
            number(floor)
    assert re.search(r"\d+ round\(s\) in \d+ s", table)


if __name__ == "__main__":
    lib.run([test_the_table_is_measured_whole])
