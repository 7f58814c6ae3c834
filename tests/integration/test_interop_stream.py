"""STIX bundles read as a stream by `meridian import` and `meridian validate`
(issue 12, "Large files on a small machine"; docs/interop.md): "objects"
before "type", a bundle far larger than the memory bound, a truncated file,
a bad object in the middle, a depth bomb, and --repair on the stream."""
import json
import os
import subprocess
import uuid

import pytest

from node import start_node
from pgcluster import sqlite_only, store_sql
import peakrss

BUNDLE_ID = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"
RSS_LIMIT_KIB = 256 * 1024


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("stream"), http=False)
    yield n
    n.stop()


def indicator(i, **extra):
    o = {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"stream-{i}")),
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "pattern": f"[ipv4-addr:value = '198.51.{i // 250 % 250}.{i % 250 + 1}']",
         "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00.000Z"}
    o.update(extra)
    return o


def stored_ids(node, coll):
    out = node.cli("export", "--data", node.data, "--collection", coll, "--format", "jsonl",
                   "--all").stdout
    return {json.loads(line)["id"] for line in out.splitlines() if line.strip()}


def import_(node, coll, *args):
    return node.cli("import", "--data", node.data, "--collection", coll, *args, check=False)


def test_objects_before_type(node, tmp_path):
    """A bundle whose "objects" comes before "type" and "id": every object is
    imported, and validate says it is a valid bundle."""
    coll = node.collection()
    objs = [indicator(i) for i in range(5)]
    f = tmp_path / "late-type.json"
    f.write_text('{"objects": ' + json.dumps(objs) + ', "id": "' + BUNDLE_ID +
                 '", "type": "bundle"}')
    p = import_(node, coll, f)
    assert p.returncode == 0, p.stderr
    assert "5 objects: 5 added" in p.stderr, p.stderr
    assert stored_ids(node, coll) == {o["id"] for o in objs}
    v = node.cli("validate", f, check=False)
    assert v.returncode == 0, v.stdout
    assert "valid (bundle, 5 objects): 0 errors" in v.stdout, v.stdout
    # the same bundle with a bad bundle id given last: still checked
    g = tmp_path / "late-bad-id.json"
    g.write_text('{"objects": ' + json.dumps(objs) + ', "type": "bundle", "id": "bundle--x"}')
    v = node.cli("validate", g, check=False)
    assert v.returncode == 1 and "$.id: id-format" in v.stdout, v.stdout
    # and a type that is not "bundle" after a list of objects is an error
    h = tmp_path / "late-object.json"
    h.write_text('{"objects": ' + json.dumps(objs[:1]) + ', "type": "x-thing"}')
    v = node.cli("validate", h, check=False)
    assert v.returncode == 1 and "not-a-document" in v.stdout, v.stdout


def test_bad_object_in_the_middle(node, tmp_path):
    """Objects 2 (not JSON) and 3 (invalid STIX) are named with their index,
    id and byte offset; the objects around them are stored."""
    coll = node.collection()
    good = [indicator(100 + i) for i in range(6)]
    bad_stix = indicator(200)
    del bad_stix["pattern"]
    texts = [json.dumps(good[0]), json.dumps(good[1]), '{"type": "indicator", "id": tru}',
             json.dumps(bad_stix), json.dumps(good[2]), json.dumps(good[3])]
    body = '{"type": "bundle", "id": "' + BUNDLE_ID + '", "objects": [' + ",\n".join(texts) + "]}"
    f = tmp_path / "middle.json"
    f.write_text(body)
    off2 = body.index(texts[2])
    off3 = body.index(texts[3])
    p = import_(node, coll, f)
    assert p.returncode == 1, p.stderr
    assert f"object 2 at byte {off2} is not JSON" in p.stderr, p.stderr
    assert f"object 3 at byte {off3} {bad_stix['id']} is invalid" in p.stderr, p.stderr
    assert "6 objects: 4 added, 0 already present, 2 invalid" in p.stderr, p.stderr
    assert stored_ids(node, coll) == {good[i]["id"] for i in range(4)}
    v = node.cli("validate", f, check=False)
    assert v.returncode == 1
    assert f"$.objects[2]: json-syntax" in v.stdout and f"byte {off2}" in v.stdout, v.stdout
    assert "$.objects[3]: required-property" in v.stdout, v.stdout


def test_truncated_file_keeps_what_was_read(node, tmp_path):
    coll = node.collection()
    objs = [indicator(300 + i) for i in range(10)]
    body = json.dumps({"type": "bundle", "id": BUNDLE_ID, "objects": objs})
    cut = body.index(objs[7]["id"]) + 10  # inside object 7
    f = tmp_path / "truncated.json"
    f.write_text(body[:cut])
    p = import_(node, coll, f)
    assert p.returncode == 1, p.stderr
    assert f"the document is truncated: it ends at byte {cut} inside element 7" in p.stderr, \
        p.stderr
    # the objects waiting to be stored are counted before the error is told
    assert "objects read before it: 7" in p.stderr, p.stderr
    assert "7 objects: 7 added" in p.stderr, p.stderr
    assert stored_ids(node, coll) == {o["id"] for o in objs[:7]}
    v = node.cli("validate", f, check=False)
    assert v.returncode == 1 and "INVALID (not JSON): the document is truncated" in v.stdout


def test_depth_bomb(node, tmp_path, meridian_bin):
    """An object nested a million levels deep: a clear error at once, in
    little memory; the object before it is stored."""
    coll = node.collection()
    first = indicator(400)
    f = tmp_path / "bomb.json"
    head = '{"type": "bundle", "id": "' + BUNDLE_ID + '", "objects": [' + json.dumps(first) + ", "
    f.write_text(head + '{"a": ' + "[" * 1000000 + "]" * 1000000 + "}]}")
    p = import_(node, coll, f)
    assert p.returncode == 1, p.stderr
    assert f"element 1 at byte {len(head)} is nested deeper than 64 levels" in p.stderr, p.stderr
    assert stored_ids(node, coll) == {first["id"]}
    v = node.cli("validate", f, check=False)
    assert v.returncode == 1 and "nested deeper than 64 levels" in v.stdout, v.stdout


def test_repair_on_the_stream(node, tmp_path):
    coll = node.collection()
    broken = indicator(500, labels=[], external_references=[])
    f = tmp_path / "repair.json"
    f.write_text('{"objects": [' + json.dumps(indicator(501)) + ", " + json.dumps(broken) +
                 '], "type": "bundle", "id": "' + BUNDLE_ID + '"}')
    p = import_(node, coll, f)
    assert p.returncode == 1 and "--repair would fix this object" in p.stderr, p.stderr
    p = import_(node, coll, "--repair", f)
    assert p.returncode == 0, p.stderr
    assert f"object 1 {broken['id']} repaired (2 changes)" in p.stderr, p.stderr
    assert broken["id"] in stored_ids(node, coll)


def measured(cmd, tmp_path, timeout):
    """Runs cmd; returns its exit code, stdout, stderr and its own peak RSS in
    KiB (peakrss.py)."""
    env = dict(os.environ)
    # under AddressSanitizer, freed memory waits in a 256 MB quarantine by
    # default: that is the sanitizer's memory, not the program's
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        proc = subprocess.Popen(peakrss.wrap(cmd, tmp_path / "rss"), stdout=out, stderr=err,
                                env=env)
        try:
            proc.wait(timeout)
        finally:
            if proc.returncode is None:
                proc.kill()
                proc.wait(timeout)
    return (proc.returncode, (tmp_path / "out").read_text(), (tmp_path / "err").read_text(),
            peakrss.read(tmp_path / "rss"))


def test_bundle_larger_than_the_memory_bound(node, tmp_path, meridian_bin):
    """300 MB of bundle ("objects" first, 3,000 indicators of 100 kB each):
    loaded whole it would need more than 256 MB; streamed, the importer's
    and the validator's own peak RSS stay under it."""
    coll = node.collection()
    n, pad = 3000, "x" * 100000
    f = tmp_path / "big.json"
    with open(f, "w") as out:
        out.write('{"objects": [')
        for i in range(n):
            if i:
                out.write(",")
            out.write(json.dumps(indicator(10000 + i, description=pad)))
        out.write('], "type": "bundle", "id": "' + BUNDLE_ID + '"}')
    assert f.stat().st_size > 300 * 1000 * 1000
    rc, _, err, rss = measured([meridian_bin, "import", "--data", str(node.data), "--collection",
                                coll, str(f)], tmp_path, 1200)
    assert "Sanitizer" not in err, err
    assert rc == 0, err
    assert f"{n} objects: {n} added" in err, err
    assert rss < RSS_LIMIT_KIB, rss
    rc, out, err, rss = measured([meridian_bin, "validate", str(f)], tmp_path, 1200)
    assert rc == 0, out + err
    assert f"valid (bundle, {n} objects)" in out, out
    assert rss < RSS_LIMIT_KIB, rss
    ids = stored_ids(node, coll)
    assert len(ids) == n


def agg_recount(node):
    """(the overview's object counters, a recount of them from the rows)."""
    got = {r[:3]: r[3] for r in store_sql(
        node, "SELECT hour, key, type, n FROM agg_objects WHERE n <> 0")}
    want = {r[:3]: r[3] for r in store_sql(
        node, "SELECT o.date_added / 3600000000, k.key, o.type, COUNT(*) FROM objects o"
        " JOIN agg_keys k ON k.collection = o.collection AND k.tlp = o.tlp"
        " AND k.local = o.local AND k.creator_org = o.creator_org"
        " AND k.community = o.community AND k.recipients = COALESCE(o.recipients, '')"
        " AND k.writer_only = o.writer_only AND k.source_peer = COALESCE(o.source_peer, '')"
        " GROUP BY 1, 2, 3")}
    return got, want


def test_import_keeps_the_overview_counts(node, tmp_path):
    """An import's new versions are counted per batch, not per row (SQLite:
    the per-row trigger paused inside the transaction): mixed with versions
    that take the one-by-one path (an id held twice, an id already stored),
    other markings and sightings, the counters equal a recount of the rows,
    and a later write is counted again."""
    coll = node.collection()
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    objs = [indicator(10000 + i, object_marking_refs=[green if i % 3 else amber])
            for i in range(300)]
    objs.insert(150, indicator(10005, modified="2026-02-01T00:00:00.000Z"))  # held twice
    objs.append({"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                 "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
                 "first_seen": "2026-03-01T00:00:00.000Z", "sighting_of_ref": objs[0]["id"],
                 "count": 7})
    f = tmp_path / "mixed.json"
    f.write_text(json.dumps({"type": "bundle", "id": BUNDLE_ID, "objects": objs}))
    p = import_(node, coll, f)
    assert p.returncode == 0, p.stderr
    got, want = agg_recount(node)
    assert got == want and sum(int(n) for n in want.values()) >= 302
    # a stored id's new version (one by one) between new ones (batched)
    more = [indicator(20000 + i) for i in range(100)]
    more.insert(50, indicator(10007, modified="2026-02-01T00:00:00.000Z"))
    f.write_text(json.dumps({"type": "bundle", "id": BUNDLE_ID, "objects": more}))
    p = import_(node, coll, f)
    assert p.returncode == 0, p.stderr
    got, want = agg_recount(node)
    assert got == want
    assert store_sql(node, "SELECT SUM(n) FROM agg_sightings") == \
        store_sql(node, "SELECT COUNT(*) FROM objects WHERE type = 'sighting' AND is_last = 1")


@sqlite_only
def test_import_pause_of_the_trigger_ends_with_its_transaction(node, tmp_path):
    """SQLite: the per-row count an import pauses (agg_paused) is paused only
    inside its transaction; a row another connection writes afterwards (the
    sqlite3 shell) is counted by the trigger."""
    coll = node.collection()
    f = tmp_path / "some.json"
    f.write_text(json.dumps({"type": "bundle", "id": BUNDLE_ID,
                             "objects": [indicator(30000 + i) for i in range(100)]}))
    p = import_(node, coll, f)
    assert p.returncode == 0, p.stderr
    assert store_sql(node, "SELECT COUNT(*) FROM agg_paused") == [("0",)]
    before = int(store_sql(node, "SELECT SUM(n) FROM agg_objects")[0][0])
    store_sql(node, "INSERT INTO objects (collection, date_added, stix_id, type, spec_version,"
              " version, revoked, tlp, local, creator_org, community, body)"
              " SELECT collection, date_added + 1, 'x--1', 'x', '2.1', 1, 0, tlp, local,"
              " creator_org, community, body FROM objects ORDER BY seq DESC LIMIT 1")
    assert int(store_sql(node, "SELECT SUM(n) FROM agg_objects")[0][0]) == before + 1
    got, want = agg_recount(node)
    assert got == want
