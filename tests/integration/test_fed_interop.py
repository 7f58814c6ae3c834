"""Interoperability: a Meridian node pulls from and pushes to a minimal
third-party-style TAXII 2.1 server written here (issue 6).

The server is deliberately unlike Meridian: absolute API-root URLs in
discovery, no `next` ever, date headers only in one mode, pages by
added_after only, and POST answered with a *pending* status that becomes
complete on a later GET of the status resource.
"""
import datetime
import http.server
import json
import threading
import uuid

import pytest

from node import TAXII, TLP_CLEAR, indicator
from test_fed_propagation import Fed


def taxii_ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}Z"


class ThirdParty:
    """mode 'dates': pages of `page` objects with X-TAXII-Date-Added-* headers
    and added_after; mode 'bare': everything at once, no date headers."""

    TOKEN = "third-party-secret"

    def __init__(self, mode="dates", page=3):
        self.mode = mode
        self.page = page
        self.objects = []  # (date_added datetime, object)
        self.statuses = {}
        self.status_gets = 0
        self.coll = str(uuid.uuid4())
        self.requests = []
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", TAXII)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authed(self):
                if self.headers.get("Authorization") != f"Bearer {srv.TOKEN}":
                    self.reply(401, {"title": "no"})
                    return False
                return True

            def do_GET(self):
                srv.requests.append(self.path)
                if not self.authed():
                    return
                path, _, query = self.path.partition("?")
                args = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
                base = f"http://127.0.0.1:{srv.port}"
                if path == "/taxii2/":
                    return self.reply(200, {"title": "third party",
                                            "api_roots": [f"{base}/feeds/main/"]})
                if path == f"/feeds/main/collections/{srv.coll}/objects/":
                    assert "next" not in args
                    items = srv.objects
                    if "added_after" in args and srv.mode == "dates":
                        after = datetime.datetime.strptime(args["added_after"],
                                                           "%Y-%m-%dT%H:%M:%S.%fZ")
                        items = [(d, o) for d, o in items if d > after]
                    more = False
                    if srv.mode == "dates" and len(items) > srv.page:
                        items, more = items[:srv.page], True
                    body = {"more": more, "objects": [o for _, o in items]} if items else {}
                    headers = []
                    if srv.mode == "dates" and items:
                        headers = [("X-TAXII-Date-Added-First", taxii_ts(items[0][0])),
                                   ("X-TAXII-Date-Added-Last", taxii_ts(items[-1][0]))]
                    return self.reply(200, body, headers)
                if path.startswith("/feeds/main/status/"):
                    sid = path.split("/")[-2]
                    st = srv.statuses.get(sid)
                    if st is None:
                        return self.reply(404, {"title": "no such status"})
                    srv.status_gets += 1
                    st["status"] = "complete"  # done once asked
                    st["success_count"] = st["pending_count"]
                    st["pending_count"] = 0
                    return self.reply(200, st)
                return self.reply(404, {"title": "not found"})

            def do_POST(self):
                if not self.authed():
                    return
                n = int(self.headers.get("Content-Length", "0"))
                env = json.loads(self.rfile.read(n))
                now = datetime.datetime.utcnow()
                for o in env["objects"]:
                    srv.objects.append((now, o))
                sid = str(uuid.uuid4())
                st = {"id": sid, "status": "pending", "total_count": len(env["objects"]),
                      "success_count": 0, "failure_count": 0,
                      "pending_count": len(env["objects"])}
                srv.statuses[sid] = st
                return self.reply(202, st)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, objs):
        base = datetime.datetime.utcnow()
        for i, o in enumerate(objs):
            self.objects.append((base + datetime.timedelta(microseconds=i), o))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def add_peer(fed, name, tp, direction):
    n = fed.nodes[name]
    if direction in ("push", "both"):  # what is pushed is what partner org "tp" may read
        fed.partner(n, "tp")
        n.grant("tp", fed.coll[name], True, False)
    n.cli("peer", "add", "tp", "--data", n.data, "--url", tp.url, "--api-root", "main",
          "--collection", tp.coll, "--local-collection", fed.coll[name], "--token", tp.TOKEN,
          "--direction", direction, "--community", "europe")


@pytest.mark.parametrize("mode", ["dates", "bare"])
def test_pull_from_third_party_server(fed, mode):
    tp = ThirdParty(mode=mode, page=3)
    try:
        fed.node("A")
        add_peer(fed, "A", tp, "pull")
        objs = [indicator(tlp=TLP_CLEAR, value=f"10.9.0.{i}") for i in range(10)]
        tp.add(objs)
        p = fed.sync("A")
        assert "pulled=10" in p.stdout and "unverified=10" in p.stdout, p.stdout
        assert {o["id"] for o in objs} <= fed.ids("A")
        if mode == "dates":
            assert "pages=4" in p.stdout, p.stdout  # 3+3+3+1 via added_after
        # later objects: with dates only the new ones are fetched
        more = [indicator(tlp=TLP_CLEAR, value=f"10.9.1.{i}") for i in range(2)]
        tp.add(more)
        p = fed.sync("A")
        assert "pulled=2" in p.stdout, p.stdout
        if mode == "dates":
            assert "duplicates=0" in p.stdout, p.stdout
        else:
            assert "duplicates=10" in p.stdout, p.stdout  # no cursor possible: no-ops
        ids = [o["id"] for o in fed.objects("A")]
        assert len(ids) == len(set(ids)) == 12
    finally:
        tp.close()


def test_push_to_third_party_server_follows_pending_status(fed):
    tp = ThirdParty(mode="bare")
    try:
        fed.node("A")
        add_peer(fed, "A", tp, "push")
        objs = [indicator(tlp=TLP_CLEAR, value=f"10.9.2.{i}") for i in range(7)]
        fed.post("A", objs)
        p = fed.sync("A")
        assert "pushed=7" in p.stdout, p.stdout
        assert tp.status_gets >= 1
        assert {o["id"] for _, o in tp.objects} == {o["id"] for o in objs}
        # pushed as stored: signed by A
        assert all("extensions" in o for _, o in tp.objects)
        p = fed.sync("A")
        assert "pushed=0" in p.stdout, p.stdout
        assert len(tp.objects) == 7
    finally:
        tp.close()


def test_wrong_token_fails_cleanly_and_backs_off(fed):
    tp = ThirdParty()
    try:
        a = fed.node("A")
        a.cli("peer", "add", "tp", "--data", a.data, "--url", tp.url, "--api-root", "main",
              "--collection", tp.coll, "--local-collection", fed.coll["A"], "--token", "wrong",
              "--direction", "pull", "--community", "europe")
        # four failures: the peer backs off 2 x 2^3 = 16 s (with jitter), long
        # enough that the next command still finds it backing off on a
        # loaded machine (after one failure it is 2 s)
        for _ in range(4):
            p = fed.sync("A", check=False)
            assert p.returncode == 1 and "HTTP 401" in p.stdout, p.stdout
        # the server's behaviour: a peer backing off is skipped
        p = a.cli("sync", "--data", a.data, "--respect-backoff")
        assert p.stdout == "", p.stdout
    finally:
        tp.close()


def test_tls_is_verified_against_the_pinned_ca(meridian_bin, tmp_path):
    from node import Node
    a = Node(meridian_bin, tmp_path / "A", extra_args=["--sync-interval", "0"], http=False)
    a.init(org="own")
    coll_a = a.collection(root="europe", title="a")
    a.start()
    b = Node(meridian_bin, tmp_path / "B", extra_args=["--sync-interval", "0"])
    b.init(org="own")
    coll_b = b.collection(root="europe", title="b")
    b.start()
    try:
        assert a.url.startswith("https://")
        a.org("B", "partner")
        tok = a.token("B")
        a.grant("B", coll_a, True, False)
        ind = indicator(tlp=TLP_CLEAR, value="10.9.9.1")
        a.post_ok(coll_a, [ind], root="europe")
        common = ["--url", a.url, "--api-root", "europe", "--collection", coll_a,
                  "--local-collection", coll_b, "--token", tok, "--direction", "pull",
                  "--community", "europe", "--data", b.data]
        # without the CA: the self-signed chain is refused, nothing is stored
        b.cli("peer", "add", "nopin", *common)
        p = b.cli("sync", "--data", b.data, "--peer", "nopin", check=False)
        assert p.returncode == 1 and "FAILED" in p.stdout, p.stdout
        assert "certificate" in p.stdout.lower() or "ssl" in p.stdout.lower(), p.stdout
        # with A's CA pinned: verified, pulled
        b.cli("peer", "add", "pinned", *common, "--ca", a.ca)
        p = b.cli("sync", "--data", b.data, "--peer", "pinned")
        assert "pulled=1" in p.stdout, p.stdout
        # a CA that did not sign A's certificate is refused too
        other = Node(meridian_bin, tmp_path / "O")
        other.init(org="own")
        b.cli("peer", "add", "wrongca", *common, "--ca", other.ca)
        p = b.cli("sync", "--data", b.data, "--peer", "wrongca", check=False)
        assert p.returncode == 1, p.stdout
    finally:
        a.stop()
        b.stop()
