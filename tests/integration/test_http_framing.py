"""Ambiguous request framing and credentials, over raw sockets (plain and
TLS listeners): a head that could be read two ways is answered 400 (501
for a transfer coding other than chunked) and the connection is closed,
so the bytes after it never run as a request of their own (RFC 9112
§5.1, §6.1, §6.3; RFC 9110 §5.5). Each smuggled request is a real POST
that would store an indicator: the test proves it is valid by sending it
alone afterwards, and proves that it did not run before that."""
import json
import socket
import ssl
import uuid

import pytest

from node import TAXII, assert_taxii_error, indicator, start_node

READ_TIMEOUT = 15  # seconds to wait for the server's answer and its close


@pytest.fixture(scope="module", params=["http", "https"])
def fnode(request, tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("framing-" + request.param),
                   http=request.param == "http")
    n.cid = n.collection()
    yield n
    n.stop()


def connect(n):
    host, port = n.addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=READ_TIMEOUT)
    if not n.http:
        ctx = ssl.create_default_context(cafile=n.ca)
        s = ctx.wrap_socket(s, server_hostname=host)
    return s


def exchange(n, data):
    """Sends data on one connection and reads until the server closes it.
    Returns (bytes, closed): closed is False when the server kept the
    connection open past READ_TIMEOUT."""
    s = connect(n)
    out, closed = b"", False
    try:
        s.sendall(data)
        while True:
            try:
                b = s.recv(65536)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionResetError):
                closed = True
                break
            except socket.timeout:
                break
            if not b:
                closed = True
                break
            out += b
    finally:
        s.close()
    return out, closed


def responses(data):
    """Splits a byte stream into (status, headers, body) responses, using
    Content-Length (every answer of ours has one)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, data[:200]
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode()
        cl = int(headers["content-length"])
        out.append((status, headers, rest[:cl]))
        data = rest[cl:]
    return out


def head(n, method, path, extra="", version="HTTP/1.1"):
    return (f"{method} {path} {version}\r\nHost: {n.addr}\r\nAccept: {TAXII}\r\n"
            f"Authorization: Bearer {n.admin_token}\r\n{extra}")


def smuggled(n):
    """A complete, valid POST storing one new indicator: (bytes, id)."""
    obj = indicator()
    body = json.dumps({"objects": [obj]}).encode()
    req = head(n, "POST", n.objects_path(n.cid),
               f"Content-Type: {TAXII}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    return req, obj["id"]


def stored(n, oid):
    r = n.get(n.objects_path(n.cid) + oid + "/")
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


# Each case: (first request's head and body, before the smuggled bytes; the
# status it must get). Every first request is framed so that under either
# reading of its head the smuggled request follows a complete body.
CASES = {
    "content-length then transfer-encoding":
        ("POST", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "transfer-encoding then content-length":
        ("POST", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    "two equal content-lengths":
        ("POST", "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", 400),
    "two different content-lengths":
        ("POST", "Content-Length: 0\r\nContent-Length: 1\r\n\r\n", 400),
    "content-length on a GET, twice":
        ("GET", "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", 400),
    "space before the colon":
        ("POST", "Content-Length : 0\r\n\r\n", 400),
    "tab before the colon":
        ("POST", "Content-Length\t: 0\r\n\r\n", 400),
    "space before the colon of transfer-encoding":
        ("POST", "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    "xchunked":
        ("POST", "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    "chunked, identity":
        ("POST", "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    "chunked twice":
        ("POST", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400),
    "gzip, chunked":
        ("POST", "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    "identity with content-length":
        ("POST", "Transfer-Encoding: identity\r\nContent-Length: 0\r\n\r\n", 400),
    "two authorization headers":
        ("GET", "Authorization: Bearer mrd_other\r\n\r\n", 400),
    "NUL inside a header value":
        ("GET", "X-Note: a\0b\r\n\r\n", 400),
    "folded header line":
        ("GET", "X-Note: a\r\n b\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", list(CASES))
def test_ambiguous_head_is_refused_and_closes(fnode, case):
    method, rest, status = CASES[case]
    smug, oid = smuggled(fnode)
    path = fnode.objects_path(fnode.cid) if method == "POST" else "/taxii2/"
    first = head(fnode, method, path, f"Content-Type: {TAXII}\r\n" if method == "POST" else "")
    out, closed = exchange(fnode, (first + rest).encode() + smug)
    got = responses(out)
    assert [g[0] for g in got] == [status], (case, out[:600])
    st, headers, body = got[0]
    assert headers["connection"].lower() == "close"
    assert headers["content-type"] == TAXII
    e = json.loads(body)
    assert e["http_status"] == str(status) and "RFC 911" in e["description"], e
    assert closed, f"{case}: the connection stayed open"
    assert not stored(fnode, oid), f"{case}: the smuggled request ran"
    # The premise: the smuggled request is valid and runs when sent alone.
    out, _ = exchange(fnode, smug.replace(b"Host:", b"Connection: close\r\nHost:", 1))
    assert [g[0] for g in responses(out)] == [202], out[:600]
    assert stored(fnode, oid)


def test_nul_after_a_valid_token_is_400(fnode):
    """`Bearer <token>\\0junk` must not authenticate as <token>, wherever
    the line is (last header or not, CR LF or bare LF)."""
    tok = fnode.admin_token
    for raw in [
        f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nAuthorization: Bearer {tok}\0junk"
        "\r\n\r\n",
        f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\0junk\r\nAccept: {TAXII}"
        "\r\n\r\n",
        f"GET /taxii2/ HTTP/1.1\nHost: x\nAuthorization: Bearer {tok}\0j\nAccept: {TAXII}\n\n",
        f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\0\r\nAccept: {TAXII}"
        "\r\n\r\n",
        f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nAuthorization: Bearer {tok}\0"
        "\r\n\r\n",
    ]:
        out, closed = exchange(fnode, raw.encode())
        got = responses(out)
        assert [g[0] for g in got] == [400], out[:400]
        assert closed
        # without the NUL the same request is answered
        out, _ = exchange(fnode, raw.replace("\0junk", "").replace("\0j", "").replace("\0", "")
                          .replace("Host: x", "Connection: close\r\nHost: x", 1).encode())
        assert [g[0] for g in responses(out)] == [200], out[:400]


def test_well_formed_heads_still_work(fnode):
    """The premise of the cases above: keep-alive pipelining answers every
    request, bare LF line ends, empty values and trailing white space are
    accepted, and a chunked POST stores its objects."""
    a = f"Authorization: Bearer {fnode.admin_token}"
    get = f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\n{a}\r\n\r\n"
    last = get.replace("Host: x", "Connection: close\r\nHost: x", 1)
    out, closed = exchange(fnode, (get + get + last).encode())
    assert [g[0] for g in responses(out)] == [200, 200, 200]
    assert closed
    for raw in [f"GET /taxii2/ HTTP/1.1\nHost: x\nAccept: {TAXII}\n{a}\nConnection: close\n\n",
                f"GET /taxii2/ HTTP/1.1\r\nX-E:\r\nHost: x  \r\nAccept: {TAXII}\t\r\n{a} \r\n"
                "X-F: \r\nConnection: close\r\n\r\n",
                f"GET /taxii2/ HTTP/1.0\r\nAccept: {TAXII}\r\n{a}\r\n\r\n"]:
        out, _ = exchange(fnode, raw.encode())
        assert [g[0] for g in responses(out)] == [200], (raw, out[:300])
    obj = indicator()
    body = json.dumps({"objects": [obj]}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    req = head(fnode, "POST", fnode.objects_path(fnode.cid),
               f"Content-Type: {TAXII}\r\nTransfer-Encoding: Chunked\r\nConnection: close"
               "\r\n\r\n").encode() + chunked
    out, _ = exchange(fnode, req)
    assert [g[0] for g in responses(out)] == [202], out[:400]
    assert stored(fnode, obj["id"])


def test_duplicate_authorization_is_400_even_when_both_are_valid(fnode):
    tok = fnode.admin_token
    raw = (f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nAuthorization: Bearer {tok}"
           f"\r\nauthorization: Bearer {tok}\r\n\r\n")
    out, closed = exchange(fnode, raw.encode())
    got = responses(out)
    assert [g[0] for g in got] == [400]
    assert "more than one Authorization" in json.loads(got[0][2])["description"]
    assert closed


def test_bad_credentials_stay_401_with_challenge(fnode):
    """One Authorization header with credentials that are wrong or not of
    the expected form: 401 with the challenge, not 400."""
    import base64
    for auth in ["Bearer mrd_" + "A" * 43, "Basic !!!notbase64",
                 "Basic " + base64.b64encode(b"user:pw\0x").decode(),
                 "Basic " + base64.b64encode(b"us\0er:" + fnode.admin_token.encode()).decode()]:
        r = fnode.get("/taxii2/", token=None, headers={"Authorization": auth})
        assert_taxii_error(r, 401)
        assert "Bearer" in r.headers["WWW-Authenticate"]
    # extra colons belong to the user part: the token after the last one
    r = fnode.get("/taxii2/", token=None, auth=("a:b", fnode.admin_token))
    assert r.status_code == 200, r.text
    assert fnode.get("/taxii2/", token=str(uuid.uuid4())).status_code == 401
