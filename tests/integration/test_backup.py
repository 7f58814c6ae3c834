"""Backup and restore of a node (docs/operations.md): `meridian backup` of a
running node under write load, `meridian restore` elsewhere, then the
restored node's ledger, evidence export and peers; truncated and altered
backups refused; `kill -9` during a backup."""
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from node import Node, TLP_CLEAR, indicator, wait_for
from pgcluster import sqlite_only

# `meridian backup` archives SQLite's online snapshot of meridian.db; a node
# on PostgreSQL is backed up with PostgreSQL's tools and refused here
# (test_store_pg.py, test_store_copy.py; docs/store.md "Backups on PostgreSQL")
pytestmark = sqlite_only
from test_fed_propagation import Fed

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def backup(n, out, check=True):
    p = n.cli("backup", "--data", n.data, "-o", out, check=check)
    if check:
        assert HEX64.match(p.stdout.strip()), p.stdout
        assert hashlib.sha256(open(out, "rb").read()).hexdigest() == p.stdout.strip()
    return p


def restore(n, archive, target, check=True):
    return n.cli("restore", archive, "--data", target, check=check)


def sqlite_count(data, sql):
    import sqlite3
    con = sqlite3.connect(f"file:{data}/meridian.db?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


class Writer(threading.Thread):
    """POSTs envelopes of 20 new indicators until stopped; remembers the
    ids each 202 acknowledged, with the time it was answered."""

    def __init__(self, node, coll):
        super().__init__(daemon=True)
        self.node, self.coll = node, coll
        self.stop_flag = threading.Event()
        self.acked = []  # (time, [ids])
        self.errors = []

    def run(self):
        while not self.stop_flag.is_set():
            objs = [indicator(tlp=TLP_CLEAR, value=f"10.9.{len(self.acked) % 250}.{i}")
                    for i in range(20)]
            try:
                r = self.node.post(self.coll, objs)
            except Exception as e:  # the server stopped: the test says so
                self.errors.append(repr(e))
                return
            if r.status_code == 202 and r.json()["failure_count"] == 0:
                self.acked.append((time.monotonic(), [o["id"] for o in objs]))
            else:
                self.errors.append(r.text)


def test_backup_under_write_load_restores_a_node_that_verifies(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "a", extra_args=["--checkpoint-interval", "1"])
    n.init()
    coll = n.collection()
    n.start()
    w = Writer(n, coll)
    try:
        w.start()
        wait_for(lambda: len(w.acked) >= 10, timeout=60)
        t_start = time.monotonic()
        before_ids = {i for t, ids in w.acked if t <= t_start for i in ids}
        archive = tmp_path / "node.backup"
        p = backup(n, archive)
        after = len(w.acked)
        time.sleep(0.5)
        assert len(w.acked) > after or not w.errors, w.errors  # still accepting writes
    finally:
        w.stop_flag.set()
        w.join(timeout=30)
    assert not w.errors, w.errors
    assert "object versions" in p.stderr
    assert oct(os.stat(archive).st_mode & 0o777) == "0o600"
    assert not (tmp_path / "node.backup.partial").exists()
    n.stop()

    target = tmp_path / "restored"
    r = restore(n, archive, target)
    assert "verified" in r.stderr, r.stderr
    # the ledger verifies, with the node key, and covers every stored version
    v = n.cli("ledger", "verify", "--data", target)
    assert v.stdout.startswith("ok:"), v.stdout
    stored = sqlite_count(target, "SELECT COUNT(*) FROM objects")
    recorded = sqlite_count(target, "SELECT COUNT(*) FROM object_leaves")
    assert stored == recorded and stored >= len(before_ids)

    # the restored node serves what was acknowledged before the backup began
    m = Node(meridian_bin, target)
    m.admin_token = n.admin_token
    m.start()
    try:
        have, _ = m.page_all(m.objects_path(coll))
        have = {o["id"] for o in have}
        assert before_ids <= have, len(before_ids - have)
        # it keeps working: a new write is recorded in the ledger
        new = indicator(tlp=TLP_CLEAR, value="10.10.10.10")
        m.post_ok(coll, [new])
        some = sorted(before_ids)[0]
        hold = m.cli("hold", "create", "--data", target, "--case", "R-1", "--authority", "test",
                     "--reason", "restore test", "--object", some, "--object", new["id"])
        assert hold.stdout.strip()
        wait_for(lambda: m.cli("evidence", "export", "--data", target, "--case", "R-1", "-o",
                               tmp_path / "case.tar", check=False).returncode == 0, timeout=20,
                 step=0.5)
        key = m.cli("key", "show", "--data", target).stdout.strip()
        ev = m.cli("evidence", "verify", tmp_path / "case.tar", "--pubkey", key)
        assert ev.returncode == 0, ev.stderr
    finally:
        m.stop()


@pytest.fixture(scope="module")
def small_backup(tmp_path_factory, meridian_bin):
    """A node with some objects, a hold and a checkpoint, and its backup."""
    work = tmp_path_factory.mktemp("small")
    n = Node(meridian_bin, work / "a")
    n.init()
    coll = n.collection()
    n.start()
    objs = [indicator(tlp=TLP_CLEAR, value=f"10.1.1.{i}") for i in range(30)]
    n.post_ok(coll, objs)
    n.stop()
    n.cli("ledger", "checkpoint", "--data", n.data)
    archive = work / "a.backup"
    backup(n, archive)
    return n, archive, work


def members(archive):
    """(name, header offset, data offset, size) of each tar member."""
    out, data, off = [], open(archive, "rb").read(), 0
    while off + 512 <= len(data) and any(data[off:off + 512]):
        h = data[off:off + 512]
        name = h[:100].rstrip(b"\0").decode()
        size = int(h[124:136].rstrip(b"\0 ").decode(), 8)
        out.append((name, off, off + 512, size))
        off += 512 + (size + 511) // 512 * 512
    return out


def test_backup_members_and_manifest(small_backup):
    n, archive, _ = small_backup
    names = [m[0] for m in members(archive)]
    for want in ("meridian.db", "fed.db", "ledger/log", "ledger/checkpoint", "node.key",
                 "cert.pem", "key.pem", "ca.pem", "manifest.json", "seal"):
        assert want in names, names
    assert names[-2:] == ["manifest.json", "seal"]
    raw = open(archive, "rb").read()
    _, _, mo, ms = [m for m in members(archive) if m[0] == "manifest.json"][0]
    man = json.loads(raw[mo:mo + ms])
    assert man["format"] == "meridian-backup-1"
    assert man["store"]["objects"] == 30
    assert man["ledger"]["size"] >= 30 and man["ledger"]["checkpoint_size"] == man["ledger"]["size"]
    for e in man["members"]:
        _, _, do, ds = [m for m in members(archive) if m[0] == e["name"]][0]
        assert hashlib.sha256(raw[do:do + ds]).hexdigest() == e["sha256"]
    _, _, so, ss = [m for m in members(archive) if m[0] == "seal"][0]
    seal_hdr = so - 512
    assert raw[so:so + ss].decode() == \
        "meridian-backup-1 sha256 " + hashlib.sha256(raw[:seal_hdr]).hexdigest() + "\n"
    # verify agrees, and prints the file's SHA-256
    p = n.cli("backup", "verify", archive)
    assert p.stdout.strip() == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("where", ["meridian.db", "ledger/log", "node.key", "manifest.json",
                                   "header", "seal", "end"])
def test_altered_backup_is_refused(small_backup, tmp_path, where):
    n, archive, _ = small_backup
    raw = bytearray(open(archive, "rb").read())
    ms = {m[0]: m for m in members(archive)}
    if where == "header":
        raw[ms["cert.pem"][1] + 5] ^= 1  # a byte of a member's name
    elif where == "end":
        raw += b"x" * 10
    else:
        _, _, do, ds = ms[where]
        raw[do + ds // 2] ^= 0x20
    bad = tmp_path / "bad.backup"
    bad.write_bytes(bytes(raw))
    target = tmp_path / "r"
    p = restore(n, bad, target, check=False)
    assert p.returncode == 1, p.stderr
    msg = p.stderr
    if where in ("meridian.db", "ledger/log", "node.key"):
        assert f"member {where} was altered" in msg, msg
    elif where == "end":
        assert "after the end" in msg, msg
    else:
        assert "altered" in msg or "checksum" in msg or "malformed" in msg, msg
    assert "nothing was restored" in msg
    assert not target.exists() or not any(target.iterdir())
    v = n.cli("backup", "verify", bad, check=False)
    assert v.returncode == 1


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.99, -1030, -100])
def test_truncated_backup_is_refused(small_backup, tmp_path, cut):
    n, archive, _ = small_backup
    raw = open(archive, "rb").read()
    keep = int(len(raw) * cut) if cut > 0 else len(raw) + cut
    bad = tmp_path / "short.backup"
    bad.write_bytes(raw[:keep])
    target = tmp_path / "r"
    p = restore(n, bad, target, check=False)
    assert p.returncode == 1, p.stderr
    assert "truncated" in p.stderr or "incomplete" in p.stderr, p.stderr
    assert not target.exists() or not any(target.iterdir())


def test_restore_never_overwrites_a_node(small_backup, tmp_path):
    n, archive, _ = small_backup
    p = restore(n, archive, n.data, check=False)
    assert p.returncode == 2 and "not empty" in p.stderr


def test_a_store_without_its_ledger_is_refused(small_backup, tmp_path):
    """The old advice (copy meridian.db) gave a node whose ledger restarted
    at zero; now the mismatch is an error that says what to do."""
    n, _, _ = small_backup
    d = tmp_path / "copied"
    d.mkdir()
    for f in ("meridian.db", "node.key"):
        (d / f).write_bytes((n.data / f).read_bytes())
        os.chmod(d / f, 0o600)
    args = [n.bin, "serve", "--data", str(d), "--http", "--listen", "127.0.0.1:0"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "not this database's ledger" in p.stderr and "meridian restore" in p.stderr
    assert not (d / "ledger" / "log").exists() or (d / "ledger" / "log").stat().st_size == 0


def test_kill9_during_backup_leaves_node_and_earlier_backup(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "a")
    n.init()
    coll = n.collection()
    n.start()
    try:
        for k in range(40):
            n.post_ok(coll, [indicator(tlp=TLP_CLEAR, value=f"10.2.{k}.{i}",
                                       description="x" * 2000) for i in range(50)])
        archive = tmp_path / "a.backup"
        backup(n, archive)
        first = open(archive, "rb").read()
        killed = False
        for _ in range(20):  # catch it while it writes
            proc = subprocess.Popen([meridian_bin, "backup", "--data", str(n.data), "-o",
                                     str(archive)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            partial = tmp_path / "a.backup.partial"
            try:
                wait_for(lambda: partial.exists() and partial.stat().st_size > 0
                         or proc.poll() is not None, timeout=30, step=0.001)
            except TimeoutError:
                pass
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                killed = True
                break
            proc.wait()
            first = open(archive, "rb").read()  # it finished: that is the earlier one now
        assert killed, "the backup always finished before it could be killed"
        assert open(archive, "rb").read() == first
        assert n.cli("backup", "verify", archive).returncode == 0
        # the node is untouched and still serving
        n.post_ok(coll, [indicator(tlp=TLP_CLEAR, value="10.3.3.3")])
        # and the next backup works (the leftover partial file is reused)
        backup(n, archive)
        assert not (tmp_path / "a.backup.partial").exists()
    finally:
        n.stop()
    assert n.cli("ledger", "verify", "--data", n.data).stdout.startswith("ok:")


def test_restored_peer_resumes_from_its_cursor(meridian_bin, tmp_path):
    fed = Fed(meridian_bin, tmp_path)
    try:
        fed.node("A")
        b = fed.node("B")
        fed.link("A", "B")
        fed.post("A", [indicator(tlp=TLP_CLEAR, value=f"10.4.4.{i}") for i in range(25)])
        p = fed.sync("B")
        assert "pulled=25" in p.stdout, p.stdout
        archive = tmp_path / "b.backup"
        backup(b, archive)
        b.stop()
        target = tmp_path / "b2"
        restore(b, archive, target)
        b2 = Node(meridian_bin, target, extra_args=["--sync-interval", "0"])
        b2.admin_token, b2.root = b.admin_token, b.root
        b2.start()
        fed.nodes["B"] = b2
        # the cursor came back: nothing is pulled again, not even as duplicates
        p = fed.sync("B")
        assert "pulled=0 duplicates=0" in p.stdout, p.stdout
        fed.post("A", [indicator(tlp=TLP_CLEAR, value="10.4.5.1")])
        p = fed.sync("B")
        assert "pulled=1 duplicates=0" in p.stdout, p.stdout
        assert len(fed.ids("B")) == 26
    finally:
        fed.stop()


# Undo scripts of the migrations after the lifecycle one, newest first:
# downgrade_lifecycle runs them before undoing the lifecycle columns.
AFTER_LIFECYCLE = [
    # 19 -> 20: no table changes (access_pages.packed may hold merged rows)
    "",
    # 18 -> 19: the aggregate trigger paused for batches (the trigger put back
    # here is dropped by the undo of 10 -> 11 below, which every caller runs)
    "DROP TRIGGER agg_insert; DROP TABLE agg_paused;"
    " CREATE TRIGGER agg_insert AFTER INSERT ON objects BEGIN SELECT 1; END;",
    "ALTER TABLE access_pages DROP COLUMN packed;",  # 17 -> 18: packed audit pages
    "DROP INDEX notifications_seq;",  # 16 -> 17: notifications by seq (erasure)
    # 15 -> 16: the access audit, one row per page (access_reads, which it
    # replaced, would be dropped again by the next undo: not re-created)
    "DROP TRIGGER access_pages_no_update; DROP TRIGGER access_pages_no_delete;"
    " DROP TABLE access_pages;",
    "DROP TABLE access_digests;",  # 14 -> 15: the access audit
    "DROP TABLE delivery_attempts;",  # 13 -> 14: delivery attempts
    # 12 -> 13: early-warning delivery
    "DROP TABLE delivery_items; DROP TABLE deliveries; DROP TABLE contacts;",
    "DROP TABLE feed_items; DROP TABLE feeds;",  # 11 -> 12: scheduled feeds
    # 10 -> 11: the overview's aggregates
    "DROP TRIGGER agg_insert; DROP TRIGGER agg_insert_sighting; DROP TRIGGER agg_delete;"
    "DROP TRIGGER agg_delete_sighting; DROP TRIGGER agg_moved;"
    "DROP TRIGGER agg_update_sighting_old; DROP TRIGGER agg_update_sighting_new;"
    "DROP TABLE agg_keys; DROP TABLE agg_objects; DROP TABLE agg_sightings;"
    "DROP TABLE agg_sighted; DROP TABLE agg_sent; DROP INDEX objects_from_peers;",
    "DROP TABLE text_index; DROP TABLE ref_index;"
    " DELETE FROM meta WHERE key = 'text_index';",  # 9 -> 10: free text and references
    "DROP TABLE notifications; DROP TABLE assets;",  # 8 -> 9: early warning
]


def downgrade_lifecycle(data):
    """Turns a current database back into the schema before the lifecycle
    columns (and the migrations after it, AFTER_LIFECYCLE), as an older
    Meridian left it; returns (that version, the current one)."""
    import sqlite3
    con = sqlite3.connect(data / "meridian.db")
    cur = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    old = cur - 1 - len(AFTER_LIFECYCLE)
    con.executescript(
        "".join(AFTER_LIFECYCLE) +
        "DROP INDEX tokens_prev;"
        "ALTER TABLE tokens DROP COLUMN expires; ALTER TABLE tokens DROP COLUMN last_used;"
        "ALTER TABLE tokens DROP COLUMN prev_hash; ALTER TABLE tokens DROP COLUMN prev_expires;"
        "ALTER TABLE tokens DROP COLUMN prev_last_used;"
        "ALTER TABLE orgs DROP COLUMN disabled; ALTER TABLE orgs DROP COLUMN deleted;"
        f"UPDATE schema_version SET version = {old};")
    con.commit()
    con.close()
    return old, cur


def test_migrate_with_progress_on_a_terminal_only(tmp_path, meridian_bin):
    import pty
    n = Node(meridian_bin, tmp_path / "a")
    n.init()
    coll = n.collection()
    n.start()
    n.post_ok(coll, [indicator(tlp=TLP_CLEAR, value=f"10.8.8.{i}") for i in range(20)])
    n.stop()
    old, new = downgrade_lifecycle(n.data)
    # not a terminal: silent apart from the one-line summary
    p = n.cli("migrate", "--data", n.data)
    assert f"schema {old} -> {new}" in p.stderr and "migrating" not in p.stderr
    assert sqlite_count(n.data, "SELECT MAX(version) FROM schema_version") == new
    assert sqlite_count(n.data, "SELECT COUNT(*) FROM objects") == 20
    # the migration built the overview's aggregates from the stored rows
    assert sqlite_count(n.data, "SELECT SUM(n) FROM agg_objects") == 20
    assert f"at schema {new} already" in n.cli("migrate", "--data", n.data).stderr
    # on a terminal: progress
    downgrade_lifecycle(n.data)
    master, slave = pty.openpty()
    proc = subprocess.Popen([meridian_bin, "migrate", "--data", str(n.data)], stderr=slave,
                            stdout=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    text = out.decode(errors="replace")
    steps = new - old
    assert f"migrating the database from schema {old} to {new}: step 1/{steps}" in text, text
    assert f"migrated the database from schema {old} to {new} in" in text, text
    # the migrated node serves, with its tokens
    n.start()
    try:
        assert len(n.page_all(n.objects_path(coll))[0]) == 20
    finally:
        n.stop()


def test_backup_written_into_the_data_directory_leaves_itself_out(small_backup, tmp_path):
    n, _, _ = small_backup
    inside = n.data / "self.backup"
    backup(n, inside)
    names = [m[0] for m in members(inside)]
    assert "self.backup" not in names and not any(x.startswith("self.backup") for x in names)
    backup(n, inside)  # again, with the first one present
    names = [m[0] for m in members(inside)]
    assert not any(x.startswith("self.backup") for x in names), names
    inside.unlink()


def test_restore_refuses_database_side_files(small_backup, tmp_path):
    """A member named like the database's WAL would change the restored
    database behind the snapshot's back: refused even when well sealed."""
    n, archive, _ = small_backup
    raw = open(archive, "rb").read()
    ms = members(archive)
    name, off, do, ds = [m for m in ms if m[0] == "ca.pem"][0]
    h = bytearray(raw[off:off + 512])
    h[0:100] = b"meridian.db-wal".ljust(100, b"\0")
    h[148:156] = b" " * 8
    h[148:155] = format(sum(h), "o").rjust(6, "0").encode() + b"\0"
    bad = tmp_path / "wal.backup"
    bad.write_bytes(raw[:off] + bytes(h) + raw[off + 512:])
    p = restore(n, bad, tmp_path / "r", check=False)
    assert p.returncode == 1 and "unexpected" in p.stderr, p.stderr


def test_max_rate_holds_the_backup_under_its_rate(tmp_path, meridian_bin):
    """--max-rate spreads the backup out so that the node serving beside it
    keeps its speed: the store counts twice (copied, then read back for its
    SHA-256), so the backup takes at least 2 x store / rate; the archive is
    as good as an unpaced one."""
    n = Node(meridian_bin, tmp_path / "a")
    n.init()
    coll = n.collection()
    n.start()
    try:
        for k in range(10):
            n.post_ok(coll, [indicator(tlp=TLP_CLEAR, value=f"10.4.{k}.{i}",
                                       description="y" * 2000) for i in range(50)])
        archive = tmp_path / "paced.backup"
        t0 = time.monotonic()
        p = n.cli("backup", "--data", n.data, "--max-rate", "1M", "-o", archive)
        took = time.monotonic() - t0
        store = [m for m in members(archive) if m[0] == "meridian.db"][0][3]
        assert store > 1 << 20, store  # big enough for the bound to mean something
        assert took >= 2 * store / (1 << 20), (took, store)
        assert hashlib.sha256(open(archive, "rb").read()).hexdigest() == p.stdout.strip()
        assert n.cli("backup", "verify", archive).returncode == 0
        restore(n, archive, tmp_path / "b")
        assert n.cli("ledger", "verify", "--data", tmp_path / "b").stdout.startswith("ok:")
        for bad in ("0", "512K", "fast", "1T", "-5M"):
            q = n.cli("backup", "--data", n.data, "--max-rate", bad, "-o",
                      tmp_path / "x.backup", check=False)
            assert q.returncode == 2 and "--max-rate" in q.stderr and bad in q.stderr, q.stderr
            assert not (tmp_path / "x.backup").exists()
    finally:
        n.stop()
