#!/usr/bin/env python3
"""Turns a current meridian.db back into an older schema, as an older
Meridian left it, to time `meridian migrate` (run.sh): `7` (before the
lifecycle columns, and the migrations after them, AFTER_LIFECYCLE) or `1`
(the first).

usage: downgrade.py DB 7|1
"""
import ast
import os
import sqlite3
import sys

# The migrations after 7 -> 8 (lifecycle), undone newest first: the one
# list tests/integration/test_backup.py keeps (AFTER_LIFECYCLE), read from
# there so the two never drift.
def after_lifecycle():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                        "integration", "test_backup.py")
    with open(path) as f:
        for node in ast.parse(f.read()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == \
                    "AFTER_LIFECYCLE":
                return ast.literal_eval(node.value)
    sys.exit(f"no AFTER_LIFECYCLE in {path}")


AFTER_LIFECYCLE = after_lifecycle()

db, version = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
current = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
if current != 8 + len(AFTER_LIFECYCLE):
    sys.exit(f"downgrade.py knows schema {8 + len(AFTER_LIFECYCLE)}, the database has "
             f"{current}: add the newer migrations to AFTER_LIFECYCLE")
if version not in (7, 1):
    sys.exit("usage: downgrade.py DB 7|1")
con.executescript(
    "".join(AFTER_LIFECYCLE) +
    "DROP INDEX tokens_prev;"
    "ALTER TABLE tokens DROP COLUMN expires; ALTER TABLE tokens DROP COLUMN last_used;"
    "ALTER TABLE tokens DROP COLUMN prev_hash; ALTER TABLE tokens DROP COLUMN prev_expires;"
    "ALTER TABLE tokens DROP COLUMN prev_last_used;"
    "ALTER TABLE orgs DROP COLUMN disabled; ALTER TABLE orgs DROP COLUMN deleted;")
if version == 1:
    con.executescript(
        "DROP INDEX objects_current; DROP TABLE conflicts;"
        "ALTER TABLE objects DROP COLUMN signer; ALTER TABLE objects DROP COLUMN writer_only;"
        "DROP TABLE value_index; DROP TABLE sessions;"
        "DROP TABLE hold_items; DROP TABLE holds; DROP TABLE ledger_events;"
        "DROP TABLE object_leaves;"
        "ALTER TABLE objects DROP COLUMN is_first; ALTER TABLE objects DROP COLUMN is_last;"
        "ALTER TABLE objects DROP COLUMN twin; ALTER TABLE objects DROP COLUMN shadowed;"
        "ALTER TABLE objects DROP COLUMN shadowed_first;"
        "DROP INDEX objects_version;"
        "CREATE UNIQUE INDEX objects_version ON objects(collection, stix_id, version);")
con.execute("UPDATE schema_version SET version = ?", (version,))
con.commit()
con.execute("VACUUM")
con.close()
