"""Coordination between `meridian serve` front-ends on one PostgreSQL
database (docs/store.md, "Several front-ends"): one ledger writer at a time,
chosen by an advisory lock, the others copying its leaves; when the leader
dies another takes over and the ledger keeps growing and verifies. (Sessions
valid on every front-end: test_store_pg.py.)"""
from node import indicator, wait_for
from pgcluster import pg_cluster  # noqa: F401 (fixture)
from pgingest import assert_ledger_consistent
from test_store_pg import pg_node, second_front_end

LEAVES = ("SELECT (SELECT count(*) FROM object_leaves) +"
          " (SELECT count(*) FROM ledger_events WHERE leaf IS NOT NULL)")
TOP = ("SELECT COALESCE(max(leaf), -1) + 1 FROM (SELECT leaf FROM object_leaves UNION ALL"
       " SELECT leaf FROM ledger_events WHERE leaf IS NOT NULL) x")


def checkpoint(x):
    """The front-end's ledger head signed now: (size, root), from its note."""
    r = x.req("POST", "/ledger/v1/checkpoint", accept="*/*")
    assert r.status_code in (200, 201), r.text
    r = x.req("GET", "/ledger/v1/checkpoint", accept="*/*")
    assert r.status_code == 200, r.text
    lines = r.text.split("\n")
    return int(lines[1]), lines[2]


def all_recorded(cluster, db):
    return cluster.psql("SELECT (SELECT count(*) FROM objects) -"
                        " (SELECT count(*) FROM object_leaves)", db) == "0"


def test_one_ledger_writer_and_hand_over_when_it_dies(meridian_bin, pg_cluster, tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="ledger leader")
    fe = second_front_end(meridian_bin, n, tmp_path)
    n.start()
    try:
        # n, alone, takes the ledger's advisory lock; then fe starts
        wait_for(lambda: pg_cluster.psql("SELECT count(*) FROM pg_locks WHERE"
                                         " locktype = 'advisory' AND granted AND database ="
                                         " (SELECT oid FROM pg_database WHERE datname = current_database())", db) == "1",
                 timeout=30)
        fe.start()
        for i in range(10):
            (n if i % 2 else fe).post_ok(cid, [indicator() for _ in range(3)])
        wait_for(lambda: all_recorded(pg_cluster, db), timeout=60)
        # one writer: every leaf number used once, none skipped (two writers
        # would each append every version and record it twice)
        assert pg_cluster.psql(LEAVES, db) == pg_cluster.psql(TOP, db)
        # the follower copied the leader's leaves: the same tree on both
        size = int(pg_cluster.psql(TOP, db))
        wait_for(lambda: checkpoint(fe)[0] == size and checkpoint(n)[0] == size, timeout=30)
        assert checkpoint(fe) == checkpoint(n)
        # the leader dies; the other front-end takes over and records what
        # comes in next
        n.kill9()
        for _ in range(10):
            fe.post_ok(cid, [indicator() for _ in range(3)])
        wait_for(lambda: all_recorded(pg_cluster, db), timeout=60)
        assert pg_cluster.psql(LEAVES, db) == pg_cluster.psql(TOP, db)
        assert int(pg_cluster.psql(TOP, db)) >= size + 30
        # the old leader comes back as a follower and catches up
        n.start()
        size = int(pg_cluster.psql(TOP, db))
        wait_for(lambda: checkpoint(n)[0] == size, timeout=30)
        assert checkpoint(n) == checkpoint(fe)
        n.stop()
    finally:
        n.stop()
        if fe.proc is not None and fe.proc.poll() is not None:
            fe.proc = None
    assert_ledger_consistent(fe, pg_cluster, db)
