/*
 * store_copy: a node's whole database from one backend to the other
 * (`meridian store copy`, store.h "copying a node's database").
 *
 * Both backends hold the same tables with the same columns (store_pg.c's
 * schema is SQLite's in PostgreSQL's types), so one description per table
 * -- its columns and how each is read and bound -- copies it either way
 * through the drivers (store_int.h): a SELECT walked row by row from the
 * source's read snapshot (PostgreSQL: single-row mode, so memory does not
 * grow with the table), each row bound into the target's write
 * transaction: PostgreSQL loads a table with one COPY FROM STDIN in binary,
 * sent in chunks without a round trip per row; SQLite inserts each row
 * with its prepared INSERT.
 * Nothing is committed until every table has been read back from the
 * target and found equal to the source: same row count and same row-set
 * digest (each row's typed values hashed with SHA-256, the hashes summed
 * lane by lane, so the order rows come back in does not matter and no
 * ORDER BY has to collate text the same way on both engines).
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/str.h"

/* One table: its columns (SELECT and INSERT list) and their kinds, one
 * letter per column: i integer, t text, b bytes. ident: the identity key
 * (PostgreSQL: GENERATED .. AS IDENTITY, given explicitly with OVERRIDING
 * SYSTEM VALUE and its sequence moved past the copied keys). where: rows
 * left out (meta's index markers: each backend keeps its own). */
struct copy_table {
    const char *name;
    const char *cols;
    const char *kinds;
    const char *ident;
    const char *where;
};

/* Parents before children (the foreign keys of both schemas). */
static const struct copy_table tables[] = {
    {"meta", "key, value", "tt", NULL, " WHERE key NOT IN ('value_index', 'text_index')"},
    {"orgs", "key, name, relation, created, disabled, deleted", "itiiii", "key", ""},
    {"api_roots", "name, title, description, max_content_length", "ttti", NULL, ""},
    {"collections",
     "key, id, api_root, title, description, alias, default_tlp, public_read, last_added",
     "itttttiii", "key", ""},
    {"tokens",
     "name, org, hash, prefix, created, revoked, expires, last_used, prev_hash, prev_expires,"
     " prev_last_used",
     "tibtiiiibii", NULL, ""},
    {"grants", "org, collection, can_read, can_write", "iiii", NULL, ""},
    {"objects",
     "seq, collection, date_added, stix_id, type, spec_version, created, modified, version,"
     " revoked, tlp, local, creator_org, source_peer, community, recipients, body, is_first,"
     " is_last, twin, shadowed, shadowed_first, signer, writer_only",
     "iiitttiiiiiiitttbiiiiiti", "seq", ""},
    {"status", "id, api_root, org, request, complete, total, success, failure, pending",
     "ttiiiiiii", NULL, ""},
    {"status_details", "status_id, ord, kind, stix_id, version, message", "tiitit", NULL, ""},
    {"conflicts",
     "id, time, collection, stix_id, version, reason, action, kept_seq, kept_signer, other_seq,"
     " other_signer, other_org, other_peer, other_hash, other_body",
     "iiitiiiitititbb", "id", ""},
    {"value_index", "kind, key, seq, how", "ibii", NULL, ""},
    {"object_leaves", "seq, leaf", "ii", NULL, ""},
    {"ledger_events", "ev, kind, time, hash, record, leaf", "iiibti", "ev", ""},
    {"sessions", "hash, token, org, created, last_seen, expires", "btiiii", NULL, ""},
    {"holds", "id, case_id, created, expires, released, record", "ttiiit", NULL, ""},
    {"hold_items", "hold, seq", "ti", NULL, ""},
    {"feeds", "name, config, state, created, updated", "tttii", NULL, ""},
    {"feed_items", "feed, stix_id", "tt", NULL, ""},
    {"assets", "id, org, kind, asn, vkind, vkey, text, status, created, \"overlaps\"", "iiiiibtiit",
     "id", ""},
    {"notifications",
     "id, org, asset, asset_text, seq, object_id, kind, value, how, created, squelched",
     "iiititttiii", "id", ""},
    {"contacts", "id, org, channel, address, pgp_key, secret, schedule, created", "iiitttti", "id",
     ""},
    {"deliveries",
     "id, contact, org, channel, address, schedule, status, created, due, attempts, last_try,"
     " sent, error, ev",
     "iiiitiiiiiiiti", "id", ""},
    {"delivery_items", "delivery, notification", "ii", NULL, ""},
    {"access_pages", "first, n, time, org, token, path, items, packed", "iiittttb", NULL, ""},
    {"access_digests", "id, first, last, n, time_from, time_to, hash, ev, pruned", "iiiiiibii",
     "id", ""},
    {"delivery_attempts", "id, delivery, time, status, error", "iiiit", "id", ""},
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))
_Static_assert(NTABLES <= STORE_COPY_TABLES_MAX, "STORE_COPY_TABLES_MAX too small");

#define COPY_COLS_MAX 32
#define COPY_SQL_MAX 1024

/* The row-set digest: SHA-256 of each row, added lane by lane. */
struct digest {
    uint64_t lane[4];
    uint64_t rows;
};

struct copy {
    struct store *from, *to;
    bool to_pg;
    const struct store_tx *src, *dst;
    void (*progress)(void *ctx, const struct store_copy_progress *p);
    void *progress_ctx;
    struct store_copy_progress p;
    struct timespec last;
    const struct copy_table *t;
    size_t ncols;
    char insert[COPY_SQL_MAX];
    bool load; /* the target takes the table as a bulk load */
    struct digest d;
    struct store_copy_report *rep;
};

static bool is_pg(const struct store *st)
{
    return strcmp(st->ops->name, "postgres") == 0;
}

static void hash_row(const struct copy_table *t, const struct store_rowrd *r, struct digest *d)
{
    crypto_hash_sha256_state h;
    unsigned char out[crypto_hash_sha256_BYTES];

    (void)crypto_hash_sha256_init(&h);
    for (int col = 0; t->kinds[col] != '\0'; col++) {
        unsigned char tag[9] = {(unsigned char)t->kinds[col]};
        const char *p = NULL;
        uint64_t v;
        size_t len = 0;

        if (r->null(r, col)) {
            tag[0] = 'n';
            v = 0;
        } else if (t->kinds[col] == 'i') {
            v = (uint64_t)r->i64(r, col);
        } else {
            p = t->kinds[col] == 'b' ? r->blob(r, col, &len) : r->text(r, col, &len);
            v = len;
        }
        for (int i = 0; i < 8; i++)
            tag[1 + i] = (unsigned char)(v >> (8 * i));
        (void)crypto_hash_sha256_update(&h, tag, sizeof(tag));
        if (len > 0)
            (void)crypto_hash_sha256_update(&h, (const unsigned char *)p, len);
    }
    (void)crypto_hash_sha256_final(&h, out);
    for (int l = 0; l < 4; l++) {
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x |= (uint64_t)out[l * 8 + i] << (8 * i);
        d->lane[l] += x;
    }
    d->rows++;
}

static void tick(struct copy *c, bool force)
{
    struct timespec now;
    long ms;

    if (c->progress == NULL)
        return;
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (now.tv_sec - c->last.tv_sec) * 1000 + (now.tv_nsec - c->last.tv_nsec) / 1000000;
    if (!force && ms < STORE_PROGRESS_MS)
        return;
    c->last = now;
    c->progress(c->progress_ctx, &c->p);
}

/* A source row: hashed, then inserted into the target. */
static enum mrd_code copy_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct copy *c = ctx;
    struct sq_arg args[COPY_COLS_MAX];
    enum mrd_code rc;

    hash_row(c->t, r, &c->d);
    for (size_t col = 0; col < c->ncols; col++) {
        size_t len;
        const char *p;

        if (r->null(r, (int)col)) {
            args[col] = SQ_NUL;
        } else if (c->t->kinds[col] == 'i') {
            args[col] = SQ_INT(r->i64(r, (int)col));
        } else if (c->t->kinds[col] == 'b') {
            p = r->blob(r, (int)col, &len);
            args[col] = SQ_BLOB(p, len);
        } else {
            p = r->text(r, (int)col, &len);
            args[col] = SQ_TEXT(p, len);
        }
    }
    if (c->load)
        rc = c->dst->ops->load_row(c->dst->conn, args, c->ncols, err);
    else
        rc = c->dst->ops->run(c->dst->conn, false, c->t->name, c->insert, args, c->ncols, NULL,
                              NULL, NULL, err);
    c->p.done++;
    tick(c, false);
    return rc;
}

static enum mrd_code digest_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct copy *c = ctx;

    (void)err;
    hash_row(c->t, r, &c->d);
    return MRD_OK;
}

/* Every row of sql on tx, one at a time where the backend can (the row
 * functions here run no statement on tx). */
static enum mrd_code walk(const struct store_tx *tx, const char *what, const char *sql,
                          store_row_fn row, void *ctx, struct mrd_err *err)
{
    return store__tx_walk(tx, what, sql, SQ_NOARGS, row, ctx, NULL, err);
}

static enum mrd_code count_rows(const struct store_tx *tx, const char *what, const char *sql,
                                int64_t *ret, struct mrd_err *err)
{
    *ret = 0;
    return tx->ops->run(tx->conn, false, what, sql, SQ_NOARGS, store__i64_row, ret, NULL, err);
}

static enum mrd_code target_empty(struct copy *c, struct mrd_err *err)
{
    static const char *const held[] = {"orgs", "api_roots", "collections", "objects",
                                       "ledger_events"};
    char sql[128];

    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
        int64_t n;
        enum mrd_code rc;

        (void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", held[i]);
        rc = count_rows(c->dst, "store copy", sql, &n, err);
        if (rc != MRD_OK)
            return rc;
        if (n > 0)
            return mrd_err_set(err, MRD_E_EXISTS,
                               "store copy: the target is not empty (%s holds %" PRId64
                               " rows): copy into a new, empty database only",
                               held[i], n);
    }
    return MRD_OK;
}

static enum mrd_code copy_table(struct copy *c, size_t ti, struct mrd_err *err)
{
    const struct copy_table *t = &tables[ti];
    char select[COPY_SQL_MAX], marks[COPY_COLS_MAX * 5] = "";
    struct digest src;
    int64_t total;
    enum mrd_code rc;

    c->t = t;
    c->ncols = strlen(t->kinds);
    {
        size_t commas = 0;
        for (const char *p = t->cols; *p != '\0'; p++)
            commas += *p == ',';
        if (commas + 1 != c->ncols || c->ncols > COPY_COLS_MAX)
            return mrd_err_set(err, MRD_E_INTERNAL, "store copy: %s: %zu columns, %zu kinds",
                               t->name, commas + 1, c->ncols);
    }
    for (size_t i = 0; i < c->ncols; i++) {
        size_t n = strlen(marks);
        (void)snprintf(marks + n, sizeof(marks) - n, "%s?%zu", i ? ", " : "", i + 1);
    }
    (void)snprintf(select, sizeof(select), "SELECT %s FROM %s%s", t->cols, t->name, t->where);
    if (strcmp(t->name, "meta") == 0) /* a new store has some keys already */
        (void)snprintf(c->insert, sizeof(c->insert), "%s", STORE_META_PUT);
    else
        (void)snprintf(c->insert, sizeof(c->insert), "INSERT INTO %s (%s)%s VALUES (%s)", t->name,
                       t->cols, c->to_pg && t->ident ? " OVERRIDING SYSTEM VALUE" : "", marks);

    {
        char count[COPY_SQL_MAX];
        (void)snprintf(count, sizeof(count), "SELECT count(*) FROM %s%s", t->name, t->where);
        rc = count_rows(c->src, t->name, count, &total, err);
    }
    if (rc != MRD_OK)
        return rc;
    c->p = (struct store_copy_progress){t->name, (unsigned)ti + 1, (unsigned)NTABLES, 0,
                                        (uint64_t)total};
    tick(c, true);
    memset(&c->d, 0, sizeof(c->d));
    /* meta is merged (a new store has some keys already): upserts */
    c->load = c->dst->ops->load_begin != NULL && strcmp(t->name, "meta") != 0;
    if (c->load)
        rc = c->dst->ops->load_begin(c->dst->conn, t->name, t->name, t->cols, c->ncols, err);
    if (rc == MRD_OK)
        rc = walk(c->src, t->name, select, copy_row, c, err);
    else
        c->load = false; /* not begun: nothing to end */
    if (c->load) {
        uint64_t stored = 0;
        /* abandoned after a failure: a failed send learns the server's
         * reason here */
        enum mrd_code end = c->dst->ops->load_end(c->dst->conn, rc == MRD_OK, &stored, err);

        if (rc == MRD_OK && end == MRD_OK && stored != c->d.rows)
            end = mrd_err_set(err, MRD_E_DB, "the target stored %" PRIu64 " of %" PRIu64 " rows",
                              stored, c->d.rows);
        if (end != MRD_OK)
            rc = end;
    }
    if (rc != MRD_OK) {
        mrd_err_prefix(err,
                       "store copy: %s: after %" PRIu64 " of %" PRId64 " rows (nothing was"
                       " committed)",
                       t->name, c->p.done, total);
        return rc;
    }
    tick(c, true);
    src = c->d;
    if (c->to_pg && t->ident != NULL) {
        char sql[COPY_SQL_MAX];
        (void)snprintf(sql, sizeof(sql),
                       "SELECT setval(pg_get_serial_sequence('%s', '%s'), max(%s)) FROM %s"
                       " HAVING max(%s) IS NOT NULL",
                       t->name, t->ident, t->ident, t->name, t->ident);
        rc = c->dst->ops->run(c->dst->conn, false, t->name, sql, SQ_NOARGS, NULL, NULL, NULL, err);
        if (rc != MRD_OK)
            return rc;
    }
    c->rep->tables[ti].name = t->name;
    c->rep->tables[ti].rows = src.rows;
    c->rep->ntables = ti + 1;
    if ((uint64_t)total != src.rows)
        return mrd_err_set(err, MRD_E_DB,
                           "store copy: %s: the source counted %" PRId64 " rows but gave %" PRIu64,
                           t->name, total, src.rows);
    return MRD_OK;
}

/* Reads table ti back from the target: the same rows as the source's? */
static enum mrd_code check_table(struct copy *c, size_t ti, struct digest *src, struct mrd_err *err)
{
    const struct copy_table *t = &tables[ti];
    char select[COPY_SQL_MAX];
    enum mrd_code rc;

    c->t = t;
    (void)snprintf(select, sizeof(select), "SELECT %s FROM %s%s", t->cols, t->name, t->where);
    memset(&c->d, 0, sizeof(c->d));
    rc = walk(c->dst, t->name, select, digest_row, c, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "store copy: %s: reading it back (nothing was committed)", t->name);
        return rc;
    }
    if (c->d.rows != src->rows || memcmp(c->d.lane, src->lane, sizeof(src->lane)) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "store copy: %s differs after the copy (%" PRIu64 " rows read, %" PRIu64
                           " rows back): nothing was committed",
                           t->name, src->rows, c->d.rows);
    return MRD_OK;
}

static void ledger_digest(const struct digest *leaves, const struct digest *events,
                          unsigned char out[32])
{
    crypto_hash_sha256_state h;

    (void)crypto_hash_sha256_init(&h);
    (void)crypto_hash_sha256_update(&h, (const unsigned char *)leaves->lane, sizeof(leaves->lane));
    (void)crypto_hash_sha256_update(&h, (const unsigned char *)events->lane, sizeof(events->lane));
    (void)crypto_hash_sha256_final(&h, out);
}

/* Inside the target's write transaction. */
static enum mrd_code copy_into(const struct store_tx *dst, void *args, struct mrd_err *err)
{
    struct copy *c = args;
    struct digest sums[NTABLES];
    enum mrd_code rc;

    c->dst = dst;
    rc = target_empty(c, err);
    for (size_t i = 0; i < NTABLES && rc == MRD_OK; i++) {
        rc = copy_table(c, i, err);
        sums[i] = c->d;
    }
    /* SQLite's free-text and reference indexes, from the copied versions
     * (its overview's aggregates follow the inserts by trigger) */
    if (rc == MRD_OK && dst->ops->index_text_after != NULL)
        rc = dst->ops->index_text_after(dst->conn, 0, err);
    for (size_t i = 0; i < NTABLES && rc == MRD_OK; i++)
        rc = check_table(c, i, &sums[i], err);
    if (rc != MRD_OK)
        return rc;
    for (size_t i = 0; i < NTABLES; i++) {
        if (strcmp(tables[i].name, "objects") == 0)
            c->rep->objects = sums[i].rows;
        else if (strcmp(tables[i].name, "object_leaves") == 0)
            c->rep->ledger_leaves = sums[i].rows;
        else if (strcmp(tables[i].name, "ledger_events") == 0)
            c->rep->ledger_events = sums[i].rows;
    }
    {
        size_t leaves = 0, events = 0;
        for (size_t i = 0; i < NTABLES; i++) {
            if (strcmp(tables[i].name, "object_leaves") == 0)
                leaves = i;
            if (strcmp(tables[i].name, "ledger_events") == 0)
                events = i;
        }
        ledger_digest(&sums[leaves], &sums[events], c->rep->ledger_digest);
    }
    return count_rows(dst, "store copy",
                      "SELECT coalesce(max(m), -1) FROM (SELECT max(leaf) AS m FROM object_leaves"
                      " UNION ALL SELECT max(leaf) FROM ledger_events) AS l",
                      &c->rep->max_leaf, err);
}

/* Inside the source's read snapshot. */
static enum mrd_code copy_from(const struct store_tx *src, void *args, struct mrd_err *err)
{
    struct copy *c = args;

    c->src = src;
    return c->to->ops->driver->write_tx(c->to, copy_into, c, err);
}

static bool is_uri(const char *where)
{
    size_t n = strlen(where);

    return mrd_str_has_prefix(where, n, "postgres://") ||
           mrd_str_has_prefix(where, n, "postgresql://");
}

/* A URI is PostgreSQL; a directory is SQLite's file in it, whatever its
 * store.dsn says (the copy is how a node leaves PostgreSQL). */
static enum mrd_code open_side(const char *where, bool create, struct store **ret,
                               struct mrd_err *err)
{
    struct store_open_opts o = {.create = create, .max_conn = 2};

    if (is_uri(where))
        return store_open(where, &o, ret, err);
    if (sodium_init() < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "store: libsodium failed to initialise");
    if (strlen(where) > STORE_PATH_MAX - sizeof(STORE_SQLITE_FILE) - 1)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: data directory path too long");
    return store__sqlite_open(where, &o, ret, err);
}

enum mrd_code store_copy(const char *from, const char *to,
                         void (*progress)(void *ctx, const struct store_copy_progress *p),
                         void *progress_ctx, struct store_copy_report *ret, struct mrd_err *err)
{
    struct copy c = {.progress = progress, .progress_ctx = progress_ctx, .rep = ret};
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    ret->max_leaf = -1;
    if (from == NULL || to == NULL || from[0] == '\0' || to[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "store copy: needs a source and a target");
    if (strcmp(from, to) == 0)
        return mrd_err_set(err, MRD_E_INVAL, "store copy: the source and the target are the same");
    rc = open_side(from, false, &c.from, err);
    if (rc == MRD_OK)
        rc = open_side(to, true, &c.to, err);
    if (rc == MRD_OK) {
        c.to_pg = is_pg(c.to);
        if (c.from->ops->driver == NULL || c.to->ops->driver == NULL)
            rc = mrd_err_set(err, MRD_E_UNSUPP, "store copy: a backend without a driver");
    }
    if (rc == MRD_OK)
        rc = c.from->ops->driver->read_tx(c.from, copy_from, &c, err);
    store_close(c.to);
    store_close(c.from);
    return rc;
}
