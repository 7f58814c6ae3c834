"""Writes small MRT files (RFC 6396) for the `meridian bgp` tests.

Run as a script to regenerate the committed fixtures in tests/data/bgp/:
    /usr/bin/python3 tests/integration/mrt_gen.py tests/data/bgp
The tests also import it to build malformed and ROV-specific files in
their tmp_path. Everything is written by hand from the RFCs, byte by byte,
so the files exercise both decoders (ours and bgpdump's) independently.
"""
import bz2
import gzip
import ipaddress
import pathlib
import struct
import sys

# MRT types and subtypes (RFC 6396 §4, RFC 8050 §3)
TABLE_DUMP_V2, BGP4MP, BGP4MP_ET = 13, 16, 17
PEER_INDEX_TABLE, RIB_IPV4_UNICAST, RIB_IPV6_UNICAST = 1, 2, 4
RIB_IPV4_UNICAST_ADDPATH, RIB_IPV6_UNICAST_ADDPATH = 8, 10
STATE_CHANGE, MESSAGE, MESSAGE_AS4, STATE_CHANGE_AS4 = 0, 1, 4, 5
MESSAGE_ADDPATH, MESSAGE_AS4_ADDPATH = 8, 9

AS_SET, AS_SEQUENCE = 1, 2
NO_EXPORT = 0xFFFFFF01


def record(ts, mtype, subtype, body, usec=None):
    if usec is not None:
        body = struct.pack("!I", usec) + body
    return struct.pack("!IHHI", ts, mtype, subtype, len(body)) + body


def ip_bytes(ip):
    return ipaddress.ip_address(ip).packed


def nlri(prefix, path_id=None):
    net = ipaddress.ip_network(prefix)
    n = (net.prefixlen + 7) // 8
    out = b"" if path_id is None else struct.pack("!I", path_id)
    return out + bytes([net.prefixlen]) + net.network_address.packed[:n]


def attr(flags, code, value):
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def aspath_value(segments, asn_size=4):
    """segments: list of (type, [asn, ...])."""
    fmt = "!I" if asn_size == 4 else "!H"
    out = b""
    for stype, asns in segments:
        out += bytes([stype, len(asns)]) + b"".join(struct.pack(fmt, a) for a in asns)
    return out


def attrs(origin=0, path=(), asn_size=4, next_hop=None, med=None, local_pref=None,
          communities=(), atomic=False, aggregator=None, as4_path=None, mp_reach=None,
          mp_unreach=None, otc=None):
    out = attr(0x40, 1, bytes([origin]))
    out += attr(0x40, 2, aspath_value(path, asn_size))
    if next_hop is not None:
        out += attr(0x40, 3, ip_bytes(next_hop))
    if med is not None:
        out += attr(0x80, 4, struct.pack("!I", med))
    if local_pref is not None:
        out += attr(0x40, 5, struct.pack("!I", local_pref))
    if atomic:
        out += attr(0x40, 6, b"")
    if aggregator is not None:
        agg_as, agg_ip = aggregator
        fmt = "!I" if asn_size == 4 else "!H"
        out += attr(0xC0, 7, struct.pack(fmt, agg_as) + ip_bytes(agg_ip))
    if communities:
        out += attr(0xC0, 8, b"".join(struct.pack("!I", c) for c in communities))
    if mp_reach is not None:
        out += attr(0x80, 14, mp_reach)
    if mp_unreach is not None:
        out += attr(0x80, 15, mp_unreach)
    if as4_path is not None:
        out += attr(0xC0, 17, aspath_value(as4_path, 4))
    if otc is not None:
        out += attr(0xC0, 35, struct.pack("!I", otc))  # RFC 9234 Only to Customer
    return out


def comm(a, b):
    return a << 16 | b


# ---- TABLE_DUMP_V2 ----

def peer_index(peers, collector="192.0.2.254", view=b""):
    """peers: list of (ip, asn, as4) (RFC 6396 §4.3.1)."""
    body = ip_bytes(collector) + struct.pack("!H", len(view)) + view
    body += struct.pack("!H", len(peers))
    for i, (ip, asn, as4) in enumerate(peers):
        v6 = ipaddress.ip_address(ip).version == 6
        body += bytes([(1 if v6 else 0) | (2 if as4 else 0)])
        body += struct.pack("!I", 0x0A000001 + i)
        body += ip_bytes(ip)
        body += struct.pack("!I" if as4 else "!H", asn)
    return body


def rib(seq, prefix, entries, addpath=False):
    """entries: list of (peer_index, originated, attribute bytes[, path_id])."""
    body = struct.pack("!I", seq) + nlri(prefix) + struct.pack("!H", len(entries))
    for e in entries:
        idx, orig, ab = e[0], e[1], e[2]
        body += struct.pack("!HI", idx, orig)
        if addpath:
            body += struct.pack("!I", e[3])
        body += struct.pack("!H", len(ab)) + ab
    return body


def mp_nh(*hops):
    """TABLE_DUMP_V2's abbreviated MP_REACH_NLRI: next-hop length, next hops."""
    nh = b"".join(ip_bytes(h) for h in hops)
    return bytes([len(nh)]) + nh


T0 = 1700000000

PEERS = [
    ("198.51.100.1", 65001, False),
    ("198.51.100.2", 4200000001, True),
    ("2001:db8::1", 65002, True),
    ("2001:db8::2", 3356, False),
]


def rib_file(addpath=False):
    v4 = RIB_IPV4_UNICAST_ADDPATH if addpath else RIB_IPV4_UNICAST
    v6 = RIB_IPV6_UNICAST_ADDPATH if addpath else RIB_IPV6_UNICAST
    out = record(T0, TABLE_DUMP_V2, PEER_INDEX_TABLE, peer_index(PEERS))
    seq = 0

    def add(sub, prefix, entries):
        nonlocal out, seq
        if addpath:
            entries = [e + (i + 1,) for i, e in enumerate(entries)]
        out += record(T0, TABLE_DUMP_V2, sub, rib(seq, prefix, entries, addpath))
        seq += 1

    add(v4, "10.0.0.0/8", [
        (0, T0 - 100, attrs(path=[(AS_SEQUENCE, [65001, 3356, 64500])], next_hop="198.51.100.1",
                            med=10, local_pref=100, communities=[comm(65001, 1), NO_EXPORT])),
        (1, T0 - 50, attrs(origin=1, path=[(AS_SEQUENCE, [4200000001, 64500])],
                           next_hop="198.51.100.2")),
    ])
    add(v4, "192.0.2.0/24", [
        (0, T0 - 10, attrs(origin=2, path=[(AS_SEQUENCE, [65001, 64501]),
                                           (AS_SET, [64502, 64503])],
                           next_hop="198.51.100.1", atomic=True,
                           aggregator=(64501, "192.0.2.1"))),
    ])
    add(v4, "203.0.113.128/25", [
        (1, T0 - 5, attrs(path=[(AS_SEQUENCE, [4200000001, 4200000002])],
                          next_hop="198.51.100.2", local_pref=4000000000,
                          communities=[comm(64500, 100), comm(65535, 65281)])),
    ])
    add(v4, "0.0.0.0/0", [
        (0, T0 - 1, attrs(path=[(AS_SEQUENCE, [65001])], next_hop="198.51.100.1")),
    ])
    add(v6, "2001:db8:100::/40", [
        (2, T0 - 20, attrs(path=[(AS_SEQUENCE, [65002, 64510])],
                           mp_reach=mp_nh("2001:db8::1"), med=5)),
        (3, T0 - 30, attrs(path=[(AS_SEQUENCE, [3356, 174, 64510])],
                           mp_reach=mp_nh("2001:db8::2", "fe80::2"),
                           communities=[comm(3356, 2)])),
    ])
    add(v6, "2001:db8:ff00::/48", [
        (2, T0 - 40, attrs(path=[(AS_SEQUENCE, [65002]), (AS_SET, [4200000005, 64520])],
                           mp_reach=mp_nh("2001:db8::1"), atomic=True,
                           aggregator=(4200000005, "192.0.2.9"))),
    ])
    return out


# ---- BGP4MP ----

def bgp_update(withdrawn=b"", path_attrs=b"", announced=b""):
    body = struct.pack("!H", len(withdrawn)) + withdrawn
    body += struct.pack("!H", len(path_attrs)) + path_attrs + announced
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body


def bgp_keepalive():
    return b"\xff" * 16 + struct.pack("!HB", 19, 4)


def bgp4mp_head(peer_as, local_as, peer_ip, local_ip, as4):
    afi = 2 if ipaddress.ip_address(peer_ip).version == 6 else 1
    fmt = "!II" if as4 else "!HH"
    return (struct.pack(fmt, peer_as, local_as) + struct.pack("!HH", 0, afi)
            + ip_bytes(peer_ip) + ip_bytes(local_ip))


def mp_reach_v6(next_hops, prefixes, path_ids=None):
    nh = b"".join(ip_bytes(h) for h in next_hops)
    body = struct.pack("!HBB", 2, 1, len(nh)) + nh + b"\x00"
    for i, p in enumerate(prefixes):
        body += nlri(p, None if path_ids is None else path_ids[i])
    return body


def mp_unreach_v6(prefixes, path_ids=None):
    body = struct.pack("!HB", 2, 1)
    for i, p in enumerate(prefixes):
        body += nlri(p, None if path_ids is None else path_ids[i])
    return body


def updates_file():
    out = b""
    h4 = bgp4mp_head(65001, 65000, "198.51.100.1", "198.51.100.254", False)
    h4as4 = bgp4mp_head(4200000001, 65000, "198.51.100.2", "198.51.100.254", True)
    h6 = bgp4mp_head(65002, 65000, "2001:db8::1", "2001:db8::fe", True)
    out += record(T0, BGP4MP, STATE_CHANGE, h4 + struct.pack("!HH", 1, 2))
    out += record(T0 + 1, BGP4MP, STATE_CHANGE_AS4, h4as4 + struct.pack("!HH", 5, 6))
    out += record(T0 + 2, BGP4MP, MESSAGE, h4 + bgp_keepalive())
    # 2-byte session: a 4-byte ASN travels as AS_TRANS with AS4_PATH (RFC 6793).
    out += record(T0 + 3, BGP4MP, MESSAGE, h4 + bgp_update(
        path_attrs=attrs(path=[(AS_SEQUENCE, [65001, 23456, 64500])], asn_size=2,
                         next_hop="198.51.100.1", med=7,
                         as4_path=[(AS_SEQUENCE, [4200000009, 64500])],
                         communities=[comm(65001, 300)]),
        announced=nlri("10.1.0.0/16") + nlri("10.2.0.0/16")))
    out += record(T0 + 4, BGP4MP, MESSAGE_AS4, h4as4 + bgp_update(
        withdrawn=nlri("10.9.0.0/16") + nlri("172.16.0.0/12"),
        path_attrs=attrs(origin=1, path=[(AS_SEQUENCE, [4200000001, 64501]),
                                         (AS_SET, [64502, 4200000003])],
                         next_hop="198.51.100.2", local_pref=200, atomic=True,
                         aggregator=(64501, "198.51.100.77")),
        announced=nlri("192.0.2.0/24")))
    out += record(T0 + 5, BGP4MP, MESSAGE_AS4, h4as4 + bgp_update(
        withdrawn=nlri("198.18.0.0/15")))
    out += record(T0 + 6, BGP4MP, MESSAGE_AS4, h6 + bgp_update(
        path_attrs=attrs(path=[(AS_SEQUENCE, [65002, 64510])],
                         mp_reach=mp_reach_v6(["2001:db8::1", "fe80::1"],
                                              ["2001:db8:100::/40", "2001:db8:200::/48"]),
                         communities=[comm(65002, 10)])))
    out += record(T0 + 7, BGP4MP, MESSAGE_AS4, h6 + bgp_update(
        path_attrs=attrs(path=(), mp_unreach=mp_unreach_v6(["2001:db8:300::/48"]))))
    out += record(T0 + 8, BGP4MP_ET, MESSAGE_AS4, h4as4 + bgp_update(
        path_attrs=attrs(path=[(AS_SEQUENCE, [4200000001])], next_hop="198.51.100.2"),
        announced=nlri("100.64.0.0/10")), usec=123456)
    return out


def updates_addpath_file():
    h4 = bgp4mp_head(4200000001, 65000, "198.51.100.2", "198.51.100.254", True)
    h6 = bgp4mp_head(65002, 65000, "2001:db8::1", "2001:db8::fe", True)
    out = record(T0, BGP4MP, MESSAGE_AS4_ADDPATH, h4 + bgp_update(
        withdrawn=nlri("10.9.0.0/16", 7),
        path_attrs=attrs(path=[(AS_SEQUENCE, [4200000001, 64501])], next_hop="198.51.100.2"),
        announced=nlri("192.0.2.0/24", 1) + nlri("192.0.2.0/24", 2)))
    out += record(T0 + 1, BGP4MP, MESSAGE_AS4_ADDPATH, h6 + bgp_update(
        path_attrs=attrs(path=[(AS_SEQUENCE, [65002, 64510])],
                         mp_reach=mp_reach_v6(["2001:db8::1"], ["2001:db8:100::/40"], [3]))))
    return out


# ---- detection scenario: hijacks of every type, leaks, a group outage ----

DETECT_PEERS = [("198.51.100.11", 65101), ("198.51.100.12", 65102),
                ("198.51.100.13", 65103), ("198.51.100.14", 65104)]

DETECT_CONFIG = {
    "prefixes": [
        {"prefix": "203.0.113.0/24", "origins": [64500], "neighbors": [64501]},
        {"prefix": "2001:db8:ff00::/40", "origins": [65010], "neighbors": [65020],
         "max_length": 48},
        {"prefix": "192.0.2.0/24"},  # no origins: nobody may announce it
    ],
    "groups": {"country-1": [65030, 65031], "country-2": [65040]},
}

DETECT_ASREL = """# CAIDA serial-1: provider|customer|-1, peer|peer|0
174|64510|-1
174|64520|-1
3356|64520|-1
3356|64530|-1
3356|174|0
"""

DETECT_VRPS = """ASN,IP Prefix,Max Length,Trust Anchor
AS64500,203.0.113.0/24,24,test
AS65010,2001:db8:ff00::/40,48,test
"""

COUNTRY1 = [("10.30.0.0/16", 65030), ("10.31.0.0/16", 65031), ("10.32.0.0/16", 65030)]
COUNTRY2 = [("10.40.0.0/16", 65040), ("10.41.0.0/16", 65040)]


def _update4(peer, ts, path, prefixes, otc=None, withdraw=()):
    ip, asn = peer
    head = bgp4mp_head(asn, 65000, ip, "198.51.100.254", True)
    ab = b""
    if prefixes:
        ab = attrs(path=[(AS_SEQUENCE, path)], next_hop=ip, otc=otc)
    return record(ts, BGP4MP, MESSAGE_AS4, head + bgp_update(
        withdrawn=b"".join(nlri(p) for p in withdraw), path_attrs=ab,
        announced=b"".join(nlri(p) for p in prefixes)))


def _update6(peer, ts, path, prefixes):
    ip, asn = peer
    head = bgp4mp_head(asn, 65000, ip, "198.51.100.254", True)
    return record(ts, BGP4MP, MESSAGE_AS4, head + bgp_update(path_attrs=attrs(
        path=[(AS_SEQUENCE, path)], mp_reach=mp_reach_v6(["2001:db8::99"], prefixes))))


def detect_rib():
    """Every peer sees the legitimate routes at T0."""
    peers = [(ip, asn, True) for ip, asn in DETECT_PEERS]
    out = record(T0, TABLE_DUMP_V2, PEER_INDEX_TABLE, peer_index(peers))
    routes = [("203.0.113.0/24", [3356, 64501, 64500], False),
              ("2001:db8:ff00::/40", [3356, 65020, 65010], True),
              ("2001:db8:ff00::/48", [3356, 65020, 65010], True)]
    routes += [(p, [3356, o], False) for p, o in COUNTRY1 + COUNTRY2]
    for seq, (prefix, path, v6) in enumerate(routes):
        entries = []
        for i, (ip, asn) in enumerate(DETECT_PEERS):
            extra = {"mp_reach": mp_nh("2001:db8::99")} if v6 else {"next_hop": ip}
            entries.append((i, T0 - 100, attrs(path=[(AS_SEQUENCE, [asn] + path)], **extra)))
        out += record(T0, TABLE_DUMP_V2, RIB_IPV6_UNICAST if v6 else RIB_IPV4_UNICAST,
                      rib(seq, prefix, entries))
    return out


def detect_updates():
    p1, p2, p3, p4 = DETECT_PEERS
    out = _update4(p1, T0 + 10, [65101, 174, 64666], ["203.0.113.0/24"])
    out += _update4(p2, T0 + 20, [65102, 174, 64666, 64500], ["203.0.113.0/24"])
    out += _update4(p3, T0 + 30, [65103, 174, 64666], ["203.0.113.128/25"])
    out += _update6(p1, T0 + 40, [65101, 65020, 65010], ["2001:db8:ff00:100::/56"])
    out += _update6(p2, T0 + 45, [65102, 64777, 65010], ["2001:db8:ff02::/48"])
    out += _update4(p4, T0 + 50, [65104, 64888], ["192.0.2.0/24"])
    out += _update4(p1, T0 + 60, [], [], withdraw=["203.0.113.0/24"])
    out += _update4(p2, T0 + 65, [65102, 3356, 64501, 64500], ["203.0.113.0/24"])
    # 64520 learns from its provider 174 and sends to its provider 3356.
    out += _update4(p3, T0 + 70, [65103, 3356, 64520, 174, 64510], ["10.50.0.0/16"])
    # 64531 marked it Only to Customer; 64530 still sent it to its provider.
    out += _update4(p4, T0 + 75, [65104, 3356, 64530, 64531], ["10.60.0.0/16"], otc=64531)
    # country-1 disappears from three of four peers; country-2 stays.
    for peer in (p2, p3, p4):
        out += _update4(peer, T0 + 100, [], [], withdraw=[p for p, _ in COUNTRY1])
    out += _update4(p1, T0 + 100, [], [], withdraw=[p for p, _ in COUNTRY1[1:]])
    for peer in (p2, p3, p4):
        out += _update4(peer, T0 + 200, [peer[1], 3356, 65030], [p for p, _ in COUNTRY1])
    out += _update4(p1, T0 + 201, [65101, 3356, 64501, 64500], ["203.0.113.0/24"])
    return out


# Ground truth of detect_rib + detect_updates under DETECT_CONFIG and
# DETECT_ASREL: (kind, prefix or group, fields that must match).
DETECT_TRUTH = [
    ("hijack", "203.0.113.0/24", {"type": "E|0|-|-", "hijacker_as": 64666, "peer_as": 65101,
                                  "rov": "invalid", "first": T0 + 10, "ended": T0 + 60}),
    ("hijack", "203.0.113.0/24", {"type": "E|1|-|-", "hijacker_as": 64666, "peer_as": 65102,
                                  "rov": "valid", "first": T0 + 20, "ended": T0 + 65}),
    ("hijack", "203.0.113.128/25", {"type": "S|0|-|-", "hijacker_as": 64666, "peer_as": 65103,
                                    "rov": "invalid", "first": T0 + 30, "ended": None}),
    ("hijack", "2001:db8:ff00:100::/56", {"type": "S|-|-|-", "hijacker_as": 65010,
                                          "rov": "invalid", "first": T0 + 40, "ended": None}),
    ("hijack", "2001:db8:ff02::/48", {"type": "S|1|-|-", "hijacker_as": 64777,
                                          "rov": "valid", "first": T0 + 45, "ended": None}),
    ("hijack", "192.0.2.0/24", {"type": "Q|0|-|-", "hijacker_as": 64888, "rov": "not-found",
                                "first": T0 + 50, "ended": None}),
    ("leak", "10.50.0.0/16", {"leaker_as": 64520, "leak": "valley", "learned_from": 174,
                              "sent_to": 3356, "first": T0 + 70, "ended": None}),
    ("leak", "10.60.0.0/16", {"leaker_as": 64530, "leak": "otc", "learned_from": 64531,
                              "sent_to": 3356, "first": T0 + 75, "ended": None}),
    ("outage", "country-1", {"baseline": 3, "visible": 0, "first": T0 + 100,
                             "ended": T0 + 200}),
    ("outage-end", "country-1", {"baseline": 3, "visible": 3, "first": T0 + 200}),
]


def write_detect_fixtures(folder):
    import json
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rib.mrt").write_bytes(detect_rib())
    (folder / "updates.mrt").write_bytes(detect_updates())
    (folder / "config.json").write_text(json.dumps(DETECT_CONFIG, indent=1) + "\n")
    (folder / "as-rel.txt").write_text(DETECT_ASREL)
    (folder / "vrps.csv").write_text(DETECT_VRPS)


def write_fixtures(folder):
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "rib.mrt": rib_file(),
        "rib-addpath.mrt": rib_file(addpath=True),
        "updates.mrt": updates_file(),
        "updates-addpath.mrt": updates_addpath_file(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    # Compressed as collectors publish them (mtime 0: reproducible bytes).
    (folder / "rib.mrt.gz").write_bytes(gzip.compress(files["rib.mrt"], mtime=0))
    (folder / "updates.mrt.bz2").write_bytes(bz2.compress(files["updates.mrt"]))
    write_detect_fixtures(folder / "detect")


if __name__ == "__main__":
    write_fixtures(sys.argv[1] if len(sys.argv) > 1 else "tests/data/bgp")
