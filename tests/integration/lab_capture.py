"""Captures the BMP stream of a live lab's scenario as the monitored
router sends it, for the fixtures in tests/data/bgp/ (as root: the routers
run in network namespaces, bgplab.py):

    /usr/bin/python3 tests/integration/lab_capture.py gobgp|frr|otc OUTFILE

gobgp, frr: test_bgp_bmp.py's LAB_BASELINE, LAB_STEPS, the country-wide
withdrawal and its return, monitored by GoBGP or FRR (lab-events-*.bmp);
otc: bgplab.otc_leak(), the leak of a route BIRD's roles marked
Only-To-Customer, then its withdrawal (lab-otc-bird.bmp). A station of a
few lines, on the root end of the monitored router's uplink, takes the
router's BMP session and writes what it received; every daemon is stopped
and every namespace deleted at the end."""
import pathlib
import shutil
import socket
import sys
import tempfile
import threading
import time

import bgplab
import mrt_gen as g
from node import wait_for
from test_bgp_bmp import LAB_BASELINE, LAB_STEPS


def events_scenario(lab, router, bmp):
    a, b = lab.link("monitored", "announcer")
    monitored = (bgplab.Frr(lab, "monitored", 65001, a, 65002, b, bmp) if router == "frr" else
                 bgplab.Gobgp(lab, "monitored", 65001, a, 65002, b, passive=True, bmp=bmp))
    announcer = bgplab.Gobgp(lab, "announcer", 65002, b, 65001, a)
    wait_for(monitored.established, 60, step=0.2)
    time.sleep(1)
    for prefix, path in LAB_BASELINE:
        announcer.announce(prefix, path)
    time.sleep(2)
    for prefix, path, _ in LAB_STEPS:
        announcer.announce(prefix, path)
        time.sleep(1.1)  # each step in its own second
    for prefix, _ in g.COUNTRY1:
        announcer.withdraw(prefix)
    time.sleep(2.1)
    for prefix, asn in g.COUNTRY1:
        announcer.announce(prefix, f"3356 {asn}")
    time.sleep(2.1)
    announcer.announce("203.0.113.0/24", "64501 64500")
    time.sleep(2)
    announcer.stop()
    time.sleep(2)  # the Peer Down


def otc_scenario(lab, bmp):
    _, leaker, _ = bgplab.otc_leak(lab, bmp)
    time.sleep(2)
    leaker.cli("disable", "leak")  # the customer stops leaking: withdrawn
    time.sleep(2.1)


def capture(scenario, out):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="meridian-lab-"))
    data, done = bytearray(), threading.Event()
    try:
        with bgplab.Lab(tmp) as lab:
            station_addr, _ = lab.uplink("monitored")
            station = socket.create_server((station_addr, 0))

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
            bmp = (station_addr, station.getsockname()[1])
            try:
                if scenario == "otc":
                    otc_scenario(lab, bmp)
                else:
                    events_scenario(lab, scenario, bmp)
            finally:
                lab.close()  # the routers stop: the monitored one closes its session
                done.set()
                reader.join(timeout=5)
                station.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pathlib.Path(out).write_bytes(bytes(data))
    return len(data)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("gobgp", "frr", "otc"):
        sys.exit("usage: lab_capture.py gobgp|frr|otc OUTFILE")
    print(capture(sys.argv[1], sys.argv[2]))
