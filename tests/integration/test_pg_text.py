"""The free-text and reference indexes on PostgreSQL (docs/store.md, "Free
text on PostgreSQL"): the insert path sends words meridian computed from the
bodies in hand (store_text_of_object), where PostgreSQL used to parse every
body as jsonb and split its text in SQL. Both must give the same index:
here the same objects are indexed both ways, the insert path's (an import)
and the SQL one (`store copy` into a new database rebuilds the indexes with
the statement the schema migration uses), and every row is compared."""
import json
import uuid

from node import indicator
from pgcluster import pg_cluster  # noqa: F401 (fixture)
from test_store_pg import pg_node

T = "2026-01-01T00:00:00.000Z"


def sdo(kind, **props):
    o = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": T,
         "modified": T}
    o.update(props)
    return o


def objects():
    ind = indicator(value="192.0.2.7", name="Déjà vu: ÉVIL–host “quoted” evil.example",
                    description="Mail bad@evil.example, see https://x.example/a?b=c#d; v1.5e3"
                                " abc123def ÀÖØßÿ Straße 東京 emoji 😀 tab\there\nline")
    mal = sdo("malware", name="LockBit\u00a0Black ŁÓDŹ", is_family=True,
              description="   ")  # a blank text: the name alone
    empty = sdo("malware", name="", is_family=False)  # an empty name: a row, no words
    note = sdo("note", abstract="strike-team", content="İstanbul ıi Œuvre ǅ",
               object_refs=[ind["id"], mal["id"], ind["id"]])
    opinion = sdo("opinion", opinion="agree", explanation="'quoted' \"twice\" \\ back",
                  object_refs=[note["id"]])
    report = sdo("report", name="Weekly", published=T, report_types=["threat-report"],
                 object_refs=[ind["id"], mal["id"]])
    rel = sdo("relationship", relationship_type="indicates", source_ref=ind["id"],
              target_ref=mal["id"])
    sight = sdo("sighting", sighting_of_ref=ind["id"])
    plain = indicator(value="192.0.2.8")  # no description: its name alone
    return [ind, mal, empty, note, opinion, report, rel, sight, plain]


def rows(pg, db, sql):
    return pg.psql(sql, db).splitlines()


def test_words_and_references_computed_by_meridian_are_the_sql_ones(meridian_bin, pg_cluster,
                                                                     tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    n.collection(root="api1", title="text", alias="t")
    objs = objects()
    f = tmp_path / "bundle.json"
    f.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                             "objects": objs}, ensure_ascii=False))
    p = n.cli("import", "--data", n.data, "--collection", "api1/t", f)
    assert f"{len(objs)} objects: {len(objs)} added" in p.stderr + p.stdout, p.stderr

    copy = pg_cluster.database()
    cdb = copy.rsplit("/", 1)[1]
    p = n.cli("store", "copy", "--from", dsn, "--to", copy)
    assert p.returncode == 0, p.stderr

    words = ("SELECT t.seq, o.stix_id, t.words::text FROM text_index t JOIN objects o"
             " ON o.seq = t.seq ORDER BY t.seq")
    refs = "SELECT ref, seq, role FROM ref_index ORDER BY seq, role, ref"
    mine, sql = rows(pg_cluster, db, words), rows(pg_cluster, cdb, words)
    assert mine == sql
    # every object with a name or a text has its row (the blank text and
    # the empty name too), the relationship and the sighting none
    assert len(mine) == 7, mine
    by_id = {r.split("|")[1]: r.split("|", 2)[2] for r in mine}
    assert "'deja':1A" in by_id[objs[0]["id"]], by_id[objs[0]["id"]]
    assert "'lodz':3A" in by_id[objs[1]["id"]], by_id[objs[1]["id"]]
    assert by_id[objs[2]["id"]] == "", by_id[objs[2]["id"]]
    assert rows(pg_cluster, db, refs) == rows(pg_cluster, cdb, refs)
    # the note's duplicate reference once, the opinion's, the report's two,
    # the relationship's source and target, the sighting's
    assert len(rows(pg_cluster, db, refs)) == 2 + 1 + 2 + 2 + 1

    hits = pg_cluster.psql("SELECT count(*) FROM text_index WHERE words @@"
                           " to_tsquery('simple', 'evil <-> example')", db)
    assert hits == "1"
