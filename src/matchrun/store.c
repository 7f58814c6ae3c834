/*
 * store.c: indicators out of the node's store for `meridian match
 * --data DIR [--collection ID]`.
 *
 * Reads the latest version of every indicator in one collection (or in all
 * collections) and hands each stored body to the same callback the STIX
 * file loader uses, so activity (revoked, valid_from, valid_until) and
 * pattern handling are identical for files and the store. Reads with no
 * policy filter: this is the node operator matching the node's own data.
 *
 * Two threads: a reader runs the store queries and copies the bodies into
 * chunks of about LOAD_CHUNK bytes ([u32 length][body]...), at most
 * LOAD_SLOTS of them in flight; the calling thread parses them and builds
 * the index. Reading the database and parsing each take about half of a
 * load (1,000,000 indicators), so the two cores share it.
 */
#include <pthread.h>
#include <string.h>

#include "matchrun/matchrun_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "store/store.h"

#define LOAD_CHUNK ((size_t)4 << 20)
#define LOAD_SLOTS 4
#define LOAD_MAX_COLLECTIONS 100000

struct load {
    struct store *st;
    const char *collection; /* NULL: all */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct mrd_buf slots[LOAD_SLOTS];
    size_t head, count;
    bool done;  /* the reader has pushed its last chunk */
    bool abort; /* the parser failed: the reader stops */
    struct mrd_buf cur;
    enum mrd_code rc; /* the reader's */
    struct mrd_err err;
};

/* Reader: hands the current chunk over, waiting for a free slot. */
static enum mrd_code push(struct load *l)
{
    enum mrd_code rc = MRD_OK;

    (void)pthread_mutex_lock(&l->mu);
    while (l->count == LOAD_SLOTS && !l->abort)
        (void)pthread_cond_wait(&l->cv, &l->mu);
    if (l->abort) {
        rc = MRD_E_INTERNAL;
    } else {
        l->slots[(l->head + l->count) % LOAD_SLOTS] = l->cur;
        l->count++;
        mrd_buf_init(&l->cur, STORE_OBJECT_MAX + LOAD_CHUNK);
        (void)pthread_cond_broadcast(&l->cv);
    }
    (void)pthread_mutex_unlock(&l->mu);
    return rc;
}

static enum mrd_code emit(void *vctx, const struct store_row *row, struct mrd_err *err)
{
    struct load *l = vctx;
    uint32_t n = (uint32_t)row->body_len;
    enum mrd_code rc;

    if (row->body == NULL)
        return MRD_OK;
    rc = mrd_buf_append(&l->cur, &n, sizeof(n), err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(&l->cur, row->body, row->body_len, err);
    if (rc == MRD_OK && l->cur.len >= LOAD_CHUNK)
        rc = push(l);
    return rc;
}

static enum mrd_code one_collection(struct load *l, const struct store_collection *c)
{
    static const char *const types[] = {"indicator"};
    struct store_match m;
    struct store_query q;
    struct store_query_result res;
    enum mrd_code rc;

    memset(&m, 0, sizeof(m));
    m.types = types;
    m.n_types = 1;
    m.versions = STORE_VER_LAST;
    memset(&q, 0, sizeof(q));
    q.collection = c->key;
    q.added_after = STORE_TIME_NONE;
    q.match = &m;
    q.want_body = true;
    rc = store_objects_query(l->st, &q, NULL, emit, l, &res, &l->err);
    if (rc != MRD_OK && !l->abort)
        mrd_err_prefix(&l->err, "collection %s", c->id);
    return rc;
}

struct coll_list {
    struct store_collection *c;
    size_t n, cap;
};

static enum mrd_code coll_cb(void *ctx, const struct store_collection *c)
{
    struct coll_list *cl = ctx;

    if (cl->n == cl->cap && cl->cap * 2 > LOAD_MAX_COLLECTIONS)
        return MRD_E_TOOBIG;
    if (mrd_array_grow(&cl->c, cl->n, &cl->cap, sizeof(*cl->c), 8) != MRD_OK)
        return MRD_E_NOMEM;
    cl->c[cl->n++] = *c;
    return MRD_OK;
}

static void *reader_main(void *arg)
{
    struct load *l = arg;
    struct coll_list cl = {0};
    enum mrd_code rc;

    /* The collections first: a store callback must not call the store. */
    if (l->collection != NULL) {
        struct store_collection c;

        rc =
            store_collection_get(l->st, NULL, 0, l->collection, strlen(l->collection), &c, &l->err);
        if (rc != MRD_OK)
            mrd_err_prefix(&l->err, "--collection %s", l->collection);
        else
            rc = coll_cb(&cl, &c);
    } else {
        rc = store_collection_list(l->st, NULL, coll_cb, &cl, &l->err);
    }
    if (rc != MRD_OK && l->err.msg[0] == '\0')
        mrd_err_set(&l->err, rc, "listing collections");
    for (size_t i = 0; i < cl.n && rc == MRD_OK; i++)
        rc = one_collection(l, &cl.c[i]);
    if (rc == MRD_OK && l->cur.len > 0)
        rc = push(l);
    mrd_free(cl.c);
    (void)pthread_mutex_lock(&l->mu);
    l->rc = rc;
    l->done = true;
    (void)pthread_cond_broadcast(&l->cv);
    (void)pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Parser: the next chunk, or false when the reader is done. */
static bool pop(struct load *l, struct mrd_buf *ret)
{
    bool got = false;

    (void)pthread_mutex_lock(&l->mu);
    while (l->count == 0 && !l->done)
        (void)pthread_cond_wait(&l->cv, &l->mu);
    if (l->count > 0) {
        *ret = l->slots[l->head];
        l->head = (l->head + 1) % LOAD_SLOTS;
        l->count--;
        got = true;
        (void)pthread_cond_broadcast(&l->cv);
    }
    (void)pthread_mutex_unlock(&l->mu);
    return got;
}

static enum mrd_code parse_chunk(const struct mrd_buf *b, char *scratch, match_stix_fn cb,
                                 void *ctx, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t off = 0; off + sizeof(uint32_t) <= b->len && rc == MRD_OK;) {
        uint32_t n;

        memcpy(&n, b->data + off, sizeof(n));
        off += sizeof(n);
        rc = match_stix_each(b->data + off, n, scratch, cb, ctx, err);
        off += n;
    }
    return rc;
}

enum mrd_code matchrun__store_each(const char *data_dir, const char *collection, char *scratch,
                                   match_stix_fn cb, void *ctx, struct mrd_err *err)
{
    struct load l;
    struct mrd_buf b;
    pthread_t reader;
    enum mrd_code rc;

    memset(&l, 0, sizeof(l));
    rc = store_open(data_dir, NULL, &l.st, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "%s", data_dir);
        return rc;
    }
    l.collection = collection;
    (void)pthread_mutex_init(&l.mu, NULL);
    (void)pthread_cond_init(&l.cv, NULL);
    mrd_buf_init(&l.cur, STORE_OBJECT_MAX + LOAD_CHUNK);
    if (pthread_create(&reader, NULL, reader_main, &l) != 0) {
        rc = mrd_err_set(err, MRD_E_INTERNAL, "cannot start the store reader thread");
        goto out;
    }
    while (pop(&l, &b)) {
        if (rc == MRD_OK)
            rc = parse_chunk(&b, scratch, cb, ctx, err);
        mrd_buf_release(&b);
        if (rc != MRD_OK) {
            (void)pthread_mutex_lock(&l.mu);
            l.abort = true; /* the reader stops at its next push */
            (void)pthread_cond_broadcast(&l.cv);
            (void)pthread_mutex_unlock(&l.mu);
        }
    }
    (void)pthread_join(reader, NULL);
    if (rc == MRD_OK && l.rc != MRD_OK) {
        rc = l.rc;
        if (err != NULL)
            *err = l.err;
    }
out:
    for (size_t i = 0; i < l.count; i++)
        mrd_buf_release(&l.slots[(l.head + i) % LOAD_SLOTS]);
    mrd_buf_release(&l.cur);
    (void)pthread_cond_destroy(&l.cv);
    (void)pthread_mutex_destroy(&l.mu);
    store_close(l.st);
    return rc;
}
