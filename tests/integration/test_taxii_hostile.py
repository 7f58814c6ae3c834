"""Hostile input against a real server: malformed bodies, oversize and
truncated requests, slow and idle clients. Every case is bounded in time,
and after each one the server still answers others and has stored nothing
it should not have."""
import json
import socket
import time

import pytest

from node import TAXII, assert_taxii_error, indicator, start_node, wait_for
from pgcluster import on_pg

REQUEST_TIMEOUT = 3  # --request-timeout for this module's server


@pytest.fixture(scope="module")
def hnode(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("hostile"),
                   extra_args=["--request-timeout", str(REQUEST_TIMEOUT), "--idle-timeout", "5"])
    yield n
    n.stop()


def alive(n):
    r = n.get("/taxii2/", timeout=5)
    assert r.status_code == 200


def raw(n, data, read=True, timeout=10):
    host, port = n.addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.sendall(data)
    if not read:
        return s
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                if b"content-length:" in head.lower():
                    cl = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    if len(body) >= cl:
                        break
    finally:
        s.close()
    return out


def req_head(n, method, path, extra=b""):
    return (f"{method} {path} HTTP/1.1\r\nHost: {n.addr}\r\nAccept: {TAXII}\r\n"
            f"Authorization: Bearer {n.admin_token}\r\n").encode() + extra


def status_of(resp):
    return int(resp.split(b" ", 2)[1])


@pytest.mark.parametrize("body", [
    b'{"objects": [',
    b'{"objects": [{"type": "indicator"',
    b'{"objects": [{"type": "ind\xff\xfeicator"}]}',
    b'{"objects": [{"name": "\xed\xa0\x80"}]}',  # a UTF-16 surrogate in UTF-8
    b'{"objects": [], "objects": [{}]}',
    b'{"objects": [{"id": "a", "id": "b"}]}',
    b'{"objects": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    b'{"objects": [{"a": "\\u0000"}]}',
    b"\x00\x01\x02",
    b"",
    b"null",
    b'"just a string"',
])
def test_malformed_bodies_are_422_and_store_nothing(hnode, body):
    cid = hnode.collection()
    t0 = time.monotonic()
    r = hnode.post(cid, body)
    assert time.monotonic() - t0 < 5
    assert_taxii_error(r, 422)  # TAXII §5.5: "a malformed body"
    assert hnode.get(hnode.objects_path(cid)).json() == {}
    alive(hnode)


def test_invalid_objects_inside_valid_json_do_not_block_valid_ones(hnode):
    cid = hnode.collection()
    deep = {"a": None}
    cur = deep
    for _ in range(40):
        cur["a"] = {"a": None}
        cur = cur["a"]
    good = indicator()
    weird = [indicator(x_deep=deep), {"type": "indicator"}, indicator(created="2026-13-01T00:00:00Z")]
    st = hnode.post(cid, [good] + weird).json()
    assert st["success_count"] >= 1 and st["failure_count"] >= 2
    ids = [o["id"] for o in hnode.get(hnode.objects_path(cid)).json()["objects"]]
    assert good["id"] in ids


def test_declared_2gb_body_is_413_at_once(hnode):
    cid = hnode.collection()
    head = req_head(hnode, "POST", hnode.objects_path(cid),
                    f"Content-Type: {TAXII}\r\nContent-Length: {2 * 1024**3}\r\n\r\n".encode())
    t0 = time.monotonic()
    resp = raw(hnode, head)
    assert time.monotonic() - t0 < 5
    assert status_of(resp) == 413
    assert f"Content-Type: {TAXII}".encode() in resp
    body = json.loads(resp.partition(b"\r\n\r\n")[2])
    assert body["http_status"] == "413"
    alive(hnode)


def test_expect_100_continue_over_limit_gets_413_without_body(hnode):
    cid = hnode.collection()
    head = req_head(hnode, "POST", hnode.objects_path(cid),
                    f"Content-Type: {TAXII}\r\nContent-Length: {10**12}\r\n"
                    "Expect: 100-continue\r\n\r\n".encode())
    resp = raw(hnode, head)
    assert status_of(resp) == 413


def test_chunked_body_over_limit_is_refused(hnode):
    cid = hnode.collection()
    limit = hnode.get("/api1/").json()["max_content_length"]
    s = raw(hnode, req_head(hnode, "POST", hnode.objects_path(cid),
                            f"Content-Type: {TAXII}\r\nTransfer-Encoding: chunked\r\n\r\n"
                            .encode()), read=False, timeout=30)
    chunk = b"x" * (1 << 20)
    sent, refused = 0, False
    t0 = time.monotonic()
    try:
        while sent <= limit + len(chunk):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        s.sendall(b"0\r\n\r\n")
        resp = s.recv(65536)
        refused = resp == b"" or status_of(resp) == 413
    except (ConnectionResetError, BrokenPipeError):
        refused = True
    finally:
        s.close()
    assert refused
    assert time.monotonic() - t0 < 60
    assert hnode.get(hnode.objects_path(cid)).json() == {}
    alive(hnode)


def test_truncated_body_stores_nothing(hnode):
    cid = hnode.collection()
    body = json.dumps({"objects": [indicator()]}).encode()
    head = req_head(hnode, "POST", hnode.objects_path(cid),
                    f"Content-Type: {TAXII}\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    # the client goes away mid-body
    s = raw(hnode, head + body[: len(body) // 2], read=False)
    s.close()
    alive(hnode)
    # the client stalls mid-body: the request deadline closes it
    s = raw(hnode, head + body[: len(body) // 2], read=False, timeout=REQUEST_TIMEOUT + 10)
    t0 = time.monotonic()
    try:
        got = s.recv(65536)
    except ConnectionResetError:
        got = b""
    s.close()
    assert time.monotonic() - t0 < REQUEST_TIMEOUT + 5
    assert got == b"" or status_of(got) >= 400
    assert hnode.get(hnode.objects_path(cid)).json() == {}
    alive(hnode)


def test_slowloris_is_cut_and_others_are_served(hnode):
    host, port = hnode.addr.rsplit(":", 1)
    slow = []
    for _ in range(50):
        s = socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT + 10)
        s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    t0 = time.monotonic()
    closed = set()
    while time.monotonic() - t0 < REQUEST_TIMEOUT + 4 and len(closed) < len(slow):
        for i, s in enumerate(slow):
            if i in closed:
                continue
            try:
                s.sendall(b"X")  # one byte of a header, never finished
            except OSError:
                closed.add(i)
        t = time.monotonic()
        alive(hnode)  # the others are served meanwhile, quickly
        assert time.monotonic() - t < 2
        time.sleep(0.3)
    for i, s in enumerate(slow):
        if i in closed:
            continue
        s.settimeout(3)
        try:
            data = s.recv(1024)
            if data == b"" or data.startswith(b"HTTP/1.1 4"):  # closed, or refused
                closed.add(i)
        except ConnectionResetError:
            closed.add(i)
        except socket.timeout:
            pass
    for s in slow:
        s.close()
    assert len(closed) == len(slow), f"{len(slow) - len(closed)} slow clients still open"
    assert time.monotonic() - t0 < REQUEST_TIMEOUT + 10


def test_thousand_idle_connections_do_not_block(hnode):
    host, port = hnode.addr.rsplit(":", 1)
    idle = []
    try:
        for _ in range(1000):
            idle.append(socket.create_connection((host, int(port)), timeout=10))
        t0 = time.monotonic()
        for _ in range(5):
            alive(hnode)
        assert time.monotonic() - t0 < 5
    finally:
        for s in idle:
            s.close()
    alive(hnode)


def test_huge_header_is_refused(hnode):
    resp = raw(hnode, req_head(hnode, "GET", "/taxii2/", b"X-Big: " + b"a" * 100000 + b"\r\n\r\n"))
    assert resp == b"" or 400 <= status_of(resp) < 500
    alive(hnode)


def test_header_over_the_limit_is_a_taxii_431(hnode):
    """Headers (or a query string) over --max-header (32 KiB) but within
    libmicrohttpd's pool (twice that) reach Meridian and get a TAXII error
    431 with the TAXII content type; only heads past the pool get
    libmicrohttpd's own HTML answer (docs/taxii.md, Limits)."""
    for extra in (b"X-Big: " + b"a" * 40000 + b"\r\n\r\n",
                  b"X-A: " + b"a" * 20000 + b"\r\nX-B: " + b"b" * 20000 + b"\r\n\r\n"):
        resp = raw(hnode, req_head(hnode, "GET", "/taxii2/", extra))
        head, _, body = resp.partition(b"\r\n\r\n")
        assert status_of(resp) == 431, resp[:200]
        assert f"Content-Type: {TAXII}".encode() in head, head
        err = json.loads(body)
        assert err["http_status"] == "431" and err["title"]
    resp = raw(hnode, req_head(hnode, "GET", "/taxii2/?x=" + "q" * 40000) + b"\r\n")
    assert status_of(resp) == 431 and f"Content-Type: {TAXII}".encode() in resp
    # just under the limit: served
    resp = raw(hnode, req_head(hnode, "GET", "/taxii2/", b"X-Big: " + b"a" * 30000 +
                               b"\r\nConnection: close\r\n\r\n"))
    assert status_of(resp) == 200
    alive(hnode)


def test_bad_bytes_in_path_and_query(hnode):
    cid = hnode.collection()
    resp = raw(hnode, req_head(hnode, "GET", "/api1/collections/%ff%fe/") + b"\r\n")
    assert status_of(resp) == 404
    resp = raw(hnode, req_head(hnode, "GET", f"/api1/collections/{cid}/objects/?match[type]=%ff")
               + b"\r\n")
    assert status_of(resp) == 400
    resp = raw(hnode, b"GARBAGE\r\n\r\n")
    assert resp == b"" or status_of(resp) >= 400
    alive(hnode)


def test_rate_limit_gives_429(tmp_path, meridian_bin):
    n = start_node(meridian_bin, tmp_path / "rl", extra_args=["--rate", "5"])
    try:
        answers = [n.get("/taxii2/") for _ in range(20)]
        codes = [r.status_code for r in answers]
        assert codes[:5] == [200] * 5
        assert 429 in codes
        r = answers[codes.index(429)]
        assert_taxii_error(r, 429)
        assert r.headers["Retry-After"] == "1"
        time.sleep(1.1)
        assert n.get("/taxii2/").status_code == 200
        # another token has its own budget
        n.org("rl_other", "constituent")
        assert n.get("/taxii2/", token=n.token("rl_other")).status_code == 200
    finally:
        n.stop()


@pytest.mark.skipif(on_pg(), reason="the body budget is serve's, not the store's: the SQLite pass "
                    "tests it; on PostgreSQL its timing raced the slower store (3 of 9 runs "
                    "failed, on older binaries too)")
def test_body_memory_budget_gives_503(tmp_path, meridian_bin):
    """Memory for bodies and what is parsed from them is bounded
    server-wide (--max-body-memory): a declared body takes its share
    (TAXII_POST_MEMORY_FACTOR times its size, at most the whole budget)
    before a byte of it arrives, so a second upload meanwhile gets 503,
    not memory; an envelope whose parse alone would need more than the
    budget gets 413."""
    n = start_node(meridian_bin, tmp_path / "mem", extra_args=["--max-body-memory", "8"])
    try:
        cid = n.collection()
        # premise: with the budget free, a 100 KiB envelope is stored
        many = [indicator() for _ in range(330)]
        assert len(json.dumps({"objects": many})) > 100 * 1024
        assert n.post(cid, many).status_code == 202
        head = req_head(n, "POST", n.objects_path(cid),
                        f"Content-Type: {TAXII}\r\nContent-Length: {1024 * 1024}\r\n\r\n"
                        .encode())
        holder = raw(n, head + b'{"objects": [', read=False)  # declares 1 MiB, sends 13 bytes
        more = [indicator() for _ in range(330)]
        # the server takes the share once it has read the holder's header,
        # which a loaded machine may delay: poll (a 202 meanwhile is harmless)
        seen = []
        wait_for(lambda: seen.append(n.post(cid, more)) or seen[-1].status_code == 503)
        r = seen[-1]
        assert_taxii_error(r, 503)
        assert r.headers["Retry-After"] == "1"
        r = n.post(cid, b'{"objects": [' + b" " * (600 * 1024) + b"]}")
        assert_taxii_error(r, 503)
        holder.close()
        # the budget is given back once the server sees the close: small
        # and then large posts work again
        wait_for(lambda: n.post(cid, [indicator()]).status_code == 202)
        assert n.post(cid, more).status_code == 202
        r = n.post(cid, b'{"objects": [' + b" " * (600 * 1024) + b"]}")
        assert_taxii_error(r, 422)  # understood (and empty), not refused
        # 600 KiB of empty objects: each one costs a tree node and its
        # bookkeeping (several KiB), far past the 8 MiB budget
        dense = b'{"objects": [' + b",".join([b"{}"] * 200000) + b"]}"
        e = assert_taxii_error(n.post(cid, dense), 413)
        assert "--max-body-memory" in e["description"]
        # and the node still works
        assert n.post(cid, [indicator()]).status_code == 202
    finally:
        n.stop()


def test_body_budget_is_free_once_the_answer_arrives(tmp_path, meridian_bin):
    """A request's share of the body budget goes back when its handler
    returns, before its answer is sent: a client that posts again the
    moment it has its answer is never refused (503) for the share its
    finished request held. (It was given back only once the answer had
    been written out, so on a loaded machine the next POST, on a new
    connection, could arrive first.)"""
    n = start_node(meridian_bin, tmp_path / "mem", extra_args=["--max-body-memory", "8"])
    try:
        cid = n.collection()
        whole = b'{"objects": [' + b" " * (600 * 1024) + b"]}"  # takes the whole budget
        for _ in range(40):
            assert_taxii_error(n.post(cid, whole), 422)
            r = n.post(cid, [indicator()])
            assert r.status_code == 202, r.text
    finally:
        n.stop()
