"""The live routing sensor (issue 14): `meridian serve --bmp-listen`.

A lab of real BGP speakers, each in a network namespace the test creates
(bgplab.py), peering over veth pairs: the monitored one, a GoBGP (Debian
gobgpd, AS65001), streams BMP to meridian (in the root namespace, on the
root end of the monitored router's uplink); its neighbour (AS65002:
another GoBGP, or BIRD 2 so that two implementations talk) announces a
prefix meridian watches, then a more-specific of it originated by
AS64666. The alert must appear over TAXII within a bound, name the victim
prefix and the hijacker, stay one alert however many UPDATEs carry it,
and end when the BGP session goes down (Peer Down). A client sending
garbage is disconnected with a log line while the node keeps serving. The
captured stream of such a lab (tests/data/bgp/gobgp-hijack.bmp) is also
replayed without daemons. FRR's bgpd (Debian frr, -M bmp) is monitored
the same way; a lab announces every hijack type, a leak and a
country-wide withdrawal through GoBGP or FRR, with VRPs produced by
rpki-client (rpki_gen.py); and BIRD 2 routers with RFC 9234 roles set
Only-To-Customer on a route that a customer then leaks to its provider;
a no-export violation (ARTEMIS's policy dimension) is raised live too.
Without root (no namespaces) the live labs are skipped, saying so.
"""
import json
import re
import socket
import time

import pytest
from selenium.webdriver.common.by import By

import bgplab
import mrt_gen as g
import netns
import rpki_gen
from conftest import DATA, run
from node import Node, wait_for
from test_console_browser import browser, go, shots, signin  # noqa: F401 (fixtures)
from test_fed_signatures import sig_of

EXT = "extension-definition--55216efd-e6c2-52d8-b102-8ec96c5da078"
VICTIM = "203.0.113.0/24"
HIJACK = "203.0.113.128/25"
ALERT_BOUND_S = 15  # from the UPDATE to the alert readable over TAXII


def sensor_node(meridian_bin, tmp_path, *extra, victim=False, config=None, vrps_csv=None,
                listen="127.0.0.1"):
    work = tmp_path / "node"
    work.mkdir()
    n = Node(meridian_bin, work)
    n.init()
    grants = [("own", True, True)]
    if victim:  # a constituent that owns the watched prefix (docs/notify.md)
        n.org("victim", "constituent")
        n.cli("asset", "add", "--org", "victim", "--data", n.data, VICTIM)
        grants.append(("victim", True, False))
    coll = n.collection(alias="routing", grants=grants)
    cfg = tmp_path / "watch.json"
    cfg.write_text(json.dumps(config or {"prefixes": [{"prefix": VICTIM, "origins": [65002]}]}))
    vrps = tmp_path / "vrps.csv"
    vrps.write_text(vrps_csv or f"ASN,IP Prefix,Max Length,Trust Anchor\nAS65002,{VICTIM},24,lab\n")
    n.extra_args = ["--bmp-listen", f"{listen}:0", "--bmp-collection", coll,
                    "--bmp-config", str(cfg), "--bmp-vrps", str(vrps), "--bmp-tlp", "green",
                    *extra]
    n.start()
    m = re.search(r"routing sensor: BMP on " + re.escape(listen) + r":(\d+)", n.stderr())
    assert m, n.stderr()
    return n, coll, int(m.group(1))


def alerts(n, coll, root="api1"):
    """The routing alerts of the collection (latest versions), by id."""
    items, _ = n.page_all(n.objects_path(coll, root), params={"match[type]": "observed-data"})
    return {o["id"]: o for o in items if EXT in o.get("extensions", {})}


def versions(n, coll, oid):
    r = n.get(f"/api1/collections/{coll}/objects/{oid}/versions/")
    assert r.status_code == 200, r.text
    return r.json()["versions"]


@pytest.fixture
def sensor(meridian_bin, tmp_path):
    n, coll, port = sensor_node(meridian_bin, tmp_path)
    yield n, coll, port
    n.stop()


# ---- replay of a captured stream (no daemons) ----------------------------

def test_replayed_capture_raises_one_alert_that_ends(sensor):
    n, coll, port = sensor
    capture = (DATA / "bgp" / "gobgp-hijack.bmp").read_bytes()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        # in pieces that cut messages, as TCP may deliver them
        for i in range(0, len(capture), 100):
            s.sendall(capture[i:i + 100])
        wait_for(lambda: any(a["extensions"][EXT].get("ended") for a in alerts(n, coll).values()),
                 ALERT_BOUND_S)
    got = alerts(n, coll)
    assert len(got) == 1, got
    (oid, a), = got.items()
    ext = a["extensions"][EXT]
    assert ext["kind"] == "hijack" and ext["type"] == "S|0|-|-"
    assert ext["prefix"] == HIJACK and ext["hijacker_as"] == 64666
    assert ext["matched_prefix"] == VICTIM and ext["as_path"] == [65002, 64666]
    assert ext["rov"] == "invalid" and ext["reason"] == "wrong-origin"
    assert a["object_marking_refs"] == ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    assert sig_of(a) is not None  # signed with the node key, like every local object
    # the hijack and its withdrawal may arrive in one read: one version or two
    assert 1 <= len(versions(n, coll, oid)) <= 2
    assert "bmp: router 127.0.0.1:" in n.stderr() and "is GoBGP" in n.stderr()


def test_garbage_is_disconnected_and_node_keeps_serving(sensor):
    n, coll, port = sensor
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100) == b""  # the sensor hung up
    wait_for(lambda: "version is not 3 (RFC 7854 §4.1); session closed" in n.stderr(), 10)
    line = [ln for ln in n.stderr().splitlines() if "version is not 3" in ln][0]
    assert "bmp: message at offset 0" in line
    # a length past the limit: refused before any buffering
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(bytes([3, 0x7f, 0xff, 0xff, 0xff, 0]))
        assert s.recv(100) == b""
    wait_for(lambda: "beyond the limit of 65583 bytes" in n.stderr(), 10)
    assert n.get("/taxii2/").status_code == 200
    assert alerts(n, coll) == {}
    # and a good router is still served afterwards
    capture = (DATA / "bgp" / "gobgp-hijack.bmp").read_bytes()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(capture)
        wait_for(lambda: len(alerts(n, coll)) == 1, ALERT_BOUND_S)


def test_alert_reaches_the_victim_through_early_warning(meridian_bin, tmp_path):
    n, coll, port = sensor_node(meridian_bin, tmp_path, victim=True)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall((DATA / "bgp" / "gobgp-hijack.bmp").read_bytes())

            def notes():
                p = n.cli("notify", "list", "--json", "--org", "victim", "--data", n.data)
                return json.loads(p.stdout)["notifications"]
            wait_for(lambda: any(HIJACK in x["value"] for x in notes()), 20, step=0.2)
        hit = [x for x in notes() if HIJACK in x["value"]][0]
        assert hit["asset"] == VICTIM, hit
        # what routes is the alert's address object (docs/bgp.md)
        (alert,) = alerts(n, coll).values()
        assert hit["object_id"].startswith("ipv4-addr--")
        assert hit["object_id"] in alert["object_refs"]
    finally:
        n.stop()


def test_session_limit_and_idle_timeout(meridian_bin, tmp_path):
    n, coll, port = sensor_node(meridian_bin, tmp_path, "--bmp-max-sessions", "1",
                                "--bmp-idle-timeout", "2")
    init = bytes([3, 0, 0, 0, 15, 4, 0, 2, 0, 5]) + b"alive"  # Initiation, sysName
    try:
        a = socket.create_connection(("127.0.0.1", port), timeout=10)
        a.sendall(init)
        wait_for(lambda: "is alive" in n.stderr(), 10)
        b = socket.create_connection(("127.0.0.1", port), timeout=0.2)
        refused = False
        end = time.monotonic() + 20
        while not refused and time.monotonic() < end:
            a.sendall(init)  # a stays busy, so only the limit can close b
            try:
                refused = b.recv(10) == b""
            except socket.timeout:
                pass
        assert refused, "a second session was accepted"
        assert "1 sessions already (bmp-max-sessions)" in n.stderr()
        b.close()
        assert a.recv(10) == b""  # silent now: closed after 2 s
        assert "silent past bmp-idle-timeout" in n.stderr()
        a.close()
    finally:
        n.stop()


# ---- the GoBGP lab ----------------------------------------------------------

@pytest.fixture
def lab(tmp_path):
    """A routing lab (bgplab.py): routers in network namespaces made here,
    all stopped and deleted at the end."""
    why = netns.unavailable()
    if why:
        pytest.skip(why)
    with bgplab.Lab(tmp_path / "lab") as routing_lab:
        yield routing_lab


def monitored_lab(lab, meridian_bin, tmp_path, router="gobgp", *extra, **sensor):
    """The sensor in the root namespace, listening for BMP on the root end
    of the monitored router's uplink; the monitored router (AS65001, GoBGP
    or FRR) streaming BMP to it, and its neighbour AS65002, a GoBGP, over
    a veth pair between their namespaces. Both routers and the node are
    stopped when the lab closes."""
    station, ns_addr = lab.uplink("monitored")
    a, b = lab.link("monitored", "announcer")
    n, coll, port = sensor_node(meridian_bin, tmp_path, *extra, listen=station, **sensor)
    lab.add(n)
    if router == "frr":
        monitored = bgplab.Frr(lab, "monitored", 65001, a, 65002, b, bmp=(station, port))
    else:
        monitored = bgplab.Gobgp(lab, "monitored", 65001, a, 65002, b, passive=True,
                                 bmp=(station, port))
    monitored.ns_addr = ns_addr  # its end of the uplink: the BMP session's source
    return n, coll, monitored, (a, b)


def test_gobgp_hijack_alert_over_taxii(lab, meridian_bin, tmp_path):
    n, coll, monitored, (a, b) = monitored_lab(lab, meridian_bin, tmp_path)
    announcer = bgplab.Gobgp(lab, "announcer", 65002, b, 65001, a)
    wait_for(monitored.established, 60, step=0.2)
    wait_for(lambda: "is GoBGP" in n.stderr(), 30)
    # from the monitored router's namespace, over its uplink
    assert f"bmp: router {monitored.ns_addr}:" in n.stderr()
    announcer.announce(VICTIM)
    wait_for(lambda: VICTIM in monitored.cli("global", "rib", "-a", "ipv4").stdout, 20)
    assert alerts(n, coll) == {}  # the legitimate route raises nothing
    t0 = time.monotonic()
    announcer.announce(HIJACK, "64666")
    wait_for(lambda: len(alerts(n, coll)) > 0, ALERT_BOUND_S, step=0.05)
    latency = time.monotonic() - t0
    assert latency < ALERT_BOUND_S
    # the same hijack, announced again with other attributes: still one alert
    for med in (10, 20, 30):
        announcer.announce(HIJACK, "64666", "med", str(med))
    # a second hijack after them on the same BMP stream: once its alert is
    # there, the sensor has read the updates before it
    announcer.announce("203.0.113.0/25", "64777")
    wait_for(lambda: len(alerts(n, coll)) == 2, ALERT_BOUND_S, step=0.05)
    got = alerts(n, coll)
    (oid, a), = [(i, o) for i, o in got.items() if o["extensions"][EXT]["prefix"] == HIJACK]
    ext = a["extensions"][EXT]
    assert ext["hijacker_as"] == 64666
    assert ext["type"] == "S|0|-|-" and ext["origin_as"] == 64666
    assert ext["peer_as"] == 65002 and ext["ended"] is None
    assert ext["rov"] == "invalid"
    assert len(versions(n, coll, oid)) == 1  # the re-announcements changed nothing
    other = [o for i, o in got.items() if i != oid][0]["extensions"][EXT]
    assert other["prefix"] == "203.0.113.0/25" and other["hijacker_as"] == 64777
    # Peer Down: the BGP session goes away, the peer's routes with it
    announcer.stop()
    wait_for(lambda: all(a["extensions"][EXT]["ended"] is not None
                         for a in alerts(n, coll).values()), 30, step=0.1)
    assert len(alerts(n, coll)) == 2
    assert len(versions(n, coll, oid)) == 2  # open, then ended
    stored = [ln for ln in n.stderr().splitlines() if "alert version(s) stored" in ln]
    assert len(stored) >= 3, stored
    # every batch stored whole: nothing refused, nothing sent twice as a conflict
    assert all(" INFO bmp:" in ln for ln in stored), stored


def bird_announcer(lab, addr, peer_addr):
    """BIRD 2 (Debian bird2, no BMP of its own) as the announcing speaker
    AS65002: the watched /24, and a static /25 with path 64666 to switch on."""
    return bgplab.Bird(lab, "announcer", addr, f"""
protocol static legit {{ ipv4; route {VICTIM} blackhole; }}
protocol static hijack {{
  ipv4;
  disabled;
  route {HIJACK} blackhole {{ bgp_path.prepend(64666); }};
}}
protocol bgp monitored {{
  local {addr} as 65002;
  neighbor {peer_addr} as 65001;
  connect retry time 1;
  ipv4 {{ import none; export all; next hop address 192.0.2.1; }};
}}
""")


def test_bird_announces_gobgp_reports_hijack_ends(lab, meridian_bin, tmp_path):
    n, coll, monitored, (a, b) = monitored_lab(lab, meridian_bin, tmp_path)
    bird = bird_announcer(lab, b, a)
    wait_for(monitored.established, 60, step=0.2)
    wait_for(lambda: VICTIM in monitored.cli("global", "rib", "-a", "ipv4").stdout, 30)
    assert alerts(n, coll) == {}
    bird.cli("enable", "hijack")
    wait_for(lambda: len(alerts(n, coll)) == 1, ALERT_BOUND_S, step=0.05)
    (oid, alert), = alerts(n, coll).items()
    ext = alert["extensions"][EXT]
    assert ext["prefix"] == HIJACK and ext["hijacker_as"] == 64666
    assert ext["as_path"] == [65002, 64666] and ext["ended"] is None
    # BIRD withdraws it: the alert ends (a new version, the same id)
    bird.cli("disable", "hijack")
    wait_for(lambda: alerts(n, coll)[oid]["extensions"][EXT]["ended"] is not None,
             ALERT_BOUND_S, step=0.05)
    assert len(alerts(n, coll)) == 1


# ---- FRR as the monitored router -------------------------------------------

def test_frr_streams_bmp_like_gobgp(lab, meridian_bin, tmp_path):
    """FRR reports its peer (GoBGP, AS65002): the session with FRR's sysName,
    the Peer Up, the routes, the hijack alert with the path as AS65002 sent
    it (FRR 8.4 prepends its own AS in BMP: bmp.c drops it), its end on
    withdrawal, and the Peer Down."""
    n, coll, frr, (a, b) = monitored_lab(lab, meridian_bin, tmp_path, router="frr")
    announcer = bgplab.Gobgp(lab, "announcer", 65002, b, 65001, a)
    wait_for(frr.established, 60, step=0.2)
    wait_for(lambda: [x["peers_up"] for x in sessions_of(n)] == [1], 30, step=0.2)
    (sess,) = sessions_of(n)
    assert sess["sys_name"] == bgplab.FRR_NAME, sess
    assert sess["router"].startswith(f"{frr.ns_addr}:"), sess  # from its namespace
    assert sess["sys_descr"].startswith("FRRouting "), sess
    assert sess["peer_ups"] == 1
    # FRR 8.4 reports a Peer Down for its neighbour when the BMP session
    # opens if the BGP session was not up yet: count from here
    downs = sess["peer_downs"]
    assert f"is {bgplab.FRR_NAME}" in n.stderr()
    rm = sess["route_monitoring"]
    announcer.announce(VICTIM)
    wait_for(lambda: sessions_of(n)[0]["route_monitoring"] > rm, 20, step=0.1)
    assert alerts(n, coll) == {}  # the legitimate route raises nothing
    announcer.announce(HIJACK, "64666")
    wait_for(lambda: len(alerts(n, coll)) == 1, ALERT_BOUND_S, step=0.05)
    (oid, alert), = alerts(n, coll).items()
    ext = alert["extensions"][EXT]
    assert ext["kind"] == "hijack" and ext["type"] == "S|0|-|-"
    assert ext["prefix"] == HIJACK and ext["hijacker_as"] == 64666
    assert ext["peer_as"] == 65002 and ext["as_path"] == [65002, 64666]
    assert ext["rov"] == "invalid" and ext["ended"] is None
    assert sig_of(alert) is not None
    # withdrawn at AS65002: FRR reports the withdrawal, the alert ends
    announcer.withdraw(HIJACK)
    wait_for(lambda: alerts(n, coll)[oid]["extensions"][EXT]["ended"] is not None,
             ALERT_BOUND_S, step=0.05)
    assert len(versions(n, coll, oid)) == 2
    # the BGP session goes down: FRR sends a Peer Down
    announcer.stop()
    wait_for(lambda: [(x["peers_up"], x["peer_downs"]) for x in sessions_of(n)]
             == [(0, downs + 1)], 60, step=0.2)
    assert len(alerts(n, coll)) == 1


# ---- every event, live: the detection scenario through real speakers -----

# What AS65002 (a GoBGP, which prepends its AS) announces to the monitored
# router, in steps, under mrt_gen's DETECT_CONFIG, DETECT_ASREL and
# DETECT_VRPS; each step waits for the alert it must raise. (prefix, AS path
# after 65002, or None to withdraw; the event it raises)
LAB_BASELINE = [("203.0.113.0/24", "64501 64500"), ("2001:db8:ff00::/40", "65020 65010"),
                *[(p, f"3356 {a}") for p, a in g.COUNTRY1 + g.COUNTRY2]]
LAB_STEPS = [
    ("203.0.113.0/24", "174 64666", ("hijack", "203.0.113.0/24", "E|0|-|-", 64666)),
    ("203.0.113.0/24", "174 64666 64500", ("hijack", "203.0.113.0/24", "E|1|-|-", 64666)),
    ("203.0.113.128/25", "174 64666", ("hijack", "203.0.113.128/25", "S|0|-|-", 64666)),
    ("2001:db8:ff00:100::/56", "65020 65010",
     ("hijack", "2001:db8:ff00:100::/56", "S|-|-|-", 65010)),
    ("2001:db8:ff02::/48", "64777 65010", ("hijack", "2001:db8:ff02::/48", "S|1|-|-", 64777)),
    ("192.0.2.0/24", "64888", ("hijack", "192.0.2.0/24", "Q|0|-|-", 64888)),
    # 64520 learns it from its provider 174 and sends it to its provider 3356
    ("10.50.0.0/16", "3356 64520 174 64510", ("leak", "10.50.0.0/16", None, 64520)),
]
# Ground truth at the end: (kind, prefix or group, type, culprit AS, ended).
LAB_TRUTH = {
    ("hijack", "203.0.113.0/24", "E|0|-|-", 64666, True),   # replaced by the E|1 route
    ("hijack", "203.0.113.0/24", "E|1|-|-", 64666, True),   # replaced by the legitimate one
    ("hijack", "203.0.113.128/25", "S|0|-|-", 64666, False),
    ("hijack", "2001:db8:ff00:100::/56", "S|-|-|-", 65010, False),
    ("hijack", "2001:db8:ff02::/48", "S|1|-|-", 64777, False),
    ("hijack", "192.0.2.0/24", "Q|0|-|-", 64888, False),
    ("leak", "10.50.0.0/16", None, 64520, False),
    ("outage", "country-1", None, None, True),
    ("outage-end", "country-1", None, None, False),
}


# The ROAs behind mrt_gen.DETECT_VRPS, signed in a generated RPKI
# repository (rpki_gen) and validated by rpki-client, whose CSV the sensor reads.
LAB_ROAS = [("as64500.roa", 64500, [("203.0.113.0/24", 24)]),
            ("as65010.roa", 65010, [("2001:db8:ff00::/40", 48)])]


def rpki_client_vrps():
    """rpki-client's CSV over LAB_ROAS: the VRPs of DETECT_VRPS, for real."""
    with rpki_gen.workdir() as work:
        rpki_gen.generate(work, roas=LAB_ROAS)
        out, _ = rpki_gen.rpki_client(work, "-c")
        text = (out / "csv").read_text()
    got = sorted(tuple(ln.split(",")[:3]) for ln in text.splitlines()[1:])
    want = sorted(tuple(ln.split(",")[:3]) for ln in g.DETECT_VRPS.splitlines()[1:])
    assert got == want, text
    return text


def event_key(ext):
    culprit = ext.get("hijacker_as") or ext.get("leaker_as")
    return (ext["kind"], ext.get("group") or ext["prefix"], ext.get("type"), culprit,
            ext["ended"] is not None)


@pytest.mark.parametrize("router", ["gobgp", "frr"])
def test_lab_raises_every_event_type(lab, meridian_bin, tmp_path, router):
    """Baseline routes, hijacks of every ARTEMIS type, a valley-free leak and
    a country's withdrawal, announced by a real GoBGP to the monitored
    router (GoBGP or FRR) that streams BMP to the sensor: the alerts are
    exactly the ground truth above, their ROV verdicts those of the VRPs
    rpki-client produced from a generated RPKI repository."""
    asrel = tmp_path / "as-rel.txt"
    asrel.write_text(g.DETECT_ASREL)
    n, coll, monitored, (a, b) = monitored_lab(lab, meridian_bin, tmp_path, router,
                                               "--bmp-as-rel", str(asrel),
                                               config=g.DETECT_CONFIG,
                                               vrps_csv=rpki_client_vrps())
    announcer = bgplab.Gobgp(lab, "announcer", 65002, b, 65001, a)

    def events():
        return {event_key(x["extensions"][EXT]): x["extensions"][EXT]
                for x in alerts(n, coll).values()}
    wait_for(monitored.established, 60, step=0.2)
    wait_for(lambda: [x["peers_up"] for x in sessions_of(n)] == [1], 30, step=0.2)
    rm = sessions_of(n)[0]["route_monitoring"]
    for prefix, path in LAB_BASELINE:
        announcer.announce(prefix, path)
    wait_for(lambda: sessions_of(n)[0]["route_monitoring"] >= rm + len(LAB_BASELINE), 30,
             step=0.1)
    assert alerts(n, coll) == {}  # the baseline raises nothing
    # Visibility is sampled once a second (docs/bgp.md, "Outages"): on a quiet machine the
    # steps below and the withdrawal take less than a second, and a group withdrawn within
    # the second it appeared has no baseline to fall from. Let a second pass first.
    time.sleep(2.2)
    for prefix, path, (kind, pfx, typ, culprit) in LAB_STEPS:
        announcer.announce(prefix, path)
        wait_for(lambda: (kind, pfx, typ, culprit, False) in events(), ALERT_BOUND_S,
                 step=0.1)
    # the E|0 route was replaced by the E|1 one: ended
    assert ("hijack", "203.0.113.0/24", "E|0|-|-", 64666, True) in events()
    # the country-wide withdrawal, while country-2 stays
    for prefix, _ in g.COUNTRY1:
        announcer.withdraw(prefix)
    wait_for(lambda: any(k[0] == "outage" for k in events()), ALERT_BOUND_S, step=0.1)
    for prefix, asn in g.COUNTRY1:
        announcer.announce(prefix, f"3356 {asn}")
    wait_for(lambda: any(k[0] == "outage-end" for k in events()), ALERT_BOUND_S, step=0.1)
    # the legitimate route comes back: the forged-origin hijack ends
    announcer.announce("203.0.113.0/24", "64501 64500")
    wait_for(lambda: ("hijack", "203.0.113.0/24", "E|1|-|-", 64666, True) in events(),
             ALERT_BOUND_S, step=0.1)
    got = events()
    assert set(got) == LAB_TRUTH, sorted(got, key=str)
    # ROV of the same routes against the VRPs (docs/bgp.md), and paths as sent
    by = {(k[1], k[2]): e for k, e in got.items() if k[0] == "hijack"}
    assert by[("203.0.113.0/24", "E|0|-|-")]["rov"] == "invalid"
    assert by[("203.0.113.0/24", "E|1|-|-")]["rov"] == "valid"  # forged origin
    assert by[("203.0.113.0/24", "E|1|-|-")]["as_path"] == [65002, 174, 64666, 64500]
    assert by[("2001:db8:ff00:100::/56", "S|-|-|-")]["rov"] == "invalid"
    assert by[("2001:db8:ff02::/48", "S|1|-|-")]["rov"] == "valid"
    assert by[("192.0.2.0/24", "Q|0|-|-")]["rov"] == "not-found"
    leak = [e for k, e in got.items() if k[0] == "leak"][0]
    assert (leak["learned_from"], leak["sent_to"]) == (174, 3356)
    assert leak["as_path"] == [65002, 3356, 64520, 174, 64510]
    outage = [e for k, e in got.items() if k[0] == "outage"][0]
    # three withdrawals (three UPDATEs) and the re-announcements may
    # share seconds: the outage starts once fewer than half are visible
    assert outage["baseline"] == 3 and outage["visible"] <= 1 and outage["lowest"] <= 1
    end = [e for k, e in got.items() if k[0] == "outage-end"][0]
    assert end["baseline"] == 3 and end["visible"] == 3
    assert all(e["peer_as"] in (65002, None) for e in got.values())


def test_lab_no_export_violation_live(lab, meridian_bin, tmp_path):
    """ARTEMIS's policy dimension live: AS64700 announces 10.70.0.0/16 with
    NO_EXPORT to its neighbour AS64701 (`"policies": ["no-export"]`). The
    route as AS64701's own customer session would carry it (3 ASes as the
    monitored router sees it) raises nothing; once it went one AS further
    (4 ASes) the sensor raises E|-|-|L naming AS64701, with the peer and the
    BMP router as evidence, and ends it on the withdrawal."""
    pfx = "10.70.0.0/16"
    cfg = {"prefixes": [{"prefix": pfx, "origins": [64700], "neighbors": [64701],
                         "policies": ["no-export"]}]}
    n, coll, monitored, (a, b) = monitored_lab(lab, meridian_bin, tmp_path, config=cfg)
    announcer = bgplab.Gobgp(lab, "announcer", 65002, b, 65001, a)
    wait_for(monitored.established, 60, step=0.2)
    wait_for(lambda: [x["peers_up"] for x in sessions_of(n)] == [1], 30, step=0.2)
    rm = sessions_of(n)[0]["route_monitoring"]
    # (without the community itself: GoBGP would keep a NO_EXPORT route)
    announcer.announce(pfx, "64701 64700")
    wait_for(lambda: sessions_of(n)[0]["route_monitoring"] > rm, 20, step=0.1)
    assert alerts(n, coll) == {}
    announcer.announce(pfx, "174 64701 64700")
    wait_for(lambda: len(alerts(n, coll)) == 1, ALERT_BOUND_S, step=0.1)
    (oid, alert), = alerts(n, coll).items()
    ext = alert["extensions"][EXT]
    assert ext["type"] == "E|-|-|L" and ext["hijacker_as"] == 64701, ext
    assert ext["as_path"] == [65002, 174, 64701, 64700] and ext["peer_as"] == 65002
    assert ext["peer"] == b and ext["collector"].startswith(f"{monitored.ns_addr}:"), ext
    announcer.withdraw(pfx)
    wait_for(lambda: alerts(n, coll)[oid]["extensions"][EXT]["ended"] is not None,
             ALERT_BOUND_S, step=0.1)


# ---- RFC 9234 Only-To-Customer, set by BIRD 2's BGP roles, leaked live ----

OTC_PREFIX, OTC_OWN = bgplab.OTC_PREFIX, bgplab.OTC_OWN


def test_bird_roles_otc_leak_live(lab, meridian_bin, tmp_path):
    """AS64531 (BIRD 2, `local role provider`) announces its prefix to its
    customer AS64530 (BIRD 2, `local role customer`): the roles set
    Only-To-Customer = 64531 on the route (RFC 9234 §5). AS64530 leaks it to
    its provider AS3356 (a BIRD session without a role, as a misconfigured
    router has), which passes it to the monitored GoBGP streaming BMP. The
    sensor reports an OTC leak by 64530 from the live stream, as BIRD itself
    does where the leaker's other provider, AS174, has its role set; the
    leaker's own prefix, sent up the same way, raises nothing."""
    asrel = tmp_path / "as-rel.txt"
    asrel.write_text(bgplab.OTC_ASREL)
    station, ns_addr = lab.uplink("monitored")
    n, coll, port = sensor_node(meridian_bin, tmp_path, "--bmp-as-rel", str(asrel),
                                listen=station)
    lab.add(n)
    monitored, leaker, auditor = bgplab.otc_leak(lab, (station, port))
    # BIRD's own record: the route reached the leaker carrying OTC 64531
    assert re.search(r"BGP\.otc: 64531\b", leaker.cli("show", "route", OTC_PREFIX, "all")), \
        leaker.cli("show", "route", OTC_PREFIX, "all")
    # and BIRD's own verdict: AS174, a provider of the leaker with its role
    # set, takes the leaker's own prefix but refuses the OTC route as a leak
    wait_for(lambda: OTC_OWN in auditor.cli("show", "route", "protocol", "customer"), 30,
             step=0.2)
    assert OTC_PREFIX not in auditor.cli("show", "route", "all"), auditor.cli("show", "route")
    assert f"bmp: router {ns_addr}:" in n.stderr()

    def leaks():
        return [a["extensions"][EXT] for a in alerts(n, coll).values()
                if a["extensions"][EXT]["kind"] == "leak"]
    wait_for(leaks, ALERT_BOUND_S, step=0.1)
    (leak,) = leaks()
    assert leak["prefix"] == OTC_PREFIX and leak["leak"] == "otc", leak
    assert leak["leaker_as"] == 64530
    assert (leak["learned_from"], leak["sent_to"]) == (64531, 3356)
    assert leak["as_path"] == [3356, 64530, 64531] and leak["peer_as"] == 3356
    assert leak["otc"] == 64531  # the OTC attribute BIRD's roles set, as evidence
    assert leak["peer"] == "198.19.0.2", leak  # AS3356's end of its link to the monitored
    assert leak["collector"].startswith(f"{ns_addr}:"), leak  # the BMP router
    assert leak["ended"] is None
    # both routes were read (the monitored router sent them before the
    # leak's alert was stored, or after): the leaker's own raised nothing
    wait_for(lambda: sum(x["route_monitoring"] for x in sessions_of(n)) >= 2, 15, step=0.1)
    assert all(a["extensions"][EXT]["prefix"] != OTC_OWN for a in alerts(n, coll).values())
    # the customer stops leaking: the route is withdrawn, the alert ends
    leaker.cli("disable", "leak")
    wait_for(lambda: all(x["ended"] is not None for x in leaks()), ALERT_BOUND_S, step=0.1)


@pytest.mark.parametrize("router", ["gobgp", "frr"])
def test_lab_capture_replayed_by_scan(meridian_bin, tmp_path, router):
    """The same scenario's BMP stream, captured from the monitored GoBGP or
    FRR (tests/integration/lab_capture.py), read by `meridian bgp scan`
    without daemons: the same events, each ended by the final Peer Down but
    the outage-end."""
    cap = DATA / "bgp" / f"lab-events-{router}.bmp"
    assert cap.is_file(), f"fixture missing: {cap}"
    cfg, asrel, vrps = tmp_path / "c.json", tmp_path / "as-rel.txt", tmp_path / "vrps.csv"
    cfg.write_text(json.dumps(g.DETECT_CONFIG))
    asrel.write_text(g.DETECT_ASREL)
    vrps.write_text(g.DETECT_VRPS)
    p = run(meridian_bin, "bgp", "scan", "--vrps", vrps, "--config", cfg, "--as-rel", asrel,
            "--json", cap)
    assert p.returncode == 1, p.stderr  # events were found
    got = {event_key(e)[:4]: e for e in map(json.loads, p.stdout.splitlines())
           if e["kind"] != "rov"}
    assert set(got) == {k[:4] for k in LAB_TRUTH}, sorted(got, key=str)
    assert all(e["ended"] is not None for k, e in got.items() if k[0] != "outage-end")
    assert got[("hijack", "203.0.113.0/24", "E|1|-|-", 64666)]["rov"] == "valid"
    assert got[("hijack", "203.0.113.0/24", "E|1|-|-", 64666)]["as_path"] == \
        [65002, 174, 64666, 64500]
    assert got[("leak", "10.50.0.0/16", None, 64520)]["as_path"] == [65002, 3356, 64520, 174,
                                                                      64510]


def test_otc_capture_replayed_by_scan(meridian_bin, tmp_path):
    """The OTC lab's BMP stream (lab_capture.py otc), read by `meridian bgp
    scan` without daemons: the one leak, found by the OTC attribute BIRD's
    roles set, ended by the withdrawal; the leaker's own prefix is clean."""
    cap = DATA / "bgp" / "lab-otc-bird.bmp"
    assert cap.is_file(), f"fixture missing: {cap}"
    cfg, asrel, vrps = tmp_path / "c.json", tmp_path / "as-rel.txt", tmp_path / "vrps.csv"
    cfg.write_text(json.dumps({"prefixes": []}))
    asrel.write_text(bgplab.OTC_ASREL)
    vrps.write_text("ASN,IP Prefix,Max Length,Trust Anchor\n")
    p = run(meridian_bin, "bgp", "scan", "--vrps", vrps, "--config", cfg, "--as-rel", asrel,
            "--json", cap)
    assert p.returncode == 1, p.stderr  # events were found
    (leak,) = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert leak["kind"] == "leak" and leak["leak"] == "otc", leak
    assert leak["prefix"] == OTC_PREFIX and leak["leaker_as"] == 64530
    assert (leak["learned_from"], leak["sent_to"]) == (64531, 3356)
    assert leak["as_path"] == [3356, 64530, 64531] and leak["ended"] is not None
    assert leak["otc"] == 64531 and leak["peer"] == "198.19.0.2", leak  # the transit's end
    assert leak["collector"] == "lab-otc-bird.bmp", leak


def test_live_alert_federates_signed(meridian_bin, tmp_path):
    from test_fed_propagation import Fed
    fed = Fed(meridian_bin, tmp_path)
    try:
        a = fed.node("A", start=False)
        key = fed.pubkey("A")  # the node key exists before serve loads it
        cfg = tmp_path / "watch.json"
        cfg.write_text(json.dumps({"prefixes": [{"prefix": VICTIM, "origins": [65002]}]}))
        a.extra_args += ["--bmp-listen", "127.0.0.1:0", "--bmp-collection", fed.coll["A"],
                         "--bmp-config", str(cfg), "--bmp-tlp", "green"]
        a.start()
        port = int(re.search(r"BMP on 127\.0\.0\.1:(\d+)", a.stderr()).group(1))
        fed.node("B")
        fed.link("A", "B", "pull")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall((DATA / "bgp" / "gobgp-hijack.bmp").read_bytes())
            wait_for(lambda: len(alerts(a, fed.coll["A"], a.root)) == 1, ALERT_BOUND_S)
        (oid, at_a), = alerts(a, fed.coll["A"], a.root).items()
        fed.sync("B")
        at_b = [o for o in fed.objects("B") if o["id"] == oid]
        assert at_b, "the alert did not reach B"
        assert sig_of(at_b[0]) is not None and sig_of(at_b[0])["public_key"] == key
        assert sig_of(at_b[0]) == sig_of(at_a)
        assert at_b[0]["extensions"][EXT]["hijacker_as"] == 64666
    finally:
        fed.stop()


# ---- the BMP sessions on the console's Routing page ----------------------

def bmp_messages(stream):
    """The messages of a BMP stream: (type, bytes) each."""
    out, i = [], 0
    while i < len(stream):
        length = int.from_bytes(stream[i + 1:i + 5], "big")
        out.append((stream[i + 5], stream[i:i + length]))
        i += length
    return out


def initiation(sys_name, sys_descr):
    """A BMP Initiation message (RFC 7854 §4.3) with sysDescr and sysName."""
    tlvs = b"".join(t.to_bytes(2, "big") + len(v).to_bytes(2, "big") + v
                    for t, v in ((1, sys_descr), (2, sys_name)))
    return bytes([3]) + (6 + len(tlvs)).to_bytes(4, "big") + bytes([4]) + tlvs


def sensor_status(n, token="admin"):
    r = n.req("GET", "/api/v1/routing", token=token, accept="application/json")
    assert r.status_code == 200, r.text
    return r.json()["sensor"]


def sessions_of(n):
    return sensor_status(n)["bmp"]["sessions"]


def test_termination_ends_the_session_and_its_alerts(sensor):
    """A router ends its BMP session with a Termination message (RFC 7854
    §4.5) and closes it: the sensor logs it, and the routes of the peers
    the session reported go with it, so the open hijack ends."""
    n, coll, port = sensor
    msgs = bmp_messages((DATA / "bgp" / "gobgp-hijack.bmp").read_bytes())
    rms = [i for i, (t, _) in enumerate(msgs) if t == 0]
    upto = rms[2]  # the hijack's announcement; not its withdrawal, no Peer Down
    reason = (1).to_bytes(2, "big") + (2).to_bytes(2, "big") + (0).to_bytes(2, "big")
    term = bytes([3]) + (6 + len(reason)).to_bytes(4, "big") + bytes([5]) + reason
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(m for _, m in msgs[:upto + 1]))
        wait_for(lambda: len(alerts(n, coll)) == 1, ALERT_BOUND_S)
        (oid, a), = alerts(n, coll).items()
        assert a["extensions"][EXT]["prefix"] == HIJACK
        assert a["extensions"][EXT]["ended"] is None
        s.sendall(term)
        wait_for(lambda: "terminates the session" in n.stderr(), 10)
    wait_for(lambda: alerts(n, coll)[oid]["extensions"][EXT]["ended"] is not None,
             ALERT_BOUND_S)
    line = [ln for ln in n.stderr().splitlines() if "terminates the session" in ln][0]
    assert "bmp: router 127.0.0.1:" in line, line


def test_sessions_on_the_console_api(sensor):
    n, coll, port = sensor
    n.org("px", "partner")
    px = n.token("px")
    st = sensor_status(n)
    assert st["sources"] == [] and st["bmp"]["listen"] == f"127.0.0.1:{port}"
    assert st["bmp"]["sessions"] == []
    msgs = bmp_messages((DATA / "bgp" / "gobgp-hijack.bmp").read_bytes())
    down = [i for i, (t, _) in enumerate(msgs) if t == 2][0]  # the Peer Down
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        router = "%s:%d" % s.getsockname()
        s.sendall(b"".join(m for _, m in msgs[:down]))
        wait_for(lambda: [x["messages"] for x in sessions_of(n)] == [down], 15)
        (got,) = sessions_of(n)
        assert got["router"] == router
        assert got["sys_name"] == "GoBGP" and got["sys_descr"] == "3.10.0"  # the Initiation's
        assert got["peers_up"] == 1 and got["peer_ups"] == 1 and got["peer_downs"] == 0
        assert got["route_monitoring"] == sum(1 for t, _ in msgs[:down] if t == 0) == 4
        assert got["bytes"] == sum(len(m) for _, m in msgs[:down])
        assert got["connected"] <= got["last_message"] and got["idle_seconds"] >= 0
        s.sendall(b"".join(m for _, m in msgs[down:]))
        wait_for(lambda: [x["messages"] for x in sessions_of(n)] == [len(msgs)], 15)
        (got,) = sessions_of(n)
        assert got["peers_up"] == 0 and got["peer_ups"] == 1 and got["peer_downs"] == 1
        # A second router whose names carry control characters: kept as '?'.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s2:
            s2.sendall(initiation(b"r2\x1b[31m", b"line\nbreak\xff"))
            # listed once accepted, named once its Initiation is read
            wait_for(lambda: len(sessions_of(n)) == 2 and all(x["messages"] > 0
                                                              for x in sessions_of(n)), 15)
            other = [x for x in sessions_of(n) if x["router"] != router][0]
            assert other["sys_name"] == "r2?[31m" and other["sys_descr"] == "line?break?"
            assert other["messages"] == 1 and other["peers_up"] == 0
            assert other["last_message"] is not None
        # How the sensor is fed is the node's business: a partner sees none of it.
        assert sensor_status(n, px) is None
    # Closed sessions leave the list.
    wait_for(lambda: sessions_of(n) == [], 15)


def test_sessions_on_the_routing_page(sensor, browser, shots):  # noqa: F811 (fixtures)
    n, coll, port = sensor
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        msgs = bmp_messages((DATA / "bgp" / "gobgp-hijack.bmp").read_bytes())
        s.sendall(b"".join(m for t, m in msgs if t != 2))  # all but the Peer Down
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s2:
            s2.sendall(initiation(b"<img src=x onerror=alert(1)>", b"edge-2 (lab)"))
            wait_for(lambda: len(sessions_of(n)) == 2 and all(
                x["last_message"] for x in sessions_of(n)), 15)
            signin(browser, n, n.admin_token)
            go(browser, n, "routing", "#bmp-sessions table")
            text = browser.find_element(By.ID, "bmp-sessions").text
            assert f"BMP sessions on 127.0.0.1:{port} (2 of at most" in text
            assert "GoBGP" in text and "3.10.0" in text and "edge-2 (lab)" in text
            # the router's name is text, never markup
            assert "<img src=x onerror=alert(1)>" in text
            assert not browser.find_elements(By.CSS_SELECTOR, "#bmp-sessions img")
            browser.save_screenshot(str(shots / "routing-bmp.png"))
