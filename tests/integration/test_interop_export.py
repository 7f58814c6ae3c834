"""`meridian export` in the formats other tools read (issue 12, docs/interop.md),
checked by the real tools: Suricata 7 loads the rules (-T) and raises the
expected alerts on a pcap this test builds, nft checks and loads the set
file, ipset restores its file in a network namespace the test creates; the
Zeek intel file is checked against Zeek's documented format. TLP: for every
format, an export made for a partner holds exactly the indicators that
partner reads through TAXII."""
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import uuid

import pytest

from node import (TLP_AMBER, TLP_AMBER_STRICT, TLP_CLEAR, TLP_GREEN, TLP_RED, start_node,
                  wait_for)

FILE_BODY = b"hello"
FILE_MD5 = hashlib.md5(FILE_BODY).hexdigest()
FORMATS = ("stix", "jsonl", "csv", "suricata", "zeek", "list", "nft", "ipset", "snort",
           "suricata-datasets", "misp")


def ind(n, pattern, tlp=None, **extra):
    o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n, version=4)}",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "name": f"indicator {n}", "pattern": pattern, "pattern_type": "stix",
         "valid_from": "2026-01-01T00:00:00Z"}
    if tlp:
        o["object_marking_refs"] = [tlp]
    o.update(extra)
    return o


# the indicators the Suricata pcap hits, and some it must not
IP = ind(1, "[ipv4-addr:value = '198.51.100.7']")
DOMAIN = ind(2, "[domain-name:value = 'evil.example']")
URL = ind(3, "[url:value = 'http://bad.example/x/payload.exe?a=1']")
MD5 = ind(4, f"[file:hashes.MD5 = '{FILE_MD5}']")
NETS = ind(5, "[ipv4-addr:value = '10.1.2.3/8'] OR [ipv6-addr:value = '2001:db8::1']")
COMPLEX = ind(6, "[ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = 443]")
EMAIL = ind(7, "[email-addr:value = 'boss@evil.example']")
EXPIRED = ind(8, "[ipv4-addr:value = '192.0.2.200']", valid_until="2026-02-01T00:00:00Z")
REVOKED = ind(9, "[domain-name:value = 'gone.example']", revoked=True)
QUIET = ind(10, "[domain-name:value = 'quiet.example']")  # in the rules, not in the traffic
INSIDE = ind(11, "[ipv4-addr:value = '10.200.0.1']")  # inside 10.0.0.0/8: nft must merge
ALL = [IP, DOMAIN, URL, MD5, NETS, COMPLEX, EMAIL, EXPIRED, REVOKED, QUIET, INSIDE]


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("interop"))
    n.org("cert-p", "partner")
    n.org("cert-q", "partner")
    n.coll = n.collection(root="api1", alias="ioc",
                          grants=(("own", True, True), ("cert-p", True, False),
                                  ("cert-q", True, True)))
    n.post_ok(n.coll, ALL)
    yield n
    n.stop()


def export(node, fmt, *args, check=True):
    p = node.cli("export", "--data", node.data, "--collection", node.coll, "--format", fmt,
                 "--now", "2026-06-01T00:00:00Z", *args, check=check)
    return p


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: run scripts/bootstrap")


# ---- Suricata ----------------------------------------------------------------

def tcp_session(cli, srv, sport, dport, request, response, t0):
    from scapy.all import IP as IPL, TCP, Raw, Ether
    e = lambda: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")  # noqa: E731
    c2s = lambda **kw: e() / IPL(src=cli, dst=srv) / TCP(sport=sport, dport=dport, **kw)  # noqa
    s2c = lambda **kw: e() / IPL(src=srv, dst=cli) / TCP(sport=dport, dport=sport, **kw)  # noqa
    cs, ss = 1001, 5001
    pk = [c2s(flags="S", seq=1000), s2c(flags="SA", seq=5000, ack=cs), c2s(flags="A", seq=cs, ack=ss),
          c2s(flags="PA", seq=cs, ack=ss) / Raw(request)]
    cs += len(request)
    if response:
        pk.append(s2c(flags="PA", seq=ss, ack=cs) / Raw(response))
        ss += len(response)
    pk += [c2s(flags="A", seq=cs, ack=ss), c2s(flags="FA", seq=cs, ack=ss),
           s2c(flags="FA", seq=ss, ack=cs + 1), c2s(flags="A", seq=cs + 1, ack=ss + 1)]
    for i, p in enumerate(pk):
        p.time = t0 + i * 0.01
    return pk


def client_hello(sni):
    name = sni.encode()
    ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00"
    body += struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def write_pcap(path):
    """DNS for evil.example and a.sub.evil.example, an HTTP GET of the URL
    indicator, an HTTP download whose MD5 is an indicator, a TLS ClientHello
    with SNI evil.example and a UDP packet to the IP indicator, plus traffic
    that must not alert (notevil.example)."""
    from scapy.all import IP as IPL, UDP, DNS, DNSQR, Raw, Ether, wrpcap
    e = lambda: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")  # noqa: E731
    t = 1780000000.0
    pk = []
    for i, q in enumerate(("evil.example", "a.sub.evil.example", "notevil.example")):
        p = e() / IPL(src="192.0.2.10", dst="192.0.2.53") / UDP(sport=40000 + i, dport=53) / \
            DNS(id=7 + i, rd=1, qd=DNSQR(qname=q))
        p.time = t + i * 0.1
        pk.append(p)
    pk += tcp_session("192.0.2.10", "203.0.113.80", 41001, 80,
                      b"GET /x/payload.exe?a=1 HTTP/1.1\r\nHost: bad.example\r\n\r\n", b"", t + 1)
    pk += tcp_session("192.0.2.10", "203.0.113.81", 41002, 80,
                      b"GET /f.bin HTTP/1.1\r\nHost: files.example\r\n\r\n",
                      b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: "
                      b"application/octet-stream\r\n\r\n" + FILE_BODY, t + 2)
    pk += tcp_session("192.0.2.10", "203.0.113.43", 41003, 443, client_hello("evil.example"), b"",
                      t + 3)
    p = e() / IPL(src="192.0.2.10", dst="198.51.100.7") / UDP(sport=41004, dport=9999) / Raw(b"x")
    p.time = t + 4
    pk.append(p)
    wrpcap(str(path), pk)


def suricata(rules_dir, tmp_path, *args):
    log = tmp_path / f"log-{uuid.uuid4().hex[:6]}"
    log.mkdir()
    p = subprocess.run(["suricata", "-S", str(rules_dir / "meridian.rules"), "--set",
                        f"default-rule-path={rules_dir}", "-l", str(log), "-k", "none", *args],
                       capture_output=True, text=True, timeout=120)
    return p, log


def alerts(log):
    out = []
    for line in (log / "eve.json").read_text().splitlines():
        ev = json.loads(line)
        if ev["event_type"] == "alert":
            out.append(ev["alert"])
    return out


def test_suricata_rules_load_and_alert_on_the_right_indicators(node, tmp_path):
    need("suricata")
    rules = tmp_path / "rules"
    rules.mkdir()
    p = export(node, "suricata", "--output", rules)
    assert "Suricata rule" in p.stderr
    text = (rules / "meridian.rules").read_text()
    # one rule per expressible value: IP, 3 for the domain (dns, tls, http),
    # URL, the /8 and the v6 address, quiet (3), inside; plus the MD5 list rule
    assert len([l for l in text.splitlines() if l.startswith("alert ")]) == 1 + 3 + 1 + 2 + 3 + 1 + 1
    assert (rules / "meridian-md5.txt").read_text() == FILE_MD5 + "\n"
    # inexpressible and inactive indicators are reported, not silently lost
    assert COMPLEX["id"] in p.stderr and EMAIL["id"] in p.stderr
    assert "2 indicators cannot be expressed in suricata" in p.stderr
    assert "2 inactive skipped" in p.stderr
    for gone in (EXPIRED, REVOKED, COMPLEX, EMAIL):
        assert gone["id"] not in text
    # the real Suricata loads every rule
    t = subprocess.run(["suricata", "-T", "-v", "-S", str(rules / "meridian.rules"), "--set",
                        f"default-rule-path={rules}", "-l", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert t.returncode == 0, t.stdout + t.stderr
    assert re.search(r"\b12 rules successfully loaded, 0 rules failed", t.stdout + t.stderr), \
        t.stdout + t.stderr
    # and raises the expected alerts on traffic, each naming its indicator
    pcap = tmp_path / "t.pcap"
    write_pcap(pcap)
    r, log = suricata(rules, tmp_path, "-r", str(pcap))
    assert r.returncode == 0, r.stderr
    got = {}
    for a in alerts(log):
        assert a["signature"].startswith("Meridian: "), a
        ids = a.get("metadata", {}).get("stix_id", ["(list)"])
        got.setdefault(ids[0], set()).add(a["signature_id"])
    assert set(got) == {IP["id"], DOMAIN["id"], URL["id"], "(list)"}, got
    assert len(got[DOMAIN["id"]]) == 2  # the DNS query and the TLS SNI, two rules
    # a.sub.evil.example and notevil.example do not match the exact rule
    md5_alerts = [a for a in alerts(log) if "file MD5" in a["signature"]]
    assert md5_alerts, "the filemd5 rule did not fire on the download"

    # the EVE output, read back by `meridian match`, gives sightings of
    # exactly the indicators the traffic carried
    assert sightings(node, log / "eve.json", tmp_path) == {IP["id"], DOMAIN["id"], URL["id"],
                                                          MD5["id"]}

    # sids are stable across exports, and rev follows the version
    again = tmp_path / "again"
    again.mkdir()
    export(node, "suricata", "--output", again)
    assert (again / "meridian.rules").read_text() == text
    m = re.search(r"sid:(\d+); rev:(\d+); metadata:stix_id " + IP["id"], text)
    assert m and int(m.group(2)) == 1767225600  # 2026-01-01T00:00:00Z


def sightings(node, log, tmp_path):
    out = tmp_path / f"s-{uuid.uuid4().hex[:6]}.json"
    p = node.cli("match", "--data", node.data, "--collection", node.coll, "--sightings", out, log)
    assert "malformed" not in p.stderr or " 0 malformed" in p.stderr, p.stderr
    counts = {}
    for o in json.loads(out.read_text())["objects"]:
        if o["type"] == "sighting":
            counts[o["sighting_of_ref"]] = o["count"]
    return set(counts)


def test_zeek_intel_log_comes_back_as_sightings(node, tmp_path):
    """intel.log as Zeek writes it (documented fields; Zeek is not in
    Debian): `sources` carries meta.source of the intel file, which
    Meridian's export sets to the STIX id; another feed's line is looked up
    by its value."""
    rows = export(node, "zeek").stdout.splitlines()[1:]
    src = {r.split("\t")[0]: r.split("\t")[2] for r in rows}
    log = tmp_path / "intel.log"
    head = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            "#path\tintel\n#open\t2026-06-01-00-00-00\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tseen.indicator\t"
            "seen.indicator_type\tseen.where\tseen.node\tmatched\tsources\tfuid\tfile_mime_type"
            "\tfile_desc\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tenum\tenum\tstring\t"
            "set[enum]\tset[string]\tstring\tstring\tstring\n")
    lines = [
        # the exported intel, sources = STIX id; 198.51.100.7 is the
        # connection's address too, and must not count twice
        f"1780000000.1\tC1\t198.51.100.7\t5353\t192.0.2.53\t53\tevil.example\t"
        f"Intel::DOMAIN\tDNS::IN_REQUEST\tzeek\tIntel::DOMAIN\t{src['evil.example']}\t-\t-\t-",
        f"1780000001.1\tC2\t192.0.2.10\t40001\t203.0.113.80\t80\t"
        f"bad.example/x/payload.exe?a=1\tIntel::URL\tHTTP::IN_URL\tzeek\tIntel::URL\t"
        f"{src['bad.example/x/payload.exe?a=1']}\t-\t-\t-",
        # another feed's intel: the value decides
        "1780000002.1\tC3\t192.0.2.10\t40002\t10.200.0.1\t443\t10.200.0.1\t"
        "Intel::ADDR\tConn::IN_RESP\tzeek\tIntel::ADDR\tother-feed\t-\t-\t-",
    ]
    log.write_text(head + "\n".join(lines) + "\n#close\t2026-06-01-00-10-00\n")
    # not IP: 198.51.100.7 is only the connection's address in line 1
    # (10.200.0.1 is also inside NETS' 10.0.0.0/8)
    assert sightings(node, log, tmp_path) == {DOMAIN["id"], URL["id"], INSIDE["id"], NETS["id"]}


def test_suricata_subdomains_use_dotprefix(node, tmp_path):
    need("suricata")
    rules = tmp_path / "rules"
    rules.mkdir()
    export(node, "suricata", "--output", rules, "--subdomains", "--type", "domain")
    text = (rules / "meridian.rules").read_text()
    assert 'dns.query; dotprefix; content:".evil.example"; nocase; endswith;' in text
    pcap = tmp_path / "t.pcap"
    write_pcap(pcap)
    r, log = suricata(rules, tmp_path, "-r", str(pcap))
    assert r.returncode == 0, r.stderr
    dns = [a for a in alerts(log) if a["metadata"]["stix_id"] == [DOMAIN["id"]]]
    # evil.example and a.sub.evil.example (DNS) and the SNI; never notevil.example
    assert len(dns) == 3, dns
    assert all(a["metadata"]["stix_id"][0] == DOMAIN["id"] for a in alerts(log))


def ds_suricata(rules_dir, tmp_path, *args):
    """Suricata with the iprep settings the dataset export's header names."""
    return suricata(rules_dir, tmp_path, "--set", f"default-reputation-path={rules_dir}",
                    "--set", f"reputation-categories-file={rules_dir}/meridian-categories.txt",
                    "--set", "reputation-files.0=meridian.iprep", *args)


def test_suricata_datasets_load_alert_and_map_back_to_indicators(node, tmp_path):
    need("suricata")
    d = tmp_path / "ds"
    d.mkdir()
    p = export(node, "suricata-datasets", "--output", d)
    assert "Suricata rule" in p.stderr
    # names as base64 lines of one dataset, addresses/CIDRs in one iprep file
    assert sorted(base64.b64decode(l).decode() for l in
                  (d / "meridian-domain.lst").read_text().split()) == ["evil.example",
                                                                       "quiet.example"]
    assert (d / "meridian.iprep").read_text().split() == [
        "198.51.100.7,1,100", "10.0.0.0/8,1,100", "2001:db8::1,1,100", "10.200.0.1,1,100"]
    assert (d / "meridian-categories.txt").read_text() == "1,meridian,Meridian indicators\n"
    assert (d / "meridian-md5.txt").read_text() == FILE_MD5 + "\n"
    mapping = {(r["list"], r["value"]): r["indicator_id"]
               for r in csv.DictReader(io.StringIO((d / "meridian-datasets.csv").read_text()))}
    assert mapping[("domain", "evil.example")] == DOMAIN["id"]
    assert mapping[("ip", "198.51.100.7")] == IP["id"]
    assert mapping[("ip", "10.0.0.0/8")] == NETS["id"]
    text = (d / "meridian.rules").read_text()
    rules = [l for l in text.splitlines() if l.startswith("alert ")]
    # 3 over the domain set, 1 over iprep, the URL rule, the MD5 list rule:
    # a rule count that does not grow with the number of names and addresses
    assert len(rules) == 6, rules
    assert sum("dataset:isset,meridian-domain,type string,load meridian-domain.lst" in r
               for r in rules) == 3
    assert "2 indicators cannot be expressed in suricata-datasets" in p.stderr
    t = ds_suricata(d, tmp_path, "-T", "-v")[0]
    assert t.returncode == 0, t.stdout + t.stderr
    assert re.search(r"\b6 rules successfully loaded, 0 rules failed", t.stdout + t.stderr), \
        t.stdout + t.stderr
    pcap = tmp_path / "t.pcap"
    write_pcap(pcap)
    r, log = ds_suricata(d, tmp_path, "-r", str(pcap))
    assert r.returncode == 0, r.stderr
    # every alert of a set rule names its indicator through the map, by the
    # value the EVE alert carries
    named = set()
    kinds = set()
    for line in (log / "eve.json").read_text().splitlines():
        ev = json.loads(line)
        if ev["event_type"] != "alert":
            continue
        a = ev["alert"]
        if "stix_id" in a.get("metadata", {}):
            named.add(a["metadata"]["stix_id"][0])
            continue
        lst = a.get("metadata", {}).get("meridian_list", [None])[0]
        kinds.add((lst, a["signature"]))
        if lst == "domain":
            values = [q["rrname"] for q in ev.get("dns", {}).get("query", [])] + \
                [ev.get("tls", {}).get("sni"), ev.get("http", {}).get("hostname")]
            hits = {mapping[("domain", v)] for v in values if ("domain", v) in mapping}
        elif lst == "ip":
            hits = {mapping[("ip", v)] for v in (ev["src_ip"], ev["dest_ip"])
                    if ("ip", v) in mapping}
        else:
            hits = {"(list)"}
        assert len(hits) == 1, ev
        named |= hits
    assert named == {IP["id"], DOMAIN["id"], URL["id"], "(list)"}, named
    # the DNS query and the TLS SNI each hit the domain set; a.sub.evil.example
    # and notevil.example do not (exact names)
    assert {s for k, s in kinds if k == "domain"} == {
        "Meridian: DNS query for a domain on the indicator list",
        "Meridian: TLS SNI of a domain on the indicator list"}, kinds
    assert sightings(node, log / "eve.json", tmp_path) == {IP["id"], DOMAIN["id"], URL["id"],
                                                          MD5["id"]}
    # the alerts alone (a sensor that logs no flows): the iprep alert is
    # looked up by its addresses, the dataset alerts by the name they carry
    only = tmp_path / "alerts.json"
    only.write_text("".join(l + "\n" for l in (log / "eve.json").read_text().splitlines()
                            if json.loads(l)["event_type"] == "alert"))
    got = sightings(node, only, tmp_path)
    assert got == {IP["id"], DOMAIN["id"], URL["id"], MD5["id"]}, got
    # --subdomains has no dataset form
    assert export(node, "suricata-datasets", "--output", d, "--subdomains",
                  check=False).returncode == 2


# ---- Snort 3 -------------------------------------------------------------------
# Snort 3 is not in Debian (bookworm or backports): the rules are checked
# against the rule grammar of the Snort 3 rule writing guide, and the bytes
# the DNS and TLS rules look for against the packets scapy builds.

SNORT_ADDR = r"(any|[0-9a-f.:]+(/\d+)?)"
SNORT_HEADER = re.compile(r"^alert (ip|tcp|udp) " + SNORT_ADDR + r" (any|\d+) (->|<>) " +
                          SNORT_ADDR + r" (any|\d+) \((.*)\)$")
SNORT_CONTENT = r'"(?:[^"\\;|]|\|[0-9a-f]{2}(?: [0-9a-f]{2})*\|)*"'
SNORT_OPTIONS = {
    "msg": re.compile(r'"[^"\\;|]*"'),
    "content": re.compile(SNORT_CONTENT + r"(,(nocase|offset \d+|depth \d+))*"),
    "bufferlen": re.compile(r"\d+"),
    "http_header": re.compile(r"field [a-z-]+"),
    "http_raw_uri": None,
    "flow": re.compile(r"to_server,established"),
    "ssl_state": re.compile(r"client_hello"),
    "service": re.compile(r"http|ssl|dns"),
    "pcre": re.compile(r'"/[^"/;]*/i"'),
    "sid": re.compile(r"[1-9]\d*"),
    "rev": re.compile(r"[1-9]\d*"),
    "metadata": re.compile(r"[a-z_]+ [^,;:]+(, [a-z_]+ [^,;:]+)*"),
}


def snort_options(body):
    """Splits a rule body on the ';' outside quotes into (keyword, value)."""
    out, cur, quoted = [], "", False
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    assert cur.strip() == "" and not quoted, body
    return [tuple(o.split(":", 1)) if ":" in o else (o, None) for o in out]


def snort_check(rule):
    m = SNORT_HEADER.match(rule)
    assert m, rule
    opts = snort_options(m.group(9))
    keys = [k for k, _ in opts]
    for k, v in opts:
        assert k in SNORT_OPTIONS, (k, rule)
        if SNORT_OPTIONS[k] is None:
            assert v is None, rule
        else:
            assert v is not None and SNORT_OPTIONS[k].fullmatch(v), (k, v, rule)
    assert keys.count("sid") == 1 and keys.count("rev") == 1 and keys[0] == "msg", rule
    # a bufferlen measures the sticky buffer set before it
    for i, k in enumerate(keys):
        if k == "bufferlen":
            assert {"http_header", "http_raw_uri"} & set(keys[:i]), rule
    return dict(opts), opts


def content_bytes(v):
    """The bytes of a Snort content string ("|04|evil" -> b"\\x04evil")."""
    q = v[1:v.index('"', 1)]
    out = b""
    for i, part in enumerate(q.split("|")):
        out += bytes.fromhex(part) if i % 2 else part.encode()
    return out


def test_snort3_rules_follow_the_grammar_and_match_the_wire(node, tmp_path):
    from scapy.all import DNS, DNSQR
    p = export(node, "snort")
    rules = [l for l in p.stdout.splitlines() if l and not l.startswith("#")]
    assert all(l.startswith("alert ") for l in rules)
    parsed = [snort_check(r) for r in rules]
    # IP, 3 per domain (DNS, TLS, HTTP), the URL, the /8 and the v6, inside
    assert len(rules) == 1 + 3 + 1 + 2 + 3 + 1, rules
    assert "Snort rule" in p.stderr
    # hashes and e-mail have no Snort 3 rule form: counted, named
    assert "3 indicators cannot be expressed in snort" in p.stderr
    for gone in (MD5, COMPLEX, EMAIL, EXPIRED, REVOKED):
        assert gone["id"] not in p.stdout
    mine = [(d, o) for d, o in parsed if "stix_id " + DOMAIN["id"] in d["metadata"]]
    assert len(mine) == 3
    dns = [d for d, _ in mine if d.get("content", "").endswith(",offset 12,depth 14,nocase")]
    assert len(dns) == 1, mine
    query = bytes(DNS(id=7, rd=1, qd=DNSQR(qname="evil.example")))
    want = content_bytes(dns[0]["content"])
    assert query[12:12 + len(want)] == want  # the name, exact, where Snort looks
    other = bytes(DNS(id=7, rd=1, qd=DNSQR(qname="notevil.example")))
    assert other[12:12 + len(want)] != want and want not in other
    tls = [d for d, _ in mine if d.get("ssl_state") == "client_hello"]
    assert len(tls) == 1 and content_bytes(tls[0]["content"]) in client_hello("evil.example")
    assert content_bytes(tls[0]["content"]) not in client_hello("notevil.example")
    http = [o for d, o in mine if d.get("http_header") == "field host"]
    assert http and ("content", '"evil.example",nocase') in http[0] and \
        ("bufferlen", "12") in http[0]
    url = [o for d, o in parsed if "stix_id " + URL["id"] in d["metadata"]][0]
    assert ("content", '"bad.example",nocase') in url
    assert url[url.index(("http_raw_uri", None)) + 1] == ("content", '"/x/payload.exe?a=1"')
    # the same stable sid as the Suricata rule of the same indicator
    export(node, "suricata", "--output", tmp_path)
    srules = (tmp_path / "meridian.rules").read_text()
    sid = re.search(r"sid:(\d+); rev:\d+; metadata:stix_id " + IP["id"], srules).group(1)
    assert re.search(r"sid:" + sid + r"; rev:1767225600; metadata:stix_id " + IP["id"], p.stdout)
    # subdomains: DNS as a label suffix anywhere, HTTP as a PCRE of the Host
    sub = export(node, "snort", "--subdomains", "--type", "domain").stdout
    for r in (l for l in sub.splitlines() if l.startswith("alert ")):
        snort_check(r)
    assert 'content:"|04|evil|07|example|00|",nocase;' in sub
    assert 'pcre:"/(^|\\.)evil\\x2eexample$/i";' in sub


# ---- Zeek --------------------------------------------------------------------

ZEEK_TYPES = {"Intel::ADDR", "Intel::SUBNET", "Intel::URL", "Intel::SOFTWARE", "Intel::EMAIL",
              "Intel::DOMAIN", "Intel::USER_NAME", "Intel::CERT_HASH", "Intel::PUBKEY_HASH",
              "Intel::FILE_HASH", "Intel::FILE_NAME"}


def test_zeek_intel_file_follows_the_documented_format(node):
    out = export(node, "zeek").stdout
    lines = out.split("\n")
    assert lines[-1] == ""  # newline-terminated
    # the header Zeek's input framework requires, tab-separated
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = [l.split("\t") for l in lines[1:-1]]
    assert rows and all(len(r) == 5 for r in rows), rows
    for r in rows:
        assert r[1] in ZEEK_TYPES, r
        assert all(f != "" and not re.search(r"[\x00-\x1f]", f) for f in r), r  # '-' for empty
        assert r[4] == "-"
    by = {(r[0], r[1]): r[2] for r in rows}
    assert by[("198.51.100.7", "Intel::ADDR")] == IP["id"]
    assert by[("evil.example", "Intel::DOMAIN")] == DOMAIN["id"]
    # Zeek URLs carry no scheme
    assert by[("bad.example/x/payload.exe?a=1", "Intel::URL")] == URL["id"]
    assert by[(FILE_MD5, "Intel::FILE_HASH")] == MD5["id"]
    assert by[("10.0.0.0/8", "Intel::SUBNET")] == NETS["id"]
    assert by[("2001:db8::1", "Intel::ADDR")] == NETS["id"]
    assert by[("boss@evil.example", "Intel::EMAIL")] == EMAIL["id"]
    assert rows[0][3] == "indicator 1"


# ---- firewalls ---------------------------------------------------------------

@pytest.fixture
def netns():
    name = f"mrdtest{uuid.uuid4().hex[:8]}"
    p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot create a network namespace here (needs root): {p.stderr.strip()}")
    yield name
    subprocess.run(["ip", "netns", "del", name], check=True)


def in_ns(ns, *cmd, input=None):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], input=input, capture_output=True,
                          text=True, timeout=60)


def test_nftables_file_checks_and_loads(node, tmp_path, netns):
    need("nft")
    f = tmp_path / "meridian.nft"
    export(node, "nft", "--output", f)
    text = f.read_text()
    p = in_ns(netns, "nft", "-c", "-f", str(f))
    assert p.returncode == 0, p.stderr
    for _ in range(2):  # loading it again replaces the contents
        p = in_ns(netns, "nft", "-f", str(f))
        assert p.returncode == 0, p.stderr
    v4 = in_ns(netns, "nft", "list", "set", "inet", "meridian", "indicators_v4").stdout
    v6 = in_ns(netns, "nft", "list", "set", "inet", "meridian", "indicators_v6").stdout
    assert "198.51.100.7" in v4 and "10.0.0.0/8" in v4 and "2001:db8::1" in v6
    assert "192.0.2.200" not in text  # expired
    # the sets work in a rule
    p = in_ns(netns, "nft", "add chain inet meridian in { type filter hook input priority 0; }")
    assert p.returncode == 0, p.stderr
    p = in_ns(netns, "nft", "add rule inet meridian in ip saddr @indicators_v4 drop")
    assert p.returncode == 0, p.stderr


def test_ipset_restore_in_a_namespace(node, tmp_path, netns):
    need("ipset")
    f = tmp_path / "meridian.ipset"
    export(node, "ipset", "--output", f)
    for _ in range(2):  # restoring again is fine (-exist, flush)
        p = in_ns(netns, "ipset", "restore", "-f", str(f))
        assert p.returncode == 0, p.stderr
    v4 = in_ns(netns, "ipset", "list", "meridian-v4").stdout
    v6 = in_ns(netns, "ipset", "list", "meridian-v6").stdout
    assert "198.51.100.7" in v4 and "10.0.0.0/8" in v4 and "10.200.0.1" in v4
    assert "Number of entries: 3" in v4
    assert "2001:db8::1" in v6
    p = in_ns(netns, "ipset", "test", "meridian-v4", "10.9.9.9")  # inside the /8
    assert p.returncode == 0, p.stderr


def test_lists_csv_jsonl_and_filters(node, tmp_path):
    d = tmp_path / "lists"
    d.mkdir()
    export(node, "list", "--output", d)
    assert (d / "ipv4.txt").read_text().split() == ["198.51.100.7", "10.0.0.0/8", "10.200.0.1"]
    assert (d / "domain.txt").read_text().split() == ["evil.example", "quiet.example"]
    assert (d / "url.txt").read_text() == "http://bad.example/x/payload.exe?a=1\n"
    assert (d / "md5.txt").read_text() == FILE_MD5 + "\n"
    assert (d / "email.txt").read_text() == "boss@evil.example\n"
    assert not (d / "ipv6.txt.tmp").exists() and not list(d.glob(".*.tmp"))
    # one kind to stdout
    assert export(node, "list", "--type", "domain").stdout.split() == ["evil.example",
                                                                      "quiet.example"]
    # --all brings the expired and revoked ones back
    assert "gone.example" in export(node, "list", "--type", "domain", "--all").stdout
    rows = list(csv.reader(io.StringIO(export(node, "csv", "--type", "ip").stdout)))
    assert [r[1] for r in rows[1:]] == ["198.51.100.7", "10.1.2.3/8", "2001:db8::1",
                                         "10.200.0.1"]
    # jsonl: stored objects, one per line; --active keeps the active indicators
    lines = export(node, "jsonl", "--active").stdout.splitlines()
    ids = [json.loads(l)["id"] for l in lines]
    assert EXPIRED["id"] not in ids and REVOKED["id"] not in ids and IP["id"] in ids
    assert len(export(node, "jsonl").stdout.splitlines()) == len(ALL)
    # a directory format without a directory, and an unknown kind
    assert export(node, "suricata", check=False).returncode == 2
    assert export(node, "csv", "--type", "bogus", check=False).returncode == 2


# ---- TLP: every format, for a partner -----------------------------------------

def ids_in(fmt, out, value_of):
    if fmt == "stix":
        return {o["id"] for o in json.loads(out).get("objects", [])}
    if fmt == "jsonl":
        return {json.loads(l)["id"] for l in out.splitlines()}
    if fmt == "csv":
        return {r[2] for r in list(csv.reader(io.StringIO(out)))[1:]}
    if fmt in ("suricata", "snort"):
        return set(re.findall(r"stix_id (indicator--[0-9a-f-]+)", out))
    if fmt == "suricata-datasets":
        return {r["indicator_id"] for r in csv.DictReader(io.StringIO(out))}
    if fmt == "zeek":
        return {l.split("\t")[2] for l in out.splitlines()[1:]}
    if fmt == "misp":  # the event files' attribute values
        return {value_of[a["value"]] for l in out.splitlines()
                for a in json.loads(l)["Event"].get("Attribute", [])}
    found = set()
    for v, i in value_of.items():
        if re.search(r"(^|[\s{,])" + re.escape(v) + r"($|[\s},])", out, re.M):
            found.add(i)
    return found


def test_every_format_gives_a_partner_exactly_its_taxii_view(node, tmp_path):
    levels = {"clear": TLP_CLEAR, "green": TLP_GREEN, "amber": TLP_AMBER,
              "strict": TLP_AMBER_STRICT, "red": TLP_RED}
    coll = node.collection(root="api1", grants=(("own", True, True), ("cert-p", True, False),
                                                ("cert-q", True, True)))
    value_of, objs = {}, []
    for k, (name, tlp) in enumerate(levels.items()):
        o = ind(100 + k, f"[ipv4-addr:value = '203.0.113.{10 + k}']", tlp)
        objs.append(o)
        value_of[f"203.0.113.{10 + k}"] = o["id"]
    node.post_ok(coll, objs)
    # AMBER created by partner cert-q: it never goes a second hop to cert-p
    relayed = ind(120, "[ipv4-addr:value = '203.0.113.99']", TLP_AMBER)
    value_of["203.0.113.99"] = relayed["id"]
    node.post_ok(coll, [relayed], token=node.token("cert-q"))
    tp = node.token("cert-p")
    taxii, _ = node.page_all(node.objects_path(coll), token=tp)
    readable = {o["id"] for o in taxii}
    assert readable == {objs[0]["id"], objs[1]["id"], objs[2]["id"], objs[3]["id"]}
    every = {o["id"] for o in objs} | {relayed["id"]}
    for fmt in FORMATS:
        if fmt in ("suricata", "list", "suricata-datasets", "misp"):
            out_dir = tmp_path / f"{fmt}-p"
            out_dir.mkdir()
            node.cli("export", "--data", node.data, "--collection", coll, "--format", fmt,
                     "--as-org", "cert-p", "--output", out_dir)
            if fmt == "suricata-datasets":
                out = (out_dir / "meridian-datasets.csv").read_text()
            elif fmt == "misp":  # one event per line, read whole
                out = "".join(json.dumps(json.loads(f.read_text())) + "\n"
                              for f in sorted(out_dir.iterdir())
                              if f.name not in ("manifest.json", "hashes.csv"))
            else:
                out = "".join(f.read_text() for f in sorted(out_dir.iterdir()))
        else:
            out = node.cli("export", "--data", node.data, "--collection", coll, "--format", fmt,
                           "--as-org", "cert-p").stdout
        got = ids_in(fmt, out, value_of)
        assert got == readable, (fmt, got ^ readable)
        # and the own org gets everything: the check above can fail
        own = node.cli("export", "--data", node.data, "--collection", coll, "--format", "csv"
                       ).stdout if fmt == "csv" else None
        if own is not None:
            assert ids_in("csv", own, value_of) == every
    # --tlp caps what even the own org gets
    out = node.cli("export", "--data", node.data, "--collection", coll, "--format", "csv",
                   "--tlp", "green").stdout
    assert ids_in("csv", out, value_of) == {objs[0]["id"], objs[1]["id"]}
