"""Integration tests for `meridian match`: the real binary on small generated
files (hits with exact line numbers, summary, sightings, stdin, --follow with
rotation, hostile input)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import run

ID = "indicator--{:08x}-0000-4000-8000-000000000000"
FIXTURE_IDENT = "identity--11111111-1111-4111-8111-111111111111"


def indicator(n, pattern, **extra):
    obj = {"type": "indicator", "spec_version": "2.1", "id": ID.format(n),
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
    obj.update(extra)
    return obj


@pytest.fixture()
def inds(tmp_path):
    objs = [
        indicator(1, "[domain-name:value = 'evil.com']"),
        indicator(2, "[ipv4-addr:value = '45.6.7.8'] OR [ipv4-addr:value = '10.1.0.0/16']"),
        indicator(3, "[url:value = 'http://bad.example/x?y=1']"),
        indicator(4, "[ipv6-addr:value = '2001:db8::1']"),
        indicator(5, "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']"),
        indicator(6, "[domain-name:value = 'gone.com']", revoked=True),
        indicator(7, "[domain-name:value = 'later.com']", valid_from="2030-01-01T00:00:00Z"),
        indicator(8, "[domain-name:value = 'old.com']", valid_until="2026-02-01T00:00:00Z"),
        indicator(9, "[domain-name:value = 'a.com' AND domain-name:value = 'b.com']"),
        {"type": "identity", "spec_version": "2.1", "id": "identity--" + "1" * 8 +
         "-1111-4111-8111-111111111111", "created": "2026-01-01T00:00:00.000Z",
         "modified": "2026-01-01T00:00:00.000Z", "name": "x"},
    ]
    path = tmp_path / "ind.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "2" * 8 +
                                "-2222-4222-8222-222222222222", "objects": objs}))
    return path


ACCESS = (
    "# comment line\n"
    '45.6.7.8 - - [29/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"\n'
    '145.6.7.8 - - [29/Nov/2026:10:00:01 +0000] "GET http://www.evil.com/ HTTP/1.1" 200 1 '
    '"http://notevil.com/" "ua"\n'
    '10.1.2.3 - - [29/Nov/2026:10:00:02 +0000] "GET HTTP://BAD.EXAMPLE:80/x?y=1 HTTP/1.1" '
    '200 1 "http://evil.com.cdn.net/" "ua"\n'
    "this line is malformed\n"
    '2001:DB8:0:0::1 - - [29/Nov/2026:10:00:04 +0000] "CONNECT gone.com:443 HTTP/1.1" '
    '200 1 "https://later.com/" "-"\n'
)

DNS = (
    "#separator \\x09\n#set_separator\t,\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\n"
    "1795946400.000000\tC1\t192.168.1.1\t5353\t192.168.0.53\t53\tEVIL.COM\t1.2.3.4\n"
    "1795946460.000000\tC2\t192.168.1.1\t5353\t192.168.0.53\t53\tx.org\tcdn.a.net,"
    "a.evil.com,1.1.1.1\n"
    "#close\t2026-11-30-00-00-00\n"
)

CSV = (
    "time,src,dst,host,sha256\n"
    "2026-11-29T11:00:00Z,172.16.0.1,8.8.8.8,old.com," + "AB" * 32 + "\n"
    "2026-11-29T11:00:01Z,172.16.0.1,10.1.200.1,evil.com.,\n"
)


def read_hits(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_hits_exact_lines_and_summary(meridian_bin, inds, tmp_path):
    (tmp_path / "access.log").write_text(ACCESS)
    (tmp_path / "dns.log").write_text(DNS)
    (tmp_path / "fw.csv").write_text(CSV)
    hits = tmp_path / "hits.jsonl"
    p = run(meridian_bin, "match", "--indicators", inds, "--hits", hits,
            tmp_path / "access.log", tmp_path / "dns.log", tmp_path / "fw.csv")
    assert p.returncode == 0, p.stderr
    got = [(os.path.basename(h["file"]), h["line"], h["indicator"][-20:], h["field"])
           for h in read_hits(hits)]
    i = lambda n: ID.format(n)[-20:]  # noqa: E731
    assert got == [
        ("access.log", 2, i(2), "client"),
        ("access.log", 4, i(2), "client"),
        ("access.log", 4, i(3), "request"),
        ("access.log", 6, i(4), "client"),
        ("dns.log", 6, i(1), "query"),
        ("fw.csv", 2, i(5), "sha256"),
        ("fw.csv", 3, i(2), "dst"),
        ("fw.csv", 3, i(1), "host"),
    ]
    one = read_hits(hits)[2]
    assert one["value"] == "HTTP://BAD.EXAMPLE:80/x?y=1"
    # inactive (revoked, not yet valid, expired) and AND patterns are reported on stderr
    assert "3 inactive" in p.stderr
    assert "1 by the pattern evaluator" in p.stderr
    # summary: per-file counts and per-indicator first/last seen from the logs
    assert "access.log: combined, 6 lines (1 header/comment, 1 malformed" in p.stdout
    assert "dns.log: zeek, 8 lines (6 header/comment, 0 malformed" in p.stdout
    row = [l for l in p.stdout.splitlines() if l.startswith(ID.format(2))][0].split()
    assert row[1:] == ["3", "2026-11-29T10:00:00.000Z", "2026-11-29T11:00:01.000Z"]


def test_subdomains(meridian_bin, inds, tmp_path):
    (tmp_path / "access.log").write_text(ACCESS)
    (tmp_path / "dns.log").write_text(DNS)
    hits = tmp_path / "hits.jsonl"
    p = run(meridian_bin, "match", "--subdomains", "--indicators", inds, "--hits", hits,
            tmp_path / "access.log", tmp_path / "dns.log")
    assert p.returncode == 0, p.stderr
    dom = [(os.path.basename(h["file"]), h["line"], h["value"]) for h in read_hits(hits)
           if h["indicator"] == ID.format(1)]
    # www.evil.com and a.evil.com match; notevil.com and evil.com.cdn.net never
    assert dom == [("access.log", 3, "http://www.evil.com/"), ("dns.log", 6, "EVIL.COM"),
                   ("dns.log", 7, "cdn.a.net,a.evil.com,1.1.1.1")]


def test_subdomains_near_misses_alone_on_their_lines(meridian_bin, inds, tmp_path):
    """Each near miss of evil.com is the only host on its line, so a false
    match could not hide behind a real hit on the same line; the last line
    is a real subdomain, proving the run matches at all."""
    log = "".join(
        f'45.6.7.{i} - - [29/Nov/2026:10:00:0{i} +0000] "GET http://{host}/ HTTP/1.1" 200 1 '
        '"-" "ua"\n'
        for i, host in enumerate(["notevil.com", "evil.com.cdn.net", "xevil.com", "evil.co",
                                  "evil.comm", "www.evil.com"], start=1))
    (tmp_path / "access.log").write_text(log)
    hits = tmp_path / "hits.jsonl"
    p = run(meridian_bin, "match", "--subdomains", "--indicators", inds, "--hits", hits,
            tmp_path / "access.log")
    assert p.returncode == 0, p.stderr
    dom = [(h["line"], h["value"]) for h in read_hits(hits) if h["indicator"] == ID.format(1)]
    assert dom == [(6, "http://www.evil.com/")]


def test_sightings(meridian_bin, inds, tmp_path):
    (tmp_path / "access.log").write_text(ACCESS)
    out = tmp_path / "sightings.json"
    p = run(meridian_bin, "match", "--indicators", inds, "--sightings", out, "--org", "CERT-X",
            tmp_path / "access.log")
    assert p.returncode == 0, p.stderr
    bundle = json.loads(out.read_text())
    assert bundle["type"] == "bundle"
    ident = [o for o in bundle["objects"] if o["type"] == "identity"]
    assert len(ident) == 1 and ident[0]["name"] == "CERT-X"
    s = {o["sighting_of_ref"]: o for o in bundle["objects"] if o["type"] == "sighting"}
    assert set(s) == {ID.format(2), ID.format(3), ID.format(4)}
    assert s[ID.format(2)]["count"] == 2
    assert s[ID.format(2)]["first_seen"] == "2026-11-29T10:00:00.000Z"
    assert s[ID.format(2)]["last_seen"] == "2026-11-29T10:00:02.000Z"
    assert s[ID.format(2)]["where_sighted_refs"] == [ident[0]["id"]]
    # the STIX validator accepts the bundle
    v = run(meridian_bin, "validate", out)
    assert v.returncode == 0, v.stdout + v.stderr


def test_stdin(meridian_bin, inds, tmp_path):
    for args in ([], ["-"]):
        p = subprocess.run([meridian_bin, "match", "--indicators", str(inds), "--hits", "-",
                            "--quiet"] + args, input=DNS, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        hits = [json.loads(line) for line in p.stdout.splitlines()]
        assert [(h["file"], h["line"], h["field"]) for h in hits] == [("-", 6, "query")]


def test_hostile_input(meridian_bin, inds, tmp_path):
    bad = tmp_path / "bad.log"
    rnd = bytes((i * 131 + 7) % 256 for i in range(200000))
    big = b"45.6.7.8 - - [29/Nov/2026:10:00:00 +0000] \"GET /" + b"a" * (1 << 20) + \
        b" HTTP/1.1\" 200 1 \"-\" \"ua\"\n"
    bad.write_bytes(ACCESS.encode() + rnd + b"\n\xc3\x28\xff\xfe\n" + big + b"\x00" * 1000 +
                    b"\n" + ACCESS.encode()[:60])
    hits = tmp_path / "hits.jsonl"
    p = run(meridian_bin, "match", "--format", "combined", "--indicators", inds, "--hits", hits,
            bad)
    assert p.returncode == 0, p.stderr
    lines = [h["line"] for h in read_hits(hits)]
    nl = ACCESS.count("\n") + rnd.count(b"\n") + 1 + 1 + 1
    assert lines[:4] == [2, 4, 4, 6]
    assert nl in lines  # the 1 MB line, after the garbage
    assert "malformed" in p.stdout
    # truncated indicator file: a clear error naming the offset, exit 2
    t = tmp_path / "trunc.json"
    t.write_text(inds.read_text()[:500])
    p = run(meridian_bin, "match", "--indicators", t, bad)
    assert p.returncode == 2
    assert "offset" in p.stderr
    # unknown format: usage error
    p = run(meridian_bin, "match", "--format", "nope", "--indicators", inds, bad)
    assert p.returncode == 2
    p = run(meridian_bin, "match", bad)
    assert p.returncode == 2


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_follow_with_rotation(meridian_bin, inds, tmp_path):
    log = tmp_path / "access.log"
    hits = tmp_path / "hits.jsonl"
    log.write_text(ACCESS.splitlines(keepends=True)[1])  # one hit on line 1
    proc = subprocess.Popen([meridian_bin, "match", "--follow", "--indicators", str(inds),
                             "--hits", str(hits), str(log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        count = lambda: len(hits.read_text().splitlines()) if hits.exists() else 0  # noqa
        assert wait_for(lambda: count() >= 1)
        with open(log, "a") as f:  # grows
            f.write("no hit here\n" + ACCESS.splitlines(keepends=True)[3])
        assert wait_for(lambda: count() >= 3)
        os.rename(log, tmp_path / "access.log.1")  # rotated
        log.write_text("garbage\n" + ACCESS.splitlines(keepends=True)[1])
        assert wait_for(lambda: count() >= 4)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Sanitizer" not in err
    got = [(h["line"], h["indicator"]) for h in read_hits(hits)]
    assert got == [(1, ID.format(2)), (3, ID.format(2)), (3, ID.format(3)), (2, ID.format(2))]
    assert "rotated" in err
    assert "hit " in out


def test_indicators_from_the_store(meridian_bin, inds, tmp_path):
    data = tmp_path / "node"
    assert run(meridian_bin, "init", "--org", "CERT", "--data", data).returncode == 0
    p = run(meridian_bin, "collection", "create", "--api-root", "intel", "--title", "T",
            "--data", data)
    assert p.returncode == 0, p.stderr
    coll = p.stdout.strip()
    p = run(meridian_bin, "import", "--collection", coll, "--data", data, inds)
    assert p.returncode == 0, p.stderr
    (tmp_path / "access.log").write_text(ACCESS)
    hits = tmp_path / "hits.jsonl"
    p = run(meridian_bin, "match", "--data", data, "--collection", coll, "--hits", hits,
            tmp_path / "access.log")
    assert p.returncode == 0, p.stderr
    assert "3 inactive" in p.stderr  # revoked, not yet valid, expired: as from the file
    assert [(h["line"], h["indicator"]) for h in read_hits(hits)] == [
        (2, ID.format(2)), (4, ID.format(2)), (4, ID.format(3)), (6, ID.format(4))]
    p = run(meridian_bin, "match", "--data", data, "--collection", "no-such", tmp_path / "x")
    assert p.returncode == 2
    assert "not found" in p.stderr
    # without --collection: every collection (a second one, empty, changes nothing),
    # in chunks larger than one indicator (the store reader runs beside the parser)
    p = run(meridian_bin, "collection", "create", "--api-root", "other", "--title", "U",
            "--data", data)
    assert p.returncode == 0, p.stderr
    p = run(meridian_bin, "match", "--data", data, "--hits", hits, tmp_path / "access.log")
    assert p.returncode == 0, p.stderr
    assert [(h["line"], h["indicator"]) for h in read_hits(hits)] == [
        (2, ID.format(2)), (4, ID.format(2)), (4, ID.format(3)), (6, ID.format(4))]


def test_patterns_for_the_evaluator(meridian_bin, tmp_path):
    """Patterns the index cannot express run in pattern/ on each line's
    observation; an invalid one is named and skipped."""
    objs = [indicator(1, "[domain-name:value LIKE '%.evil.org']"),
            indicator(2, "[ipv4-addr:value = '45.6.7.8'] OR [url:value MATCHES '^http://x\\\\.org/']"),
            indicator(3, "[ipv4-addr:value = '45.6.7.8' AND ipv4-addr:value = '9.9.9.9']"),
            indicator(4, "[bogus")]
    inds = tmp_path / "ind.json"
    inds.write_text(json.dumps(objs))
    (tmp_path / "fw.csv").write_text("src,dst,host,url\n"
                                     "1.1.1.1,9.9.9.9,a.evil.org,http://y.org/\n"
                                     "2.2.2.2,8.8.8.8,evil.org,http://x.org/z\n")
    hits = tmp_path / "hits.jsonl"
    p = run(meridian_bin, "match", "--indicators", inds, "--hits", hits, tmp_path / "fw.csv")
    assert p.returncode == 0, p.stderr
    assert "3 by the pattern evaluator" in p.stderr
    assert "1 invalid patterns" in p.stderr and ID.format(4) in p.stderr
    got = [(h["line"], h["indicator"], h["field"]) for h in read_hits(hits)]
    # LIKE matches a.evil.org (not evil.org); MATCHES matches the URL; the
    # one-object AND never holds for two different addresses
    assert got == [(2, ID.format(1), "pattern"), (3, ID.format(2), "pattern")]


def node_with_indicators(meridian_bin, inds, tmp_path):
    """A data directory with one collection holding the indicators of inds."""
    data = tmp_path / "node"
    assert run(meridian_bin, "init", "--org", "CERT", "--data", data).returncode == 0
    p = run(meridian_bin, "collection", "create", "--api-root", "intel", "--title", "T",
            "--data", data)
    assert p.returncode == 0, p.stderr
    coll = p.stdout.strip()
    assert run(meridian_bin, "import", "--collection", coll, "--data", data,
               inds).returncode == 0
    return data, coll


def test_report_stores_signed_sightings_in_the_node(meridian_bin, inds, tmp_path):
    """--report is an import of the sightings: they land in the collection,
    valid, counted per indicator, and signed by this node."""
    data, coll = node_with_indicators(meridian_bin, inds, tmp_path)
    (tmp_path / "access.log").write_text(ACCESS)
    p = run(meridian_bin, "match", "--data", data, "--collection", coll, "--report", coll,
            tmp_path / "access.log")
    assert p.returncode == 0, p.stderr
    assert not list(data.glob(".match-report-*")), "temporary sightings file left behind"
    p = run(meridian_bin, "export", "--collection", coll, "--data", data)
    assert p.returncode == 0, p.stderr
    objs = json.loads(p.stdout)["objects"]
    sightings = {o["sighting_of_ref"]: o for o in objs if o["type"] == "sighting"}
    # indicator 2 hit twice (lines 2 and 4), 3 and 4 once each, as --hits says
    assert {k: v["count"] for k, v in sightings.items()} == {
        ID.format(2): 2, ID.format(3): 1, ID.format(4): 1}
    for s in sightings.values():
        assert any(k.startswith("extension-definition--") for k in s.get("extensions", {})), \
            "a sighting created on this node must carry the node's signature"
    p = run(meridian_bin, "match", "--data", data, "--report", coll, "--follow",
            tmp_path / "access.log")
    assert p.returncode == 2 and "--follow" in p.stderr


def test_report_unknown_collection_fails_cleanly(meridian_bin, inds, tmp_path):
    data = tmp_path / "node"
    assert run(meridian_bin, "init", "--org", "CERT", "--data", data).returncode == 0
    (tmp_path / "access.log").write_text(ACCESS)
    p = run(meridian_bin, "match", "--indicators", inds, "--data", data, "--report",
            "no-such", tmp_path / "access.log")
    assert p.returncode == 2
    assert "no collection 'no-such'" in p.stderr
    assert not list(data.glob(".match-report-*"))
    p = run(meridian_bin, "match", "--indicators", inds, "--data", data, "--report",
            "a" * 600, tmp_path / "access.log")
    assert p.returncode == 2 and "too long" in p.stderr


def test_csv_columns_by_name_pattern_and_values(meridian_bin, inds, tmp_path):
    """A hash column called file_sha256 and columns named nothing useful but
    holding addresses or domains are scanned; the summary says which column
    was read as what and which were not scanned (issue 17, item 14)."""
    csv = ("event_time,action,file_sha256,peer,col x,fname,bytes,w\x1b[31m\n"
           "2026-11-29T11:00:00Z,allow," + "AB" * 32 + ",45.6.7.8,evil.com,setup.exe,10,x\n"
           "2026-11-29T11:00:01Z,deny,,10.1.2.3,www.example.org,a.pdf,20,y\n")
    path = tmp_path / "fw.csv"
    path.write_text(csv)
    hits = tmp_path / "hits.jsonl"
    for args in ([path], []):  # a mapped file, and the same bytes as a stream
        p = subprocess.run([meridian_bin, "match", "--indicators", str(inds), "--hits",
                            str(hits)] + [str(a) for a in args], input=csv,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        got = [(h["line"], h["indicator"], h["field"]) for h in read_hits(hits)]
        assert got == [(2, ID.format(5), "file_sha256"), (2, ID.format(2), "peer"),
                       (2, ID.format(1), "col x"), (3, ID.format(2), "peer")]
        cols = [l for l in p.stdout.splitlines() if l.startswith("  columns:")]
        assert cols == ["  columns: event_time as time, file_sha256 as hash, peer as ip "
                        "(by its values), col x as host (by its values); not scanned: action, "
                        "fname, bytes, w\\x1B[31m"], p.stdout
    # --map wins over both, and says so
    p = run(meridian_bin, "match", "--indicators", inds, "--map", "peer=none", "--map",
            "fname=host", path)
    assert p.returncode == 0, p.stderr
    assert ("  columns: event_time as time, file_sha256 as hash, col x as host (by its values), "
            "fname as host (--map); not scanned: action, peer, bytes, w\\x1B[31m") in p.stdout


def test_report_twice_is_idempotent(meridian_bin, inds, tmp_path):
    """Re-running --report over the same log updates the same sightings and
    adds nothing; new lines add their counts once; another log adds its own;
    one identity per reporting sensor, created once (issue 17, item 16)."""
    data, coll = node_with_indicators(meridian_bin, inds, tmp_path)
    log = tmp_path / "access.log"
    log.write_text(ACCESS + "x" * 5000 + "\n")  # longer than the bytes that identify a log

    def report(*logs):
        p = run(meridian_bin, "match", "--data", data, "--collection", coll, "--report", coll,
                *logs)
        assert p.returncode == 0, p.stderr
        p = run(meridian_bin, "export", "--collection", coll, "--data", data)
        assert p.returncode == 0, p.stderr
        objs = json.loads(p.stdout)["objects"]
        ids = [o["id"] for o in objs if o["type"] == "identity" and o["id"] != FIXTURE_IDENT]
        sightings = {o["sighting_of_ref"]: o for o in objs if o["type"] == "sighting"}
        assert all(s["where_sighted_refs"] == ids for s in sightings.values())
        return ids, sightings

    ids1, s1 = report(log)
    assert {k: v["count"] for k, v in s1.items()} == {ID.format(2): 2, ID.format(3): 1,
                                                      ID.format(4): 1}
    ids2, s2 = report(log)  # the same bytes again: nothing added, no new version
    assert ids2 == ids1 and len(ids1) == 1
    assert s2 == s1
    with open(log, "a") as f:  # the log grows by one line with a hit of indicator 2
        f.write(ACCESS.splitlines(keepends=True)[1])
    ids3, s3 = report(log)
    assert ids3 == ids1
    assert {k: v["id"] for k, v in s3.items()} == {k: v["id"] for k, v in s1.items()}
    assert s3[ID.format(2)]["count"] == 3  # 2 + the new line, not 2 + 3
    assert s3[ID.format(2)]["modified"] > s1[ID.format(2)]["modified"]
    assert s3[ID.format(2)]["created"] == s1[ID.format(2)]["created"]
    assert s3[ID.format(3)] == s1[ID.format(3)]  # not hit by new lines: untouched
    other = tmp_path / "other.log"  # a different log (another day's file): counts add
    other.write_text(ACCESS.splitlines(keepends=True)[1] * 2)
    ids4, s4 = report(other)
    assert ids4 == ids1 and s4[ID.format(2)]["count"] == 5
    ids5, s5 = report(other, log)  # both again: nothing new
    assert s5 == s4 and ids5 == ids1
    # the same sighting, versioned: the export holds its last version only
    p = run(meridian_bin, "export", "--collection", coll, "--data", data)
    assert sum(1 for o in json.loads(p.stdout)["objects"] if o["type"] == "identity" and
               o["id"] != FIXTURE_IDENT) == 1
