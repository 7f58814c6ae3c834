/*
 * match_store: indicators out of the node's store for `meridian match
 * --data DIR [--collection ID]`.
 *
 * Reads the latest version of every indicator in one collection (or in all
 * collections) and hands each stored body to the same callback the STIX
 * file loader uses, so activity (revoked, valid_from, valid_until) and
 * pattern handling are identical for files and the store. Reads with no
 * policy filter: this is the node operator matching the node's own data.
 */
#include <string.h>

#include "cli/match_run.h"
#include "store/store.h"

struct load {
    struct store *st;
    match_stix_fn cb;
    void *ctx;
    char *scratch;
    enum mrd_code rc;
    struct mrd_err *err;
};

static enum mrd_code emit(void *vctx, const struct store_row *row, struct mrd_err *err)
{
    struct load *l = vctx;

    if (row->body == NULL)
        return MRD_OK;
    return match_stix_each(row->body, row->body_len, l->scratch, l->cb, l->ctx, err);
}

static enum mrd_code one_collection(void *vctx, const struct store_collection *c)
{
    struct load *l = vctx;
    static const char *const types[] = {"indicator"};
    struct store_match m;
    struct store_query q;
    struct store_query_result res;

    memset(&m, 0, sizeof(m));
    m.types = types;
    m.n_types = 1;
    m.versions = STORE_VER_LAST;
    memset(&q, 0, sizeof(q));
    q.collection = c->key;
    q.added_after = STORE_TIME_NONE;
    q.match = &m;
    q.want_body = true;
    l->rc = store_objects_query(l->st, &q, NULL, emit, l, &res, l->err);
    if (l->rc != MRD_OK)
        mrd_err_prefix(l->err, "collection %s", c->id);
    return l->rc;
}

enum mrd_code match_load_store(const char *data_dir, const char *collection, char *scratch,
                               match_stix_fn cb, void *ctx, struct mrd_err *err)
{
    struct store *st = NULL;
    struct load l;
    enum mrd_code rc;

    rc = store_open(data_dir, NULL, &st, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "%s", data_dir);
        goto out;
    }
    memset(&l, 0, sizeof(l));
    l.st = st;
    l.cb = cb;
    l.ctx = ctx;
    l.scratch = scratch;
    l.err = err;
    if (collection != NULL) {
        struct store_collection c;
        rc = store_collection_get(st, NULL, 0, collection, strlen(collection), &c, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "--collection %s", collection);
            goto out;
        }
        rc = one_collection(&l, &c);
    } else {
        rc = store_collection_list(st, NULL, one_collection, &l, err);
    }
out:
    store_close(st);
    return rc;
}
