"""What is acknowledged was synced first, seen from outside the process: the
LD_PRELOAD shim tests/shim/fsync_log.c (built next to the binary under test)
records every fsync/fdatasync, and the writes to the files a test names,
with CLOCK_MONOTONIC times. A store that stopped syncing its commits
(SQLite `synchronous=OFF`, or `NORMAL`, which in WAL mode does not sync at
commit) or a ledger that stopped fdatasync()ing its appends fails here,
although no other test can see a missing fsync."""
import os
import pathlib
import time

import pytest

from node import indicator, start_node
from pgcluster import sqlite_only


@pytest.fixture(scope="module")
def shim(meridian_bin):
    path = pathlib.Path(meridian_bin).resolve().parent / "tests" / "shim" / "libfsync_log.so"
    assert path.is_file(), f"{path}: build the tests (meson -Dtests=true) next to the binary"
    return str(path)


def records(log):
    """[(ns, call, path)] from the shim's log."""
    out = []
    for line in pathlib.Path(log).read_text().splitlines():
        ns, call, path = line.split(" ", 2)
        out.append((int(ns), call, path))
    return out


@sqlite_only  # watches meridian.db's fsyncs (PostgreSQL: test_pg_durability.py)
def test_a_post_is_synced_before_its_202(tmp_path, meridian_bin, shim, monkeypatch):
    log = tmp_path / "sync.log"
    monkeypatch.setenv("LD_PRELOAD", shim)
    monkeypatch.setenv("FSYNC_LOG", str(log))
    n = start_node(meridian_bin, tmp_path / "node")
    try:
        cid = n.collection()
        db = str(n.data / "meridian.db")
        for _ in range(3):
            t0 = time.monotonic_ns()
            n.post_ok(cid, [indicator()])
            t1 = time.monotonic_ns()
            synced = [r for r in records(log) if t0 < r[0] < t1 and r[1] in ("fsync", "fdatasync")
                      and r[2] in (db, db + "-wal")]
            assert synced, ("no fsync of the store between the POST and its 202",
                            [r for r in records(log) if t0 < r[0] < t1])
    finally:
        n.stop()
    # the shim saw the process at all (the premise of the check above)
    assert any(r[2].startswith(str(n.data)) for r in records(log))


def test_a_ledger_append_is_synced_before_it_counts(tmp_path, meridian_bin, shim):
    import subprocess
    log = tmp_path / "sync.log"
    (tmp_path / "obj").write_text('{"id":"indicator--1"}')
    env = dict(os.environ, LD_PRELOAD=shim, FSYNC_LOG=str(log), FSYNC_LOG_WRITES="/ledger/log")
    for i in range(3):
        p = subprocess.run([meridian_bin, "ledger", "append", "--dir", tmp_path / "ledger",
                            "--file", tmp_path / "obj"], env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == f"leaf {i}"
    path = str(tmp_path / "ledger" / "log")
    seq = [r[1] for r in records(log) if r[2] == path]
    writes = [k for k, c in enumerate(seq) if c in ("pwrite", "write")]
    assert len(writes) >= 3, seq  # every append wrote its leaf
    # each write is followed by an fdatasync/fsync of the log before the
    # next write (the leaf becomes durable, then counts)
    for k, w in enumerate(writes):
        nxt = writes[k + 1] if k + 1 < len(writes) else len(seq)
        assert any(c in ("fdatasync", "fsync") for c in seq[w + 1:nxt]), (w, seq)
