"""Ingest that keeps going through failures, for the PostgreSQL operations
tests (test_pg_failover.py, test_pg_durability.py).

`Ingest(front_ends, cid)` runs one writer thread per front-end, each posting
small batches of new indicators over TAXII until `.stop()`. A batch counts
as acknowledged only when the server answered 202 with every object a
success; anything else (a 503 while the database is away, a refused or
reset connection while a front-end is down) is counted as a failure and the
writer goes on with new objects. `.acked` is the set of acknowledged ids:
what must survive.
"""
import threading

import requests

from node import indicator, wait_for


class Ingest:
    def __init__(self, front_ends, cid, batch=5):
        self.cid = cid
        self.batch = batch
        self.acked = set()
        self.acks = 0
        self.failures = 0
        self.statuses = set()  # HTTP statuses of the failed posts (None: no answer)
        self._mu = threading.Lock()
        self._stop = threading.Event()
        self.front_ends = list(front_ends)
        self._threads = [threading.Thread(target=self._run, args=(fe,), daemon=True)
                         for fe in self.front_ends]
        for t in self._threads:
            t.start()

    def _run(self, fe):
        while not self._stop.is_set():
            objs = [indicator() for _ in range(self.batch)]
            try:
                r = fe.post(self.cid, objs, timeout=90)
                ok = r.status_code == 202 and r.json().get("success_count") == len(objs) \
                    and r.json().get("failure_count") == 0
                status = r.status_code
            except (requests.RequestException, AttributeError, ValueError):
                ok, status = False, None  # the front-end is down: nothing acknowledged
            with self._mu:
                if ok:
                    self.acked.update(o["id"] for o in objs)
                    self.acks += 1
                else:
                    self.failures += 1
                    self.statuses.add(status)
            if not ok:
                self._stop.wait(0.05)

    def wait_acks(self, more, timeout=120):
        """Waits until `more` further batches were acknowledged."""
        with self._mu:
            target = self.acks + more
        wait_for(lambda: self.acks >= target, timeout=timeout, step=0.05)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads)
        return set(self.acked)


def stored_ids(cluster, db):
    return set(cluster.psql("SELECT stix_id FROM objects", db).split())


def assert_ledger_consistent(fe, cluster, db):
    """Every stored version has exactly one ledger leaf, and the front-end's
    ledger (verified against its signed checkpoint) holds every leaf the
    database records. fe is running (its ledger thread records); it is
    stopped here."""
    wait_for(lambda: cluster.psql("SELECT (SELECT count(*) FROM objects) -"
                                  " (SELECT count(*) FROM object_leaves)", db) == "0",
             timeout=60)
    fe.stop()
    p = fe.cli("ledger", "checkpoint", "--data", fe.data, check=False)
    assert p.returncode == 0, p.stderr
    v = fe.cli("ledger", "verify", "--data", fe.data)
    leaves = int(v.stdout.split("ok: ", 1)[1].split()[0])
    top = int(cluster.psql("SELECT COALESCE(max(leaf), -1) FROM (SELECT leaf FROM object_leaves"
                           " UNION ALL SELECT leaf FROM ledger_events WHERE leaf IS NOT NULL) x",
                           db))
    assert top + 1 <= leaves, (top, leaves)
    assert cluster.psql("SELECT count(*) = count(DISTINCT leaf) FROM object_leaves", db) == "t"
