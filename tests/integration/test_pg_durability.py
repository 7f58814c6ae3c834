"""kill -9 on PostgreSQL (docs/store.md, "High availability"; docs/operations.md):
a front-end killed during ingest, and the PostgreSQL postmaster killed
during ingest and started again (WAL recovery). Every object acknowledged
(202, all successes) is stored afterwards, and the ledger records each
stored version once and verifies against its signed checkpoint."""
from node import indicator, wait_for
from pgcluster import pg_cluster  # noqa: F401 (fixture)
from pgingest import Ingest, assert_ledger_consistent, stored_ids
from test_store_pg import pg_node


def crash_during_ingest(meridian_bin, pg_cluster, tmp_path, crash, recover):
    """Three writers post through one front-end; crash() while they do, the
    writers see failures, recover(); the writers go on until 30 more
    batches are acknowledged. Returns (node, database, ingest, collection)
    once every acknowledged object was found stored."""
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="crash")
    n.start()
    ing = Ingest([n, n, n], cid)
    try:
        ing.wait_acks(30)
        crash(n)
        wait_for(lambda: ing.failures >= 3, timeout=60)
        recover(n)
        ing.wait_acks(30)
    finally:
        acked = ing.stop()
    missing = acked - stored_ids(pg_cluster, db)
    assert not missing, f"{len(missing)} acknowledged objects lost"
    return n, db, ing, cid


def test_kill9_of_a_front_end_during_ingest_loses_nothing_acknowledged(meridian_bin, pg_cluster,
                                                                       tmp_path):
    # the same front-end again after the kill: its ledger catches up
    n, db, ing, cid = crash_during_ingest(meridian_bin, pg_cluster, tmp_path,
                                          lambda n: n.kill9(), lambda n: n.start())
    assert None in ing.statuses  # the kill cut requests off: the test did kill mid-ingest
    n.post_ok(cid, [indicator()])
    assert_ledger_consistent(n, pg_cluster, db)


def test_kill9_of_postgres_during_ingest_loses_nothing_acknowledged(meridian_bin, pg_cluster,
                                                                    tmp_path):
    # crash recovery replays the WAL; the front-end is not restarted: it
    # reconnects by itself
    n, db, ing, _ = crash_during_ingest(meridian_bin, pg_cluster, tmp_path,
                                        lambda n: pg_cluster.kill9_postmaster(),
                                        lambda n: pg_cluster.run())
    assert n.proc.poll() is None
    # while the database was down: 503 with Retry-After, never a 500
    assert ing.statuses <= {503}, ing.statuses
    assert "not properly shut down" in pg_cluster.log() or "recovery" in pg_cluster.log()
    assert_ledger_consistent(n, pg_cluster, db)
