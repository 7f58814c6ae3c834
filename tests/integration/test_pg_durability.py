"""kill -9 on PostgreSQL (docs/store.md, "High availability"; docs/operations.md):
a front-end killed during ingest, and the PostgreSQL postmaster killed
during ingest and started again (WAL recovery). Every object acknowledged
(202, all successes) is stored afterwards, and the ledger records each
stored version once and verifies against its signed checkpoint."""
from node import indicator, wait_for
from pgcluster import pg_cluster  # noqa: F401 (fixture)
from pgingest import Ingest, assert_ledger_consistent, stored_ids
from test_store_pg import pg_node


def test_kill9_of_a_front_end_during_ingest_loses_nothing_acknowledged(meridian_bin, pg_cluster,
                                                                       tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="kill front-end")
    n.start()
    ing = Ingest([n, n, n], cid)
    try:
        ing.wait_acks(30)
        n.kill9()
        wait_for(lambda: ing.failures >= 3, timeout=60)
        n.start()  # the same front-end again: its ledger catches up
        ing.wait_acks(30)
    finally:
        acked = ing.stop()
    missing = acked - stored_ids(pg_cluster, db)
    assert not missing, f"{len(missing)} acknowledged objects lost"
    assert None in ing.statuses  # the kill cut requests off: the test did kill mid-ingest
    n.post_ok(cid, [indicator()])
    assert_ledger_consistent(n, pg_cluster, db)


def test_kill9_of_postgres_during_ingest_loses_nothing_acknowledged(meridian_bin, pg_cluster,
                                                                    tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="kill postgres")
    n.start()
    ing = Ingest([n, n, n], cid)
    try:
        ing.wait_acks(30)
        pg_cluster.kill9_postmaster()
        wait_for(lambda: ing.failures >= 3, timeout=60)
        pg_cluster.run()  # crash recovery replays the WAL
        # the front-end was not restarted: it reconnects by itself
        ing.wait_acks(30)
    finally:
        acked = ing.stop()
    assert n.proc.poll() is None
    assert ing.statuses <= {500}, ing.statuses
    missing = acked - stored_ids(pg_cluster, db)
    assert not missing, f"{len(missing)} acknowledged objects lost"
    assert "recovery" in pg_cluster.log() or "not properly shut down" in pg_cluster.log()
    assert_ledger_consistent(n, pg_cluster, db)
