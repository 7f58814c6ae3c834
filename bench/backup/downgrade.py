#!/usr/bin/env python3
"""Turns a current meridian.db back into an older schema, as an older
Meridian left it, to time `meridian migrate` (run.sh): `prev` (the one
before the last migration, the lifecycle columns) or `1` (the first).

usage: downgrade.py DB prev|1
"""
import sqlite3
import sys

db, want = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
current = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
if current != 8:
    sys.exit(f"downgrade.py knows schema 8, the database has {current}: update it")
version = current - 1 if want == "prev" else int(want)
if version not in (current - 1, 1):
    sys.exit("usage: downgrade.py DB prev|1")
con.executescript(
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
