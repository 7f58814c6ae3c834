"""A throwaway PostgreSQL 15 cluster for tests that run Meridian on it.

`pg_cluster` (import it into a test module: `from pgcluster import
pg_cluster`) runs Debian's initdb in a fresh directory under $TMPDIR as an
unprivileged user (`nobody` when the tests run as root: PostgreSQL refuses
to run as root), starts the server on 127.0.0.1 on a free port with its Unix
socket in that directory, creates a database per call of `.database()` and
stops the server (pg_ctl, bounded in time) when the module's tests are done.

`Cluster.standby()` makes a streaming-replication standby of a running
cluster (pg_basebackup -R) on a port of its own, `.promote()` turns it
into the primary, `.stop(mode="immediate")` crashes a primary the way a lost
machine would, and `.kill9_postmaster()` / `.restart()` test WAL recovery.

`node_on_both_stores` is node.py's `node` fixture run twice, on SQLite and
on a PostgreSQL cluster of its own: a test module imports it (in place of
node.py's `node`) to run all its tests on both backends.

With MERIDIAN_TEST_STORE=pg the whole suite runs on PostgreSQL: every
`meridian init` a test runs (node.py's Node.init, conftest.py's run) gets
`--store` naming a new database of one cluster per test session
(`session_database()`, started at first use and stopped by conftest.py
when the session ends). Tests about SQLite's files skip there
(`sqlite_only`), and so do tests of an operation PostgreSQL does not have
yet (`pg_missing("...")`, naming it).
"""
import os
import pathlib
import pwd
import shutil
import socket
import signal
import subprocess
import tempfile
import uuid

import pytest

from node import start_node, wait_for

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
        return self.run()

    def run(self):
        """pg_ctl start of the data directory there (after start, standby or a crash)."""
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
                " -c max_connections=200")
        p = self._as_owner(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "log", "-w",
                           "-t", "60", "-o", opts, "start")
        assert p.returncode == 0, p.stdout + p.stderr + self.log()
        return self

    def standby(self):
        """A new cluster streaming from this one (pg_basebackup -R), started."""
        sb = Cluster()
        p = sb._as_owner(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", self.port, "-U",
                         "meridian", "-D", sb.data, "-R", "-X", "stream", "-c", "fast")
        assert p.returncode == 0, p.stdout + p.stderr
        return sb.run()

    def synchronous(self):
        """Every COMMIT waits until a standby has the WAL on disk (docs/store.md)."""
        self.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        self.psql("SELECT pg_reload_conf()")
        wait_for(lambda: self.psql("SELECT count(*) FROM pg_stat_replication"
                                   " WHERE sync_state = 'sync'") == "1", timeout=60)

    def promote(self):
        p = self._as_owner(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-t", "60", "promote")
        assert p.returncode == 0, p.stdout + p.stderr + self.log()

    def postmaster_pid(self):
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def server_pids(self):
        """The postmaster and every process it forked, live or not yet
        reaped: they all run in the data directory (postgres chdirs there),
        which also finds a backend forked just before the postmaster died."""
        pids = []
        for d in pathlib.Path("/proc").iterdir():
            try:
                if d.name.isdigit() and os.readlink(d / "cwd") == os.path.realpath(self.data):
                    pids.append(int(d.name))
            except OSError:  # gone meanwhile
                continue
        return pids

    def kill9_postmaster(self):
        """SIGKILL to the postmaster alone; waits until its children noticed and exited."""
        pm = self.postmaster_pid()
        os.kill(pm, signal.SIGKILL)
        wait_for(lambda: not any(_alive(x) for x in self.server_pids()), timeout=60)
        # a dead postmaster nobody reaps (a zombie: no init in a container)
        # still "exists" for the next start's lock file checks
        if os.path.exists(f"/proc/{pm}"):
            for lock in (self.data / "postmaster.pid", self.root / f".s.PGSQL.{self.port}.lock"):
                lock.unlink(missing_ok=True)

    def log(self):
        try:
            return (self.root / "log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, mode="fast", remove=True):
        self._as_owner(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60",
                       "stop")
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def uri(self, db):
        return f"postgresql://meridian@127.0.0.1:{self.port}/{db}"

    def psql(self, sql, db="postgres"):
        p = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "meridian", "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def database(self, socket=False):
        """A new empty database; returns its libpq URI (socket: through the
        Unix socket, which a process in a network namespace the test made
        still reaches, where 127.0.0.1 is the namespace's own)."""
        name = "m_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name}")
        if socket:
            return f"postgresql://meridian@/{name}?host={self.root}&port={self.port}"
        return f"postgresql://meridian@127.0.0.1:{self.port}/{name}"


def on_pg():
    """True when the suite runs on PostgreSQL (MERIDIAN_TEST_STORE=pg)."""
    return os.environ.get("MERIDIAN_TEST_STORE", "") in ("pg", "postgresql")


# A mark for tests about SQLite's own files (meridian.db, its backup, WAL):
# skipped when the suite runs on PostgreSQL.
sqlite_only = pytest.mark.skipif(
    on_pg(), reason="about the SQLite file store (MERIDIAN_TEST_STORE=pg)")

# A mark for tests whose nodes never get the suite's store (`meridian demo`
# runs its own `init`s): on PostgreSQL they would only run the SQLite pass's
# test a second time, so they skip there.
store_independent = pytest.mark.skipif(
    on_pg(), reason="its nodes are SQLite whatever MERIDIAN_TEST_STORE says: "
                    "the SQLite pass runs it")



def pg_missing(op):
    """A mark for tests of an operation the PostgreSQL store does not have
    yet (store.c answers MRD_E_UNSUPP): skipped when the suite runs on
    PostgreSQL, with the reason naming the operation. Removing these marks,
    one by one as the operations land, is the to-do list of the port:
    `grep -rn pg_missing tests/integration`."""
    return pytest.mark.skipif(
        on_pg(), reason=f"the PostgreSQL store has no {op} yet (MRD_E_UNSUPP)")


def store_sql(node, sql, pg=None):
    """Runs sql (pg instead, when given, on PostgreSQL) on node's store --
    its SQLite file, or the PostgreSQL database its store.dsn names -- and
    returns the rows, each value as text ('' for NULL)."""
    dsn = node.data / "store.dsn"
    if dsn.exists():
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                            dsn.read_text().strip(), "-c", pg or sql],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return [tuple(line.split("|")) for line in p.stdout.splitlines() if line]
    import sqlite3
    con = sqlite3.connect(node.data / "meridian.db")
    try:
        with con:
            return [tuple("" if v is None else str(v) for v in r) for r in con.execute(sql)]
    finally:
        con.close()


_session_cluster = None


def session_database(socket=False):
    """A new database of the session's cluster (started at first use)."""
    global _session_cluster
    if _session_cluster is None:
        _session_cluster = Cluster().start()
    return _session_cluster.database(socket)


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


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
