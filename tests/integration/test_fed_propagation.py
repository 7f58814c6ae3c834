"""Federation between real nodes on 127.0.0.1 (issue 6, docs/design.md §5-§7).

Each test starts its own `meridian serve` processes with separate data
directories and peers them with `meridian peer add`; rounds are run with
`meridian sync` (deterministic) unless a test is about the server's own
timer. The helpers here are shared by the other test_fed_*.py files.
"""
import json
import subprocess
import time
import uuid

import pytest

from node import (Node, TLP_AMBER, TLP_CLEAR, TLP_GREEN, TLP_RED, indicator, wait_for)


class Fed:
    """Nodes named A, B, C ... each with one collection in an API root."""

    def __init__(self, meridian_bin, tmp_path, sync_ms=0):
        self.bin = meridian_bin
        self.tmp = tmp_path
        self.sync_ms = sync_ms
        self.nodes = {}
        self.coll = {}

    def node(self, name, root="europe", start=True):
        n = Node(self.bin, self.tmp / name, extra_args=["--sync-interval", str(self.sync_ms)])
        n.init(org="own")
        self.nodes[name] = n
        self.coll[name] = n.collection(root=root, title=f"{name} shared")
        n.root = root
        if start:
            n.start()
        return n

    def link(self, server, client, direction="pull", community=None, pubkey=True):
        """Lets `client` sync with `server`: an org and token for the client
        on the server, read+write on the server's collection, and a peer
        entry on the client."""
        s, c = self.nodes[server], self.nodes[client]
        s.org(client, "partner")
        tok = s.token(client)
        s.grant(client, self.coll[server], True, True)
        args = ["peer", "add", server, "--data", c.data, "--url", s.url, "--api-root", s.root,
                "--collection", self.coll[server], "--local-collection", self.coll[client],
                "--token", tok, "--direction", direction,
                "--community", community or s.root]
        if pubkey:
            args += ["--pubkey", self.pubkey(server)]
        c.cli(*args)
        return tok

    def pubkey(self, name):
        n = self.nodes[name]
        p = n.cli("key", "show", "--data", n.data, check=False)
        if p.returncode != 0:
            n.cli("key", "create", "--data", n.data)
            p = n.cli("key", "show", "--data", n.data)
        return p.stdout.strip()

    def sync(self, name, check=True, peer=None):
        n = self.nodes[name]
        args = ["sync", "--data", n.data]
        if peer:
            args += ["--peer", peer]
        p = n.cli(*args, check=False)
        if check:
            assert p.returncode == 0, p.stdout + p.stderr
        return p

    def ids(self, name, token="admin"):
        n = self.nodes[name]
        items, _ = n.page_all(n.objects_path(self.coll[name], n.root), token=token)
        return {o["id"] for o in items}

    def objects(self, name):
        n = self.nodes[name]
        items, _ = n.page_all(n.objects_path(self.coll[name], n.root))
        return items

    def post(self, name, objs):
        n = self.nodes[name]
        return n.post_ok(self.coll[name], objs, root=n.root)

    def stop(self):
        for n in self.nodes.values():
            n.stop()


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def chain(fed, direction="pull"):
    """A <- B <- C: B syncs with A, C syncs with B."""
    for name in "ABC":
        fed.node(name)
    fed.link("A", "B", direction)
    fed.link("B", "C", direction)


def test_propagation_a_b_c_by_pull(fed):
    chain(fed)
    ind = indicator(tlp=TLP_CLEAR)
    fed.post("A", [ind])
    fed.sync("B")
    assert ind["id"] in fed.ids("B")
    assert ind["id"] not in fed.ids("C")
    fed.sync("C")
    assert ind["id"] in fed.ids("C")
    # the bytes travelled unchanged, signature included
    at_c = [o for o in fed.objects("C") if o["id"] == ind["id"]][0]
    at_a = [o for o in fed.objects("A") if o["id"] == ind["id"]][0]
    assert at_c == at_a
    # a second round is a no-op: nothing new, nothing duplicated
    p = fed.sync("C")
    assert "pulled=0" in p.stdout, p.stdout
    assert len([o for o in fed.objects("C") if o["id"] == ind["id"]]) == 1


def test_propagation_by_push(fed):
    for name in "ABC":
        fed.node(name)
    # A pushes to B, B pushes to C: the peers are entered on the pushing side
    fed.link("B", "A", "push")
    fed.link("C", "B", "push")
    ind = indicator(tlp=TLP_GREEN)
    fed.post("A", [ind])
    p = fed.sync("A")
    assert "pushed=1" in p.stdout, p.stdout
    assert ind["id"] in fed.ids("B")
    # provenance: B records that A (its partner org "A") pushed it
    import requests
    b = fed.nodes["B"]
    r = requests.get(f"{b.url}/api/v1/verification/{fed.coll['B']}/",
                     headers={"Authorization": f"Bearer {b.admin_token}"}, timeout=10)
    [e] = [e for e in r.json()["objects"] if e["id"] == ind["id"]]
    assert e["source_peer"] == "A", e
    fed.sync("B")
    assert ind["id"] in fed.ids("C")
    # nothing new: the push cursor moved
    p = fed.sync("A")
    assert "pushed=0" in p.stdout, p.stdout


def test_tlp_amber_one_hop_red_never(fed):
    chain(fed)
    amber = indicator(tlp=TLP_AMBER, value="10.1.0.1")
    red = indicator(tlp=TLP_RED, value="10.1.0.2")
    clear = indicator(tlp=TLP_CLEAR, value="10.1.0.3")
    fed.post("A", [amber, red, clear])
    fed.sync("B")
    at_b = fed.ids("B")
    assert amber["id"] in at_b          # one hop: created at A
    assert red["id"] not in at_b        # RED never leaves A
    assert clear["id"] in at_b
    fed.sync("C")
    at_c = fed.ids("C")
    assert clear["id"] in at_c
    assert amber["id"] not in at_c      # not created at B: stops there
    assert red["id"] not in at_c


def test_tlp_push_obeys_policy_too(fed):
    for name in "ABC":
        fed.node(name)
    fed.link("B", "A", "push")
    fed.link("C", "B", "push")
    amber = indicator(tlp=TLP_AMBER, value="10.2.0.1")
    red = indicator(tlp=TLP_RED, value="10.2.0.2")
    clear = indicator(tlp=TLP_CLEAR, value="10.2.0.3")
    fed.post("A", [amber, red, clear])
    fed.sync("A")
    assert fed.ids("B") >= {amber["id"], clear["id"]}
    assert red["id"] not in fed.ids("B")
    fed.sync("B")
    at_c = fed.ids("C")
    assert clear["id"] in at_c
    assert amber["id"] not in at_c and red["id"] not in at_c


def test_green_stops_at_community_boundary(fed):
    # A is in community "europe"; B takes A's objects into a collection of its
    # API root "africa" (the community it shares with C), but they keep the
    # community they arrived in: europe.
    fed.node("A", root="europe")
    fed.node("B", root="africa")
    fed.node("C", root="africa")
    fed.link("A", "B", "pull", community="europe")
    fed.link("B", "C", "pull", community="africa")
    fed.link("C", "B", "push", community="africa")
    green = indicator(tlp=TLP_GREEN, value="10.3.0.1")
    clear = indicator(tlp=TLP_CLEAR, value="10.3.0.2")
    fed.post("A", [green, clear])
    fed.sync("B", peer="A")
    assert fed.ids("B") >= {green["id"], clear["id"]}
    # neither C's pull nor B's push carries GREEN out of europe
    fed.sync("C")
    fed.sync("B", peer="C")
    at_c = fed.ids("C")
    assert clear["id"] in at_c
    assert green["id"] not in at_c
    # while GREEN created in africa at B does travel to C
    local = indicator(tlp=TLP_GREEN, value="10.3.0.3")
    fed.post("B", [local])
    fed.sync("C")
    assert local["id"] in fed.ids("C")


def test_cycles_end_by_themselves(fed):
    for name in "AB":
        fed.node(name)
    fed.link("A", "B", "both")
    fed.link("B", "A", "both")
    ind = indicator(tlp=TLP_CLEAR, value="10.4.0.1")
    fed.post("A", [ind])
    for _ in range(3):
        fed.sync("A")
        fed.sync("B")
    for name in "AB":
        objs = [o for o in fed.objects(name) if o["id"] == ind["id"]]
        assert len(objs) == 1, (name, objs)


def test_restart_mid_sync_loses_and_duplicates_nothing(fed):
    chain(fed)
    total = 8000
    objs = [indicator(tlp=TLP_CLEAR, value=f"10.5.{i // 250}.{i % 250}") for i in range(total)]
    for i in range(0, len(objs), 500):
        fed.post("A", objs[i:i + 500])
    b = fed.nodes["B"]
    # a sync that dies in the middle (SIGKILL of the syncing process): it is
    # killed as soon as its first pages are committed on B, and the test
    # proves it had not finished (fewer than all objects on B, and the
    # process still running when killed)
    p = subprocess.Popen([fed.bin, "sync", "--data", str(b.data)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        wait_for(lambda: p.poll() is not None or len(fed.ids("B")) > 0, timeout=120, step=0.05)
        assert p.poll() is None, "the sync ended before it could be killed mid-way"
    finally:
        p.kill()
        p.wait(timeout=20)
    at_kill = len(fed.ids("B"))
    assert 0 < at_kill < total, f"{at_kill} of {total} objects: the kill was not mid-sync"
    # and a server that dies as well
    b.kill9()
    b.start()
    fed.sync("B")
    items = fed.objects("B")
    ids = [o["id"] for o in items]
    assert len(ids) == len(set(ids)) == total
    assert set(ids) == {o["id"] for o in objs}


def test_peer_down_catches_up(fed):
    chain(fed)
    a = fed.nodes["A"]
    first = indicator(tlp=TLP_CLEAR, value="10.6.0.1")
    fed.post("A", [first])
    fed.sync("B")
    port_url = a.url
    a.stop()
    p = fed.sync("B", check=False)
    assert p.returncode == 1 and "FAILED" in p.stdout, p.stdout
    lst = fed.nodes["B"].cli("peer", "list", "--data", fed.nodes["B"].data).stdout
    assert "failures 1" in lst and "last error" in lst, lst
    # back up on the same address (the peer entry names it)
    host, port = port_url.split("//")[1].split(":")
    a.extra_args += ["--listen", f"{host}:{port}"]
    a.start()
    assert a.url == port_url
    later = [indicator(tlp=TLP_CLEAR, value=f"10.6.1.{i}") for i in range(20)]
    fed.post("A", later)
    fed.sync("B")
    fed.sync("C")
    assert {o["id"] for o in later} | {first["id"]} <= fed.ids("C")
    lst = fed.nodes["B"].cli("peer", "list", "--data", fed.nodes["B"].data).stdout
    assert "failures 0" in lst, lst


def test_one_dead_peer_does_not_delay_the_others(fed, tmp_path):
    import socket
    for name in "AB":
        fed.node(name)
    fed.link("A", "B", "pull")
    # a peer that accepts connections and never answers
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    b = fed.nodes["B"]
    b.cli("peer", "add", "zz-silent", "--data", b.data, "--url", f"http://127.0.0.1:{port}",
          "--api-root", "x", "--collection", str(uuid.uuid4()), "--local-collection",
          fed.coll["B"], "--token", "t", "--direction", "pull", "--community", "europe")
    ind = indicator(tlp=TLP_CLEAR, value="10.7.0.1")
    fed.post("A", [ind])
    # with the server's own timer: A's objects arrive while the silent peer hangs
    b.stop()
    b.extra_args = ["--sync-interval", "200"]
    b.start()
    t0 = time.monotonic()
    wait_for(lambda: ind["id"] in fed.ids("B"), timeout=10)
    assert time.monotonic() - t0 < 5
    silent.close()


def test_peer_verbs(fed):
    fed.node("A")
    b = fed.node("B")
    fed.link("A", "B", "pull")
    out = b.cli("peer", "list", "--data", b.data).stdout
    assert out.startswith("A\tenabled\tpull\t")
    assert "mrd_" not in out  # tokens are never printed
    b.cli("peer", "disable", "A", "--data", b.data)
    assert "\tdisabled\t" in b.cli("peer", "list", "--data", b.data).stdout
    ind = indicator(tlp=TLP_CLEAR)
    fed.post("A", [ind])
    fed.sync("B")
    assert ind["id"] not in fed.ids("B")
    b.cli("peer", "enable", "A", "--data", b.data)
    fed.sync("B")
    assert ind["id"] in fed.ids("B")
    p = b.cli("peer", "add", "A", "--data", b.data, "--url", "http://x", "--api-root", "r",
              "--collection", "c", "--local-collection", fed.coll["B"], "--token", "t",
              "--direction", "pull", "--community", "x", check=False)
    assert p.returncode == 2 and "already exists" in p.stderr
    p = b.cli("peer", "add", "Q", "--data", b.data, "--url", "ftp://x", "--api-root", "r",
              "--collection", "c", "--local-collection", fed.coll["B"], "--token", "t",
              "--direction", "pull", check=False)
    assert p.returncode == 2 and "--url" in p.stderr
    p = b.cli("peer", "add", "Q", "--data", b.data, "--url", "http://x", "--api-root", "r",
              "--collection", "c", "--local-collection", fed.coll["B"], "--token", "t",
              "--direction", "sideways", check=False)
    assert p.returncode == 2 and "direction" in p.stderr
    p = b.cli("peer", "add", "Q", "--data", b.data, "--url", "http://x", "--api-root", "r",
              "--collection", "c", "--local-collection", fed.coll["B"], "--token", "t",
              "--direction", "pull", "--pubkey", "ed25519:nope", check=False)
    assert p.returncode == 2 and "pubkey" in p.stderr
    b.cli("peer", "remove", "A", "--data", b.data)
    assert b.cli("peer", "list", "--data", b.data).stdout == ""
    p = b.cli("peer", "remove", "A", "--data", b.data, check=False)
    assert p.returncode == 2 and "no peer named" in p.stderr


def test_pulled_copy_of_a_hidden_version_reads_back_like_a_new_one(fed):
    """A peer that serves a version A holds only as RED (a guessed id and
    version, or an SCO's deterministic id) and then reads A over TAXII as
    its org must get its own copy back, as for any object it served: not
    a 404 that says A holds the RED one (the POST read-back oracle, through
    a pull)."""
    a = fed.node("A")
    fed.node("B")
    fed.link("B", "A", "pull")  # A pulls from B
    a.org("B", "partner")  # B's org on A, which B reads A with
    tok = a.token("B")
    a.grant("B", fed.coll["A"], True, False)
    hidden = indicator(tlp=TLP_RED, value="10.7.0.1")
    fed.post("A", [hidden])
    probe = dict(hidden, name="B's copy", object_marking_refs=[TLP_CLEAR])
    fresh = indicator(tlp=TLP_CLEAR, value="10.7.0.2")
    fed.post("B", [probe, fresh])
    fed.sync("A")
    base = a.objects_path(fed.coll["A"], a.root)
    for o in (probe, fresh):
        r = a.get(base + f"{o['id']}/", token=tok)
        assert r.status_code == 200, (o["id"], r.status_code)
        assert [x["name"] for x in r.json()["objects"]] == [o["name"]]
    # A's own org still gets its RED original, once
    own = a.get(base + f"{hidden['id']}/").json()["objects"]
    assert [x["object_marking_refs"] for x in own] == [[TLP_RED]]
