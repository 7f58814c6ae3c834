/*
 * feed: bringing outside data in (docs/interop.md, issue 12): the import
 * pipeline shared by `meridian import` and scheduled feeds, and the feeds
 * themselves (fetched over HTTP on an interval inside `meridian serve`, or
 * once by `meridian feed fetch`).
 *
 * Does: turns files and fetched bodies (STIX bundles, envelopes, lists,
 * MISP events and feeds, text and CSV value lists) into stored objects.
 * Every object is checked by the STIX validator (stix_validate_object),
 * optionally repaired first (interop_repair), then goes through the one
 * ingest step of every write path (fed_ingest_canon: TLP decided by
 * policy_tlp_ingest, signed or verified) and store_objects_insert (value
 * index, ledger queue), in batches of FEED_IMPORT_BATCH objects or
 * FEED_IMPORT_BATCH_BYTES, each one committed transaction. JSON input is
 * read as a stream (core/jstream.h): one object at a time, named by its
 * index and byte offset when bad, so memory stays bounded whatever its
 * size.
 * Does not: print or log (messages go to the caller's hooks), decide TLP
 * (policy.h), parse the formats themselves (interop.h).
 * Threading: a struct feed_importer is used by one thread; inside, it
 * prepares queued objects (validation, canonical form, signature) on up to
 * 4 threads of its own at a time, and reports and stores them in their
 * order on the caller's thread.
 * Errors: enum mrd_code + struct mrd_err; per-object problems are
 * messages and counts, not errors.
 */
#ifndef MRD_FEED_FEED_H
#define MRD_FEED_FEED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "fed/fed.h"
#include "interop/interop.h"
#include "store/store.h"

#define FEED_IMPORT_BATCH 4096 /* objects per transaction */
/* ... or fewer when their canonical bytes reach this: the batch's parsed
 * objects (about 8 times their text) stay well under the memory bound */
#define FEED_IMPORT_BATCH_BYTES ((size_t)8 << 20)
#define FEED_IMPORT_BODY_KEEP 65536   /* a body buffer larger than this is freed after its batch */
#define FEED_IMPORT_ERRORS_SHOWN 5    /* findings (or bad lines) reported per object (file) */
#define FEED_IMPORT_MAX_RECIPIENTS 16 /* recipients of an import */
#define FEED_IMPORT_MAX_LINE 65536    /* one line of a text or CSV list */
#define FEED_IMPORT_READ ((size_t)1 << 20)
#define FEED_IMPORT_MAX_LABELS 16

/* How a text or CSV list becomes indicators. */
struct feed_list_opts {
    bool csv, text;
    enum interop_kind kind; /* INTEROP_K_COUNT: auto */
    const char *column;     /* CSV: the value column's name or 1-based number */
    char sep;
    const char *tlp_id; /* a TLP 2.0 marking id, or NULL */
    int confidence;     /* -1: none */
    char valid_from[32], valid_until[32];
    const char *labels[FEED_IMPORT_MAX_LABELS];
    size_t n_labels;
};

/* Sets lo to: auto kind, ',' separator, no confidence, nothing else. */
void feed_list_opts_init(struct feed_list_opts *lo);

/* What an import did. */
struct feed_counts {
    size_t objects, added, duplicates, invalid, conflicts;
};

/* An import's verdict (numerically the CLI's exit codes). */
enum feed_verdict {
    FEED_OK = 0,      /* every object stored or already present */
    FEED_INVALID = 1, /* some object or file was invalid; the valid ones were stored */
    FEED_FAILED = 2,  /* I/O, store or memory failure: objects after the last batch are lost */
};

enum feed_msg_kind {
    FEED_MSG_ERROR = 0, /* something skipped or failed ("PATH: object 3 ...: ...") */
    FEED_MSG_DETAIL,    /* a line belonging to the previous error (a validator finding) */
    FEED_MSG_INFO,      /* a summary or a repair */
};

/* Where an import's messages and progress go. Messages are plain text
 * holding names and values from outside: the receiver escapes them before
 * showing them. Every member may be NULL. */
struct feed_import_hooks {
    void (*msg)(void *ctx, enum feed_msg_kind kind, const char *text);
    void (*progress_begin)(void *ctx, const char *unit, uint64_t total);
    void (*progress_tick)(void *ctx, uint64_t done);
    /* a JSON input read as a stream: done objects, bytes of it read, its
     * size (0: unknown) */
    void (*progress_stream)(void *ctx, uint64_t done, uint64_t bytes, uint64_t total_bytes);
    void (*progress_end)(void *ctx);
    /* each object stored now or already present (its STIX id) */
    void (*stored)(void *ctx, const char *id, size_t len);
    void *ctx;
};

struct feed_import_opts {
    struct feed_list_opts list; /* list.csv or list.text: the input is a value list */
    bool repair;                /* interop_repair before validation */
    int64_t recipients[FEED_IMPORT_MAX_RECIPIENTS];
    size_t n_recipients;
};

struct feed_importer;

/* An importer into coll of st, creator org (LOCAL origin unless org is a
 * partner), trust for signing and verifying (may be NULL). Everything is
 * borrowed and must outlive the importer. */
enum mrd_code feed_importer_new(struct store *st, const struct store_collection *coll,
                                const struct store_org *org, const struct fed_trust *trust,
                                const struct feed_import_opts *opts,
                                const struct feed_import_hooks *hooks, struct feed_importer **ret,
                                struct mrd_err *err);
void feed_importer_free(struct feed_importer *im);

/* Imports the file at path ('-' is stdin; a directory is a MISP feed:
 * manifest.json and one <uuid>.json per event). Counts add to *total. */
enum feed_verdict feed_import_file(struct feed_importer *im, const char *path,
                                   struct feed_counts *total);
/* Imports data (len bytes, named name in messages), as feed_import_file
 * would a file of that content. */
enum feed_verdict feed_import_buffer(struct feed_importer *im, const char *name, const char *data,
                                     size_t len, struct feed_counts *total);
/* Imports data as STIX or MISP JSON whatever the list options say (the
 * expired versions of a list feed's vanished values). */
enum feed_verdict feed_import_stix(struct feed_importer *im, const char *name, const char *data,
                                   size_t len, struct feed_counts *total);
/* Objects repaired, and invalid ones --repair would have fixed. */
void feed_importer_repairs(const struct feed_importer *im, size_t *ret_repaired,
                           size_t *ret_fixable);

/* ---- scheduled feeds (feed.c) ---- */

#define FEED_URL_MAX 2048
#define FEED_PATH_MAX 4096
#define FEED_TOKEN_MAX 512
#define FEED_ERROR_MAX 256
#define FEED_COLUMN_MAX 64
#define FEED_LABEL_MAX 64
#define FEED_MAX_FEEDS 1000                       /* feeds one node runs */
#define FEED_DEFAULT_MAX_BYTES ((size_t)64 << 20) /* one response, unless --max-size */
#define FEED_MAX_BYTES_LIMIT ((size_t)1 << 30)    /* the largest --max-size */
#define FEED_DEFAULT_TIMEOUT_S 120                /* one request, unless --timeout */
#define FEED_MAX_TIMEOUT_S 3600
#define FEED_MIN_INTERVAL_S 1
#define FEED_MAX_INTERVAL_S (366 * 86400)
#define FEED_MAX_MISP_EVENTS 10000 /* events fetched from one MISP manifest */
#define FEED_EXPIRE_BATCH 256      /* vanished indicators expired per store query */

enum feed_format {
    FEED_F_MISP = 0, /* a MISP feed: URL/manifest.json, then URL/<uuid>.json per event */
    FEED_F_CSV,      /* a CSV value list (header row) */
    FEED_F_TEXT,     /* one value per line */
    FEED_F_STIX,     /* a STIX bundle (or list, or object) */
    FEED_F_TAXII,    /* a TAXII 2.1 objects endpoint: one envelope */
    FEED_F_COUNT
};
const char *feed_format_name(enum feed_format f);
bool feed_format_parse(const char *s, enum feed_format *ret);
/* csv, text and misp: values that vanish from the list are expired. */
bool feed_format_is_list(enum feed_format f);

/* A feed's configuration (`meridian feed add|set`). */
struct feed_config {
    char name[STORE_NAME_MAX + 1];
    char url[FEED_URL_MAX + 1];
    enum feed_format format;
    char collection[STORE_UUID_LEN + 1]; /* the local collection's id */
    char as_org[STORE_NAME_MAX + 1];     /* creator org; "" = the node's own org */
    unsigned interval_s;
    bool has_tlp; /* lists: a TLP marking on every indicator */
    enum policy_tlp tlp;
    enum interop_kind kind; /* lists: INTEROP_K_COUNT = auto */
    int confidence;         /* lists: -1 none */
    char column[FEED_COLUMN_MAX + 1];
    char labels[FEED_IMPORT_MAX_LABELS][FEED_LABEL_MAX + 1];
    size_t n_labels;
    size_t max_bytes;               /* of one response */
    unsigned timeout_s;             /* of one request */
    char token[FEED_TOKEN_MAX + 1]; /* Bearer token sent to the feed ("" none); never shown */
    char ca_file[FEED_PATH_MAX + 1];
    bool enabled;
};

/* Defaults: interval 1 h, text, auto kind, no confidence, size and time
 * limits as above, enabled. */
void feed_config_init(struct feed_config *c);

/* A feed's fetch state. */
struct feed_state {
    char etag[256];
    char last_modified[64];
    int64_t last_ok_usec;      /* 0 never */
    int64_t last_attempt_usec; /* 0 never */
    int64_t next_attempt_usec; /* 0 now */
    unsigned failures;         /* in a row */
    char last_error[FEED_ERROR_MAX + 1];
    char last_result[24]; /* a feed_result name */
    uint64_t fetches, added, expired;
};

/* What one round of one feed did (also a metric label: result). */
enum feed_result {
    FEED_R_OK = 0,       /* fetched and imported */
    FEED_R_NOT_MODIFIED, /* 304 */
    FEED_R_HTTP_ERROR,   /* a status other than 200/304 */
    FEED_R_UNREACHABLE,  /* connection, TLS or read failure */
    FEED_R_TIMEOUT,      /* past timeout_s */
    FEED_R_TOO_BIG,      /* past max_bytes */
    FEED_R_GARBAGE,      /* nothing usable in the body */
    FEED_R_STORE_ERROR,  /* the store failed */
    FEED_R_COUNT
};
const char *feed_result_name(enum feed_result r);

struct feed_report {
    char name[STORE_NAME_MAX + 1];
    bool attempted; /* false: disabled or not due */
    enum feed_result result;
    struct feed_counts counts;
    uint64_t expired; /* indicators that vanished and were expired now */
    uint64_t revived; /* indicators expired before and listed again now */
    unsigned failures;
    int64_t next_attempt_usec;
    int64_t usec;
    char error[FEED_ERROR_MAX + 1];
};

struct admin;

/* Adds, replaces or removes a feed, with an audit record (admin.h; the
 * token is never in it). add checks the fields and the collection. */
enum mrd_code feed_add(struct admin *a, const struct feed_config *c, struct mrd_err *err);
enum mrd_code feed_set(struct admin *a, const struct feed_config *c, struct mrd_err *err);
enum mrd_code feed_remove(struct admin *a, const char *name, struct mrd_err *err);
/* ret_state may be NULL. MRD_E_NOTFOUND. */
enum mrd_code feed_get(struct store *st, const char *name, struct feed_config *ret,
                       struct feed_state *ret_state, struct mrd_err *err);
/* Every feed in name order. */
enum mrd_code feed_list(struct store *st,
                        enum mrd_code (*cb)(void *ctx, const struct feed_config *c,
                                            const struct feed_state *s, struct mrd_err *err),
                        void *ctx, struct mrd_err *err);

/* One round of feed name: conditional GET, import through the pipeline
 * above, expiry of vanished list values, state saved (failures and
 * back-off, or the next attempt after interval_s). force: also when
 * disabled or not due. Failures of the feed are in ret, not returned. */
enum mrd_code feed_round(struct store *st, const struct fed_trust *trust, const char *name,
                         bool force, const atomic_bool *stop, struct feed_report *ret,
                         struct mrd_err *err);

/* The thread of `meridian serve` that runs each feed when due, one after
 * the other; cb (may be NULL) gets every attempted round's report, and
 * (attempted false) a failure to read the feed table: a store backend
 * without feeds is reported once, then the thread ends. Loads the node
 * key of data_dir. fed_global_init must have run. */
struct feed_runner;
enum mrd_code feed_runner_start(const char *data_dir, struct store *st,
                                void (*cb)(void *ctx, const struct feed_report *r), void *ctx,
                                struct feed_runner **ret, struct mrd_err *err);
/* Stops the thread (transfers in progress are aborted). NULL-safe. */
void feed_runner_stop(struct feed_runner *r);

/* ---- export feeds over HTTP (feed_api.c) ---- */

#define FEED_API_MAX_BODY ((size_t)512 << 20) /* one export answer */

struct api_router;

/* GET /api/v1/feeds/{format}?collection=ID&filters and
 * /api/v1/feeds/{format}/{collection}/{file} (docs/api.md): what
 * `meridian export --as-org` writes for the requesting token's org, with
 * a strong ETag, minimised as such an export is (privacy, borrowed: it
 * must outlive the server; each feed takes the policy in force when it
 * starts). Before the server starts. */
enum mrd_code feed_api_routes(struct store *st, struct privacy_live *privacy,
                              struct api_router *router, struct mrd_err *err);

#endif
