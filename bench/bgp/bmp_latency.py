#!/usr/bin/python3
"""Latency of the live routing sensor: from a BMP Route Monitoring message
sent to `meridian serve --bmp-listen` to the signed STIX alert stored.

Starts a node (meridian init, a collection, serve with the sensor on
127.0.0.1, a watch configuration for 10.0.0.0/8 originated by AS65002),
connects as a router (Initiation, Peer Up), then N times: sends one
Route Monitoring message announcing a new /24 of 10.0.0.0/8 with the path
65002 64666 (a new sub-prefix hijack, so a new alert each time) and waits
until the alert is readable over TAXII, polling every millisecond. Two
figures per alert: the sensor's own (its log line "... N ms after the
route arrived": from the read() that brought the message to the
committed store), and the client's (send to visible in a TAXII GET, which
adds the HTTP round trips of the polling). Prints median and p99 of both.
usage: bmp_latency.py BUILD_DIR [N]   (BUILD_DIR: a release build)"""
import json
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

MARKER = b"\xff" * 16
EXT = "extension-definition--55216efd-e6c2-52d8-b102-8ec96c5da078"


def bmp(msg_type, body):
    return struct.pack("!BIB", 3, 6 + len(body), msg_type) + body


def peer_header():
    return struct.pack("!BB8s16sIIII", 0, 0, b"\0" * 8, b"\0" * 12 + bytes([192, 0, 2, 9]),
                       65002, 1, int(time.time()), 0)


def open_msg(asn):
    caps = struct.pack("!BBI", 65, 4, asn)
    params = struct.pack("!BB", 2, len(caps)) + caps
    body = struct.pack("!BHHIB", 4, asn, 90, 1, len(params)) + params
    return MARKER + struct.pack("!HB", 19 + len(body), 1) + body


def update(prefix_bytes, plen, path):
    seg = struct.pack("!BB", 2, len(path)) + b"".join(struct.pack("!I", a) for a in path)
    attrs = (struct.pack("!BBBB", 0x40, 1, 1, 0) + struct.pack("!BBB", 0x40, 2, len(seg)) + seg +
             struct.pack("!BBB", 0x40, 3, 4) + bytes([192, 0, 2, 9]))
    nlri = bytes([plen]) + prefix_bytes
    body = struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri
    return MARKER + struct.pack("!HB", 19 + len(body), 2) + body


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    meridian = os.path.join(build, "meridian")
    work = tempfile.mkdtemp(prefix="bmp-latency.", dir=os.environ.get("TMPDIR"))
    data = os.path.join(work, "data")
    token = re.search(r"mrd_[A-Za-z0-9_-]{43}", run(meridian, "init", "--data", data,
                                                    "--org", "own")).group(0)
    coll = re.search(r"[0-9a-f-]{36}", run(meridian, "collection", "create", "--data", data,
                                           "--api-root", "api1", "--title", "routing")).group(0)
    run(meridian, "grant", "--data", data, "--org", "own", "--collection", coll, "--read",
        "--write")
    cfg = os.path.join(work, "watch.json")
    with open(cfg, "w") as f:
        json.dump({"prefixes": [{"prefix": "10.0.0.0/8", "origins": [65002]}]}, f)
    log = os.path.join(work, "serve.log")
    ready = os.path.join(work, "ready")
    with open(log, "w") as lf:
        proc = subprocess.Popen([meridian, "serve", "--data", data, "--http", "--listen",
                                 "127.0.0.1:0", "--ready-file", ready, "--bmp-listen",
                                 "127.0.0.1:0", "--bmp-collection", coll, "--bmp-config", cfg],
                                stderr=lf, stdout=subprocess.DEVNULL)
    try:
        while not os.path.exists(ready):
            assert proc.poll() is None, open(log).read()
            time.sleep(0.01)
        url = "http://" + open(ready).read().strip()
        port = int(re.search(r"BMP on 127\.0\.0\.1:(\d+)", open(log).read()).group(1))
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(bmp(4, struct.pack("!HH", 2, 5) + b"bench"))
        s.sendall(bmp(3, peer_header() + b"\0" * 16 + struct.pack("!HH", 179, 40000) +
                      open_msg(65001) + open_msg(65002)))
        client = []
        for i in range(n):
            pfx = f"10.{i // 256}.{i % 256}.0/24"
            msg = bmp(0, peer_header() + update(bytes([10, i // 256, i % 256]), 24,
                                                 [65002, 64666]))
            q = urllib.request.Request(
                f"{url}/api1/collections/{coll}/objects/?match[type]=observed-data"
                f"&added_after=1970-01-01T00:00:00Z&limit=1000",
                headers={"Authorization": f"Bearer {token}",
                         "Accept": "application/taxii+json;version=2.1"})
            t0 = time.monotonic()
            s.sendall(msg)
            while True:
                body = urllib.request.urlopen(q, timeout=10).read().decode()
                if f'"{pfx}"' in body:
                    break
                time.sleep(0.001)
            client.append((time.monotonic() - t0) * 1000)
        s.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    sensor = [float(x) for x in re.findall(r"([0-9.]+) ms after the route arrived",
                                           open(log).read())]
    assert len(sensor) == n, (len(sensor), n)

    def fig(name, xs):
        xs = sorted(xs)
        p99 = xs[min(len(xs) - 1, int(round(0.99 * len(xs))) - 1)]
        print(f"{name:52s} median {statistics.median(xs):7.2f} ms  p99 {p99:7.2f} ms  "
              f"max {xs[-1]:7.2f} ms  (n={len(xs)})")

    print(f"{n} hijack alerts, one at a time; load average {os.getloadavg()[0]:.1f}")
    fig("sensor: message read -> alert stored (signed)", sensor)
    fig("client: message sent -> alert visible over TAXII", client)


if __name__ == "__main__":
    main()
