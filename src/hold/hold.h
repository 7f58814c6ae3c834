/*
 * hold: preservation orders (legal holds) and the evidence package of a
 * case (docs/ledger.md, "Holds").
 *
 * Does: selects the object versions a hold preserves (by id, by STIX
 * pattern, by TAXII filters), creates, renews and releases holds, lists
 * and shows them, builds a case's evidence package (ledger/evidence.h) and
 * records every action as a ledger event queued in the store in the same
 * transaction as the change: SHA-256 of the action's canonical JSON
 * (RFC 8785), which records the Budapest Convention article 29 fields and a
 * digest of the held versions.
 * Does not: open the data directory or the ledger (the caller passes a
 * store and, for exports, a ledger and the node's checkpoint signer), write
 * files, print or log. `meridian hold`, `meridian evidence export --case`
 * and the console call the same functions.
 * Threading: every call works on the store it is given; none keeps state.
 * Errors: enum mrd_code + struct mrd_err. MRD_E_INVAL: the request itself
 * is malformed (the message names the option, e.g. "--days: ..."), a usage
 * error for a CLI. MRD_E_NOTFOUND: an --object id is not stored, the
 * selection is empty, a hold id is unknown, or a case has no active hold.
 * MRD_E_CONFLICT: the hold was released. Anything else: store or ledger.
 */
#ifndef MRD_HOLD_H
#define MRD_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/timestamp.h"
#include "store/store.h"

struct ledger;
struct ckpt_signer;

#define HOLD_DAYS_MAX 90       /* Budapest Convention article 16: at most 90 days, renewable */
#define HOLD_TEXT_MAX 2048     /* one free-text field (authority, reason, ...) */
#define HOLD_OBJECTS_MAX 256   /* ids in one --object selection */
#define HOLD_CASE_HOLDS_MAX 64 /* active holds of one case in one package */

#define HOLD_USEC_PER_DAY ((int64_t)86400 * 1000000)

/* What to preserve and why. Exactly one selector: objects, pattern or
 * query. */
struct hold_request {
    const char *case_id, *authority, *reason;   /* required */
    const char *offence, *relation, *necessity; /* NULL: not given */
    const char *location; /* NULL: "meridian node N (org O), data directory D" */
    const char *data_dir; /* for that default location; may be NULL */
    bool mla;             /* mutual assistance intended */
    unsigned days;        /* 1..HOLD_DAYS_MAX */
    /* selectors */
    const char *const *objects; /* every stored version of each id (deduplicated) */
    size_t n_objects;
    const char *pattern; /* SCOs it matches, indicators comparing what it matches,
                          * and the objects that refer to those */
    const char *query;   /* TAXII filters, as the objects endpoint reads them */
    const struct store_collection *collection; /* NULL: every collection */
};

/* A created hold. */
struct hold_created {
    char id[STORE_UUID_LEN + 1];
    size_t items; /* object versions preserved */
    char expires[MRD_TIME_TAXII_LEN + 1];
};

/* Checks one free-text option: at most HOLD_TEXT_MAX bytes of UTF-8.
 * MRD_E_INVAL naming "--what" otherwise. s NULL is fine. */
enum mrd_code hold_text_check(const char *what, const char *s, struct mrd_err *err);

/* Parses a --days value (1..HOLD_DAYS_MAX). MRD_E_INVAL otherwise. */
enum mrd_code hold_days_parse(const char *s, unsigned *ret, struct mrd_err *err);

/* Selects, records and stores a new hold at time now. A selection of
 * nothing is MRD_E_NOTFOUND and stores nothing. */
enum mrd_code hold_create(struct store *st, const struct hold_request *req, int64_t now,
                          struct hold_created *ret, struct mrd_err *err);

/* Renews hold id for days from now; ret_expires gets the new expiry. */
enum mrd_code hold_renew(struct store *st, const char *id, unsigned days, int64_t now,
                         char ret_expires[MRD_TIME_TAXII_LEN + 1], struct mrd_err *err);

/* Releases hold id (reason may be NULL); its versions may be deleted again. */
enum mrd_code hold_release(struct store *st, const char *id, const char *reason, int64_t now,
                           struct mrd_err *err);

/* "active", "lapsed" or "released". */
const char *hold_state(const struct store_hold *h, int64_t now);

/* One hold as list shows it. */
struct hold_summary {
    const struct store_hold *h;
    const char *state;
    const char *authority; /* "?" when the record has none */
};

/* Calls cb for each hold of case_id (NULL: every case), in creation order;
 * only active ones unless all. */
enum mrd_code hold_list(struct store *st, const char *case_id, bool all, int64_t now,
                        enum mrd_code (*cb)(void *ctx, const struct hold_summary *s,
                                            struct mrd_err *err),
                        void *ctx, struct mrd_err *err);

/* The hold's record with "state" and "held_versions" (collection, id,
 * version, sha256, ledger_leaf of each) added; the caller owns *ret. */
enum mrd_code hold_show(struct store *st, const char *id, int64_t now, json_t **ret,
                        struct mrd_err *err);

/* A case's evidence package. */
struct hold_export {
    size_t objects;     /* object versions in the package */
    uint64_t tree_size; /* the checkpoint they are proved into */
};

/* Builds the evidence package of case_id into pkg: the versions preserved
 * by the case's active holds (exact bytes), an inclusion proof of each into
 * a checkpoint signed now by signer, and the signed manifest. log is the
 * node's ledger, writable when this process holds it (the checkpoint is
 * then kept as the log's checkpoint). MRD_E_NOTFOUND when the case has no
 * active hold, preserves nothing, or a version is not in the ledger yet.
 * Nothing is recorded: call hold_export_record once the package is kept. */
enum mrd_code hold_export_build(struct store *st, struct ledger *log, bool writable,
                                const struct ckpt_signer *signer, const char *case_id, int64_t now,
                                struct mrd_buf *pkg, struct hold_export *ret, struct mrd_err *err);

/* Records on each active hold of case_id that the package pkg (its
 * SHA-256, tree size and object count) was handed over. */
enum mrd_code hold_export_record(struct store *st, const char *case_id, const uint8_t *pkg,
                                 size_t pkg_len, const struct hold_export *x, int64_t now,
                                 struct mrd_err *err);

#endif
