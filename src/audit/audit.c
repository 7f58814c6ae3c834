/*
 * audit.c: the access audit (audit.h).
 */
#include "audit/audit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "ledger/ledger.h"
#include "policy/policy.h"

#define SEAL_CHUNK 10000 /* rows read per store call while sealing or verifying */
#define SEAL_DONE_MAX 16 /* digests finished per chunk before they are stored */
#define RECORD_MAX 1024  /* a digest's JSON record */

const char *audit_path_name(enum audit_path p)
{
    static const char *const names[] = {"taxii",  "export",    "feed",      "console",
                                        "search", "sync-pull", "sync-push", "private"};

    return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "unknown";
}

bool audit_path_known(const char *name)
{
    for (unsigned p = 0;; p++) {
        const char *n = audit_path_name((enum audit_path)p);
        if (strcmp(n, "unknown") == 0)
            return false;
        if (strcmp(n, name) == 0)
            return true;
    }
}

void audit_begin(struct audit_batch *b, struct store *st, enum audit_path path, const char *org,
                 const char *token)
{
    b->st = st;
    b->path = path;
    b->n = 0;
    store_read_pack_init(&b->pk, b->items, sizeof(b->items));
    (void)mrd_strlcpy(b->org, org != NULL && org[0] != '\0' ? org : "anonymous", sizeof(b->org));
    (void)mrd_strlcpy(b->token, token != NULL && token[0] != '\0' ? token : "-", sizeof(b->token));
}

enum mrd_code audit_note(struct audit_batch *b, const struct store_row *row, struct mrd_err *err)
{
    if (!policy_read_audited(&row->policy))
        return MRD_OK;
    if (b->n == AUDIT_BATCH_MAX || b->pk.size - b->pk.len < STORE_READ_PACKED_MAX) {
        enum mrd_code rc = audit_flush(b, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (!store_read_pack_put(&b->pk, row->id, row->id_len,
                             row->version_usec == STORE_VERSION_NONE ? row->date_added
                                                                     : row->version_usec,
                             (int)row->policy.tlp))
        return mrd_err_set(err, MRD_E_INVAL, "access audit: object id of %zu bytes not recordable",
                           row->id_len);
    b->n++;
    return MRD_OK;
}

static bool service_take(struct audit_batch *b, const struct store_read_who *who);

enum mrd_code audit_flush(struct audit_batch *b, struct mrd_err *err)
{
    struct store_read_batch g = {{b->org, b->token, audit_path_name(b->path), mrd_time_now_usec()},
                                 b->pk.buf,
                                 b->pk.len,
                                 b->n};
    enum mrd_code rc;

    if (b->n == 0)
        return MRD_OK;
    /* serve: queued for its writer (one transaction for all threads'
     * pages every AUDIT_FLUSH_MS); elsewhere written now */
    if (service_take(b, &g.who)) {
        b->n = 0;
        store_read_pack_init(&b->pk, b->items, sizeof(b->items));
        return MRD_OK;
    }
    rc = store_reads_record(b->st, &g, 1, err);
    b->n = 0;
    store_read_pack_init(&b->pk, b->items, sizeof(b->items));
    if (rc != MRD_OK)
        mrd_err_prefix(err, "access audit");
    return rc;
}

size_t audit_line(const struct store_read_row *r, char *out, size_t size)
{
    int n = snprintf(out, size, "%" PRId64 "\t%" PRId64 "\t%.*s\t%" PRId64 "\t%d\t%s\t%s\t%s\n",
                     r->id, r->time_usec, (int)r->object_id_len, r->object_id, r->version_usec,
                     r->tlp, r->org, r->token, r->path);

    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* ---- sealing ---- */

struct seal_ctx {
    crypto_hash_sha256_state h;
    bool open;
    int64_t day;
    struct store_read_digest cur;
    struct store_read_digest done[SEAL_DONE_MAX];
    size_t n_done;
    bool full;
    int64_t until;    /* rows at or after this time are left unsealed */
    bool stopped;     /* a row at or after until was reached */
    int64_t consumed; /* the last row hashed */
};

static enum mrd_code seal_row(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct seal_ctx *x = ctx;
    char line[AUDIT_LINE_MAX];
    size_t len;
    int64_t day = r->time_usec / AUDIT_DAY_USEC - (r->time_usec % AUDIT_DAY_USEC < 0 ? 1 : 0);

    if (x->full || x->stopped)
        return MRD_OK; /* read again by the next chunk, or left for a later seal */
    /* by the stored row's time: its rows are sealed together (a merged
     * row's pages have times of their own) */
    if (r->stored_usec >= x->until) {
        x->stopped = true;
        return MRD_OK;
    }
    if (x->open && day != x->day) {
        if (x->n_done == SEAL_DONE_MAX) {
            x->full = true;
            return MRD_OK;
        }
        crypto_hash_sha256_final(&x->h, x->cur.hash);
        x->done[x->n_done++] = x->cur;
        x->open = false;
    }
    if (!x->open) {
        crypto_hash_sha256_init(&x->h);
        memset(&x->cur, 0, sizeof(x->cur));
        x->cur.first = r->id;
        x->cur.from_usec = r->time_usec;
        x->day = day;
        x->open = true;
    }
    len = audit_line(r, line, sizeof(line));
    if (len == 0)
        return mrd_err_set(err, MRD_E_TOOBIG, "access audit row %" PRId64 " is too long", r->id);
    crypto_hash_sha256_update(&x->h, (const unsigned char *)line, len);
    x->cur.last = r->id;
    x->cur.to_usec = r->time_usec;
    x->cur.count++;
    x->consumed = r->id;
    return MRD_OK;
}

/* The digest's ledger record: canonical JSON (RFC 8785). */
static enum mrd_code digest_record(const struct store_read_digest *d, int64_t day,
                                   struct mrd_buf *out, struct mrd_err *err)
{
    char hex[65], from[MRD_TIME_TAXII_LEN + 1], to[MRD_TIME_TAXII_LEN + 1], dayts[32];
    json_t *j = json_object();
    enum mrd_code rc;

    if (j == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "access audit digest");
    sodium_bin2hex(hex, sizeof(hex), d->hash, sizeof(d->hash));
    mrd_time_format_taxii(d->from_usec, from);
    mrd_time_format_taxii(d->to_usec, to);
    mrd_time_format_taxii(day * AUDIT_DAY_USEC, dayts);
    dayts[10] = '\0'; /* YYYY-MM-DD */
    (void)json_object_set_new(j, "type", json_string(AUDIT_DIGEST_TYPE));
    (void)json_object_set_new(j, "day", json_string(dayts));
    (void)json_object_set_new(j, "first", json_integer(d->first));
    (void)json_object_set_new(j, "last", json_integer(d->last));
    (void)json_object_set_new(j, "count", json_integer((json_int_t)d->count));
    (void)json_object_set_new(j, "from", json_string(from));
    (void)json_object_set_new(j, "to", json_string(to));
    (void)json_object_set_new(j, "sha256", json_string(hex));
    rc = mrd_jcs_write(j, out, err);
    json_decref(j);
    return rc;
}

static enum mrd_code seal_one(struct store *st, struct store_read_digest *d,
                              struct audit_seal_report *rep, struct mrd_err *err)
{
    struct mrd_buf rec;
    int64_t day = d->from_usec / AUDIT_DAY_USEC - (d->from_usec % AUDIT_DAY_USEC < 0 ? 1 : 0);
    enum mrd_code rc;

    mrd_buf_init(&rec, RECORD_MAX);
    rc = digest_record(d, day, &rec, err);
    if (rc == MRD_OK) {
        struct store_ledger_event ev = {.kind = LEDGER_KIND_ACCESS,
                                        .time_usec = mrd_time_now_usec(),
                                        .record = rec.data,
                                        .record_len = rec.len};
        rc = store_reads_seal(st, d, &ev, err);
    }
    if (rc == MRD_OK) {
        rep->digests++;
        rep->rows += d->count;
    }
    mrd_buf_release(&rec);
    return rc;
}

static enum mrd_code last_sealed(void *ctx, const struct store_read_digest *d, struct mrd_err *err)
{
    (void)err;
    if (d->last > *(int64_t *)ctx)
        *(int64_t *)ctx = d->last;
    return MRD_OK;
}

enum mrd_code audit_seal(struct store *st, int64_t until_usec, struct audit_seal_report *ret,
                         struct mrd_err *err)
{
    struct audit_seal_report rep = {0};
    struct seal_ctx *x = sodium_malloc(sizeof(*x));
    int64_t after = 0;
    enum mrd_code rc;

    if (x == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "access audit seal");
    memset(x, 0, sizeof(*x));
    x->until = until_usec;
    rc = store_reads_digests(st, last_sealed, &after, err);
    x->consumed = after;
    while (rc == MRD_OK) {
        struct store_read_filter f = {
            .since_usec = STORE_TIME_NONE, .after_id = x->consumed, .limit = SEAL_CHUNK};
        bool more = false;

        x->n_done = 0;
        x->full = false;
        rc = store_reads_list(st, &f, seal_row, x, &more, err);
        for (size_t i = 0; i < x->n_done && rc == MRD_OK; i++)
            rc = seal_one(st, &x->done[i], &rep, err);
        if (rc != MRD_OK || ((more || x->full) && !x->stopped))
            continue;
        if (x->open) {
            crypto_hash_sha256_final(&x->h, x->cur.hash);
            rc = seal_one(st, &x->cur, &rep, err);
        }
        break;
    }
    sodium_free(x);
    if (ret != NULL)
        *ret = rep;
    return rc;
}

/* ---- verification ---- */

struct verify_ctx {
    struct store *st;
    void (*cb)(void *ctx, const struct audit_verify_item *it);
    void *cb_ctx;
    struct audit_verify_report rep;
    int64_t last; /* the highest row any digest seals */
};

struct rehash_ctx {
    crypto_hash_sha256_state h;
    uint64_t count;
    int64_t first, last, from, to;
};

static enum mrd_code rehash_row(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct rehash_ctx *x = ctx;
    char line[AUDIT_LINE_MAX];
    size_t len = audit_line(r, line, sizeof(line));

    if (len == 0)
        return mrd_err_set(err, MRD_E_TOOBIG, "access audit row %" PRId64 " is too long", r->id);
    if (x->count == 0) {
        x->first = r->id;
        x->from = r->time_usec;
    }
    x->last = r->id;
    x->to = r->time_usec;
    x->count++;
    crypto_hash_sha256_update(&x->h, (const unsigned char *)line, len);
    return MRD_OK;
}

/* Recomputes digest d from its rows into it->ok / it->why. */
static enum mrd_code check_digest(struct store *st, const struct store_read_digest *d,
                                  struct audit_verify_item *it, struct mrd_err *err)
{
    struct rehash_ctx x;
    struct store_read_digest again = *d;
    struct mrd_buf rec;
    uint8_t h[32];
    int64_t after = d->first - 1;
    bool more = true;
    enum mrd_code rc = MRD_OK;

    memset(&x, 0, sizeof(x));
    crypto_hash_sha256_init(&x.h);
    while (rc == MRD_OK && more) {
        struct store_read_filter f = {.since_usec = STORE_TIME_NONE,
                                      .after_id = after,
                                      .through_id = d->last,
                                      .limit = SEAL_CHUNK};
        uint64_t before = x.count;
        rc = store_reads_list(st, &f, rehash_row, &x, &more, err);
        if (x.count == before)
            break;
        after = x.last;
    }
    if (rc != MRD_OK)
        return rc;
    crypto_hash_sha256_final(&x.h, h);
    it->ok = false;
    if (x.count != d->count)
        (void)snprintf(it->why, sizeof(it->why),
                       "%" PRIu64 " rows where the digest sealed %" PRIu64
                       " (rows deleted or added)",
                       x.count, d->count);
    else if (x.count > 0 && (x.first != d->first || x.last != d->last))
        (void)snprintf(it->why, sizeof(it->why), "rows renumbered");
    else if (sodium_memcmp(h, d->hash, sizeof(h)) != 0)
        (void)snprintf(it->why, sizeof(it->why), "the rows' SHA-256 differs (a row was changed)");
    else
        it->ok = true;
    if (!it->ok)
        return MRD_OK;
    /* the digest row must say what its ledger record says */
    mrd_buf_init(&rec, RECORD_MAX);
    memcpy(again.hash, h, sizeof(h));
    again.from_usec = x.from;
    again.to_usec = x.to;
    rc = digest_record(&again,
                       d->from_usec / AUDIT_DAY_USEC - (d->from_usec % AUDIT_DAY_USEC < 0 ? 1 : 0),
                       &rec, err);
    if (rc == MRD_OK && (d->record == NULL || d->record_len != rec.len ||
                         memcmp(d->record, rec.data, rec.len) != 0)) {
        it->ok = false;
        (void)snprintf(it->why, sizeof(it->why), "the digest differs from its ledger record");
    }
    mrd_buf_release(&rec);
    return rc;
}

static enum mrd_code verify_one(void *ctx, const struct store_read_digest *d, struct mrd_err *err)
{
    struct verify_ctx *x = ctx;
    struct audit_verify_item it = {.d = d};
    enum mrd_code rc = MRD_OK;

    x->rep.digests++;
    if (d->last > x->last)
        x->last = d->last;
    if (d->leaf < 0)
        x->rep.pending_leaf++;
    if (d->pruned_usec != STORE_TIME_NONE) {
        it.pruned = true;
        it.ok = true;
        x->rep.pruned++;
    } else {
        rc = check_digest(x->st, d, &it, err);
        if (rc != MRD_OK)
            return rc;
        if (it.ok)
            x->rep.ok++;
        else
            x->rep.bad++;
    }
    if (x->cb != NULL)
        x->cb(x->cb_ctx, &it);
    return MRD_OK;
}

struct tail_ctx {
    uint64_t n;
    int64_t last;
};

static enum mrd_code count_row(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct tail_ctx *t = ctx;

    (void)err;
    t->n++;
    t->last = r->id;
    return MRD_OK;
}

enum mrd_code audit_verify(struct store *st,
                           void (*cb)(void *ctx, const struct audit_verify_item *it), void *ctx,
                           struct audit_verify_report *ret, struct mrd_err *err)
{
    struct verify_ctx x = {.st = st, .cb = cb, .cb_ctx = ctx};
    enum mrd_code rc = store_reads_digests(st, verify_one, &x, err);
    struct tail_ctx t = {0, x.last};
    bool more = true;

    /* the rows after the last digest: not sealed yet */
    while (rc == MRD_OK && more) {
        struct store_read_filter f = {
            .since_usec = STORE_TIME_NONE, .after_id = t.last, .limit = SEAL_CHUNK};
        rc = store_reads_list(st, &f, count_row, &t, &more, err);
    }
    x.rep.unsealed = t.n;
    if (ret != NULL)
        *ret = x.rep;
    return rc;
}

enum mrd_code audit_prune(struct store *st, unsigned days, int64_t now_usec, uint64_t *ret_rows,
                          struct mrd_err *err)
{
    enum mrd_code rc;

    if (days < 1 || days > 36500)
        return mrd_err_set(err, MRD_E_INVAL, "audit retention: %u days is not 1..36500", days);
    /* what is old enough to go is sealed first: its digest stays */
    rc = audit_seal(st, now_usec - (int64_t)days * AUDIT_DAY_USEC, NULL, err);
    if (rc == MRD_OK)
        rc = store_reads_prune(st, now_usec - (int64_t)days * AUDIT_DAY_USEC, now_usec, ret_rows,
                               err);
    return rc;
}

/* ---- serve's thread ---- */

/* One queued page of reads. */
struct queued {
    struct queued *next;
    struct store_read_batch g;
    char org[STORE_NAME_MAX + 1];
    char token[STORE_READ_WHO_MAX + 1];
    uint8_t items[];
};

struct audit_service {
    struct store *st;
    unsigned days;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    struct queued *head, **tail; /* guarded by mu */
    size_t queued_rows;
};

/* The running service (one per process: serve's) and its store. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct audit_service *g_svc;

static bool service_take(struct audit_batch *b, const struct store_read_who *who)
{
    struct queued *q;
    bool taken = false;

    /* made before the process-wide lock is taken: every request thread's
     * flush passes it, and the copy (about 1.7 KB a page of 100) need not
     * be done under it; given back when there is no service to take it */
    q = mrd_malloc(sizeof(*q) + b->pk.len);
    if (q == NULL)
        return false; /* written by the caller */
    q->next = NULL;
    (void)mrd_strlcpy(q->org, who->org, sizeof(q->org));
    (void)mrd_strlcpy(q->token, who->token, sizeof(q->token));
    memcpy(q->items, b->pk.buf, b->pk.len);
    q->g = (struct store_read_batch){
        {q->org, q->token, who->path, who->time_usec}, q->items, b->pk.len, b->n};
    (void)pthread_mutex_lock(&g_mu);
    if (g_svc != NULL && g_svc->st == b->st && g_svc->queued_rows < AUDIT_QUEUE_MAX) {
        (void)pthread_mutex_lock(&g_svc->mu);
        *g_svc->tail = q;
        g_svc->tail = &q->next;
        g_svc->queued_rows += b->n;
        (void)pthread_mutex_unlock(&g_svc->mu);
        taken = true;
    }
    (void)pthread_mutex_unlock(&g_mu);
    if (!taken)
        mrd_free(q);
    return taken; /* else written by the caller (a full queue pushes back) */
}

/* ---- merging pages: one stored row a round and reader ---- */

/* A merged row being made. */
struct merging {
    struct store_read_batch g; /* who: the first page's strings; time: the latest page's */
    struct mrd_buf buf;
    int64_t prev; /* the time of the page put last */
    int64_t day;
    size_t seq;
};

static int64_t utc_day(int64_t usec)
{
    return usec / AUDIT_DAY_USEC - (usec % AUDIT_DAY_USEC < 0 ? 1 : 0);
}

static uint64_t who_hash(const struct store_read_who *w, int64_t day)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)day; /* FNV-1a */
    const char *parts[3] = {w->org, w->token, w->path};

    for (int i = 0; i < 3; i++) {
        for (const char *c = parts[i]; *c != '\0'; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL; /* a separator no name holds */
    }
    return h;
}

static bool who_same(const struct store_read_who *a, const struct store_read_who *b)
{
    return strcmp(a->org, b->org) == 0 && strcmp(a->token, b->token) == 0 &&
           strcmp(a->path, b->path) == 0;
}

static int merging_order(const void *a, const void *b)
{
    const struct merging *x = a, *y = b;

    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

enum mrd_code audit_write_pages(struct store *st, const struct store_read_batch *pages, size_t n,
                                struct mrd_err *err)
{
    struct merging *m = NULL;
    struct store_read_batch *gs = NULL;
    size_t *open = NULL, slots = 1, nm = 0;
    bool days = false;
    enum mrd_code rc = MRD_OK;

    if (n == 0)
        return MRD_OK;
    while (slots < 2 * n)
        slots *= 2;
    /* at most one merged row per page; open[h]: 1 + the merged row still
     * taking pages of the reader (and day) hashed to h */
    m = mrd_calloc(n, sizeof(*m));
    open = mrd_calloc(slots, sizeof(*open));
    gs = mrd_calloc(n, sizeof(*gs));
    if (m == NULL || open == NULL || gs == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "access audit: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        const struct store_read_batch *p = &pages[i];
        int64_t day = utc_day(p->who.time_usec);
        size_t h = (size_t)(who_hash(&p->who, day) & (slots - 1));
        struct merging *o = NULL;

        for (; open[h] != 0; h = (h + 1) & (slots - 1)) {
            struct merging *c = &m[open[h] - 1];
            if (c->day == day && who_same(&c->g.who, &p->who)) {
                o = c;
                break;
            }
        }
        if (o != NULL && o->g.n + p->n <= STORE_READS_MAX) {
            rc = store_read_merge_put(&o->buf, &o->prev, p->packed, p->packed_len, p->who.time_usec,
                                      err);
            if (rc == MRD_E_TOOBIG) {
                mrd_err_clear(err);
                rc = MRD_OK;
            } else if (rc == MRD_OK) {
                o->g.n += p->n;
                if (p->who.time_usec > o->g.who.time_usec)
                    o->g.who.time_usec = p->who.time_usec;
                continue;
            } else {
                break;
            }
        }
        /* a new merged row for this reader (the full one, if any, is
         * left as it is: its slot now names the new one) */
        o = &m[nm];
        o->g.who = p->who;
        o->g.n = p->n;
        o->day = day;
        o->seq = nm;
        mrd_buf_init(&o->buf, STORE_READ_MERGED_MAX);
        rc = store_read_merge_put(&o->buf, &o->prev, p->packed, p->packed_len, p->who.time_usec,
                                  err);
        nm++;
        open[h] = nm;
        if (nm > 1 && day != m[0].day)
            days = true;
    }
    if (rc != MRD_OK)
        goto out;
    /* a round that spans a UTC midnight: the earlier day's rows first, so
     * that the day's digest takes them all */
    if (days)
        qsort(m, nm, sizeof(*m), merging_order);
    for (size_t i = 0; i < nm; i++) {
        gs[i] = m[i].g;
        gs[i].packed = (const uint8_t *)m[i].buf.data;
        gs[i].packed_len = m[i].buf.len;
    }
    rc = store_reads_record(st, gs, nm, err);
out:
    for (size_t i = 0; m != NULL && i < nm; i++)
        mrd_buf_release(&m[i].buf);
    mrd_free(m);
    mrd_free(open);
    mrd_free(gs);
    return rc;
}

/* Writes what is queued: one transaction; on failure it stays queued. */
static void service_write(struct audit_service *s)
{
    struct queued *list, *q;
    struct store_read_batch *gs;
    struct mrd_err err = {0};
    size_t n = 0, i = 0;

    (void)pthread_mutex_lock(&s->mu);
    list = s->head;
    s->head = NULL;
    s->tail = &s->head;
    s->queued_rows = 0;
    (void)pthread_mutex_unlock(&s->mu);
    if (list == NULL)
        return;
    for (q = list; q != NULL; q = q->next)
        n++;
    gs = mrd_malloc(n * sizeof(*gs));
    if (gs != NULL) {
        for (q = list; q != NULL; q = q->next)
            gs[i++] = q->g;
        if (audit_write_pages(s->st, gs, n, &err) == MRD_OK) {
            mrd_free(gs);
            while (list != NULL) {
                q = list->next;
                mrd_free(list);
                list = q;
            }
            return;
        }
        mrd_free(gs);
        mrd_log(MRD_LOG_WARN, "access audit: %s (kept for the next round)", err.msg);
    }
    /* back in front of whatever came meanwhile */
    (void)pthread_mutex_lock(&s->mu);
    for (q = list; q->next != NULL; q = q->next)
        s->queued_rows += q->g.n;
    s->queued_rows += q->g.n;
    q->next = s->head;
    if (s->head == NULL)
        s->tail = &q->next;
    s->head = list;
    (void)pthread_mutex_unlock(&s->mu);
}

/* ---- serve's thread ---- */

static void service_round(struct audit_service *s)
{
    struct mrd_err err = {0};
    uint64_t pruned = 0;
    int64_t now = mrd_time_now_usec();

    /* the days that ended: one digest each */
    if (audit_seal(s->st, now - now % AUDIT_DAY_USEC, NULL, &err) != MRD_OK)
        mrd_log(MRD_LOG_WARN, "access audit: %s", err.msg);
    if (audit_prune(s->st, s->days, mrd_time_now_usec(), &pruned, &err) != MRD_OK)
        mrd_log(MRD_LOG_WARN, "access audit: %s", err.msg);
    else if (pruned > 0)
        mrd_log(MRD_LOG_INFO, "access audit: %llu rows older than %u days deleted",
                (unsigned long long)pruned, s->days);
}

static void *service_main(void *arg)
{
    struct audit_service *s = arg;
    int64_t next_round = 0;

    (void)pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec until;
        (void)pthread_mutex_unlock(&s->mu);
        service_write(s);
        if (mrd_time_now_usec() >= next_round) {
            service_round(s);
            next_round = mrd_time_now_usec() + (int64_t)AUDIT_SEAL_INTERVAL_S * 1000000;
        }
        (void)pthread_mutex_lock(&s->mu);
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)AUDIT_FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
            ;
    }
    (void)pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum mrd_code audit_service_start(struct store *st, unsigned retention_days,
                                  struct audit_service **ret, struct mrd_err *err)
{
    struct audit_service *s;

    *ret = NULL;
    if (retention_days < 1 || retention_days > 36500)
        return mrd_err_set(err, MRD_E_INVAL, "audit-retention-days: %u is not 1..36500",
                           retention_days);
    s = mrd_calloc(1, sizeof(*s));
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "access audit: out of memory");
    s->st = st;
    s->days = retention_days;
    s->tail = &s->head;
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, service_main, s) != 0) {
        (void)pthread_cond_destroy(&s->cv);
        (void)pthread_mutex_destroy(&s->mu);
        mrd_free(s);
        return mrd_err_set(err, MRD_E_INTERNAL, "access audit: cannot start its thread");
    }
    (void)pthread_mutex_lock(&g_mu);
    if (g_svc == NULL)
        g_svc = s;
    (void)pthread_mutex_unlock(&g_mu);
    *ret = s;
    return MRD_OK;
}

void audit_service_stop(struct audit_service *s)
{
    if (s == NULL)
        return;
    (void)pthread_mutex_lock(&g_mu);
    if (g_svc == s)
        g_svc = NULL; /* no more queueing: flushes write themselves */
    (void)pthread_mutex_unlock(&g_mu);
    (void)pthread_mutex_lock(&s->mu);
    s->stop = true;
    (void)pthread_cond_signal(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
    (void)pthread_join(s->thread, NULL);
    service_write(s);         /* what was queued last */
    while (s->head != NULL) { /* could not be written: said in the log */
        struct queued *q = s->head->next;
        mrd_free(s->head);
        s->head = q;
    }
    (void)pthread_cond_destroy(&s->cv);
    (void)pthread_mutex_destroy(&s->mu);
    mrd_free(s);
}
