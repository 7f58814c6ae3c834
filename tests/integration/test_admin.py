"""The administrative verbs (init, org, token, collection, grant, import,
export) run as real processes on a data directory in a temp dir."""
import csv
import io
import json
import os
import pathlib
import re
import sqlite3
import uuid

import pytest

from conftest import run
from node import as_sent
from pgcluster import sqlite_only

TOKEN_RE = re.compile(r"^mrd_[A-Za-z0-9_-]{43}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def ok(p):
    assert p.returncode == 0, p.stderr
    return p.stdout


def db_bytes(data):
    """The database and its WAL, as bytes (what an attacker with the disk sees)."""
    out = b""
    for name in ("meridian.db", "meridian.db-wal"):
        f = pathlib.Path(data) / name
        if f.exists():
            out += f.read_bytes()
    return out


@pytest.fixture
def node(tmp_path, meridian_bin):
    """A fresh node: own org cert-a, its admin token, one collection."""
    data = tmp_path / "data"
    token = ok(run(meridian_bin, "init", "--data", data, "--org", "cert-a")).strip()
    coll = ok(run(meridian_bin, "collection", "create", "--data", data, "--api-root", "europe",
                  "--title", "Indicators", "--alias", "ind")).strip()
    return {"data": data, "token": token, "coll": coll}


def indicator(n, markings=None, value="10.0.0.1", modified="2024-01-01T00:00:00.000Z"):
    o = {"type": "indicator", "spec_version": "2.1",
         "id": f"indicator--{uuid.UUID(int=n, version=4)}",
         "created": "2024-01-01T00:00:00.000Z", "modified": modified,
         "name": f"ind {n}", "pattern": f"[ipv4-addr:value = '{value}']",
         "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    if markings:
        o["object_marking_refs"] = markings
    return o


def bundle(objs):
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}


def unsigned(exported, original):
    """exported without what the node adds to objects created here."""
    return as_sent(exported, original)


def export_ids(meridian_bin, data, coll, *extra):
    out = ok(run(meridian_bin, "export", "--data", data, "--collection", coll, *extra))
    return {o["id"] for o in json.loads(out)["objects"]}


# ---- init ----

@sqlite_only  # reads the token hash from meridian.db
def test_init_prints_token_once_and_stores_it_hashed(tmp_path, meridian_bin):
    data = tmp_path / "node"
    p = run(meridian_bin, "init", "--data", data, "--org", "cert-a")
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip()
    assert TOKEN_RE.match(token), p.stdout
    assert p.stdout == token + "\n"  # nothing else on stdout
    assert token not in p.stderr
    assert (data / "meridian.db").is_file()
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    raw = db_bytes(data)
    assert token.encode() not in raw
    assert token[12:].encode() not in raw  # not even the secret part
    # the token is listed by name, never shown again
    lst = ok(run(meridian_bin, "token", "list", "--data", data))
    assert "admin\tcert-a" in lst
    assert token not in lst
    orgs = ok(run(meridian_bin, "org", "list", "--data", data))
    assert orgs.startswith("cert-a\town\t")
    # the database is a versioned schema in WAL mode
    con = sqlite3.connect(data / "meridian.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version FROM schema_version").fetchone()[0] >= 1
    con.close()


@sqlite_only  # compares meridian.db's bytes
def test_init_refuses_to_clobber(tmp_path, meridian_bin):
    data = tmp_path / "node"
    ok(run(meridian_bin, "init", "--data", data, "--org", "cert-a"))
    before = (data / "meridian.db").read_bytes()
    p = run(meridian_bin, "init", "--data", data, "--org", "other")
    assert p.returncode == 2
    assert "refusing" in p.stderr
    assert p.stdout == ""
    assert (data / "meridian.db").read_bytes() == before
    # a non-empty directory without a database is refused too, untouched
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert run(meridian_bin, "init", "--data", other, "--org", "x").returncode == 2
    assert (other / "notes.txt").read_text() == "keep me"
    # an existing empty directory is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert TOKEN_RE.match(ok(run(meridian_bin, "init", "--data", empty, "--org", "x")).strip())


def test_init_failure_leaves_nothing(tmp_path, meridian_bin):
    data = tmp_path / "node"
    p = run(meridian_bin, "init", "--data", data, "--org", "bad name")
    assert p.returncode == 2
    assert "bad name" in p.stderr
    assert not data.exists()  # rerunnable
    assert run(meridian_bin, "init", "--data", data).returncode == 2  # --org required


def test_data_dir_from_environment(tmp_path, meridian_bin):
    data = tmp_path / "envnode"
    env = dict(os.environ, MERIDIAN_DATA=str(data))
    import subprocess
    p = subprocess.run([meridian_bin, "init", "--org", "cert-a"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([meridian_bin, "org", "list"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.stdout.startswith("cert-a\town")
    # without --data or MERIDIAN_DATA: the config file's `data`, else
    # ./node-data (scripts/node's directory), which is missing here
    env.pop("MERIDIAN_DATA")
    env["MERIDIAN_CONFIG"] = str(tmp_path / "absent.conf")
    p = subprocess.run([meridian_bin, "org", "list"], env=env, capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert p.returncode == 2
    assert "node-data" in p.stderr
    conf = tmp_path / "meridian.conf"
    conf.write_text(f"# the package's file names its data directory\ndata = {data}\n")
    env["MERIDIAN_CONFIG"] = str(conf)
    for verb in (["org", "list"], ["ledger", "checkpoint"], ["ledger", "verify"],
                 ["token", "list"]):
        p = subprocess.run([meridian_bin, *verb], env=env, capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
        assert p.returncode == 0, (verb, p.stderr)
    assert "cert-a" in subprocess.run([meridian_bin, "org", "list"], env=env,
                                      capture_output=True, text=True, timeout=60).stdout
    # MERIDIAN_DATA still wins over the file
    env["MERIDIAN_DATA"] = str(tmp_path / "elsewhere")
    p = subprocess.run([meridian_bin, "org", "list"], env=env, capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert p.returncode == 2 and "elsewhere" in p.stderr


# ---- orgs and tokens ----

def test_org_create_and_errors(node, meridian_bin):
    d = node["data"]
    assert run(meridian_bin, "org", "create", "cert-b", "--relation", "partner", "--data", d
               ).stdout == "cert-b\n"
    p = run(meridian_bin, "org", "create", "cert-b", "--relation", "partner", "--data", d)
    assert p.returncode == 2 and "already exists" in p.stderr
    p = run(meridian_bin, "org", "create", "x", "--relation", "friend", "--data", d)
    assert p.returncode == 2 and "friend" in p.stderr
    assert run(meridian_bin, "org", "create", "x", "--data", d).returncode == 2
    assert run(meridian_bin, "org", "frob", "--data", d).returncode == 2
    lines = ok(run(meridian_bin, "org", "list", "--data", d)).splitlines()
    assert [l.split("\t")[:2] for l in lines] == [["cert-a", "own"], ["cert-b", "partner"]]


def test_token_create_revoke_list(node, meridian_bin):
    d = node["data"]
    ok(run(meridian_bin, "org", "create", "cert-b", "--relation", "partner", "--data", d))
    t1 = ok(run(meridian_bin, "token", "create", "--org", "cert-b", "--data", d)).strip()
    t2 = ok(run(meridian_bin, "token", "create", "--org", "cert-b", "--name", "sync",
                "--data", d)).strip()
    assert TOKEN_RE.match(t1) and TOKEN_RE.match(t2) and t1 != t2
    raw = db_bytes(d)
    for t in (t1, t2, node["token"]):
        assert t[12:].encode() not in raw
    lst = ok(run(meridian_bin, "token", "list", "--data", d))
    assert f"{t1[:12]}\tcert-b" in lst and "sync\tcert-b" in lst
    assert t1 not in lst and t2 not in lst
    # revoke by name, then by public prefix
    ok(run(meridian_bin, "token", "revoke", "sync", "--data", d))
    ok(run(meridian_bin, "token", "revoke", t1[:12], "--data", d))
    lst = ok(run(meridian_bin, "token", "list", "--data", d))
    assert re.search(r"^sync\tcert-b\t\S+\trevoked ", lst, re.M)
    assert re.search(rf"^{re.escape(t1[:12])}\tcert-b\t\S+\trevoked ", lst, re.M)
    assert re.search(r"^admin\tcert-a\t\S+\tactive\texpires -\tlast-used ", lst, re.M)
    # a leaked token can be revoked by pasting it whole
    t3 = ok(run(meridian_bin, "token", "create", "--org", "cert-b", "--data", d)).strip()
    ok(run(meridian_bin, "token", "revoke", t3, "--data", d))
    assert re.search(rf"^{re.escape(t3[:12])}\tcert-b\t\S+\trevoked ",
                     ok(run(meridian_bin, "token", "list", "--data", d)), re.M)
    p = run(meridian_bin, "token", "revoke", "nope-nope", "--data", d)
    assert p.returncode == 2 and "no token" in p.stderr
    p = run(meridian_bin, "token", "create", "--org", "ghost", "--data", d)
    assert p.returncode == 2 and p.stdout == ""


# ---- collections and grants ----

def test_collection_create_and_list(node, meridian_bin):
    d = node["data"]
    assert UUID_RE.match(node["coll"])
    p = run(meridian_bin, "collection", "create", "--data", d, "--api-root", "asia", "--title",
            "Reports", "--default-tlp", "amber", "--public", "--description", "long text")
    assert p.returncode == 0, p.stderr
    assert UUID_RE.match(p.stdout.strip()) and p.stdout.count("\n") == 1
    assert "created API root 'asia'" in p.stderr
    # same alias in the same root: refused; in another root: fine
    p = run(meridian_bin, "collection", "create", "--data", d, "--api-root", "europe",
            "--title", "Again", "--alias", "ind")
    assert p.returncode == 2 and "alias" in p.stderr and p.stdout == ""
    ok(run(meridian_bin, "collection", "create", "--data", d, "--api-root", "asia",
           "--title", "Again", "--alias", "ind"))
    for bad in (["--default-tlp", "purple"], ["--api-root", "taxii2"], ["--api-root", "a/b"]):
        args = ["collection", "create", "--data", d, "--api-root", "x", "--title", "T"] + bad
        assert run(meridian_bin, *args).returncode == 2
    rows = [l.split("\t") for l in ok(run(meridian_bin, "collection", "list", "--data", d))
            .splitlines()]
    assert rows[0][:6] == [node["coll"], "europe", "ind", "green", "private", "Indicators"]
    assert rows[1][1:6] == ["asia", "-", "amber", "public", "Reports"]
    asia = ok(run(meridian_bin, "collection", "list", "--data", d, "--api-root", "asia"))
    assert len(asia.splitlines()) == 2


def test_grant_controls_export(node, meridian_bin):
    d, c = node["data"], node["coll"]
    ok(run(meridian_bin, "org", "create", "cert-b", "--relation", "partner", "--data", d))
    f = node["data"].parent / "b.json"
    f.write_text(json.dumps(bundle([indicator(1, [TLP_CLEAR]), indicator(2)])))
    ok(run(meridian_bin, "import", "--data", d, "--collection", c, f))
    assert export_ids(meridian_bin, d, c, "--as-org", "cert-b") == set()
    ok(run(meridian_bin, "grant", "--data", d, "--org", "cert-b", "--collection", c, "--read"))
    assert len(export_ids(meridian_bin, d, c, "--as-org", "cert-b")) == 2
    # a grant is replaced, not merged: write only = no read
    ok(run(meridian_bin, "grant", "--data", d, "--org", "cert-b", "--collection", "europe/ind",
           "--write"))
    assert export_ids(meridian_bin, d, c, "--as-org", "cert-b") == set()
    lines = ok(run(meridian_bin, "grant", "list", "--data", d)).splitlines()
    assert lines == [f"cert-a\t{c}\teurope\tread\twrite", f"cert-b\t{c}\teurope\t-\twrite"]
    assert ok(run(meridian_bin, "grant", "list", "--data", d, "--org", "cert-b")) == \
        lines[1] + "\n"
    ok(run(meridian_bin, "grant", "--data", d, "--org", "cert-b", "--collection", c))
    assert ok(run(meridian_bin, "grant", "list", "--data", d, "--collection", c)) == \
        lines[0] + "\n"  # withdrawn: no longer listed
    p = run(meridian_bin, "grant", "--data", d, "--org", "cert-b", "--collection",
            "00000000-0000-4000-8000-000000000000", "--read")
    assert p.returncode == 2 and "no collection" in p.stderr


# ---- import / export ----

def all_bundles(data_dir):
    return sorted((data_dir / "stix-bundles").rglob("*.json"))


def test_import_testdata_and_export_round_trip(node, meridian_bin, data_dir, tmp_path):
    d, c = node["data"], node["coll"]
    files = all_bundles(data_dir)
    assert len(files) >= 10
    p = run(meridian_bin, "import", "--data", d, "--collection", c, *files, timeout=300)
    assert p.returncode in (0, 1), p.stderr
    assert p.stdout == ""
    m = re.search(r"total: (\d+) objects?: (\d+) added, (\d+) already present, (\d+) invalid, "
                  r"(\d+) conflicts", p.stderr)
    assert m, p.stderr
    total, added, dup, invalid, conflicts = map(int, m.groups())
    assert total == added + dup + invalid + conflicts
    assert added > 250
    assert (p.returncode == 1) == (invalid + conflicts > 0)
    # three objects of the OASIS examples reuse an id of another example with another
    # `created`: a version never changes it (STIX 2.1 section 3.6), so they are refused
    assert conflicts == 3, p.stderr
    refused = ok(run(meridian_bin, "conflicts", "--data", d))
    assert refused.count("\thistory\t") == 3, refused
    assert "indicator--33fe3b22-0201-47cf-85d0-97c02164528d" in refused
    # every file gets its own summary line
    for f in files:
        assert f"{f}:" in p.stderr

    # export as the own org: every stored version, byte-equal JSON to the input
    out = ok(run(meridian_bin, "export", "--data", d, "--collection", c, timeout=120))
    exported = json.loads(out)
    assert exported["type"] == "bundle" and exported["id"].startswith("bundle--")
    assert len(exported["objects"]) == added
    originals = {}
    for f in files:
        doc = json.loads(f.read_text())
        objs = doc.get("objects", []) if isinstance(doc, dict) and doc.get("type", "bundle") == \
            "bundle" else (doc if isinstance(doc, list) else [doc])
        for o in objs:
            if isinstance(o, dict) and "id" in o:
                originals.setdefault((o["id"], o.get("modified", o.get("created"))), o)
    for o in exported["objects"]:
        orig = originals[(o["id"], o.get("modified", o.get("created")))]
        assert unsigned(o, orig) == orig

    # the export imports cleanly into a second collection, and exports the same
    c2 = ok(run(meridian_bin, "collection", "create", "--data", d, "--api-root", "europe",
                "--title", "Copy")).strip()
    f = tmp_path / "export.json"
    f.write_text(out)
    p = run(meridian_bin, "import", "--data", d, "--collection", c2, f, timeout=120)
    assert p.returncode == 0, p.stderr
    again = json.loads(ok(run(meridian_bin, "export", "--data", d, "--collection", c2)))
    assert again["objects"] == exported["objects"]

    # importing the same files again stores nothing new
    p = run(meridian_bin, "import", "--data", d, "--collection", c, *files, timeout=300)
    m = re.search(r"total: (\d+) objects?: (\d+) added, (\d+) already present", p.stderr)
    assert int(m.group(2)) == 0 and int(m.group(3)) == added + dup


def test_import_rejects_invalid_object_and_keeps_valid(node, meridian_bin, tmp_path):
    d, c = node["data"], node["coll"]
    bad = indicator(1)
    del bad["pattern"]
    f = tmp_path / "mixed.json"
    f.write_text(json.dumps(bundle([bad, indicator(2), "not an object"])))
    p = run(meridian_bin, "import", "--data", d, "--collection", c, f)
    assert p.returncode == 1
    assert bad["id"] in p.stderr
    assert "pattern" in p.stderr and "required" in p.stderr  # the validator's message
    assert "not a JSON object" in p.stderr
    assert "3 objects: 1 added, 0 already present, 2 invalid" in p.stderr
    assert export_ids(meridian_bin, d, c) == {indicator(2)["id"]}
    # a file that is not JSON, and one that does not exist
    g = tmp_path / "junk.json"
    g.write_text('{"type": "bundle", "objects": [')
    p = run(meridian_bin, "import", "--data", d, "--collection", c, g)
    assert p.returncode == 1 and "not JSON" in p.stderr
    p = run(meridian_bin, "import", "--data", d, "--collection", c, tmp_path / "missing.json")
    assert p.returncode == 2
    # duplicate keys are refused by the strict parser (I-JSON)
    h = tmp_path / "dup.json"
    h.write_text('{"type":"indicator","type":"malware"}')
    assert run(meridian_bin, "import", "--data", d, "--collection", c, h).returncode == 1


def test_import_forms_envelope_list_single(node, meridian_bin, tmp_path):
    d, c = node["data"], node["coll"]
    forms = {"envelope.json": {"objects": [indicator(1)], "more": False},
             "list.json": [indicator(2), indicator(3)],
             "single.json": indicator(4)}
    for name, doc in forms.items():
        (tmp_path / name).write_text(json.dumps(doc))
    p = run(meridian_bin, "import", "--data", d, "--collection", "europe/ind",
            *[tmp_path / n for n in forms])
    assert p.returncode == 0, p.stderr
    assert export_ids(meridian_bin, d, c) == {indicator(n)["id"] for n in (1, 2, 3, 4)}


def test_versions_export_all_or_latest(node, meridian_bin, tmp_path):
    d, c = node["data"], node["coll"]
    v1 = indicator(1)
    v2 = indicator(1, modified="2024-02-01T00:00:00.000Z", value="10.0.0.2")
    (tmp_path / "v.json").write_text(json.dumps(bundle([v2, v1])))
    ok(run(meridian_bin, "import", "--data", d, "--collection", c, tmp_path / "v.json"))
    objs = json.loads(ok(run(meridian_bin, "export", "--data", d, "--collection", c)))["objects"]
    assert [o["modified"] for o in objs] == [v2["modified"], v1["modified"]]  # date_added order
    objs = json.loads(ok(run(meridian_bin, "export", "--data", d, "--collection", c,
                             "--latest")))["objects"]
    assert [unsigned(o, v2) for o in objs] == [v2]


def test_export_csv(node, meridian_bin, tmp_path):
    """CSV holds bare values (issue 12), one row per value, not patterns."""
    d, c = node["data"], node["coll"]
    tricky = indicator(2, value="1.2.3.4")
    tricky["pattern"] = "[url:value = 'http://x/a,\"b\"']"
    tricky["labels"] = ["c2", "phishing"]
    tricky["confidence"] = 80
    (tmp_path / "i.json").write_text(json.dumps(bundle([indicator(1, [TLP1_AMBER]), tricky])))
    ok(run(meridian_bin, "import", "--data", d, "--collection", c, tmp_path / "i.json"))
    out = ok(run(meridian_bin, "export", "--data", d, "--collection", c, "--format", "csv"))
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["type", "value", "indicator_id", "tlp", "confidence", "valid_from",
                       "valid_until", "labels"]
    assert rows[1] == ["ipv4", "10.0.0.1", indicator(1)["id"], "amber", "",
                       "2024-01-01T00:00:00.000Z", "", ""]
    assert rows[2] == ["url", 'http://x/a,"b"', tricky["id"], "green", "80",
                       "2024-01-01T00:00:00.000Z", "", "c2;phishing"]  # commas and quotes survive
    assert run(meridian_bin, "export", "--data", d, "--collection", c, "--format", "xml"
               ).returncode == 2


def test_export_applies_tlp_policy(node, meridian_bin, tmp_path):
    """export --as-org gives each reader exactly what docs/design.md §5 allows."""
    d, c = node["data"], node["coll"]
    for org, rel in (("cert-b", "partner"), ("cert-c", "partner"), ("ministry", "constituent"),
                     ("isp", "constituent")):
        ok(run(meridian_bin, "org", "create", org, "--relation", rel, "--data", d))
        ok(run(meridian_bin, "grant", "--data", d, "--org", org, "--collection", c, "--read"))
    local = {"clear": indicator(1, [TLP_CLEAR]), "white": indicator(2, [TLP1_WHITE]),
             "green": indicator(3, [TLP_GREEN]), "amber": indicator(4, [TLP1_AMBER]),
             "strict": indicator(5, [TLP_AMBER_STRICT]), "red": indicator(6, [TLP_RED]),
             "default": indicator(7)}
    (tmp_path / "local.json").write_text(json.dumps(bundle(list(local.values()))))
    ok(run(meridian_bin, "import", "--data", d, "--collection", c, tmp_path / "local.json"))
    # objects created by a partner are not "created on this node"
    peer = {"p_amber": indicator(10, [TLP1_AMBER]), "p_strict": indicator(11, [TLP_AMBER_STRICT]),
            "p_green": indicator(12, [TLP_GREEN])}
    (tmp_path / "peer.json").write_text(json.dumps(bundle(list(peer.values()))))
    ok(run(meridian_bin, "import", "--data", d, "--collection", c, "--as-org", "cert-c",
           tmp_path / "peer.json"))
    # RED by a constituent for one recipient partner
    red2 = indicator(20, [TLP_RED])
    (tmp_path / "red.json").write_text(json.dumps(bundle([red2])))
    ok(run(meridian_bin, "import", "--data", d, "--collection", c, "--as-org", "ministry",
           "--recipient", "cert-b", tmp_path / "red.json"))

    ids = {k: v["id"] for k, v in {**local, **peer, "red2": red2}.items()}

    def sees(org):
        got = export_ids(meridian_bin, d, c, "--as-org", org)
        return {k for k, v in ids.items() if v in got}

    base = {"clear", "white", "green", "default", "p_green"}
    assert sees("cert-a") == base | {"amber", "strict", "red", "p_amber", "p_strict"}
    assert sees("ministry") == base | {"amber", "p_amber", "red2"}
    assert sees("isp") == base | {"amber", "p_amber"}
    assert sees("cert-b") == base | {"amber", "strict", "red2"}  # one hop: no p_amber/p_strict
    assert sees("cert-c") == base | {"amber", "strict"}  # its own AMBER is not relayed back

    # objects imported into a collection of API root "asia" belong to that
    # community: a partner member of it reads their GREEN there
    asia = ok(run(meridian_bin, "collection", "create", "--data", d, "--api-root", "asia",
                  "--title", "Asia")).strip()
    ok(run(meridian_bin, "grant", "--data", d, "--org", "cert-b", "--collection", asia,
           "--read"))
    ok(run(meridian_bin, "import", "--data", d, "--collection", asia, tmp_path / "local.json"))
    got = export_ids(meridian_bin, d, asia, "--as-org", "cert-b")
    assert ids["green"] in got and ids["red"] not in got
    # anonymous-equivalent: an org without grant on a public collection sees CLEAR only
    pub = ok(run(meridian_bin, "collection", "create", "--data", d, "--api-root", "europe",
                 "--title", "Public", "--public")).strip()
    ok(run(meridian_bin, "import", "--data", d, "--collection", pub, tmp_path / "local.json"))
    got = export_ids(meridian_bin, d, pub, "--as-org", "isp")
    assert got == {ids["clear"], ids["white"]}


def test_help_for_every_admin_verb(meridian_bin):
    for verb in ("init", "org", "token", "collection", "grant", "import", "export"):
        p = run(meridian_bin, "help", verb)
        assert p.returncode == 0
        assert p.stdout.startswith(f"usage: meridian {verb}")
        assert "--data DIR" in p.stdout
    p = run(meridian_bin, "help")
    for verb in ("init", "org", "token", "collection", "grant", "import", "export"):
        assert re.search(rf"^  {verb} ", p.stdout, re.M)


def test_import_upstream_malformed_example(node, meridian_bin, data_dir):
    """The TLP 2.0 example published malformed upstream: its bad object is
    refused with the validator's reason, the good ones are stored."""
    d, c = node["data"], node["coll"]
    f = data_dir / "stix-markings" / "tlp2" / \
        "upstream-example-using-tlp2.0-green.MALFORMED.json"
    p = run(meridian_bin, "import", "--data", d, "--collection", c, f)
    assert p.returncode == 1
    assert "relationship--1621d4d4-b67d-11e3-9670-f01faf20d111 is invalid" in p.stderr
    assert "2022-101-27T13:49:54.326Z" in p.stderr and "timestamp" in p.stderr
    assert "3 objects: 2 added, 0 already present, 1 invalid" in p.stderr
    got = export_ids(meridian_bin, d, c)
    assert "relationship--1621d4d4-b67d-11e3-9670-f01faf20d111" not in got
    assert len(got) == 2


@sqlite_only  # reads date_added from meridian.db
def test_concurrent_imports_in_two_processes(node, meridian_bin, tmp_path):
    """Two `meridian import` processes write the same collection at once:
    both succeed (writers queue on the database lock) and nothing is lost."""
    import subprocess
    d, c = node["data"], node["coll"]
    files = []
    for k in range(2):
        f = tmp_path / f"part{k}.json"
        f.write_text(json.dumps(bundle([indicator(10000 * (k + 1) + i) for i in range(1500)])))
        files.append(f)
    procs = [subprocess.Popen([meridian_bin, "import", "--data", str(d), "--collection", c,
                               str(f)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for f in files]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "Sanitizer" not in err
        assert "1500 objects: 1500 added" in err
    got = export_ids(meridian_bin, d, c)
    assert got == {indicator(10000 * (k + 1) + i)["id"] for k in range(2) for i in range(1500)}
    # date_added is strictly increasing: the stored order interleaves the
    # two imports, but no two rows share a date_added
    con = sqlite3.connect(pathlib.Path(d) / "meridian.db")
    rows = con.execute("SELECT date_added FROM objects ORDER BY seq").fetchall()
    con.close()
    dates = [r[0] for r in rows]
    assert dates == sorted(dates) and len(set(dates)) == len(dates) == 3000
