/*
 * store_erase.c: erasing object versions for retention and erasure
 * requests (store.h, "erasure"), written once for both backends over
 * their driver.
 *
 * A version is erased with everything derived from it: its value-index
 * rows (recomputed from its bytes, so each delete is a primary-key seek),
 * its free-text words and references (the backend's unindex_text, SQLite
 * only), its share of the aggregates (SQLite's delete triggers), the
 * copies of its values kept elsewhere (the value of each early-warning
 * notification it raised, the bytes of the other copies recorded as
 * conflicts with this version) and its row. Its ledger leaf stays: the
 * ledger holds hashes, never bytes. The notification and conflict rows
 * stay too, without the erased bytes, so their history still reads.
 */
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

/* ---- which versions are held ---- */

struct held_args {
    const int64_t *seqs;
    size_t n;
    bool *held;
};

static enum mrd_code held_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct held_args *a = args;

    for (size_t i = 0; i < a->n; i++) {
        enum mrd_code rc;

        a->held[i] = false;
        rc = store__check_holds(tx, &a->seqs[i], 1, err);
        if (rc == MRD_E_PERM) {
            a->held[i] = true;
            mrd_err_clear(err);
        } else if (rc != MRD_OK) {
            return rc;
        }
    }
    return MRD_OK;
}

enum mrd_code store_objects_held(struct store *st, const int64_t *seqs, size_t n, bool *ret_held,
                                 struct mrd_err *err)
{
    struct held_args a = {seqs, n, ret_held};

    if (n > STORE_ERASE_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "store: more than %d versions in one erase",
                           STORE_ERASE_MAX);
    if (n == 0)
        return MRD_OK;
    return st->ops->driver->read_tx(st, held_op, &a, err);
}

/* ---- erase ---- */

struct victim {
    int64_t collection;
    int64_t version;
    char id[STORE_STIX_ID_MAX + 1];
    size_t id_len;
    char *body;
    size_t body_len;
    bool found;
};

static enum mrd_code victim_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct victim *v = ctx;
    const char *id, *body;
    size_t id_len = 0, body_len = 0;

    v->collection = r->i64(r, 0);
    id = r->text(r, 1, &id_len);
    body = r->blob(r, 2, &body_len);
    v->version = r->i64(r, 3);
    if (id_len > STORE_STIX_ID_MAX)
        id_len = STORE_STIX_ID_MAX;
    memcpy(v->id, id, id_len);
    v->id[id_len] = '\0';
    v->id_len = id_len;
    v->body = mrd_malloc(body_len + 1);
    if (v->body == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    memcpy(v->body, body, body_len);
    v->body[body_len] = '\0';
    v->body_len = body_len;
    v->found = true;
    return MRD_OK;
}

struct unvalue_ctx {
    const struct store_tx *tx;
    int64_t seq;
};

static enum mrd_code unindex_value(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    struct unvalue_ctx *u = ctx;

    return u->tx->ops->run(u->tx->conn, false, "erase",
                           "DELETE FROM value_index WHERE kind = ?1 AND key = ?2 AND seq = ?3",
                           SQ_ARGS(SQ_INT(v->kind), SQ_BLOB(v->key, v->len), SQ_INT(u->seq)), NULL,
                           NULL, NULL, err);
}

static enum mrd_code erase_one(const struct store_tx *tx, int64_t seq, bool *ret_done,
                               struct mrd_err *err)
{
    struct victim v = {0};
    struct unvalue_ctx u = {tx, seq};
    enum mrd_code rc;

    *ret_done = false;
    rc = tx->ops->run(tx->conn, false, "erase",
                      "SELECT collection, stix_id, body, version FROM objects WHERE seq = ?1",
                      SQ_ARGS(SQ_INT(seq)), victim_row, &v, NULL, err);
    if (rc != MRD_OK || !v.found)
        goto out;
    rc = store_values_of_object(v.body, v.body_len, unindex_value, &u, err);
    if (rc == MRD_OK && tx->ops->unindex_text != NULL)
        rc = tx->ops->unindex_text(tx->conn, seq, err);
    if (rc == MRD_OK)
        rc = tx->ops->run(tx->conn, false, "erase",
                          "UPDATE notifications SET value = '' WHERE seq = ?1",
                          SQ_ARGS(SQ_INT(seq)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = tx->ops->run(tx->conn, false, "erase",
                          "UPDATE conflicts SET other_body = NULL WHERE collection = ?1"
                          " AND stix_id = ?2 AND version = ?3 AND other_seq IS NULL"
                          " AND other_body IS NOT NULL",
                          SQ_ARGS(SQ_INT(v.collection), SQ_TEXT(v.id, v.id_len), SQ_INT(v.version)),
                          NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = tx->ops->run(tx->conn, false, "erase", "DELETE FROM objects WHERE seq = ?1",
                          SQ_ARGS(SQ_INT(seq)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = store__refresh_ends(tx, v.collection, v.id, v.id_len, err);
    if (rc == MRD_OK)
        *ret_done = true;
out:
    mrd_free(v.body);
    return rc;
}

struct erase_args {
    const int64_t *seqs;
    size_t n;
    const struct store_ledger_event *ev;
    size_t erased;
};

static enum mrd_code erase_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct erase_args *a = args;
    enum mrd_code rc = MRD_OK;

    /* holds win: checked inside the transaction that deletes */
    rc = store__check_holds(tx, a->seqs, a->n, err);
    for (size_t i = 0; i < a->n && rc == MRD_OK; i++) {
        bool done = false;

        rc = erase_one(tx, a->seqs[i], &done, err);
        a->erased += done;
    }
    if (rc == MRD_OK && a->ev != NULL)
        rc = store__queue_event(tx, a->ev, NULL, err);
    return rc;
}

enum mrd_code store_objects_erase(struct store *st, const int64_t *seqs, size_t n,
                                  const struct store_ledger_event *ev, size_t *ret_erased,
                                  struct mrd_err *err)
{
    struct erase_args a = {seqs, n, ev, 0};
    enum mrd_code rc;

    if (n > STORE_ERASE_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "store: more than %d versions in one erase",
                           STORE_ERASE_MAX);
    if (n == 0 && ev == NULL) {
        if (ret_erased != NULL)
            *ret_erased = 0;
        return MRD_OK;
    }
    rc = st->ops->driver->write_tx(st, erase_op, &a, err);
    if (rc == MRD_OK && ret_erased != NULL)
        *ret_erased = a.erased;
    return rc;
}
