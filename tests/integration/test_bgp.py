"""`meridian bgp decode` against Debian's bgpdump, and `meridian bgp scan`
route-origin validation (RFC 6811) against hand-computed verdicts."""
import json
import shutil
import struct
import subprocess

import pytest

import mrt_gen as g
from conftest import DATA, run

FIXTURES = ["rib.mrt", "rib-addpath.mrt", "updates.mrt", "updates-addpath.mrt",
            "rib.mrt.gz", "updates.mrt.bz2"]


def bgpdump(path):
    exe = shutil.which("bgpdump")
    assert exe, "bgpdump is missing: scripts/bootstrap installs Debian's bgpdump"
    p = subprocess.run([exe, "-m", str(path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("name", FIXTURES)
def test_decode_matches_bgpdump(meridian_bin, name):
    path = DATA / "bgp" / name
    assert path.is_file(), f"fixture missing: {path}"
    expected = bgpdump(path)
    assert expected.count("\n") >= 4  # the fixture really holds routes
    p = run(meridian_bin, "bgp", "decode", path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected


def test_decode_fixtures_are_current(tmp_path):
    """The committed fixtures are what the generator writes today."""
    g.write_fixtures(tmp_path)
    for name in FIXTURES:
        assert (tmp_path / name).read_bytes() == (DATA / "bgp" / name).read_bytes(), name


def test_decode_several_files_in_order(meridian_bin):
    a, b = DATA / "bgp" / "rib.mrt", DATA / "bgp" / "updates.mrt"
    p = run(meridian_bin, "bgp", "decode", a, b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == bgpdump(a) + bgpdump(b)


def test_decode_truncated_record_names_offset(meridian_bin, tmp_path):
    data = (DATA / "bgp" / "rib.mrt").read_bytes()
    first = 12 + struct.unpack("!I", data[8:12])[0]  # end of the PEER_INDEX_TABLE record
    bad = tmp_path / "cut.mrt"
    bad.write_bytes(data[:first + 20])
    p = run(meridian_bin, "bgp", "decode", bad)
    assert p.returncode == 2
    assert f"offset {first}" in p.stderr and "RFC 6396" in p.stderr, p.stderr
    # Routes before the broken record are not lost: here there are none.
    assert p.stdout == ""


def test_decode_attribute_beyond_block(meridian_bin, tmp_path):
    """An AS_PATH segment that claims more ASNs than its attribute holds."""
    ab = g.attr(0x40, 1, b"\x00") + g.attr(0x40, 2, bytes([2, 9]) + struct.pack("!I", 64500))
    body = g.record(g.T0, g.TABLE_DUMP_V2, g.PEER_INDEX_TABLE, g.peer_index(g.PEERS))
    good = g.record(g.T0, g.TABLE_DUMP_V2, g.RIB_IPV4_UNICAST,
                    g.rib(0, "10.0.0.0/8", [(0, 1, g.attrs(path=[(g.AS_SEQUENCE, [1])]))]))
    off = len(body) + len(good)
    body += good + g.record(g.T0, g.TABLE_DUMP_V2, g.RIB_IPV4_UNICAST,
                            g.rib(1, "10.0.0.0/8", [(0, 1, ab)]))
    f = tmp_path / "bad.mrt"
    f.write_bytes(body)
    p = run(meridian_bin, "bgp", "decode", f)
    assert p.returncode == 2
    assert f"offset {off}" in p.stderr and "AS_PATH" in p.stderr, p.stderr
    assert p.stdout.count("\n") == 1  # the good record before it was printed


def test_decode_rejects_corrupt_gzip(meridian_bin, tmp_path):
    data = (DATA / "bgp" / "rib.mrt.gz").read_bytes()
    f = tmp_path / "cut.mrt.gz"
    f.write_bytes(data[: len(data) // 2])
    p = run(meridian_bin, "bgp", "decode", f)
    assert p.returncode == 2
    assert "gzip" in p.stderr, p.stderr


def _update_2byte(path_attrs):
    """A BGP4MP MESSAGE (2-byte session) announcing 10.0.0.0/8."""
    head = g.bgp4mp_head(65001, 65000, "198.51.100.1", "198.51.100.254", False)
    return g.record(g.T0, g.BGP4MP, g.MESSAGE, head + g.bgp_update(
        path_attrs=path_attrs, announced=g.nlri("10.0.0.0/8")))


def test_decode_attributes_in_any_order(meridian_bin, tmp_path):
    """RFC 4271 §5: a receiver takes path attributes in any order. The same
    attributes ascending, shuffled (as bgpdump -m prints both), and with
    AS4_AGGREGATOR before AGGREGATOR (on which bgpdump 1.6.2 aborts) decode
    to the same line; a repeated attribute counts once, the first (RFC 7606
    §3(g)), and a repeated MP_UNREACH_NLRI is a clear error."""
    a = {
        "o": g.attr(0x40, 1, b"\x00"),
        "p": g.attr(0x40, 2, g.aspath_value([(g.AS_SEQUENCE, [65001, 23456, 64500])], 2)),
        "nh": g.attr(0x40, 3, g.ip_bytes("198.51.100.1")),
        "med": g.attr(0x80, 4, struct.pack("!I", 7)),
        "agg": g.attr(0xC0, 7, struct.pack("!H", 23456) + g.ip_bytes("192.0.2.9")),
        "com": g.attr(0xC0, 8, struct.pack("!I", g.comm(65001, 1))),
        "as4": g.attr(0xC0, 17, g.aspath_value([(g.AS_SEQUENCE, [4200000009, 64500])], 4)),
        "as4agg": g.attr(0xC0, 18, struct.pack("!I", 4200000009) + g.ip_bytes("192.0.2.9")),
        "otc": g.attr(0xC0, 35, struct.pack("!I", 64531)),
    }
    files = {}
    for name, order in (("ascending", "o p nh med agg com as4 as4agg otc"),
                        ("shuffled", "otc com as4 med nh agg as4agg p o"),
                        ("as4agg-first", "as4agg otc com as4 med nh agg p o"),
                        ("repeated", "o p nh med agg com as4 as4agg otc med p as4 o")):
        files[name] = tmp_path / f"{name}.mrt"
        files[name].write_bytes(_update_2byte(b"".join(a[k] for k in order.split())))
    expected = bgpdump(files["ascending"])
    assert expected == ("BGP4MP|1700000000|A|198.51.100.1|65001|10.0.0.0/8|"
                        "65001 4200000009 64500|IGP|198.51.100.1|0|7|65001:1|NAG|"
                        "4200000009 192.0.2.9|\n")
    assert bgpdump(files["shuffled"]) == expected
    for name in files:
        p = run(meridian_bin, "bgp", "decode", files[name])
        assert p.returncode == 0, (name, p.stderr)
        assert p.stdout == expected, name
    # the first AS_PATH counts: a second one naming another origin is ignored
    twice = tmp_path / "twice.mrt"
    other = g.attr(0x40, 2, g.aspath_value([(g.AS_SEQUENCE, [65001, 64999])], 2))
    twice.write_bytes(_update_2byte(a["o"] + a["p"] + other + a["nh"]))
    p = run(meridian_bin, "bgp", "decode", twice)
    assert p.returncode == 0 and "|65001 23456 64500|IGP|" in p.stdout, p.stdout + p.stderr
    unreach = g.attr(0x80, 15, g.mp_unreach_v6(["2001:db8::/32"]))
    bad = tmp_path / "unreach-twice.mrt"
    bad.write_bytes(_update_2byte(a["o"] + a["p"] + a["nh"] + unreach + unreach))
    p = run(meridian_bin, "bgp", "decode", bad)
    assert p.returncode == 2 and p.stdout == ""
    assert "offset 0" in p.stderr and "more than once (RFC 7606 §3(g))" in p.stderr, p.stderr


# ---- route-origin validation ----

NOW = g.T0
VRPS = [  # (asn, prefix, maxLength, expires)
    (64500, "192.0.2.0/24", 24, NOW + 86400),
    (64501, "198.51.100.0/22", 23, 0),
    (0, "203.0.113.0/24", 24, 0),             # AS0: nobody may originate (RFC 7607)
    (64502, "10.0.0.0/8", 16, NOW - 1),       # expired at --now
    (64510, "2001:db8::/32", 48, 0),
]

# (prefix, path segments, expected verdict, expected reason)
CASES = [
    ("192.0.2.0/24", [(g.AS_SEQUENCE, [65001, 64500])], "valid", "match"),
    ("192.0.2.0/24", [(g.AS_SEQUENCE, [65001, 64999])], "invalid", "wrong-origin"),
    ("192.0.2.128/25", [(g.AS_SEQUENCE, [65001, 64500])], "invalid", "too-specific"),
    ("198.51.100.0/23", [(g.AS_SEQUENCE, [65001, 64501])], "valid", "match"),
    ("198.51.100.0/24", [(g.AS_SEQUENCE, [65001, 64501])], "invalid", "too-specific"),
    ("203.0.113.0/24", [(g.AS_SEQUENCE, [65001, 64500])], "invalid", "as0"),
    ("192.0.2.0/24", [(g.AS_SEQUENCE, [65001]), (g.AS_SET, [64500, 64501])],
     "invalid", "origin-none"),
    ("10.1.0.0/16", [(g.AS_SEQUENCE, [65001, 64502])], "not-found", "not-covered"),
    ("172.16.0.0/12", [(g.AS_SEQUENCE, [65001, 64500])], "not-found", "not-covered"),
    ("2001:db8:1::/48", [(g.AS_SEQUENCE, [65002, 64510])], "valid", "match"),
    ("2001:db8:1:1::/64", [(g.AS_SEQUENCE, [65002, 64510])], "invalid", "too-specific"),
    ("2001:db9::/32", [(g.AS_SEQUENCE, [65002, 64510])], "not-found", "not-covered"),
]


def aspath_text(segs):
    parts = []
    for t, asns in segs:
        if t == g.AS_SET:
            parts.append("{" + ",".join(map(str, asns)) + "}")
        else:
            parts.extend(map(str, asns))
    return " ".join(parts)


@pytest.fixture
def rov_rib(tmp_path):
    out = g.record(NOW, g.TABLE_DUMP_V2, g.PEER_INDEX_TABLE, g.peer_index(g.PEERS))
    for i, (prefix, segs, _, _) in enumerate(CASES):
        v6 = ":" in prefix
        a = g.attrs(path=segs, **({"mp_reach": g.mp_nh("2001:db8::1")} if v6
                                  else {"next_hop": "198.51.100.1"}))
        sub = g.RIB_IPV6_UNICAST if v6 else g.RIB_IPV4_UNICAST
        out += g.record(NOW + i, g.TABLE_DUMP_V2, sub, g.rib(i, prefix, [(2 if v6 else 0, 1, a)]))
    # The first route seen again later by another peer: one line, wider times.
    out += g.record(NOW + 100, g.TABLE_DUMP_V2, g.RIB_IPV4_UNICAST,
                    g.rib(99, CASES[1][0], [(1, 1, g.attrs(path=CASES[1][1],
                                                           next_hop="198.51.100.2"))]))
    f = tmp_path / "rov.mrt"
    f.write_bytes(out)
    return f


def write_vrps(tmp_path, kind):
    if kind == "rpki-client-json":
        doc = {"metadata": {"buildtime": "2023-11-14T22:13:20Z"},
               "roas": [{"asn": a, "prefix": p, "maxLength": m, "ta": "test",
                         **({"expires": e} if e else {})} for a, p, m, e in VRPS]}
        text = json.dumps(doc)
    elif kind == "routinator-json":
        doc = {"metadata": {}, "roas": [{"asn": f"AS{a}", "prefix": p, "maxLength": m,
                                         "ta": "test"} for a, p, m, e in VRPS
                                        if not e or e >= NOW]}
        text = json.dumps(doc)
    else:
        text = "ASN,IP Prefix,Max Length,Trust Anchor,Expires\n" + "".join(
            f"AS{a},{p},{m},test,{e if e else ''}\n" for a, p, m, e in VRPS)
    f = tmp_path / f"vrps-{kind}"
    f.write_text(text)
    return f


@pytest.mark.parametrize("kind", ["rpki-client-json", "routinator-json", "rpki-client-csv"])
def test_scan_rov_every_rfc6811_case(meridian_bin, tmp_path, rov_rib, kind):
    vrps = write_vrps(tmp_path, kind)
    p = run(meridian_bin, "bgp", "scan", "--vrps", vrps, "--now", NOW, "--rov-all", "--json",
            rov_rib)
    assert p.returncode == 1, p.stderr  # invalid routes were found
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(lines) == len(CASES)
    for got, (prefix, segs, rov, reason) in zip(lines, CASES):
        assert got["kind"] == "rov"
        assert (got["prefix"], got["rov"], got["reason"]) == (prefix, rov, reason), got
        flat = [a if t == g.AS_SEQUENCE else None for t, asns in segs for a in asns]
        assert got["as_path"][0] == segs[0][1][0]
        assert len(got["as_path"]) == sum(len(a) if t == g.AS_SEQUENCE else 1 for t, a in segs)
        assert None not in flat or isinstance(got["as_path"][-1], list)
    first = lines[1]
    assert first["first_seen"] == "2023-11-14T22:13:21.000Z"
    assert first["last_seen"] == "2023-11-14T22:15:00.000Z"
    assert first["peer_as"] == 65001


def test_scan_prints_only_invalid_by_default(meridian_bin, tmp_path, rov_rib):
    vrps = write_vrps(tmp_path, "rpki-client-json")
    p = run(meridian_bin, "bgp", "scan", "--vrps", vrps, "--now", NOW, rov_rib)
    assert p.returncode == 1, p.stderr
    want = [f"rov|{pf}|{aspath_text(s)}|" for pf, s, rov, _ in CASES if rov == "invalid"]
    got = p.stdout.splitlines()
    assert len(got) == len(want)
    for line, prefix in zip(got, want):
        assert line.startswith(prefix), (line, prefix)
        assert "|invalid|" in line


def test_scan_expiry_follows_now(meridian_bin, tmp_path, rov_rib):
    """Before it expired, the 10.0.0.0/8 VRP makes 10.1.0.0/16 from AS64502 valid."""
    vrps = write_vrps(tmp_path, "rpki-client-json")
    p = run(meridian_bin, "bgp", "scan", "--vrps", vrps, "--now", NOW - 10, "--rov-all",
            "--json", rov_rib)
    got = {(x["prefix"], tuple(map(str, x["as_path"]))): x for x in
           map(json.loads, p.stdout.splitlines())}
    assert got[("10.1.0.0/16", ("65001", "64502"))]["rov"] == "valid"


def test_scan_bad_vrps_named(meridian_bin, tmp_path, rov_rib):
    f = tmp_path / "bad.csv"
    f.write_text("ASN,IP Prefix,Max Length,Trust Anchor\nAS1,192.0.2.0/24,16,x\n")
    p = run(meridian_bin, "bgp", "scan", "--vrps", f, rov_rib)
    assert p.returncode == 2
    assert "line 2" in p.stderr and "maxLength" in p.stderr, p.stderr


def test_help_bgp(meridian_bin):
    p = run(meridian_bin, "help", "bgp")
    assert p.returncode == 0
    assert "bgpdump -m" in p.stdout + p.stderr
