/*
 * test_print: the canonical printer. Golden pairs (tests/golden/pattern/
 * NAME.in -> NAME.out) and a property test: for generated patterns,
 * parse(print(p)) equals parse(p) and print is idempotent.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "pattern/pattern.h"
#include "pattern/pattern_int.h"

#define MAX_TEXT (256 * 1024)

static char *print_ast(const struct pat_ast *ast)
{
    struct mrd_buf b;
    struct mrd_err err = {0};
    char *s;

    mrd_buf_init(&b, MAX_TEXT);
    assert_int_equal(pat_print(ast, &b, &err), MRD_OK);
    s = mrd_buf_take(&b, NULL);
    assert_non_null(s);
    return s;
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* Each NAME.in holds one pattern (a final newline is not part of it);
 * NAME.out holds its canonical form and a newline. */
static void test_golden(void **state)
{
    DIR *d = opendir(PAT_GOLDEN_DIR);
    struct dirent *e;
    int count = 0;
    static char in[65536], want[65536], path[4096];

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), len;
        struct pat_ast *ast = NULL, *again = NULL;
        struct mrd_err err = {0};
        char *got, *got2;
        if (n < 4 || strcmp(e->d_name + n - 3, ".in") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", PAT_GOLDEN_DIR, e->d_name);
        len = read_file(path, in, sizeof(in));
        if (len > 0 && in[len - 1] == '\n')
            in[--len] = '\0';
        snprintf(path, sizeof(path), "%s/%.*s.out", PAT_GOLDEN_DIR, (int)(n - 3), e->d_name);
        (void)read_file(path, want, sizeof(want));
        if (pat_parse(in, len, &ast, &err) != MRD_OK)
            fail_msg("%s: %s", e->d_name, err.msg);
        got = print_ast(ast);
        if (strlen(want) == 0 || want[strlen(want) - 1] != '\n' ||
            strncmp(got, want, strlen(want) - 1) != 0 || strlen(got) != strlen(want) - 1)
            fail_msg("%s: printed\n  %s\nexpected\n  %s", e->d_name, got, want);
        assert_int_equal(pat_parse(got, strlen(got), &again, &err), MRD_OK);
        assert_true(pat__ast_equal(ast, again));
        got2 = print_ast(again);
        assert_string_equal(got, got2);
        mrd_free(got);
        mrd_free(got2);
        pat_ast_free(ast);
        pat_ast_free(again);
        count++;
    }
    closedir(d);
    assert_true(count >= 10);
}

/* ---- pattern generator ----------------------------------------------------- */

struct gen {
    uint64_t s;
    char *buf;
    size_t len, cap;
    int depth;
};

static uint32_t rnd(struct gen *g, uint32_t n)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return (uint32_t)(g->s % n);
}

static void put(struct gen *g, const char *s)
{
    size_t n = strlen(s);
    if (g->len + n + 1 > g->cap)
        return; /* truncated patterns just fail to parse; the test skips them */
    memcpy(g->buf + g->len, s, n);
    g->len += n;
    g->buf[g->len] = '\0';
}

static void ws(struct gen *g)
{
    static const char *const spaces[] = {"", " ", "  ", "\t", "\n", " /* c */ ", "\xc2\xa0"};
    put(g, spaces[rnd(g, 7)]);
}

static void gen_string(struct gen *g)
{
    static const char *const parts[] = {"a", "Z",        "\\'",          "\\\\", " ", "%", "_",
                                        ".", "\xc3\xa9", "\xe2\x82\xac", "-",    "0", "/", "*"};
    int n = (int)rnd(g, 6);
    put(g, "'");
    for (int i = 0; i < n; i++)
        put(g, parts[rnd(g, 14)]);
    put(g, "'");
}

static void gen_literal(struct gen *g, bool orderable)
{
    static const char *const lits[] = {
        "0",
        "+7",
        "-12",
        "1.5",
        ".25",
        "-0.5",
        "h'00ff'",
        "h''",
        "b'YQ=='",
        "b'AQIDBA=='",
        "t'2016-06-01T01:30:00Z'",
        "t'2020-02-29T23:59:60.123456Z'",
        "true",
        "false",
    };
    uint32_t k = rnd(g, orderable ? 12 : 14);
    if (rnd(g, 3) == 0)
        gen_string(g);
    else
        put(g, lits[k]);
}

static void gen_key(struct gen *g)
{
    static const char *const keys[] = {"name",         "x_ref", "y_refs", "hashes",   "_u",    "A1",
                                       "'has-hyphen'", "'a.b'", "'AND'",  "'it\\'s'", "'true'"};
    put(g, keys[rnd(g, 11)]);
}

static void gen_path(struct gen *g)
{
    static const char *const types[] = {"file", "ipv4-addr", "x-custom-type", "a"};
    put(g, types[rnd(g, 4)]);
    put(g, ":");
    gen_key(g);
    for (int n = (int)rnd(g, 4); n > 0; n--) {
        switch (rnd(g, 4)) {
        case 0:
            put(g, "[*]");
            break;
        case 1:
            put(g, rnd(g, 2) ? "[2]" : "[-1]");
            break;
        default:
            put(g, ".");
            gen_key(g);
        }
    }
}

static void gen_cmp_or(struct gen *g);

static void gen_test(struct gen *g)
{
    static const char *const eqs[] = {"=", "==", "!=", "<>"};
    static const char *const ords[] = {"<", "<=", ">", ">="};
    static const char *const strops[] = {"LIKE", "MATCHES"};

    if (g->depth < 6 && rnd(g, 8) == 0) {
        g->depth++;
        put(g, "(");
        ws(g);
        gen_cmp_or(g);
        ws(g);
        put(g, ")");
        g->depth--;
        return;
    }
    if (rnd(g, 12) == 0) {
        put(g, "EXISTS ");
        gen_path(g);
        return;
    }
    gen_path(g);
    ws(g);
    if (rnd(g, 4) == 0)
        put(g, "NOT ");
    switch (rnd(g, 6)) {
    case 0:
    case 1:
        put(g, eqs[rnd(g, 4)]);
        ws(g);
        gen_literal(g, false);
        break;
    case 2:
        put(g, ords[rnd(g, 4)]);
        ws(g);
        gen_literal(g, true);
        break;
    case 3: {
        int n = (int)rnd(g, 4);
        put(g, "IN (");
        for (int i = 0; i < n; i++) {
            if (i > 0)
                put(g, ",");
            ws(g);
            put(g, rnd(g, 2) ? "'v'" : "'w\\\\'");
        }
        put(g, ")");
        break;
    }
    case 4:
        put(g, strops[rnd(g, 2)]);
        put(g, " ");
        put(g, rnd(g, 2) ? "'a%b_'" : "'^x+\\\\.y$'");
        break;
    default:
        put(g, rnd(g, 2) ? "ISSUBSET '10.0.0.0/8'" : "ISSUPERSET '2001:db8::1'");
    }
}

static void gen_cmp_and(struct gen *g)
{
    gen_test(g);
    while (rnd(g, 3) == 0) {
        ws(g);
        put(g, " AND ");
        gen_test(g);
    }
}

static void gen_cmp_or(struct gen *g)
{
    gen_cmp_and(g);
    while (rnd(g, 4) == 0) {
        put(g, " OR ");
        ws(g);
        gen_cmp_and(g);
    }
}

static void gen_obs(struct gen *g);

static void gen_unit(struct gen *g)
{
    if (g->depth < 5 && rnd(g, 5) == 0) {
        g->depth++;
        put(g, "(");
        gen_obs(g);
        put(g, ")");
        g->depth--;
    } else {
        put(g, "[");
        ws(g);
        gen_cmp_or(g);
        ws(g);
        put(g, "]");
    }
    while (rnd(g, 4) == 0) {
        switch (rnd(g, 3)) {
        case 0:
            put(g, rnd(g, 2) ? " WITHIN 5 SECONDS" : " WITHIN 0.5 SECONDS");
            break;
        case 1:
            put(g, " REPEATS +3 TIMES");
            break;
        default:
            put(g, " START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00.5Z'");
        }
    }
}

static void gen_obs(struct gen *g)
{
    static const char *const ops[] = {" AND ", " OR ", " FOLLOWEDBY "};
    gen_unit(g);
    while (rnd(g, 3) == 0) {
        put(g, ops[rnd(g, 3)]);
        ws(g);
        gen_unit(g);
    }
}

static void test_round_trip_generated(void **state)
{
    static char text[16384];
    struct gen g = {0x9e3779b97f4a7c15ull, text, 0, sizeof(text), 0};
    int parsed = 0;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        struct pat_ast *a = NULL, *b = NULL;
        struct mrd_err err = {0};
        char *p1, *p2;
        g.len = 0;
        g.depth = 0;
        text[0] = '\0';
        gen_obs(&g);
        /* lenient rules: duplicate qualifiers etc. are still printable */
        if (pat__parse_ast(text, g.len, 0, &a, &err) != MRD_OK)
            continue;
        parsed++;
        p1 = print_ast(a);
        if (pat__parse_ast(p1, strlen(p1), 0, &b, &err) != MRD_OK)
            fail_msg("printed form does not parse:\n  %s\n  -> %s\n  %s", text, p1, err.msg);
        if (!pat__ast_equal(a, b))
            fail_msg("round trip changed the pattern:\n  %s\n  -> %s", text, p1);
        p2 = print_ast(b);
        if (strcmp(p1, p2) != 0)
            fail_msg("print is not idempotent:\n  %s\n  %s", p1, p2);
        mrd_free(p1);
        mrd_free(p2);
        pat_ast_free(a);
        pat_ast_free(b);
    }
    /* most generated patterns are valid: the property was really exercised */
    assert_true(parsed > 15000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_round_trip_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
