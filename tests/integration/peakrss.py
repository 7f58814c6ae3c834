"""A child's own peak RSS, measured by GNU time (Debian's `time`, installed by
scripts/bootstrap).

os.wait4's ru_maxrss cannot give it: a child started from the test process
records, at its exec, the peak RSS of the address space it left, which is
the test process's own (hundreds of MB late in a session), so a bound on
it fails or passes with the session, not with the program. /usr/bin/time
is small; the program it runs is forked from it."""
from pathlib import Path

TIME = "/usr/bin/time"


def wrap(cmd, report):
    """cmd run under GNU time, which writes the peak RSS (KiB) to report;
    the exit code is cmd's."""
    return [TIME, "-o", str(report), "-f", "%M", *[str(c) for c in cmd]]


def read(report):
    """The peak RSS in KiB written by wrap's GNU time (its last line: a
    'Command exited with non-zero status' line may come first)."""
    return int(Path(report).read_text().split()[-1])
