/*
 * export.c: the evidence package of a case (hold.h): the versions its
 * active holds preserve, proved into a checkpoint signed now, and the
 * record of the export on each hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/str.h"
#include "hold/hold_int.h"
#include "ledger/checkpoint.h"
#include "ledger/evidence.h"
#include "ledger/ledger.h"

/* ---- evidence export of a case ---- */

struct export_obj {
    int64_t seq;
    int64_t leaf;
    uint8_t *data;
    size_t len;
    char id[STORE_STIX_ID_MAX + 1];
    char version[32];
};

struct export_ctx {
    struct export_obj *objs;
    size_t n, cap;
};

static int cmp_seq(const void *a, const void *b)
{
    int64_t x = ((const struct export_obj *)a)->seq, y = ((const struct export_obj *)b)->seq;

    return (x > y) - (x < y);
}

/* Sorts by seq and drops the versions two holds of the case share. */
static void export_unique(struct export_ctx *x)
{
    size_t k = 0;

    qsort(x->objs, x->n, sizeof(*x->objs), cmp_seq);
    for (size_t i = 0; i < x->n; i++) {
        if (k > 0 && x->objs[k - 1].seq == x->objs[i].seq)
            mrd_free(x->objs[i].data);
        else
            x->objs[k++] = x->objs[i];
    }
    x->n = k;
}

static enum mrd_code export_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct export_ctx *x = ctx;
    struct export_obj *e;

    if (x->n >= EVIDENCE_MAX_OBJECTS)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d objects in one package",
                           EVIDENCE_MAX_OBJECTS);
    if (mrd_array_grow(&x->objs, x->n, &x->cap, sizeof(*x->objs), 64) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    e = &x->objs[x->n];
    memset(e, 0, sizeof(*e));
    e->seq = o->row->seq;
    e->leaf = o->leaf;
    e->data = mrd_malloc(o->row->body_len > 0 ? o->row->body_len : 1);
    if (e->data == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    memcpy(e->data, o->row->body, o->row->body_len);
    e->len = o->row->body_len;
    (void)snprintf(e->id, sizeof(e->id), "%.*s", (int)o->row->id_len, o->row->id);
    if (o->row->modified_usec != STORE_TIME_NONE)
        mrd_time_format_taxii(o->row->modified_usec, e->version);
    x->n++;
    return MRD_OK;
}

struct case_holds {
    char ids[HOLD_CASE_HOLDS_MAX][STORE_UUID_LEN + 1];
    size_t n;
    int64_t now;
};

static enum mrd_code case_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct case_holds *c = ctx;

    if (strcmp(hold_state(h, c->now), "active") != 0)
        return MRD_OK;
    if (c->n >= HOLD_CASE_HOLDS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d active holds in one case",
                           HOLD_CASE_HOLDS_MAX);
    mrd_strlcpy(c->ids[c->n++], h->id, STORE_UUID_LEN + 1);
    return MRD_OK;
}

/* The active holds of case_id; MRD_E_NOTFOUND when none. */
static enum mrd_code case_active(struct store *st, const char *case_id, struct case_holds *ch,
                                 struct mrd_err *err)
{
    struct mrd_err e = {0};

    if (store_hold_list(st, NULL, case_id, case_cb, ch, &e) != MRD_OK)
        return mrd_err_set(err, e.code == MRD_E_TOOBIG ? MRD_E_TOOBIG : MRD_E_DB, "%s", e.msg);
    if (ch->n == 0)
        return mrd_err_set(err, MRD_E_NOTFOUND,
                           "case '%s' has no active hold (see 'meridian hold list --all')",
                           case_id);
    return MRD_OK;
}

/* Signs a checkpoint of log's current tree into note (kept as the log's
 * checkpoint when writable). */
static enum mrd_code sign_head(struct ledger *log, bool writable, const struct ckpt_signer *s,
                               int64_t now, struct mrd_buf *note, struct mrd_err *err)
{
    struct ckpt c;
    char ts[MRD_TIME_TAXII_LEN + 1];
    enum mrd_code rc;

    if (writable)
        return ledger_checkpoint(log, s, note, err);
    memset(&c, 0, sizeof(c));
    mrd_strlcpy(c.origin, s->name, sizeof(c.origin));
    c.size = ledger_size(log);
    mrd_time_format_taxii(now - now % 1000000, ts);
    /* "YYYY-MM-DDTHH:MM:SS" + "Z": the checkpoint's time has no fraction */
    (void)snprintf(c.time, sizeof(c.time), "%.19sZ", ts);
    rc = ledger_root(log, c.size, c.root, err);
    return rc == MRD_OK ? ckpt_sign(&c, s, note, err) : rc;
}

enum mrd_code hold_export_build(struct store *st, struct ledger *log, bool writable,
                                const struct ckpt_signer *signer, const char *case_id, int64_t now,
                                struct mrd_buf *pkg, struct hold_export *ret, struct mrd_err *err)
{
    struct case_holds *ch = NULL;
    struct export_ctx x = {0};
    struct evidence_object *objs = NULL;
    struct mrd_buf note;
    struct mrd_err e = {0};
    char created[MRD_TIME_TAXII_LEN + 1];
    uint64_t size;
    enum mrd_code rc;

    mrd_buf_init(&note, CKPT_MAX_NOTE);
    ch = mrd_calloc(1, sizeof(*ch));
    if (ch == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        goto out;
    }
    ch->now = now;
    rc = case_active(st, case_id, ch, err);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < ch->n; i++)
        if (store_hold_objects(st, ch->ids[i], export_cb, &x, &e) != MRD_OK) {
            rc = mrd_err_set(err, e.code == MRD_E_NOTFOUND ? MRD_E_DB : e.code, "%s", e.msg);
            goto out;
        }
    export_unique(&x);
    if (x.n == 0) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "the holds of case '%s' preserve no stored object",
                         case_id);
        goto out;
    }
    size = ledger_size(log);
    objs = mrd_calloc(x.n, sizeof(*objs));
    if (objs == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        goto out;
    }
    if (sign_head(log, writable, signer, now, &note, &e) != MRD_OK) {
        rc =
            mrd_err_set(err, e.code == MRD_E_NOTFOUND ? MRD_E_IO : e.code, "checkpoint: %s", e.msg);
        goto out;
    }
    for (size_t i = 0; i < x.n; i++) {
        int64_t leaf = x.objs[i].leaf;

        if (leaf < 0 || (uint64_t)leaf >= size) {
            rc = mrd_err_set(err, MRD_E_NOTFOUND,
                             "%s: the ledger has not recorded this version yet (a running server "
                             "records new versions within a second); try again",
                             x.objs[i].id);
            goto out;
        }
        if (evidence_object_at(log, (uint64_t)leaf, x.objs[i].data, x.objs[i].len, size, &objs[i],
                               &e) != MRD_OK) {
            rc = mrd_err_set(err, MRD_E_NOTFOUND, "%s: %s", x.objs[i].id, e.msg);
            goto out;
        }
        objs[i].id = x.objs[i].id;
        objs[i].version = x.objs[i].version[0] != '\0' ? x.objs[i].version : NULL;
    }
    mrd_time_format_taxii(now, created);
    if (evidence_write(case_id, created, objs, x.n, note.data, note.len, signer, pkg, &e) !=
        MRD_OK) {
        rc = mrd_err_set(err, e.code == MRD_E_NOTFOUND ? MRD_E_IO : e.code, "%s", e.msg);
        goto out;
    }
    ret->objects = x.n;
    ret->tree_size = size;
out:
    for (size_t i = 0; i < x.n; i++)
        mrd_free(x.objs[i].data);
    mrd_free(x.objs);
    mrd_free(objs);
    mrd_free(ch);
    mrd_buf_release(&note);
    return rc;
}

enum mrd_code hold_export_record(struct store *st, const char *case_id, const uint8_t *pkg,
                                 size_t pkg_len, const struct hold_export *x, int64_t now,
                                 struct mrd_err *err)
{
    struct case_holds *ch = mrd_calloc(1, sizeof(*ch));
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[sizeof(h) * 2 + 1];
    enum mrd_code rc;

    if (ch == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    ch->now = now;
    rc = case_active(st, case_id, ch, err);
    /* Each hold records that it was exported, and what was handed over. */
    crypto_hash_sha256(h, pkg, pkg_len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    for (size_t i = 0; i < ch->n && rc == MRD_OK; i++) {
        struct hold__copy c;
        json_t *extra = json_object();

        (void)json_object_set_new(extra, "package_sha256", json_string(hex));
        (void)json_object_set_new(extra, "tree_size", json_integer((json_int_t)x->tree_size));
        (void)json_object_set_new(extra, "objects", json_integer((json_int_t)x->objects));
        rc = hold__load(st, ch->ids[i], &c, err);
        if (rc == MRD_OK)
            rc = hold__save(st, &c, "export", LEDGER_KIND_HOLD_EXPORT, now, extra, err);
        else
            json_decref(extra);
        json_decref(c.record);
    }
    mrd_free(ch);
    return rc;
}
