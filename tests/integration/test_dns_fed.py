"""DNS alerts travel the federation (issue 18): `meridian dns check --stix`
at node A, `meridian import` there (signed with A's key, marked with the
chosen TLP), B pulls them with the signature intact; an alert marked
TLP:RED stays at A.

The finding is an outage of the parent side: the configured root is a UDP
port on 127.0.0.1 that this test reserved and closed, so every query is
refused at once and no network namespace is needed."""
import json
import random
import socket
import struct
import threading
import time
import uuid

import pytest

from node import wait_for
from test_fed_propagation import Fed
from test_fed_signatures import sig_of

EXT = "extension-definition--0c9a3f5e-4d6b-5a0f-9d38-6f1f2b7f9a41"


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alerts(fed, name, tmp_path, tlp, zone):
    cfg, base, out = (tmp_path / f"{zone}cfg.json", tmp_path / f"{zone}base.json",
                      tmp_path / f"{zone}alerts-{tlp}.json")
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": zone}]}))
    base.write_text(json.dumps({"zones": [{"zone": zone, "ns": ["ns1." + zone], "ds": [],
                                           "glue": {}, "probes": {}}]}))
    n = fed.nodes[name]
    p = n.cli("dns", "check", "--config", cfg, "--baseline", base, "--stix", out, "--tlp", tlp,
              "--timeout", "300", "--retries", "0", check=False)
    assert p.returncode == 1, p.stderr  # a finding
    n.cli("import", "--data", n.data, "--collection", fed.coll[name], out)
    return json.loads(out.read_text())


def alert_objs(objs):
    return {o["id"]: o for o in objs
            if o["type"] == "observed-data" and EXT in o.get("extensions", {})}


def test_dns_alert_reaches_peer_signed_and_respects_tlp(fed, tmp_path):
    fed.node("A")
    fed.node("B")
    fed.link("A", "B", "pull")
    sent = alert_objs(alerts(fed, "A", tmp_path, "green", "gov.example.")["objects"])
    assert [(o["extensions"][EXT]["kind"], o["extensions"][EXT]["field"])
            for o in sent.values()] == [("outage", "parent")]
    fed.sync("B")
    at_a, at_b = alert_objs(fed.objects("A")), alert_objs(fed.objects("B"))
    assert set(at_b) == set(sent)
    for oid, o in at_b.items():
        block = sig_of(o)
        assert block is not None and block["public_key"] == fed.pubkey("A"), o
        assert sig_of(at_a[oid]) == block
        assert o["extensions"][EXT]["zone"] == "gov.example."
        assert o["object_marking_refs"] == [
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    domains = {o.get("value") for o in fed.objects("B") if o["type"] == "domain-name"}
    assert "gov.example" in domains

    red = set(alert_objs(alerts(fed, "A", tmp_path, "red", "mil.example.")["objects"]))
    assert red and red <= set(alert_objs(fed.objects("A")))
    fed.sync("B")
    assert not red & set(alert_objs(fed.objects("B")))


def test_sensor_inside_serve_stores_signed_alerts_that_peers_pull(fed, tmp_path):
    """`serve --dns-config ... --dns-collection ... --dns-tlp green`: the
    sensor's rounds store the alert in the collection, signed, and B pulls
    it; later rounds update the same alert (one id)."""
    a = fed.node("A", start=False)
    fed.node("B")
    cfg, base = tmp_path / "sensor.json", tmp_path / "sensorbase.json"
    # alert_refresh 1: the unchanged outage is stored again every round
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": "gov.example."}], "interval": 1,
                               "alert_refresh": 1}))
    base.write_text(json.dumps({"zones": [{"zone": "gov.example.", "ns": ["ns1.gov.example."],
                                           "ds": [], "glue": {}, "probes": {}}]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()
    fed.link("A", "B", "pull")
    wait_for(lambda: len(alert_objs(fed.objects("A"))) == 1, timeout=60)
    at_a = alert_objs(fed.objects("A"))
    (alert,) = at_a.values()
    assert alert["extensions"][EXT]["kind"] == "outage"
    assert sig_of(alert)["public_key"] == fed.pubkey("A")
    # A later round is a new version of the same alert, not a new alert.
    wait_for(lambda: [o["modified"] for o in alert_objs(fed.objects("A")).values()]
             != [alert["modified"]], timeout=60)
    assert set(alert_objs(fed.objects("A"))) == set(at_a)
    fed.sync("B")
    assert set(alert_objs(fed.objects("B"))) == set(at_a)


def test_sensor_resumes_open_findings_after_a_restart(fed, tmp_path):
    """serve restarted while an outage is open: the rounds after the
    restart update the same alert (same id and first_observed: not raised
    again as new), and when the outage ends after the restart its end is
    still stored, as outage-end of that alert."""
    a = fed.node("A", start=False)
    cfg, base, port = tmp_path / "sensor.json", tmp_path / "sensorbase.json", closed_port()

    def watch(zone):
        cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{port}"]},
                                   "zones": [{"zone": zone}], "interval": 1}))

    watch("gov.example.")
    base.write_text(json.dumps({"zones": [
        {"zone": z, "ns": ["ns1." + z], "ds": [], "glue": {}, "probes": {}}
        for z in ("gov.example.", "mil.example.")]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()
    wait_for(lambda: len(alert_objs(fed.objects("A"))) == 1, timeout=60)
    ((oid, before),) = alert_objs(fed.objects("A")).items()
    a.stop()

    def rounds():
        return a.stderr().count("dns sensor: round done")

    done = rounds()
    a.start()
    wait_for(lambda: rounds() >= done + 2, timeout=60)  # two rounds after the restart
    after = alert_objs(fed.objects("A"))
    assert set(after) == {oid}, "the open outage was raised again as a new alert"
    assert after[oid]["first_observed"] == before["first_observed"]
    assert after[oid]["extensions"][EXT]["kind"] == "outage"
    a.stop()

    # gov.example. is no longer failing (no longer watched): its outage ended.
    watch("mil.example.")
    a.start()
    wait_for(lambda: alert_objs(fed.objects("A")).get(oid, {}).get("extensions", {})
             .get(EXT, {}).get("kind") == "outage-end", timeout=60)
    ended = alert_objs(fed.objects("A"))[oid]["extensions"][EXT]
    assert ended["zone"] == "gov.example." and ended["first_seen"] == \
        before["extensions"][EXT]["first_seen"]


def test_restart_resumes_only_the_sensors_own_alerts(fed, tmp_path):
    """A constituent that may write to the sensor's collection posts an
    alert in the sensor's form (its identity, its extension, an open
    outage of a zone the sensor does not watch). After a restart the sensor
    resumes its own findings only: it neither adopts the posted one nor
    publishes an end for it under the node's signature."""
    a = fed.node("A", start=False)
    a.org("C", "constituent")
    ctok = a.token("C")
    a.grant("C", fed.coll["A"], True, True)
    cfg, base = tmp_path / "sensor.json", tmp_path / "sensorbase.json"
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": "gov.example."}], "interval": 1}))
    base.write_text(json.dumps({"zones": [
        {"zone": z, "ns": ["ns1." + z], "ds": [], "glue": {}, "probes": {}}
        for z in ("gov.example.", "victim.example.")]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()
    wait_for(lambda: len(alert_objs(fed.objects("A"))) == 1, timeout=60)
    (real,) = alert_objs(fed.objects("A")).values()
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    ext = dict(real["extensions"][EXT], zone="victim.example.", name="victim.example.",
               first_seen=now, last_seen=now, observed="posted by a constituent")
    dom = {"type": "domain-name", "spec_version": "2.1",
           "id": "domain-name--" + str(uuid.uuid4()), "value": "victim.example"}
    posted = {"type": "observed-data", "spec_version": "2.1",
              "id": "observed-data--" + str(uuid.uuid4()), "created": now, "modified": now,
              "created_by_ref": real["created_by_ref"], "first_observed": now,
              "last_observed": now, "number_observed": 1, "object_refs": [dom["id"]],
              "extensions": {EXT: ext}}
    a.post_ok(fed.coll["A"], [dom, posted], token=ctok, root=a.root)
    a.stop()

    def rounds():
        return a.stderr().count("dns sensor: round done")

    done = rounds()
    a.start()
    wait_for(lambda: rounds() >= done + 3, timeout=60)
    victim = {oid for oid, o in alert_objs(fed.objects("A")).items()
              if o["extensions"][EXT]["zone"] == "victim.example."}
    assert victim == {posted["id"]}, "the sensor took a posted alert for its own"


def test_lasting_finding_is_not_stored_every_round(fed, tmp_path):
    """An outage that goes on unchanged is stored once, not once per round:
    a new version only when it changes or alert_refresh (default an hour)
    has passed since the last one."""
    a = fed.node("A", start=False)
    cfg, base = tmp_path / "sensor.json", tmp_path / "sensorbase.json"
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": "gov.example."}], "interval": 1}))
    base.write_text(json.dumps({"zones": [{"zone": "gov.example.", "ns": ["ns1.gov.example."],
                                           "ds": [], "glue": {}, "probes": {}}]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()

    def rounds():
        return a.stderr().count("dns sensor: round done")

    wait_for(lambda: rounds() >= 4, timeout=60)
    ((oid, alert),) = alert_objs(fed.objects("A")).items()
    r = a.get(a.objects_path(fed.coll["A"], a.root) + oid + "/versions/")
    assert r.status_code == 200, r.text
    assert r.json()["versions"] == [alert["modified"]], r.json()
    assert a.stderr().count("findings, 0 alerts stored") >= 3  # the rounds after the first


def test_extension_definition_versions_old_and_new_accepted(fed, tmp_path):
    """The DNS alert extension-definition is at version 1.2 (its schema text
    lists injection and the links to routing alerts); a bundle made under version 1.0 (same id, older
    modified) is still accepted beside it, and both alerts read the same."""
    n = fed.node("A")
    new = alerts(fed, "A", tmp_path, "green", "gov.example.")
    (defn,) = [o for o in new["objects"] if o["id"] == EXT]
    assert defn["version"] == "1.2" and "injection" in defn["schema"]
    assert "related" in defn["schema"]
    assert defn["modified"] > defn["created"]
    old = json.loads(json.dumps(new))
    for o in old["objects"]:
        if o["id"] == EXT:
            o.update(version="1.0", modified=o["created"],
                     schema="Meridian DNS alert, version 1.0. A property extension of "
                            "observed-data. Members: kind (delegation, divergence, dnssec, "
                            "outage, outage-end); zone; name; vantage; expected; observed.")
        elif o["type"] == "observed-data":
            o["id"] = "observed-data--6f0c4f7e-1b52-5d0b-8c61-0d7b2f3a9e10"
            o["extensions"][EXT]["zone"] = "old.example."
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old))
    p = n.cli("import", "--data", n.data, "--collection", fed.coll["A"], old_path, check=False)
    assert p.returncode == 0, p.stderr
    at_a = alert_objs(fed.objects("A"))
    assert {o["extensions"][EXT]["zone"] for o in at_a.values()} == {"gov.example.",
                                                                     "old.example."}
    r = n.get(n.objects_path(fed.coll["A"], n.root) + EXT + "/versions/")
    assert r.status_code == 200, r.text
    assert sorted(r.json()["versions"]) == sorted([defn["created"], defn["modified"]])


def _name(n):
    return b"".join(bytes([len(x)]) + x.encode() for x in n.strip(".").split(".") if x) + b"\0"


def _rr(name, rtype, rdata):
    return _name(name) + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata


class ScriptedDns:
    """Two scripted DNS servers on a loopback block of their own, bound by
    this test: a root at PARENT:port that delegates gov.example. to
    ns1.gov.example. (glue ZONE), and is also the vantage resolver (RD
    queries), and the zone's server at ZONE:53 (name servers found through
    referrals are asked on port 53). The vantage answers "." NS, gives a
    SERVFAIL without EDE to any other query, and NOERROR to it with CD: what
    a validating resolver without EDE does for a broken zone, and what its
    own upstream timeout looks like."""
    ZONE_SOA = _name("ns1.gov.example.") + _name("hostmaster.gov.example.") + struct.pack(
        ">IIIII", 1, 3600, 600, 86400, 60)

    def __init__(self):
        net = f"127.{random.randrange(100, 250)}.{random.randrange(1, 250)}"
        self.parent, self.zone = net + ".1", net + ".2"
        self.socks = []
        for addr, port in ((self.parent, 0), (self.zone, 53)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, port))
            s.settimeout(0.2)
            self.socks.append(s)
        self.port = self.socks[0].getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _answer(self, role, q):
        qid, flags = struct.unpack(">HH", q[:4])
        end = 12
        while q[end] != 0:
            end += 1 + q[end]
        qname = ".".join(q[i + 1:i + 1 + q[i]].decode() for i in self._labels(q, end)) + "."
        qtype = struct.unpack(">H", q[end + 1:end + 3])[0]
        question = q[12:end + 5]

        def msg(rflags, an=(), ns=(), ar=()):
            return (struct.pack(">HHHHHH", qid, rflags, 1, len(an), len(ns), len(ar)) + question +
                    b"".join(an) + b"".join(ns) + b"".join(ar))
        ns1 = _rr("gov.example.", 2, _name("ns1.gov.example."))
        glue = _rr("ns1.gov.example.", 1, socket.inet_aton(self.zone))
        if role == "parent" and flags & 0x0100:  # the vantage (RD)
            if qname == "." and qtype == 2:
                return msg(0x8180, an=[_rr(".", 2, _name("a.root."))])
            return msg(0x8180 if flags & 0x0010 else 0x8182)  # CD: NOERROR, else SERVFAIL
        if role == "parent":
            return msg(0x8000, ns=[ns1], ar=[glue])  # the referral
        if qtype == 6:
            return msg(0x8400, an=[_rr("gov.example.", 6, self.ZONE_SOA)])
        if qtype == 2:
            return msg(0x8400, an=[ns1], ar=[glue])
        return msg(0x8400, ns=[_rr("gov.example.", 6, self.ZONE_SOA)])

    @staticmethod
    def _labels(q, end):
        i = 12
        while i < end:
            yield i
            i += 1 + q[i]

    def _serve(self):
        while not self.stopped.is_set():
            for role, s in zip(("parent", "zone"), self.socks):
                try:
                    q, peer = s.recvfrom(65535)
                except (socket.timeout, BlockingIOError):
                    continue
                try:
                    s.sendto(self._answer(role, q), peer)
                except (IndexError, struct.error, UnicodeDecodeError):
                    pass  # not a query this script answers

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=10)
        for s in self.socks:
            s.close()


@pytest.fixture
def scripted_dns():
    d = ScriptedDns()
    yield d
    d.stop()


def test_pending_servfail_survives_a_restart(fed, scripted_dns, tmp_path):
    """A vantage's SERVFAIL without EDE waits for the next round; serve is
    restarted between that round and the next: the round after the restart
    still confirms it (the pending finding was kept in the store with its
    first_seen) and stores the alert, first observed before the restart."""
    d = scripted_dns
    a = fed.node("A", start=False)
    cfg, base = tmp_path / "sensor.json", tmp_path / "sensorbase.json"
    # one round per start: interval an hour
    cfg.write_text(json.dumps({"root": {"servers": [f"{d.parent}:{d.port}"]},
                               "zones": [{"zone": "gov.example."}],
                               "vantages": [{"name": "isp-1", "server": f"{d.parent}:{d.port}"}],
                               "interval": 3600}))
    base.write_text(json.dumps({"zones": [{"zone": "gov.example.", "ns": ["ns1.gov.example."],
                                           "ds": [], "glue": {"ns1.gov.example.": [d.zone]},
                                           "probes": {}}]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]

    def rounds():
        return a.stderr().count("dns sensor: round done")

    a.start()
    wait_for(lambda: rounds() == 1, timeout=60)
    assert "0 findings, 0 alerts stored, 0 divergences excused, 0 TLS verdicts cached, " \
           "1 pending" in a.stderr(), a.stderr()
    assert alert_objs(fed.objects("A")) == {}
    a.stop()
    restarted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    done = rounds()
    a.start()
    wait_for(lambda: rounds() == done + 1, timeout=60)  # the first round after the restart
    found = [o["extensions"][EXT] for o in alert_objs(fed.objects("A")).values()]
    assert [(f["kind"], f["vantage"], f["cause"]) for f in found] == [("dnssec", "isp-1",
                                                                       "other")], found
    assert found[0]["first_seen"] < restarted <= found[0]["last_seen"], found
