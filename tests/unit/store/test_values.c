/* store: the value index. The pure half (parsing typed values, extracting
 * values from objects) and the search over a real SQLite file -- or, under
 * tests/unit/store/with_pg.py, a PostgreSQL database: exact, CIDR
 * containment both ways, domain suffix both ways, the caller's visibility
 * decision, free text and references, and (SQLite) indexing of versions
 * stored before the index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/store.h"

#include "pgtest.h"

static void fmt(const char *typed, const char *want)
{
    struct store_value v;
    char out[512];
    struct mrd_err err = {0};

    assert_int_equal(store_value_parse(typed, strlen(typed), &v, &err), MRD_OK);
    (void)store_value_format(&v, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_parse(void **state)
{
    struct store_value v;
    struct mrd_err err = {0};

    (void)state;
    fmt("203.0.113.7", "203.0.113.7");
    fmt(" 10.1.2.3/8 ", "10.0.0.0/8"); /* host bits dropped */
    fmt("2001:DB8::1", "2001:db8:0:0:0:0:0:1");
    fmt("2001:db8::/32", "2001:db8:0:0:0:0:0:0/32");
    fmt("A.Evil.COM.", "a.evil.com");
    fmt("evil[.]com", "evil.com"); /* defanged */
    fmt("hxxp://Evil.com/x", "http://evil.com/x");
    fmt("Bob@Example.ORG", "bob@example.org");
    fmt("D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e");
    assert_int_equal(store_value_parse("hello", 5, &v, &err), MRD_E_INVAL);
    assert_int_equal(store_value_parse("", 0, &v, &err), MRD_E_INVAL);
    assert_int_equal(store_value_parse("10.0.0.1/33", 11, &v, &err), MRD_E_INVAL);
    assert_int_equal(store_value_parse("a..b", 4, &v, &err), MRD_E_INVAL);
}

struct got {
    char v[16][300];
    int how[16];
    int n;
};

static enum mrd_code collect(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    struct got *g = ctx;

    (void)err;
    assert_true(g->n < 16);
    (void)store_value_format(v, g->v[g->n], sizeof(g->v[0]));
    g->how[g->n++] = v->how;
    return MRD_OK;
}

/* The values of json by store_values_of_object; store_values_append of
 * the parsed object (what importers hand the store) must give the same. */
static void extract(const char *json, struct got *g)
{
    json_t *o = json_loads(json, 0, NULL);
    struct mrd_buf b;
    struct got from_json;

    memset(g, 0, sizeof(*g));
    assert_int_equal(store_values_of_object(json, strlen(json), collect, g, NULL), MRD_OK);
    memset(&from_json, 0, sizeof(from_json));
    mrd_buf_init(&b, (size_t)STORE_VALUES_MAX * sizeof(struct store_value));
    assert_int_equal(store_values_append(o, &b, NULL), MRD_OK);
    assert_int_equal(b.len % sizeof(struct store_value), 0);
    for (size_t i = 0; i < b.len / sizeof(struct store_value); i++)
        assert_int_equal(
            collect(&from_json, (const struct store_value *)(void *)(b.data) + i, NULL), MRD_OK);
    assert_int_equal(from_json.n, g->n);
    for (int i = 0; i < g->n; i++) {
        assert_string_equal(from_json.v[i], g->v[i]);
        assert_int_equal(from_json.how[i], g->how[i]);
    }
    mrd_buf_release(&b);
    json_decref(o);
}

/* Free text becomes quoted phrases: FTS5 operators typed by a user stay
 * words, quotes are doubled, punctuation alone is no word. */
static void test_text_query(void **state)
{
    char out[STORE_TEXT_QUERY_MAX * 2 + STORE_TEXT_TERMS_MAX * 3 + 2];
    char big[STORE_TEXT_QUERY_MAX + 2];
    size_t n = 0;
    struct mrd_err err = {0};
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"lockbit", "\"lockbit\"*"},
        {"  Cobalt   strike ", "\"Cobalt\" \"strike\"*"},
        {"a OR b", "\"a\" \"OR\" \"b\"*"},
        {"x\"y NEAR(a", "\"x\"\"y\" \"NEAR(a\"*"},
        {"evil.example - ! ", "\"evil.example\"*"},
        {"name:z ^w", "\"name:z\" \"^w\"*"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(store_text_query(ok[i].in, strlen(ok[i].in), out, sizeof(out), &n, NULL),
                         MRD_OK);
        assert_string_equal(out, ok[i].out);
        assert_int_equal(n, strlen(ok[i].out));
    }
    assert_int_equal(store_text_query("!! -- \"", 7, out, sizeof(out), &n, &err), MRD_E_INVAL);
    assert_int_equal(store_text_query("a\xff", 2, out, sizeof(out), &n, NULL), MRD_E_INVAL);
    memset(big, 'a', sizeof(big));
    assert_int_equal(store_text_query(big, STORE_TEXT_QUERY_MAX, out, sizeof(out), &n, NULL),
                     MRD_OK);
    assert_int_equal(store_text_query(big, STORE_TEXT_QUERY_MAX + 1, out, sizeof(out), &n, NULL),
                     MRD_E_TOOBIG);
    assert_int_equal(
        store_text_query("a b c d e f g h i j k l m n o p q", 33, out, sizeof(out), &n, NULL),
        MRD_E_TOOBIG);
}

static void test_extract(void **state)
{
    struct got g;

    (void)state;
    extract("{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '10.0.0.0/8'] OR "
            "[domain-name:value IN ('Evil.com','b.evil.com')]\",\"pattern_type\":\"stix\"}",
            &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.v[0], "10.0.0.0/8");
    assert_string_equal(g.v[2], "b.evil.com");
    assert_int_equal(g.how[0], STORE_VH_PATTERN);
    extract("{\"type\":\"url\",\"value\":\"HTTP://Bad.example:80/a\"}", &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.v[0], "http://bad.example/a");
    assert_string_equal(g.v[1], "bad.example");
    assert_int_equal(g.how[1], STORE_VH_URL_HOST);
    extract("{\"type\":\"file\",\"hashes\":{\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e\"}}", &g);
    assert_int_equal(g.n, 1);
    /* what the extractor cannot express, or garbage: nothing, no error */
    extract("{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4' AND "
            "ipv4-addr:value = '5.6.7.8']\"}",
            &g);
    assert_int_equal(g.n, 0);
    extract("{\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
            "\"pattern_type\":\"sigma\"}",
            &g);
    assert_int_equal(g.n, 0);
    extract("not json", &g);
    assert_int_equal(g.n, 0);
    extract("{\"type\":\"ipv4-addr\",\"value\":\"not an address\"}", &g);
    assert_int_equal(g.n, 0);
}

/* ---- search over a store ---- */

struct fx {
    char dir[64];
    struct store *st;
    struct store_collection coll;
    int next;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 4};
    struct store_api_root root = {
        .name = "europe", .title = "Europe", .max_content_length = STORE_DEFAULT_MAX_CONTENT};

    assert_non_null(f);
    (void)snprintf(f->dir, sizeof(f->dir), "/tmp/mrd-values-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(store_where(f->dir), &opts, &f->st, NULL), MRD_OK);
    assert_int_equal(store_api_root_put(f->st, &root, NULL, NULL), MRD_OK);
    (void)snprintf(f->coll.api_root, sizeof(f->coll.api_root), "europe");
    (void)snprintf(f->coll.title, sizeof(f->coll.title), "Indicators");
    assert_int_equal(store_collection_create(f->st, &f->coll, NULL), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    store_close(f->st);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Stores an object whose body is {"id":..,"type":type, fields}; tlp RED
 * marks the ones the test's reader may not see. given (may be NULL): the
 * values handed to the store with it (store_object_in.values), n of them,
 * instead of the ones the store would extract from the body. */
static void put_fields(struct fx *f, const char *type, const char *fields, enum policy_tlp tlp,
                       const struct store_value *given, size_t n)
{
    char id[64], body[1024];
    struct store_object_in in;

    (void)snprintf(id, sizeof(id), "%s--00000000-0000-4000-8000-%012d", type, ++f->next);
    (void)snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"%s\",%s}", id, type, fields);
    memset(&in, 0, sizeof(in));
    in.id = id;
    in.id_len = strlen(id);
    in.type = type;
    in.type_len = strlen(type);
    in.spec_version = "2.1";
    in.spec_version_len = 3;
    in.created_usec = STORE_TIME_NONE;
    in.modified_usec = STORE_TIME_NONE;
    in.tlp = tlp;
    in.body = body;
    in.body_len = strlen(body);
    in.values = given;
    in.n_values = n;
    in.values_given = given != NULL;
    assert_int_equal(store_objects_insert(f->st, f->coll.key, &in, 1, NULL, NULL, NULL), MRD_OK);
}

/* An object of type type whose "pattern" or "value" (field) is text. */
static void put_given(struct fx *f, const char *type, const char *field, const char *text,
                      enum policy_tlp tlp, const struct store_value *given, size_t n)
{
    char fields[512];

    (void)snprintf(fields, sizeof(fields), "\"pattern_type\":\"stix\",\"%s\":\"%s\"", field, text);
    put_fields(f, type, fields, tlp, given, n);
}

static void put(struct fx *f, const char *type, const char *field, const char *text,
                enum policy_tlp tlp)
{
    put_given(f, type, field, text, tlp, NULL, 0);
}

struct hits {
    char ids[32][64];
    int match[32];
    int n;
};

static bool not_red(void *ctx, int64_t coll, const struct store_row *row)
{
    (void)ctx;
    (void)coll;
    return row->policy.tlp != POLICY_TLP_RED;
}

static enum mrd_code hit(void *ctx, const struct store_value_hit *h, struct mrd_err *err)
{
    struct hits *x = ctx;

    (void)err;
    assert_true(x->n < 32);
    assert_non_null(h->row->body);
    (void)snprintf(x->ids[x->n], sizeof(x->ids[0]), "%.*s", (int)h->row->id_len, h->row->id);
    x->match[x->n++] = h->match;
    return MRD_OK;
}

/* The numbers (put order) of the objects a search finds, as a sorted
 * string "1,4,7". */
static void search(struct fx *f, const char *typed, size_t limit, const char *want, bool more)
{
    struct store_value v;
    struct hits x = {0};
    bool m = !more;
    int nums[32];
    char got[256] = "";
    size_t o = 0;

    assert_int_equal(store_value_parse(typed, strlen(typed), &v, NULL), MRD_OK);
    assert_int_equal(store_value_search(f->st, &v, limit, not_red, hit, &x, &m, NULL), MRD_OK);
    for (int i = 0; i < x.n; i++)
        nums[i] = atoi(x.ids[i] + strlen(x.ids[i]) - 12);
    for (int i = 0; i < x.n; i++)
        for (int k = i + 1; k < x.n; k++)
            if (nums[k] < nums[i]) {
                int t = nums[i];
                nums[i] = nums[k];
                nums[k] = t;
            }
    for (int i = 0; i < x.n; i++)
        o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%d", i ? "," : "", nums[i]);
    assert_string_equal(got, want);
    assert_int_equal(m, more);
}

static void test_search(void **state)
{
    struct fx *f = *state;

    put(f, "indicator", "pattern", "[ipv4-addr:value = '10.0.0.0/8']", POLICY_TLP_GREEN); /* 1 */
    put(f, "indicator", "pattern", "[ipv4-addr:value = '10.1.2.3']", POLICY_TLP_GREEN);   /* 2 */
    put(f, "ipv4-addr", "value", "10.1.2.3", POLICY_TLP_GREEN);                           /* 3 */
    put(f, "ipv4-addr", "value", "10.1.2.3", POLICY_TLP_RED);                             /* 4 */
    put(f, "indicator", "pattern", "[domain-name:value = 'evil.com']", POLICY_TLP_GREEN); /* 5 */
    put(f, "domain-name", "value", "a.evil.com", POLICY_TLP_GREEN);                       /* 6 */
    put(f, "domain-name", "value", "notevil.com", POLICY_TLP_GREEN);                      /* 7 */
    put(f, "url", "value", "http://x.a.evil.com/p", POLICY_TLP_GREEN);                    /* 8 */
    put(f, "ipv4-addr", "value", "192.168.0.1", POLICY_TLP_GREEN);                        /* 9 */
    put(f, "indicator", "pattern", "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
        POLICY_TLP_GREEN); /* 10 */

    /* exact + the /8 holding it; the RED copy is not visible */
    search(f, "10.1.2.3", 0, "1,2,3", false);
    /* a range: what lies inside it, and what holds it */
    search(f, "10.1.0.0/16", 0, "1,2,3", false);
    search(f, "10.0.0.0/8", 0, "1,2,3", false);
    search(f, "192.168.0.0/24", 0, "9", false);
    search(f, "11.0.0.1", 0, "", false);
    /* domain: parents and children, never notevil.com */
    search(f, "evil.com", 0, "5,6,8", false);
    search(f, "b.a.evil.com", 0, "5,6", false);
    search(f, "a.evil.com", 0, "5,6,8", false);
    search(f, "notevil.com", 0, "7", false);
    search(f, "http://x.a.evil.com/p", 0, "8", false);
    search(f, "2001:db8:1::5", 0, "10", false);
    /* the limit counts visible hits only, and more is exact */
    search(f, "10.1.2.3", 2, "2,3", true);
    search(f, "10.1.2.3", 3, "1,2,3", false);
}

/* Values handed with the object are the ones indexed: the store does not
 * parse the body again (a body saying otherwise shows it). */
static void test_given_values(void **state)
{
    struct fx *f = *state;
    struct store_value v[2];

    assert_int_equal(store_value_parse("172.16.0.1", 10, &v[0], NULL), MRD_OK);
    assert_int_equal(store_value_parse("given.example", 13, &v[1], NULL), MRD_OK);
    v[0].how = STORE_VH_VALUE;
    v[1].how = STORE_VH_VALUE;
    put_given(f, "ipv4-addr", "value", "10.9.9.9", POLICY_TLP_GREEN, v, 2); /* 1 */
    put_given(f, "ipv4-addr", "value", "10.9.9.8", POLICY_TLP_GREEN, v, 0); /* 2: none */
    put(f, "ipv4-addr", "value", "10.9.9.7", POLICY_TLP_GREEN);             /* 3: extracted */
    search(f, "172.16.0.1", 0, "1", false);
    search(f, "given.example", 0, "1", false);
    search(f, "10.9.9.9", 0, "", false);
    search(f, "10.9.9.8", 0, "", false);
    search(f, "10.9.9.7", 0, "3", false);
}

static void test_backfill(void **state)
{
    struct fx *f = *state;
    char path[128];
    sqlite3 *db;

    put(f, "ipv4-addr", "value", "198.51.100.9", POLICY_TLP_GREEN);
    store_close(f->st);
    f->st = NULL;
    (void)snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DELETE FROM value_index; DELETE FROM meta WHERE key ="
                                  " 'value_index'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    (void)sqlite3_close(db);
    assert_int_equal(store_open(f->dir, NULL, &f->st, NULL), MRD_OK);
    search(f, "198.51.100.9", 0, "1", false);
}

static void put_body(struct fx *f, const char *type, const char *fields, enum policy_tlp tlp)
{
    put_fields(f, type, fields, tlp, NULL, 0);
}

struct founds {
    int nums[32];
    int roles[32];
    int n;
};

static enum mrd_code found(void *ctx, const struct store_found *fd, struct mrd_err *err)
{
    struct founds *x = ctx;

    (void)err;
    assert_true(x->n < 32);
    assert_non_null(fd->row->body);
    assert_true(fd->row->id_len > 12);
    x->roles[x->n] = (int)fd->role;
    x->nums[x->n++] = atoi(fd->row->id + fd->row->id_len - 12);
    return MRD_OK;
}

/* "1,4,7" (sorted) from what a text or reference search found. */
static void founds_str(struct founds *x, char *got, size_t size)
{
    size_t o = 0;

    got[0] = '\0';
    for (int i = 0; i < x->n; i++)
        for (int k = i + 1; k < x->n; k++)
            if (x->nums[k] < x->nums[i]) {
                int t = x->nums[i];
                x->nums[i] = x->nums[k];
                x->nums[k] = t;
            }
    for (int i = 0; i < x->n; i++)
        o += (size_t)snprintf(got + o, size - o, "%s%d", i ? "," : "", x->nums[i]);
}

static void text(struct fx *f, const char *typed, size_t limit, const char *want, bool more)
{
    struct founds x = {0};
    bool m = !more;
    char got[256];

    assert_int_equal(
        store_text_search(f->st, typed, strlen(typed), limit, not_red, found, &x, &m, NULL),
        MRD_OK);
    founds_str(&x, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("text search \"%s\": found \"%s\", not \"%s\"", typed, got, want);
    assert_int_equal(m, more);
}

static void refs(struct fx *f, const char *id, unsigned roles, const char *want)
{
    struct founds x = {0};
    bool m = true;
    char got[256];

    assert_int_equal(store_refs_to(f->st, id, strlen(id), roles, 0, not_red, found, &x, &m, NULL),
                     MRD_OK);
    for (int i = 0; i < x.n; i++) /* the role each was found by is one asked for */
        assert_true(roles & STORE_REF_BIT(x.roles[i]));
    founds_str(&x, got, sizeof(got));
    assert_string_equal(got, want);
    assert_false(m);
}

#define MAL1 "malware--00000000-0000-4000-8000-000000000001"
#define IND "indicator--00000000-0000-4000-8000-000000000099"

/* Free text (name and descriptive text; whole words, the last one a
 * prefix, each typed word's parts in order) and references by role, the
 * same on both backends. */
static void test_text_and_refs(void **state)
{
    struct fx *f = *state;
    struct founds x = {0};
    bool more;
    unsigned all = STORE_REF_BIT(STORE_REF_CONTAINS) | STORE_REF_BIT(STORE_REF_SOURCE) |
                   STORE_REF_BIT(STORE_REF_TARGET) | STORE_REF_BIT(STORE_REF_SIGHTING_OF);

    put_body(f, "malware",
             "\"name\":\"LockBit Black\",\"description\":\"Ransomware sent from evil.example\"",
             POLICY_TLP_GREEN); /* 1 */
    put_body(
        f, "report",
        "\"name\":\"Weekly\",\"description\":\"Cobalt Strike beacons\",\"object_refs\":[\"" MAL1
        "\",\"" IND "\",7]",
        POLICY_TLP_GREEN); /* 2 */
    put_body(f, "relationship", "\"source_ref\":\"" IND "\",\"target_ref\":\"" MAL1 "\"",
             POLICY_TLP_GREEN);                                                              /* 3 */
    put_body(f, "sighting", "\"sighting_of_ref\":\"" IND "\"", POLICY_TLP_GREEN);            /* 4 */
    put_body(f, "malware", "\"name\":\"LockBit Red\"", POLICY_TLP_RED);                      /* 5 */
    put_body(f, "note", "\"abstract\":\"strike team\",\"content\":\"x\"", POLICY_TLP_GREEN); /* 6 */
    put_body(f, "malware", "\"name\":\"Ünïcode Wörm\"", POLICY_TLP_GREEN);                   /* 7 */
    put_body(f, "relationship", "\"source_ref\":\"" IND "\",\"target_ref\":\"" MAL1 "\"",
             POLICY_TLP_RED); /* 8: not visible */
    /* a name in ASCII only, its description not: each is folded as it needs */
    put_body(f, "malware", "\"name\":\"Plain Name\",\"description\":\"Déjà Vu\"",
             POLICY_TLP_GREEN); /* 9 */

    text(f, "lockbit", 0, "1", false);
    text(f, "LOCKB", 0, "1", false); /* the last word a prefix, any case */
    text(f, "lockbit bla", 0, "1", false);
    text(f, "lock black", 0, "", false); /* only the last word is a prefix */
    text(f, "cobalt strike", 0, "2", false);
    text(f, "strike", 0, "2,6", false);
    text(f, "evil.example", 0, "1", false);
    text(f, "evil.exam", 0, "1", false);
    text(f, "example.evil", 0, "", false); /* a word's parts in order */
    text(f, "blackk", 0, "", false);
    text(f, "wörm", 0, "7", false);
    text(f, "unicode worm", 0, "7", false); /* letters with diacritics fold, any case */
    text(f, "ÜNÏC", 0, "7", false);
    text(f, "deja vu", 0, "9", false);
    text(f, "plain name", 0, "9", false);
    text(f, "beacons nowhere", 0, "", false);
    /* the limit counts visible hits, and more says there are others */
    more = false;
    assert_int_equal(store_text_search(f->st, "strike", 6, 1, not_red, found, &x, &more, NULL),
                     MRD_OK);
    assert_int_equal(x.n, 1);
    assert_true(more);

    refs(f, IND, all, "2,3,4");
    refs(f, IND, STORE_REF_BIT(STORE_REF_SOURCE), "3");
    refs(f, IND, STORE_REF_BIT(STORE_REF_SIGHTING_OF), "4");
    refs(f, MAL1, all, "2,3");
    refs(f, MAL1, STORE_REF_BIT(STORE_REF_TARGET), "3");
    refs(f, MAL1, STORE_REF_BIT(STORE_REF_SOURCE), "");
    refs(f, "7", all, ""); /* a number in object_refs is no reference */
}

/* store_text_of_object: what PostgreSQL's text and reference indexes get */
struct text_out {
    char got[1024];
    size_t len;
};

static enum mrd_code text_cb(void *ctx, enum store_text_kind kind, int role, const char *s,
                             size_t n, struct mrd_err *err)
{
    struct text_out *t = ctx;
    int w = snprintf(t->got + t->len, sizeof(t->got) - t->len, "%s%c%d[%.*s]",
                     t->len > 0 ? " " : "", "NWR"[kind], role, (int)n, s);

    (void)err;
    assert_true(w > 0 && (size_t)w < sizeof(t->got) - t->len);
    t->len += (size_t)w;
    return MRD_OK;
}

static void text_of(const char *body, const char *want)
{
    struct text_out t = {.len = 0};

    assert_int_equal(store_text_of_object(body, strlen(body), text_cb, &t, NULL), MRD_OK);
    assert_string_equal(t.got, want);
}

static void test_text_of_object(void **state)
{
    (void)state;
    /* split on every run of ASCII but letters and digits; Latin letters
     * with diacritics folded, other characters kept; the four text fields
     * joined by spaces */
    text_of("{\"description\":\"Mail bad@evil.example, v1.5!\",\"name\":\"D\u00e9j\u00e0"
            " VU\u2013x\"}",
            "N0[Deja VU\xe2\x80\x93x] W0[Mail bad evil example v1 5 ]");
    text_of("{\"abstract\":\"a\",\"content\":\"\u0141\u00f3d\u017a \u00df\"}",
            "W0[a lodz \xc3\x9f]");
    /* an empty name is a row without words; a blank text is none */
    text_of("{\"name\":\"\",\"description\":\"  \"}", "N0[]");
    text_of("{\"name\":null,\"type\":\"x\"}", "");
    /* another JSON value: its canonical text */
    text_of("{\"name\":{\"b\":[1,true],\"a\":\"Z\"}}", "N0[ a Z b 1 true ]");
    /* references: strings of object_refs, then the single ones by role */
    text_of("{\"object_refs\":[\"x--1\",7,\"x--2\"],\"sighting_of_ref\":\"x--3\"}",
            "R0[x--1] R0[x--2] R3[x--3]");
    text_of("{\"source_ref\":\"x--1\",\"target_ref\":\"x--2\"}", "R1[x--1] R2[x--2]");
    /* SQL's byte test: a target_ref alone is not looked at */
    text_of("{\"target_ref\":\"x--2\"}", "");
    /* what jsonb would refuse gives nothing */
    text_of("{\"name\":\"a\\u0000b\"}", "");
    text_of("[\"name\"]", "");
    text_of("{\"name\":", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_text_query),
        cmocka_unit_test(test_text_of_object),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_given_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_and_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backfill, setup, teardown),
    };
    /* PostgreSQL: the searches (the backfill is of SQLite files) */
    const struct CMUnitTest on_pg[] = {
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_given_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_and_refs, setup, teardown),
    };

    if (pg_init())
        return cmocka_run_group_tests_name("values on PostgreSQL", on_pg, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
