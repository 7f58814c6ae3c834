"""A throwaway PostgreSQL 15 cluster for tests that run Meridian on it.

`pg_cluster` (import it into a test module: `from pgcluster import
pg_cluster`) runs Debian's initdb in a fresh directory under $TMPDIR as an
unprivileged user (`nobody` when the tests run as root: PostgreSQL refuses
to run as root), starts the server on 127.0.0.1 on a free port with its Unix
socket in that directory, creates a database per call of `.database()` and
stops the server (pg_ctl, bounded in time) when the module's tests are done.

`node_on_both_stores` is node.py's `node` fixture run twice, on SQLite and
on a PostgreSQL cluster of its own: a test module imports it (in place of
node.py's `node`) to run all its tests on both backends.

With MERIDIAN_TEST_STORE=pg the whole suite runs on PostgreSQL: every
`meridian init` a test runs (node.py's Node.init, conftest.py's run) gets
`--store` naming a new database of one cluster per test session
(`session_database()`, started at first use and stopped by conftest.py
when the session ends). Tests about SQLite's files skip there
(`sqlite_only`).
"""
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

from node import start_node

PG_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="meridian-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "nobody"
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _as_owner(self, *cmd, timeout=120):
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(prefix + [str(c) for c in cmd], capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)

    def start(self):
        p = self._as_owner(PG_BIN / "initdb", "-D", self.data, "-U", "meridian", "-A", "trust",
                           "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
        assert p.returncode == 0, p.stdout + p.stderr
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
                " -c max_connections=200")
        p = self._as_owner(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "log", "-w",
                           "-t", "60", "-o", opts, "start")
        assert p.returncode == 0, p.stdout + p.stderr + self.log()
        return self

    def log(self):
        try:
            return (self.root / "log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        self._as_owner(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60",
                       "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql, db="postgres"):
        p = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "meridian", "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def database(self):
        """A new empty database; returns its libpq URI."""
        name = "m_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name}")
        return f"postgresql://meridian@127.0.0.1:{self.port}/{name}"


def on_pg():
    """True when the suite runs on PostgreSQL (MERIDIAN_TEST_STORE=pg)."""
    return os.environ.get("MERIDIAN_TEST_STORE", "") in ("pg", "postgresql")


# A mark for tests about SQLite's own files (meridian.db, its backup, WAL):
# skipped when the suite runs on PostgreSQL.
sqlite_only = pytest.mark.skipif(
    on_pg(), reason="about the SQLite file store (MERIDIAN_TEST_STORE=pg)")

_session_cluster = None


def session_database():
    """A new database of the session's cluster (started at first use)."""
    global _session_cluster
    if _session_cluster is None:
        _session_cluster = Cluster().start()
    return _session_cluster.database()


def stop_session_cluster():
    global _session_cluster
    if _session_cluster is not None:
        _session_cluster.stop()
        _session_cluster = None


def init_args(args):
    """args of a `meridian ...` run, with `--store` added to an `init`
    without one when the suite runs on PostgreSQL."""
    args = [str(a) for a in args]
    if on_pg() and args and args[0] == "init" and "--store" not in args \
            and "--help" not in args and "-h" not in args:
        args += ["--store", session_database()]
    return args


@pytest.fixture(scope="module")
def pg_cluster():
    c = Cluster().start()
    yield c
    c.stop()


@pytest.fixture(scope="module", name="node", params=["sqlite", "postgresql"])
def node_on_both_stores(request, tmp_path_factory, meridian_bin):
    if request.param == "sqlite":
        n = start_node(meridian_bin, tmp_path_factory.mktemp("node"))
        yield n
        n.stop()
        return
    c = Cluster().start()
    try:
        n = start_node(meridian_bin, tmp_path_factory.mktemp("node"), store=c.database())
        yield n
        n.stop()
    finally:
        c.stop()
