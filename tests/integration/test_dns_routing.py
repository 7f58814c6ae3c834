"""The DNS sensor beside the routing sensor in one `meridian serve` (issue 18):
findings linked to the open BGP alerts of their addresses, the ASN excuse
from the routes the BMP sessions reported, and an outage's name servers'
prefixes (docs/dns.md, "With the routing sensor").

The DNS world is the lab of tests/integration/dnslab.py (real NSD and
Unbound in a network namespace this test creates; one Unbound answers
www.example.tld. with the forged dnslab.FORGED). `serve` runs inside that
namespace (`ip netns exec`), listening for HTTP and BMP on its end of a
veth pair to the root namespace, where this test talks to it. The routes
are BMP Route Monitoring messages this test writes byte by byte (RFC 7854,
UPDATEs from mrt_gen.py) and streams over one session kept open.
"""
import ipaddress
import json
import os
import re
import socket
import struct

import pytest

import dnslab
import netns
from mrt_gen import AS_SEQUENCE, attrs, bgp_update, nlri
from node import Node, wait_for
from pgcluster import on_pg, session_database

pytestmark = pytest.mark.skipif(bool(netns.unavailable()) or bool(dnslab.tools_missing()),
                                reason=f"{netns.unavailable() or ''} needs "
                                       f"{' '.join(dnslab.TOOLS)} (scripts/bootstrap)")

DNS_EXT = "extension-definition--0c9a3f5e-4d6b-5a0f-9d38-6f1f2b7f9a41"
BGP_EXT = "extension-definition--55216efd-e6c2-52d8-b102-8ec96c5da078"
FORGED_NET, FORGED_SUB = "45.33.32.0/24", "45.33.32.0/25"  # dnslab.FORGED is 45.33.32.66
WWW_NET = "192.0.2.0/24"                                    # dnslab.WWW, the real answer
ZONE_NET = "10.53.0.0/24"                                    # dnslab.ZONE, the zone's server
BOUND_S = 60  # from a route to the DNS alert that reflects it (rounds every second)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, meridian_bin):
    """The DNS lab, a veth from the root namespace to it, and the baseline."""
    work = tmp_path_factory.mktemp("dnsrouting")
    with dnslab.Lab(work) as dns_lab:
        third, fourth = netns.free_net30()
        outside, inside = f"198.18.{third}.{fourth + 1}", f"198.18.{third}.{fourth + 2}"
        netns.veth(None, outside + "/30", dns_lab.netns, inside + "/30", name_b="uplink")
        dns_lab.inside = inside
        cfg = work / "config.json"
        cfg.write_text(json.dumps(config(dns_lab)))
        dns_lab.baseline = work / "baseline.json"
        p = dns_lab.ns_run(meridian_bin, "dns", "baseline", "--config", cfg, "-o",
                           dns_lab.baseline, "--timeout", "400", "--retries", "1", check=False)
        assert p.returncode == 0, p.stderr
        yield dns_lab


def config(lab, **extra):
    return {"root": {"servers": [dnslab.ROOT]},
            "zones": [{"zone": "example.tld.", "probe_names": ["www.example.tld."]}],
            "vantages": [{"name": "isp-1", "server": dnslab.VANTAGE},
                         {"name": "isp-2", "server": dnslab.FORGER}],
            "interval": 1, **extra}


@pytest.fixture
def node(lab, meridian_bin, tmp_path):
    nodes = []

    def start(watch, dns_extra=None, bmp_tlp="green", dns_tlp="green"):
        n = Node(meridian_bin, tmp_path / "node")
        (tmp_path / "node").mkdir()
        # serve runs in the lab's namespace: on PostgreSQL it reaches the
        # session's cluster through its Unix socket
        n.init(store=session_database(socket=True) if on_pg() else None)
        n.routing, n.dns = n.collection(alias="routing"), n.collection(alias="dns")
        cfg, wfile = tmp_path / "dns.json", tmp_path / "watch.json"
        cfg.write_text(json.dumps(config(lab, **(dns_extra or {}))))
        wfile.write_text(json.dumps({"prefixes": watch}))
        n.exec_prefix = lab.netns.cmd()
        n.listen = f"{lab.inside}:0"
        n.extra_args = ["--bmp-listen", f"{lab.inside}:0", "--bmp-collection", n.routing,
                        "--bmp-config", str(wfile), "--bmp-tlp", bmp_tlp,
                        "--dns-config", str(cfg), "--dns-baseline", str(lab.baseline),
                        "--dns-collection", n.dns, "--dns-tlp", dns_tlp]
        nodes.append(n)
        n.start(timeout=60)
        m = re.search(r"routing sensor: BMP on " + re.escape(lab.inside) + r":(\d+)", n.stderr())
        assert m, n.stderr()
        n.bmp = (lab.inside, int(m.group(1)))
        return n

    yield start
    for n in nodes:
        n.stop()


# ---- BMP, byte by byte (RFC 7854) -------------------------------------------

PEER, PEER_AS = "198.51.100.1", 65002


def bmp_msg(mtype, body):
    return struct.pack("!BIB", 3, 6 + len(body), mtype) + body


def route_monitoring(update):
    ip = ipaddress.ip_address(PEER)
    peer = struct.pack("!BB8s16sIIII", 0, 0, bytes(8), bytes(12) + ip.packed, PEER_AS,
                       int(ip), 0, 0)
    return bmp_msg(0, peer + update)


def announce(prefix, *path):
    return route_monitoring(bgp_update(
        path_attrs=attrs(path=[(AS_SEQUENCE, [PEER_AS, *path])], next_hop=PEER),
        announced=nlri(prefix)))


def withdraw(prefix):
    return route_monitoring(bgp_update(withdrawn=nlri(prefix)))


# ---- reading the node ----------------------------------------------------------

def alerts(n, coll, ext):
    items, _ = n.page_all(n.objects_path(coll), params={"match[type]": "observed-data"})
    return [o for o in items if ext in o.get("extensions", {})]


def divergence(n):
    """The forged answer's DNS alert (newest version), or None."""
    got = [o["extensions"][DNS_EXT] for o in alerts(n, n.dns, DNS_EXT)]
    got = [e for e in got if e["kind"] == "divergence" and e["vantage"] == "isp-2"]
    assert len(got) <= 1, got
    return got[0] if got else None


def rounds(n):
    return n.stderr().count("dns sensor: round done")


def routes_received(n, count):
    """Waits until the BMP session has delivered count Route Monitoring
    messages, then for two DNS rounds that started after them."""
    def delivered():
        r = n.req("GET", "/api/v1/routing", accept="application/json")
        assert r.status_code == 200, r.text
        return sum(s["route_monitoring"] for s in r.json()["sensor"]["bmp"]["sessions"]) >= count
    wait_for(delivered, BOUND_S)
    seen = rounds(n)
    wait_for(lambda: rounds(n) >= seen + 2, BOUND_S)


# ---- the tests ---------------------------------------------------------------------

def test_forged_answer_links_the_open_hijack_of_its_prefix(node):
    n = node([{"prefix": FORGED_NET, "origins": [63949]}])
    wait_for(lambda: divergence(n) is not None, BOUND_S)
    assert "related" not in divergence(n)  # no routes yet
    with socket.create_connection(n.bmp, timeout=10) as s:
        # The legitimate route of the forged address's prefix: no alert, no link.
        s.sendall(announce(FORGED_NET, 63949))
        routes_received(n, 1)
        assert alerts(n, n.routing, BGP_EXT) == []
        assert "related" not in divergence(n)
        # A sub-prefix hijack holding the forged address: the finding links it.
        s.sendall(announce(FORGED_SUB, 64666))
        wait_for(lambda: len(alerts(n, n.routing, BGP_EXT)) == 1, BOUND_S)
        (hijack,) = alerts(n, n.routing, BGP_EXT)
        assert hijack["extensions"][BGP_EXT]["prefix"] == FORGED_SUB
        wait_for(lambda: "related" in divergence(n), BOUND_S)
        assert divergence(n)["related"] == [{"id": hijack["id"], "kind": "hijack",
                                             "prefix": FORGED_SUB, "address": dnslab.FORGED}]
        assert divergence(n)["observed"] == [dnslab.FORGED]
        # The console's DNS page shows the link.
        r = n.req("GET", "/api/v1/dns", accept="application/json")
        assert r.status_code == 200, r.text
        (page,) = [a for a in r.json()["alerts"] if a["kind"] == "divergence"]
        assert page["related"][0]["id"] == hijack["id"] and page["open"]
        # The hijack withdrawn: its alert ends, a new version of the finding
        # no longer links it.
        s.sendall(withdraw(FORGED_SUB))
        wait_for(lambda: "related" not in divergence(n), BOUND_S)
        assert alerts(n, n.routing, BGP_EXT)[0]["extensions"][BGP_EXT]["ended"]


def test_links_withheld_when_routing_alerts_are_stricter(node):
    """Routing alerts at TLP:RED, DNS alerts at TLP:GREEN: a link would tell
    GREEN readers of a RED alert; serve says so and links nothing."""
    n = node([{"prefix": FORGED_NET, "origins": [63949]}], bmp_tlp="red", dns_tlp="green")
    assert "findings are not linked to routing alerts: their TLP:red is stricter" in n.stderr()
    with socket.create_connection(n.bmp, timeout=10) as s:
        s.sendall(announce(FORGED_SUB, 64666))
        wait_for(lambda: len(alerts(n, n.routing, BGP_EXT)) == 1, BOUND_S)
        routes_received(n, 1)
        wait_for(lambda: divergence(n) is not None, BOUND_S)
        assert "related" not in divergence(n)


def test_asn_excuse_takes_origins_from_the_routes(node, tmp_path):
    """The pfx2as table puts the forged and the real address in different
    ASes (no excuse); once the BMP session reports both prefixes from one
    origin, the routes win and the divergence is excused by ASN."""
    table = tmp_path / "pfx2as.txt"
    table.write_text("45.33.32.0\t24\t63949\n192.0.2.0\t24\t64500\n")
    n = node([{"prefix": "203.0.113.0/24", "origins": [65010]}],
             dns_extra={"excuses": {"asn_table": str(table)}})
    wait_for(lambda: divergence(n) is not None, BOUND_S)  # pfx2as alone: reported
    assert divergence(n)["evidence"]["excuses"][dnslab.FORGED]["asn_source"] == "pfx2as"
    # the round logs its line once its alerts are stored
    wait_for(lambda: ", 0 divergences excused" in n.stderr(), BOUND_S)
    with socket.create_connection(n.bmp, timeout=10) as s:
        s.sendall(announce(FORGED_NET, 64500) + announce(WWW_NET, 3356, 64500))
        routes_received(n, 2)
        wait_for(lambda: ", 1 divergences excused" in n.stderr(), BOUND_S)
        assert alerts(n, n.routing, BGP_EXT) == []  # nothing watched was touched


def test_outage_records_the_name_servers_prefix_withdrawn(lab, node):
    """The zone's only server's prefix is withdrawn from the routes, and the
    server stops answering: the outage finding says which prefix went, when,
    and its last origin."""
    n = node([{"prefix": "203.0.113.0/24", "origins": [65010]}])
    with socket.create_connection(n.bmp, timeout=10) as s:
        s.sendall(announce(ZONE_NET, 64530))
        routes_received(n, 1)
        s.sendall(withdraw(ZONE_NET))
        routes_received(n, 2)
        lab.stop("zone")
        try:
            def outage():
                got = [o["extensions"][DNS_EXT] for o in alerts(n, n.dns, DNS_EXT)]
                got = [e for e in got if e["kind"] == "outage" and e.get("field") == "servers"]
                return got[0] if got and got[0].get("routing", [{}])[0].get("withdrawn") else None

            wait_for(outage, BOUND_S)
            (vis,) = outage()["routing"]
            assert vis["address"] == dnslab.ZONE and vis["routed"] is False
            assert vis["withdrawn_prefix"] == ZONE_NET and vis["withdrawn_origins"] == [64530]
            assert vis["withdrawn_at"]
        finally:
            lab.restart("zone")
