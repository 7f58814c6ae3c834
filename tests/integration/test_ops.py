"""Operations: /metrics (Prometheus text format, checked against the
exposition grammar here and scraped by a real Prometheus), /healthz,
/readyz, the access log (client address, token name or why authentication
failed, route templates, escaping), JSON lines, and SIGHUP log reopening."""
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest
import requests

from node import Node, indicator, start_node, wait_for, TAXII, TOKEN_RE

# ---- the text exposition format (Prometheus 0.0.4) --------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
FLOAT = r"(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)"
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL}={LABEL_VALUE})(?:,{LABEL}={LABEL_VALUE})*,?)?\}})?"
                       rf" ({FLOAT})(?: (-?\d+))?$")
LABEL_RE = re.compile(rf"({LABEL})=({LABEL_VALUE})")
HELP_RE = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def unescape(v):
    return v[1:-1].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def parse_exposition(text):
    """Parses text by the format's grammar; returns {family: {"type",
    "samples": [(name, labels, value)]}}. Any line that does not fit, a
    TYPE after samples of its family, a second TYPE, or a sample of an
    undeclared family fails the test."""
    assert text.endswith("\n"), "the last line must end with a newline"
    fams, current = {}, None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            m = HELP_RE.match(line)
            if m:
                fams.setdefault(m.group(1), {"type": None, "samples": [], "help": m.group(2)})
                continue
            m = TYPE_RE.match(line)
            assert m, f"line {n}: bad comment {line!r}"
            f = fams.setdefault(m.group(1), {"type": None, "samples": []})
            assert f["type"] is None and not f["samples"], f"line {n}: TYPE repeated or late"
            f["type"] = m.group(2)
            current = m.group(1)
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"line {n}: not a sample {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        fam = current
        suffixes = ("_bucket", "_sum", "_count") if fams[fam]["type"] == "histogram" else ("",)
        assert any(name == fam + s for s in suffixes), f"line {n}: {name} outside family {fam}"
        lab = {k: unescape(v) for k, v in LABEL_RE.findall(labels)}
        fams[fam]["samples"].append((name, lab, float(value)))
    for fam, f in fams.items():
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
    return fams


def check_histogram(fam, samples):
    series = {}
    for name, lab, v in samples:
        key = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            s["buckets"].append((float(lab["le"]), v))
        elif name.endswith("_sum"):
            s["sum"] = v
        else:
            s["count"] = v
    for key, s in series.items():
        les = [le for le, _ in s["buckets"]]
        assert les == sorted(les) and les[-1] == math.inf, (fam, key, les)
        counts = [c for _, c in s["buckets"]]
        assert counts == sorted(counts), f"{fam}{key}: buckets not cumulative"
        assert s["count"] == counts[-1] and s["sum"] is not None, (fam, key)


def value(fams, family, name=None, **labels):
    for n, lab, v in fams[family]["samples"]:
        if (name or family) == n and all(lab.get(k) == x for k, x in labels.items()):
            return v
    return None


# ---- a node with a metrics listener and a log file -------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def ops_node(tmp_path_factory, meridian_bin):
    work = tmp_path_factory.mktemp("ops")
    log = work / "access.log"
    n = Node(meridian_bin, work / "node",
             extra_args=["--metrics-listen", "127.0.0.1:0", "--log", str(log)])
    (work / "node").mkdir()
    n.init()
    n.log = log
    n.start()
    m = None
    wait_for(lambda: log.exists() and "serving /metrics" in log.read_text(), 10)
    m = re.search(r"serving /metrics, /healthz, /readyz on http://(127\.0\.0\.1:\d+)/",
                  log.read_text())
    assert m, log.read_text()
    n.metrics_url = "http://" + m.group(1)
    n.org("partner-x", "partner")
    n.partner_token = n.token("partner-x")
    n.coll = n.collection()
    yield n
    n.stop()


def log_lines(n, since=0):
    return n.log.read_text(errors="replace").splitlines()[since:]


def scrape(n, token="admin"):
    r = n.get("/metrics", token=token, accept=None)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return r.text


def test_health_and_ready_need_no_token_and_say_nothing_else(ops_node):
    for base in (ops_node.url, ops_node.metrics_url):
        r = requests.get(base + "/healthz", timeout=10)
        assert (r.status_code, r.text) == (200, "ok\n")
        r = requests.get(base + "/readyz", timeout=10)
        assert (r.status_code, r.text) == (200, "ready\n")
        r = requests.post(base + "/healthz", timeout=10)
        assert r.status_code == 405


def test_metrics_needs_an_own_org_token_on_the_main_listener(ops_node):
    r = ops_node.get("/metrics", token=None, accept=None)
    assert r.status_code == 401 and "meridian_" not in r.text
    r = ops_node.get("/metrics", token=ops_node.partner_token, accept=None)
    assert r.status_code == 404 and "meridian_" not in r.text
    # the metrics listener serves nothing but these three paths
    r = requests.get(ops_node.metrics_url + "/metrics", timeout=10)
    assert r.status_code == 200 and "meridian_http_requests_total" in r.text
    r = requests.get(ops_node.metrics_url + "/taxii2/", timeout=10,
                     headers={"Authorization": f"Bearer {ops_node.admin_token}",
                              "Accept": TAXII})
    assert r.status_code == 404


def test_metrics_follow_the_grammar_and_count_what_happened(ops_node, tmp_path):
    n = ops_node
    before = parse_exposition(scrape(n))
    ing0 = value(before, "meridian_objects_ingested_total", origin="local") or 0
    rej0 = value(before, "meridian_objects_rejected_total", reason="invalid_stix") or 0
    posts0 = value(before, "meridian_http_requests_total",
                   route="/{api_root}/collections/{id}/objects/", status="202") or 0
    n.post_ok(n.coll, [indicator(value=f"10.9.0.{i}") for i in range(3)])
    bad = indicator()
    del bad["pattern"]
    r = n.post(n.coll, [bad])
    assert r.status_code == 202 and r.json()["failure_count"] == 1
    assert n.get(f"/api1/collections/{n.coll}/objects/").status_code == 200
    # a request is counted when its connection completes, which may be just
    # after its client has the answer: the scrape is repeated until then
    after = {}

    def counted():
        after.update(parse_exposition(scrape(n)))
        route = "/{api_root}/collections/{id}/objects/"
        return value(after, "meridian_http_requests_total", route=route,
                     status="202") == posts0 + 2 and (value(
            after, "meridian_http_request_duration_seconds",
            "meridian_http_request_duration_seconds_count", route=route) or 0) >= posts0 + 3
    wait_for(counted, timeout=10)
    assert value(after, "meridian_objects_ingested_total", origin="local") == ing0 + 3
    assert value(after, "meridian_objects_rejected_total", reason="invalid_stix") == rej0 + 1
    assert value(after, "meridian_http_requests_total",
                 route="/{api_root}/collections/{id}/objects/", status="202") == posts0 + 2
    assert value(after, "meridian_objects_stored") >= 3
    assert value(after, "meridian_ledger_size") is not None
    assert after["meridian_http_request_duration_seconds"]["type"] == "histogram"
    assert value(after, "meridian_http_request_duration_seconds",
                 "meridian_http_request_duration_seconds_count",
                 route="/{api_root}/collections/{id}/objects/") >= posts0 + 3
    # bounded cardinality: routes are templates, never raw paths or ids
    routes = {lab["route"] for _, lab, _ in after["meridian_http_requests_total"]["samples"]}
    assert not any(n.coll in r for r in routes), routes
    assert all(r.startswith("/") or r == "other" for r in routes), routes
    for i in range(30):
        n.get(f"/api1/collections/{uuid.uuid4()}/objects/")
    again = parse_exposition(scrape(n))
    routes2 = {lab["route"] for _, lab, _ in again["meridian_http_requests_total"]["samples"]}
    assert len(routes2) <= len(routes) + 1, routes2


def test_metrics_count_refused_credentials_by_reason(ops_node):
    n = ops_node
    fams = parse_exposition(scrape(n))
    unknown0 = value(fams, "meridian_auth_failures_total", reason="unknown") or 0
    n.get("/taxii2/", token="mrd_" + "A" * 43)
    fams = parse_exposition(scrape(n))
    assert value(fams, "meridian_auth_failures_total", reason="unknown") == unknown0 + 1


def access(lines, path_part):
    return [l for l in lines if " access " in l and path_part in l]


def test_access_log_names_client_token_and_why_auth_failed(ops_node):
    n = ops_node
    start = len(log_lines(n))
    revoked = n.token("own")
    p = n.cli("token", "list", "--data", n.data)
    name = [l.split("\t")[0] for l in p.stdout.splitlines() if l.startswith(revoked[:12])][0]
    n.cli("token", "revoke", name, "--data", n.data)
    cases = {
        "ok": ("admin", "/taxii2/?case=ok"),
        "unknown": ("mrd_" + "B" * 43, "/taxii2/?case=unknown"),
        "revoked": (revoked, "/taxii2/?case=revoked"),
        "none": (None, "/taxii2/?case=none"),
    }
    for reason, (tok, path) in cases.items():
        r = n.get(path, token=tok)
        assert r.status_code == (200 if reason == "ok" else 401), (reason, r.status_code)
    r = n.req("GET", "/taxii2/", token=None, headers={"Authorization": "Bearer bad token!"})
    assert r.status_code == 401
    r = n.get("/api/v1/sightings/")  # was logged with token=- before
    assert r.status_code == 200
    wait_for(lambda: len(access(log_lines(n, start), "/api/v1/sightings/")) == 1, 5)
    lines = log_lines(n, start)
    text = "\n".join(lines)
    assert n.admin_token not in text and revoked not in text  # never a secret
    assert "B" * 43 not in text
    got = {}
    for l in access(lines, "/taxii2/"):
        m = re.search(r"client=(\S+) method=GET path=/taxii2/ route=/taxii2/ status=(\d+) "
                      r"bytes=\d+ ms=[\d.]+ token=(\S+) auth=(\S+)", l)
        assert m, l
        assert re.fullmatch(r"127\.0\.0\.1:\d+", m.group(1)), l
        got.setdefault(m.group(4), []).append((m.group(2), m.group(3)))
    assert got["ok"] == [("200", "admin")]
    assert got["unknown"] == [("401", "-")]
    assert got["revoked"] == [("401", "-")]
    assert got["malformed"] == [("401", "-")]
    assert ("401", "-") in got["none"]
    api = access(lines, "/api/v1/sightings/")[0]
    assert "token=admin auth=ok" in api and "route=/api/v1/sightings " in api


def test_access_log_escapes_request_data(ops_node):
    n = ops_node
    start = len(log_lines(n))
    # percent-decoded by the server: ESC, CR, LF, a bidi override, invalid UTF-8
    r = requests.get(n.url + "/taxii2/%1b%5b31m%0d%0afake%20line%e2%80%ae%ff/",
                     headers={"Authorization": f"Bearer {n.admin_token}", "Accept": TAXII},
                     timeout=10)
    assert r.status_code in (401, 404)
    wait_for(lambda: len(access(log_lines(n, start), "fake")) == 1, 5)
    raw = n.log.read_bytes()
    line = [l for l in raw.split(b"\n") if b"fake" in l][0]
    assert b"\x1b" not in line and b"\r" not in line and b"\xe2\x80\xae" not in line
    assert b"\xff" not in line
    assert b"\\x1B[31m\\x0D\\x0Afake\\x20line\\u{202E}\\xFF" in line
    # the fake "line" stayed inside the record
    assert not any(l.startswith(b"fake") for l in raw.split(b"\n"))


def test_sighup_reopens_the_log_file(ops_node):
    n = ops_node
    rotated = n.log.with_name("access.log.1")
    os.rename(n.log, rotated)
    n.get("/before-hup/")
    wait_for(lambda: "before-hup" in rotated.read_text(), 5)
    n.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: n.log.exists() and "log reopened" in n.log.read_text(), 5)
    n.get("/after-hup/")
    wait_for(lambda: "after-hup" in n.log.read_text(), 5)
    assert "after-hup" not in rotated.read_text()
    assert "before-hup" not in n.log.read_text()
    assert n.proc.poll() is None  # SIGHUP does not stop the server


def test_json_log_lines(tmp_path, meridian_bin):
    log = tmp_path / "json.log"
    n = start_node(meridian_bin, tmp_path / "n",
                   extra_args=["--log", str(log), "--log-format", "json"])
    try:
        n.get("/taxii2/")
        n.get("/taxii2/", token="mrd_" + "C" * 43)
        n.get("/taxii2/%1b%22quote/")
        wait_for(lambda: log.read_text().count('"event":"access"') >= 3, 5)
    finally:
        n.stop()
    recs = [json.loads(l) for l in log.read_text().splitlines()]  # every line is JSON
    acc = [r for r in recs if r.get("event") == "access"]
    assert any(r["token"] == "admin" and r["auth"] == "ok" and r["status"] == 200 for r in acc)
    assert any(r["token"] is None and r["auth"] == "unknown" and r["status"] == 401 for r in acc)
    esc = [r for r in acc if "quote" in r["path"]][0]
    assert esc["path"] == "/taxii2/\x1b\"quote/"  # as JSON escapes: \u001b in the file
    raw = log.read_bytes()
    assert b"\x1b" not in raw and b"\\u001b\\\"quote" in raw
    assert all(re.fullmatch(r"127\.0\.0\.1:\d+", r["client"]) for r in acc)
    assert any(r.get("msg", "").startswith("serving TAXII 2.1") for r in recs)


@pytest.mark.skipif(shutil.which("prometheus") is None,
                    reason="Debian package prometheus is not installed (scripts/bootstrap)")
def test_a_real_prometheus_scrapes_the_node(ops_node, tmp_path):
    n = ops_node
    port = free_port()
    cfg = tmp_path / "prometheus.yml"
    host = n.url.split("//")[1]
    cfg.write_text(f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: meridian
    authorization:
      credentials: {n.admin_token}
    static_configs:
      - targets: ['{host}']
  - job_name: meridian-open
    static_configs:
      - targets: ['{n.metrics_url.split("//")[1]}']
""")
    log = open(tmp_path / "prometheus.log", "w")
    prom = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api/v1/query"

    def query(q):
        try:
            r = requests.get(api, params={"query": q}, timeout=5)
        except requests.ConnectionError:
            return []
        if r.status_code != 200:
            return []
        return r.json()["data"]["result"]

    try:
        n.post_ok(n.coll, [indicator(value="10.8.0.1")])
        wait_for(lambda: len(query('up{job=~"meridian.*"} == 1')) == 2, 60, 0.5)
        res = query('meridian_objects_ingested_total{origin="local"}')
        assert res and float(res[0]["value"][1]) >= 1
        res = query('meridian_http_requests_total{route="/{api_root}/collections/{id}/objects/"}')
        assert res, "no request series"
        res = query("histogram_quantile(0.5, sum by (le) "
                    "(rate(meridian_http_request_duration_seconds_bucket[1m])))")
        assert res is not None
        assert query("meridian_ledger_size")
        assert query('meridian_build_info{version!=""}')
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait(timeout=10)
        log.close()
