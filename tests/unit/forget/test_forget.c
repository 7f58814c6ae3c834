/* Unit tests for forget/: the retention file's parser and its errors,
 * which rule decides and when a version expires, the erasure request's
 * parser, and store_objects_erase / store_objects_held on a real SQLite
 * store in $TMPDIR: an erased version leaves no value-index row and
 * queues its ledger event; a held one makes the erase fail whole. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "forget/forget.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "store/store.h"

/* ---- the retention file ---- */

static void parse_ok(const char *text, struct forget_policy *p)
{
    struct mrd_err err = {0};

    assert_int_equal(forget_policy_parse(text, strlen(text), p, &err), MRD_OK);
}

static void parse_bad(const char *text, enum mrd_code want, const char *msg)
{
    struct forget_policy p;
    struct mrd_err err = {0};

    assert_int_equal(forget_policy_parse(text, strlen(text), &p, &err), want);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", err.msg, msg);
    assert_null(p.rules);
}

static void test_policy_parse(void **state)
{
    struct forget_policy p;

    (void)state;
    parse_ok("{\"rules\": [{\"type\": \"sighting\", \"days\": 180},"
             " {\"collection\": \"r/intel\", \"type\": \"*\", \"days\": 0},"
             " {\"type\": \"indicator\", \"days\": 365, \"from\": \"valid_until\"}]}",
             &p);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.rules[0].type, "sighting");
    assert_string_equal(p.rules[0].collection, "");
    assert_int_equal(p.rules[0].days, 180);
    assert_int_equal(p.rules[0].basis, FORGET_FROM_ADDED);
    assert_string_equal(p.rules[1].collection, "r/intel");
    assert_int_equal(p.rules[2].basis, FORGET_FROM_VALID_UNTIL);
    forget_policy_free(&p);
    parse_ok("{\"rules\": []}", &p);
    assert_int_equal(p.n, 0);
    forget_policy_free(&p);

    parse_bad("", MRD_E_PARSE, "retention");
    parse_bad("[]", MRD_E_PARSE, "not a JSON object");
    parse_bad("{}", MRD_E_PARSE, "rules: missing");
    parse_bad("{\"rules\": [{\"type\": \"x\", \"days\": 36501}]}", MRD_E_PARSE, "rules[0].days");
    parse_bad("{\"rules\": [{\"type\": \"x\", \"days\": 1.5}]}", MRD_E_PARSE, "rules[0].days");
    parse_bad("{\"rules\": [{\"type\": \"\", \"days\": 1}]}", MRD_E_PARSE, "rules[0].type");
    parse_bad("{\"rules\": [{\"type\": \"x\", \"days\": 1}, 3]}", MRD_E_PARSE,
              "rules[1]: not an object");
    parse_bad("{\"rules\": [{\"type\": \"x\", \"days\": 1, \"from\": 2}]}", MRD_E_PARSE,
              "rules[0].from");
    parse_bad("{\"rules\": [{\"type\": \"x y\", \"days\": 1}]}", MRD_E_PARSE, "control character");
}

static void test_policy_limits(void **state)
{
    json_t *doc = json_object(), *rules = json_array();
    char *text;

    (void)state;
    for (int i = 0; i <= FORGET_RULES_MAX; i++)
        json_array_append_new(rules, json_pack("{s:s, s:i}", "type", "x", "days", 1));
    json_object_set_new(doc, "rules", rules);
    text = json_dumps(doc, JSON_COMPACT);
    parse_bad(text, MRD_E_TOOBIG, "more than");
    free(text);
    json_decref(doc);
}

static void test_rule_and_expiry(void **state)
{
    struct forget_policy p;
    struct store_collection intel = {.key = 1, .id = "c1", .api_root = "r", .alias = "intel"};
    struct store_collection other = {.key = 2, .id = "c2", .api_root = "r", .alias = ""};
    const char *body = "{\"valid_until\":\"2026-01-02T00:00:00Z\"}";
    struct store_row row = {.date_added = 1000000, .body = body, .body_len = strlen(body)};
    struct store_row bare = {.date_added = 1000000, .body = "{}", .body_len = 2};

    (void)state;
    parse_ok("{\"rules\": [{\"collection\": \"r/intel\", \"type\": \"sighting\", \"days\": 1},"
             " {\"collection\": \"c2\", \"type\": \"*\", \"days\": 2},"
             " {\"type\": \"indicator\", \"days\": 1, \"from\": \"valid_until\"}]}",
             &p);
    assert_int_equal(forget_rule_for(&p, &intel, "sighting", 8), 0);
    assert_int_equal(forget_rule_for(&p, &other, "sighting", 8), 1);
    assert_int_equal(forget_rule_for(&p, &intel, "indicator", 9), 2);
    assert_int_equal(forget_rule_for(&p, &intel, "note", 4), -1);
    assert_int_equal(forget_rule_for(&p, &intel, "sightin", 7), -1);
    assert_int_equal(forget_expiry(&p.rules[0], &row), 1000000 + FORGET_USEC_PER_DAY);
    assert_int_equal(forget_expiry(&p.rules[2], &row),
                     (int64_t)1767312000 * 1000000 + FORGET_USEC_PER_DAY);
    assert_true(forget_expiry(&p.rules[2], &bare) == STORE_TIME_NONE);
    forget_policy_free(&p);
}

/* ---- the erasure request ---- */

static void test_request_parse(void **state)
{
    static const char *const bad[] = {
        "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"object_refs\":[\"a--1\"],"
        "\"reason\":\"r\"}",
        "{\"type\":\"" FORGET_REQUEST_TYPE "\",\"id\":\"x--1\",\"object_refs\":[\"a--1\"],"
        "\"reason\":\"r\"}",
        "{\"type\":\"" FORGET_REQUEST_TYPE "\",\"id\":\"" FORGET_REQUEST_TYPE
        "--1\",\"object_refs\":[],\"reason\":\"r\"}",
        "{\"type\":\"" FORGET_REQUEST_TYPE "\",\"id\":\"" FORGET_REQUEST_TYPE
        "--1\",\"object_refs\":[\"no id\"],\"reason\":\"r\"}",
        "{\"type\":\"" FORGET_REQUEST_TYPE "\",\"id\":\"" FORGET_REQUEST_TYPE
        "--1\",\"object_refs\":[\"a--\\u001b\"],\"reason\":\"r\"}",
        "{\"type\":\"" FORGET_REQUEST_TYPE "\",\"id\":\"" FORGET_REQUEST_TYPE
        "--1\",\"object_refs\":[\"a--1\"]}",
        "not json",
    };
    const char *good = "{\"type\":\"" FORGET_REQUEST_TYPE "\",\"id\":\"" FORGET_REQUEST_TYPE
                       "--1\",\"object_refs\":[\"email-addr--1\"],\"reason\":\"subject\"}";
    struct mrd_err err = {0};
    json_t *o = NULL;

    (void)state;
    assert_int_equal(forget_request_parse(good, strlen(good), &o, &err), MRD_OK);
    assert_non_null(o);
    json_decref(o);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = NULL;
        assert_int_equal(forget_request_parse(bad[i], strlen(bad[i]), &o, &err), MRD_E_PARSE);
        assert_null(o);
        assert_non_null(strstr(err.msg, "erasure request"));
    }
}

/* ---- the store's erase ---- */

struct fx {
    char dir[512];
    struct store *st;
    struct store_collection coll;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 2};
    struct store_api_root root = {
        .name = "r", .title = "R", .max_content_length = STORE_DEFAULT_MAX_CONTENT};
    struct store_org own;
    const char *tmp = getenv("TMPDIR");
    struct mrd_err err = {0};

    assert_non_null(f);
    assert_true(sodium_init() >= 0);
    (void)snprintf(f->dir, sizeof(f->dir), "%s/mrd-forget-XXXXXX",
                   tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "own", POLICY_REL_OWN, &own, &err), MRD_OK);
    assert_int_equal(store_meta_set(f->st, "own_org", "own", &err), MRD_OK);
    assert_int_equal(store_api_root_put(f->st, &root, NULL, &err), MRD_OK);
    (void)snprintf(f->coll.api_root, sizeof(f->coll.api_root), "r");
    (void)snprintf(f->coll.title, sizeof(f->coll.title), "c");
    f->coll.default_tlp = POLICY_TLP_GREEN;
    assert_int_equal(store_collection_create(f->st, &f->coll, &err), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d;
    struct dirent *e;
    char path[1024];

    store_close(f->st);
    d = opendir(f->dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
        (void)unlink(path);
    }
    if (d != NULL)
        (void)closedir(d);
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

static void put_ip(struct fx *f, const char *id, const char *json)
{
    struct store_object_in in = {0};
    struct mrd_err err = {0};

    in.id = id;
    in.id_len = strlen(id);
    in.type = "ipv4-addr";
    in.type_len = 9;
    in.spec_version = "2.1";
    in.spec_version_len = 3;
    in.created_usec = STORE_TIME_NONE;
    in.modified_usec = STORE_TIME_NONE;
    in.tlp = POLICY_TLP_GREEN;
    in.local = true;
    in.creator_org = 1;
    in.body = json;
    in.body_len = strlen(json);
    assert_int_equal(store_objects_insert(f->st, f->coll.key, &in, 1, NULL, NULL, &err), MRD_OK);
}

static enum mrd_code seq_of(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    (void)err;
    *(int64_t *)ctx = o->row->seq;
    return MRD_OK;
}

static int64_t find_seq(struct fx *f, const char *id)
{
    struct store_find q = {
        .id = id, .id_len = strlen(id), .version_usec = STORE_TIME_NONE, .leaf = -1};
    struct mrd_err err = {0};
    int64_t seq = 0;

    assert_int_equal(store_objects_find(f->st, &q, seq_of, &seq, &err), MRD_OK);
    return seq;
}

static bool visible_all(void *ctx, int64_t c, const struct store_row *r)
{
    (void)ctx;
    (void)c;
    (void)r;
    return true;
}

static enum mrd_code count_hit(void *ctx, const struct store_value_hit *h, struct mrd_err *err)
{
    (void)h;
    (void)err;
    ++*(int *)ctx;
    return MRD_OK;
}

static int hits(struct fx *f, const char *value)
{
    struct store_value v;
    struct mrd_err err = {0};
    int n = 0;

    assert_int_equal(store_value_parse(value, strlen(value), &v, &err), MRD_OK);
    assert_int_equal(store_value_search(f->st, &v, 0, visible_all, count_hit, &n, NULL, &err),
                     MRD_OK);
    return n;
}

static enum mrd_code count_erasures(void *ctx, const struct store_ledger_item *it,
                                    struct mrd_err *err)
{
    (void)err;
    if (it->event && it->kind == LEDGER_KIND_ERASURE)
        ++*(int *)ctx;
    return MRD_OK;
}

static void test_erase_and_holds(void **state)
{
    struct fx *f = *state;
    const char *a = "ipv4-addr--00000000-0000-4000-8000-000000000001";
    const char *b = "ipv4-addr--00000000-0000-4000-8000-000000000002";
    struct store_ledger_event ev = {.kind = LEDGER_KIND_ERASURE, .record = "{}", .record_len = 2};
    struct store_hold h = {.id = "00000000-0000-4000-8000-0000000000aa",
                           .case_id = "C",
                           .expires_usec = INT64_MAX / 2,
                           .released_usec = STORE_TIME_NONE,
                           .record = "{}",
                           .record_len = 2};
    struct store_ledger_event hev = {
        .kind = LEDGER_KIND_HOLD_CREATE, .record = "{}", .record_len = 2};
    struct mrd_err err = {0};
    int64_t sa, sb, seqs[2];
    bool held[2];
    size_t erased = 9;
    int events = 0;

    put_ip(f, a,
           "{\"id\":\"ipv4-addr--00000000-0000-4000-8000-000000000001\","
           "\"type\":\"ipv4-addr\",\"value\":\"198.51.100.1\"}");
    put_ip(f, b,
           "{\"id\":\"ipv4-addr--00000000-0000-4000-8000-000000000002\","
           "\"type\":\"ipv4-addr\",\"value\":\"198.51.100.2\"}");
    sa = find_seq(f, a);
    sb = find_seq(f, b);
    assert_true(sa > 0 && sb > 0);
    assert_int_equal(hits(f, "198.51.100.1"), 1);
    assert_int_equal(store_hold_create(f->st, &h, &sb, 1, &hev, &err), MRD_OK);
    seqs[0] = sa;
    seqs[1] = sb;
    assert_int_equal(store_objects_held(f->st, seqs, 2, held, &err), MRD_OK);
    assert_false(held[0]);
    assert_true(held[1]);
    /* a held version makes the whole erase fail: nothing erased or queued */
    assert_int_equal(store_objects_erase(f->st, seqs, 2, &ev, &erased, &err), MRD_E_PERM);
    assert_non_null(strstr(err.msg, h.id));
    assert_int_equal(find_seq(f, a), sa);
    assert_int_equal(store_ledger_pending(f->st, 100, count_erasures, &events, &err), MRD_OK);
    assert_int_equal(events, 0);
    /* the other alone: gone from the store and the value index, event queued */
    assert_int_equal(store_objects_erase(f->st, seqs, 1, &ev, &erased, &err), MRD_OK);
    assert_int_equal(erased, 1);
    assert_int_equal(find_seq(f, a), 0);
    assert_int_equal(hits(f, "198.51.100.1"), 0);
    assert_int_equal(hits(f, "198.51.100.2"), 1);
    assert_int_equal(store_ledger_pending(f->st, 100, count_erasures, &events, &err), MRD_OK);
    assert_int_equal(events, 1);
    /* erasing it again: already gone, not an error */
    assert_int_equal(store_objects_erase(f->st, seqs, 1, NULL, &erased, &err), MRD_OK);
    assert_int_equal(erased, 0);
    /* the hold released: the other goes too */
    h.released_usec = 1;
    assert_int_equal(store_hold_update(f->st, &h, &hev, &err), MRD_OK);
    assert_int_equal(store_objects_erase(f->st, &sb, 1, NULL, &erased, &err), MRD_OK);
    assert_int_equal(erased, 1);
    assert_int_equal(hits(f, "198.51.100.2"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_policy_limits),
        cmocka_unit_test(test_rule_and_expiry),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test_setup_teardown(test_erase_and_holds, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
