"""`meridian import` into a node on PostgreSQL (docs/store.md, "PostgreSQL"):
the existence check of a batched write (store_obj.c, find_fresh) tells new
ids from held ones, and answers by index look-ups even on a young table
that no ANALYZE has seen (issue #16: it read the whole collection for each
look-up there, a second per call at 100,000 objects)."""
import json

from node import indicator, wait_for
from pgcluster import pg_cluster  # noqa: F401 (fixture)
from test_store_pg import pg_node

N = 900  # fewer than store_pg.c writes before it looks at the statistics (PG_ANALYZE_STEP)


def objects_reads(pg, db):
    """Rows of objects read so far other than by id: by sequential scans,
    and through every index but objects_version (collection, stix_id,
    version) and the primary key (seq) -- objects_added, objects_type: the
    collection's rows in date order, which an existence check has no need
    of. Read once every backend of db has ended, so that all of them have
    reported their counts. (`meridian import` only: a `serve` has readers
    of its own in the background.)"""
    wait_for(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             f"'{db}' AND pid <> pg_backend_pid()") == "0", timeout=30)
    by_index = ("SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE relname ="
                " 'objects' AND indexrelname NOT IN ('objects_version', 'objects_pkey')")
    by_seq = "SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'objects'"
    return int(pg.psql(f"SELECT ({by_index}) + ({by_seq})", db))


def test_importing_twice_adds_nothing_and_never_scans_the_collection(meridian_bin, pg_cluster,
                                                                     tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    n.collection(root="api1", title="imported", alias="ioc")
    # a young table, kept young: autovacuum's ANALYZE would hide a plan that
    # only statistics save
    pg_cluster.psql("ALTER TABLE objects SET (autovacuum_enabled = false)", db)
    objs = [indicator(value=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}") for i in range(N)]
    f = tmp_path / "bundle.json"
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--8f1c2a9e-2b1d-4c3e-9f4a-5b6c7d8e9f00",
                             "objects": objs}))

    p = n.cli("import", "--data", n.data, "--collection", "api1/ioc", f)
    assert f"{N} objects: {N} added, 0 already present, 0 invalid" in p.stderr + p.stdout, \
        p.stderr
    assert pg_cluster.psql("SELECT reltuples < 0 FROM pg_class WHERE relname = 'objects'",
                           db) == "t"  # never analyzed: the planner guesses
    before = objects_reads(pg_cluster, db)

    # the same objects again: every id is found, nothing is added ...
    p = n.cli("import", "--data", n.data, "--collection", "api1/ioc", f)
    assert f"{N} objects: 0 added, {N} already present, 0 invalid" in p.stderr + p.stdout, \
        p.stderr
    # ... by index look-ups of the ids: a look-up that reads the collection
    # (through objects_added, objects_type or a sequential scan, as it did
    # before) reads its N rows per call
    read = objects_reads(pg_cluster, db) - before
    assert read < N // 2, f"the second import read {read} rows of the collection's {N}"
    assert pg_cluster.psql("SELECT count(*), count(DISTINCT stix_id) FROM objects", db) == \
        f"{N}|{N}"

    # one new object among the held ones: only it is added
    extra = indicator(value="192.0.2.1")
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--8f1c2a9e-2b1d-4c3e-9f4a-5b6c7d8e9f01",
                             "objects": objs[:10] + [extra]}))
    p = n.cli("import", "--data", n.data, "--collection", "api1/ioc", f)
    assert "11 objects: 1 added, 10 already present, 0 invalid" in p.stderr + p.stdout, p.stderr
    assert pg_cluster.psql(f"SELECT count(*) FROM objects WHERE stix_id = '{extra['id']}'",
                           db) == "1"
    assert pg_cluster.psql("SELECT count(*) FROM objects", db) == str(N + 1)
    # none of these imports wrote PG_ANALYZE_STEP versions: still never analyzed
    assert pg_cluster.psql("SELECT reltuples < 0 FROM pg_class WHERE relname = 'objects'",
                           db) == "t"

    # an import that does (1,200 new versions) analyzes the table it has
    # more than doubled, autovacuum or not
    more = [indicator(value=f"10.9.{i >> 8}.{i & 255}") for i in range(1200)]
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--8f1c2a9e-2b1d-4c3e-9f4a-5b6c7d8e9f02",
                             "objects": more}))
    p = n.cli("import", "--data", n.data, "--collection", "api1/ioc", f)
    assert "1200 objects: 1200 added" in p.stderr + p.stdout, p.stderr
    assert int(float(pg_cluster.psql(
        "SELECT reltuples FROM pg_class WHERE relname = 'objects'", db))) >= N + 1000

