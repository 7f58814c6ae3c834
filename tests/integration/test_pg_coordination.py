"""Coordination between `meridian serve` front-ends on one PostgreSQL
database (docs/store.md, "Several front-ends"): one ledger writer at a time,
chosen by an advisory lock, the others copying its leaves; when the leader
dies another takes over and the ledger keeps growing and verifies; one
federation worker per peer, with the same hand-over. (Sessions valid on
every front-end: test_store_pg.py.)"""
import re

from node import Node, indicator, wait_for
from pgcluster import pg_cluster  # noqa: F401 (fixture)
from pgingest import assert_ledger_consistent
from test_fed_propagation import Fed
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


def pulled(x):
    """What front-end x pulled from peer A so far (its own peer state)."""
    out = x.cli("peer", "list", "--data", x.data).stdout
    m = re.search(r"pulled (\d+)", out)
    assert m, out
    return int(m.group(1))


def test_one_federation_worker_per_peer(meridian_bin, pg_cluster, tmp_path):
    """Two front-ends of node B (one PostgreSQL database) both have peer A:
    only one pulls it (the other would pull every object a second time);
    when that one dies, the other takes the peer over."""
    fed = Fed(meridian_bin, tmp_path, sync_ms=300)
    try:
        fed.node("A")
        b = Node(meridian_bin, tmp_path / "B", extra_args=["--sync-interval", "300"])
        b.init(store=pg_cluster.database())
        b.root = "europe"
        fed.nodes["B"] = b
        fed.coll["B"] = b.collection(root="europe", title="B shared")
        fed.link("A", "B")
        b2 = second_front_end(meridian_bin, b, tmp_path)  # the same peer table
        b2.extra_args = list(b.extra_args)
        fed.nodes["B2"] = b2
        fed.post("A", [indicator() for _ in range(4)])
        b.start()
        wait_for(lambda: pulled(b) == 4, timeout=60, step=0.2)
        b2.start()
        # three more rounds of b while b2 runs: b2 never pulls
        for k in range(3):
            fed.post("A", [indicator() for _ in range(2)])
            wait_for(lambda: pulled(b) == 6 + 2 * k, timeout=60, step=0.2)
        assert pulled(b2) == 0
        assert len(fed.ids("B")) == 10
        # b dies: b2 takes peer A over and brings what A gets next
        b.kill9()
        fresh = [indicator() for _ in range(3)]
        fed.post("A", fresh)
        wait_for(lambda: {o["id"] for o in fresh} <= ids_on(b2, fed.coll["B"]), timeout=60,
                 step=0.2)
        assert pulled(b2) > 0
    finally:
        fed.stop()


def ids_on(x, cid):
    items, _ = x.page_all(x.objects_path(cid, "europe"))
    return {o["id"] for o in items}
