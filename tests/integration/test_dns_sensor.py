"""`meridian dns baseline|check` against a lab of real DNS servers.

tests/integration/dnslab.py builds, in a network namespace this test
creates, a signed private root, a signed TLD and a signed watched zone
served by NSD, a hijacker's NSD, a validating Unbound (EDE on) and an
Unbound steered to a forged answer. Each test changes one thing in the
lab (delegation, resolver, keys, reachability), runs one check round, and
compares the findings with what it did; the healthy lab must give none.
The meridian binary runs inside the namespace (`ip netns exec`).
"""

import json
import os
import subprocess

import pytest

import dnslab

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or bool(dnslab.tools_missing()),
                                reason="needs root (network namespaces) and "
                                       f"{' '.join(dnslab.TOOLS)} (scripts/bootstrap)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("dnslab")
    with dnslab.Lab(work) as lab:
        yield lab


def write_config(lab, path, vantages):
    cfg = {"root": {"servers": [dnslab.ROOT], "trust_anchor": os.path.join(lab.work, "root.ds")},
           "zones": [{"zone": "example.tld.", "probe_names": ["www.example.tld."]}],
           "vantages": vantages, "interval": 60}
    path.write_text(json.dumps(cfg))
    return path


HONEST = [{"name": "isp-1", "server": dnslab.VANTAGE}]


def meridian(lab, meridian_bin, *args):
    # Short timeouts: an unreachable server in the lab never answers.
    return lab.ns_run(meridian_bin, "dns", *map(str, args), "--timeout", "400", "--retries",
                      "1", check=False)


def check(lab, meridian_bin, cfg, base, *extra):
    p = meridian(lab, meridian_bin, "check", "--config", cfg, "--baseline", base, "--json",
                 *extra)
    assert p.returncode in (0, 1), p.stderr
    assert "Sanitizer" not in p.stderr, p.stderr
    found = [json.loads(line) for line in p.stdout.splitlines()]
    assert p.returncode == (1 if found else 0)
    return found


@pytest.fixture(scope="module")
def baseline(lab, meridian_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("dnsbase")
    cfg = write_config(lab, d / "config.json", HONEST)
    base = d / "baseline.json"
    p = meridian(lab, meridian_bin, "baseline", "--config", cfg, "-o", base)
    assert p.returncode == 0, p.stderr
    return cfg, base


@pytest.fixture
def healthy(lab):
    """Puts the lab back as it was after each test."""
    yield lab
    lab.tld_delegates, lab.tld_ds = "honest", "right"
    lab.zone_sig_offset = (-3600, 30 * 86400)
    lab.vantage_ede = True
    lab.reload()


def test_baseline_learns_the_parent_side(baseline):
    b = json.loads(baseline[1].read_text())
    z = b["zones"][0]
    assert z["zone"] == "example.tld."
    assert z["ns"] == ["ns1.example.tld."]
    assert z["glue"] == {"ns1.example.tld.": [dnslab.ZONE]}
    assert z["parent_servers"] == [dnslab.TLD]
    assert len(z["ds"]) == 1 and z["ds"][0].split()[1:3] == ["13", "2"]
    assert z["probes"] == {"www.example.tld.": [dnslab.WWW]}


def test_healthy_lab_gives_no_finding(lab, meridian_bin, baseline):
    assert check(lab, meridian_bin, *baseline) == []


def test_delegation_switched_to_a_hijacker(healthy, meridian_bin, baseline):
    healthy.tld_delegates = "hijack"
    healthy.reload()
    found = check(healthy, meridian_bin, *baseline)
    deleg = {f["field"]: f for f in found if f["kind"] == "delegation"}
    assert deleg["ns"]["expected"] == ["ns1.example.tld."]
    assert deleg["ns"]["observed"] == ["ns9.example.tld."]
    assert deleg["ns"]["vantage"] == "authoritative"
    assert deleg["glue"]["observed"] == {"ns9.example.tld.": [dnslab.HIJACK]}
    assert deleg["ds"]["observed"] == []  # the hijack dropped the DS too
    assert all(f["zone"] == "example.tld." and f["first_seen"] for f in found)


def test_forged_answer_at_one_resolver(lab, meridian_bin, baseline, tmp_path):
    cfg = write_config(lab, tmp_path / "config.json",
                       HONEST + [{"name": "isp-2", "server": dnslab.FORGER}])
    found = check(lab, meridian_bin, cfg, baseline[1])
    assert [(f["kind"], f["vantage"], f["name"], f["observed"], f["expected"]) for f in found] == [
        ("divergence", "isp-2", "www.example.tld.", [dnslab.FORGED], [dnslab.WWW])]


def test_over_ipv6_root_and_vantage(lab, meridian_bin, baseline, tmp_path):
    """The root server and the vantage asked over IPv6 ([v6]:port in the
    configuration): the same baseline as over IPv4 and a quiet healthy lab."""
    cfg = tmp_path / "v6.json"
    cfg.write_text(json.dumps({
        "root": {"servers": [f"[{dnslab.ROOT6}]:53"]},
        "zones": [{"zone": "example.tld.", "probe_names": ["www.example.tld."]}],
        "vantages": [{"name": "isp-v6", "server": f"[{dnslab.VANTAGE6}]:53"}]}))
    base = tmp_path / "v6base.json"
    p = meridian(lab, meridian_bin, "baseline", "--config", cfg, "-o", base)
    assert p.returncode == 0, p.stderr
    assert json.loads(base.read_text())["zones"] == json.loads(baseline[1].read_text())["zones"]
    # Quiet: had the IPv6 vantage not answered, its SOA failure would be an outage.
    assert check(lab, meridian_bin, cfg, base) == []


def test_trust_anchor_of_the_private_root(lab, meridian_bin, baseline, tmp_path):
    """root.trust_anchor is checked against the root's DNSKEY set: the lab's
    own anchor (every test above uses it) is quiet; one whose digest names
    no key of the root is a dnssec finding at ".", and a file that is no
    trust anchor is a configuration error."""
    good = (tmp_path / "good.ds")
    good.write_text(open(os.path.join(lab.work, "root.ds")).read())
    wrong = tmp_path / "wrong.ds"
    fields = good.read_text().split()
    fields[-1] = fields[-1][:-4] + ("0000" if not fields[-1].endswith("0000") else "1111")
    wrong.write_text(" ".join(fields) + "\n")
    cfg = json.loads(baseline[0].read_text())
    cfg["root"]["trust_anchor"] = str(wrong)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    found = check(lab, meridian_bin, tmp_path / "cfg.json", baseline[1])
    assert [(f["kind"], f["zone"], f["cause"], f["field"], f["vantage"]) for f in found] == [
        ("dnssec", ".", "ds-mismatch", "trust-anchor", "authoritative")]
    assert found[0]["expected"] == ["DS " + fields[-4] + " " + fields[-3]]
    bad = tmp_path / "bad.ds"
    bad.write_text(". IN A 10.53.0.1\n")
    cfg["root"]["trust_anchor"] = str(bad)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    p = meridian(lab, meridian_bin, "check", "--config", tmp_path / "cfg.json", "--baseline",
                 baseline[1])
    assert p.returncode == 2 and "line 1: expected DS or DNSKEY" in p.stderr, p.stderr


def injecting(lab, **kw):
    """The lab with its on-path injector running (dnslab.Lab.start_injector)."""
    lab.start_injector(**kw)
    yield lab
    lab.stop("injector")


@pytest.fixture
def injector(lab):
    yield from injecting(lab)


def test_on_path_injector_racing_the_resolver(injector, meridian_bin, baseline):
    # Hold-On: listen on 1 s after the first answer, so the resolver's real
    # answer is heard beside the injected one however loaded the machine is.
    found = check(injector, meridian_bin, *baseline, "--hold", "1000")
    assert [(f["kind"], f["vantage"], f["name"], f["field"], f["observed"], f["expected"])
            for f in found] == [("injection", "isp-1", "www.example.tld.", "A",
                                 [dnslab.INJECTED], [dnslab.WWW])]
    ev = found[0]["evidence"]
    assert {"multiple-answers", "ip-ttl", "bogon", "censorship"} <= set(ev["rules"])
    assert ev["fingerprints"] == {dnslab.INJECTED: "ooni.ir_4"}
    assert ev["reference"]["ip_ttl"] == 64
    forged = [r for r in ev["replies"] if r["addrs"] == [dnslab.INJECTED]]
    real = [r for r in ev["replies"] if r["addrs"] == [dnslab.WWW]]
    assert len(forged) == 1 and forged[0]["ip_ttl"] == dnslab.INJECTED_TTL
    assert len(real) == 1 and real[0]["taken"] and real[0]["ip_ttl"] == 64
    # Asked again over TCP, which this injector does not forge: the real answer.
    assert ev["tcp"] == {"addrs": [dnslab.WWW], "rcode": "NOERROR"}
    assert not {"tcp-reset", "tcp-forged"} & set(ev["rules"])


@pytest.fixture
def rst_injector(lab):
    yield from injecting(lab, rst=True)


def test_injector_resetting_the_tcp_query(rst_injector, meridian_bin, baseline):
    """The injector also resets the TCP connection on which the query is
    asked again: the injection finding says so (tcp-reset)."""
    found = check(rst_injector, meridian_bin, *baseline, "--hold", "1000")
    assert [(f["kind"], f["vantage"], f["observed"]) for f in found] == [
        ("injection", "isp-1", [dnslab.INJECTED])]
    ev = found[0]["evidence"]
    assert "tcp-reset" in ev["rules"] and "multiple-answers" in ev["rules"], ev
    assert ev["tcp"]["reset"] is True, ev["tcp"]


def test_ds_mismatch_is_a_dnssec_failure(healthy, meridian_bin, baseline):
    healthy.tld_ds = "wrong"
    healthy.reload()
    found = check(healthy, meridian_bin, *baseline)
    kinds = {(f["kind"], f.get("cause"), f["vantage"]) for f in found}
    assert ("dnssec", "ds-mismatch", "authoritative") in kinds
    # The validating resolver fails it too, and +cd tells it from an outage.
    at_vantage = [f for f in found if f["kind"] == "dnssec" and f["vantage"] == "isp-1"]
    assert at_vantage, found
    assert all(f["evidence"]["cd_rcode"] == "NOERROR" for f in at_vantage)
    assert not [f for f in found if f["kind"] == "outage"]


def test_expired_signatures(healthy, meridian_bin, baseline):
    healthy.zone_sig_offset = (-10 * 86400, -86400)
    healthy.reload()
    found = check(healthy, meridian_bin, *baseline)
    auth = [f for f in found if f["kind"] == "dnssec" and f["vantage"] == "authoritative"]
    assert auth and all(f["cause"] == "signature-expired" for f in auth)
    vantage = [f for f in found if f["kind"] == "dnssec" and f["vantage"] == "isp-1"]
    assert vantage, found
    # Unbound says why (RFC 8914 code 7, Signature Expired).
    assert {f["cause"] for f in vantage} == {"signature-expired"}
    assert all(f["evidence"]["ede"] == 7 for f in vantage)


def test_servfail_without_ede_waits_for_the_next_round(healthy, meridian_bin, baseline,
                                                      tmp_path):
    """Expired signatures at a validating resolver that sends no Extended
    DNS Error: its SERVFAIL (answered with +cd) looks like an upstream
    timeout, so with --state it waits in the state's pending for the next
    round, which reports it with the first round's time as first_seen."""
    state = tmp_path / "state.json"
    healthy.vantage_ede = False
    healthy.zone_sig_offset = (-10 * 86400, -86400)
    healthy.reload()
    first = check(healthy, meridian_bin, *baseline, "--state", state)
    assert not [f for f in first if f["vantage"] == "isp-1"], first
    assert [f for f in first if f["vantage"] == "authoritative"], first  # no wait at the source
    s1 = json.loads(state.read_text())
    held = s1["pending"]
    assert held and all(p["kind"] == "dnssec" and p["vantage"] == "isp-1" and
                        p["first_seen"] == s1["round"] for p in held), held
    again = check(healthy, meridian_bin, *baseline, "--state", state)
    confirmed = [f for f in again if f["kind"] == "dnssec" and f["vantage"] == "isp-1"]
    assert confirmed, again
    assert "ede" not in confirmed[0]["evidence"] and confirmed[0]["cause"] == "other"
    assert {f["first_seen"] for f in confirmed} == {s1["round"]}
    assert json.loads(state.read_text())["pending"] == []


def test_outage_and_its_end(healthy, meridian_bin, baseline, tmp_path):
    state = tmp_path / "state.json"
    healthy.stop("zone")
    found = check(healthy, meridian_bin, *baseline, "--state", state)
    assert {(f["kind"], f["vantage"]) for f in found} == {("outage", "authoritative"),
                                                          ("outage", "isp-1")}
    first = {f["vantage"]: f["first_seen"] for f in found}
    again = check(healthy, meridian_bin, *baseline, "--state", state)
    assert {f["vantage"]: f["first_seen"] for f in again} == first  # carried over
    healthy.restart("zone", "vantage")
    ended = check(healthy, meridian_bin, *baseline, "--state", state)
    assert {(f["kind"], f["vantage"]) for f in ended} == {("outage-end", "authoritative"),
                                                          ("outage-end", "isp-1")}
    assert check(healthy, meridian_bin, *baseline, "--state", state) == []


def test_findings_as_stix(lab, meridian_bin, baseline, tmp_path):
    cfg = write_config(lab, tmp_path / "config.json",
                       HONEST + [{"name": "isp-2", "server": dnslab.FORGER}])
    out = tmp_path / "alerts.json"
    p = meridian(lab, meridian_bin, "check", "--config", cfg, "--baseline", baseline[1],
                 "--stix", out, "--tlp", "green")
    assert p.returncode == 1, p.stderr
    bundle = json.loads(out.read_text())
    od = [o for o in bundle["objects"] if o["type"] == "observed-data"]
    assert len(od) == 1
    ext = od[0]["extensions"]["extension-definition--0c9a3f5e-4d6b-5a0f-9d38-6f1f2b7f9a41"]
    assert ext["kind"] == "divergence" and ext["vantage"] == "isp-2"
    assert od[0]["object_marking_refs"] == [
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]  # TLP 2.0 GREEN
    values = {o.get("value") for o in bundle["objects"] if o["type"] in ("domain-name",
                                                                         "ipv4-addr")}
    assert values == {"example.tld", "www.example.tld", dnslab.FORGED}
    assert "key" not in ext


def _openssl(*args, cwd):
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True,
                   timeout=60)


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    """A test CA and two certificates it signs: one for www.example.tld, one
    for another name."""
    d = tmp_path_factory.mktemp("ca")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=Meridian DNS lab CA", cwd=d)
    for leaf, name in (("right", "www.example.tld"), ("wrong", "www.other.tld")):
        (d / f"{leaf}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        _openssl("req", *ec, "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr", "-subj",
                 f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", f"{leaf}.ext", "-out",
                 f"{leaf}.pem", cwd=d)
    return d


def excused_config(lab, tmp_path, excuses):
    cfg = write_config(lab, tmp_path / "config.json",
                       HONEST + [{"name": "isp-2", "server": dnslab.FORGER}])
    c = json.loads(cfg.read_text())
    c["excuses"] = excuses
    cfg.write_text(json.dumps(c))
    return cfg


def test_divergence_excused_by_tls(lab, meridian_bin, baseline, test_ca, tmp_path):
    """isp-2 answers www.example.tld. with another address (FORGED). A web
    server there whose certificate the configured CA signed for the name
    excuses it (recorded in the state, not reported); one with a
    certificate for another name, or no server at all, does not."""
    cfg = excused_config(lab, tmp_path, {"tls_ca": str(test_ca / "ca.pem"),
                                         "tls_timeout_ms": 3000})
    state = tmp_path / "state.json"
    try:
        lab.start_tls(dnslab.FORGED, test_ca / "right.pem", test_ca / "right.key")
        assert check(lab, meridian_bin, cfg, baseline[1], "--state", state) == []
        ex = json.loads(state.read_text())["excused"]
        assert [(e["kind"], e["vantage"], e["name"], e["observed"]) for e in ex] == [
            ("divergence", "isp-2", "www.example.tld.", [dnslab.FORGED])]
        why = ex[0]["evidence"]["excuses"][dnslab.FORGED]
        assert why["excused"] == "tls" and why["tls"] == "certificate valid"

        # A new state: the one above keeps the valid verdict for an hour
        # (excuses.tls_cache_ttl; test_tls_verdict_cached_between_rounds).
        state = tmp_path / "state2.json"
        lab.start_tls(dnslab.FORGED, test_ca / "wrong.pem", test_ca / "wrong.key")
        found = check(lab, meridian_bin, cfg, baseline[1], "--state", state)
        assert [(f["kind"], f["vantage"], f["observed"]) for f in found] == [
            ("divergence", "isp-2", [dnslab.FORGED])]
        why = found[0]["evidence"]["excuses"][dnslab.FORGED]
        assert why["excused"] is None and why["tls"].startswith("certificate:"), why
        assert json.loads(state.read_text())["excused"] == []
    finally:
        lab.stop("tls")
    found = check(lab, meridian_bin, cfg, baseline[1])
    assert [(f["kind"], f["vantage"]) for f in found] == [("divergence", "isp-2")]
    assert found[0]["evidence"]["excuses"][dnslab.FORGED]["tls"].startswith("connect")


def test_tls_verdict_cached_between_rounds(lab, meridian_bin, baseline, test_ca, tmp_path):
    """A lasting divergence costs one handshake, not one per round: the
    round after takes the verdict from the state (evidence tls_cached,
    counted in the state's tls_cached) and the TLS server sees no new
    handshake; with excuses.tls_cache_ttl 0 every round asks again."""
    cfg = excused_config(lab, tmp_path, {"tls_ca": str(test_ca / "ca.pem"),
                                         "tls_timeout_ms": 3000})
    state = tmp_path / "state.json"
    try:
        lab.start_tls(dnslab.FORGED, test_ca / "right.pem", test_ca / "right.key")
        assert check(lab, meridian_bin, cfg, baseline[1], "--state", state) == []
        assert lab.tls_handshakes() == 1
        s1 = json.loads(state.read_text())
        assert s1["tls_cached"] == 0
        assert check(lab, meridian_bin, cfg, baseline[1], "--state", state) == []
        s2 = json.loads(state.read_text())
        assert s2["tls_cached"] == 1
        why = s2["excused"][0]["evidence"]["excuses"][dnslab.FORGED]
        assert why["excused"] == "tls" and why["tls_cached"] == s1["round"]
        assert lab.tls_handshakes() == 1, "the second round made a handshake"
        c = json.loads(cfg.read_text())
        c["excuses"]["tls_cache_ttl"] = 0
        cfg.write_text(json.dumps(c))
        assert check(lab, meridian_bin, cfg, baseline[1], "--state", state) == []
        assert lab.tls_handshakes() == 2
    finally:
        lab.stop("tls")


def test_divergence_excused_by_asn(lab, meridian_bin, baseline, tmp_path):
    """A prefix-to-ASN table (CAIDA pfx2as format) in which the diverging
    address and the authoritative one have the same origin excuses it;
    another origin does not."""
    table = tmp_path / "pfx2as.txt"
    cfg = excused_config(lab, tmp_path, {"asn_table": str(table)})
    table.write_text(f"# test table\n{dnslab.FORGED}\t32\t64500\n192.0.2.0\t24\t64500\n")
    assert check(lab, meridian_bin, cfg, baseline[1]) == []
    table.write_text(f"{dnslab.FORGED}\t32\t63949\n192.0.2.0\t24\t64500\n")
    found = check(lab, meridian_bin, cfg, baseline[1])
    assert [(f["kind"], f["vantage"]) for f in found] == [("divergence", "isp-2")]
    why = found[0]["evidence"]["excuses"][dnslab.FORGED]
    assert why == {"asn": [63949], "asn_source": "pfx2as", "tls": "not tried", "excused": None}
    table.write_text("45.33.32.0\t24\tAS1\n")
    p = meridian(lab, meridian_bin, "check", "--config", cfg, "--baseline", baseline[1])
    assert p.returncode == 2 and "pfx2as: line 1" in p.stderr, p.stderr


def test_bad_configuration_is_a_usage_error(lab, meridian_bin, tmp_path):
    cfg = tmp_path / "bad.json"
    cfg.write_text('{"zones": [{"zone": "example.tld.", "probe_names": ["www.other."]}]}')
    p = meridian(lab, meridian_bin, "baseline", "--config", cfg, "-o", tmp_path / "b.json")
    assert p.returncode == 2
    assert "zones[0].probe_names[0]: not inside the zone" in p.stderr


def with_config(baseline, tmp_path, **members):
    cfg = json.loads(baseline[0].read_text())
    cfg.update(members)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return path


# (inception, expiration) of the zone's signatures, DS at the TLD -> the
# cause the in-process validator (libunbound) gives.
BROKEN = {
    "signature-expired": ((-10 * 86400, -86400), "right"),
    # (beyond Unbound's clock-skew allowance, at most a day)
    "signature-not-yet-valid": ((3 * 86400, 30 * 86400), "right"),
    "ds-mismatch": ((-3600, 30 * 86400), "wrong"),
}


@pytest.mark.parametrize("cause", sorted(BROKEN))
def test_validator_classifies_the_failure(healthy, meridian_bin, baseline, tmp_path, cause):
    """"validator": true validates each zone's SOA with libunbound from the
    private root and its trust anchor: a bogus verdict is a dnssec finding
    at vantage "validator" whose cause comes from Unbound's why-bogus text."""
    cfg = with_config(baseline, tmp_path, validator=True)
    assert check(healthy, meridian_bin, cfg, baseline[1]) == []  # healthy: secure, quiet
    healthy.zone_sig_offset, healthy.tld_ds = BROKEN[cause]
    healthy.reload()
    found = check(healthy, meridian_bin, cfg, baseline[1])
    val = [f for f in found if f["vantage"] == "validator"]
    assert [(f["kind"], f["zone"], f["name"], f["cause"]) for f in val] == [
        ("dnssec", "example.tld.", "example.tld.", cause)], found
    assert val[0]["observed"] == "bogus" and val[0]["evidence"]["why_bogus"], val
    # The direct checks at the zone's servers agree on the cause.
    assert cause in {f.get("cause") for f in found if f["vantage"] == "authoritative"}


def test_signatures_close_to_expiry_warn(healthy, meridian_bin, baseline, tmp_path):
    """Signatures expiring within expiry_warning (default 3 days) are an
    early warning (cause other, field expires-soon); a shorter threshold
    keeps the same zone quiet, and the healthy lab (30 days left) is quiet."""
    healthy.zone_sig_offset = (-3600, 86400)  # a day left
    healthy.reload()
    found = check(healthy, meridian_bin, *baseline)
    assert found and {(f["kind"], f["cause"], f["field"], f["vantage"]) for f in found} == {
        ("dnssec", "other", "expires-soon", "authoritative")}, found
    assert all(0 < f["evidence"]["seconds_left"] <= 86400 for f in found)
    assert check(healthy, meridian_bin, with_config(baseline, tmp_path, expiry_warning=3600),
                 baseline[1]) == []


def test_validator_needs_a_trust_anchor(lab, meridian_bin, baseline, tmp_path):
    cfg = json.loads(baseline[0].read_text())
    del cfg["root"]["trust_anchor"]
    cfg["validator"] = True
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    p = meridian(lab, meridian_bin, "check", "--config", tmp_path / "c.json", "--baseline",
                 baseline[1])
    assert p.returncode == 2 and "validator: needs root.trust_anchor" in p.stderr, p.stderr


@pytest.fixture
def tc_injector(lab):
    yield from injecting(lab, tc=True)


def test_injector_forging_a_truncated_answer(tc_injector, meridian_bin, baseline):
    """An on-path injector whose forged answer has the TC bit: when it wins
    the race the query goes to TCP (which it cannot forge here) and the
    truncated answer names an address the TCP answer lacks (tcp-disagrees);
    when the resolver wins, Hold-On hears the forged one late. Either way
    exactly one injection finding names the forged address."""
    found = check(tc_injector, meridian_bin, *baseline, "--hold", "1000")
    assert [(f["kind"], f["vantage"], f["name"], f["field"], f["observed"], f["expected"])
            for f in found] == [("injection", "isp-1", "www.example.tld.", "A",
                                 [dnslab.INJECTED], [dnslab.WWW])]
    rules = set(found[0]["evidence"]["rules"])
    assert {"multiple-answers", "censorship"} <= rules
    taken = [r for r in found[0]["evidence"]["replies"] if r["taken"]]
    assert [r["addrs"] for r in taken] == [[dnslab.WWW]]
