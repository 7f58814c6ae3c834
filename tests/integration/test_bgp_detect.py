"""`meridian bgp scan --config/--as-rel`: hijack (ARTEMIS taxonomy), route
leak and outage events over generated MRT files whose ground truth the
generator records (mrt_gen.DETECT_TRUTH)."""
import datetime
import json

import mrt_gen as g
from conftest import DATA, run

DET = DATA / "bgp" / "detect"


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def scan(meridian_bin, *inputs, extra=(), config=DET / "config.json", as_rel=DET / "as-rel.txt"):
    args = ["bgp", "scan", "--json", "--vrps", DET / "vrps.csv"]
    if config is not None:
        args += ["--config", config]
    if as_rel is not None:
        args += ["--as-rel", as_rel]
    p = run(meridian_bin, *args, *extra, *(inputs or (DET / "rib.mrt", DET / "updates.mrt")))
    assert p.returncode in (0, 1), p.stderr
    return p, [json.loads(line) for line in p.stdout.splitlines()]


def test_detect_fixtures_are_current(tmp_path):
    g.write_detect_fixtures(tmp_path)
    for name in ("rib.mrt", "updates.mrt", "config.json", "as-rel.txt", "vrps.csv"):
        assert (tmp_path / name).read_bytes() == (DET / name).read_bytes(), name


def test_scan_finds_the_ground_truth(meridian_bin):
    p, lines = scan(meridian_bin)
    assert p.returncode == 1  # events were found
    events = [e for e in lines if e["kind"] != "rov"]
    assert len(events) == len(g.DETECT_TRUTH), events
    for kind, key, want in g.DETECT_TRUTH:
        match = [e for e in events if e["kind"] == kind
                 and (e.get("group") if kind.startswith("outage") else e["prefix"]) == key
                 and all(e.get(k) == v for k, v in want.items()
                         if k not in ("first", "ended"))]
        assert len(match) == 1, (kind, key, want, events)
        e = match[0]
        assert e["first_seen"] == iso(want["first"]), e
        if "ended" in want:
            assert e["ended"] == (iso(want["ended"]) if want["ended"] else None), e
        for field in ("prefix", "as_path", "peer_as", "first_seen", "last_seen"):
            assert field in e, (field, e)
    # Output is in time order.
    times = [e["first_seen"] for e in lines]
    assert times == sorted(times)


def test_forged_origin_hijack_is_rov_valid(meridian_bin):
    """Type 1: the legitimate origin at the end of a forged path. ROV calls
    it valid; the hijack detector still names the forged first hop."""
    _, lines = scan(meridian_bin)
    e1 = [e for e in lines if e.get("type") == "E|1|-|-"]
    assert len(e1) == 1
    assert e1[0]["rov"] == "valid" and e1[0]["origin_as"] == 64500
    assert e1[0]["hijacker_as"] == 64666
    assert e1[0]["as_path"] == [65102, 174, 64666, 64500]
    assert not [e for e in lines if e["kind"] == "rov" and e["prefix"] == "203.0.113.0/24"
                and e["as_path"][-1] == 64500]


def test_inputs_are_read_in_time_order(meridian_bin):
    _, a = scan(meridian_bin, DET / "rib.mrt", DET / "updates.mrt")
    _, b = scan(meridian_bin, DET / "updates.mrt", DET / "rib.mrt")
    assert a == b


def test_detectors_follow_their_options(meridian_bin):
    _, lines = scan(meridian_bin, as_rel=None)
    kinds = {e["kind"] for e in lines}
    assert "leak" not in kinds and "hijack" in kinds and "outage" in kinds
    _, lines = scan(meridian_bin, config=None)
    kinds = {e["kind"] for e in lines}
    assert kinds == {"rov", "leak"}


def test_text_lines(meridian_bin):
    p = run(meridian_bin, "bgp", "scan", "--vrps", DET / "vrps.csv", "--config",
            DET / "config.json", "--as-rel", DET / "as-rel.txt", DET / "rib.mrt",
            DET / "updates.mrt")
    assert p.returncode == 1, p.stderr
    lines = p.stdout.splitlines()
    assert (f"hijack|203.0.113.0/24|65101 174 64666|65101|{g.T0 + 10}|{g.T0 + 60}"
            f"|E|0|-|-|64666|{g.T0 + 60}") in lines
    assert f"leak|10.50.0.0/16|65103 3356 64520 174 64510|65103|{g.T0 + 70}|{g.T0 + 70}" \
           f"|64520|valley|" in lines
    assert f"outage|country-1|{g.T0 + 100}|{g.T0 + 200}|0|3|{g.T0 + 200}" in lines
    assert f"outage-end|country-1|{g.T0 + 200}|3|3" in lines


def test_no_export_policy_violation(meridian_bin, tmp_path):
    """ARTEMIS's policy dimension: 198.18.0.0/16 is announced by AS64700
    with NO_EXPORT to its neighbour AS64701 (`"policies": ["no-export"]`).
    Seen from the neighbour (2 ASes) or one AS further (3) it raises
    nothing; past that the neighbour passed it on: E|-|-|L naming AS64701,
    ended by the withdrawal. Without the policy the same routes are clean."""
    pfx = "198.18.0.0/16"
    cfg = tmp_path / "config.json"
    upd = tmp_path / "updates.mrt"
    p1, p2, p3 = g.DETECT_PEERS[:3]
    upd.write_bytes(g._update4(p1, g.T0, [p1[1], 64701, 64700], [pfx])
                    + g._update4(p2, g.T0 + 1, [p2[1], 64701, 64701, 64700], [pfx])
                    + g._update4(p3, g.T0 + 2, [p3[1], 174, 64701, 64700], [pfx])
                    + g._update4(p3, g.T0 + 9, [], [], withdraw=[pfx]))
    entry = {"prefix": pfx, "origins": [64700], "neighbors": [64701]}
    cfg.write_text(json.dumps({"prefixes": [dict(entry, policies=["no-export"])]}))
    p, lines = scan(meridian_bin, upd, config=cfg, as_rel=None)
    assert p.returncode == 1, p.stderr
    (e,) = [x for x in lines if x["kind"] == "hijack"]
    assert e["type"] == "E|-|-|L" and e["hijacker_as"] == 64701, e
    assert e["as_path"] == [p3[1], 174, 64701, 64700] and e["peer_as"] == p3[1]
    assert e["first_seen"] == iso(g.T0 + 2) and e["ended"] == iso(g.T0 + 9)
    cfg.write_text(json.dumps({"prefixes": [entry]}))
    _, lines = scan(meridian_bin, upd, config=cfg, as_rel=None)
    assert not [x for x in lines if x["kind"] == "hijack"], lines


def test_bad_config_names_member(meridian_bin, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"prefixes": [{"prefix": "203.0.113.0/24", "origins": [64500, -1]}]}')
    p = run(meridian_bin, "bgp", "scan", "--vrps", DET / "vrps.csv", "--config", cfg,
            DET / "rib.mrt")
    assert p.returncode == 2
    assert "prefixes[0].origins[1]" in p.stderr and str(cfg) in p.stderr, p.stderr
    assert p.stdout == ""
    cfg.write_text('{"prefixes": [{"prefix": "203.0.113.0/24", "max_length": 16}]}')
    p = run(meridian_bin, "bgp", "scan", "--vrps", DET / "vrps.csv", "--config", cfg,
            DET / "rib.mrt")
    assert p.returncode == 2 and "max_length" in p.stderr, p.stderr


def test_bad_as_rel_names_line(meridian_bin, tmp_path):
    rel = tmp_path / "as-rel.txt"
    rel.write_text("# header\n174|64510|-1\n174|64520|2\n")
    p = run(meridian_bin, "bgp", "scan", "--vrps", DET / "vrps.csv", "--as-rel", rel,
            DET / "rib.mrt")
    assert p.returncode == 2
    assert "line 3" in p.stderr and str(rel) in p.stderr, p.stderr
    assert p.stdout == ""


def test_stix_bundle_validates(meridian_bin, tmp_path):
    """--stix - prints only the bundle; the STIX validator finds no error in
    it (warnings: the alert ids are UUIDv5 on purpose)."""
    p = run(meridian_bin, "bgp", "scan", "--vrps", DET / "vrps.csv", "--config",
            DET / "config.json", "--as-rel", DET / "as-rel.txt", "--stix", "-", "--tlp", "amber",
            DET / "rib.mrt", DET / "updates.mrt")
    assert p.returncode == 1, p.stderr
    bundle = json.loads(p.stdout)
    alerts = [o for o in bundle["objects"] if o["type"] == "observed-data"]
    assert len(alerts) == len(g.DETECT_TRUTH)
    (defn,) = [o for o in bundle["objects"] if o["type"] == "extension-definition"]
    assert defn["version"] == "1.1" and "otc (the AS" in defn["schema"], defn
    ext = [o["extensions"][defn["id"]] for o in alerts]
    # the evidence names the peer by address and the OTC attribute's AS
    (otc,) = [e for e in ext if e["kind"] == "leak" and e["leak"] == "otc"]
    assert otc["otc"] == 64531 and otc["peer"] == g.DETECT_PEERS[3][0], otc
    assert otc["peer_as"] == g.DETECT_PEERS[3][1]
    assert all(e["otc"] is None for e in ext if e["kind"] == "leak" and e["leak"] != "otc")
    assert all(e["peer"] in {ip for ip, _ in g.DETECT_PEERS} for e in ext
               if e["kind"] in ("hijack", "leak"))
    # and the collector: the input file its first route came from
    assert otc["collector"] == "updates.mrt"
    assert {e["collector"] for e in ext if e["kind"] in ("hijack", "leak")} <= \
        {"rib.mrt", "updates.mrt"}
    assert all(e["collector"] is None and e["peer"] is None for e in ext
               if e["kind"].startswith("outage"))
    f = tmp_path / "alerts.json"
    f.write_text(p.stdout)
    v = run(meridian_bin, "validate", f)
    assert v.returncode == 0 and " 0 errors" in v.stdout, v.stdout + v.stderr
