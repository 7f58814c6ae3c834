"""Captures the BMP stream of the live lab's scenario (test_bgp_bmp.py:
LAB_BASELINE, LAB_STEPS, the country-wide withdrawal and its return) as
the monitored router sends it, for tests/data/bgp/lab-events-ROUTER.bmp:

    /usr/bin/python3 tests/integration/lab_capture.py gobgp|frr OUTFILE

A station of a few lines takes the router's BMP session and writes what it
received; every daemon runs on 127.0.0.1 and is stopped at the end."""
import pathlib
import shutil
import socket
import sys
import tempfile
import threading
import time

import mrt_gen as g
from node import wait_for
from test_bgp_bmp import LAB_BASELINE, LAB_STEPS, Frr, Speaker, announce
from test_ops import free_port


def capture(router, out):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="meridian-lab-"))
    station = socket.create_server(("127.0.0.1", 0))
    data, done = bytearray(), threading.Event()

    def receive():
        conn, _ = station.accept()
        conn.settimeout(0.5)
        while not done.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            data.extend(chunk)
    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    pa, pb = free_port(), free_port()
    port = station.getsockname()[1]
    monitored = (Frr(tmp, pa, pb, port) if router == "frr" else
                 Speaker(tmp, "monitored", 65001, pa, 65002, pb, passive=True, bmp=port))
    announcer = Speaker(tmp, "announcer", 65002, pb, 65001, pa)
    try:
        wait_for(monitored.established, 60, step=0.2)
        time.sleep(1)
        for prefix, path in LAB_BASELINE:
            announce(announcer, prefix, path)
        time.sleep(2)
        for prefix, path, _ in LAB_STEPS:
            announce(announcer, prefix, path)
            time.sleep(1.1)  # each step in its own second
        for prefix, _ in g.COUNTRY1:
            announcer.cli("global", "rib", "del", "-a", "ipv4", prefix)
        time.sleep(2.1)
        for prefix, asn in g.COUNTRY1:
            announce(announcer, prefix, f"3356 {asn}")
        time.sleep(2.1)
        announce(announcer, "203.0.113.0/24", "64501 64500")
        time.sleep(2)
    finally:
        announcer.stop()
        time.sleep(2)  # the Peer Down
        monitored.stop()
        done.set()
        reader.join(timeout=5)
        station.close()
        shutil.rmtree(tmp, ignore_errors=True)
    pathlib.Path(out).write_bytes(bytes(data))
    return len(data)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("gobgp", "frr"):
        sys.exit("usage: lab_capture.py gobgp|frr OUTFILE")
    print(capture(sys.argv[1], sys.argv[2]))
