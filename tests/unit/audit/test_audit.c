/* audit: the access audit (audit.h) over a real SQLite store in a fresh
 * directory: batching, rows, digests, verification, the append-only guard
 * and retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testdir.h"
#include <sqlite3.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/timestamp.h"
#include "store/store.h"

struct fx {
    char dir[TEST_DIR_MAX];
    struct store *st;
    struct store_collection coll;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 4};
    struct store_api_root root = {
        .name = "europe", .title = "Europe", .max_content_length = STORE_DEFAULT_MAX_CONTENT};
    struct store_org own;
    struct mrd_err err = {0};

    assert_non_null(f);
    test_dir_make(f->dir, "mrd-audit");
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-a", POLICY_REL_OWN, &own, &err), MRD_OK);
    assert_int_equal(store_api_root_put(f->st, &root, NULL, &err), MRD_OK);
    (void)snprintf(f->coll.api_root, sizeof(f->coll.api_root), "europe");
    (void)snprintf(f->coll.title, sizeof(f->coll.title), "Indicators");
    f->coll.default_tlp = POLICY_TLP_GREEN;
    assert_int_equal(store_collection_create(f->st, &f->coll, &err), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_close(f->st);
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

/* Stores one indicator at level tlp; its id is in id (80 bytes). */
static void insert(struct fx *f, int n, enum policy_tlp tlp, char *id)
{
    char body[256];
    struct store_object_in in = {0};
    enum store_insert_outcome out;
    struct mrd_err err = {0};

    (void)snprintf(id, 80, "indicator--00000000-0000-4000-8000-%012d", n);
    (void)snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"indicator\"}", id);
    in.id = id;
    in.id_len = strlen(id);
    in.type = "indicator";
    in.type_len = 9;
    in.spec_version = "2.1";
    in.spec_version_len = 3;
    in.created_usec = in.modified_usec = 2000000;
    in.tlp = tlp;
    in.local = true;
    in.creator_org = 1;
    in.body = body;
    in.body_len = strlen(body);
    assert_int_equal(store_objects_insert(f->st, f->coll.key, &in, 1, &out, NULL, &err), MRD_OK);
    assert_int_equal(out, STORE_INS_ADDED);
}

static enum mrd_code audit_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    return audit_note(ctx, row, err);
}

struct read_rows {
    size_t n;
    char ids[8][80];
    int tlp[8];
    char org[8][16], token[8][16], path[8][16];
};

static enum mrd_code read_row(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct read_rows *x = ctx;

    (void)err;
    assert_true(x->n < 8);
    (void)snprintf(x->ids[x->n], sizeof(x->ids[0]), "%.*s", (int)r->object_id_len, r->object_id);
    x->tlp[x->n] = r->tlp;
    (void)snprintf(x->org[x->n], sizeof(x->org[0]), "%s", r->org);
    (void)snprintf(x->token[x->n], sizeof(x->token[0]), "%s", r->token);
    (void)snprintf(x->path[x->n], sizeof(x->path[0]), "%s", r->path);
    x->n++;
    return MRD_OK;
}

static void sql(struct fx *f, const char *s, int want)
{
    char path[TEST_DIR_MAX + 32];
    sqlite3 *db = NULL;

    (void)snprintf(path, sizeof(path), "%s/meridian.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, s, NULL, NULL, NULL), want);
    sqlite3_close(db);
}

static void test_access_audit(void **state)
{
    struct fx *f = *state;
    char green[80], amber[80], red[80];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter all = {.since_usec = STORE_TIME_NONE, .limit = 100};
    struct store_read_filter one = all;
    struct read_rows rows = {0};
    struct audit_seal_report sr;
    struct audit_verify_report vr;
    struct mrd_err err = {0};
    uint64_t n = 0;
    bool more = true;

    assert_non_null(b);
    insert(f, 1, POLICY_TLP_GREEN, green);
    insert(f, 2, POLICY_TLP_AMBER, amber);
    insert(f, 3, POLICY_TLP_RED, red);
    /* a page read by cert-b: only AMBER and RED are noted, in one insert */
    audit_begin(b, f->st, AUDIT_TAXII, "cert-b", "tok-b");
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(b->n, 2);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    assert_int_equal(b->n, 0);
    assert_int_equal(store_reads_list(f->st, &all, read_row, &rows, &more, &err), MRD_OK);
    assert_false(more);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.ids[0], amber);
    assert_int_equal(rows.tlp[0], POLICY_TLP_AMBER);
    assert_string_equal(rows.ids[1], red);
    assert_string_equal(rows.org[1], "cert-b");
    assert_string_equal(rows.token[1], "tok-b");
    assert_string_equal(rows.path[1], "taxii");
    /* by object */
    memset(&rows, 0, sizeof(rows));
    one.object_id = red;
    assert_int_equal(store_reads_list(f->st, &one, read_row, &rows, NULL, &err), MRD_OK);
    assert_int_equal(rows.n, 1);
    /* sealed: one digest of both rows, which verifies */
    assert_int_equal(audit_seal(f->st, INT64_MAX, &sr, &err), MRD_OK);
    assert_int_equal(sr.digests, 1);
    assert_int_equal(sr.rows, 2);
    assert_int_equal(audit_seal(f->st, INT64_MAX, &sr, &err), MRD_OK);
    assert_int_equal(sr.digests, 0);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 1);
    assert_int_equal(vr.ok, 1);
    assert_int_equal(vr.bad, 0);
    /* append-only: no update, no delete of an unsealed row */
    sql(f, "UPDATE access_pages SET org = 'x'", SQLITE_CONSTRAINT);
    audit_begin(b, f->st, AUDIT_EXPORT, "cert-a", NULL);
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    sql(f, "DELETE FROM access_pages WHERE first = 3", SQLITE_CONSTRAINT);
    /* a sealed row changed behind the trigger's back: caught */
    sql(f, "DROP TRIGGER access_pages_no_update; UPDATE access_pages SET org = 'x' WHERE first = 1",
        SQLITE_OK);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.bad, 1);
    assert_int_equal(vr.unsealed, 2);
    /* retention: only sealed rows older than the cut go; their digest stays */
    assert_int_equal(audit_prune(f->st, 1, mrd_time_now_usec(), &n, &err), MRD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(audit_prune(f->st, 1, mrd_time_now_usec() + 3 * AUDIT_DAY_USEC, &n, &err),
                     MRD_OK);
    assert_int_equal(n, 4); /* the two sealed rows, then the two sealed by the prune */
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 2);
    assert_int_equal(vr.pruned, 2);
    assert_int_equal(vr.bad, 0);
    assert_int_equal(vr.unsealed, 0);
    assert_int_equal(audit_prune(f->st, 0, 0, &n, &err), MRD_E_INVAL);
    free(b);
}

/* The text items of pages written before schema 18: read back; bad text
 * refused. */
static void test_items(void **state)
{
    static const char good[] = "1733572678219837 3 indicator--1\n-5 0 x--y\n";
    struct store_read_row r;
    size_t a;
    static const char *const bad[] = {
        "",           "\n",          "12 3 x",
        " 3 x\n",     "12 3  x\n",   "12 x id\n",
        "12 3 a b\n", "12 3 a\tb\n", "99999999999999999999 3 a\n",
        "12 3 \n",    "-x 3 a\n",    "12 33 a\n",
    };

    (void)state;
    a = store_read_item_next(good, strlen(good), &r);
    assert_int_equal(a, strlen("1733572678219837 3 indicator--1\n"));
    assert_int_equal(r.version_usec, 1733572678219837);
    assert_int_equal(r.tlp, 3);
    assert_int_equal(r.object_id_len, 12);
    assert_memory_equal(r.object_id, "indicator--1", 12);
    assert_int_equal(store_read_item_next(good + a, strlen(good) - a, &r), strlen(good) - a);
    assert_int_equal(r.version_usec, -5);
    assert_int_equal(r.tlp, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_read_item_next(bad[i], strlen(bad[i]), &r), 0);
}

struct item {
    const char *id;
    int64_t version;
    int tlp;
};

/* items[0..n) packed into buf, then read back exactly; returns the
 * page's length. */
static size_t pack_round(const struct item *items, size_t n, uint8_t *buf, size_t size)
{
    struct store_read_pack *pk = malloc(sizeof(*pk));
    struct store_read_unpack *u = malloc(sizeof(*u));
    struct store_read_row r;
    size_t len;

    assert_non_null(pk);
    assert_non_null(u);
    store_read_pack_init(pk, buf, size);
    for (size_t i = 0; i < n; i++)
        assert_true(store_read_pack_put(pk, items[i].id, strlen(items[i].id), items[i].version,
                                        items[i].tlp));
    assert_int_equal(pk->n, n);
    len = pk->len;
    assert_int_equal(store_read_unpack_count(buf, len), n);
    assert_true(store_read_unpack_init(u, buf, len));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(store_read_unpack_next(u, &r), 1);
        assert_int_equal(r.object_id_len, strlen(items[i].id));
        assert_memory_equal(r.object_id, items[i].id, r.object_id_len);
        assert_int_equal(r.version_usec, items[i].version);
        assert_int_equal(r.tlp, items[i].tlp);
    }
    assert_int_equal(store_read_unpack_next(u, &r), 0);
    free(pk);
    free(u);
    return len;
}

/* Packed pages: every id, version and TLP comes back exactly (UUID ids,
 * ids kept whole, versions up and down, in us and ms, runs past 128
 * items); a page of 100 like objects takes about 17 bytes an object;
 * damaged pages are refused, never read past their end. */
static void test_packed(void **state)
{
    static char ids[300][64];
    static struct item many[300];
    static uint8_t buf[300 * STORE_READ_PACKED_MAX];
    struct store_read_pack pk;
    struct store_read_unpack u;
    struct store_read_row r;
    char longid[STORE_STIX_ID_MAX + 2];
    size_t len;
    const struct item mixed[] = {
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 1733572678219837, 3},
        {"indicator--ffffffff-ffff-4fff-bfff-ffffffffffff", 1733572678219837, 3},
        {"malware--00000000-0000-4000-8000-000000000000", 1733572678000000, 3},
        {"malware--00000000-0000-4000-8000-000000000001", 1733572679000000, 4},
        {"indicator--0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", -5, 0}, /* upper case: whole */
        {"x--y", INT64_MAX, 9},
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4", INT64_MIN, 9}, /* short: whole */
        {"--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 0, 2},                 /* no type: whole */
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", INT64_MIN + 1000, 2},
    };
    static const uint8_t bad[][8] = {
        {0},                     /* not this format */
        {1, 0x20},               /* unknown flag */
        {1, 0x06},               /* us and ms together */
        {1, 0x80},               /* a run without a type or TLP */
        {1, 0x08, 10},           /* TLP out of range */
        {1, 0x18, 3, 0},         /* an empty whole id */
        {1, 0x18, 3, 5, 'a'},    /* a whole id cut short */
        {1, 0x18, 3, 2, 'a', 1}, /* a control character */
    };

    /* almost "TYPE--UUID": each kept whole */
    const struct item near[] = {
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g", 1, 3}, /* last digit not hex */
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3C4d", 1, 3}, /* one upper-case digit */
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d_9e0f1a2b3c4d", 1, 3}, /* no dash at 23 */
        {"indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 1, 3}, /* a UUID again */
    };

    (void)state;
    len = pack_round(mixed, sizeof(mixed) / sizeof(mixed[0]), buf, sizeof(buf));
    assert_true(len < 320); /* as text items: 528 bytes */
    len = pack_round(near, sizeof(near) / sizeof(near[0]), buf, sizeof(buf));
    /* header; 3 whole ids of 47 bytes (op, version and TLP the first time,
     * length, id); the UUID item (op, type, UUID) */
    assert_int_equal(len, 1 + (1 + 1 + 1 + 1 + 47) + 2 * (1 + 1 + 47) + (1 + 1 + 9 + 16));
    /* 300 indicators of one version: one run op per 128 */
    for (int i = 0; i < 300; i++) {
        (void)snprintf(ids[i], sizeof(ids[i]), "indicator--%08x-0000-4000-8000-%012d", i * 7919, i);
        many[i] = (struct item){ids[i], 1767225600000000, 3};
    }
    len = pack_round(many, 300, buf, sizeof(buf));
    /* header, the first item (op, type, version in ms, TLP, UUID), 3 runs */
    assert_int_equal(len, 1 + (1 + 1 + 9 + 6 + 1 + 16) + 3 + 299 * 16);
    /* cut anywhere, a page parses only where a whole op ends */
    for (size_t cut = 2; cut < len; cut++) {
        size_t n = store_read_unpack_count(buf, cut), first = 1 + 34;
        if (cut == first)
            assert_int_equal(n, 1);
        else if (cut == first + 1 + 128 * 16)
            assert_int_equal(n, 129);
        else if (cut == first + 2 * (1 + 128 * 16))
            assert_int_equal(n, 257);
        else
            assert_int_equal(n, 0);
    }
    assert_true(pack_round(many, 100, buf, sizeof(buf)) <= 100 * 17);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_read_unpack_count(bad[i], sizeof(bad[i])), 0);
    /* refused: an empty or too long id, a space, a TLP out of range, no room */
    memset(longid, 'a', sizeof(longid));
    store_read_pack_init(&pk, buf, sizeof(buf));
    assert_false(store_read_pack_put(&pk, longid, 0, 1, 1));
    assert_false(store_read_pack_put(&pk, longid, STORE_STIX_ID_MAX + 1, 1, 1));
    assert_false(store_read_pack_put(&pk, "a b", 3, 1, 1));
    /* a space in the type of an id that is otherwise "TYPE--UUID" */
    assert_false(
        store_read_pack_put(&pk, "in dicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 48, 1, 1));
    assert_false(store_read_pack_put(&pk, "a", 1, 1, 10));
    assert_int_equal(pk.len, 0);
    assert_true(store_read_pack_put(&pk, longid, STORE_STIX_ID_MAX, 1, 1));
    store_read_pack_init(&pk, buf, STORE_READ_PACKED_MAX - 1);
    assert_false(store_read_pack_put(&pk, "a", 1, 1, 1));
    /* an empty page holds no item */
    assert_false(store_read_unpack_init(&u, buf, 0));
    assert_int_equal(store_read_unpack_count((const uint8_t *)"\1", 1), 0);
    assert_true(store_read_unpack_init(&u, (const uint8_t *)"\1", 1));
    assert_int_equal(store_read_unpack_next(&u, &r), 0);
}

/* store_read_unpack_count takes the rest of a run at once (serve counts
 * every merged row it writes): it must count what reading item by item
 * counts, runs past 128 items included, and refuse what that refuses:
 * a merged row cut anywhere but at a page's end, a run that reaches past
 * its page's end (into the next page), a run without a type. */
static void test_count_runs(void **state)
{
    static char ids[300][64];
    static uint8_t page[300 * STORE_READ_PACKED_MAX];
    struct store_read_pack pk;
    struct store_read_unpack u;
    struct store_read_row r;
    struct mrd_buf m;
    int64_t prev = 0;
    size_t ends[3], n = 0;
    uint8_t *p;
    int got;

    (void)state;
    for (int i = 0; i < 300; i++)
        (void)snprintf(ids[i], sizeof(ids[i]), "indicator--%08x-0000-4000-8000-%012d",
                       (unsigned)i * 7919u, i);
    mrd_buf_init(&m, STORE_READ_MERGED_MAX);
    for (int k = 0; k < 3; k++) {
        store_read_pack_init(&pk, page, sizeof(page));
        for (int i = 0; i < 300; i++)
            assert_true(store_read_pack_put(&pk, ids[i], strlen(ids[i]), 1767225600000000, 3));
        assert_int_equal(store_read_merge_put(&m, &prev, pk.buf, pk.len, 1000 + k, NULL), MRD_OK);
        ends[k] = m.len;
    }
    p = (uint8_t *)m.data;
    assert_int_equal(store_read_unpack_count(p, m.len), 900);
    assert_true(store_read_unpack_init(&u, p, m.len));
    while ((got = store_read_unpack_next(&u, &r)) == 1)
        n++;
    assert_int_equal(got, 0);
    assert_int_equal(n, 900);
    for (size_t cut = 1; cut < m.len; cut++) {
        size_t want = cut == ends[0] ? 300 : cut == ends[1] ? 600 : 0;
        assert_int_equal(store_read_unpack_count(p, cut), want);
    }
    /* the first page said 16 bytes shorter (its length: the varint after
     * the format byte and the page's time): its last run now reaches past
     * its end, into the second page */
    {
        size_t at = 1, len_at;
        uint64_t len = 0;
        unsigned shift = 0;
        while (p[at] & 0x80) /* the time */
            at++;
        at++;
        len_at = at;
        do
            len |= (uint64_t)(p[at] & 0x7f) << shift, shift += 7;
        while (p[at++] & 0x80);
        assert_int_equal(at - len_at, 2); /* 4,8xx bytes: two varint bytes */
        len -= 16;
        p[len_at] = (uint8_t)(0x80 | (len & 0x7f));
        p[len_at + 1] = (uint8_t)(len >> 7);
        assert_int_equal(store_read_unpack_count(p, m.len), 0);
        len += 16;
        p[len_at] = (uint8_t)(0x80 | (len & 0x7f));
        p[len_at + 1] = (uint8_t)(len >> 7);
        assert_int_equal(store_read_unpack_count(p, m.len), 900);
    }
    mrd_buf_release(&m);
    /* a run with no type (and no TLP) before it: refused, not counted */
    assert_int_equal(store_read_unpack_count((const uint8_t *)"\1\x85", 2), 0);
    {
        /* a TLP set by an id kept whole ("a"), then a run of 2 UUIDs */
        static const uint8_t notype[6 + 32] = {1, 0x18, 3, 1, 'a', 0x81};
        assert_int_equal(store_read_unpack_count(notype, 5), 1);
        assert_int_equal(store_read_unpack_count(notype, sizeof(notype)), 0);
    }
}

static enum mrd_code count_rows(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    int64_t *last = ctx;

    (void)err;
    assert_true(r->id > *last); /* ascending */
    *last = r->id;
    return MRD_OK;
}

/* Rows are numbered across pages; a listing may start, end and stop
 * inside a page; numbers are not reused after a prune. */
static void test_pages(void **state)
{
    struct fx *f = *state;
    char ids[5][80];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter fl = {.since_usec = STORE_TIME_NONE, .limit = 2};
    struct read_rows rows = {0};
    struct mrd_err err = {0};
    int64_t last = 0;
    uint64_t n = 0;
    bool more = false;

    assert_non_null(b);
    for (int i = 0; i < 5; i++)
        insert(f, i + 1, POLICY_TLP_AMBER, ids[i]);
    for (int page = 0; page < 2; page++) { /* rows 1..5, 6..10 */
        audit_begin(b, f->st, AUDIT_TAXII, page == 0 ? "cert-b" : "cert-c", NULL);
        assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
        assert_int_equal(audit_flush(b, &err), MRD_OK);
    }
    /* rows 4..5 of the first page, then more */
    fl.after_id = 3;
    assert_int_equal(store_reads_list(f->st, &fl, read_row, &rows, &more, &err), MRD_OK);
    assert_true(more);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.ids[0], ids[3]);
    assert_string_equal(rows.ids[1], ids[4]);
    assert_string_equal(rows.org[1], "cert-b");
    /* 5..7: across the pages, through_id inside the second */
    memset(&rows, 0, sizeof(rows));
    fl.after_id = 4;
    fl.through_id = 7;
    fl.limit = 10;
    assert_int_equal(store_reads_list(f->st, &fl, read_row, &rows, &more, &err), MRD_OK);
    assert_false(more);
    assert_int_equal(rows.n, 3);
    assert_string_equal(rows.ids[0], ids[4]);
    assert_string_equal(rows.org[0], "cert-b");
    assert_string_equal(rows.ids[2], ids[1]);
    assert_string_equal(rows.org[2], "cert-c");
    /* by object and org: row 9 alone */
    memset(&rows, 0, sizeof(rows));
    fl = (struct store_read_filter){
        .since_usec = STORE_TIME_NONE, .object_id = ids[3], .org = "cert-c", .limit = 10};
    assert_int_equal(store_reads_list(f->st, &fl, read_row, &rows, &more, &err), MRD_OK);
    assert_int_equal(rows.n, 1);
    assert_string_equal(rows.ids[0], ids[3]);
    /* everything sealed and pruned: the next page is numbered on from 11 */
    assert_int_equal(audit_prune(f->st, 1, mrd_time_now_usec() + 3 * AUDIT_DAY_USEC, &n, &err),
                     MRD_OK);
    assert_int_equal(n, 10);
    audit_begin(b, f->st, AUDIT_EXPORT, "cert-b", NULL);
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    fl = (struct store_read_filter){.since_usec = STORE_TIME_NONE, .limit = 100};
    assert_int_equal(store_reads_list(f->st, &fl, count_rows, &last, &more, &err), MRD_OK);
    assert_int_equal(last, 15);
    free(b);
}

/* ---- merged rows: serve's rounds (audit_write_pages) ---- */

#define MIDNIGHT ((int64_t)20000 * AUDIT_DAY_USEC) /* 2024-10-04T00:00:00Z */
#define MS 1000

/* One page of a round: its reader, time and items (ids numbered first..). */
struct mpage {
    const char *org, *token, *path;
    int64_t t;
    int first, n;
};

/* The id of item i: a UUID id, or (raw) one kept whole of 120 bytes. */
static void item_id(char *out, size_t size, int i, bool raw)
{
    if (raw)
        (void)snprintf(out, size, "x-raw--%0113d", i);
    else
        (void)snprintf(out, size, "indicator--%08x-0000-4000-8000-%012d", (unsigned)i * 7919u, i);
}

/* Writes pages p[0..n) in one round; raw: ids kept whole. */
static void write_round(struct fx *f, const struct mpage *p, size_t n, bool raw)
{
    struct store_read_batch *g = calloc(n, sizeof(*g));
    struct store_read_pack *pk = calloc(n, sizeof(*pk));
    uint8_t **bufs = calloc(n, sizeof(*bufs));
    struct mrd_err err = {0};
    char id[STORE_STIX_ID_MAX + 1];

    assert_non_null(g);
    assert_non_null(pk);
    assert_non_null(bufs);
    for (size_t i = 0; i < n; i++) {
        size_t size = (size_t)p[i].n * STORE_READ_PACKED_MAX + STORE_READ_PACKED_MAX;
        bufs[i] = malloc(size);
        assert_non_null(bufs[i]);
        store_read_pack_init(&pk[i], bufs[i], size);
        for (int k = 0; k < p[i].n; k++) {
            item_id(id, sizeof(id), p[i].first + k, raw);
            assert_true(store_read_pack_put(&pk[i], id, strlen(id), 2000000 + k, 3 + k % 2));
        }
        g[i] = (struct store_read_batch){
            {p[i].org, p[i].token, p[i].path, p[i].t}, pk[i].buf, pk[i].len, (size_t)p[i].n};
    }
    assert_int_equal(audit_write_pages(f->st, g, n, &err), MRD_OK);
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(pk);
    free(g);
}

/* What a listing saw, row by row (up to 16 checked one by one). */
struct seen {
    size_t n;
    int64_t last_id;
    struct {
        char id[80], org[16], path[16];
        int64_t t, version;
        int tlp;
    } r[16];
};

static enum mrd_code see_row(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct seen *x = ctx;

    (void)err;
    assert_true(r->id > x->last_id);
    assert_true(r->time_usec <= r->stored_usec);
    x->last_id = r->id;
    if (x->n < 16) {
        (void)snprintf(x->r[x->n].id, sizeof(x->r[0].id), "%.*s", (int)r->object_id_len,
                       r->object_id);
        (void)snprintf(x->r[x->n].org, sizeof(x->r[0].org), "%s", r->org);
        (void)snprintf(x->r[x->n].path, sizeof(x->r[0].path), "%s", r->path);
        x->r[x->n].t = r->time_usec;
        x->r[x->n].version = r->version_usec;
        x->r[x->n].tlp = r->tlp;
    }
    x->n++;
    return MRD_OK;
}

/* Every row f selects, over as many listings as it takes. */
static void see_all(struct fx *f, struct store_read_filter fl, struct seen *x)
{
    struct mrd_err err = {0};
    bool more = true;

    memset(x, 0, sizeof(*x));
    fl.limit = STORE_READS_LIST_MAX;
    while (more) {
        fl.after_id = x->last_id;
        assert_int_equal(store_reads_list(f->st, &fl, see_row, x, &more, &err), MRD_OK);
    }
}

/* The stored rows (access_pages) and their n, as "n,n,...". */
static void stored_rows(struct fx *f, char *out, size_t size)
{
    char path[TEST_DIR_MAX + 32];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;

    out[0] = '\0';
    (void)snprintf(path, sizeof(path), "%s/meridian.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT n FROM access_pages ORDER BY first", -1, &q, NULL),
        SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        size_t at = strlen(out);
        (void)snprintf(out + at, size - at, "%s%d", at > 0 ? "," : "", sqlite3_column_int(q, 0));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* A round's pages are stored one row per reader (org, token, path) and
 * UTC day, each page keeping its time; every read comes back once, in its
 * reader's order; since, seal, verify and prune keep a stored row whole;
 * a row is split past STORE_READS_MAX rows and STORE_READ_MERGED_MAX
 * bytes. Fails if merging loses, reorders or duplicates a read. */
static void test_merged_pages(void **state)
{
    struct fx *f = *state;
    /* around a UTC midnight; B's last page comes after A's of the next day */
    const struct mpage round[] = {
        {"cert-a", "tok-a", "taxii", MIDNIGHT - 300 * MS, 0, 3},
        {"cert-b", "tok-b", "taxii", MIDNIGHT - 250 * MS, 3, 2},
        {"cert-a", "tok-a", "taxii", MIDNIGHT - 200 * MS, 5, 2},
        {"cert-a", "tok-a", "export", MIDNIGHT - 150 * MS, 7, 1},
        {"cert-a", "tok-a", "taxii", MIDNIGHT + 100 * MS, 8, 2},
        {"cert-b", "tok-b", "taxii", MIDNIGHT - 100 * MS, 10, 1},
    };
    /* rows in id order: A's day (items 0-2, 5-6), B's, A's export, A's next day */
    const int want_item[] = {0, 1, 2, 5, 6, 3, 4, 10, 7, 8, 9};
    const int want_page[] = {0, 0, 0, 2, 2, 1, 1, 5, 3, 4, 4};
    struct mpage big[11];
    struct store_read_filter all = {.since_usec = STORE_TIME_NONE};
    struct audit_seal_report sr;
    struct audit_verify_report vr;
    struct seen *x = calloc(1, sizeof(*x));
    struct mrd_err err = {0};
    char id[80], rows[256];
    uint64_t pruned = 0;

    assert_non_null(x);
    write_round(f, round, 6, false);
    stored_rows(f, rows, sizeof(rows));
    assert_string_equal(rows, "5,3,1,2");
    see_all(f, all, x);
    assert_int_equal(x->n, 11);
    for (int i = 0; i < 11; i++) {
        const struct mpage *p = &round[want_page[i]];
        item_id(id, sizeof(id), want_item[i], false);
        assert_string_equal(x->r[i].id, id);
        assert_int_equal(x->r[i].t, p->t);
        assert_string_equal(x->r[i].org, p->org);
        assert_string_equal(x->r[i].path, p->path);
        assert_int_equal(x->r[i].version, 2000000 + (want_item[i] - p->first));
        assert_int_equal(x->r[i].tlp, 3 + (want_item[i] - p->first) % 2);
    }
    /* since: the rows of the pages read since, inside merged rows too */
    all.since_usec = MIDNIGHT - 200 * MS;
    see_all(f, all, x);
    assert_int_equal(x->n, 6);
    item_id(id, sizeof(id), 5, false);
    assert_string_equal(x->r[0].id, id);
    all.since_usec = STORE_TIME_NONE;
    all.org = "cert-b";
    see_all(f, all, x);
    assert_int_equal(x->n, 3);
    all.org = NULL;
    /* sealing stops before a stored row whose latest page is at or after
     * the cut, even when its first pages are before it */
    assert_int_equal(audit_seal(f->st, MIDNIGHT - 175 * MS, &sr, &err), MRD_OK);
    assert_int_equal(sr.digests, 1);
    assert_int_equal(sr.rows, 5);
    assert_int_equal(audit_seal(f->st, MIDNIGHT, &sr, &err), MRD_OK);
    assert_int_equal(sr.rows, 4);
    assert_int_equal(audit_seal(f->st, INT64_MAX, &sr, &err), MRD_OK);
    assert_int_equal(sr.rows, 2);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.ok, 3);
    assert_int_equal(vr.bad, 0);
    /* retention of the day before midnight: whole stored rows go */
    assert_int_equal(audit_prune(f->st, 1, MIDNIGHT + AUDIT_DAY_USEC, &pruned, &err), MRD_OK);
    assert_int_equal(pruned, 9);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.pruned, 2);
    assert_int_equal(vr.ok, 1);
    assert_int_equal(vr.bad, 0);
    see_all(f, all, x);
    assert_int_equal(x->n, 2);
    /* 11 pages of 1,000 reads by one reader: split at STORE_READS_MAX */
    for (int i = 0; i < 11; i++)
        big[i] =
            (struct mpage){"cert-c", "tok-c", "feed", MIDNIGHT + (1000 + i) * MS, i * 1000, 1000};
    write_round(f, big, 11, false);
    stored_rows(f, rows, sizeof(rows));
    assert_string_equal(rows, "2,10000,1000");
    all.org = "cert-c";
    see_all(f, all, x);
    assert_int_equal(x->n, 11000);
    /* ids kept whole (about 122 bytes an item): split at STORE_READ_MERGED_MAX */
    for (int i = 0; i < 3; i++)
        big[i] =
            (struct mpage){"cert-d", "tok-d", "feed", MIDNIGHT + (2000 + i) * MS, i * 1000, 1000};
    write_round(f, big, 3, true);
    stored_rows(f, rows, sizeof(rows));
    assert_string_equal(rows, "2,10000,1000,2000,1000");
    all.org = "cert-d";
    see_all(f, all, x);
    assert_int_equal(x->n, 3000);
    assert_int_equal(audit_seal(f->st, INT64_MAX, &sr, &err), MRD_OK);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.bad, 0);
    assert_int_equal(vr.unsealed, 0);
    free(x);
}

/* serve's thread merges what readers flush: every read listed once. */
static void test_service_merges(void **state)
{
    struct fx *f = *state;
    char ids[4][80], rows[256];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter all = {.since_usec = STORE_TIME_NONE};
    struct audit_service *svc = NULL;
    struct seen *x = calloc(1, sizeof(*x));
    struct mrd_err err = {0};
    const char *orgs[3] = {"cert-b", "cert-c", "cert-b"};
    size_t stored = 0;

    assert_non_null(b);
    assert_non_null(x);
    for (int i = 0; i < 4; i++)
        insert(f, i + 1, POLICY_TLP_AMBER, ids[i]);
    assert_int_equal(audit_service_start(f->st, 365, &svc, &err), MRD_OK);
    for (int page = 0; page < 30; page++) { /* 30 pages of 4 reads */
        audit_begin(b, f->st, AUDIT_TAXII, orgs[page % 3], "tok");
        assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
        assert_int_equal(audit_flush(b, &err), MRD_OK);
    }
    audit_service_stop(svc);
    see_all(f, all, x);
    assert_int_equal(x->n, 120);
    for (size_t i = 0; i < 16; i++)
        assert_string_equal(x->r[i].id, ids[i % 4]); /* each page whole, in order */
    all.org = "cert-c";
    see_all(f, all, x);
    assert_int_equal(x->n, 40);
    /* fewer stored rows than pages: two readers a round, the thread's
     * rounds 200 ms apart, the 30 flushes a few ms */
    stored_rows(f, rows, sizeof(rows));
    for (const char *c = rows; *c != '\0'; c++)
        stored += *c == ',';
    assert_true(stored + 1 < 30);
    free(x);
    free(b);
}

/* Appends row r to the SQL in ctx as schema 15 stored it. */
static enum mrd_code row_sql(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    char *sql = ctx;
    size_t at = strlen(sql);

    (void)err;
    (void)snprintf(sql + at, 4096 - at,
                   "INSERT INTO access_reads VALUES (%lld, %lld, '%.*s', %lld, %d, '%s', '%s',"
                   " '%s');",
                   (long long)r->id, (long long)r->time_usec, (int)r->object_id_len, r->object_id,
                   (long long)r->version_usec, r->tlp, r->org, r->token, r->path);
    assert_true(strlen(sql) < 4000);
    return MRD_OK;
}

/* A database of schema 15 (one row per object read) migrates to one row
 * per page: every row keeps its number and content, so its digests still
 * verify, and new rows are numbered on. */
static void test_migrate_rows_to_pages(void **state)
{
    struct fx *f = *state;
    char ids[2][80], path[TEST_DIR_MAX + 32], undo[4096];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter all = {.since_usec = STORE_TIME_NONE, .limit = 100};
    struct store_open_opts opts = {.max_conn = 4};
    struct audit_verify_report vr;
    struct read_rows rows = {0};
    struct mrd_err err = {0};
    int64_t last = 0;
    sqlite3 *db = NULL;

    assert_non_null(b);
    insert(f, 1, POLICY_TLP_AMBER, ids[0]);
    insert(f, 2, POLICY_TLP_RED, ids[1]);
    for (int page = 0; page < 2; page++) { /* rows 1..2 sealed, 3..4 not */
        audit_begin(b, f->st, AUDIT_TAXII, "cert-b", "tok");
        assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
        assert_int_equal(audit_flush(b, &err), MRD_OK);
        if (page == 0)
            assert_int_equal(audit_seal(f->st, INT64_MAX, NULL, &err), MRD_OK);
    }
    /* back to schema 15 (20 -> 19 changed no table; 19 -> 18, 18 -> 17 and
     * 17 -> 16 undone first): the same
     * rows, one each, as 15 stored them */
    (void)snprintf(undo, sizeof(undo),
                   "CREATE TABLE access_reads (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                   " time INTEGER NOT NULL, object_id TEXT NOT NULL, version INTEGER NOT NULL,"
                   " tlp INTEGER NOT NULL, org TEXT NOT NULL, token TEXT NOT NULL,"
                   " path TEXT NOT NULL);");
    assert_int_equal(store_reads_list(f->st, &all, row_sql, undo, NULL, &err), MRD_OK);
    store_close(f->st);
    f->st = NULL;
    (void)snprintf(path, sizeof(path), "%s/meridian.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, undo, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TRIGGER access_pages_no_update; DROP TRIGGER access_pages_no_delete;"
                     "DROP TABLE access_pages;"
                     "CREATE TRIGGER access_reads_no_update BEFORE UPDATE ON access_reads"
                     " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;"
                     "CREATE TRIGGER access_reads_no_delete BEFORE DELETE ON access_reads"
                     " WHEN OLD.id > IFNULL((SELECT MAX(last) FROM access_digests), 0)"
                     " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;"
                     "DROP INDEX notifications_seq;" /* 16 -> 17, undone too */
                     /* 18 -> 19: the paused aggregate trigger (made again by 18 -> 19) */
                     "DROP TRIGGER agg_insert; DROP TABLE agg_paused;"
                     "CREATE TRIGGER agg_insert AFTER INSERT ON objects BEGIN SELECT 1; END;"
                     "UPDATE schema_version SET version = 15;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_reads_list(f->st, &all, read_row, &rows, NULL, &err), MRD_OK);
    assert_int_equal(rows.n, 4);
    assert_string_equal(rows.ids[0], ids[0]);
    assert_int_equal(rows.tlp[1], POLICY_TLP_RED);
    assert_string_equal(rows.ids[3], ids[1]);
    assert_string_equal(rows.token[3], "tok");
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 1);
    assert_int_equal(vr.ok, 1);
    assert_int_equal(vr.bad, 0);
    assert_int_equal(vr.unsealed, 2);
    audit_begin(b, f->st, AUDIT_TAXII, "cert-b", "tok");
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    assert_int_equal(store_reads_list(f->st, &all, count_rows, &last, NULL, &err), MRD_OK);
    assert_int_equal(last, 6);
    /* text pages (rows 1..4) and a packed one (5..6) list and seal alike */
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(store_reads_list(f->st, &all, read_row, &rows, NULL, &err), MRD_OK);
    assert_int_equal(rows.n, 6);
    assert_string_equal(rows.ids[4], ids[0]);
    assert_string_equal(rows.ids[5], ids[1]);
    assert_int_equal(rows.tlp[5], POLICY_TLP_RED);
    assert_int_equal(audit_seal(f->st, INT64_MAX, NULL, &err), MRD_OK);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 2);
    assert_int_equal(vr.ok, 2);
    assert_int_equal(vr.bad, 0);
    assert_int_equal(vr.unsealed, 0);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_audit, setup, teardown),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_packed),
        cmocka_unit_test(test_count_runs),
        cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_rows_to_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merged_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_merges, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
