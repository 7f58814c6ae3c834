/*
 * sync.c: draining the store's ledger queue into the ledger (sync.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "ledger/merkle.h"
#include "ledger/sync.h"

/* One batch being prepared. */
struct batch {
    struct store_ledger_mark marks[LEDGER_MAX_BATCH];
    struct ledger_entry entries[LEDGER_MAX_BATCH]; /* entry of marks[i] */
    size_t n;
};

/* Leaves appended before a crash whose leaves the store never recorded. */
struct orphans {
    uint64_t first; /* leaf index of orphan 0 */
    size_t n;
    uint8_t (*enc)[LEDGER_ENTRY_LEN];
    bool *used;
};

void ledger_object_entry(int64_t date_added_usec, const void *body, size_t len,
                         struct ledger_entry *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->kind = LEDGER_KIND_OBJECT;
    ret->time_ms = date_added_usec > 0 ? (uint64_t)date_added_usec / 1000 : 0;
    merkle_sha256(body, len, ret->hash);
}

/* The ledger entry that records a queued or recorded item. */
static void item_entry(const struct store_ledger_item *it, struct ledger_entry *e)
{
    if (it->event) {
        memset(e, 0, sizeof(*e));
        e->kind = it->kind;
        e->time_ms = it->time_usec > 0 ? (uint64_t)it->time_usec / 1000 : 0;
        memcpy(e->hash, it->hash, MERKLE_HASH_LEN);
    } else {
        ledger_object_entry(it->time_usec, it->body, it->body_len, e);
    }
}

static enum mrd_code collect(void *ctx, const struct store_ledger_item *it, struct mrd_err *err)
{
    struct batch *b = ctx;

    (void)err;
    if (b->n >= LEDGER_MAX_BATCH)
        return MRD_OK;
    item_entry(it, &b->entries[b->n]);
    b->marks[b->n].event = it->event;
    b->marks[b->n].key = it->key;
    b->n++;
    return MRD_OK;
}

/* The store records leaves the ledger does not have: this ledger is not
 * the one that recorded them (a store restored without its ledger, or an
 * older ledger). Appending now would give new entries leaf numbers the
 * store already uses, so nothing is written. */
static enum mrd_code behind(uint64_t size, int64_t max_leaf, struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_INVALID,
                       "the store records ledger leaf %lld but the ledger has %llu leaves: it "
                       "is not this database's ledger; nothing appended. Restore the whole data "
                       "directory with 'meridian restore', or put back its own ledger",
                       (long long)max_leaf, (unsigned long long)size);
}

static enum mrd_code orphans_load(struct ledger *log, struct store *st, struct orphans *o,
                                  struct mrd_err *err)
{
    int64_t max_leaf = -1;
    uint64_t size = ledger_size(log);
    enum mrd_code rc;

    memset(o, 0, sizeof(*o));
    rc = store_ledger_max_leaf(st, &max_leaf, err);
    if (rc != MRD_OK)
        return rc;
    o->first = (uint64_t)(max_leaf + 1);
    if (o->first > size)
        return behind(size, max_leaf, err);
    if (o->first >= size)
        return MRD_OK;
    o->n = (size_t)(size - o->first < LEDGER_SYNC_MAX_ORPHANS ? size - o->first
                                                              : LEDGER_SYNC_MAX_ORPHANS);
    o->enc = mrd_malloc(o->n * sizeof(*o->enc));
    o->used = mrd_calloc(o->n, sizeof(*o->used));
    if (o->enc == NULL || o->used == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "ledger sync: out of memory");
    for (size_t i = 0; i < o->n; i++) {
        struct ledger_entry e;

        rc = ledger_entry_get(log, o->first + i, &e, err);
        if (rc != MRD_OK)
            return rc;
        ledger_entry_encode(&e, o->enc[i]);
    }
    return MRD_OK;
}

/* The orphan leaf recording e, claimed; -1 when none. Linear: orphans
 * exist only on the first sync after a crash. */
static int64_t orphan_claim(struct orphans *o, const struct ledger_entry *e)
{
    uint8_t enc[LEDGER_ENTRY_LEN];

    if (o->n == 0)
        return -1;
    ledger_entry_encode(e, enc);
    for (size_t i = 0; i < o->n; i++)
        if (!o->used[i] && memcmp(o->enc[i], enc, LEDGER_ENTRY_LEN) == 0) {
            o->used[i] = true;
            return (int64_t)(o->first + i);
        }
    return -1;
}

/* ---- several front-ends on one database ---- */

/* The leaves recorded at [from, from + LEDGER_MAX_BATCH), by position. */
struct follow {
    uint64_t from;
    struct ledger_entry entries[LEDGER_MAX_BATCH];
    bool have[LEDGER_MAX_BATCH];
};

static enum mrd_code follow_one(void *ctx, const struct store_ledger_item *it, int64_t leaf,
                                struct mrd_err *err)
{
    struct follow *f = ctx;

    (void)err;
    if (leaf < 0 || (uint64_t)leaf < f->from || (uint64_t)leaf - f->from >= LEDGER_MAX_BATCH)
        return MRD_OK;
    item_entry(it, &f->entries[leaf - (int64_t)f->from]);
    f->have[leaf - (int64_t)f->from] = true;
    return MRD_OK;
}

/* Appends the leaves the database records beyond this ledger's end: those
 * another front-end (the one leading) appended to its copy and recorded.
 * The same entries at the same positions give the same tree. */
static enum mrd_code follow(struct ledger *log, struct store *st, uint64_t *ret_copied,
                            struct mrd_err *err)
{
    struct follow *f = mrd_malloc(sizeof(*f));
    int64_t max_leaf = -1;
    enum mrd_code rc;

    if (f == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "ledger sync: out of memory");
    rc = store_ledger_max_leaf(st, &max_leaf, err);
    while (rc == MRD_OK && max_leaf >= 0 && ledger_size(log) <= (uint64_t)max_leaf) {
        uint64_t first = 0;
        size_t n = 0;

        f->from = ledger_size(log);
        memset(f->have, 0, sizeof(f->have));
        rc = store_ledger_recorded(st, (int64_t)f->from, (int64_t)f->from + LEDGER_MAX_BATCH,
                                   follow_one, f, err);
        while (rc == MRD_OK && n < LEDGER_MAX_BATCH && f->have[n])
            n++;
        if (rc == MRD_OK && n == 0)
            rc = mrd_err_set(err, MRD_E_INVALID,
                             "the database records ledger leaf %lld but not leaf %llu: "
                             "nothing copied",
                             (long long)max_leaf, (unsigned long long)f->from);
        if (rc == MRD_OK)
            rc = ledger_append(log, f->entries, n, &first, err);
        if (rc == MRD_OK && first != f->from)
            rc = mrd_err_set(err, MRD_E_INTERNAL, "ledger grew while copying leaves");
        if (rc == MRD_OK)
            *ret_copied += n;
    }
    mrd_free(f);
    return rc;
}

static enum mrd_code sync_lead(struct ledger *log, struct store *st, uint64_t *ret_appended,
                               struct mrd_err *err);

enum mrd_code ledger_sync(struct ledger *log, struct store *st, uint64_t *ret_appended,
                          struct mrd_err *err)
{
    uint64_t copied = 0, appended = 0;
    bool lead = true;
    enum mrd_code rc = MRD_OK;

    /* Front-ends sharing a database: one appends (the leader); the
     * others copy its leaves, and so does a new leader before appending
     * (docs/store.md). */
    if (store_shared(st)) {
        rc = store_lead(st, "ledger", &lead, err);
        if (rc == MRD_OK)
            rc = follow(log, st, &copied, err);
        if (rc != MRD_OK)
            mrd_err_prefix(err, "ledger sync");
    }
    if (rc == MRD_OK && lead)
        rc = sync_lead(log, st, &appended, err);
    if (ret_appended != NULL)
        *ret_appended = copied + appended;
    return rc;
}

/* Drains the queue: this process leads (or is alone). */
static enum mrd_code sync_lead(struct ledger *log, struct store *st, uint64_t *ret_appended,
                               struct mrd_err *err)
{
    struct batch *b = mrd_malloc(sizeof(*b));
    struct ledger_entry *fresh = mrd_malloc(LEDGER_MAX_BATCH * sizeof(*fresh));
    size_t *fresh_at = mrd_malloc(LEDGER_MAX_BATCH * sizeof(*fresh_at));
    struct orphans o;
    uint64_t appended = 0;
    enum mrd_code rc;

    memset(&o, 0, sizeof(o));
    if (b == NULL || fresh == NULL || fresh_at == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "ledger sync: out of memory");
        goto out;
    }
    rc = orphans_load(log, st, &o, err);
    while (rc == MRD_OK) {
        size_t n_fresh = 0;
        uint64_t first = 0;

        b->n = 0;
        rc = store_ledger_pending(st, LEDGER_MAX_BATCH, collect, b, err);
        if (rc != MRD_OK || b->n == 0)
            break;
        for (size_t i = 0; i < b->n; i++) {
            int64_t leaf = orphan_claim(&o, &b->entries[i]);

            if (leaf >= 0) {
                b->marks[i].leaf = leaf;
            } else {
                fresh[n_fresh] = b->entries[i];
                fresh_at[n_fresh++] = i;
            }
        }
        if (n_fresh > 0) {
            rc = ledger_append(log, fresh, n_fresh, &first, err);
            if (rc != MRD_OK)
                break;
            for (size_t k = 0; k < n_fresh; k++)
                b->marks[fresh_at[k]].leaf = (int64_t)(first + k);
            appended += n_fresh;
        }
        rc = store_ledger_mark(st, b->marks, b->n, err);
        if (b->n < LEDGER_MAX_BATCH)
            break;
    }
    if (rc != MRD_OK)
        mrd_err_prefix(err, "ledger sync");
out:
    if (ret_appended != NULL)
        *ret_appended = appended;
    mrd_free(o.enc);
    mrd_free(o.used);
    mrd_free(fresh_at);
    mrd_free(fresh);
    mrd_free(b);
    return rc;
}

/* ---- checking a ledger against its store ---- */

struct check {
    struct ledger *log;
    uint64_t size;
    uint64_t checked;
};

static enum mrd_code check_one(void *ctx, const struct store_ledger_item *it, int64_t leaf,
                               struct mrd_err *err)
{
    struct check *c = ctx;
    struct ledger_entry want, have;
    enum mrd_code rc;

    if (leaf < 0 || (uint64_t)leaf >= c->size)
        return behind(c->size, leaf, err);
    item_entry(it, &want);
    rc = ledger_entry_get(c->log, (uint64_t)leaf, &have, err);
    if (rc != MRD_OK)
        return rc;
    if (have.kind != want.kind || have.time_ms != want.time_ms ||
        memcmp(have.hash, want.hash, MERKLE_HASH_LEN) != 0)
        return mrd_err_set(
            err, MRD_E_INVALID,
            "ledger leaf %lld does not record what the store says it does (%s %lld): "
            "the ledger and the database are from different nodes or times; "
            "restore both from one 'meridian backup'",
            (long long)leaf, it->event ? "event" : "object version seq", (long long)it->key);
    c->checked++;
    return MRD_OK;
}

enum mrd_code ledger_store_behind(struct ledger *log, struct store *st, struct mrd_err *err)
{
    int64_t max_leaf = -1;
    enum mrd_code rc;

    /* a front-end of several copies the leaves it lacks (ledger_sync) */
    if (store_shared(st))
        return MRD_OK;
    rc = store_ledger_max_leaf(st, &max_leaf, err);

    if (rc == MRD_OK && max_leaf >= 0 && (uint64_t)max_leaf >= ledger_size(log))
        rc = behind(ledger_size(log), max_leaf, err);
    return rc;
}

enum mrd_code ledger_store_check(struct ledger *log, struct store *st, uint64_t *ret_checked,
                                 struct mrd_err *err)
{
    struct check c = {.log = log, .size = ledger_size(log)};
    int64_t max_leaf = -1;
    enum mrd_code rc;

    rc = store_ledger_max_leaf(st, &max_leaf, err);
    if (rc == MRD_OK && max_leaf >= 0 && (uint64_t)max_leaf >= c.size)
        rc = behind(c.size, max_leaf, err);
    if (rc == MRD_OK)
        rc = store_ledger_recorded(st, 0, INT64_MAX, check_one, &c, err);
    if (rc == MRD_OK && ret_checked != NULL)
        *ret_checked = c.checked;
    return rc;
}
