#!/usr/bin/python3
"""Rewrites the BGP4MP MESSAGE_AS4 records of an MRT update log as the BMP
stream (RFC 7854) a router would have sent for them: an Initiation, a Peer
Up (both OPENs with the 4-octet AS capability) the first time each peer
appears, then one Route Monitoring message per record carrying the same
BGP UPDATE, with the record's time in the per-peer header. The routes are
therefore exactly those of the MRT file, and `meridian bgp decode` prints
the same route lines for both (the BMP stream adds the Peer Up STATE
lines). usage: mrt2bmp.py UPDATES.mrt OUT.bmp"""
import struct
import sys

MARKER = b"\xff" * 16


def bmp(msg_type, body):
    return struct.pack("!BIB", 3, 6 + len(body), msg_type) + body


def peer_header(afi, ip, asn, t):
    flags = 0x80 if afi == 2 else 0
    addr = ip if afi == 2 else b"\0" * 12 + ip
    return struct.pack("!BB8s16sIIII", 0, flags, b"\0" * 8, addr, asn, asn, t, 0)


def open_msg(asn):
    caps = struct.pack("!BBI", 65, 4, asn)
    params = struct.pack("!BB", 2, len(caps)) + caps
    body = struct.pack("!BHHIB", 4, 23456 if asn > 65535 else asn, 90, 1, len(params)) + params
    return MARKER + struct.pack("!HB", 19 + len(body), 1) + body


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    out = open(dst, "wb")
    buf = [bmp(4, struct.pack("!HH", 2, 7) + b"mrt2bmp")]
    peers = set()
    off = n = 0
    while off + 12 <= len(data):
        t, typ, sub, ln = struct.unpack_from("!IHHI", data, off)
        rec = data[off + 12:off + 12 + ln]
        off += 12 + ln
        if typ != 16 or sub != 4:
            continue
        peer_as, _local_as, _ifx, afi = struct.unpack_from("!IIHH", rec, 0)
        alen = 16 if afi == 2 else 4
        ip = rec[12:12 + alen]
        msg = rec[12 + 2 * alen:]
        ph = peer_header(afi, ip, peer_as, t)
        if (ip, peer_as) not in peers:
            peers.add((ip, peer_as))
            buf.append(bmp(3, ph + b"\0" * 16 + struct.pack("!HH", 179, 40000) +
                           open_msg(65000) + open_msg(peer_as)))
        buf.append(bmp(0, ph + msg))
        n += 1
        if len(buf) >= 65536:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))
    out.close()
    print(f"{dst}: {n} Route Monitoring messages, {len(peers)} peers")


if __name__ == "__main__":
    main()
