/*
 * audit: the access audit -- who read which sensitive object version,
 * when, and through which path (docs/privacy.md, "Access audit").
 *
 * Every path that sends objects out (TAXII, export, feeds, the console,
 * search, federation pulls and pushes) decides each row with
 * policy_may_read(); right after a row that was actually sent, it calls
 * audit_note() with that row. audit_note() keeps the rows that
 * policy_read_audited() marks sensitive (TLP:AMBER and above) in a batch
 * (its id, version and TLP packed in binary, store_read_pack_put: about
 * 17 bytes an object, no allocation, no lookup per object) and
 * audit_flush() writes the batch as ONE stored row, so a page of 100
 * objects costs one insert of about 1.7 KB; serve's audit thread merges
 * the pages of each reader it writes in one round into one stored row
 * (audit_write_pages). Rows record
 * time, STIX id, version, TLP, org, token name (never its secret) and
 * path.
 *
 * Tamper evidence: audit_seal() seals the rows not yet sealed by one
 * digest per UTC day they span (first..last row id, count, time span,
 * SHA-256 over the rows' canonical lines, audit_line()); each digest is a
 * ledger event of kind LEDGER_KIND_ACCESS (its record is the leaf's
 * preimage), stored in the transaction that stores the digest. serve
 * seals every hour; `meridian audit seal` on demand. audit_verify()
 * recomputes every kept digest from its rows. Retention: audit_prune()
 * deletes the rows of the digests older than the retention (the digests
 * and their leaves stay, so the history still verifies).
 *
 * Not here: the read decision (policy.h), printing (cli/cli_audit.c).
 * A struct audit_batch is used by one thread at a time. Never logs.
 */
#ifndef MRD_AUDIT_AUDIT_H
#define MRD_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define AUDIT_DIGEST_TYPE "meridian-access-audit-digest"
#define AUDIT_BATCH_MAX 1000  /* rows kept before a flush: one TAXII page */
#define AUDIT_ITEMS_MAX 16384 /* bytes of packed rows kept before a flush */
#define AUDIT_LINE_MAX (STORE_STIX_ID_MAX + STORE_NAME_MAX + STORE_READ_WHO_MAX + 128)
#define AUDIT_DAY_USEC ((int64_t)86400 * 1000000)

/* The paths a read leaves through (the "path" column). */
enum audit_path {
    AUDIT_TAXII = 0,
    AUDIT_EXPORT,
    AUDIT_FEED,
    AUDIT_CONSOLE,
    AUDIT_SEARCH,
    AUDIT_SYNC_PULL,
    AUDIT_SYNC_PUSH,
    AUDIT_PRIVATE, /* indicators revealed to a private-matching partner */
};

/* "taxii", "export", "feed", "console", "search", "sync-pull",
 * "sync-push", "private"; "unknown" out of range. */
const char *audit_path_name(enum audit_path p);

/* True when name is one of the names audit_path_name gives. */
bool audit_path_known(const char *name);

struct audit_batch {
    struct store *st;
    char org[STORE_NAME_MAX + 1];
    char token[STORE_READ_WHO_MAX + 1];
    enum audit_path path;
    size_t n;                  /* rows kept */
    struct store_read_pack pk; /* their page, packed in items */
    uint8_t items[AUDIT_ITEMS_MAX];
};

/* Starts a batch for reads by org (NULL or "": "anonymous") with token
 * (a token name, "cli:USER", "peer:NAME"; NULL: "-") through path. */
void audit_begin(struct audit_batch *b, struct store *st, enum audit_path path, const char *org,
                 const char *token);

/* Notes that row was sent to the reader; kept when policy_read_audited()
 * says so. Flushes when the batch is full (AUDIT_BATCH_MAX rows or no
 * room for one more item). */
enum mrd_code audit_note(struct audit_batch *b, const struct store_row *row, struct mrd_err *err);

/* Writes the kept rows (one stored row) and empties the batch; in serve,
 * queues them for its audit thread (audit_service_start). */
enum mrd_code audit_flush(struct audit_batch *b, struct mrd_err *err);

/* Writes pages[0..n) (each one page as audit_flush makes it: packed,
 * read at its who.time_usec) in one transaction, MERGED: one stored row
 * for all the pages of one reader (org, token, path) and UTC day, each
 * page keeping its time (store.h, "merged pages"); a row is split past
 * STORE_READS_MAX rows or STORE_READ_MERGED_MAX bytes. Rows are numbered
 * reader by reader, in the order each reader's first page came (a round
 * that spans a UTC midnight: the earlier day first). What serve's audit
 * thread does every AUDIT_FLUSH_MS: a few inserts a round instead of one
 * a page. */
enum mrd_code audit_write_pages(struct store *st, const struct store_read_batch *pages, size_t n,
                                struct mrd_err *err);

/* A row's canonical line, as digests hash it:
 * "ID\tTIME_USEC\tOBJECT_ID\tVERSION_USEC\tTLP\tORG\tTOKEN\tPATH\n".
 * Returns its length (0 when it does not fit). */
size_t audit_line(const struct store_read_row *r, char *out, size_t size);

struct audit_seal_report {
    unsigned digests; /* made by this call */
    uint64_t rows;    /* sealed by this call */
};

/* Seals the rows not yet sealed up to the first stored row whose time
 * (its latest page's, stored_usec) is at or after until_usec (INT64_MAX:
 * all of them): one digest per UTC day they span.
 * serve seals the days that ended (one digest per day); `meridian audit
 * seal` everything up to now (the rest of today then gets a digest of
 * its own). */
enum mrd_code audit_seal(struct store *st, int64_t until_usec, struct audit_seal_report *ret,
                         struct mrd_err *err);

/* One digest as audit_verify checks it. */
struct audit_verify_item {
    const struct store_read_digest *d;
    bool pruned;   /* its rows were deleted by retention: not recomputed */
    bool ok;       /* rows, count, hash and ledger record agree */
    char why[160]; /* when not ok */
};

struct audit_verify_report {
    uint64_t digests, ok, bad, pruned, pending_leaf; /* pending_leaf: not in the ledger yet */
    uint64_t unsealed;                               /* rows after the last digest */
};

/* Recomputes every kept digest from its rows and checks it against its
 * ledger record; cb (may be NULL) sees each digest. ret->bad > 0 means
 * tampering (or a damaged database). */
enum mrd_code audit_verify(struct store *st,
                           void (*cb)(void *ctx, const struct audit_verify_item *it), void *ctx,
                           struct audit_verify_report *ret, struct mrd_err *err);

/* Seals the rows older than now_usec - days (1..36500), then deletes the
 * rows of every digest whose last row is older than that. */
enum mrd_code audit_prune(struct store *st, unsigned days, int64_t now_usec, uint64_t *ret_rows,
                          struct mrd_err *err);

/* serve's audit thread: every AUDIT_SEAL_INTERVAL_S (and at start) seals
 * the UTC days that ended, one digest per day, within the hour after the
 * day ends, and prunes by retention_days (1..36500). Failures are
 * logged, and retried at the next round. */
#define AUDIT_SEAL_INTERVAL_S 3600
/* While it runs, audit_flush() on its store queues the page instead of
 * writing it, and the thread writes everything queued every
 * AUDIT_FLUSH_MS in ONE transaction (audit_write_pages: one stored row
 * per reader): a busy server makes a few commits a second for its
 * audit, not one per request (each commit would cost every reader its
 * page cache). The rows of a read answered in the last
 * AUDIT_FLUSH_MS are lost if the process dies before the write; past
 * AUDIT_QUEUE_MAX queued rows, flushes write themselves again. */
#define AUDIT_FLUSH_MS 200
#define AUDIT_QUEUE_MAX 1000000
struct audit_service;
enum mrd_code audit_service_start(struct store *st, unsigned retention_days,
                                  struct audit_service **ret, struct mrd_err *err);
/* Seals once more, then stops the thread (NULL: no-op). */
void audit_service_stop(struct audit_service *s);

#endif
