"""Scheduled feeds (issue 12, docs/interop.md "Feeds"): `meridian feed` against a
real HTTP server started here on 127.0.0.1 (ETag/304, garbage, an endless
body, a slow body, a MISP feed layout) and a real `meridian serve` running
feeds on their interval. What a round stores goes through the import
pipeline; failures are recorded with a clear error, back off, and lose
nothing; values that vanish from a list are expired, not deleted."""
import csv
import io
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from node import start_node, wait_for


class FeedServer:
    """A feed server on 127.0.0.1: paths map to (etag, body) set by the test;
    /garbage, /endless and /slow misbehave. Counts requests and 304s."""

    def __init__(self):
        self.docs = {}
        self.modified = {}
        self.hits = {}
        self.not_modified = 0
        self.stop_flag = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                if self.path == "/endless":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    line = b"192.0.2.200\n" * 8192
                    try:
                        while not outer.stop_flag.is_set():
                            self.wfile.write(line)
                    except OSError:
                        pass
                    return
                if self.path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    try:
                        for _ in range(1000):
                            if outer.stop_flag.wait(0.5):
                                break
                            self.wfile.write(b"1")
                            self.wfile.flush()
                    except OSError:
                        pass
                    return
                if self.path not in outer.docs:
                    self.send_error(404)
                    return
                etag, body = outer.docs[self.path]
                lm = outer.modified.get(self.path)
                if (etag and self.headers.get("If-None-Match") == etag) or \
                        (lm and self.headers.get("If-Modified-Since") == lm):
                    outer.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                if etag:
                    self.send_header("ETag", etag)
                if lm:
                    self.send_header("Last-Modified", lm)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path, body, etag=None, last_modified=None):
        self.docs[path] = (etag, body if isinstance(body, bytes) else body.encode())
        self.modified[path] = last_modified

    def close(self):
        self.stop_flag.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server():
    s = FeedServer()
    s.put("/garbage", b"<html><body>\x00\x01 oops, not a list</body></html>\n" * 50)
    yield s
    s.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("feeds"))
    yield n
    n.stop()


def rows(node, coll, *extra):
    out = node.cli("export", "--data", node.data, "--collection", coll, "--format", "csv",
                   *extra).stdout
    return [r for r in csv.reader(io.StringIO(out))][1:]


def feed(node, *args, check=True):
    return node.cli("feed", *args, "--data", node.data, check=check)


def add(node, *args):
    """A feed the running server leaves alone (disabled): the test drives
    its rounds with `feed fetch`, which runs disabled feeds too."""
    return feed(node, "add", *args, "--disable")


def listing(node, name):
    out = feed(node, "list").stdout
    line = [l for l in out.splitlines() if l.split("\t")[0] == name]
    assert len(line) == 1, out
    return line[0]


def test_text_feed_conditional_fetch_and_expiry(node, server):
    coll = node.collection()
    server.put("/list.txt", "# a list\n192.0.2.10\nevil.example\n", etag='"v1"')
    add(node, "blocklist", "--url", server.url + "/list.txt", "--format", "text",
         "--collection", coll, "--interval", "1h", "--tlp", "amber", "--confidence", "60",
         "--label", "feed-blocklist")
    p = feed(node, "fetch", "blocklist")
    assert "blocklist: ok: 2 objects, 2 added" in p.stderr, p.stderr
    got = {r[1]: r for r in rows(node, coll)}
    assert set(got) == {"192.0.2.10", "evil.example"}
    assert got["evil.example"][3:5] == ["amber", "60"] and got["evil.example"][7] == \
        "feed-blocklist"
    # the same ETag: a 304, nothing read, nothing changed
    p = feed(node, "fetch", "blocklist")
    assert "blocklist: not_modified" in p.stderr, p.stderr
    assert server.not_modified == 1
    # a new version of the list: one value gone (expired, kept), one new
    server.put("/list.txt", "192.0.2.10\nnew.example\n", etag='"v2"')
    p = feed(node, "fetch", "blocklist")
    assert "ok: 2 objects, 1 added, 1 already present, 0 invalid, 1 expired" in p.stderr, p.stderr
    active = {r[1] for r in rows(node, coll)}
    assert active == {"192.0.2.10", "new.example"}
    every = {r[1]: r for r in rows(node, coll, "--all")}
    assert "evil.example" in every, every  # not deleted
    assert every["evil.example"][6] != "", every["evil.example"]  # valid_until set
    assert every["192.0.2.10"][6] == ""
    show = feed(node, "show", "blocklist").stdout
    assert "last result: ok" in show and "failures in a row: 0" in show, show
    assert "expired: 1" in show and 'etag: "v2"' in show, show
    # the TAXII view agrees: the expired indicator's newest version has valid_until
    objs = node.page_all(node.objects_path(coll))[0]
    evil = [o for o in objs if o.get("name") == "evil.example"]
    assert len(evil) == 1 and "valid_until" in evil[0], evil
    # listed again the same day: a new version without valid_until, active again
    server.put("/list.txt", "192.0.2.10\nnew.example\nevil.example\n", etag='"v3"')
    p = feed(node, "fetch", "blocklist")
    assert "3 objects, 0 added, 3 already present, 0 invalid, 0 expired, 1 revived" in p.stderr, \
        p.stderr
    assert {r[1] for r in rows(node, coll)} == {"192.0.2.10", "new.example", "evil.example"}


def test_if_modified_since(node, server):
    coll = node.collection()
    lm = "Mon, 07 Dec 2026 04:00:00 GMT"
    server.put("/lm.csv", "indicator,comment\n192.0.2.44,x\n", last_modified=lm)
    add(node, "lmfeed", "--url", server.url + "/lm.csv", "--format", "csv", "--collection", coll,
        "--interval", "1h")
    assert "lmfeed: ok: 1 objects, 1 added" in feed(node, "fetch", "lmfeed").stderr
    before = server.not_modified
    assert "lmfeed: not_modified" in feed(node, "fetch", "lmfeed").stderr
    assert server.not_modified == before + 1
    assert f"last-modified: {lm}" in feed(node, "show", "lmfeed").stdout


@pytest.mark.parametrize("path,result,msg", [
    ("/garbage", "garbage", "/garbage: line 1: value holds control characters; skipped"),
    ("/endless", "too_big", "response larger than 65536 bytes"),
    ("/slow", "timeout", "imed out"),
    ("/missing", "http_error", "HTTP 404"),
])
def test_bad_feeds_fail_clearly_and_lose_nothing(node, server, path, result, msg):
    coll = node.collection()
    good = "good" + uuid.uuid4().hex[:6]
    server.put(f"/{good}.txt", "198.51.100.1\n198.51.100.2\n", etag='"g"')
    add(node, good, "--url", f"{server.url}/{good}.txt", "--format", "text",
         "--collection", coll, "--interval", "1h")
    feed(node, "fetch", good)
    before = sorted(r[1] for r in rows(node, coll))
    assert before == ["198.51.100.1", "198.51.100.2"]
    # the same name now points at the bad URL: the round fails, the values stay
    feed(node, "set", good, "--url", server.url + path, "--max-size", "65536", "--timeout", "3")
    t0 = time.monotonic()
    p = feed(node, "fetch", good, check=False)
    assert time.monotonic() - t0 < 30
    assert p.returncode == 1, p.stderr
    assert f"{good}: {result}" in p.stderr and msg in p.stderr, p.stderr
    assert sorted(r[1] for r in rows(node, coll, "--all")) == before
    assert all(r[6] == "" for r in rows(node, coll, "--all"))  # nothing expired
    line = listing(node, good)
    assert f"result={result}" in line and "failures=1" in line and msg in line, line
    # back-off: the next attempt is set in the future, and grows
    p = feed(node, "fetch", good, check=False)
    line = listing(node, good)
    assert "failures=2" in line, line
    m = re.search(r"next=(\S+)", line)
    assert m and m.group(1) != "never", line


@pytest.mark.parametrize("fmt", ["stix", "misp"])
def test_json_feeds_serving_garbage_fail_clearly_and_lose_nothing(node, server, fmt):
    """A STIX or MISP feed whose server starts sending garbage (the HTML and
    control bytes of /garbage): the round fails with an error naming what is
    wrong, what the feed stored before stays, and the feed is backed off."""
    coll = node.collection()
    name = f"{fmt}garbage{uuid.uuid4().hex[:6]}"
    ind = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--" + str(uuid.uuid4()), "created": "2026-01-01T00:00:00.000Z",
           "modified": "2026-01-01T00:00:00.000Z", "valid_from": "2026-01-01T00:00:00.000Z",
           "pattern": "[ipv4-addr:value = '203.0.113.61']", "pattern_type": "stix"}
    good = f"/{name}/"
    if fmt == "stix":
        good = f"/{name}.json"
        server.put(good, json.dumps({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()),
                                     "objects": [ind]}))
    else:
        ev = str(uuid.uuid4())
        server.put(f"{good}manifest.json", json.dumps({ev: {"info": "x"}}))
        server.put(f"{good}{ev}.json", json.dumps({"Event": {
            "uuid": ev, "info": "x", "timestamp": "1767225600", "date": "2026-01-01",
            "Orgc": {"name": "CERT-X", "uuid": str(uuid.uuid4())},
            "Attribute": [{"uuid": str(uuid.uuid4()), "type": "ip-dst", "to_ids": True,
                           "category": "Network activity", "value": "203.0.113.61",
                           "timestamp": "1767225600"}]}}))
    add(node, name, "--url", server.url + good, "--format", fmt, "--collection", coll,
        "--interval", "1h")
    assert f"{name}: ok" in feed(node, "fetch", name).stderr
    before = sorted(r[1] for r in rows(node, coll, "--all"))
    assert before == ["203.0.113.61"]
    feed(node, "set", name, "--url", server.url + ("/garbage" if fmt == "stix" else "/g/"))
    server.put("/g/manifest.json", b"<html><body>\x00\x01 oops</body></html>\n" * 50)
    p = feed(node, "fetch", name, check=False)
    assert p.returncode == 1, p.stderr
    assert f"{name}: garbage: 0 objects" in p.stderr, p.stderr
    assert ("/garbage: not JSON: json: " if fmt == "stix" else
            "/g/manifest.json: not a MISP feed manifest") in p.stderr, p.stderr
    assert sorted(r[1] for r in rows(node, coll, "--all")) == before
    assert all(r[6] == "" for r in rows(node, coll, "--all"))  # nothing expired
    line = listing(node, name)
    assert "failures=1" in line, line


def test_stix_and_misp_feeds(node, server):
    coll = node.collection()
    ind = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--" + str(uuid.uuid4()), "created": "2026-01-01T00:00:00.000Z",
           "modified": "2026-01-01T00:00:00.000Z", "valid_from": "2026-01-01T00:00:00.000Z",
           "pattern": "[ipv4-addr:value = '203.0.113.5']", "pattern_type": "stix",
           "name": "stix-feed"}
    bad = dict(ind, id="indicator--" + str(uuid.uuid4()), pattern="[nope")
    server.put("/bundle.json", json.dumps({"type": "bundle", "id": "bundle--" +
                                           str(uuid.uuid4()), "objects": [ind, bad]}))
    add(node, "stixfeed", "--url", server.url + "/bundle.json", "--format", "stix",
         "--collection", coll, "--interval", "1d")
    p = feed(node, "fetch", "stixfeed")
    assert "stixfeed: ok: 2 objects, 1 added, 0 already present, 1 invalid" in p.stderr, p.stderr
    # a MISP feed: manifest.json, then one file per event
    ev = str(uuid.uuid4())
    attr = str(uuid.uuid4())
    event = {"Event": {"uuid": ev, "info": "phishing wave", "timestamp": "1767225600",
                       "date": "2026-01-01", "Orgc": {"name": "CERT-X", "uuid": str(uuid.uuid4())},
                       "Tag": [{"name": "tlp:green"}],
                       "Attribute": [{"uuid": attr, "type": "domain", "category": "Network activity",
                                      "value": "phish.example", "to_ids": True,
                                      "timestamp": "1767225600"}]}}
    server.put("/misp/manifest.json", json.dumps({ev: {"info": "phishing wave"}}), etag='"m1"')
    server.put(f"/misp/{ev}.json", json.dumps(event))
    add(node, "mispfeed", "--url", server.url + "/misp/", "--format", "misp",
         "--collection", coll, "--interval", "1d")
    p = feed(node, "fetch", "mispfeed")
    assert "mispfeed: ok" in p.stderr, p.stderr
    objs = node.page_all(node.objects_path(coll))[0]
    assert any(o["id"] == "indicator--" + attr for o in objs), objs
    assert any(o["id"] == ind["id"] for o in objs)
    p = feed(node, "fetch", "mispfeed")
    assert "mispfeed: not_modified" in p.stderr, p.stderr
    # the event leaves the feed for another: its indicator is expired, its
    # report and identity (which have no validity) are left as they are
    ev2 = str(uuid.uuid4())
    event2 = {"Event": {"uuid": ev2, "info": "next wave", "timestamp": "1767225700",
                        "date": "2026-01-01", "Orgc": {"name": "CERT-Y", "uuid": str(uuid.uuid4())},
                        "Attribute": [{"uuid": str(uuid.uuid4()), "type": "ip-dst",
                                       "category": "Network activity", "value": "198.51.100.77",
                                       "to_ids": True, "timestamp": "1767225700"}]}}
    server.put(f"/misp/{ev2}.json", json.dumps(event2))
    server.put("/misp/manifest.json", json.dumps({ev2: {"info": "next wave"}}), etag='"m2"')
    p = feed(node, "fetch", "mispfeed")
    assert "mispfeed: ok" in p.stderr and " 1 expired" in p.stderr, p.stderr
    report = [o for o in node.page_all(node.objects_path(coll))[0]
              if o["id"] == "report--" + ev]
    assert len(report) == 1 and "valid_until" not in report[0], report
    every = {r[1]: r for r in rows(node, coll, "--all")}
    assert every["phish.example"][6] != "" and every["198.51.100.77"][6] == "", every
    assert "phish.example" not in {r[1] for r in rows(node, coll)}


def test_feed_changes_are_audited_without_the_token(node, server):
    coll = node.collection()
    feed(node, "add", "audited", "--url", server.url + "/x", "--format", "csv",
         "--collection", coll, "--interval", "30m", "--token", "s3cr3t-feed-token")
    feed(node, "set", "audited", "--disable")
    assert "\tdisabled\t" in listing(node, "audited")
    feed(node, "set", "audited", "--enable", "--url", server.url + "/y")
    assert "\tenabled\t" in listing(node, "audited")
    feed(node, "remove", "audited")
    assert "audited" not in feed(node, "list").stdout
    out = node.cli("audit", "--data", node.data).stdout
    recs = [l for l in out.splitlines() if '"feed"' in l and "audited" in l]
    assert len(recs) == 4, out
    assert "s3cr3t-feed-token" not in out
    assert "s3cr3t-feed-token" not in feed(node, "list").stdout
    # bad configurations are refused before anything is stored
    p = feed(node, "add", "bad", "--url", "file:///etc/passwd", "--format", "text",
             "--collection", coll, "--interval", "1h", check=False)
    assert p.returncode == 2 and "http:// or https://" in p.stderr, p.stderr
    p = feed(node, "add", "bad", "--url", server.url, "--format", "rss", "--collection", coll,
             "--interval", "1h", check=False)
    assert p.returncode == 2 and "--format takes" in p.stderr
    assert "bad" not in feed(node, "list").stdout


def test_serve_runs_feeds_and_keeps_serving(meridian_bin, tmp_path, server):
    n = start_node(meridian_bin, tmp_path / "srv")
    try:
        coll = n.collection()
        server.put("/srv.txt", "192.0.2.77\n", etag='"s1"')
        n.cli("feed", "add", "live", "--url", server.url + "/srv.txt", "--format", "text",
              "--collection", coll, "--interval", "2s", "--data", n.data)
        n.cli("feed", "add", "junk", "--url", server.url + "/endless", "--format", "text",
              "--collection", coll, "--interval", "2s", "--max-size", "100000",
              "--data", n.data)

        def names():
            return {o.get("name") for o in n.page_all(n.objects_path(coll))[0]}

        wait_for(lambda: "192.0.2.77" in names(), timeout=30, step=0.5)
        # the list changes: the server's next round picks it up and expires the old value
        server.put("/srv.txt", "192.0.2.78\n", etag='"s2"')
        wait_for(lambda: "192.0.2.78" in names(), timeout=30, step=0.5)
        wait_for(lambda: "expired: 1" in n.cli("feed", "show", "live", "--data", n.data).stdout,
                 timeout=15, step=0.5)
        # the endless feed fails, is reported, and the server keeps answering
        wait_for(lambda: "failures=" in n.cli("feed", "list", "--data", n.data).stdout and
                 "result=too_big" in n.cli("feed", "list", "--data", n.data).stdout,
                 timeout=30, step=0.5)
        r = n.get("/metrics", accept=None)
        assert r.status_code == 200, r.text
        assert re.search(r'meridian_feed_fetch_results_total\{result="ok"\} [1-9]', r.text), \
            r.text
        assert re.search(r'meridian_feed_fetch_results_total\{result="too_big"\} [1-9]', r.text)
        assert re.search(r'meridian_feed_errors_total\{feed="junk"\} [1-9]', r.text)
        assert n.get("/taxii2/").status_code == 200
        assert "feed junk: too_big" in n.stderr()
    finally:
        n.stop()


TLP = {"clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
       "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
       "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
       "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
       "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}


def test_export_feeds_over_http_subscribed_by_another_node(meridian_bin, tmp_path):
    """Node A serves its collection as export feeds; node B subscribes with
    a partner's token in three formats. B gets exactly the indicators the
    partner reads over TAXII: never the RED one."""
    from node import indicator
    a = start_node(meridian_bin, tmp_path / "a")
    b = start_node(meridian_bin, tmp_path / "b")
    try:
        coll = a.collection()
        hidden = a.collection()  # the partner has no grant here
        a.org("partner-b", "partner")
        a.grant("partner-b", coll, True, False)
        tok = a.token("partner-b")
        values = {}
        for i, level in enumerate(TLP):
            v = f"203.0.113.{10 + i}"
            values[level] = v
            a.post_ok(coll, [indicator(tlp=TLP[level], value=v, name=v)])
        a.post_ok(hidden, [indicator(value="203.0.113.99", name="hidden")])
        # what the partner reads over TAXII: the reference
        seen = {o["name"] for o in a.page_all(a.objects_path(coll), token=tok)[0]
                if o["type"] == "indicator"}
        assert values["red"] not in seen and values["clear"] in seen, seen
        # the feed is the bytes `meridian export --as-org partner-b` writes
        r = a.get(f"/api/v1/feeds/csv?collection={coll}", token=tok, accept=None)
        assert r.status_code == 200, r.text
        cli = a.cli("export", "--data", a.data, "--collection", coll, "--format", "csv",
                    "--as-org", "partner-b").stdout
        assert r.text == cli
        assert {row[1] for row in csv.reader(io.StringIO(r.text))} - {"value"} == seen
        etag = r.headers["ETag"]
        r2 = a.get(f"/api/v1/feeds/csv?collection={coll}", token=tok, accept=None,
                   headers={"If-None-Match": etag})
        assert r2.status_code == 304 and r2.content == b""
        # the collection it may not read is not there at all; no token, no feed
        r = a.get(f"/api/v1/feeds/csv?collection={hidden}", token=tok, accept=None)
        assert r.status_code == 404
        r = a.get(f"/api/v1/feeds/misp/{hidden}/manifest.json", token=tok, accept=None)
        assert r.status_code == 404
        assert a.get(f"/api/v1/feeds/csv?collection={coll}", token=None,
                     accept=None).status_code == 401
        r = a.get(f"/api/v1/feeds/stix?collection={coll}&type=indicator&latest=1", token=tok,
                  accept=None)
        assert r.status_code == 200 and r.json()["type"] == "bundle"
        # B subscribes in three formats
        urls = {"csv": f"{a.url}/api/v1/feeds/csv?collection={coll}",
                "stix": f"{a.url}/api/v1/feeds/stix?collection={coll}&latest=1",
                "misp": f"{a.url}/api/v1/feeds/misp/{coll}"}
        for fmt, url in urls.items():
            bc = b.collection()
            b.cli("feed", "add", "from-a-" + fmt, "--url", url, "--format", fmt,
                  "--collection", bc, "--interval", "1h", "--token", tok, "--disable",
                  "--data", b.data)
            p = b.cli("feed", "fetch", "from-a-" + fmt, "--data", b.data)
            assert f"from-a-{fmt}: ok" in p.stderr, p.stderr
            got = {r[1] for r in rows(b, bc)}
            assert got == seen, (fmt, got, seen)
            assert values["red"] not in got and "203.0.113.99" not in got
            p = b.cli("feed", "fetch", "from-a-" + fmt, "--data", b.data)
            assert f"from-a-{fmt}: not_modified" in p.stderr, (fmt, p.stderr)
    finally:
        b.stop()
        a.stop()
