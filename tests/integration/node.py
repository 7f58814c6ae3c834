"""A real `meridian serve` for integration tests (docs/design.md, Conventions).

`start_node()` makes a data directory with `meridian init`, starts
`meridian serve` on 127.0.0.1:0 and waits for its --ready-file; `Node` then
drives the admin verbs (org, token, collection, grant) and speaks TAXII over
real HTTP with `requests`. Every server is stopped with SIGTERM and must
exit 0 with no sanitizer report. Import the `node` fixture into a test
module with `from node import node`.
"""
import datetime
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import uuid

import pytest
import requests

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TOKEN_RE = re.compile(r"mrd_[A-Za-z0-9_-]{43}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TAXII_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


TLP2_IDS = {TLP_CLEAR, TLP_GREEN, TLP_AMBER, TLP_AMBER_STRICT, TLP_RED}


def as_sent(got, sent):
    """got without what the node adds to an object created here (docs/
    federation.md): extensions `sent` did not carry (its signature), and the
    TLP marking of the collection default when `sent` had no TLP marking."""
    g = dict(got)
    ext = {k: v for k, v in g.get("extensions", {}).items()
           if k in sent.get("extensions", {})}
    g.pop("extensions", None)
    if ext:
        g["extensions"] = ext
    if "object_marking_refs" in g:
        refs = [r for r in g["object_marking_refs"]
                if r not in TLP2_IDS or r in sent.get("object_marking_refs", [])]
        if refs or "object_marking_refs" in sent:
            g["object_marking_refs"] = refs
        else:
            del g["object_marking_refs"]
    return g


def wait_for(pred, timeout=10.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    raise TimeoutError(f"condition not met within {timeout}s")


def stix_now(offset_ms=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(milliseconds=offset_ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def indicator(tlp=None, ident=None, modified=None, created=None, value="10.0.0.1", **extra):
    """A valid STIX 2.1 indicator; tlp is a marking-definition id or None."""
    created = created or "2026-01-01T00:00:00.000Z"
    o = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident or f"indicator--{uuid.uuid4()}",
        "created": created,
        "modified": modified or created,
        "name": "test indicator",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    if tlp is not None:
        o["object_marking_refs"] = [tlp]
    o.update(extra)
    return o


def pids_with_cmdline(fragment):
    """Processes whose command line (arguments joined by spaces) contains
    fragment, read from /proc: what `pgrep -f` does, without needing procps."""
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if fragment in cmd.replace(b"\0", b" ").decode(errors="replace"):
            pids.append(int(d.name))
    return pids


class Node:
    def __init__(self, meridian_bin, data, extra_args=(), http=True):
        self.bin = meridian_bin
        self.data = pathlib.Path(data)
        self.extra_args = list(extra_args)
        self.http = http
        self.proc = None
        self.url = None
        self.ca = str(self.data / "ca.pem")
        self.admin_token = None
        self.stderr_path = self.data / "stderr"
        self.starts = 0
        # serve's command prefix (e.g. `ip netns exec NS`: a node inside a
        # test's network namespace) and its TAXII/HTTP listening address
        self.exec_prefix = []
        self.listen = "127.0.0.1:0"

    # ---- the admin verbs -------------------------------------------------
    def cli(self, *args, check=True, input_text=None):
        p = subprocess.run([self.bin, *map(str, args)], capture_output=True, text=True,
                           timeout=60, input=input_text)
        assert "Sanitizer" not in p.stderr, p.stderr
        if check:
            assert p.returncode == 0, f"meridian {args}: {p.returncode}\n{p.stderr}"
        return p

    def init(self, org="own", store=None):
        """`meridian init`; store: a PostgreSQL DSN (`--store`), None: SQLite
        (or, with MERIDIAN_TEST_STORE=pg, a database of the session's
        cluster: pgcluster.py)."""
        from pgcluster import init_args  # pgcluster imports this module
        p = self.cli(*init_args(["init", "--data", self.data, "--org", org,
                                 *(("--store", store) if store else ())]))
        m = TOKEN_RE.search(p.stdout)
        assert m, f"init printed no token: {p.stdout!r}"
        self.admin_token = m.group(0)
        return self.admin_token

    def org(self, name, relation):
        self.cli("org", "create", name, "--relation", relation, "--data", self.data)
        return name

    def token(self, org):
        p = self.cli("token", "create", "--org", org, "--data", self.data)
        m = TOKEN_RE.search(p.stdout)
        assert m, p.stdout
        return m.group(0)

    def collection(self, root="api1", title=None, alias=None, grants=(("own", True, True),)):
        args = ["collection", "create", "--data", self.data, "--api-root", root, "--title",
                title or f"test {uuid.uuid4().hex[:8]}"]
        if alias:
            args += ["--alias", alias]
        p = self.cli(*args)
        m = UUID_RE.search(p.stdout)
        assert m, p.stdout
        cid = m.group(0)
        for org, read, write in grants:
            self.grant(org, cid, read, write)
        return cid

    def grant(self, org, collection, read, write):
        args = ["grant", "--data", self.data, "--org", org, "--collection", collection]
        if read:
            args.append("--read")
        if write:
            args.append("--write")
        self.cli(*args)

    # ---- the server -------------------------------------------------------
    def start(self, timeout=20):
        ready = self.data / "ready"
        if ready.exists():
            ready.unlink()
        self.starts += 1
        log = open(self.stderr_path, "a")
        args = [*self.exec_prefix, self.bin, "serve", "--data", str(self.data), "--listen",
                self.listen, "--ready-file", str(ready)] + self.extra_args
        if self.http:
            args.append("--http")
        self.proc = subprocess.Popen(args, stderr=log, stdout=subprocess.DEVNULL)
        log.close()
        try:
            wait_for(lambda: ready.exists() or self.proc.poll() is not None, timeout)
        except TimeoutError:
            self.proc.kill()
            raise
        assert self.proc.poll() is None, self.stderr()
        scheme = "http" if self.http else "https"
        self.addr = ready.read_text().strip()
        self.url = f"{scheme}://{self.addr}"
        return self

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.proc = None
        assert rc == 0, f"serve exited {rc}\n{self.stderr()[-4000:]}"
        assert "Sanitizer" not in self.stderr(), self.stderr()[-8000:]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)
        self.proc = None

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # ---- TAXII over HTTP --------------------------------------------------
    def headers(self, token="admin", accept=TAXII, **extra):
        h = {"Accept": accept}  # None: no Accept at all (requests drops it)
        if token == "admin":
            token = self.admin_token
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(extra)
        return h

    def req(self, method, path, token="admin", accept=TAXII, headers=None, timeout=30, **kw):
        h = self.headers(token, accept)
        h.update(headers or {})
        kw.setdefault("verify", self.ca)
        return requests.request(method, self.url + path, headers=h, timeout=timeout, **kw)

    def get(self, path, token="admin", **kw):
        return self.req("GET", path, token=token, **kw)

    def objects_path(self, coll, root="api1"):
        return f"/{root}/collections/{coll}/objects/"

    def post(self, coll, objects, token="admin", root="api1", **kw):
        body = json.dumps({"objects": objects}) if not isinstance(objects, (bytes, str)) \
            else objects
        h = {"Content-Type": TAXII}
        h.update(kw.pop("headers", {}))
        return self.req("POST", self.objects_path(coll, root), token=token, data=body,
                        headers=h, **kw)

    def post_ok(self, coll, objects, token="admin", root="api1"):
        r = self.post(coll, objects, token=token, root=root)
        assert r.status_code == 202, r.text
        st = r.json()
        assert st["failure_count"] == 0, st
        return st

    def page_all(self, path, token="admin", params=None, limit=None):
        """Follows more/next to the end; returns (items, pages)."""
        params = dict(params or {})
        if limit:
            params["limit"] = str(limit)
        items, pages = [], 0
        while True:
            r = self.get(path, token=token, params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            pages += 1
            items += body.get("objects", body.get("versions", []))
            if not body.get("more"):
                return items, pages
            assert "next" in body
            params["next"] = body["next"]
            assert pages < 10000


def start_node(meridian_bin, work, extra_args=(), http=True, store=None):
    pathlib.Path(work).mkdir(parents=True, exist_ok=True)
    n = Node(meridian_bin, work, extra_args, http)
    n.init(store=store)
    return n.start()


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("node"))
    yield n
    n.stop()


def ew_collections(n, token):
    """The early-warning collections token's org may list over TAXII
    (docs/notify.md): its own, or none before it was first told anything."""
    r = n.get("/early-warning/collections/", token=token)
    if r.status_code == 404:  # nobody was told anything yet: no such API root
        return []
    assert r.status_code == 200, r.text
    return r.json().get("collections", [])


def ew_objects(n, org, token):
    """Every object of org's early-warning collection, read as token."""
    colls = [c for c in ew_collections(n, token) if c.get("alias") == org]
    assert len(colls) <= 1, colls
    if not colls:
        return []
    objs, _ = n.page_all(n.objects_path(colls[0]["id"], root="early-warning"), token=token)
    return objs


def assert_taxii_error(r, status):
    """Status, TAXII content type and an error resource whose http_status
    matches (TAXII 2.1 §3.1)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type") == TAXII, r.headers
    e = r.json()
    assert isinstance(e.get("title"), str) and e["title"]
    assert e.get("http_status") == str(status)
    return e


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0")
