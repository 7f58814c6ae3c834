#!/usr/bin/env python3
"""Turns a current meridian.db back into an older schema (4 or 1), as an
older Meridian left it, to time `meridian migrate` (run.sh).

usage: downgrade.py DB VERSION
"""
import sqlite3
import sys

db, version = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
con.executescript(
    "DROP INDEX tokens_prev;"
    "ALTER TABLE tokens DROP COLUMN expires; ALTER TABLE tokens DROP COLUMN last_used;"
    "ALTER TABLE tokens DROP COLUMN prev_hash; ALTER TABLE tokens DROP COLUMN prev_expires;"
    "ALTER TABLE tokens DROP COLUMN prev_last_used;"
    "ALTER TABLE orgs DROP COLUMN disabled; ALTER TABLE orgs DROP COLUMN deleted;")
if version == 1:
    con.executescript(
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
