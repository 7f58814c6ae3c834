"""The request pattern of the OASIS taxii2-client (v2.3, `taxii2client.v21`),
replayed with requests since the library is not packaged for Debian: its
Content-Type check, its Status validation, and `as_pages` (limit, then
`next` with the same filters, falsy parameters dropped)."""
import requests

from node import TAXII, indicator, node  # noqa: F401 (fixture)


class Client:
    """What taxii2client's _HTTPConnection does on each call."""

    def __init__(self, node, user="taxii2-client", password=None):
        self.s = requests.Session()
        self.s.verify = node.ca
        self.s.auth = requests.auth.HTTPBasicAuth(user, password or node.admin_token)
        self.s.headers["User-Agent"] = "taxii2-client/2.3.0"
        self.base = node.url

    @staticmethod
    def valid_content_type(content_type, accept):
        accept_tokens = accept.replace(" ", "").split(";")
        ct_tokens = content_type.replace(" ", "").split(";")
        return all(t in ct_tokens for t in accept_tokens) and ct_tokens[0] == \
            "application/taxii+json"

    def get(self, url, params=None, accept=TAXII):
        params = {k: v for k, v in (params or {}).items() if v}  # falsy values dropped
        r = self.s.get(url if url.startswith("http") else self.base + url,
                       headers={"Accept": accept}, params=params, timeout=30)
        r.raise_for_status()
        assert self.valid_content_type(r.headers["Content-Type"], accept), r.headers
        return r.json()

    def post(self, url, envelope):
        r = self.s.post(self.base + url, json=envelope, timeout=30,
                        headers={"Accept": TAXII, "Content-Type": TAXII})
        r.raise_for_status()
        return r.json()

    def as_pages(self, url, per_request=0, **filters):
        params = {("match[%s]" % k if k not in ("added_after",) else k): v
                  for k, v in filters.items()}
        env = self.get(url, dict(params, limit=per_request))
        yield env
        total = len(env.get("objects", []))
        if env.get("more", False) and total != per_request:
            per_request = total
        while env.get("more", False):
            env = self.get(url, dict(params, limit=per_request, next=env.get("next", "")))
            yield env


def validate_status(st):
    for k in ("id", "status", "total_count", "success_count", "failure_count",
              "pending_count"):
        assert st.get(k) is not None, k
    for k, c in (("successes", "success_count"), ("failures", "failure_count"),
                 ("pendings", "pending_count")):
        if st.get(k):
            assert len(st[k]) == st[c]
    assert st["success_count"] + st["pending_count"] + st["failure_count"] == st["total_count"]


def test_client_flow(node):
    node.collection("clientroot", title="client flow", alias="flow")
    c = Client(node)
    disc = c.get("/taxii2/")
    assert disc["title"]
    root_url = node.url + disc["api_roots"][disc["api_roots"].index("/clientroot/")]
    root = c.get(root_url)
    assert TAXII in root["versions"] and root["max_content_length"] > 0
    colls = c.get(root_url + "collections/")["collections"]
    coll = next(x for x in colls if x.get("alias") == "flow")
    assert coll["id"] and coll["title"] and coll["can_read"] and coll["can_write"]
    curl = root_url + "collections/" + coll["id"] + "/"
    assert c.get(curl)["id"] == coll["id"]
    objs = [indicator() for _ in range(23)]
    st = c.post(curl.replace(node.url, "") + "objects/", {"objects": objs})
    validate_status(st)
    assert st["status"] == "complete" and st["success_count"] == 23
    # Status.refresh()
    validate_status(c.get(root_url + "status/" + st["id"] + "/"))
    # as_pages(collection.get_objects, per_request=5, type="indicator")
    got = []
    for env in c.as_pages(curl + "objects/", per_request=5, type="indicator"):
        got += env.get("objects", [])
    assert [o["id"] for o in got] == [o["id"] for o in objs]
    # as_pages without per_request: limit=0 is dropped, the server's page size applies
    pages = list(c.as_pages(curl + "manifest/"))
    assert len(pages) == 1 and len(pages[0]["objects"]) == 23
    # get_object / object_versions / delete_object
    one = objs[5]["id"]
    assert c.get(curl + "objects/" + one + "/")["objects"][0]["id"] == one
    assert c.get(curl + "objects/" + one + "/versions/")["versions"] == [objs[5]["modified"]]
    r = c.s.delete(curl + "objects/" + one + "/", headers={"Accept": TAXII}, timeout=30)
    assert r.status_code == 200
    # 406 for a TAXII 2.0 client (its error message path)
    r = c.s.get(root_url, headers={"Accept": "application/vnd.oasis.taxii+json; version=2.0"},
                timeout=30)
    assert r.status_code == 406
