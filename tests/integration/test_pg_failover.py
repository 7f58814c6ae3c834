"""High availability on PostgreSQL (docs/store.md, "High availability"): a
primary and a synchronous streaming-replication standby (Debian's
PostgreSQL 15, both started here on 127.0.0.1), two `meridian serve`
front-ends with a multi-host connection string
(target_session_attrs=read-write). The primary is crashed (pg_ctl stop -m
immediate) while both front-ends ingest, the standby is promoted, and the
front-ends go on writing without being restarted or reconfigured; every
object they acknowledged is on the promoted server."""
import pytest

from node import Node, TOKEN_RE, assert_taxii_error, indicator, wait_for
from pgcluster import Cluster
from pgingest import Ingest, stored_ids
from test_store_pg import second_front_end


@pytest.fixture
def pair():
    primary = Cluster().start()
    standby = None
    try:
        primary.psql("CREATE DATABASE failover")
        standby = primary.standby()
        primary.synchronous()
        yield primary, standby
    finally:
        if standby is not None:
            standby.stop()
        primary.stop(mode="immediate")


def test_front_ends_survive_a_failover_without_losing_an_acknowledged_write(
        meridian_bin, pair, tmp_path):
    primary, standby = pair
    n = pg_node(meridian_bin, primary, standby, tmp_path)
    cid = n.collection(root="api1", title="failover")
    fe = second_front_end(meridian_bin, n, tmp_path)
    n.start()
    fe.start()
    ing = None
    try:
        ing = writers = Ingest([n, fe, n, fe], cid)
        ing.wait_acks(20)
        # committed means on the standby's disk too (synchronous replication)
        primary.stop(mode="immediate", remove=False)
        before = ing.acks
        # while no server takes writes, nothing is acknowledged
        wait_for(lambda: ing.failures >= 4, timeout=60)
        assert ing.acks <= before + 4  # at most the batches committed as it died
        standby.promote()
        # no restart of the front-ends: each writes again on the new primary
        ing.wait_acks(40, timeout=120)
        acked = ing.stop()
        ing = None
        # the front-ends stayed up; a write that failed got a TAXII error
        assert n.proc.poll() is None and fe.proc.poll() is None
        for x in (n, fe):
            x.post_ok(cid, [indicator()])
        # while no server took writes: 503 with Retry-After (the pool reconnects)
        assert writers.statuses <= {503}, writers.statuses
        missing = acked - stored_ids(standby, "failover")
        assert not missing, f"{len(missing)} acknowledged objects lost: {sorted(missing)[:3]}"
        # both front-ends read on the new primary, and every acknowledged
        # object is there
        for x in (n, fe):
            got, _ = x.page_all(f"/api1/collections/{cid}/manifest/", limit=500)
            ids = {o["id"] for o in got}
            assert acked <= ids, len(acked - ids)
    finally:
        if ing is not None:
            ing.stop()
        fe.stop()
        n.stop()
    # the 503s say why: a pooled connection lost, its reconnection refused, or a new one
    # refused (which of the three depends on which connection the request took)
    logs = n.stderr() + fe.stderr()
    assert any(m in logs for m in ("connection to PostgreSQL lost",
                                   "cannot reconnect to PostgreSQL",
                                   "cannot connect to PostgreSQL")), \
        [line for line in logs.splitlines() if "status=503" in line][:5]


def pg_node(meridian_bin, primary, standby, tmp_path):
    dsn = (f"postgresql://meridian@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/failover"
           "?target_session_attrs=read-write&connect_timeout=5")
    n = Node(meridian_bin, tmp_path / "node")
    p = n.cli("init", "--data", n.data, "--org", "own", "--store", dsn)
    n.admin_token = TOKEN_RE.search(p.stdout).group(0)
    return n


def test_an_idle_front_end_answers_its_first_request_after_a_failover(meridian_bin, pair,
                                                                     tmp_path):
    """The pool's connections all point at the crashed primary: the first
    requests after the promotion find them broken before use and reconnect
    to the new primary, instead of failing once per pooled connection."""
    primary, standby = pair
    n = pg_node(meridian_bin, primary, standby, tmp_path)
    cid = n.collection(root="api1", title="idle")
    n.start()
    try:
        first = [indicator() for _ in range(8)]
        for o in first:  # several pooled connections in use
            n.post_ok(cid, [o])
        primary.stop(mode="immediate", remove=False)
        standby.promote()
        for _ in range(8):
            r = n.post(cid, [indicator()])
            assert r.status_code == 202, r.text
            r = n.get(f"/api1/collections/{cid}/objects/{first[0]['id']}/")
            assert r.status_code == 200, r.text
        got, _ = n.page_all(f"/api1/collections/{cid}/manifest/", limit=3)
        assert {o["id"] for o in first} <= {o["id"] for o in got}
    finally:
        n.stop()


def test_a_lost_database_answers_503_with_retry_after_on_every_route_until_it_is_back(
        meridian_bin, tmp_path):
    """The database stops under a running front-end: every route that
    needs it (reads, writes, the JSON API, the status resource) answers 503
    with Retry-After and a TAXII error body, not 500; once the database is
    back, the same requests succeed without restarting serve."""
    c = Cluster().start()
    n = None
    try:
        n = Node(meridian_bin, tmp_path / "node")
        p = n.cli("init", "--data", n.data, "--org", "own", "--store", c.database())
        n.admin_token = TOKEN_RE.search(p.stdout).group(0)
        cid = n.collection(root="api1", title="lost")
        n.start()
        o = indicator()
        st = n.post_ok(cid, [o])
        objs = n.objects_path(cid)
        taxii_routes = [
            objs,
            f"{objs}{o['id']}/",
            f"{objs}{o['id']}/versions/",
            f"/api1/collections/{cid}/manifest/",
            f"/api1/collections/{cid}/",
            "/api1/collections/",
            f"/api1/status/{st['id']}/",
        ]
        for path in taxii_routes:  # all answer while the database is up
            r = n.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text)
        c.stop(remove=False)
        for path in taxii_routes:
            r = n.get(path)
            e = assert_taxii_error(r, 503)
            assert r.headers.get("Retry-After", "").isdigit(), (path, r.headers)
            assert "database" in e.get("description", ""), e
        r = n.post(cid, [indicator()])
        assert_taxii_error(r, 503)
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
        r = n.req("GET", "/api/v1/session", accept="application/json")
        assert r.status_code == 503, (r.status_code, r.text)
        assert r.json().get("http_status") == 503 and r.headers.get("Retry-After"), r.text
        assert n.proc.poll() is None  # serve stayed up
        c.run()
        # the same front-end, not restarted: reads and writes work again
        o2 = indicator()
        r = n.post(cid, [o2])
        assert r.status_code == 202, r.text
        for path in taxii_routes:
            r = n.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text)
        got, _ = n.page_all(f"/api1/collections/{cid}/manifest/")
        assert {o["id"], o2["id"]} <= {x["id"] for x in got}
        assert n.req("GET", "/api/v1/session", accept="application/json").status_code == 200
    finally:
        if n is not None:
            n.stop()
        c.stop()
