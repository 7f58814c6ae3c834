"""Issue 17, item 12: nothing from outside reaches a terminal raw.

Each verb family is fed the same hostile text (ESC, BEL, CSI and OSC
sequences, CR, a bidi override and bytes that are not UTF-8) through the
input it really reads (a file, a file name, a log, a pattern, names stored
by admin verbs, a peer's error answer, a request path), and the test checks
both that the text was echoed (so the check cannot pass by printing
nothing) and that it was echoed escaped: no C0/C1 control, DEL, bidi
control or invalid UTF-8 on stdout or stderr. Evidence packages are covered
in test_ledger.py (test_evidence_hostile_names_escaped).
"""
import http.server
import json
import socket
import subprocess
import threading
import uuid

import pytest

from node import Node, TAXII, indicator, start_node

# ESC ] OSC title BEL, CSI clear screen, CR, RIGHT-TO-LEFT OVERRIDE, C1 CSI.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\r\u202egnp.exe\u0085"
# How mrd_str_escape shows it.
SHOWN = "\\x1B]0;pwned\\x07\\x1B[2J\\x0D\\u{202E}gnp.exe\\u{85}"
INVALID_UTF8 = b"\xff\xc0\xaf"


def raw_controls(data):
    """The raw control characters in data (bytes): C0 but LF and TAB (the
    line and column separators of our own output), DEL, C1, bidi controls,
    and a note for invalid UTF-8."""
    found = [b for b in data if (b < 0x20 and b not in (0x09, 0x0A)) or b == 0x7F]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return found + ["invalid UTF-8 at %d" % e.start]
    return found + [hex(ord(c)) for c in text
                    if 0x80 <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E or
                    0x2066 <= ord(c) <= 0x2069 or ord(c) in (0x200E, 0x200F, 0x061C)]


def run_raw(meridian_bin, *args, timeout=60):
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    p = subprocess.run([meridian_bin.encode(), *args], capture_output=True, timeout=timeout)
    assert b"Sanitizer" not in p.stderr, p.stderr
    return p


def assert_escaped(p, shown=SHOWN):
    out = p.stdout + p.stderr
    assert raw_controls(p.stdout) == [], p.stdout
    assert raw_controls(p.stderr) == [], p.stderr
    assert shown.encode() in out, out


def test_validate_escapes_paths_and_values(meridian_bin, tmp_path):
    name = tmp_path.as_posix().encode() + b"/" + HOSTILE.encode() + INVALID_UTF8 + b".json"
    bad = indicator()
    bad["id"] = "indicator--" + HOSTILE
    bad["name"] = HOSTILE
    bad["x_" + "a" * 3] = 1
    with open(name, "wb") as f:
        f.write(json.dumps(bad).encode())
    for flags in ([], ["--json"]):
        p = run_raw(meridian_bin, "validate", *flags, name)
        assert p.returncode == 1, p.stderr
        assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stdout
    p = run_raw(meridian_bin, "validate", name)
    assert_escaped(p, SHOWN + "\\xFF\\xC0\\xAF.json")  # the file name
    assert b"indicator--" + SHOWN.encode() in p.stdout  # the value in the message
    p = run_raw(meridian_bin, "validate", "--json", name)
    assert b"\\u001B]0;pwned\\u0007" in p.stdout and b"\\u202E" in p.stdout, p.stdout
    # A file that is not JSON: the parser's message quotes it.
    with open(name, "wb") as f:
        f.write(HOSTILE.encode() + INVALID_UTF8)
    p = run_raw(meridian_bin, "validate", name)
    assert p.returncode == 1
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stdout
    # Unreadable: the error names the path.
    p = run_raw(meridian_bin, "validate", name + b".missing")
    assert p.returncode == 2
    assert_escaped(p, SHOWN + "\\xFF\\xC0\\xAF.json.missing")
    p = run_raw(meridian_bin, "validate", "--json", name + b".missing")
    assert p.returncode == 2
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stdout
    assert json.loads(p.stdout)["file"].endswith("\\xFF\\xC0\\xAF.json.missing"), p.stdout


def test_pattern_escapes(meridian_bin, tmp_path):
    pat = "[url:value = '" + HOSTILE + "']"
    p = run_raw(meridian_bin, "pattern", "print", pat)
    assert p.returncode == 0, p.stderr
    assert_escaped(p)
    # Errors quote the input.
    p = run_raw(meridian_bin, "pattern", "check", "[" + HOSTILE + ":value = 'x']")
    assert p.returncode == 1
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stderr
    p = run_raw(meridian_bin, "pattern", "check", "[url:value = '" + HOSTILE)
    assert p.returncode == 1
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stderr
    p = run_raw(meridian_bin, "pattern", "eval", pat, HOSTILE.encode() + INVALID_UTF8)
    assert p.returncode == 2
    assert_escaped(p, SHOWN + "\\xFF\\xC0\\xAF")


def test_match_escapes_log_values_and_paths(meridian_bin, tmp_path):
    # The value sits raw in a CSV column (CR would end the row there).
    url = "http://evil.example/" + HOSTILE.replace("\r", "")
    bundle = tmp_path / "ind.json"
    ind = indicator()
    ind["pattern"] = "[url:value = '" + url.replace("'", "\\'") + "']"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()),
                                  "objects": [ind]}))
    log = tmp_path.as_posix().encode() + b"/" + HOSTILE.encode() + INVALID_UTF8 + b".csv"
    with open(log, "wb") as f:
        f.write(b"ts,url\n2026-01-01T00:00:00Z," + url.encode() + b"\n")
    hits = tmp_path / "hits.jsonl"
    p = run_raw(meridian_bin, "match", "--indicators", bundle, "--format", "csv",
                "--hits", hits, log)
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stdout + p.stderr
    assert (SHOWN + "\\xFF\\xC0\\xAF.csv").encode() in p.stdout, p.stdout  # the log's name
    assert b" 1 hits" in p.stdout, p.stdout
    # The hit records are JSON with every control as a \u escape.
    data = hits.read_bytes()
    assert raw_controls(data) == [], data
    assert json.loads(data.splitlines()[0])["value"] == url


def test_import_escapes_findings(meridian_bin, tmp_path):
    n = Node(meridian_bin, tmp_path / "node")
    n.data.mkdir()
    n.init()
    coll = n.collection()
    bad = indicator()
    bad["id"] = "indicator--" + HOSTILE
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    p = run_raw(meridian_bin, "import", "--data", n.data, "--collection", coll, f)
    assert p.returncode == 1, p.stderr
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stderr
    assert ("indicator--" + SHOWN).encode() in p.stderr, p.stderr  # the id in the finding


def test_admin_names_escaped(meridian_bin, tmp_path):
    n = Node(meridian_bin, tmp_path / "node")
    n.data.mkdir()
    n.init()
    # A collection title and an org name are stored as given (or refused);
    # listing them, or refusing them, never prints them raw.
    p = run_raw(meridian_bin, "collection", "create", "--data", n.data, "--api-root", "api1",
                "--title", HOSTILE)
    assert p.returncode == 0, p.stderr
    assert_escaped(p)
    p = run_raw(meridian_bin, "collection", "list", "--data", n.data)
    assert_escaped(p)
    p = run_raw(meridian_bin, "org", "create", HOSTILE, "--relation", "partner",
                "--data", n.data)
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stderr
    assert SHOWN.encode() in p.stdout + p.stderr
    p = run_raw(meridian_bin, "token", "create", "--org", HOSTILE, "--data", n.data)
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stderr
    # Unknown verbs and verbs' bad arguments are echoed escaped too.
    p = run_raw(meridian_bin, HOSTILE)
    assert p.returncode == 2
    assert_escaped(p)
    p = run_raw(meridian_bin, "hold", "show", "--data", n.data, HOSTILE)
    assert p.returncode != 0
    assert raw_controls(p.stdout) == [] and raw_controls(p.stderr) == [], p.stderr


class HostilePeer:
    """A TAXII server on 127.0.0.1 that answers every request with an error
    whose title is hostile."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                data = json.dumps({"title": HOSTILE, "http_status": "500"}).encode()
                self.send_response(500)
                self.send_header("Content-Type", TAXII)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(timeout=10)


def test_peer_error_escaped(meridian_bin, tmp_path):
    n = Node(meridian_bin, tmp_path / "node")
    n.data.mkdir()
    n.init()
    coll = n.collection()
    peer = HostilePeer()
    try:
        n.cli("peer", "add", "bad", "--data", n.data, "--url", peer.url, "--api-root", "main",
              "--collection", str(uuid.uuid4()), "--local-collection", coll, "--token", "t0k",
              "--direction", "pull", "--community", "europe")
        p = run_raw(meridian_bin, "sync", "--data", n.data, timeout=120)
        assert b"FAILED" in p.stdout, p.stdout + p.stderr
        assert_escaped(p, SHOWN)
        p = run_raw(meridian_bin, "peer", "list", "--data", n.data)
        assert b"last error" in p.stdout, p.stdout
        assert_escaped(p, SHOWN)
    finally:
        peer.stop()


def test_server_log_escapes_request_paths(meridian_bin, tmp_path):
    n = start_node(meridian_bin, tmp_path / "node")
    try:
        # The path arrives percent-encoded; the server decodes it, and its
        # access log must not write the decoded bytes raw.
        target = "/taxii2/%1B]0;pwned%07%1B[2J%0D%E2%80%AEgnp.exe%C2%85/%FF"
        with socket.create_connection((n.addr.rsplit(":", 1)[0], int(n.addr.rsplit(":", 1)[1])),
                                      timeout=10) as s:
            s.sendall(("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Authorization: Bearer " + n.admin_token + "\r\n\r\n").encode())
            while s.recv(65536):
                pass
    finally:
        n.stop()
    log = n.stderr_path.read_bytes()
    assert raw_controls(log) == [], log[-2000:]
    assert b"pwned" in log, log[-2000:]


def test_export_value_formats_carry_no_controls(meridian_bin, tmp_path):
    """A name or label from outside reaches a CSV, Suricata, Snort or Zeek
    export (stdout: a terminal as often as a file) with every control as a
    space: C1 CSI and NEL, bidi overrides and line separators included, not
    only C0. A URL holding them is not written by the line formats."""
    n = Node(meridian_bin, tmp_path / "node")
    n.data.mkdir()
    n.init()
    coll = n.collection()
    csi = "\u009b31m\u2028"
    named = indicator(value="192.0.2.77", name="start" + HOSTILE + csi + "end",
                      labels=["lab" + HOSTILE + csi + "el"])
    url = indicator(name="u")
    url["pattern"] = "[url:value = 'http://evil.example/" + csi + "\u202ex']"
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                             "objects": [named, url]}))
    n.cli("import", "--data", n.data, "--collection", coll, f)
    for fmt, shown in (("csv", b"lab"), ("suricata", b"start"), ("snort", b"start"),
                       ("zeek", b"start")):
        p = run_raw(meridian_bin, "export", "--data", n.data, "--collection", coll,
                    "--format", fmt)
        assert p.returncode == 0, p.stderr
        assert b"192.0.2.77" in p.stdout, (fmt, p.stdout)
        line = next(x for x in p.stdout.splitlines() if b"192.0.2.77" in x)
        assert shown in line and b"gnp.exe" in line, (fmt, line)  # the text is there ...
        assert raw_controls(p.stdout) == [], (fmt, p.stdout)  # ... with no control in it
        assert raw_controls(p.stderr) == [], (fmt, p.stderr)
