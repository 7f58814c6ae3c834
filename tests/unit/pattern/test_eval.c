/*
 * test_eval: the evaluator (pat_prog_new, pat_eval_json, pat_eval_obs) and
 * the matcher's introspection helper (pat_simple_terms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "pattern/pattern.h"

/* Three observations five seconds apart; carol's is counted twice. */
static const char people[] =
    "[{\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"first_observed\":"
    "\"2004-10-11T21:44:58Z\",\"last_observed\":\"2004-10-11T21:44:58Z\",\"number_observed\":1,"
    "\"object_refs\":[\"person--1\"]},"
    "{\"type\":\"person\",\"id\":\"person--1\",\"name\":\"alice\",\"age\":10,"
    "\"friend_ref\":\"person--9\",\"tags\":[\"a\",\"b\"]},"
    "{\"type\":\"observed-data\",\"id\":\"observed-data--2\",\"first_observed\":"
    "\"2004-10-11T21:45:03Z\",\"last_observed\":\"2004-10-11T21:45:03Z\",\"number_observed\":1,"
    "\"object_refs\":[\"person--2\"]},"
    "{\"type\":\"person\",\"id\":\"person--2\",\"name\":\"bob\",\"age\":17},"
    "{\"type\":\"observed-data\",\"id\":\"observed-data--3\",\"first_observed\":"
    "\"2004-10-11T21:45:08Z\",\"last_observed\":\"2004-10-11T21:45:08Z\",\"number_observed\":2,"
    "\"object_refs\":[\"person--3\"]},"
    "{\"type\":\"person\",\"id\":\"person--3\",\"name\":\"carol\",\"age\":22}]";

static json_t *load(const char *text)
{
    json_t *j = NULL;
    struct mrd_err err = {0};

    if (mrd_json_parse(text, strlen(text), NULL, &j, &err) != MRD_OK)
        fail_msg("bad test JSON: %s", err.msg);
    return j;
}

static enum mrd_code eval(const char *pattern, const json_t *data, bool *ret)
{
    struct pat_prog *prog = NULL;
    struct mrd_err err = {0};
    enum mrd_code rc = pat_prog_new(pattern, strlen(pattern), &prog, &err);

    if (rc == MRD_OK)
        rc = pat_eval_json(prog, data, NULL, ret, &err);
    pat_prog_free(prog);
    return rc;
}

static void expect(const char *pattern, const json_t *data, bool want)
{
    bool got = !want;
    enum mrd_code rc = eval(pattern, data, &got);

    if (rc != MRD_OK)
        fail_msg("%s: evaluation failed (%d)", pattern, (int)rc);
    if (got != want)
        fail_msg("%s: expected %s", pattern, want ? "a match" : "no match");
}

static void test_observation_operators(void **state)
{
    json_t *d = load(people);

    (void)state;
    expect("[person:name = 'alice']", d, true);
    expect("[person:name = 'dave']", d, false);
    expect("[person:name = 'alice'] AND [person:name = 'bob']", d, true);
    expect("[person:name = 'alice'] AND [person:age = 10]", d, false); /* distinct obs */
    expect("[person:name = 'carol'] AND [person:age = 22]", d, true);  /* counted twice */
    expect("[person:name = 'alice'] OR [person:name = 'dave']", d, true);
    expect("[person:name = 'alice'] FOLLOWEDBY [person:name = 'bob']", d, true);
    expect("[person:name = 'bob'] FOLLOWEDBY [person:name = 'alice']", d, false);
    expect("[person:age > 0] REPEATS 4 TIMES", d, true);
    expect("[person:age > 0] REPEATS 5 TIMES", d, false);
    expect("([person:name = 'alice'] AND [person:name = 'carol']) WITHIN 10 SECONDS", d, true);
    expect("([person:name = 'alice'] AND [person:name = 'carol']) WITHIN 9 SECONDS", d, false);
    expect("[person:age > 0] REPEATS 3 TIMES WITHIN 5 SECONDS", d, true); /* bob + carol x2 */
    expect("[person:age < 20] REPEATS 2 TIMES WITHIN 4 SECONDS", d, false);
    expect("[person:name = 'bob'] START t'2004-10-11T21:45:03Z' STOP t'2004-10-11T21:45:04Z'", d,
           true);
    expect("[person:name = 'bob'] START t'2004-10-11T21:45:00Z' STOP t'2004-10-11T21:45:03Z'", d,
           false);
    /* the evaluator accepts what the reference matcher evaluates */
    expect("[person:name = 'bob'] START t'2004-10-11T21:45:09Z' STOP t'2004-10-11T21:45:00Z'", d,
           false);
    expect("[person:age > 0] REPEATS 2 TIMES REPEATS 2 TIMES", d, true);
    /* STIX 2.0 spelling of START/STOP, evaluated like the reference matcher */
    expect("[person:age > 0] START '2004-10-11T21:44:00Z' STOP '2004-10-11T21:45:00Z'", d, true);
    expect("[person:age > 0] START '2004-10-11T21:46:00Z' STOP '2004-10-11T21:47:00Z'", d, false);
    json_decref(d);
}

static void test_comparisons(void **state)
{
    json_t *d = load(people);

    (void)state;
    expect("[person:name = 'alice' AND person:age = 10]", d, true);
    expect("[person:name = 'alice' AND person:age = 17]", d, false); /* same root object */
    expect("[person:name = 'alice' OR person:age = 17]", d, true);
    expect("[person:age IN (1, 10.0)]", d, true);
    expect("[person:age != 'ten']", d, true);
    expect("[person:age = 'ten']", d, false);
    expect("[person:name LIKE 'a_i%']", d, true);
    expect("[person:name LIKE 'A%']", d, false);
    expect("[person:name MATCHES 'li']", d, true);
    expect("[person:tags[*] = 'b']", d, true);
    expect("[person:tags[1] = 'a']", d, false);
    expect("[EXISTS person:friend_ref]", d, true);
    expect("[person:friend_ref.name = 'x']", d, false); /* dangling reference */
    expect("[person:missing NOT = 1]", d, false);
    json_decref(d);
}

static void test_errors(void **state)
{
    json_t *d = load(people);
    json_t *bad = load("[{\"type\":\"observed-data\",\"first_observed\":\"x\"}]");
    json_t *num = json_integer(42);
    bool m;

    (void)state;
    /* a timestamp literal against a value that is no timestamp */
    assert_int_equal(eval("[person:name = t'2004-10-11T21:45:03Z']", d, &m), MRD_E_INVALID);
    assert_int_equal(eval("[person:name = 1", d, &m), MRD_E_PARSE);
    assert_int_equal(eval("[person:name = 1]", bad, &m), MRD_E_INVALID);
    assert_int_equal(eval("[person:name = 1]", num, &m), MRD_E_INVAL);
    assert_int_equal(eval("[person:name = 1] REPEATS 100000 TIMES", d, &m), MRD_E_TOOBIG);
    json_decref(d);
    json_decref(bad);
    json_decref(num);
}

/* 2.0 form: an objects dictionary, references are its keys. */
static void test_objects_dictionary(void **state)
{
    json_t *d = load("{\"type\":\"observed-data\",\"first_observed\":\"2005-01-21T11:17:41Z\","
                     "\"last_observed\":\"2005-01-21T11:22:41Z\",\"number_observed\":1,"
                     "\"objects\":{\"0\":{\"type\":\"file\",\"name\":\"a.exe\","
                     "\"parent_directory_ref\":\"1\",\"hashes\":{\"MD5\":\"ABCD\"},"
                     "\"payload_bin\":\"AQIDBA==\"},"
                     "\"1\":{\"type\":\"directory\",\"path\":\"C:\\\\Windows\"}}}");

    (void)state;
    expect("[file:parent_directory_ref.path = 'C:\\\\Windows']", d, true);
    expect("[file:hashes.MD5 = 'abcd']", d, true);
    expect("[file:payload_bin = h'01020304']", d, true);
    expect("[file:payload_bin = b'AQIDBA==']", d, true);
    expect("[directory:path LIKE 'C:%']", d, true);
    json_decref(d);
}

/* Many identical observations: the search must not explore permutations. */
static void test_no_combinatorial_explosion(void **state)
{
    char *text = malloc(64 * 1024);
    size_t k = 0;
    json_t *d;

    (void)state;
    assert_non_null(text);
    k += (size_t)snprintf(text + k, 64 * 1024 - k, "[");
    for (int i = 0; i < 20; i++)
        k += (size_t)snprintf(text + k, 64 * 1024 - k,
                              "%s{\"type\":\"observed-data\",\"first_observed\":"
                              "\"2004-10-11T21:45:%02dZ\",\"last_observed\":"
                              "\"2004-10-11T21:45:%02dZ\",\"number_observed\":1,"
                              "\"objects\":{\"0\":{\"type\":\"person\",\"age\":%d}}}",
                              i ? "," : "", i, i, i);
    snprintf(text + k, 64 * 1024 - k, "]");
    d = load(text);
    expect("[person:age < 20] REPEATS 10 TIMES", d, true);
    expect("[person:age < 20] REPEATS 10 TIMES WITHIN 9 SECONDS", d, true);
    expect("[person:age < 20] REPEATS 10 TIMES WITHIN 8 SECONDS", d, false);
    expect("[person:age < 20] REPEATS 21 TIMES", d, false);
    expect("([person:age < 20] FOLLOWEDBY [person:age > 5]) REPEATS 10 TIMES", d, true);
    json_decref(d);
    free(text);
}

/* The matcher's fast path: SCOs handed over directly, one scratch reused. */
static void test_eval_obs_fast_path(void **state)
{
    json_t *sco = load("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.7\"}");
    const json_t *scos[1] = {sco};
    struct pat_obs obs = {NULL, scos, 1, 0, 0, 1};
    struct pat_prog *prog = NULL;
    struct pat_scratch *s = pat_scratch_new();
    struct mrd_err err = {0};
    const char *src = "[ipv4-addr:value ISSUBSET '198.51.100.0/24']";
    bool m = false;

    (void)state;
    assert_non_null(s);
    assert_int_equal(pat_prog_new(src, strlen(src), &prog, &err), MRD_OK);
    for (int i = 0; i < 1000; i++) {
        m = false;
        assert_int_equal(pat_eval_obs(prog, &obs, 1, s, &m, &err), MRD_OK);
        assert_true(m);
    }
    json_object_set_new(sco, "value", json_string("203.0.113.1"));
    assert_int_equal(pat_eval_obs(prog, &obs, 1, s, &m, &err), MRD_OK);
    assert_false(m);
    assert_int_equal(pat_eval_obs(prog, &obs, 0, NULL, &m, &err), MRD_OK);
    assert_false(m);
    pat_prog_free(prog);
    pat_scratch_free(s);
    json_decref(sco);
}

struct collect {
    char text[1024];
    size_t len;
    int count;
};

static enum mrd_code collect_term(void *ctx, const struct pat_term *t, struct mrd_err *err)
{
    struct collect *c = ctx;

    (void)err;
    c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s|%.*s|%.*s|%d|%d;",
                               t->type, (int)t->path_len, t->path, (int)t->value_len, t->value,
                               (int)t->kind, (int)t->hash);
    c->count++;
    return MRD_OK;
}

static void test_simple_terms(void **state)
{
    const char *src = "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value IN ('5.6.7.8', "
                      "'9.9.9.9')] OR [file:hashes.'SHA-256' = '"
                      "aec070645fe53ee3b3763059"
                      "376134f058cc337247c978add178b6ccdfb0019f']";
    const char *complex[] = {
        "[a:b = 1 AND a:c = 2]",
        "[a:b = 1] AND [a:c = 2]",
        "[a:b != 1]",
        "[a:b NOT = 1]",
        "[a:b = 1] WITHIN 5 SECONDS",
        "[a:b LIKE 'x%']",
        "[a:b = 1] FOLLOWEDBY [a:b = 2]",
    };
    struct pat_ast *ast = NULL;
    struct mrd_err err = {0};
    struct collect c;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(pat_parse(src, strlen(src), &ast, &err), MRD_OK);
    assert_int_equal(pat_simple_terms(ast, collect_term, &c, &err), MRD_OK);
    assert_int_equal(c.count, 4);
    assert_string_equal(c.text, "ipv4-addr|value|1.2.3.4|0|0;ipv4-addr|value|5.6.7.8|0|0;"
                                "ipv4-addr|value|9.9.9.9|0|0;file|hashes.'SHA-256'|"
                                "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
                                "|0|1;");
    pat_ast_free(ast);
    for (size_t i = 0; i < sizeof(complex) / sizeof(complex[0]); i++) {
        ast = NULL;
        memset(&c, 0, sizeof(c));
        assert_int_equal(pat_parse(complex[i], strlen(complex[i]), &ast, &err), MRD_OK);
        assert_int_equal(pat_simple_terms(ast, collect_term, &c, &err), MRD_E_UNSUPP);
        assert_int_equal(c.count, 0);
        pat_ast_free(ast);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observation_operators),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_objects_dictionary),
        cmocka_unit_test(test_no_combinatorial_explosion),
        cmocka_unit_test(test_eval_obs_fast_path),
        cmocka_unit_test(test_simple_terms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
