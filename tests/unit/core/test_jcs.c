/* Unit tests for core/jcs.c: RFC 8785 canonical JSON, with the RFC's own
 * examples (§3.2.2, §3.2.3, Appendix B) and the edges around them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

/* Parses text strictly and returns its canonical form (caller frees). */
static char *canon_text(const char *text)
{
    struct mrd_buf b;
    struct mrd_err err = {0};
    json_t *v = NULL;
    char *s;

    assert_int_equal(mrd_json_parse(text, strlen(text), NULL, &v, &err), MRD_OK);
    mrd_buf_init(&b, 1 << 20);
    assert_int_equal(mrd_jcs_write(v, &b, &err), MRD_OK);
    json_decref(v);
    s = mrd_buf_take(&b, NULL);
    assert_non_null(s);
    return s;
}

static void assert_canon(const char *text, const char *want)
{
    char *got = canon_text(text);

    assert_string_equal(got, want);
    mrd_free(got);
}

static double from_bits(uint64_t bits)
{
    double d;

    memcpy(&d, &bits, sizeof(d));
    return d;
}

static void test_rfc_main_example(void **state)
{
    /* RFC 8785 §3.2.2: numbers, escapes and literals */
    const char *in = "{\n"
                     "  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
                     "              2e-3, 0.000000000000000000000000001],\n"
                     "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
                     "  \"literals\": [null, true, false]\n"
                     "}";
    const char *want = "{\"literals\":[null,true,false],"
                       "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                       "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";

    (void)state;
    assert_canon(in, want);
}

static void test_rfc_sorting_example(void **state)
{
    /* RFC 8785 §3.2.3: UTF-16 code unit order, where the emoji (a surrogate
     * pair, D83D DE00) sorts below U+FB33 although its code point is higher */
    const char *in = "{\n"
                     "  \"\\u20ac\": \"Euro Sign\",\n"
                     "  \"\\r\": \"Carriage Return\",\n"
                     "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                     "  \"1\": \"One\",\n"
                     "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
                     "  \"\\u0080\": \"Control\",\n"
                     "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
                     "}";
    const char *want = "{\"\\r\":\"Carriage Return\","
                       "\"1\":\"One\","
                       "\"\xc2\x80\":\"Control\","
                       "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                       "\"\xe2\x82\xac\":\"Euro Sign\","
                       "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                       "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}";

    (void)state;
    assert_canon(in, want);
}

struct num_vector {
    uint64_t bits;
    const char *want;
};

/* RFC 8785 Appendix B (NaN and Infinity are tested as errors below). */
static const struct num_vector appendix_b[] = {
    {0x0000000000000000ULL, "0"},
    {0x8000000000000000ULL, "0"},
    {0x0000000000000001ULL, "5e-324"},
    {0x8000000000000001ULL, "-5e-324"},
    {0x7fefffffffffffffULL, "1.7976931348623157e+308"},
    {0xffefffffffffffffULL, "-1.7976931348623157e+308"},
    {0x4340000000000000ULL, "9007199254740992"},
    {0xc340000000000000ULL, "-9007199254740992"},
    {0x4430000000000000ULL, "295147905179352830000"},
    {0x44b52d02c7e14af5ULL, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6ULL, "1e+23"},
    {0x44b52d02c7e14af7ULL, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4eULL, "999999999999999700000"},
    {0x444b1ae4d6e2ef4fULL, "999999999999999900000"},
    {0x444b1ae4d6e2ef50ULL, "1e+21"},
    {0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8dULL, "0.000001"},
    {0x41b3de4355555553ULL, "333333333.3333332"},
    {0x41b3de4355555554ULL, "333333333.33333325"},
    {0x41b3de4355555555ULL, "333333333.3333333"},
    {0x41b3de4355555556ULL, "333333333.3333334"},
    {0x41b3de4355555557ULL, "333333333.33333343"},
    {0xbecbf647612f3696ULL, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959ULL, "1424953923781206.2"},
};

static void assert_number(double d, const char *want)
{
    struct mrd_buf b;
    struct mrd_err err = {0};

    mrd_buf_init(&b, 64);
    assert_int_equal(mrd_jcs_number(d, &b, &err), MRD_OK);
    assert_non_null(b.data);
    if (strcmp(b.data, want) != 0)
        fail_msg("%.17g: got %s, want %s", d, b.data, want);
    mrd_buf_release(&b);
}

static void test_rfc_appendix_b(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(appendix_b) / sizeof(appendix_b[0]); i++)
        assert_number(from_bits(appendix_b[i].bits), appendix_b[i].want);
}

static void test_number_edges(void **state)
{
    (void)state;
    /* the decimal/exponent boundaries of Number::toString */
    assert_number(1e21, "1e+21");
    assert_number(1e20, "100000000000000000000");
    assert_number(1e-7, "1e-7");
    assert_number(1.5e-7, "1.5e-7");
    assert_number(1e-6, "0.000001");
    assert_number(1.25e-6, "0.00000125");
    assert_number(123e20, "1.23e+22");
    assert_number(-1e-300, "-1e-300");
    assert_number(0.1, "0.1");
    assert_number(0.1 + 0.2, "0.30000000000000004");
    assert_number(-2.5, "-2.5");
    assert_number(100.0, "100");
    assert_number(1.0 / 3.0, "0.3333333333333333");
    assert_number(2.2250738585072014e-308, "2.2250738585072014e-308"); /* smallest normal */
    assert_number(4.9406564584124654e-323, "5e-323");
    /* powers of two: the rounding interval is asymmetric there */
    assert_number(from_bits(0x4350000000000000ULL), "18014398509481984"); /* 2^54 */
    assert_number(from_bits(0x0010000000000000ULL), "2.2250738585072014e-308");
    assert_number(9007199254740993.0, "9007199254740992");
}

static void test_number_refuses_nan_inf(void **state)
{
    struct mrd_buf b;
    struct mrd_err err = {0};

    (void)state;
    mrd_buf_init(&b, 64);
    assert_int_equal(mrd_jcs_number(from_bits(0x7fffffffffffffffULL), &b, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "NaN"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_jcs_number(from_bits(0x7ff0000000000000ULL), &b, &err), MRD_E_INVAL);
    assert_int_equal(mrd_jcs_number(-from_bits(0x7ff0000000000000ULL), &b, NULL), MRD_E_INVAL);
    assert_int_equal(b.len, 0);
    mrd_buf_release(&b);
}

/* Every finite double prints as a decimal that reads back as the same
 * double: checked on random bit patterns with a fixed seed. */
static void test_number_roundtrip_random(void **state)
{
    struct mrd_buf b;
    uint64_t x = 0x9E3779B97F4A7C15ULL;

    (void)state;
    mrd_buf_init(&b, 64);
    for (int i = 0; i < 200000; i++) {
        double d;

        x ^= x << 13; /* xorshift64 */
        x ^= x >> 7;
        x ^= x << 17;
        d = from_bits(x);
        mrd_buf_reset(&b);
        if (d != d || d - d != 0) /* NaN or infinite */
            continue;
        assert_int_equal(mrd_jcs_number(d, &b, NULL), MRD_OK);
        if (strtod(b.data, NULL) != d)
            fail_msg("%016llx printed as %s", (unsigned long long)x, b.data);
        assert_null(strchr(b.data, 'E'));
        assert_int_not_equal(b.data[b.len - 1], '.');
    }
    mrd_buf_release(&b);
}

static void test_integers(void **state)
{
    (void)state;
    assert_canon("[0,-0,1,-1,9007199254740992,-9007199254740992]",
                 "[0,0,1,-1,9007199254740992,-9007199254740992]");
    /* beyond 2^53 a JSON number is the nearest double everywhere else */
    assert_canon("[9007199254740993,-9007199254740993,9223372036854775807]",
                 "[9007199254740992,-9007199254740992,9223372036854776000]");
    assert_canon("[1.0,-0.0,1e0,10E-1]", "[1,0,1,1]");
}

static void test_strings(void **state)
{
    struct mrd_buf b;
    json_t *v;

    (void)state;
    assert_canon("[\"\\u0001\\u001f\\b\\f\\t\\n\\r\\u007f\\u2028\\/\"]",
                 "[\"\\u0001\\u001f\\b\\f\\t\\n\\r\x7f\xe2\x80\xa8/\"]");
    assert_canon("[\"\", {}, [], {\"\": []}]", "[\"\",{},[],{\"\":[]}]");
    /* a NUL inside a string built in code is written as \u0000 */
    v = json_stringn("a\0b", 3);
    assert_non_null(v);
    mrd_buf_init(&b, 64);
    assert_int_equal(mrd_jcs_write(v, &b, NULL), MRD_OK);
    assert_string_equal(b.data, "\"a\\u0000b\"");
    json_decref(v);
    mrd_buf_release(&b);
}

static void test_sorting(void **state)
{
    (void)state;
    /* prefix first; bytes, not locale; nested objects sorted too */
    assert_canon("{\"b\":1,\"ab\":2,\"a\":3,\"B\":4,\"\":5}",
                 "{\"\":5,\"B\":4,\"a\":3,\"ab\":2,\"b\":1}");
    assert_canon("{\"z\":{\"y\":[{\"b\":1,\"a\":2}],\"x\":null}}",
                 "{\"z\":{\"x\":null,\"y\":[{\"a\":2,\"b\":1}]}}");
    /* U+FFFF and U+E000 sort above any supplementary character, U+D7FF
     * below it */
    assert_canon("{\"\\uffff\":1,\"\\ud800\\udc00\":2,\"\\ue000\":3,\"\\ud7ff\":4}",
                 "{\"\xed\x9f\xbf\":4,\"\xf0\x90\x80\x80\":2,\"\xee\x80\x80\":3,"
                 "\"\xef\xbf\xbf\":1}");
    /* same first unit: the low surrogate decides */
    assert_canon("{\"x\\ud83d\\ude01\":1,\"x\\ud83d\\ude00\":2}",
                 "{\"x\xf0\x9f\x98\x80\":2,\"x\xf0\x9f\x98\x81\":1}");
}

static void test_write_errors(void **state)
{
    struct mrd_buf b;
    struct mrd_err err = {0};
    json_t *v, *inner;

    (void)state;
    /* invalid UTF-8 smuggled in past jansson's checks */
    v = json_pack("{s:o}", "k", json_stringn_nocheck("\xff", 1));
    assert_non_null(v);
    mrd_buf_init(&b, 64);
    assert_int_equal(mrd_buf_puts(&b, "prefix", NULL), MRD_OK);
    assert_int_equal(mrd_jcs_write(v, &b, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "UTF-8"));
    assert_string_equal(b.data, "prefix"); /* untouched on failure */
    json_decref(v);

    /* a member name that is not UTF-8 */
    v = json_object();
    assert_int_equal(json_object_setn_nocheck(v, "\xc0\x80", 2, json_null()), 0);
    assert_int_equal(mrd_jcs_write(v, &b, NULL), MRD_E_INVAL);
    json_decref(v);

    /* the buffer maximum */
    v = json_pack("[s]", "0123456789012345678901234567890123456789012345678901234567890123");
    mrd_err_clear(&err);
    assert_int_equal(mrd_jcs_write(v, &b, &err), MRD_E_TOOBIG);
    assert_string_equal(b.data, "prefix");
    json_decref(v);

    /* nesting built in code, deeper than any parser would allow */
    v = json_array();
    inner = v;
    for (int i = 0; i < 3000; i++) {
        json_t *next = json_array();
        assert_int_equal(json_array_append_new(inner, next), 0);
        inner = next;
    }
    mrd_buf_release(&b);
    mrd_buf_init(&b, 1 << 20);
    mrd_err_clear(&err);
    assert_int_equal(mrd_jcs_write(v, &b, &err), MRD_E_TOOBIG);
    assert_non_null(strstr(err.msg, "nesting"));
    assert_int_equal(b.len, 0);
    json_decref(v);
    mrd_buf_release(&b);
}

/* Every allocation failure comes back as MRD_E_NOMEM with nothing leaked
 * (the ASan build's LeakSanitizer checks the latter). */
static void test_write_nomem(void **state)
{
    const char *text = "{\"b\":[1,2.5,{\"d\":\"x\",\"c\":null}],\"a\":\"\\u0001\"}";
    json_t *v = NULL;
    struct mrd_buf b;
    enum mrd_code rc = MRD_E_NOMEM;

    (void)state;
    assert_int_equal(mrd_json_parse(text, strlen(text), NULL, &v, NULL), MRD_OK);
    for (long n = 0; rc == MRD_E_NOMEM; n++) {
        mrd_buf_init(&b, 1024);
        mrd_alloc_fail_after(n);
        rc = mrd_jcs_write(v, &b, NULL);
        mrd_alloc_fail_after(-1);
        if (rc == MRD_OK)
            assert_string_equal(b.data,
                                "{\"a\":\"\\u0001\",\"b\":[1,2.5,{\"c\":null,\"d\":\"x\"}]}");
        else
            assert_int_equal(b.len, 0);
        mrd_buf_release(&b);
        assert_true(n < 100);
    }
    assert_int_equal(rc, MRD_OK);
    json_decref(v);
}

/* Canonicalising canonical output changes nothing. */
/* Inserts "inner":1 (or "outer":{"inner":1}) at the slot found. */
static char *with_member(const char *text)
{
    struct mrd_buf b;
    struct mrd_jcs_slot slot;
    json_t *v = NULL;
    char m[64];
    int n;

    assert_int_equal(mrd_json_parse(text, strlen(text), NULL, &v, NULL), MRD_OK);
    mrd_buf_init(&b, 1 << 20);
    assert_int_equal(mrd_buf_append(&b, "[", 1, NULL), MRD_OK);
    assert_int_equal(mrd_jcs_write_slot(v, "outer", "inner", &b, &slot, NULL), MRD_OK);
    n = snprintf(m, sizeof(m), "%s%s%s", slot.comma_before ? "," : "",
                 slot.inside ? "\"inner\":1" : "\"outer\":{\"inner\":1}",
                 slot.comma_after ? "," : "");
    assert_int_equal(mrd_buf_insert(&b, slot.at, m, (size_t)n, NULL), MRD_OK);
    json_decref(v);
    return mrd_buf_take(&b, NULL);
}

static void test_write_slot(void **state)
{
    static const char *const cases[][2] = {
        {"{}", "[{\"outer\":{\"inner\":1}}"},
        {"{\"a\":1}", "[{\"a\":1,\"outer\":{\"inner\":1}}"},
        {"{\"z\":1}", "[{\"outer\":{\"inner\":1},\"z\":1}"},
        {"{\"z\":1,\"a\":[{}]}", "[{\"a\":[{}],\"outer\":{\"inner\":1},\"z\":1}"},
        {"{\"outer\":{}}", "[{\"outer\":{\"inner\":1}}"},
        {"{\"outer\":{\"a\":{\"inner\":2}}}", "[{\"outer\":{\"a\":{\"inner\":2},\"inner\":1}}"},
        {"{\"outer\":{\"z\":2,\"a\":3},\"p\":4}",
         "[{\"outer\":{\"a\":3,\"inner\":1,\"z\":2},\"p\":4}"},
        {"{\"outerx\":1,\"oute\":2}", "[{\"oute\":2,\"outer\":{\"inner\":1},\"outerx\":1}"},
    };
    struct mrd_buf b;
    struct mrd_jcs_slot slot;
    json_t *v = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = with_member(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        mrd_free(got);
    }
    /* no slot: outer not a dictionary, inner already there, not an object */
    mrd_buf_init(&b, 1 << 20);
    assert_int_equal(mrd_buf_append(&b, "x", 1, NULL), MRD_OK);
    v = json_pack("{s:i}", "outer", 1);
    assert_int_equal(mrd_jcs_write_slot(v, "outer", "inner", &b, &slot, NULL), MRD_E_INVAL);
    json_decref(v);
    v = json_pack("{s:{s:i}}", "outer", "inner", 1);
    assert_int_equal(mrd_jcs_write_slot(v, "outer", "inner", &b, &slot, NULL), MRD_E_INVAL);
    json_decref(v);
    v = json_pack("[i]", 1);
    assert_int_equal(mrd_jcs_write_slot(v, "outer", "inner", &b, &slot, NULL), MRD_E_INVAL);
    json_decref(v);
    assert_string_equal(b.data, "x");
    /* inserting past the end is refused */
    assert_int_equal(mrd_buf_insert(&b, 2, "y", 1, NULL), MRD_E_INVAL);
    assert_int_equal(mrd_buf_insert(&b, 0, "y", 1, NULL), MRD_OK);
    assert_string_equal(b.data, "yx");
    mrd_buf_release(&b);
}

static void test_idempotent(void **state)
{
    const char *text = "{ \"n\" : [ 1e400000000 ] }";
    char *once, *twice;

    (void)state;
    /* jansson refuses overflowing reals, so they never reach us */
    assert_int_equal(mrd_json_parse(text, strlen(text), NULL, &(json_t *){NULL}, NULL),
                     MRD_E_PARSE);
    once = canon_text("{\"z\":[1E2, 0.5e-10, \"\\u00e9\"], \"a\" : {\"\\u0001x\":false}}");
    twice = canon_text(once);
    assert_string_equal(once, twice);
    mrd_free(once);
    mrd_free(twice);
}

/* ---- memory planning (mrd_json_shape_cost) ---- */

static size_t g_live, g_peak;

/* glibc's chunk header: what a block costs beyond its usable size. */
#define CHUNK_HEADER 8

static void *count_malloc(size_t n)
{
    void *p = malloc(n);

    if (p != NULL) {
        g_live += malloc_usable_size(p) + CHUNK_HEADER;
        if (g_live > g_peak)
            g_peak = g_live;
    }
    return p;
}

static void count_free(void *p)
{
    if (p != NULL)
        g_live -= malloc_usable_size(p) + CHUNK_HEADER;
    free(p);
}

/* Peak heap bytes jansson held while mrd_json_parse parsed s, and the
 * planned bound for it. */
static void parse_cost(const char *s, size_t n, size_t *ret_peak, size_t *ret_bound)
{
    struct mrd_json_shape sh;
    json_t *v = NULL;

    mrd_json_shape_scan(s, n, &sh);
    json_set_alloc_funcs(count_malloc, count_free);
    g_live = g_peak = 0;
    assert_int_equal(mrd_json_parse(s, n, NULL, &v, NULL), MRD_OK);
    json_decref(v);
    json_set_alloc_funcs(malloc, free);
    *ret_peak = g_peak;
    *ret_bound = mrd_json_shape_cost(&sh, n);
}

static void repeat(struct mrd_buf *b, const char *open, const char *item, size_t k,
                   const char *close)
{
    mrd_buf_reset(b);
    assert_int_equal(mrd_buf_puts(b, open, NULL), MRD_OK);
    for (size_t i = 0; i < k; i++) {
        const char *hash = strchr(item, '#'); /* replaced by i */
        char num[24];
        if (i > 0)
            assert_int_equal(mrd_buf_puts(b, ",", NULL), MRD_OK);
        if (hash == NULL) {
            assert_int_equal(mrd_buf_puts(b, item, NULL), MRD_OK);
            continue;
        }
        (void)snprintf(num, sizeof(num), "%zu", i);
        assert_int_equal(mrd_buf_append(b, item, (size_t)(hash - item), NULL), MRD_OK);
        assert_int_equal(mrd_buf_puts(b, num, NULL), MRD_OK);
        assert_int_equal(mrd_buf_puts(b, hash + 1, NULL), MRD_OK);
    }
    assert_int_equal(mrd_buf_puts(b, close, NULL), MRD_OK);
}

/* The bound holds for dense and for typical documents, and is not so
 * loose that a STIX envelope is planned at more than twice what its parse
 * really takes. */
static void test_shape_cost_bounds_the_parse(void **state)
{
    static const struct {
        const char *open, *item, *close;
        size_t k;
    } docs[] = {
        {"{\"objects\":[", "{}", "]}", 20000},
        {"[", "[]", "]", 20000},
        {"[", "#", "]", 30000},
        {"[", "-1.5e#", "]", 300},
        {"[", "true", "]", 30000},
        {"{", "\"k#\":null", "}", 20000},
        {"{", "\"k#\":{\"a\":[1,\"b\"]}", "}", 5000},
        {"[", "\"\\u00e9\\n#\"", "]", 10000},
        {"{\"objects\":[",
         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
         "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2026-01-01T00:00:00.000Z\","
         "\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"indicator #\",\"pattern\":"
         "\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\",\"valid_from\":"
         "\"2026-01-01T00:00:00Z\",\"labels\":[\"a\",\"b\"]}",
         "]}", 3000},
    };
    struct mrd_buf b;
    size_t peak, bound;

    (void)state;
    mrd_buf_init(&b, 64 * 1024 * 1024);
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        repeat(&b, docs[i].open, docs[i].item, docs[i].k, docs[i].close);
        parse_cost(b.data, b.len, &peak, &bound);
        if (peak > bound)
            fail_msg("doc %zu (%s...): parse peaked at %zu bytes, planned %zu", i, docs[i].item,
                     peak, bound);
        assert_true(peak > b.len / 4);               /* the counting allocator saw the parse */
        if (i == sizeof(docs) / sizeof(docs[0]) - 1) /* STIX: within 2x of the truth */
            assert_true(bound < 2 * peak);
    }
    /* one long string: the lexer's buffer is planned for */
    mrd_buf_reset(&b);
    assert_int_equal(mrd_buf_puts(&b, "[\"", NULL), MRD_OK);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(mrd_buf_puts(&b, "x\\t", NULL), MRD_OK);
    assert_int_equal(mrd_buf_puts(&b, "\"]", NULL), MRD_OK);
    parse_cost(b.data, b.len, &peak, &bound);
    assert_true(peak <= bound);
    mrd_buf_release(&b);
    /* saturation instead of overflow */
    struct mrd_json_shape huge = {.objects = SIZE_MAX / 2, .members = SIZE_MAX / 2};
    assert_int_equal(mrd_json_shape_cost(&huge, 10), SIZE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_main_example),
        cmocka_unit_test(test_rfc_sorting_example),
        cmocka_unit_test(test_rfc_appendix_b),
        cmocka_unit_test(test_number_edges),
        cmocka_unit_test(test_number_refuses_nan_inf),
        cmocka_unit_test(test_number_roundtrip_random),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_sorting),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_write_nomem),
        cmocka_unit_test(test_write_slot),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_shape_cost_bounds_the_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
