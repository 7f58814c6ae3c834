/*
 * hold internals shared by hold.c (records, create, renew, release, list,
 * show), select.c (what a hold preserves) and export.c (case packages).
 */
#ifndef MRD_HOLD_INT_H
#define MRD_HOLD_INT_H

#include <sodium.h>

#include "hold/hold.h"

struct pat_prog;
struct pat_scratch;

/* Ids as NUL-terminated strings: the pattern's matches so far. */
struct idset {
    char (*ids)[STORE_STIX_ID_MAX + 1];
    size_t n, cap;
};

/* Object versions a hold will preserve, and a running digest of them. */
struct hold__items {
    int64_t *seqs;
    size_t n, cap;
    crypto_hash_sha256_state digest;
    /* --pattern */
    const struct pat_prog *prog; /* the hold's pattern */
    struct pat_scratch *scratch;
    json_t *term_scos;    /* an SCO per term of the hold's pattern when simple, else NULL */
    struct idset matched; /* ids held so far, sorted between passes */
    struct idset found;   /* ids the current referrer pass adds */
    bool referrer_pass;   /* passes after the first: objects that refer to matched ids */
    enum mrd_code eval_rc;
    char eval_msg[MRD_ERR_MSG_MAX];
};

/* Fills it with what req selects (every selector; the digest covers each
 * version added). MRD_E_INVAL for a malformed selector (usage), MRD_E_NOTFOUND
 * for an --object id that is not stored. */
enum mrd_code hold__select(struct store *st, const struct hold_request *req, struct hold__items *it,
                           struct mrd_err *err);

/* A copy of one hold and its record. */
struct hold__copy {
    struct store_hold h;
    json_t *record;
};

/* Loads hold id; MRD_E_NOTFOUND when there is none. */
enum mrd_code hold__load(struct store *st, const char *id, struct hold__copy *ret,
                         struct mrd_err *err);

/* Writes hold c (record updated) with a ledger event for action; consumes
 * extra. */
enum mrd_code hold__save(struct store *st, struct hold__copy *c, const char *action, uint8_t kind,
                         int64_t now, json_t *extra, struct mrd_err *err);

#endif
