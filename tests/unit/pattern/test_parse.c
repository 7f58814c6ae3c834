/*
 * test_parse: the lexer, parser and checker through pat_check / pat_parse,
 * plus precedence (AST shape) and error messages (offset, section).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "pattern/pattern.h"
#include "pattern/pattern_int.h"

static const char *const valid[] = {
    "[file:size = 1280]",
    "[file:size != 1280]",
    "[file:size < 1024]",
    "[file:size <= 1024]",
    "[file:size > 1024]",
    "[file:size >= 1024]",
    "[file:size == 1]",
    "[file:size <> 1]",
    "[file:size NOT = 1]",
    "[file:size = +1]",
    "[file:size = -1]",
    "[file:entropy > 7.0]",
    "[file:entropy > .5]",
    "[file:entropy > -0.5]",
    "[file:name = 'it\\'s a \\\\ file']",
    "[file:name = '']",
    "[file:name = 'caf\xc3\xa9']",
    "[file:'name' = 'x']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:extensions.'x y'.list[0].z = 1]",
    "[file:list[-1] = 1]",
    "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    "[file:hashes.'SHA-512' = '"
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']",
    "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
    "[file:hashes.'x-custom' = 'anything goes']",
    "[file:hashes[*] = 'anything']",
    "[file:size IN (1, 2, 3)]",
    "[file:size IN (1, 2.5)]",
    "[file:size IN ()]",
    "[file:name NOT IN ('a', 'b')]",
    "[file:name LIKE 'a%b_']",
    "[file:name NOT LIKE 'a%']",
    "[file:name MATCHES '^a.*\\\\.exe$']",
    "[artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value NOT ISSUPERSET '198.51.100.7']",
    "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
    "[ipv6-addr:value ISSUBSET '::ffff:10.0.0.1/128']",
    "[baz:bar ISSUBSET '1234']", /* inet_aton form, as the reference matcher reads it */
    "[obj-type:a.b[*][1].'c-d' NOT ISSUPERSET '1.2.3.4/16']",
    "[EXISTS file:name]",
    "[file:magic_number_hex = h'ffD8']",
    "[file:magic_number_hex = h'']",
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "[artifact:payload_bin = b'YQ==']",
    "[file:created = t'2014-01-13T07:03:17Z']",
    "[file:created = t'2014-01-13T07:03:17.123456789Z']",
    "[file:created = t'2016-12-31T23:59:60Z']", /* a leap second (RFC 3339 §5.7) */
    "[file:created = t'2024-02-29T00:00:00Z']",
    "[file:created = t'2016-02-29T00:00:00Z']",
    "[file:ok = true AND file:bad = false]",
    "[a:b = 1] AND [c:d = 2]",
    "[a:b = 1] OR [c:d = 2]",
    "[a:b = 1] FOLLOWEDBY [c:d = 2]",
    "[a:b = 1] WITHIN 5 SECONDS",
    "[a:b = 1] WITHIN 0.5 SECONDS",
    "[a:b = 1] REPEATS 5 TIMES",
    "[a:b = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
    "[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES",
    "(([a:b = 1]))",
    "[(a:b = 1)]",
    "[((a:b = 1) OR (a:c = 2)) AND a:d = 3]",
    "[network-traffic:src_port = 37020 AND user-account:user_id = 'root']",
    "[a:b = 1] /* block */ AND /* x */ [c:d = 2] // trailing",
    " \t\r\n[a:b = 1]\n",
    "\xc2\xa0[a:b = 1]\xe3\x80\x80",
    "[a:b=1]AND[c:d=2]",
    "[a:b_ref.c_refs[*].d = 1]",
    "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
    "[foo:bar=1] REPEATS 9 TIMES",
    "[a:b = 99999999999999999999]",
    "[file:'' = 1]",
};

static const struct {
    const char *src;
    const char *needle; /* must appear in the message */
} invalid[] = {
    {"", "offset 0: empty pattern"},
    {"   ", "empty pattern"},
    {"file:size = 1280", "offset 0: expected '[' or '('"},
    {"[file:size = ]", "offset 13: expected a literal"},
    {"[file:size = 1280", "offset 17: expected ']'"},
    {"[file:size = 1280]]", "offset 18:"},
    {"[file.size = 1280]", "offset 5: expected ':'"},
    {"[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", "offset 19:"},
    {"[file:name MATCHES /.*\\.dll/]", "offset 19:"},
    {"[a:b = 1] WITHIN ]", "offset 17: expected a positive number"},
    {"[a:b = 1] WITHIN 5 HOURS", "offset 19: expected SECONDS"},
    {"[a:b = 1] WITHIN -5 SECONDS", "offset 17:"},
    {"[a:b = 1] WITHIN 0 SECONDS", "WITHIN needs"},
    {"[a:b = 1] REPEATS 0 TIMES", "REPEATS needs"},
    {"[a:b = 1] REPEATS 1.5 TIMES", "offset 18:"},
    {"[a:b = 1] REPEATS 2", "expected TIMES"},
    {"[a:b = 1] START t'2016-06-01T01:30:00Z'", "expected STOP"},
    {"[a:b = 1] START '2016-06-01T01:30:00Z' STOP '2016-06-01T02:30:00Z'", "timestamp"},
    {"[a:b = 1] START t'2016-06-01T03:30:00Z' STOP t'2016-06-01T02:30:00Z'", "STOP must be later"},
    {"[a:b = 1] START t'2016-06-01T03:30:00Z' STOP t'2016-06-01T03:30:00Z'", "STOP must be later"},
    {"[network-traffic:dst_ref.value ISSUBSET ]", "offset 40: expected a string"},
    {"[file:hashes.MD5 =? 'x']", "offset 18:"},
    {"[x:d == t'2457-73-22T32:81:84.1Z']", "offset 8: timestamp literal: month 73 does not exist"},
    /* Impossible calendar dates say so (issue 17, item 13), naming the
     * date; malformed literals say the format is wrong. */
    {"[x:d = t'2016-02-30T00:00:00Z']", "2016-02-30 does not exist (February 2016 has 29 days)"},
    {"[x:d = t'2023-02-29T00:00:00Z']", "2023-02-29 does not exist (February 2023 has 28 days)"},
    {"[x:d = t'2026-04-31T12:00:00.5Z']", "2026-04-31 does not exist (April 2026 has 30 days)"},
    {"[x:d = t'2026-01-01T24:00:00Z']", "the time 24:00:00 does not exist"},
    {"[x:d = t'2026-01-01T12:60:00Z']", "the time 12:60:00 does not exist"},
    {"[x:d = t'2026-01-01T12:00:60Z']", "the time 12:00:60 does not exist"},
    {"[a:b = 1] START t'2026-06-31T00:00:00Z' STOP t'2026-07-01T00:00:00Z'",
     "2026-06-31 does not exist"},
    {"[x:d = t'2016-02-01T00:00:00']", "invalid timestamp"},
    {"[x:d = t'2016-02-01t00:00:00Z']", "invalid timestamp"},
    {"[x:d = t'2016-02-01T00:00Z']", "invalid timestamp"},
    {"[artifact:payload_bin = b'====']", "base64"},
    {"[artifact:payload_bin = b'']", "base64"},
    {"[artifact:payload_bin = b'abc']", "base64"},
    {"[a:b = h'abc']", "even number"},
    {"[a:b = h'zz']", "invalid hex digit"},
    {"[foo:bar=1] within 2 seconds", "offset 12:"},
    {"[foo:bar=1] and [a:b=2]", "offset 12:"},
    {"[a:b = 1 and a:c = 2]", "offset 9:"},
    {"[a:b = TRUE]", "offset 7:"},
    {"[a:b = null]", "offset 7:"},
    {"[file:hashes.'SHA-256' = 'f00']", "'f00' is not a valid SHA-256 hash"},
    {"[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879']", "valid MD5 hash"},
    {"[file:hashes.'SHA-1' IN ('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'x')]", "SHA-1"},
    {"[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "duplicate WITHIN"},
    {"([a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES)", "duplicate REPEATS"},
    {"[a:b = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z' START "
     "t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
     "duplicate START/STOP"},
    {"[a:b MATCHES '(unclosed']", "regex does not compile"},
    {"[a:b ISSUBSET 'example.com']", "ISSUBSET needs"},
    {"[a:b ISSUPERSET '10.0.0.0/33']", "ISSUPERSET needs"},
    {"[a:b ISSUBSET '10.0.0.256']", "ISSUBSET needs"},
    {"[a:b ISSUBSET '10.0.0.1 /8']", "ISSUBSET needs"},
    {"[a:b ISSUBSET '2001:db8::/129']", "ISSUBSET needs"},
    {"[a:b IN (1, 'x')]", "same type"},
    {"[a:b IN (1, true)]", "same type"},
    {"[a:b IN (1,)]", "expected a literal in the set"},
    {"[a:b IN 1]", "expected '('"},
    {"[a:b LIKE 1]", "expected a string"},
    {"[a:b > true]", "orderable"},
    {"[a:b = 'bad \\q']", "invalid escape"},
    {"[a:b = 'unterminated]", "unterminated string"},
    {"[some-type:needs-quotes = 1]", "must be quoted"},
    {"[a:b.c-d = 1]", "must be quoted"},
    {"[a:b[x] = 1]", "list index"},
    {"[a:b = 1] /* open", "unterminated comment"},
    {"[a:b = 1] @", "unexpected character '@'"},
    {"[a:b = 1]\x01", "control character"},
    {"[a:b = '\xff']", "invalid UTF-8"},
    {"[a:AND = 1]", "offset 3:"},
    {"[EXISTS a:b = 1]", "offset 12:"},
    {"[a:b NOT EXISTS]", "offset 9:"},
    {"()", "offset 1:"},
    {"[]", "offset 1:"},
};

static void test_valid_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        struct mrd_err err = {0};
        enum mrd_code rc = pat_check(valid[i], strlen(valid[i]), &err);
        if (rc != MRD_OK)
            fail_msg("rejected valid pattern %s: %s", valid[i], err.msg);
    }
}

static void test_invalid_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        struct mrd_err err = {0};
        struct pat_ast *ast = NULL;
        enum mrd_code rc = pat_check(invalid[i].src, strlen(invalid[i].src), &err);
        if (rc != MRD_E_PARSE)
            fail_msg("accepted invalid pattern %s", invalid[i].src);
        if (strstr(err.msg, invalid[i].needle) == NULL)
            fail_msg("%s: message '%s' lacks '%s'", invalid[i].src, err.msg, invalid[i].needle);
        if (strstr(err.msg, "(STIX 2.1 \xc2\xa7") == NULL || strncmp(err.msg, "pattern: ", 9) != 0)
            fail_msg("%s: message '%s' lacks the offset or section", invalid[i].src, err.msg);
        /* pat_parse agrees and leaves the out-parameter alone */
        memset(&err, 0, sizeof(err));
        assert_int_equal(pat_parse(invalid[i].src, strlen(invalid[i].src), &ast, &err),
                         MRD_E_PARSE);
        assert_null(ast);
    }
}

static void test_parse_rejects_trailing_input(void **state)
{
    const char *src = "[ipv4-addr:value = '10.0.0.1'] junk";
    struct pat_ast *ast = NULL;
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(pat_parse(src, strlen(src), &ast, &err), MRD_E_PARSE);
    assert_null(ast);
    assert_non_null(strstr(err.msg, "offset 31"));
}

static void test_length_limit(void **state)
{
    size_t n = PAT_MAX_LEN + 1;
    char *big = mrd_malloc(n);
    struct mrd_err err = {0};

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    assert_int_equal(pat_check(big, n, &err), MRD_E_TOOBIG);
    mrd_free(big);
}

static void test_depth_limit(void **state)
{
    char buf[600];
    size_t k = 0;
    struct mrd_err err = {0};

    (void)state;
    for (int i = 0; i < 100; i++)
        buf[k++] = '(';
    memcpy(buf + k, "[a:b = 1]", 9);
    k += 9;
    for (int i = 0; i < 100; i++)
        buf[k++] = ')';
    assert_int_equal(pat_check(buf, k, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "nesting deeper"));
}

/* Precedence (§9.5.3, §9.6): the shape of the tree, read through the
 * internal AST. */
static struct pat_ast *parse_ok(const char *src)
{
    struct pat_ast *ast = NULL;
    struct mrd_err err = {0};

    if (pat_parse(src, strlen(src), &ast, &err) != MRD_OK)
        fail_msg("%s: %s", src, err.msg);
    return ast;
}

static void test_observation_precedence(void **state)
{
    struct pat_ast *ast;
    const struct pat_oexpr *o;

    (void)state;
    /* FOLLOWEDBY is loosest, then OR, then AND */
    ast = parse_ok("[a:b=1] AND [a:b=2] FOLLOWEDBY [a:b=3] OR [a:b=4]");
    o = ast->root;
    assert_int_equal(o->kind, PAT_O_FOLLOWEDBY);
    assert_int_equal(o->l->kind, PAT_O_AND);
    assert_int_equal(o->r->kind, PAT_O_OR);
    pat_ast_free(ast);

    ast = parse_ok("[a:b=1] OR [a:b=2] AND [a:b=3]");
    assert_int_equal(ast->root->kind, PAT_O_OR);
    assert_int_equal(ast->root->r->kind, PAT_O_AND);
    pat_ast_free(ast);

    /* left associativity */
    ast = parse_ok("[a:b=1] FOLLOWEDBY [a:b=2] FOLLOWEDBY [a:b=3]");
    assert_int_equal(ast->root->kind, PAT_O_FOLLOWEDBY);
    assert_int_equal(ast->root->l->kind, PAT_O_FOLLOWEDBY);
    assert_int_equal(ast->root->r->kind, PAT_O_SIMPLE);
    pat_ast_free(ast);

    /* qualifiers bind tighter than AND and apply to the unit before them */
    ast = parse_ok("[a:b=1] AND [a:b=2] WITHIN 5 SECONDS");
    assert_int_equal(ast->root->kind, PAT_O_AND);
    assert_int_equal(ast->root->r->kind, PAT_O_WITHIN);
    pat_ast_free(ast);

    ast = parse_ok("[a:b=1] REPEATS 2 TIMES WITHIN 5 SECONDS");
    assert_int_equal(ast->root->kind, PAT_O_WITHIN);
    assert_int_equal(ast->root->l->kind, PAT_O_REPEATS);
    pat_ast_free(ast);

    ast = parse_ok("([a:b=1] OR [a:b=2]) AND [a:b=3]");
    assert_int_equal(ast->root->kind, PAT_O_AND);
    assert_int_equal(ast->root->l->kind, PAT_O_PAREN);
    assert_int_equal(ast->root->l->l->kind, PAT_O_OR);
    pat_ast_free(ast);
}

static void test_comparison_precedence(void **state)
{
    struct pat_ast *ast;
    const struct pat_cexpr *c;

    (void)state;
    ast = parse_ok("[a:b=1 OR a:b=2 AND a:b=3]");
    c = ast->root->cmp;
    assert_int_equal(c->kind, PAT_C_OR);
    assert_int_equal(c->r->kind, PAT_C_AND);
    pat_ast_free(ast);

    ast = parse_ok("[a:b=1 AND a:b=2 OR a:b=3 AND a:b=4]");
    c = ast->root->cmp;
    assert_int_equal(c->kind, PAT_C_OR);
    assert_int_equal(c->l->kind, PAT_C_AND);
    assert_int_equal(c->r->kind, PAT_C_AND);
    pat_ast_free(ast);

    ast = parse_ok("[(a:b=1 OR a:b=2) AND a:b=3]");
    c = ast->root->cmp;
    assert_int_equal(c->kind, PAT_C_AND);
    assert_int_equal(c->l->kind, PAT_C_PAREN);
    assert_int_equal(c->l->l->kind, PAT_C_OR);
    pat_ast_free(ast);
}

static void test_literal_values(void **state)
{
    struct pat_ast *ast;
    const struct pat_test *t;

    (void)state;
    ast = parse_ok("[a:b = 'x\\'y\\\\z']");
    t = ast->root->cmp->test;
    assert_int_equal(t->lit.kind, PAT_LIT_STRING);
    assert_int_equal(t->lit.len, 5);
    assert_memory_equal(t->lit.text, "x'y\\z", 5);
    pat_ast_free(ast);

    ast = parse_ok("[a:b = b'AQIDBA==']");
    t = ast->root->cmp->test;
    assert_int_equal(t->lit.nbytes, 4);
    assert_memory_equal(t->lit.bytes, "\x01\x02\x03\x04", 4);
    pat_ast_free(ast);

    ast = parse_ok("[a:b = h'0aFF']");
    t = ast->root->cmp->test;
    assert_int_equal(t->lit.nbytes, 2);
    assert_memory_equal(t->lit.bytes, "\x0a\xff", 2);
    pat_ast_free(ast);

    ast = parse_ok("[a:b = -9223372036854775808]");
    t = ast->root->cmp->test;
    assert_true(t->lit.i == INT64_MIN);
    pat_ast_free(ast);

    ast = parse_ok("[a:b = t'1970-01-01T00:00:01.5Z']");
    t = ast->root->cmp->test;
    assert_int_equal(t->lit.ts.sec, 1);
    assert_int_equal(t->lit.ts.nsec, 500000000);
    pat_ast_free(ast);

    ast = parse_ok("[a:'x.y'.z_ref.w[*][3] = 1]");
    t = ast->root->cmp->test;
    assert_int_equal(t->path.nsteps, 5);
    assert_string_equal(t->path.steps[0].key, "x.y");
    assert_true(t->path.steps[1].ref);
    assert_int_equal(t->path.steps[3].kind, PAT_STEP_STAR);
    assert_int_equal(t->path.steps[4].index, 3);
    pat_ast_free(ast);
}

/* Every allocation failure ends in MRD_E_NOMEM (or success), never a crash
 * or a leak (run under ASan to see leaks). */
static void test_alloc_failures(void **state)
{
    const char *src = "([file:name MATCHES '^a+$' AND file:size IN (1, 2, 3)] FOLLOWEDBY "
                      "[x:y = b'AQIDBA=='] REPEATS 2 TIMES) WITHIN 5 SECONDS";
    bool ok = false;

    (void)state;
    for (long n = 0; n < 200 && !ok; n++) {
        struct pat_ast *ast = NULL;
        struct mrd_err err = {0};
        enum mrd_code rc;
        mrd_alloc_fail_after(n);
        rc = pat_parse(src, strlen(src), &ast, &err);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        ok = rc == MRD_OK;
        pat_ast_free(ast);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_patterns),
        cmocka_unit_test(test_invalid_patterns),
        cmocka_unit_test(test_parse_rejects_trailing_input),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_observation_precedence),
        cmocka_unit_test(test_comparison_precedence),
        cmocka_unit_test(test_literal_values),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
