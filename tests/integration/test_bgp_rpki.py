"""The rpki-client lab (issue 14): VRPs from Debian's rpki-client, run offline
(-n) over a test RPKI repository that tests/integration/rpki_gen.py builds
(trust anchor, CA, CRLs, manifests, ROAs as CMS signed objects), then
`meridian bgp scan --vrps` on rpki-client's JSON and CSV outputs. The
verdicts must equal a table derived by hand from RFC 6811 and BIRD 2's own
roa_check() over the ROA tables rpki-client writes for BIRD (-B).
rpki-client's outputs of one such run are also kept in tests/data/bgp/rpki/
so the scan is replayed without rpki-client."""
import json
import os
import re
import subprocess

import pytest

import mrt_gen as g
import netns
import rpki_gen
from bgplab import BIRD, BIRDC
from conftest import DATA, run
from node import wait_for

NOW = 1700000000
SEQ, SET = g.AS_SEQUENCE, g.AS_SET

# The lab's routes and their verdicts against rpki_gen.ROAS, by RFC 6811 §2:
# (prefix, origin path after peer AS65001, verdict, Meridian's reason).
ROUTES = [
    ("192.0.2.0/24", [64500], "valid", "match"),
    ("192.0.2.0/24", [64666], "invalid", "wrong-origin"),
    ("192.0.2.0/25", [64500], "invalid", "too-specific"),       # maxLength 24
    ("192.0.2.128/25", [64503], "valid", "match"),              # its own ROA
    ("192.0.2.128/25", [64500], "invalid", "too-specific"),
    ("192.0.2.192/26", [64503], "invalid", "too-specific"),
    ("198.51.100.0/24", [64501], "valid", "match"),
    ("198.51.100.64/26", [64501], "valid", "match"),            # maxLength 26
    ("198.51.100.64/27", [64501], "invalid", "too-specific"),
    ("203.0.113.0/24", [64500], "invalid", "as0"),              # AS0 ROA (RFC 7607)
    ("203.0.113.7/32", [64501], "invalid", "as0"),
    ("10.0.0.0/8", [64500], "not-found", "not-covered"),
    ("192.0.0.0/16", [64500], "not-found", "not-covered"),      # shorter than any ROA
    ("2001:db8::/32", [64502], "valid", "match"),
    ("2001:db8:1::/48", [64502], "invalid", "too-specific"),
    ("2001:db8:100::/40", [64501], "valid", "match"),
    ("2001:db8:1ff::/48", [64501], "valid", "match"),            # maxLength 48
    ("2001:db8:100::/49", [64501], "invalid", "too-specific"),
    ("2001:db8:100::/44", [64502], "invalid", "too-specific"),  # AS64502's /32, max 32
    ("2001:db8:200::/40", [64501], "invalid", "wrong-origin"),
    ("2001:db9::/32", [64502], "not-found", "not-covered"),
]
# An AS_SET origin (RFC 6811 §2: origin NONE) matches no ROA; BIRD's
# static routes cannot carry one, so only the hand table judges it.
SET_ROUTES = [
    ("192.0.2.0/24", [64500, 64501], "invalid", "origin-none"),
    ("10.0.0.0/8", [64500, 64501], "not-found", "not-covered"),
]


def segments(prefix, origin, as_set):
    return [(SEQ, [65001]), (SET, origin)] if as_set else [(SEQ, [65001, *origin])]


def rib_file(path):
    """A TABLE_DUMP_V2 RIB (mrt_gen) with every lab route, from peer AS65001."""
    peers = [("198.51.100.1", 65001, True), ("2001:db8::1", 65001, True)]
    out = g.record(NOW, g.TABLE_DUMP_V2, g.PEER_INDEX_TABLE, g.peer_index(peers))
    cases = [(r, False) for r in ROUTES] + [(r, True) for r in SET_ROUTES]
    for i, ((prefix, origin, _, _), as_set) in enumerate(cases):
        v6 = ":" in prefix
        a = g.attrs(path=segments(prefix, origin, as_set),
                    **({"mp_reach": g.mp_nh("2001:db8::1")} if v6
                       else {"next_hop": "198.51.100.1"}))
        sub = g.RIB_IPV6_UNICAST if v6 else g.RIB_IPV4_UNICAST
        out += g.record(NOW + i, g.TABLE_DUMP_V2, sub, g.rib(i, prefix, [(1 if v6 else 0, 1, a)]))
    path.write_bytes(out)
    return path


@pytest.fixture(scope="module")
def lab():
    """The generated repository and rpki-client's outputs (JSON, CSV, BIRD)."""
    with rpki_gen.workdir() as work:
        rpki_gen.generate(work)
        out, log = rpki_gen.rpki_client(work, "-j", "-c", "-B")
        yield work, out, log


def test_rpki_client_validates_the_generated_repository(lab):
    workdir, out, log = lab
    # every object accepted: 5 ROAs, 2 manifests, 2 CRLs, 2 certificates
    assert re.search(r"Route Origin Authorizations: 5 \(0 failed parse, 0 invalid\)", log), log
    assert "Manifests: 2 (0 failed parse, 0 stale)" in log, log
    assert "Certificates: 2 (0 invalid)" in log, log
    assert "Certificate revocation lists: 2" in log, log
    rows = [ln.split(",") for ln in (out / "csv").read_text().splitlines()[1:]]
    got = sorted((int(a[2:]), p, int(m)) for a, p, m, ta, _ in rows)
    assert got == rpki_gen.expected_vrps()
    assert {r[3] for r in rows} == {"lab"}
    roas = json.loads((out / "json").read_text())["roas"]
    assert sorted((r["asn"], r["prefix"], r["maxLength"]) for r in roas) == got
    assert all(r["expires"] > NOW for r in roas)


def test_a_tampered_roa_is_refused_by_rpki_client():
    """The repository is really checked: one ROA's bytes changed after the
    manifest was signed, and the CA's publication point fails as a whole
    (RFC 9286 §6.4): no VRP at all."""
    with rpki_gen.workdir() as work:
        rpki_gen.generate(work)
        roa = work / "cache" / "rpki.lab.test" / "repo" / "ca" / "as64500.roa"
        data = bytearray(roa.read_bytes())
        data[-1] ^= 1  # the last byte of the signature
        roa.write_bytes(bytes(data))
        out, log = rpki_gen.rpki_client(work, "-c")
        assert "ca.mft: bad message digest for as64500.roa" in log, log
        assert (out / "csv").read_text().splitlines()[1:] == []


def scan(meridian_bin, vrps, rib, *extra):
    p = run(meridian_bin, "bgp", "scan", "--vrps", vrps, "--rov-all", "--json", *extra, rib)
    assert p.returncode in (0, 1), p.stderr
    return {(x["prefix"], json.dumps(x["as_path"])): x
            for x in map(json.loads, p.stdout.splitlines())}


def key(prefix, origin, as_set):
    path = [65001, origin] if as_set else [65001, *origin]
    return prefix, json.dumps(path)


def assert_table(got):
    want = [(r, False) for r in ROUTES] + [(r, True) for r in SET_ROUTES]
    assert len(got) == len(want), sorted(got)
    for (prefix, origin, verdict, reason), as_set in want:
        x = got[key(prefix, origin, as_set)]
        assert (x["rov"], x["reason"]) == (verdict, reason), (prefix, origin, x)


@pytest.mark.parametrize("output", ["json", "csv"])
def test_scan_on_rpki_client_output_follows_rfc6811(meridian_bin, tmp_path, lab, output):
    workdir, out, _ = lab
    rib = rib_file(tmp_path / "lab.mrt")
    assert_table(scan(meridian_bin, out / output, rib))


@pytest.mark.parametrize("output", ["json", "csv"])
def test_rpki_client_expiry_is_honoured(meridian_bin, tmp_path, lab, output):
    """Past the `expires` rpki-client derived from the chain, no VRP is left."""
    workdir, out, _ = lab
    roas = json.loads((out / "json").read_text())["roas"]
    after = max(r["expires"] for r in roas) + 1
    got = scan(meridian_bin, out / output, rib_file(tmp_path / "lab.mrt"), "--now", str(after))
    assert {x["rov"] for x in got.values()} == {"not-found"}


@pytest.mark.parametrize("output", ["json", "csv"])
def test_replayed_rpki_client_outputs(meridian_bin, tmp_path, output):
    """rpki-client's outputs of one lab run, kept as fixtures (no rpki-client)."""
    vrps = DATA / "bgp" / "rpki" / output
    assert vrps.is_file(), f"fixture missing: {vrps}"
    assert_table(scan(meridian_bin, vrps, rib_file(tmp_path / "lab.mrt"), "--now", str(NOW)))


# ---- BIRD's roa_check() over the same VRPs -------------------------------

def bird_conf(tmp_path, roa_file, log):
    """BIRD 2 with rpki-client's ROA tables and one static protocol per
    family holding the lab routes (disabled until the ROA tables are full),
    whose import filter logs roa_check() for each."""
    def routes(v6):
        out = []
        for prefix, origin, _, _ in ROUTES:
            if (":" in prefix) == v6:
                prepends = "".join(f"bgp_path.prepend({a}); " for a in reversed([65001, *origin]))
                out.append(f"  route {prefix} blackhole {{ {prepends}}};")
        return "\n".join(out)

    def proto(name, fam, table):
        return f"""
protocol static {name} {{
  disabled;
  {fam} {{ import filter {{
    if roa_check({table}, net, bgp_path.last) = ROA_VALID then print "ROV|", net, "|", bgp_path.last, "|valid";
    if roa_check({table}, net, bgp_path.last) = ROA_INVALID then print "ROV|", net, "|", bgp_path.last, "|invalid";
    if roa_check({table}, net, bgp_path.last) = ROA_UNKNOWN then print "ROV|", net, "|", bgp_path.last, "|not-found";
    accept;
  }}; }};
{routes(fam == "ipv6")}
}}
"""
    conf = tmp_path / "bird.conf"
    conf.write_text(f'log "{log}" all;\nrouter id 10.0.0.9;\ninclude "{roa_file}";\n'
                    + proto("lab4", "ipv4", "ROAS4") + proto("lab6", "ipv6", "ROAS6"))
    return conf


def test_bird_roa_check_agrees(meridian_bin, tmp_path, lab):
    assert os.access(BIRD, os.X_OK), "bird is missing: scripts/bootstrap installs Debian's bird2"
    workdir, out, _ = lab
    log, ctl = tmp_path / "bird.log", tmp_path / "bird.ctl"
    conf = bird_conf(tmp_path, out / "bird", log)
    stderr = open(tmp_path / "bird.stderr", "w")
    proc = subprocess.Popen([BIRD, "-f", "-c", str(conf), "-s", str(ctl),
                             "-P", str(tmp_path / "bird.pid")], stdout=stderr,
                            stderr=subprocess.STDOUT)

    def birdc(*args):
        p = subprocess.run([BIRDC, "-s", str(ctl), *args], capture_output=True, text=True,
                           timeout=20)
        return p.stdout if p.returncode == 0 else ""

    def count(table):
        m = re.search(r"(\d+) of \d+ routes", birdc("show", "route", "table", table, "count"))
        return int(m.group(1)) if m else -1
    try:
        n4 = sum(1 for _, p, _ in rpki_gen.expected_vrps() if ":" not in p)
        wait_for(lambda: count("ROAS4") == n4, 30, step=0.2)
        wait_for(lambda: count("ROAS6") == len(rpki_gen.expected_vrps()) - n4, 30, step=0.2)
        birdc("enable", "lab4")
        birdc("enable", "lab6")

        def verdicts():
            text = log.read_text() if log.exists() else ""
            return [ln.split("ROV|", 1)[1].split("|") for ln in text.splitlines() if "ROV|" in ln]
        wait_for(lambda: len(verdicts()) >= len(ROUTES), 30, step=0.2)
    finally:
        netns.stop(proc)
        stderr.close()
    bird = {(net, int(asn)): v for net, asn, v in verdicts()}
    assert len(bird) == len(ROUTES), bird
    ours = scan(meridian_bin, out / "json", rib_file(tmp_path / "lab.mrt"))
    for prefix, origin, verdict, _ in ROUTES:
        assert bird[(prefix, origin[-1])] == verdict, (prefix, origin)
        assert ours[key(prefix, origin, False)]["rov"] == bird[(prefix, origin[-1])]
