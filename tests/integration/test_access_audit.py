"""The access audit of AMBER+ reads (issue 15, docs/privacy.md "Access audit").

Node A holds indicators at every TLP level. A scripted session reads them
through every path that sends objects out -- TAXII by the own org and by a
partner, a manifest, an export, a feed, the console's object page and raw
view, a search, a pull by peer B, a push to peer C, and reads the policy
denies -- and `meridian audit reads` must list exactly the AMBER, AMBER+STRICT
and RED versions that left the node, once per read, with org, token name and
path, and nothing else. The digests seal the rows as ledger leaves that
verify; a changed row is caught; retention deletes sealed rows only.
"""
import collections
import datetime
import json
import sqlite3
import subprocess

import pytest

from node import (TLP_AMBER, TLP_AMBER_STRICT, TLP_CLEAR, TLP_GREEN, TLP_RED, TOKEN_RE,
                  indicator, wait_for)
from pgcluster import on_pg
from test_fed_propagation import Fed

LEVELS = {"clear": TLP_CLEAR, "green": TLP_GREEN, "amber": TLP_AMBER,
          "amber+strict": TLP_AMBER_STRICT, "red": TLP_RED}
SENSITIVE = ("amber", "amber+strict", "red")


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def reads(n, *args):
    p = n.cli("audit", "reads", "--json", "--data", n.data, *args)
    return [json.loads(line) for line in p.stdout.splitlines()]


def settled(n, count, *args):
    """The rows once `count` of them are there: serve writes what its
    threads queued every 200 ms (audit.h), so a read is polled for, not
    slept on; more than count fails at once."""
    got = []

    def enough():
        got[:] = reads(n, *args)
        assert len(got) <= count, got
        return len(got) == count
    wait_for(enough, timeout=20)
    return got


def store_sql(n, sql):
    """Runs sql on n's store -- the SQLite file, or with MERIDIAN_TEST_STORE=pg
    the PostgreSQL database its store.dsn names (psql) -- as someone with
    the database in hand would; returns the error ("" when none)."""
    if on_pg():
        dsn = (n.data / "store.dsn").read_text().strip()
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        return p.stderr if p.returncode != 0 else ""
    db = sqlite3.connect(n.data / "meridian.db")
    try:
        db.executescript(sql)
        return ""
    except sqlite3.DatabaseError as e:
        return str(e)
    finally:
        db.close()


def session(fed):
    """A with one indicator per TLP level; B pulls from A; partner P reads
    A over TAXII; A pushes to C. Returns (a, objects by level, P's token)."""
    a = fed.node("A")
    fed.node("B")
    fed.link("A", "B", "pull")
    objs = {lvl: indicator(tlp=mark, value=f"203.0.113.{i + 1}")
            for i, (lvl, mark) in enumerate(LEVELS.items())}
    fed.post("A", list(objs.values()))
    fed.partner(a, "P")
    a.grant("P", fed.coll["A"], True, False)
    return a, objs, a.token("P")


def console_and_search(a, ids, p_tok, expect):
    # 4. the console: an AMBER object's page and raw view, a GREEN page
    for suffix in ("", "/raw"):
        r = a.get(f"/api/v1/objects/{ids['amber']}{suffix}", token=p_tok, accept=None)
        assert r.status_code == 200, r.text
    expect("P", "console", ("amber", "amber"))
    assert a.get(f"/api/v1/objects/{ids['green']}", token=p_tok, accept=None).status_code == 200
    assert a.get(f"/api/v1/objects/{ids['red']}", token=p_tok,
                 accept=None).status_code == 404  # denied
    # 5. a search by the own org: the RED indicator's value
    s = a.cli("search", "--data", a.data, "--json", "203.0.113.5")
    assert ids["red"] in s.stdout
    expect("own", "search", ("red",))


def test_audit_lists_every_amber_plus_read_and_nothing_else(fed):
    a, objs, p_tok = session(fed)
    coll, path = fed.coll["A"], a.objects_path(fed.coll["A"], a.root)
    ids = {lvl: o["id"] for lvl, o in objs.items()}
    lvl_of = {v: k for k, v in ids.items()}
    expected = collections.Counter()

    def expect(org, route, levels):
        for lvl in levels:
            expected[(ids[lvl], org, route)] += 1

    assert reads(a) == []  # nothing read yet (posting is no read)
    # 1. TAXII: the own org reads all five; the partner all but RED (denied)
    own, _ = a.page_all(path)
    assert {o["id"] for o in own} == set(ids.values())
    expect("own", "taxii", SENSITIVE)
    theirs, _ = a.page_all(path, token=p_tok)
    assert {lvl_of[o["id"]] for o in theirs} == {"clear", "green", "amber", "amber+strict"}
    expect("P", "taxii", ("amber", "amber+strict"))
    # a denied read by id, a manifest and a GREEN object by id: not recorded
    assert a.get(f"{path}{ids['red']}/", token=p_tok).status_code == 404
    assert a.get(path.replace("/objects/", "/manifest/"), token=p_tok).status_code == 200
    assert a.get(f"{path}{ids['green']}/", token=p_tok).status_code == 200
    # one AMBER object by id
    assert a.get(f"{path}{ids['amber']}/", token=p_tok).status_code == 200
    expect("P", "taxii", ("amber",))
    # 2. an export for P in a value format (what P may read)
    x = a.cli("export", "--data", a.data, "--collection", coll, "--format", "csv",
              "--as-org", "P")
    assert "203.0.113.3" in x.stdout and "203.0.113.5" not in x.stdout
    expect("P", "export", ("amber", "amber+strict"))
    # 3. a feed for P
    r = a.get(f"/api/v1/feeds/jsonl?collection={coll}", token=p_tok, accept=None)
    assert r.status_code == 200, r.text
    assert len(r.text.splitlines()) == 4
    expect("P", "feed", ("amber", "amber+strict"))
    # 4. and 5.: the console's object page and search (on either store)
    console_and_search(a, ids, p_tok, expect)
    # 6. a pull by peer B (as its partner org B on A)
    p = fed.sync("B")
    assert "pulled=4" in p.stdout, p.stdout  # RED stays home
    expect("B", "sync-pull", ("amber", "amber+strict"))

    got = settled(a, sum(expected.values()))
    seen = collections.Counter((r["object"], r["org"], r["path"]) for r in got)
    assert seen == expected, (sorted(seen.items()), sorted(expected.items()))
    # each row: TLP and version as stored, a token name, never a secret
    for r in got:
        assert r["tlp"] == lvl_of[r["object"]]
        assert r["version"].startswith("2026-01-01T00:00:00")
        assert r["token"] not in ("", "-")
        assert not TOKEN_RE.search(json.dumps(r))
    assert all(r["token"].startswith("cli:") for r in got if r["path"] in ("export", "search"))
    assert [r["id"] for r in got] == sorted(r["id"] for r in got)
    # queries by object and by org
    by_obj = reads(a, "--object", ids["amber"])
    assert len(by_obj) == sum(n for (i, _, _), n in expected.items() if i == ids["amber"])
    by_org = reads(a, "--org", "B")
    assert {(r["object"], r["path"]) for r in by_org} == {
        (ids["amber"], "sync-pull"), (ids["amber+strict"], "sync-pull")}
    future = (datetime.datetime.now(datetime.timezone.utc) +
              datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert reads(a, "--since", future) == []
    text = a.cli("audit", "reads", "--org", "P", "--data", a.data).stdout.splitlines()
    assert len(text) == sum(n for (_, o, _), n in expected.items() if o == "P")
    assert all(len(line.split("\t")) == 8 for line in text)


def stored_pages(n):
    """The n column of access_pages, in row order (SQLite file or psql)."""
    sql = "SELECT n FROM access_pages ORDER BY first"
    if on_pg():
        dsn = (n.data / "store.dsn").read_text().strip()
        p = subprocess.run(["psql", "-X", "-q", "-At", "-d", dsn, "-c", sql],
                           capture_output=True, text=True, timeout=60, check=True)
        return [int(x) for x in p.stdout.split()]
    db = sqlite3.connect(n.data / "meridian.db")
    try:
        return [r[0] for r in db.execute(sql)]
    finally:
        db.close()


def test_concurrent_pages_are_stored_merged_and_each_read_listed_once(fed):
    """serve's audit thread stores the pages of one reader that a round
    (200 ms) brings in one row (audit_write_pages): 16 page reads at once
    by two readers take fewer rows than pages, and every read is listed
    exactly once, sealed and verified."""
    import concurrent.futures
    a, objs, p_tok = session(fed)
    path = a.objects_path(fed.coll["A"], a.root)
    ids = {lvl: o["id"] for lvl, o in objs.items()}
    readers = [None] * 8 + [p_tok] * 8  # None: the own org's admin token

    def read(tok):
        r = a.get(path, token="admin" if tok is None else tok)
        assert r.status_code == 200, r.text
        return len(r.json()["objects"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(read, readers)) == [4] * 8 + [5] * 8
    expected = collections.Counter()
    for lvl in SENSITIVE:
        expected[(ids[lvl], "own")] += 8
    for lvl in ("amber", "amber+strict"):
        expected[(ids[lvl], "P")] += 8
    got = settled(a, sum(expected.values()))
    assert collections.Counter((r["object"], r["org"]) for r in got) == expected
    assert [r["id"] for r in got] == list(range(got[0]["id"], got[0]["id"] + len(got)))
    # each page whole: a page's rows are one after the other, same time
    pages = collections.defaultdict(list)
    for r in got:
        pages[(r["org"], r["time"])].append(r["object"])
    assert all(len(v) % (3 if o == "own" else 2) == 0 for (o, _), v in pages.items()), pages
    rows = stored_pages(a)
    assert sum(rows) == 40 and len(rows) < 16, rows  # merged: fewer rows than pages
    s = a.cli("audit", "seal", "--data", a.data)
    assert "sealed 40 reads in 1 digest" in s.stdout, s.stdout
    v = a.cli("audit", "verify", "--json", "--data", a.data)
    assert [json.loads(line)["status"] for line in v.stdout.splitlines()] == ["ok"]


def test_push_to_a_peer_is_audited(fed):
    a = fed.node("A")
    c = fed.node("C")
    fed.link("C", "A", "push")  # A pushes into C; C's org on A is partner "C"
    amber = indicator(tlp=TLP_AMBER, value="198.51.100.9")
    green = indicator(tlp=TLP_GREEN, value="198.51.100.10")
    fed.post("A", [amber, green])
    p = fed.sync("A")
    assert amber["id"] in fed.ids("C"), p.stdout
    got = settled(a, 1)
    assert [(r["object"], r["org"], r["path"], r["token"]) for r in got] == [
        (amber["id"], "C", "sync-push", "peer:C")]
    # C stored it (no read); the test's own TAXII read at C is one
    assert [(r["object"], r["org"], r["path"]) for r in settled(c, 1)] == [
        (amber["id"], "own", "taxii")]


def test_digests_seal_verify_and_catch_tampering(fed):
    a, objs, p_tok = session(fed)
    path = a.objects_path(fed.coll["A"], a.root)
    a.page_all(path, token=p_tok)
    a.page_all(path)
    rows = settled(a, 5)
    s = a.cli("audit", "seal", "--data", a.data)
    assert "sealed 5 reads in 1 digest" in s.stdout, s.stdout
    assert "sealed 0 reads" in a.cli("audit", "seal", "--data", a.data).stdout

    def verified():
        p = a.cli("audit", "verify", "--json", "--data", a.data)
        return [json.loads(line) for line in p.stdout.splitlines()]

    # serve's ledger thread records the digest as a leaf
    wait_for(lambda: all(d["leaf"] is not None for d in verified()), timeout=20)
    [d] = verified()
    assert (d["first"], d["last"], d["count"], d["status"]) == (
        rows[0]["id"], rows[-1]["id"], 5, "ok")
    # new reads after the seal are not sealed yet, and verify says so
    a.page_all(path)
    settled(a, 8)
    v = a.cli("audit", "verify", "--data", a.data)
    assert v.returncode == 0 and "3 reads not sealed yet" in v.stderr, v.stderr
    a.stop()
    assert a.cli("ledger", "verify", "--data", a.data).stdout.startswith("ok:")
    # the log is append-only: an update is refused, and a delete of a row
    # no digest seals
    first = rows[0]["id"]  # the first of its page: one stored row per page read
    assert "append-only" in store_sql(
        a, f"UPDATE access_pages SET org = 'nobody' WHERE first = {first}")
    assert "append-only" in store_sql(
        a, "DELETE FROM access_pages WHERE first = (SELECT MAX(first) FROM access_pages)")
    # someone with the database drops the guard and rewrites a sealed row
    drop = ("DROP TRIGGER access_pages_guard ON access_pages" if on_pg()
            else "DROP TRIGGER access_pages_no_update")
    assert store_sql(a, f"{drop}; UPDATE access_pages SET org = 'nobody' WHERE first = {first}") == ""
    v = a.cli("audit", "verify", "--data", a.data, check=False)
    assert v.returncode == 1, v.stdout + v.stderr
    assert "TAMPERED" in v.stdout and "a row was changed" in v.stdout
    assert "1 tampered" in v.stderr


def test_retention_deletes_sealed_rows_and_keeps_digests(fed):
    a, objs, p_tok = session(fed)
    path = a.objects_path(fed.coll["A"], a.root)
    a.page_all(path, token=p_tok)
    settled(a, 2)
    # within the retention nothing goes
    p = a.cli("audit", "prune", "--days", "30", "--data", a.data)
    assert "deleted 0 reads" in p.stdout
    assert len(reads(a)) == 2
    # 31 days on, the rows go (sealed first: their digest stays)
    later = (datetime.datetime.now(datetime.timezone.utc) +
             datetime.timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    p = a.cli("audit", "prune", "--days", "30", "--now", later, "--data", a.data)
    assert "deleted 2 reads" in p.stdout, p.stdout
    assert reads(a) == []
    v = a.cli("audit", "verify", "--json", "--data", a.data)
    [d] = [json.loads(line) for line in v.stdout.splitlines()]
    assert d["status"] == "pruned" and d["count"] == 2
    # the setting serve uses, read from a config file
    a.page_all(path, token=p_tok)
    settled(a, 2)
    conf = a.data / "meridian.conf"
    conf.write_text("audit-retention-days = 400\n")
    p = a.cli("audit", "prune", "--config", conf, "--now", later, "--data", a.data)
    assert "older than 400 days" in p.stdout and "deleted 0 reads" in p.stdout
    assert len(reads(a)) == 2
    bad = a.cli("audit", "prune", "--days", "0", "--data", a.data, check=False)
    assert bad.returncode == 2 and "1..36500" in bad.stderr


def test_many_pages_each_read_listed_once_also_after_erasure(fed):
    """Pages of 100 read at once by two readers, objects of one version
    (packed as runs, past the 128 one run covers) and of a version each:
    every read is listed exactly once, numbered without gaps, with its
    version and TLP; erasing an object read leaves its reads listed as they
    were (the audit keeps who read what when the data is gone), and the
    lot seals and verifies."""
    import concurrent.futures
    a = fed.node("A")
    coll = fed.coll["A"]
    path = a.objects_path(coll, a.root)
    same = [indicator(tlp=TLP_AMBER, value=f"10.1.{i // 250}.{i % 250}") for i in range(200)]
    own = [indicator(tlp=TLP_AMBER, value=f"10.2.0.{i}",
                     modified=f"2026-01-02T00:00:{i // 10:02d}.{i % 10:03d}Z")
           for i in range(100)]
    fed.post("A", same + own)
    fed.partner(a, "P")
    a.grant("P", coll, True, False)
    p_tok = a.token("P")
    version = {o["id"]: o["modified"][:-1] for o in same + own}
    readers = ["admin"] * 12 + [p_tok] * 4

    def read(tok):
        items, pages = a.page_all(path, token=tok, limit=100)
        return len(items), pages

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(read, readers)) == [(300, 3)] * 16
    expected = collections.Counter()
    for i in version:
        expected[(i, "own")] += 12
        expected[(i, "P")] += 4
    got = settled(a, 300 * 16)
    assert collections.Counter((r["object"], r["org"]) for r in got) == expected
    assert [r["id"] for r in got] == list(range(got[0]["id"], got[0]["id"] + len(got)))
    assert all(r["version"].startswith(version[r["object"]]) and r["tlp"] == "amber"
               for r in got)
    # erase one object of each kind: their reads stay, as they were read
    gone = [same[150]["id"], own[37]["id"]]
    for i in gone:
        e = a.cli("erase", "--object", i, "--reason", "test", "--data", a.data)
        assert i in e.stdout, e.stdout + e.stderr
        assert a.get(f"{path}{i}/").status_code == 404  # gone: nothing sent, nothing recorded
    for i in gone:
        rows = reads(a, "--object", i)
        assert collections.Counter(r["org"] for r in rows) == {"own": 12, "P": 4}, rows
        assert all(r["version"].startswith(version[i]) and r["tlp"] == "amber" for r in rows)
    assert len(reads(a, "--org", "P")) == 300 * 4
    assert len(reads(a)) == 300 * 16
    s = a.cli("audit", "seal", "--data", a.data)
    assert f"sealed {300 * 16} reads in 1 digest" in s.stdout, s.stdout
    v = a.cli("audit", "verify", "--json", "--data", a.data)
    assert [json.loads(line)["status"] for line in v.stdout.splitlines()] == ["ok"]
