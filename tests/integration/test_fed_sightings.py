"""Sightings flow back to the indicator's creator and are rolled up there
(issue 6): /api/v1/sightings/ is authenticated and TLP-aware.
Also `meridian demo` end to end (it is the same story, run by the binary)."""
import json
import signal
import subprocess
import time
import uuid

import pytest
import requests

from node import TLP_AMBER, TLP_GREEN, indicator, pids_with_cmdline, wait_for
from pgcluster import store_independent
from test_fed_propagation import Fed


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def api(node, path, token="admin"):
    h = {}
    if token == "admin":
        token = node.admin_token
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return requests.get(node.url + path, headers=h, timeout=10)


def matcher_sightings(fed, name, log_lines, tmp_path):
    """Runs the real matcher at node `name` over a log and imports its
    sightings bundle there, as an operator would."""
    n = fed.nodes[name]
    ind = tmp_path / f"{name}-ind.json"
    ind.write_text(n.cli("export", "--data", n.data, "--collection", fed.coll[name]).stdout)
    log = tmp_path / f"{name}-access.log"
    log.write_text("".join(log_lines))
    sig = tmp_path / f"{name}-sightings.json"
    n.cli("match", "--indicators", ind, "--sightings", sig, "--org", f"cert-{name.lower()}",
          "--quiet", log)
    n.cli("import", "--data", n.data, "--collection", fed.coll[name], sig)
    return json.loads(sig.read_text())


def line(ip, t):
    return f'{ip} - - [29/Nov/2026:{t} +0000] "GET / HTTP/1.1" 200 1 "-" "x"\n'


def test_sightings_flow_back_and_roll_up(fed, tmp_path):
    for name in "ABC":
        fed.node(name)
    for s, c in (("A", "B"), ("B", "A"), ("B", "C"), ("C", "B")):
        fed.link(s, c, "pull")
    ind = indicator(tlp=TLP_GREEN, value="192.0.2.44")
    fed.post("A", [ind])
    fed.sync("B")
    fed.sync("C")
    assert ind["id"] in fed.ids("C")
    # C's matcher: 3 hits between 10:00:05 and 11:30:00
    matcher_sightings(fed, "C", [line("192.0.2.44", "10:00:05"), line("198.51.100.2", "10:01:00"),
                                 line("192.0.2.44", "10:30:00"), line("192.0.2.44", "11:30:00")],
                      tmp_path)
    # and B's own analysts report an AMBER sighting through TAXII
    ident = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": "cert-b analysts", "identity_class": "organization"}
    sb = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
          "created": "2026-11-29T08:00:00.000Z", "modified": "2026-11-29T08:00:00.000Z",
          "sighting_of_ref": ind["id"], "count": 5, "created_by_ref": ident["id"],
          "first_seen": "2026-11-29T07:00:00Z", "last_seen": "2026-11-29T08:00:00Z",
          "object_marking_refs": [TLP_AMBER]}
    fed.post("B", [ident, sb])
    fed.sync("B")   # B pulls C's sighting
    fed.sync("A")   # A pulls both from B
    a = fed.nodes["A"]
    r = api(a, f"/api/v1/sightings/{ind['id']}")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    roll = r.json()
    assert roll["indicator"] == ind["id"]
    assert roll["count"] == 3 + 5 and roll["sightings"] == 2, roll
    assert sorted(roll["orgs"]) == ["cert-b analysts", "cert-c"], roll
    assert roll["first_seen"] == "2026-11-29T07:00:00.000000Z"
    assert roll["last_seen"] == "2026-11-29T11:30:00.000000Z"
    listing = api(a, "/api/v1/sightings/").json()["indicators"]
    assert [e["indicator"] for e in listing] == [ind["id"]]
    # TLP-aware: a partner of A with a read grant sees the GREEN sighting only
    # (B's AMBER one was not created at A)
    a.org("P", "partner")
    tp = a.token("P")
    a.grant("P", fed.coll["A"], True, False)
    roll = api(a, f"/api/v1/sightings/{ind['id']}", token=tp).json()
    assert roll["count"] == 3 and roll["orgs"] == ["cert-c"], roll
    # an org without a grant sees nothing, exactly like an unknown indicator
    a.org("K", "constituent")
    tk = a.token("K")
    roll = api(a, f"/api/v1/sightings/{ind['id']}", token=tk).json()
    assert roll["count"] == 0 and roll["orgs"] == []
    unknown = api(a, f"/api/v1/sightings/indicator--{uuid.uuid4()}", token=tk).json()
    assert {k: v for k, v in roll.items() if k != "indicator"} == \
        {k: v for k, v in unknown.items() if k != "indicator"}
    assert api(a, f"/api/v1/sightings/{ind['id']}", token=None).status_code == 401
    assert api(a, "/api/v1/sightings/", token="mrd_" + "x" * 43).status_code == 401
    # peer health: own orgs only
    peers = api(a, "/api/v1/peers/").json()["peers"]
    assert [p["name"] for p in peers] == ["B"] and peers[0]["failures"] == 0
    assert api(a, "/api/v1/peers/", token=tp).status_code == 404
    # TAXII is still served behind the API
    assert a.get("/taxii2/").status_code == 200
    # odd requests get clean answers
    assert api(a, "/api/v1").status_code == 404
    # /api/v1/ lists the route table (docs/api.md); peers/ only for own orgs
    paths = {(r["method"], r["path"]) for r in api(a, "/api/v1/").json()["routes"]}
    assert ("GET", "/api/v1/sightings/{indicator}") in paths and ("GET", "/api/v1/peers") in paths
    paths = {r["path"] for r in api(a, "/api/v1/", token=tp).json()["routes"]}
    assert "/api/v1/peers" not in paths and "/api/v1/sightings" in paths
    assert api(a, "/api/v1/sightings/not-an-indicator").status_code == 404
    assert api(a, "/api/v1/sightings/indicator--" + "a" * 5000).status_code in (404, 414, 431)
    assert api(a, "/api/v1/verification/nope/").status_code == 404
    r = requests.post(a.url + "/api/v1/sightings/", data="{}", timeout=10,
                      headers={"Authorization": f"Bearer {a.admin_token}"})
    assert r.status_code == 405


@store_independent  # `meridian demo` makes its own SQLite nodes
def test_demo_runs_and_stops_cleanly(meridian_bin, tmp_path):
    d = tmp_path / "demo"
    p = subprocess.Popen([meridian_bin, "demo", "--dir", str(d)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            s = p.stdout.readline()
            if not s:
                break
            out.append(s)
            if "Ctrl-C stops" in s:
                break
        text = "".join(out)
        assert "Ctrl-C stops" in text, text
        assert '"count": 2' in text, text
        a_line = [s for s in out if s.strip().startswith("node A ")][0].split()
        url, token = a_line[2].replace("/taxii2/", ""), a_line[4]
        r = requests.get(url + "/api/v1/sightings/", headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
        assert r.status_code == 200 and r.json()["indicators"][0]["count"] == 2, r.text
        servers = pids_with_cmdline(f"serve --data {d}/")
        assert len(servers) == 3, servers
    finally:
        p.send_signal(signal.SIGINT)
        rest = p.communicate(timeout=60)[0]
    assert p.returncode == 0, "".join(out) + rest
    assert "Sanitizer" not in rest
    for name in "ABC":
        assert "Sanitizer" not in (d / name / "serve.log").read_text()
    assert pids_with_cmdline(f"serve --data {d}/") == []
