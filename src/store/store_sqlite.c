/*
 * store_sqlite.c: the embedded store, one SQLite file per data directory.
 *
 * Locking model: a pool of connections (SQLITE_OPEN_NOMUTEX, each used by
 * one thread at a time) behind a mutex; every store call borrows one. WAL
 * lets readers run beside the one writer; writers start with BEGIN
 * IMMEDIATE so they queue on the database lock (busy timeout) instead of
 * failing on a read-to-write upgrade. The same lock serialises writers in
 * other processes, which is what makes date_added strictly increasing
 * across a CLI import and a running server.
 * The SQL is kept to what PostgreSQL also accepts (ON CONFLICT, partial
 * indexes, no SQLite-only functions), so store_pg.c can reuse it.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"

/* ---- schema and migrations ---- */

/* The overview's aggregates (store.h, store_agg_query). agg_keys holds
 * each distinct combination of the columns policy_may_read() decides on
 * (struct policy_object: tlp, local, creator_org, community, recipients,
 * writer_only; plus the collection, whose reader is chosen per collection,
 * and source_peer, which the overview splits by); '' stands for NULL so
 * that UNIQUE holds. The counters are keyed by such a key, so a reader's
 * figures are sums over the keys it may read, decided once per key.
 *  - agg_objects: object versions stored per hour of date_added and type;
 *  - agg_sightings: sightings per hour of first_seen (date_added when
 *    absent) and reporter (created_by_ref, else where_sighted_refs[0]);
 *    the sum of their count (1 when absent, STIX 2.1 §5.7);
 *  - agg_sighted: the same per day and sighted object (sighting_of_ref);
 *  - agg_sent: object versions sent per hour and destination (a partner's
 *    TAXII read, a push to a peer), written by store_sent_record; what was
 *    sent stays counted when the row changes or goes.
 * A sighting counts as its newest version only (is_last), so an updated
 * sighting is not counted twice. The triggers keep the counters right on
 * every change of a row: insert, delete (objects_delete), a copy becoming
 * writer-only (demote_others), a version ceasing or becoming the newest.
 * They are SQLite's (json_extract, unixepoch): a PostgreSQL store needs
 * its own. The migration creates the tables (agg_tables), then
 * agg_install() fills them from the stored rows and adds the triggers. */
#define AGG_KEY_COLS                                                                               \
    "(collection, tlp, local, creator_org, community, recipients, writer_only, source_peer)"
#define AGG_KEY_LIST(r)                                                                            \
    r ".collection, " r ".tlp, " r ".local, " r ".creator_org, " r ".community, IFNULL(" r         \
      ".recipients, ''), " r ".writer_only, IFNULL(" r ".source_peer, '')"
#define AGG_KEY_VALS(r) "(" AGG_KEY_LIST(r) ")"
#define AGG_KEY_OF(r) "(SELECT key FROM agg_keys WHERE " AGG_KEY_COLS " = " AGG_KEY_VALS(r) ")"
#define AGG_BODY(r) "CAST(" r ".body AS TEXT)"
#define AGG_S_HOUR(r)                                                                              \
    "(IFNULL(unixepoch(json_extract(" AGG_BODY(r) ", '$.first_seen')), " r                         \
                                                  ".date_added / 1000000) / 3600)"
#define AGG_S_BY(r)                                                                                \
    "IFNULL(json_extract(" AGG_BODY(r) ", '$.created_by_ref'), IFNULL(json_extract(" AGG_BODY(     \
        r) ", '$.where_sighted_refs[0]'), 'unknown'))"
#define AGG_S_COUNT(r)                                                                             \
    "(CASE WHEN json_type(" AGG_BODY(                                                              \
        r) ", '$.count') = 'integer' THEN MAX(json_extract(" AGG_BODY(r) ", '$.count'), 0) ELSE "  \
                                                                         "1 END)"
#define AGG_S_OF(r) "json_extract(" AGG_BODY(r) ", '$.sighting_of_ref')"
/* The statements that add (sign "") or take away ("-") row r's share, when
 * cond holds. */
#define AGG_KEY_ADD(r) "INSERT OR IGNORE INTO agg_keys " AGG_KEY_COLS " VALUES " AGG_KEY_VALS(r) ";"
#define AGG_OBJ(r, sign, cond)                                                                     \
    "INSERT INTO agg_objects (hour, key, type, n) SELECT " r                                       \
    ".date_added / 3600000000, " AGG_KEY_OF(r) ", " r ".type, " sign "1 WHERE " cond               \
                                               " ON CONFLICT DO UPDATE SET n = n + excluded.n;"
#define AGG_SIGHT(r, sign)                                                                         \
    "INSERT INTO agg_sightings (hour, key, reporter, count, n) SELECT " AGG_S_HOUR(                \
        r) ", " AGG_KEY_OF(r) ", " AGG_S_BY(r) ", " sign                                           \
    AGG_S_COUNT(                                                                                   \
        r) ", " sign "1 WHERE true"                                                                \
           " ON CONFLICT DO UPDATE SET count = count + excluded.count, n = n + excluded.n;"        \
           "INSERT INTO agg_sighted (day, indicator, key, count, n) SELECT " AGG_S_HOUR(           \
               r) " / 24, " AGG_S_OF(r) ", " AGG_KEY_OF(r) ", " sign                               \
           AGG_S_COUNT(r) ", " sign                                                                \
                          "1 WHERE " AGG_S_OF(r) " IS NOT NULL ON CONFLICT DO UPDATE SET count = " \
                                                 "count + excluded.count, n = n + excluded.n;"
#define AGG_IS_SIGHTING(r) r ".type = 'sighting' AND " r ".is_last = 1"
#define AGG_MOVED "OLD.writer_only IS NOT NEW.writer_only"
#define AGG_SUM_JOIN                                                                               \
    " FROM objects o JOIN agg_keys k ON (k.collection, k.tlp, k.local, k.creator_org, "            \
    "k.community,"                                                                                 \
    " k.recipients, k.writer_only, k.source_peer) = " AGG_KEY_VALS("o")

static const char agg_tables[] =
    "CREATE TABLE agg_keys (key INTEGER PRIMARY KEY, collection INTEGER NOT NULL,"
    " tlp INTEGER NOT NULL, local INTEGER NOT NULL, creator_org INTEGER NOT NULL,"
    " community TEXT NOT NULL, recipients TEXT NOT NULL, writer_only INTEGER NOT NULL,"
    " source_peer TEXT NOT NULL, UNIQUE " AGG_KEY_COLS ");"
    "CREATE TABLE agg_objects (hour INTEGER NOT NULL, key INTEGER NOT NULL, type TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (hour, key, type)) WITHOUT ROWID;"
    "CREATE TABLE agg_sightings (hour INTEGER NOT NULL, key INTEGER NOT NULL,"
    " reporter TEXT NOT NULL, count INTEGER NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (hour, key, reporter)) WITHOUT ROWID;"
    "CREATE TABLE agg_sighted (day INTEGER NOT NULL, indicator TEXT NOT NULL,"
    " key INTEGER NOT NULL, count INTEGER NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (day, indicator, key)) WITHOUT ROWID;"
    "CREATE INDEX agg_sighted_indicator ON agg_sighted(indicator, day);"
    "CREATE TABLE agg_sent (hour INTEGER NOT NULL, key INTEGER NOT NULL, dest TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (hour, key, dest)) WITHOUT ROWID;"
    "CREATE INDEX objects_from_peers ON objects(collection, type, date_added)"
    " WHERE source_peer IS NOT NULL;";

/* Run in order after agg_tables, in the migration's transaction. */
static const char *const agg_install_sql[] = {
    "INSERT INTO agg_keys " AGG_KEY_COLS " SELECT DISTINCT " AGG_KEY_LIST("o") " FROM objects o",
    "INSERT INTO agg_objects (hour, key, type, n) SELECT o.date_added / 3600000000, k.key, o.type,"
    " COUNT(*)" AGG_SUM_JOIN " GROUP BY 1, 2, 3",
    "INSERT INTO agg_sightings (hour, key, reporter, count, n) SELECT h, key, rep, SUM(c), COUNT(*)"
    " FROM (SELECT " AGG_S_HOUR("o") " AS h, k.key AS key, " AGG_S_BY("o") " AS rep, " AGG_S_COUNT(
        "o") " AS c" AGG_SUM_JOIN " WHERE " AGG_IS_SIGHTING("o") ") GROUP BY 1, 2, 3",
    "INSERT INTO agg_sighted (day, indicator, key, count, n) SELECT h / 24, ind, key, SUM(c),"
    " COUNT(*) FROM (SELECT " AGG_S_HOUR("o") " AS h, k.key AS key, " AGG_S_OF(
        "o") " AS ind, " AGG_S_COUNT("o") " AS c" AGG_SUM_JOIN
                                          " WHERE " AGG_IS_SIGHTING(
                                              "o") ") WHERE ind IS NOT NULL GROUP BY 1, 2, 3",
    "CREATE TRIGGER agg_insert AFTER INSERT ON objects BEGIN " AGG_KEY_ADD("NEW")
        AGG_OBJ("NEW", "", "true") "END",
    /* each trigger adds the key it uses: SQLite runs them in no set order */
    "CREATE TRIGGER agg_insert_sighting AFTER INSERT ON objects WHEN " AGG_IS_SIGHTING(
        "NEW") " BEGIN " AGG_KEY_ADD("NEW") AGG_SIGHT("NEW", "") "END",
    "CREATE TRIGGER agg_delete AFTER DELETE ON objects BEGIN " AGG_OBJ("OLD", "-", "true") "END",
    "CREATE TRIGGER agg_delete_sighting AFTER DELETE ON objects WHEN " AGG_IS_SIGHTING(
        "OLD") " BEGIN " AGG_SIGHT("OLD", "-") "END",
    /* a row becoming writer-only moves to another key */
    "CREATE TRIGGER agg_moved AFTER UPDATE OF writer_only ON objects WHEN " AGG_MOVED
    " BEGIN " AGG_KEY_ADD("NEW") AGG_OBJ("OLD", "-", "true") AGG_OBJ("NEW", "", "true") "END",
    /* a sighting's newest version stops or starts counting, or moves */
    "CREATE TRIGGER agg_update_sighting_old AFTER UPDATE OF writer_only, is_last ON objects "
    "WHEN " AGG_IS_SIGHTING("OLD") " AND (" AGG_MOVED
                                   " OR NEW.is_last = 0) BEGIN " AGG_SIGHT("OLD", "-") "END",
    "CREATE TRIGGER agg_update_sighting_new AFTER UPDATE OF writer_only, is_last ON objects "
    "WHEN " AGG_IS_SIGHTING("NEW") " AND (" AGG_MOVED
                                   " OR OLD.is_last = 0) BEGIN " AGG_KEY_ADD("NEW")
                                       AGG_SIGHT("NEW", "") "END",
};

enum mrd_code sq__agg_pause(struct sq_conn *c, bool on, struct mrd_err *err)
{
    return sq__exec(c, on ? "INSERT INTO agg_paused (x) VALUES (1)" : "DELETE FROM agg_paused",
                    err);
}

#define AGG_KEY_PARAMS "(?1, ?2, ?3, ?4, ?5, IFNULL(?6, ''), ?7, IFNULL(?8, ''))"

enum mrd_code sq__agg_count(struct sq_conn *c, const struct sq_arg *cols, int64_t hour, int64_t n,
                            struct mrd_err *err)
{
    struct sq_arg a[STORE_AGG_COLS + 2];
    enum mrd_code rc;

    memcpy(a, cols, STORE_AGG_COLS * sizeof(*a));
    a[STORE_AGG_COLS] = SQ_INT(hour);
    a[STORE_AGG_COLS + 1] = SQ_INT(n);
    rc = sq__run(c, "aggregates",
                 "INSERT OR IGNORE INTO agg_keys " AGG_KEY_COLS " VALUES " AGG_KEY_PARAMS, a, 8,
                 NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "aggregates",
                     "INSERT INTO agg_objects (hour, key, type, n) SELECT ?10, (SELECT key FROM"
                     " agg_keys WHERE " AGG_KEY_COLS " = " AGG_KEY_PARAMS "), ?9, ?11 WHERE true"
                     " ON CONFLICT DO UPDATE SET n = n + excluded.n",
                     a, STORE_AGG_COLS + 2, NULL, NULL, NULL, err);
    return rc;
}

static enum mrd_code agg_install(struct sq_conn *c, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < sizeof(agg_install_sql) / sizeof(agg_install_sql[0]) && rc == MRD_OK;
         i++)
        rc = sq__exec(c, agg_install_sql[i], err);
    return rc;
}

/* migrations[i] brings a database from version i to i + 1. Append only:
 * a shipped migration is never edited. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE orgs (key INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " relation INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE tokens (name TEXT PRIMARY KEY, org INTEGER NOT NULL REFERENCES orgs(key),"
    " hash BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL, created INTEGER NOT NULL,"
    " revoked INTEGER);"
    "CREATE TABLE api_roots (name TEXT PRIMARY KEY, title TEXT NOT NULL,"
    " description TEXT NOT NULL, max_content_length INTEGER NOT NULL);"
    "CREATE TABLE collections (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " api_root TEXT NOT NULL REFERENCES api_roots(name), title TEXT NOT NULL,"
    " description TEXT NOT NULL, alias TEXT, default_tlp INTEGER NOT NULL,"
    " public_read INTEGER NOT NULL, last_added INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX collections_alias ON collections(api_root, alias)"
    " WHERE alias IS NOT NULL;"
    "CREATE TABLE grants (org INTEGER NOT NULL REFERENCES orgs(key),"
    " collection INTEGER NOT NULL REFERENCES collections(key),"
    " can_read INTEGER NOT NULL, can_write INTEGER NOT NULL, PRIMARY KEY (org, collection));"
    "CREATE TABLE objects (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " collection INTEGER NOT NULL REFERENCES collections(key),"
    " date_added INTEGER NOT NULL, stix_id TEXT NOT NULL, type TEXT NOT NULL,"
    " spec_version TEXT NOT NULL, created INTEGER, modified INTEGER, version INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL, tlp INTEGER NOT NULL, local INTEGER NOT NULL,"
    " creator_org INTEGER NOT NULL, source_peer TEXT, community TEXT NOT NULL,"
    " recipients TEXT, body BLOB NOT NULL);"
    "CREATE UNIQUE INDEX objects_added ON objects(collection, date_added);"
    "CREATE UNIQUE INDEX objects_version ON objects(collection, stix_id, version);"
    "CREATE INDEX objects_type ON objects(collection, type, date_added);"
    "CREATE TABLE status (id TEXT PRIMARY KEY, api_root TEXT NOT NULL, org INTEGER NOT NULL,"
    " request INTEGER NOT NULL, complete INTEGER NOT NULL, total INTEGER NOT NULL,"
    " success INTEGER NOT NULL, failure INTEGER NOT NULL, pending INTEGER NOT NULL);"
    "CREATE INDEX status_request ON status(request);"
    "CREATE TABLE status_details (status_id TEXT NOT NULL, ord INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, stix_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " message TEXT NOT NULL, PRIMARY KEY (status_id, ord));",
    /* 1 -> 2: first/last version flags, so match[version]=first|last is a
     * column test instead of a MIN/MAX subquery per row */
    "ALTER TABLE objects ADD COLUMN is_first INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE objects ADD COLUMN is_last INTEGER NOT NULL DEFAULT 1;"
    "UPDATE objects SET"
    " is_first = CASE WHEN version = (SELECT MIN(v.version) FROM objects v"
    "  WHERE v.collection = objects.collection AND v.stix_id = objects.stix_id) THEN 1 ELSE 0 END,"
    " is_last = CASE WHEN version = (SELECT MAX(v.version) FROM objects v"
    "  WHERE v.collection = objects.collection AND v.stix_id = objects.stix_id) THEN 1 ELSE 0 END;",
    /* 2 -> 3: writer-scoped copies (store_objects_insert): one (id, version)
     * may have several rows, one per writer that could not read the
     * others; `twin` marks the rows of such a group, so readers pay for
     * choosing among them only there. `shadowed`: an older version whose
     * policy columns equal those of a newest copy, so a reader who may
     * read it may read that one too and it is never "last" (the scan
     * skips it without a look-up); `shadowed_first` the same towards an
     * oldest copy, for "first" */
    "DROP INDEX objects_version;"
    "CREATE INDEX objects_version ON objects(collection, stix_id, version);"
    "ALTER TABLE objects ADD COLUMN twin INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN shadowed INTEGER NOT NULL DEFAULT 0;"
    "UPDATE objects SET shadowed = 1 WHERE is_last = 0 AND EXISTS (SELECT 1 FROM objects l"
    " WHERE l.collection = objects.collection AND l.stix_id = objects.stix_id AND l.is_last = 1"
    " AND l.tlp = objects.tlp AND l.local = objects.local AND l.creator_org = objects.creator_org"
    " AND l.community = objects.community AND l.recipients IS objects.recipients"
    " AND l.source_peer IS objects.source_peer);"
    "ALTER TABLE objects ADD COLUMN shadowed_first INTEGER NOT NULL DEFAULT 0;"
    "UPDATE objects SET shadowed_first = 1 WHERE is_first = 0 AND EXISTS (SELECT 1 FROM objects l"
    " WHERE l.collection = objects.collection AND l.stix_id = objects.stix_id AND l.is_first = 1"
    " AND l.tlp = objects.tlp AND l.local = objects.local AND l.creator_org = objects.creator_org"
    " AND l.community = objects.community AND l.recipients IS objects.recipients"
    " AND l.source_peer IS objects.source_peer);",
    /* 3 -> 4: legal holds and the ledger queue. object_leaves maps an
     * object version (seq) to the ledger leaf recording it; versions with
     * a seq above its highest are the ones the ledger still lacks (seqs
     * commit in increasing order: one writer at a time). ledger_events
     * queues preservation actions (leaf NULL until recorded). */
    "CREATE TABLE holds (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, released INTEGER, record TEXT NOT NULL);"
    "CREATE INDEX holds_case ON holds(case_id);"
    "CREATE TABLE hold_items (hold TEXT NOT NULL REFERENCES holds(id), seq INTEGER NOT NULL,"
    " PRIMARY KEY (hold, seq)) WITHOUT ROWID;"
    "CREATE INDEX hold_items_seq ON hold_items(seq);"
    "CREATE TABLE ledger_events (ev INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL,"
    " time INTEGER NOT NULL, hash BLOB NOT NULL, record TEXT NOT NULL, leaf INTEGER);"
    "CREATE INDEX ledger_events_pending ON ledger_events(ev) WHERE leaf IS NULL;"
    "CREATE TABLE object_leaves (seq INTEGER PRIMARY KEY, leaf INTEGER NOT NULL UNIQUE);",
    /* 4 -> 5: console sessions (store_session_*). hash = SHA-256 of the
     * cookie's id; token names the API token it was opened with (its org
     * is kept too, so an org's sessions end in one statement). */
    "CREATE TABLE sessions (hash BLOB PRIMARY KEY, token TEXT NOT NULL, org INTEGER NOT NULL,"
    " created INTEGER NOT NULL, last_seen INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX sessions_token ON sessions(token);"
    "CREATE INDEX sessions_org ON sessions(org);"
    "CREATE INDEX sessions_expires ON sessions(expires);",
    /* 5 -> 6: the value index (store_value_search): one row per value an
     * object version mentions; filled by the insert path, and for the
     * versions already stored by sq__index_backfill when the database is
     * opened. */
    ("CREATE TABLE value_index (kind INTEGER NOT NULL, key BLOB NOT NULL, seq INTEGER NOT NULL,"
     " how INTEGER NOT NULL, PRIMARY KEY (kind, key, seq)) WITHOUT ROWID;"),
    /* 6 -> 7: who may version an object (issue 17). `signer`: the key of
     * the Meridian signature the stored bytes carry (NULL: unsigned),
     * filled in from the bodies; `writer_only`: a copy this node does not
     * hold as genuine (a version not signed by the object's signer, a
     * different copy of a stored version), readable by its writer only
     * (policy.h), kept for the operator. `conflicts` records each such
     * copy, and the rejected ones' bytes. `objects_current` indexes the
     * rows that stand for every policy an object's rows have (the newest
     * copies and the rows no newest copy shadows), so that a reader who
     * may read none of them is answered without reading the others. */
    "ALTER TABLE objects ADD COLUMN signer TEXT;"
    "ALTER TABLE objects ADD COLUMN writer_only INTEGER NOT NULL DEFAULT 0;"
    "UPDATE objects SET signer = json_extract(CAST(body AS TEXT),"
    " '$.extensions.\"extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01\".public_key')"
    " WHERE instr(body, 'extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01') > 0"
    " AND json_valid(CAST(body AS TEXT));"
    "CREATE TABLE conflicts (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
    " collection INTEGER NOT NULL, stix_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " reason INTEGER NOT NULL, action INTEGER NOT NULL, kept_seq INTEGER, kept_signer TEXT,"
    " other_seq INTEGER, other_signer TEXT, other_org INTEGER NOT NULL, other_peer TEXT,"
    " other_hash BLOB, other_body BLOB);"
    "CREATE UNIQUE INDEX conflicts_rejected ON conflicts(collection, stix_id, version,"
    " other_hash) WHERE other_seq IS NULL;"
    "CREATE INDEX objects_current ON objects(collection, stix_id)"
    " WHERE is_last = 1 OR shadowed = 0;",
    /* 7 -> 8: account lifecycle. An org may be disabled (its tokens stop
     * working until it is enabled again) or deleted (a tombstone: the key
     * stays, so the objects it wrote and the audit trail keep naming it,
     * and the name is never reused). Tokens may expire; a rotated token
     * keeps its previous secret (prev_hash) until prev_expires, the
     * overlap window; last_used is written at most once a minute. */
    "ALTER TABLE orgs ADD COLUMN disabled INTEGER;"
    "ALTER TABLE orgs ADD COLUMN deleted INTEGER;"
    "ALTER TABLE tokens ADD COLUMN expires INTEGER;"
    "ALTER TABLE tokens ADD COLUMN last_used INTEGER;"
    "ALTER TABLE tokens ADD COLUMN prev_hash BLOB;"
    "ALTER TABLE tokens ADD COLUMN prev_expires INTEGER;"
    "ALTER TABLE tokens ADD COLUMN prev_last_used INTEGER;"
    "CREATE UNIQUE INDEX tokens_prev ON tokens(prev_hash) WHERE prev_hash IS NOT NULL;",
    /* 8 -> 9: constituency early warning (notify.h). `assets`: what each
     * org declared it owns (kind, ASN or value key, display form), active
     * or pending approval; `notifications`: each (org, asset) an object
     * version concerned, once per version (after a crash the round
     * repeats and finds it there), with the asset's display form kept so
     * that removing a declaration keeps the history readable. */
    "CREATE TABLE assets (id INTEGER PRIMARY KEY, org INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " asn INTEGER NOT NULL DEFAULT 0, vkind INTEGER NOT NULL DEFAULT 0, vkey BLOB,"
    " text TEXT NOT NULL, status INTEGER NOT NULL, created INTEGER NOT NULL,"
    " overlaps TEXT NOT NULL DEFAULT '', UNIQUE (org, kind, text));"
    "CREATE TABLE notifications (id INTEGER PRIMARY KEY, org INTEGER NOT NULL,"
    " asset INTEGER NOT NULL, asset_text TEXT NOT NULL, seq INTEGER NOT NULL,"
    " object_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, how INTEGER NOT NULL,"
    " created INTEGER NOT NULL, squelched INTEGER NOT NULL, UNIQUE (org, asset, seq));"
    "CREATE INDEX notifications_recent ON notifications(org, asset, kind, value, created);",
    /* 9 -> 10: free text and references (store_text_search, store_refs_to):
     * the words of each version's name and descriptive text (a contentless
     * FTS5 table, rowid = seq) and the ids it points at; filled by the
     * insert path, and for the versions already stored by
     * sq__index_backfill when the database is opened. */
    "CREATE VIRTUAL TABLE text_index USING fts5(name, description, content='',"
    " tokenize='unicode61 remove_diacritics 2');"
    "CREATE TABLE ref_index (ref TEXT NOT NULL, seq INTEGER NOT NULL, role INTEGER NOT NULL,"
    " PRIMARY KEY (ref, seq, role)) WITHOUT ROWID;",
    /* 10 -> 11: the overview's aggregates (store_agg_query, issue 11): the
     * tables here, then agg_install() (see above). */
    agg_tables,
    /* 11 -> 12: scheduled feeds (feed.h): each feed's configuration and
     * fetch state (JSON records of the feed module), and the STIX ids a
     * list-type feed held at its last good round (those that vanish are
     * expired). */
    "CREATE TABLE feeds (name TEXT PRIMARY KEY, config TEXT NOT NULL, state TEXT NOT NULL,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE feed_items (feed TEXT NOT NULL, stix_id TEXT NOT NULL,"
    " PRIMARY KEY (feed, stix_id)) WITHOUT ROWID;",
    /* 12 -> 13: early-warning delivery (notify.h, "delivery"). `contacts`:
     * where each org is told (an e-mail address with an optional OpenPGP
     * key, or a webhook URL with its HMAC secret) and on which schedule per
     * kind of finding; `deliveries`: one message per (contact, schedule),
     * queued, sent or dead (given up after the attempts allowed), with who
     * it went to copied in so the record outlives the contact;
     * `delivery_items`: the notifications each message carries. */
    "CREATE TABLE contacts (id INTEGER PRIMARY KEY, org INTEGER NOT NULL,"
    " channel INTEGER NOT NULL, address TEXT NOT NULL, pgp_key TEXT NOT NULL DEFAULT '',"
    " secret TEXT NOT NULL DEFAULT '', schedule TEXT NOT NULL, created INTEGER NOT NULL,"
    " UNIQUE (org, channel, address));"
    "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, contact INTEGER NOT NULL,"
    " org INTEGER NOT NULL, channel INTEGER NOT NULL, address TEXT NOT NULL,"
    " schedule INTEGER NOT NULL, status INTEGER NOT NULL, created INTEGER NOT NULL,"
    " due INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " last_try INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '', ev INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX deliveries_due ON deliveries(status, due);"
    "CREATE TABLE delivery_items (delivery INTEGER NOT NULL, notification INTEGER NOT NULL,"
    " PRIMARY KEY (delivery, notification)) WITHOUT ROWID;",
    /* 13 -> 14: every delivery attempt and its outcome (store.h,
     * store_delivery_attempts). */
    "CREATE TABLE delivery_attempts (id INTEGER PRIMARY KEY, delivery INTEGER NOT NULL,"
    " time INTEGER NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL);"
    "CREATE INDEX delivery_attempts_of ON delivery_attempts(delivery, id);",
    /* 14 -> 15: the access audit (store.h, "the access audit"): one row per
     * sensitive object version read (append-only: a trigger refuses
     * updates, and deletes of rows no digest seals), and the digests that
     * seal runs of rows as ledger events. No index but the row id: the
     * rows are appended in order, at the cost of one page per ~40 reads;
     * queries by object or org scan (audit reads is an operator's query,
     * bounded by the retention). */
    "CREATE TABLE access_reads (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
    " object_id TEXT NOT NULL, version INTEGER NOT NULL, tlp INTEGER NOT NULL,"
    " org TEXT NOT NULL, token TEXT NOT NULL, path TEXT NOT NULL);"
    "CREATE TABLE access_digests (id INTEGER PRIMARY KEY, first INTEGER NOT NULL UNIQUE,"
    " last INTEGER NOT NULL, n INTEGER NOT NULL, time_from INTEGER NOT NULL,"
    " time_to INTEGER NOT NULL, hash BLOB NOT NULL, ev INTEGER NOT NULL, pruned INTEGER);"
    "CREATE TRIGGER access_reads_no_update BEFORE UPDATE ON access_reads"
    " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;"
    "CREATE TRIGGER access_reads_no_delete BEFORE DELETE ON access_reads"
    " WHEN OLD.id > IFNULL((SELECT MAX(last) FROM access_digests), 0)"
    " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;",
    /* 15 -> 16: the access audit, one row per page read (store.h, "the
     * access audit"): the rows first..first+n-1 of one read, their items
     * packed in one text ("VERSION TLP ID\n" each), so a page of 100
     * objects costs one insert, not 100 (bench/audit). The rows of 15 keep
     * their numbers (a page of one each), so the digests still verify. */
    "CREATE TABLE access_pages (first INTEGER PRIMARY KEY, n INTEGER NOT NULL,"
    " time INTEGER NOT NULL, org TEXT NOT NULL, token TEXT NOT NULL, path TEXT NOT NULL,"
    " items TEXT NOT NULL);"
    "INSERT INTO access_pages (first, n, time, org, token, path, items)"
    " SELECT id, 1, time, org, token, path, printf('%d %d %s', version, tlp, object_id)"
    " || char(10) FROM access_reads ORDER BY id;"
    "DROP TRIGGER access_reads_no_update; DROP TRIGGER access_reads_no_delete;"
    "DROP TABLE access_reads;"
    "CREATE TRIGGER access_pages_no_update BEFORE UPDATE ON access_pages"
    " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;"
    "CREATE TRIGGER access_pages_no_delete BEFORE DELETE ON access_pages"
    " WHEN OLD.first + OLD.n - 1 > IFNULL((SELECT MAX(last) FROM access_digests), 0)"
    " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;",
    /* 16 -> 17: erasure clears the value each notification kept of the
     * version it names (store_erase.c): found by seq. */
    "CREATE INDEX notifications_seq ON notifications(seq);",
    /* 17 -> 18: the access audit's pages packed in binary (store_readpack.c,
     * about 17 bytes an object instead of 67: bench/audit); pages written
     * before keep their text items (items is '' in a packed page) */
    "ALTER TABLE access_pages ADD COLUMN packed BLOB;",
    /* 18 -> 19: a batch of new versions counts its share of agg_objects in
     * two statements (sq__agg_count) instead of agg_insert's work per row:
     * while agg_paused holds a row, agg_insert does nothing. The row lives
     * only inside the writing transaction (sq__agg_pause), so no other
     * connection, the sqlite3 shell included, ever sees one. */
    "CREATE TABLE agg_paused (x INTEGER NOT NULL);"
    "DROP TRIGGER agg_insert;"
    "CREATE TRIGGER agg_insert AFTER INSERT ON objects WHEN NOT EXISTS (SELECT 1 FROM agg_paused)"
    " BEGIN " AGG_KEY_ADD("NEW") AGG_OBJ("NEW", "", "true") "END;",
    /* 19 -> 20: no table changes. access_pages.packed may now hold a merged
     * row (store.h, "merged pages": several pages of one reader, each with
     * its time; the time column is the latest page's), which a Meridian of
     * schema 19 cannot read: the version keeps it away. */
    "-- access_pages.packed: format 1 (one page) or 2 (merged pages)",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
    return SCHEMA_VERSION;
}

/* ---- connections ---- */

/* Page cache per connection, in KiB (negative = KiB for SQLite): enough for
 * the interior B-tree pages of a few million objects, so a lookup reads
 * only leaf pages from the OS; small enough that a server's pool stays
 * within its memory budget (it grows only as pages are used). */
#define SQ_CACHE_KIB "-8192"
#define SQ_PIN_CACHE_KIB "-4096" /* per-thread read connections (store_read_begin) */
/* Per-thread read connections also map the database file: a page their
 * cache lacks is a pointer into the mapping, not a pread into a copy. Every
 * commit by another connection (the access audit's, every 200 ms) empties
 * their page caches; with the mapping, filling them again costs no system
 * call. File pages are shared with the OS's cache, not private memory. */
#define SQ_PIN_MMAP_BYTES "268435456"

enum mrd_code sq__fail(struct sq_conn *c, int rc, const char *what, struct mrd_err *err)
{
    int prim = rc & 0xff;
    const char *msg = c != NULL && c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);

    if (prim == SQLITE_NOMEM)
        return mrd_err_set(err, MRD_E_NOMEM, "store: %s: out of memory", what);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return mrd_err_set(err, MRD_E_TIMEOUT, "store: %s: database busy for more than %d ms", what,
                           STORE_BUSY_MS);
    if (prim == SQLITE_TOOBIG)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: %s: %s", what, msg);
    return mrd_err_set(err, MRD_E_DB, "store: %s: %s", what, msg);
}

/* ---- one write transaction per thread (store_write_begin) ----
 *
 * While a thread is inside store_write_begin .. store_write_end, every
 * store call it makes runs on one connection holding one write
 * transaction: a call's own BEGIN .. COMMIT becomes a savepoint inside it
 * (rolled back to when the call fails), and only store_write_end commits.
 * The thread-local slot names its store by generation (see sq_pin). */
struct sq_wtx {
    uint64_t gen;      /* store generation; 0 none */
    struct sq_conn *c; /* the transaction's connection */
    unsigned nested;   /* calls' savepoints open inside it */
};
static _Thread_local struct sq_wtx sq_wtx;

static bool in_wtx(const struct sq_conn *c)
{
    return c != NULL && sq_wtx.c == c;
}

#define SQ_NESTED "sq_nested"

enum mrd_code sq__exec(struct sq_conn *c, const char *sql, struct mrd_err *err)
{
    int rc;

    if (in_wtx(c)) { /* a call's own transaction: a savepoint */
        if (strcmp(sql, "BEGIN") == 0 || strcmp(sql, "BEGIN IMMEDIATE") == 0) {
            sql = "SAVEPOINT " SQ_NESTED;
            sq_wtx.nested++;
        } else if (strcmp(sql, "COMMIT") == 0 && sq_wtx.nested > 0) {
            sql = "RELEASE " SQ_NESTED;
            sq_wtx.nested--;
        }
    }
    rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sq__fail(c, rc, sql, err);
    return MRD_OK;
}

void sq__rollback(struct sq_conn *c)
{
    if (in_wtx(c)) { /* undo the failed call only; store_write_end decides */
        if (sq_wtx.nested > 0) {
            (void)sqlite3_exec(c->db, "ROLLBACK TO " SQ_NESTED "; RELEASE " SQ_NESTED, NULL, NULL,
                               NULL);
            sq_wtx.nested--;
        }
        return;
    }
    if (c != NULL && !sqlite3_get_autocommit(c->db))
        (void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

enum mrd_code sq__prepare(struct sq_conn *c, const char *sql, sqlite3_stmt **ret,
                          struct mrd_err *err)
{
    struct sq_stmt_slot *slot;
    sqlite3_stmt *stmt = NULL;
    char *key;
    int rc;

    for (unsigned i = 0; i < SQ_STMT_CACHE; i++) {
        slot = &c->cache[i];
        if (slot->sql != NULL && strcmp(slot->sql, sql) == 0) {
            (void)sqlite3_reset(slot->stmt);
            (void)sqlite3_clear_bindings(slot->stmt);
            *ret = slot->stmt;
            return MRD_OK;
        }
    }
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK)
        return sq__fail(c, rc, "prepare", err);
    key = mrd_strdup(sql);
    if (key == NULL) {
        (void)sqlite3_finalize(stmt);
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    }
    /* Round-robin eviction: the dynamic query shapes are few, so the cache
     * rarely turns over. A connection serves one call at a time, but a
     * call may step a second statement while a first one is mid-scan (the
     * object query's look-ups): a busy statement is never the victim. */
    slot = &c->cache[c->clock];
    for (unsigned i = 0; i < SQ_STMT_CACHE && slot->stmt != NULL && sqlite3_stmt_busy(slot->stmt);
         i++) {
        c->clock = (c->clock + 1) % SQ_STMT_CACHE;
        slot = &c->cache[c->clock];
    }
    c->clock = (c->clock + 1) % SQ_STMT_CACHE;
    if (slot->stmt != NULL)
        (void)sqlite3_finalize(slot->stmt);
    mrd_free(slot->sql);
    slot->sql = key;
    slot->stmt = stmt;
    *ret = stmt;
    return MRD_OK;
}

const char *sq__text(sqlite3_stmt *st, int col, size_t *ret_len)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    if (t == NULL) {
        *ret_len = 0;
        return "";
    }
    *ret_len = (size_t)sqlite3_column_bytes(st, col);
    return (const char *)t;
}

void sq__copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    size_t n;
    const char *t = sq__text(st, col, &n);

    if (n >= size)
        n = size - 1;
    memcpy(dst, t, n);
    dst[n] = '\0';
}

static void conn_free(struct sq_conn *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < SQ_STMT_CACHE; i++) {
        if (c->cache[i].stmt != NULL)
            (void)sqlite3_finalize(c->cache[i].stmt);
        mrd_free(c->cache[i].sql);
    }
    (void)sqlite3_close(c->db);
    mrd_free(c);
}

/* Before SQLite's first use: no memory statistics. With them every
 * sqlite3_malloc and free takes one process-wide mutex (a twentieth of an
 * import's store thread); nothing here reads them (sqlite3_memory_used,
 * heap limits). Too late (SQLite already initialised): no harm, no change. */
static pthread_once_t sq_config_once = PTHREAD_ONCE_INIT;

static void sq_config(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum mrd_code conn_open(struct sq_store *s, bool create, struct sq_conn **ret,
                               struct mrd_err *err)
{
    struct sq_conn *c;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    enum mrd_code rc;
    int src;

    (void)pthread_once(&sq_config_once, sq_config);
    c = mrd_calloc(1, sizeof(*c));

    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    src = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (src != SQLITE_OK) {
        rc = sq__fail(c, src, s->path, err);
        goto out;
    }
    sq__ckpt_attach(s, c->db);
    (void)sqlite3_extended_result_codes(c->db, 1);
    (void)sqlite3_busy_timeout(c->db, STORE_BUSY_MS);
    /* FULL: a commit is on disk (WAL fsynced) before the call returns, the
     * durability promise of store.h. temp_store=MEMORY: an insert fires the
     * aggregates' triggers, which gives every insert a statement journal;
     * on disk that was a dozen temporary-file writes per object (twice the
     * ingest CPU), in memory it costs next to nothing. */
    rc = sq__exec(c,
                  "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                  " PRAGMA cache_size=" SQ_CACHE_KIB,
                  err);
    if (rc != MRD_OK)
        goto out;
    *ret = c;
    c = NULL;
out:
    conn_free(c);
    return rc;
}

/* ---- pinned read snapshots (store_read_begin) ----
 *
 * Each thread that pins gets a connection of its own, opened once and kept
 * until store_close (not taken from the pool: a pinned thread that also
 * writes -- or a group-commit leader -- must never wait for a pool slot
 * held by pinned readers). The thread-local slot names its store by a
 * generation number, not a pointer, so a store closed and another opened
 * at the same address never inherit a stale connection. */
static _Atomic uint64_t sq_generation;

struct sq_pin {
    uint64_t gen;      /* store generation the connection belongs to; 0 none */
    struct sq_conn *c; /* this thread's connection for that store */
    bool active;       /* inside store_read_begin .. store_read_end */
};
static _Thread_local struct sq_pin sq_pin;

static bool pinned(const struct sq_store *s)
{
    return sq_pin.active && sq_pin.gen == s->gen;
}

enum mrd_code sq__acquire(struct sq_store *s, struct sq_conn **ret, struct mrd_err *err)
{
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    if (sq_wtx.c != NULL && sq_wtx.gen == s->gen) {
        *ret = sq_wtx.c;
        return MRD_OK;
    }
    (void)pthread_mutex_lock(&s->mu);
    while (s->free_conns == NULL && s->n_open >= s->max_conn)
        (void)pthread_cond_wait(&s->cv, &s->mu);
    if (s->free_conns != NULL) {
        c = s->free_conns;
        s->free_conns = c->next;
        (void)pthread_mutex_unlock(&s->mu);
        c->next = NULL;
        *ret = c;
        return MRD_OK;
    }
    s->n_open++; /* reserve the slot, open outside the lock */
    (void)pthread_mutex_unlock(&s->mu);
    rc = conn_open(s, false, &c, err);
    if (rc != MRD_OK) {
        (void)pthread_mutex_lock(&s->mu);
        s->n_open--;
        (void)pthread_cond_signal(&s->cv);
        (void)pthread_mutex_unlock(&s->mu);
        return rc;
    }
    *ret = c;
    return MRD_OK;
}

void sq__release(struct sq_store *s, struct sq_conn *c)
{
    if (c == NULL)
        return;
    if (pinned(s) && c == sq_pin.c)
        return; /* the thread's snapshot stays open until store_read_end */
    if (in_wtx(c)) {
        sq__rollback(c); /* a call that failed inside its savepoint */
        return;          /* the transaction stays open until store_write_end */
    }
    sq__rollback(c); /* never hand out a connection inside a transaction */
    (void)pthread_mutex_lock(&s->mu);
    c->next = s->free_conns;
    s->free_conns = c;
    (void)pthread_cond_signal(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
}

enum mrd_code sq__acquire_read(struct sq_store *s, struct sq_conn **ret, struct mrd_err *err)
{
    if (pinned(s) && !(sq_wtx.c != NULL && sq_wtx.gen == s->gen)) {
        *ret = sq_pin.c;
        return MRD_OK;
    }
    return sq__acquire(s, ret, err);
}

static enum mrd_code sq_read_begin(struct store *st, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    if (sq_pin.active) /* nested or for another store: no pin, calls still work */
        return MRD_OK;
    if (sq_pin.gen != s->gen) {
        rc = conn_open(s, false, &c, err);
        /* Half the pool's page cache: one of these per server thread on
         * top of the pool, and RSS must stay bounded (SQ_PIN_CACHE_KIB). */
        if (rc == MRD_OK)
            rc = sq__exec(
                c, "PRAGMA cache_size=" SQ_PIN_CACHE_KIB "; PRAGMA mmap_size=" SQ_PIN_MMAP_BYTES,
                err);
        if (rc != MRD_OK) {
            conn_free(c);
            return rc;
        }
        (void)pthread_mutex_lock(&s->mu);
        c->next = s->thread_conns;
        s->thread_conns = c;
        (void)pthread_mutex_unlock(&s->mu);
        sq_pin.gen = s->gen;
        sq_pin.c = c;
    }
    /* Deferred: the snapshot starts with the first read. */
    rc = sq__exec(sq_pin.c, "BEGIN", err);
    if (rc == MRD_OK)
        sq_pin.active = true;
    return rc;
}

static void sq_read_end(struct store *st)
{
    struct sq_store *s = (struct sq_store *)st;

    if (!pinned(s))
        return;
    sq__rollback(sq_pin.c); /* read-only: nothing to commit */
    sq_pin.active = false;
}

static enum mrd_code sq_write_begin(struct store *st, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    if (sq_wtx.c != NULL)
        return mrd_err_set(err, MRD_E_INVAL, "store: a write transaction is already open");
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK) {
        sq__release(s, c);
        return rc;
    }
    sq_wtx = (struct sq_wtx){.gen = s->gen, .c = c};
    return MRD_OK;
}

static enum mrd_code sq_write_end(struct store *st, bool commit, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = sq_wtx.c;
    enum mrd_code rc = MRD_OK;

    if (c == NULL || sq_wtx.gen != s->gen)
        return commit ? mrd_err_set(err, MRD_E_INVAL, "store: no write transaction is open")
                      : MRD_OK;
    sq_wtx = (struct sq_wtx){0};
    if (commit)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c); /* rolls back what was not committed */
    return rc;
}

static void sq_close(struct store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;

    if (sq_wtx.c != NULL && sq_wtx.gen == s->gen) /* closed inside a write: rolled back */
        (void)sq_write_end(st, false, NULL);
    sq__ckpt_stop(s);
    while (s->thread_conns != NULL) {
        c = s->thread_conns;
        s->thread_conns = c->next;
        conn_free(c);
    }
    if (sq_pin.gen == s->gen) { /* the closing thread's own slot */
        sq_pin.gen = 0;
        sq_pin.c = NULL;
        sq_pin.active = false;
    }

    while (s->free_conns != NULL) {
        c = s->free_conns;
        s->free_conns = c->next;
        conn_free(c);
    }
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_cond_destroy(&s->cv);
    store__group_destroy(&s->ins);
    (void)pthread_mutex_destroy(&s->ckpt_mu);
    (void)pthread_cond_destroy(&s->ckpt_cv);
    mrd_free(s);
}

/* Progress reporting while a migration step runs (SQLite's progress
 * handler, every SQ_PROGRESS_OPS virtual-machine steps). */
#define SQ_PROGRESS_OPS 100000

struct migrate_progress {
    const struct store_open_opts *opts;
    struct store_progress p;
    struct timespec t0;
    double last;
};

static double since(const struct timespec *t0)
{
    struct timespec now;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int on_progress(void *arg)
{
    struct migrate_progress *m = arg;
    double t = since(&m->t0);

    if ((t - m->last) * 1000.0 >= STORE_PROGRESS_MS) {
        m->last = t;
        m->p.elapsed_s = t;
        m->opts->progress(m->opts->progress_ctx, &m->p);
    }
    return 0; /* never interrupt */
}

/* Brings the schema to SCHEMA_VERSION in one write transaction, so two
 * processes opening an old file at once migrate it once. */
static enum mrd_code migrate(struct sq_conn *c, const struct store_open_opts *opts,
                             struct mrd_err *err)
{
    struct migrate_progress mp;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int version = 0;
    int src;

    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err);
    if (rc != MRD_OK)
        goto out;
    src = sqlite3_prepare_v2(c->db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = sq__fail(c, src, "schema version", err);
        goto out;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    (void)sqlite3_finalize(st);
    if (version > SCHEMA_VERSION) {
        rc = mrd_err_set(err, MRD_E_UNSUPP,
                         "store: database schema version %d is newer than this meridian "
                         "understands (%d)",
                         version, SCHEMA_VERSION);
        goto out;
    }
    if (opts != NULL && opts->ret_migrated_from != NULL)
        *opts->ret_migrated_from = version;
    memset(&mp, 0, sizeof(mp));
    mp.opts = opts;
    mp.p.from_version = version;
    mp.p.to_version = SCHEMA_VERSION;
    mp.p.total_steps = (unsigned)(SCHEMA_VERSION - version);
    (void)clock_gettime(CLOCK_MONOTONIC, &mp.t0);
    if (opts != NULL && opts->progress != NULL && version < SCHEMA_VERSION && version > 0)
        sqlite3_progress_handler(c->db, SQ_PROGRESS_OPS, on_progress, &mp);
    for (int v = version; v < SCHEMA_VERSION; v++) {
        mp.p.step_version = v + 1;
        mp.p.done_steps = (unsigned)(v - version);
        if (opts != NULL && opts->progress != NULL && version > 0) {
            mp.p.elapsed_s = since(&mp.t0);
            opts->progress(opts->progress_ctx, &mp.p);
        }
        rc = sq__exec(c, migrations[v], err);
        if (rc == MRD_OK && migrations[v] == agg_tables)
            rc = agg_install(c, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "migration to schema version %d", v + 1);
            goto out;
        }
    }
    sqlite3_progress_handler(c->db, 0, NULL, NULL);
    if (version < SCHEMA_VERSION) {
        char sql[96];
        (void)snprintf(sql, sizeof(sql),
                       "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
                       SCHEMA_VERSION);
        rc = sq__exec(c, sql, err);
        if (rc != MRD_OK)
            goto out;
    }
    rc = sq__exec(c, "COMMIT", err);
    if (rc == MRD_OK && opts != NULL && opts->progress != NULL && version > 0 &&
        version < SCHEMA_VERSION) {
        mp.p.done_steps = mp.p.total_steps;
        mp.p.elapsed_s = since(&mp.t0);
        mp.p.finished = true;
        opts->progress(opts->progress_ctx, &mp.p);
    }
out:
    sqlite3_progress_handler(c->db, 0, NULL, NULL);
    if (rc != MRD_OK)
        sq__rollback(c);
    return rc;
}

/* ---- administrative records ---- */

#define ACQUIRE(s, c, err)                                                                         \
    do {                                                                                           \
        rc = sq__acquire((s), &(c), (err));                                                        \
        if (rc != MRD_OK)                                                                          \
            return rc;                                                                             \
    } while (0)

static int64_t now_usec(void)
{
    return mrd_time_now_usec();
}

/* ---- tokens ---- */

#define TOKEN_COLS STORE_TOKEN_SELECT

void sq__token_from_row(sqlite3_stmt *st, struct store_token *t)
{
    struct store_rowrd r = sq__rowrd(st);

    store__token_from(&r, t);
}

static enum mrd_code token_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    (void)err;
    sq__token_from_row(st, ctx);
    return MRD_OK;
}

static enum mrd_code sq_token_revoke(struct store *stp, const char *name_or_prefix,
                                     struct store_token *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_token found;
    struct store_tx tx;
    char name[STORE_NAME_MAX + 1] = "";
    size_t n = strlen(name_or_prefix);
    uint64_t matches = 0;
    enum mrd_code rc;

    ACQUIRE(s, c, err);
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK)
        goto out;
    /* An exact name wins; otherwise a prefix of the public token prefix
     * (as shown by `token list`), which must be unambiguous. */
    rc = sq__run(c, "token revoke", TOKEN_COLS "WHERE t.name = ?1", SQ_ARGS(SQ_STR(name_or_prefix)),
                 token_row, &found, &matches, err);
    if (rc != MRD_OK)
        goto out;
    if (matches == 0 && n == STORE_TOKEN_LEN) {
        /* the whole secret (a leaked token pasted as is): find it by hash */
        unsigned char hash[STORE_TOKEN_HASH_LEN];
        store__token_hash(name_or_prefix, n, hash);
        rc = sq__run(c, "token revoke", TOKEN_COLS "WHERE t.hash = ?1",
                     SQ_ARGS(SQ_BLOB(hash, sizeof(hash))), token_row, &found, &matches, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (matches == 0 && n >= 4 && n <= STORE_TOKEN_PREFIX_LEN) {
        rc = sq__run(c, "token revoke", TOKEN_COLS "WHERE substr(t.prefix, 1, ?2) = ?1",
                     SQ_ARGS(SQ_STR(name_or_prefix), SQ_INT(n)), token_row, &found, &matches, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (matches == 0) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no token named or starting with '%s'",
                         name_or_prefix);
        goto out;
    }
    if (matches > 1) {
        rc = mrd_err_set(err, MRD_E_CONFLICT, "'%s' matches %llu tokens: give more of it",
                         name_or_prefix, (unsigned long long)matches);
        goto out;
    }
    (void)mrd_strlcpy(name, found.name, sizeof(name));
    if (found.revoked_usec == STORE_TIME_NONE) {
        found.revoked_usec = now_usec();
        rc = sq__run(c, "token revoke", "UPDATE tokens SET revoked = ?2 WHERE name = ?1",
                     SQ_ARGS(SQ_STR(name), SQ_INT(found.revoked_usec)), NULL, NULL, NULL, err);
        if (rc != MRD_OK)
            goto out;
    }
    /* Revoking a token ends the console sessions opened with it. */
    tx = SQ_TX(c);
    rc = store__sessions_drop_token(&tx, name, err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__exec(c, "COMMIT", err);
    if (rc == MRD_OK && ret != NULL)
        *ret = found;
out:
    sq__release(s, c); /* rolls back on failure */
    return rc;
}

/* ---- open ---- */

/* Orgs, tokens, API roots, collections, grants and node metadata are
 * store_rows.c's, shared with PostgreSQL: they run through sq__driver. */
static const struct store_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .driver = &sq__driver,
    .org_create = store__org_create,
    .org_get = store__org_get,
    .org_list = store__org_list,
    .token_create = store__token_create,
    .token_rotate = store__token_rotate,
    .org_state = store__org_state,
    .org_revoke_access = store__org_revoke_access,
    .token_lookup = store__token_lookup,
    .token_access = store__token_access,
    .token_revoke = sq_token_revoke,
    .token_list = store__token_list,
    .api_root_put = store__api_root_put,
    .api_root_get = store__api_root_get,
    .api_root_list = store__api_root_list,
    .collection_create = store__collection_create,
    .collection_get = store__collection_get,
    .collection_list = store__collection_list,
    .grant_set = store__grant_set,
    .grant_get = store__grant_get,
    .objects_insert = sq__objects_insert,
    .objects_query = sq__objects_query,
    .objects_delete = sq__objects_delete,
    .objects_count = sq__objects_count,
    .status_put = sq__status_put,
    .status_get = sq__status_get,
    .status_purge = sq__status_purge,
    .meta_get = store__meta_get,
    .meta_set = store__meta_set,
    .grant_list = store__grant_list,
    .objects_insert_status = sq__objects_insert_status,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .write_begin = sq_write_begin,
    .write_end = sq_write_end,
    .hold_create = store__hold_create,
    .hold_update = store__hold_update,
    .hold_list = store__hold_list,
    .hold_objects = store__hold_objects,
    .objects_find = store__objects_find,
    .ledger_pending = store__ledger_pending,
    .ledger_mark = store__ledger_mark,
    .ledger_max_leaf = store__ledger_max_leaf,
    .session_create = store__session_create,
    .session_lookup = store__session_lookup,
    .session_end = store__session_end,
    .sessions_end = store__sessions_end,
    .value_search = store__value_search,
    .text_search = sq__text_search,
    .refs_to = store__refs_to,
    .snapshot = sq__snapshot,
    .ledger_recorded = store__ledger_recorded,
    .ledger_events = store__ledger_events,
    .event_add = store__event_add,
    .conflict_list = store__conflict_list,
    .agg_query = store__agg_query,
    .objects_newest = store__objects_newest,
    .sent_record = store__sent_record,
    .reads_record = sq__reads_record,
    .reads_list = store__reads_list,
    .reads_seal = store__reads_seal,
    .reads_digests = store__reads_digests,
    .reads_prune = store__reads_prune,
    .asset_add = store__asset_add,
    .asset_set = store__asset_set,
    .assets_list = store__assets_list,
    .notifications_add = store__notifications_add,
    .notifications_list = store__notifications_list,
    .contact_add = store__contact_add,
    .contact_remove = store__contact_remove,
    .contacts_list = store__contacts_list,
    .deliveries_enqueue = store__deliveries_enqueue,
    .deliveries_list = store__deliveries_list,
    .delivery_items = store__delivery_items,
    .delivery_update = store__delivery_update,
    .delivery_attempts = store__delivery_attempts,
    .feed_put = store__feed_put,
    .feed_list = store__feed_list,
    .feed_remove = store__feed_remove,
    .feed_items_set = store__feed_items_set,
    .feed_items = store__feed_items,
};

enum mrd_code store__sqlite_open(const char *dir, const struct store_open_opts *opts,
                                 struct store **ret, struct mrd_err *err)
{
    struct sq_store *s = NULL;
    struct sq_conn *c = NULL;
    bool create = opts != NULL && opts->create;
    struct stat sb;
    enum mrd_code rc;

    if (stat(dir, &sb) != 0)
        return mrd_err_sys(err, errno == ENOENT ? MRD_E_NOTFOUND : MRD_E_IO, errno,
                           "data directory %s", dir);
    if (!S_ISDIR(sb.st_mode))
        return mrd_err_set(err, MRD_E_INVAL, "data directory %s: not a directory", dir);
    s = mrd_calloc(1, sizeof(*s));
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    s->base.ops = &sq_ops;
    s->gen = atomic_fetch_add(&sq_generation, 1) + 1;
    (void)snprintf(s->path, sizeof(s->path), "%s/%s", dir, STORE_SQLITE_FILE);
    s->max_conn = opts != NULL && opts->max_conn > 0 ? opts->max_conn : STORE_DEFAULT_CONNS;
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    store__group_init(&s->ins);
    (void)pthread_mutex_init(&s->ckpt_mu, NULL);
    (void)pthread_cond_init(&s->ckpt_cv, NULL);
    if (!create && stat(s->path, &sb) != 0) {
        rc = mrd_err_sys(err, errno == ENOENT ? MRD_E_NOTFOUND : MRD_E_IO, errno,
                         "no database in %s (run 'meridian init')", dir);
        goto out;
    }
    rc = conn_open(s, create, &c, err);
    if (rc != MRD_OK)
        goto out;
    /* WAL is a property of the file: set once, it stays. Readers then never
     * block the writer, and CLI verbs can run beside the server. */
    rc = sq__exec(c, "PRAGMA journal_mode=WAL", err);
    if (rc != MRD_OK)
        goto out;
    rc = migrate(c, opts, err);
    if (rc == MRD_OK)
        rc = sq__index_backfill(c, err);
    if (rc != MRD_OK)
        goto out;
    s->n_open = 1;
    s->free_conns = c;
    c = NULL;
    *ret = &s->base;
    s = NULL;
out:
    conn_free(c);
    if (s != NULL)
        sq_close(&s->base);
    return rc;
}
