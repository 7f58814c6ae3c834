"""The RTR client (RFC 8210 v1, RFC 6810 v0) against a real cache: Debian's
stayrtr serving a VRP file in rpki-client JSON format that the test writes,
on 127.0.0.1, started and stopped here. Also hostile caches: garbage bytes,
a cache that never answers, a cache that goes away."""
import json
import os
import shutil
import socket
import subprocess
import threading

import pytest

import mrt_gen as g
from conftest import run
from node import wait_for
from test_ops import free_port

NOW = 1700000000

VRPS_A = [(64500, "192.0.2.0/24", 24), (64510, "2001:db8::/32", 48),
          (0, "203.0.113.0/24", 32), (64501, "198.51.100.0/22", 23)]
# A moves 192.0.2.0/24 to AS64999 and drops the AS0 VRP.
VRPS_B = [(64999, "192.0.2.0/24", 24), (64510, "2001:db8::/32", 48),
          (64501, "198.51.100.0/22", 23)]


def write_vrps(path, vrps):
    """rpki-client's JSON, written atomically so stayrtr never reads half."""
    doc = {"metadata": {"buildtime": "2026-01-01T00:00:00Z"},
           "roas": [{"asn": f"AS{a}", "prefix": p, "maxLength": m, "ta": "test"}
                    for a, p, m in vrps]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


def as_set(vrps):
    return {(a, p, m) for a, p, m in vrps}


def roas_set(doc):
    return {(r["asn"], r["prefix"], r["maxLength"]) for r in doc["roas"]}


class Stayrtr:
    def __init__(self, tmp_path, vrps, protocol=None, port=None):
        exe = shutil.which("stayrtr")
        assert exe, "stayrtr is missing: scripts/bootstrap installs Debian's stayrtr"
        self.file = tmp_path / "vrps.json"
        write_vrps(self.file, vrps)
        self.port = port or free_port()
        args = [exe, "-bind", f"127.0.0.1:{self.port}", "-cache", str(self.file),
                "-checktime=false", "-refresh", "1", "-metrics.addr",
                f"127.0.0.1:{free_port()}", "-rtr.refresh", "1"]
        if protocol is not None:
            args += ["-protocol", str(protocol)]
        self.log = open(tmp_path / f"stayrtr-{self.port}.log", "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        assert wait_for(self._listening, timeout=20), "stayrtr did not listen"

    def _listening(self):
        assert self.proc.poll() is None, "stayrtr exited"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def cache(tmp_path):
    c = Stayrtr(tmp_path, VRPS_A)
    yield c
    c.stop()


class Follower:
    """`meridian bgp rtr --follow --json`, its lines read by a thread."""

    def __init__(self, meridian_bin, addr):
        self.proc = subprocess.Popen([str(meridian_bin), "bgp", "rtr", "--follow", "--json", addr],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines, self.err = [], []
        self.t = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines)),
                  threading.Thread(target=self._read, args=(self.proc.stderr, self.err))]
        for t in self.t:
            t.start()

    @staticmethod
    def _read(f, into):
        for line in f:
            into.append(line)

    def docs(self):
        return [json.loads(x) for x in list(self.lines)]

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=20)
        for t in self.t:
            t.join(timeout=10)
        return rc


def rib_one(tmp_path, prefix, origin):
    """A RIB dump with one route: prefix from peer AS65001, origin AS origin."""
    out = g.record(NOW, g.TABLE_DUMP_V2, g.PEER_INDEX_TABLE, g.peer_index(g.PEERS))
    a = g.attrs(path=[(g.AS_SEQUENCE, [65001, origin])], next_hop="198.51.100.1")
    out += g.record(NOW, g.TABLE_DUMP_V2, g.RIB_IPV4_UNICAST, g.rib(0, prefix, [(0, 1, a)]))
    f = tmp_path / f"rib-{origin}.mrt"
    f.write_bytes(out)
    return f


def rov_of(meridian_bin, addr, mrt):
    p = run(meridian_bin, "bgp", "scan", "--rtr", addr, "--rov-all", "--json", mrt)
    assert p.returncode in (0, 1), p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(lines) == 1, p.stdout
    return lines[0]["rov"], lines[0]["reason"]


def test_rtr_gets_exactly_the_vrps(meridian_bin, cache):
    p = run(meridian_bin, "bgp", "rtr", "--json", cache.addr)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert roas_set(doc) == as_set(VRPS_A)
    assert doc["version"] == 1 and doc["vrps"] == len(VRPS_A)
    # stayrtr's End of Data intervals (-rtr.refresh 1; its retry and expire defaults).
    assert (doc["refresh"], doc["retry"], doc["expire"]) == (1, 600, 7200)
    text = run(meridian_bin, "bgp", "rtr", cache.addr)
    assert text.returncode == 0, text.stderr
    assert "AS64500,192.0.2.0/24,24" in text.stdout.splitlines()
    assert "AS0,203.0.113.0/24,32" in text.stdout.splitlines()


def test_scan_over_rtr_agrees_with_the_file(meridian_bin, cache, tmp_path):
    """The same routes validated against the VRPs over RTR and from the file."""
    out = g.record(NOW, g.TABLE_DUMP_V2, g.PEER_INDEX_TABLE, g.peer_index(g.PEERS))
    routes = [("192.0.2.0/24", 64500), ("192.0.2.0/24", 64999), ("192.0.2.128/25", 64500),
              ("203.0.113.0/24", 64500), ("198.51.100.0/23", 64501), ("10.0.0.0/8", 1)]
    for i, (prefix, origin) in enumerate(routes):
        a = g.attrs(path=[(g.AS_SEQUENCE, [65001, origin])], next_hop="198.51.100.1")
        out += g.record(NOW + i, g.TABLE_DUMP_V2, g.RIB_IPV4_UNICAST, g.rib(i, prefix, [(0, 1, a)]))
    mrt = tmp_path / "rib.mrt"
    mrt.write_bytes(out)
    over_rtr = run(meridian_bin, "bgp", "scan", "--rtr", cache.addr, "--rov-all", "--json", mrt)
    from_file = run(meridian_bin, "bgp", "scan", "--vrps", cache.file, "--rov-all", "--json", mrt)
    assert over_rtr.returncode == 1, over_rtr.stderr
    assert over_rtr.stdout == from_file.stdout
    verdicts = [(d["rov"], d["reason"]) for d in map(json.loads, over_rtr.stdout.splitlines())]
    assert verdicts == [("valid", "match"), ("invalid", "wrong-origin"),
                        ("invalid", "too-specific"), ("invalid", "as0"), ("valid", "match"),
                        ("not-found", "not-covered")]


def test_follow_gets_the_delta_by_serial_query(meridian_bin, cache, tmp_path):
    mrt = rib_one(tmp_path, "192.0.2.0/24", 64500)
    assert rov_of(meridian_bin, cache.addr, mrt) == ("valid", "match")
    f = Follower(meridian_bin, cache.addr)
    try:
        assert wait_for(lambda: any(d["has_data"] for d in f.docs()), timeout=30), f.err
        first = [d for d in f.docs() if d["has_data"]][0]
        assert first["last_query"] == "reset"
        assert roas_set(first) == as_set(VRPS_A)
        write_vrps(cache.file, VRPS_B)
        assert wait_for(lambda: any(d["serial"] != first["serial"] for d in f.docs()),
                        timeout=30), (f.lines, f.err)
        later = [d for d in f.docs() if d["serial"] != first["serial"]][0]
        # The change came as a delta on the same session, not a new full set.
        assert later["last_query"] == "serial"
        assert later["session"] == first["session"]
        assert (later["announced"], later["withdrawn"]) == (1, 2)
        assert roas_set(later) == as_set(VRPS_B)
        assert later["connected"] is True and later["failures"] == 0
    finally:
        assert f.stop() == 0
    # ROV of the route flips: its VRP now names AS64999.
    assert rov_of(meridian_bin, cache.addr, mrt) == ("invalid", "wrong-origin")


def test_version0_cache(meridian_bin, tmp_path):
    """A cache that speaks only RFC 6810: the version 1 client falls back to 0."""
    c = Stayrtr(tmp_path, VRPS_A, protocol=0)
    try:
        p = run(meridian_bin, "bgp", "rtr", "--json", c.addr)
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["version"] == 0
        assert roas_set(doc) == as_set(VRPS_A)
        assert doc["expire"] == 7200  # version 0 has no intervals: RFC 8210 §6 defaults
        p = run(meridian_bin, "bgp", "rtr", "--rtr-version", "0", "--json", c.addr)
        assert p.returncode == 0 and json.loads(p.stdout)["version"] == 0, p.stderr
    finally:
        c.stop()


class Hostile:
    """A TCP server on 127.0.0.1 that answers the first query with reply
    (None: never answers) and records what the client sent."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.reply, self.got, self.conns = reply, b"", []
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        self.conns.append(c)
        c.settimeout(20)
        try:
            self.got += c.recv(8)
            if self.reply is not None:
                c.sendall(self.reply)
            while True:
                d = c.recv(4096)
                if not d:
                    break
                self.got += d
        except OSError:
            pass

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()
        self.t.join(timeout=30)


def test_garbage_from_the_cache(meridian_bin):
    # A Cache Response, then bytes that claim a PDU of type 0x63 and ~1.9 GB.
    h = Hostile(bytes([1, 3, 0, 5, 0, 0, 0, 8]) + b"\x01\x63garbage\x1b[31m-bytes")
    try:
        p = run(meridian_bin, "bgp", "rtr", f"127.0.0.1:{h.port}")
        assert p.returncode == 2
        assert "PDU type 99" in p.stderr and "RFC 8210" in p.stderr, p.stderr
        assert "\x1b" not in p.stderr
        assert p.stdout == ""
        assert wait_for(lambda: len(h.got) >= 16, timeout=10)
    finally:
        h.close()
    # The client's Reset Query, then an Error Report "Corrupt Data" (type 10, code 0).
    assert h.got[:8] == bytes([1, 2, 0, 0, 0, 0, 0, 8])
    assert h.got[8:12] == bytes([1, 10, 0, 0]), h.got


def test_cache_that_never_answers(meridian_bin):
    h = Hostile(None)
    try:
        p = run(meridian_bin, "bgp", "scan", "--rtr", f"127.0.0.1:{h.port}", "--timeout", "1",
                "/dev/null")
        assert p.returncode == 2
        assert "127.0.0.1" in p.stderr and "within 1000 ms" in p.stderr, p.stderr
    finally:
        h.close()


def test_follow_keeps_last_vrps_and_retries_with_backoff(meridian_bin, tmp_path):
    c = Stayrtr(tmp_path, VRPS_A)
    port = c.port
    f = Follower(meridian_bin, c.addr)
    try:
        assert wait_for(lambda: any(d["has_data"] for d in f.docs()), timeout=30), f.err
        c.stop()
        # The loss is reported, retried, and the VRPs are kept (not expired yet).
        assert wait_for(lambda: sum("next attempt in" in e for e in f.err) >= 3, timeout=30), f.err
        # each failure's status document follows its stderr line on
        # another pipe: wait for the third too
        assert wait_for(lambda: any(not d["connected"] and d["failures"] >= 3 for d in f.docs()),
                        timeout=30), f.docs()
        down = [d for d in f.docs() if not d["connected"]]
        assert down and all(roas_set(d) == as_set(VRPS_A) and not d["expired"] for d in down)
        assert down[-1]["failures"] >= 3 and down[-1]["last_error"]
        # Back-off: 1 s, then 2 s, then 4 s between attempts.
        waits = [int(e.rsplit("next attempt in ", 1)[1].split()[0]) for e in f.err
                 if "next attempt in" in e]
        assert waits[:3] == [1, 2, 4], waits
        # The cache comes back (new session): the client starts afresh.
        c2 = Stayrtr(tmp_path, VRPS_B, port=port)
        try:
            assert wait_for(lambda: any(d["connected"] and roas_set(d) == as_set(VRPS_B)
                                        for d in f.docs()), timeout=120), (f.lines[-3:], f.err)
            # The new cache's session ID differs: it ends our Serial Query with
            # Corrupt Data (RFC 8210 §5.1). The cache is up, so the Reset Query
            # follows after the minimum wait, not after a doubled back-off.
            ended = [e for e in f.err if "Corrupt Data" in e]
            assert ended and all("next attempt in 1 s" in e for e in ended), f.err
        finally:
            c2.stop()
    finally:
        assert f.stop() == 0
