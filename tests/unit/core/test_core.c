/* Unit tests for core/: errors, buffers, arenas, strings, timestamps, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

static void test_err_first_message_wins(void **state)
{
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(mrd_err_set(&err, MRD_E_PARSE, "inner %d", 1), MRD_E_PARSE);
    assert_int_equal(mrd_err_set(&err, MRD_E_IO, "outer"), MRD_E_IO);
    assert_int_equal(err.code, MRD_E_PARSE);
    mrd_err_prefix(&err, "file.json");
    assert_string_equal(err.msg, "file.json: inner 1");
    assert_string_equal(mrd_code_str(MRD_E_TOOBIG), "too big");
}

static void test_buf_limit(void **state)
{
    struct mrd_buf b;
    struct mrd_err err = {0};

    (void)state;
    mrd_buf_init(&b, 8);
    assert_int_equal(mrd_buf_puts(&b, "12345", &err), MRD_OK);
    assert_int_equal(mrd_buf_puts(&b, "6789", &err), MRD_E_TOOBIG);
    assert_int_equal(b.len, 5); /* unchanged on failure */
    assert_string_equal(b.data, "12345");
    assert_int_equal(mrd_buf_printf(&b, &err, "%d", 678), MRD_OK);
    assert_string_equal(b.data, "12345678");
    mrd_buf_release(&b);
}

static void test_array_grow(void **state)
{
    int64_t *a = NULL;
    size_t n = 0, cap = 0;

    (void)state;
    for (int64_t i = 0; i < 100; i++) {
        assert_int_equal(mrd_array_grow(&a, n, &cap, sizeof(*a), 4), MRD_OK);
        assert_true(cap > n);
        a[n++] = i;
    }
    assert_int_equal(cap, 128);
    assert_int_equal(a[99], 99);
    /* out of memory: the array and its capacity are kept */
    n = cap;
    mrd_alloc_fail_after(0);
    assert_int_equal(mrd_array_grow(&a, n, &cap, sizeof(*a), 4), MRD_E_NOMEM);
    mrd_alloc_fail_after(-1);
    assert_int_equal(cap, 128);
    assert_int_equal(a[0], 0);
    mrd_free(a);
}

/* Blocks of MRD_ALLOC_LARGE bytes or more take another path (mapped,
 * advised to use huge pages, copied by hand out of the heap): contents
 * survive every move, from the heap up, within the mappings and back down,
 * and calloc's are zero. */
static void test_alloc_large(void **state)
{
    size_t small = 1024 * 1024, big = MRD_ALLOC_LARGE + 4096;
    uint32_t *a = mrd_malloc(small), *z = mrd_calloc(big / 4, 4);

    (void)state;
    assert_non_null(a);
    assert_non_null(z);
    for (size_t i = 0; i < big / 4; i += 997)
        assert_int_equal(z[i], 0);
    for (size_t i = 0; i < small / 4; i++)
        a[i] = (uint32_t)i * 2654435761u;
    a = mrd_realloc(a, big); /* heap to mapping */
    assert_non_null(a);
    for (size_t i = 0; i < small / 4; i++)
        assert_int_equal(a[i], (uint32_t)i * 2654435761u);
    for (size_t i = small / 4; i < big / 4; i++)
        a[i] = (uint32_t)i;
    a = mrd_realloc(a, 2 * big); /* mapping to mapping */
    assert_non_null(a);
    for (size_t i = small / 4; i < big / 4; i++)
        assert_int_equal(a[i], (uint32_t)i);
    a = mrd_realloc(a, small); /* back to the heap */
    assert_non_null(a);
    for (size_t i = 0; i < small / 4; i++)
        assert_int_equal(a[i], (uint32_t)i * 2654435761u);
    mrd_free(a);
    mrd_free(z);
    mrd_alloc_fail_after(0); /* failure injection applies to large blocks too */
    assert_null(mrd_malloc(big));
}

static void test_buf_nomem(void **state)
{
    struct mrd_buf b;
    struct mrd_err err = {0};

    (void)state;
    mrd_buf_init(&b, 1024);
    mrd_alloc_fail_after(0);
    assert_int_equal(mrd_buf_puts(&b, "x", &err), MRD_E_NOMEM);
    assert_null(b.data);
    mrd_alloc_fail_after(-1);
    mrd_buf_release(&b);
}

static void test_arena_limit(void **state)
{
    struct mrd_arena a;
    char *s;

    (void)state;
    mrd_arena_init(&a, 100000);
    s = mrd_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    assert_non_null(mrd_arena_alloc(&a, 50000)); /* larger than one chunk */
    assert_null(mrd_arena_alloc(&a, 60000));     /* past the arena's max */
    assert_int_equal((uintptr_t)mrd_arena_alloc(&a, 3) % 16, 0);
    mrd_arena_release(&a);
}

static void test_str_u64(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(mrd_str_to_u64("1234", 4, 10000, &v, NULL), MRD_OK);
    assert_int_equal(v, 1234);
    assert_int_equal(mrd_str_to_u64("12a", 3, 10000, &v, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_str_to_u64("", 0, 10000, &v, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_str_to_u64("10001", 5, 10000, &v, NULL), MRD_E_TOOBIG);
    /* a digit above a maximum under 9 (max - digit wrapped: "5" passed max 4) */
    assert_int_equal(mrd_str_to_u64("5", 1, 4, &v, NULL), MRD_E_TOOBIG);
    assert_int_equal(mrd_str_to_u64("4", 1, 4, &v, NULL), MRD_OK);
    assert_int_equal(v, 4);
    assert_int_equal(mrd_str_to_u64("18446744073709551616", 20, UINT64_MAX, &v, NULL),
                     MRD_E_TOOBIG);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(mrd_utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    assert_int_equal(mrd_utf8_check("ab\xc0\xaf", 4), 2);        /* overlong */
    assert_int_equal(mrd_utf8_check("a\xed\xa0\x80", 4), 1);     /* surrogate */
    assert_int_equal(mrd_utf8_check("a\xf4\x90\x80\x80", 5), 1); /* > U+10FFFF */
    assert_int_equal(mrd_utf8_check("abc\xe2\x82", 5), 3);       /* truncated */
}

/* What a hostile name, log value or peer message may carry. */
static void test_escape(void **state)
{
#define CASE(in, out)                                                                              \
    {                                                                                              \
        in, sizeof(in) - 1, out                                                                    \
    }
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        CASE("plain text, caf\xc3\xa9 \xe6\x97\xa5", "plain text, caf\xc3\xa9 \xe6\x97\xa5"),
        CASE("a\x1b[31mred\x1b[0m", "a\\x1B[31mred\\x1B[0m"),
        CASE("bel\a cr\r lf\n tab\t", "bel\\x07 cr\\x0D lf\\x0A tab\\x09"),
        CASE("nul\0x", "nul\\x00x"),
        CASE("del\x7f", "del\\x7F"),
        CASE("c1 \xc2\x9b"
             "2J \xc2\x85",
             "c1 \\u{9B}2J \\u{85}"),
        CASE("raw csi \x9b", "raw csi \\x9B"),
        CASE("rlo \xe2\x80\xaegnp.exe", "rlo \\u{202E}gnp.exe"),
        CASE("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8",
             "\\u{202A}\\u{2066}\\u{2069}\\u{200F}\\u{61C}\\u{2028}"),
        CASE("bad \xff\xc0\xaf \xed\xa0\x80 end\xe2\x82",
             "bad \\xFF\\xC0\\xAF \\xED\\xA0\\x80 end\\xE2\\x82"),
        CASE("emoji \xf0\x9f\x98\x80 \\x41", "emoji \xf0\x9f\x98\x80 \\x41"),
    };
#undef CASE
    char out[256], small[12];
    struct mrd_buf b;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(mrd_str_escape(out, sizeof(out), cases[i].in, cases[i].len),
                            cases[i].out);
        /* Idempotent: escaping what is printed changes nothing. */
        assert_false(mrd_str_needs_escape(out, strlen(out)));
        assert_int_equal(mrd_str_needs_escape(cases[i].in, cases[i].len),
                         cases[i].len != strlen(cases[i].out) ||
                             memcmp(cases[i].in, cases[i].out, cases[i].len) != 0);
        mrd_buf_init(&b, 256);
        assert_int_equal(mrd_buf_escape(&b, cases[i].in, cases[i].len, NULL), MRD_OK);
        assert_string_equal(b.data, cases[i].out);
        mrd_buf_release(&b);
    }
    /* Cut between characters, never inside an escape, and marked. */
    assert_string_equal(mrd_str_escape(small, sizeof(small), "abcdefghijklmnop", 16),
                        "abcdefgh...");
    assert_string_equal(mrd_str_escape(small, sizeof(small), "abcd\x1b\x1b\x1b", 7),
                        "abcd\\x1B...");
    assert_string_equal(mrd_str_escape(small, sizeof(small), "abcdefghijk", 11), "abcdefghijk");
    assert_string_equal(mrd_str_escape(small, 3, "abcdef", 6), "");
    assert_string_equal(MRD_ESC("x\x1by"), "x\\x1By");
    assert_string_equal(MRD_ESCN("x\x1by", 2), "x\\x1B");
    /* The buffer form honours its maximum and is unchanged past it. */
    mrd_buf_init(&b, 6);
    assert_int_equal(mrd_buf_puts(&b, "ab", NULL), MRD_OK);
    assert_int_equal(mrd_buf_escape(&b, "c\x01", 2, NULL), MRD_E_TOOBIG);
    assert_string_equal(b.data, "ab");
    mrd_buf_release(&b);
}

/* mrd_str_char_len: one character at a time, controls as escape sees them. */
static void test_char_len(void **state)
{
    static const struct {
        const char *s;
        size_t n, len;
        bool ctl;
    } cases[] = {
        {"a", 1, 1, false},
        {"\x1b[", 2, 1, true},         /* ESC */
        {"\x7f", 1, 1, true},          /* DEL */
        {"\xc3\xa9x", 3, 2, false},    /* e acute: a character, not a control */
        {"\xc2\x9b!", 3, 2, true},     /* C1 CSI */
        {"\xc2\x85", 2, 2, true},      /* NEL */
        {"\xe2\x80\xae", 3, 3, true},  /* RIGHT-TO-LEFT OVERRIDE */
        {"\xe2\x80\xa8", 3, 3, true},  /* LINE SEPARATOR */
        {"\xe2\x82\xac", 3, 3, false}, /* euro sign */
        {"\xff", 1, 1, true},          /* not UTF-8 */
        {"\xe2\x80", 2, 1, true},      /* a sequence cut short: one bad byte */
        {"\xf0\x9f\x98\x80", 4, 4, false},
    };
    bool ctl = true;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(mrd_str_char_len(cases[i].s, cases[i].n, &ctl), cases[i].len);
        assert_int_equal(ctl, cases[i].ctl);
    }
    assert_int_equal(mrd_str_char_len("", 0, &ctl), 0);
    assert_false(ctl);
}

static void test_time_parse(void **state)
{
    struct mrd_time t, u;
    struct mrd_err err = {0};
    char out[MRD_TIME_TAXII_LEN + 1];
    char ms[MRD_TIME_STIX_MS_LEN + 1];

    (void)state;
    assert_int_equal(mrd_time_parse("2016-04-06T20:03:48.000Z", 24, &t, &err), MRD_OK);
    assert_int_equal(t.sec, 1459973028);
    assert_int_equal(t.frac_digits, 3);
    assert_int_equal(mrd_time_parse("2016-04-06T20:03:48Z", 20, &u, &err), MRD_OK);
    assert_int_equal(mrd_time_cmp(&t, &u), 0);
    assert_int_equal(mrd_time_parse("2024-02-29T00:00:00Z", 20, &t, NULL), MRD_OK);
    assert_int_equal(mrd_time_parse("2023-02-29T00:00:00Z", 20, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2023-02-30T00:00:00Z", 20, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2023-13-01T00:00:00Z", 20, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2023-12-01T24:00:00Z", 20, &t, NULL), MRD_E_PARSE);
    /* no leap second: 60 is out of range (STIX 2.1 §3.2 allows 00-59) */
    assert_int_equal(mrd_time_parse("2016-12-31T23:59:60Z", 20, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2016-12-31T23:59:60.000Z", 24, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2016-12-31T23:60:00Z", 20, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2016-12-31T23:59:59.999999999Z", 30, &t, NULL), MRD_OK);
    assert_int_equal(t.frac_digits, 9);
    assert_int_equal(mrd_time_parse("2016-12-31T23:59:59.1Z", 22, &t, NULL), MRD_OK);
    assert_int_equal(t.frac_digits, 1);
    assert_int_equal(mrd_time_parse("2023-12-01T00:00Z", 17, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2023-12-01T00:00:00+01:00", 25, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2023-12-01t00:00:00z", 20, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse("2023-12-01T00:00:00.Z", 21, &t, NULL), MRD_E_PARSE);
    err.msg[0] = '\0';
    assert_int_equal(mrd_time_parse("2023-12-01T00:00:00", 19, &t, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 19"));
    assert_int_equal(mrd_time_parse_taxii("2016-04-06T20:03:48.123456Z", 27, &t, NULL), MRD_OK);
    assert_int_equal(mrd_time_parse_taxii("2016-04-06T20:03:48.123Z", 24, &t, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_time_parse_taxii("2016-04-06T20:03:48.123456Z", 27, &t, NULL), MRD_OK);
    mrd_time_format_taxii(mrd_time_to_usec(&t), out);
    assert_string_equal(out, "2016-04-06T20:03:48.123456Z");
    mrd_time_format_stix_ms(mrd_time_to_usec(&t), ms);
    assert_string_equal(ms, "2016-04-06T20:03:48.123Z");
    mrd_time_format_taxii(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
}

static void test_json_strict(void **state)
{
    struct mrd_json_limits lim = {.max_bytes = 1000, .max_depth = 3};
    struct mrd_err err = {0};
    json_t *v = NULL;

    (void)state;
    assert_int_equal(mrd_json_parse("{\"a\":[1,{\"b\":2}]}", 17, &lim, &v, &err), MRD_OK);
    json_decref(v);
    v = NULL;
    assert_int_equal(mrd_json_parse("[[[[1]]]]", 9, &lim, &v, &err), MRD_E_TOOBIG);
    assert_null(v);
    assert_non_null(strstr(err.msg, "offset 3"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_json_parse("{\"a\":1,\"a\":2}", 13, &lim, &v, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "duplicate"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_json_parse("[\"\xff\"]", 4, &lim, &v, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 2: invalid UTF-8"));
    mrd_err_clear(&err);
    /* after an escape, in a member name, past the depth the fast path takes */
    assert_int_equal(mrd_json_parse("[\"\\n\xff\"]", 7, &lim, &v, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 4: invalid UTF-8"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_json_parse("{\"\xc3\":1}", 7, &lim, &v, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 2: invalid UTF-8"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_json_parse("[[[[\"\xff\"]]]]", 11, &lim, &v, &err), MRD_E_TOOBIG);
    assert_non_null(strstr(err.msg, "offset 3"));
    assert_int_equal(mrd_json_parse("[\"\\u0000\"]", 10, &lim, &v, NULL), MRD_E_PARSE);
    assert_int_equal(mrd_json_parse("[1] x", 5, &lim, &v, NULL), MRD_E_PARSE);
    /* brackets inside strings do not count towards depth */
    assert_int_equal(mrd_json_parse("[\"[[[[[[\"]", 10, &lim, &v, NULL), MRD_OK);
    json_decref(v);
    /* integers beyond 64 bits are numbers, read as doubles */
    assert_int_equal(mrd_json_parse("[100000000000000000000]", 23, &lim, &v, NULL), MRD_OK);
    assert_true(json_is_real(json_array_get(v, 0)));
    assert_true(json_real_value(json_array_get(v, 0)) == 1e20);
    json_decref(v);
    assert_int_equal(mrd_json_parse("[1e400]", 7, &lim, &v, &err), MRD_E_PARSE);
    lim.max_bytes = 4;
    assert_int_equal(mrd_json_parse("[1,2]", 5, &lim, &v, NULL), MRD_E_TOOBIG);
}

/* What mrd_json_parse did before its own reader: the UTF-8 check, then
 * jansson (again with integers as doubles when one overflows). */
static json_t *ref_parse(const char *s, size_t n)
{
    json_error_t jerr;
    json_t *v;

    if (!mrd_utf8_valid(s, n))
        return NULL;
    v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
        v = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    return v;
}

/* Same verdict and the same value (types, member order) both ways. */
static void assert_same_parse(const char *s, size_t n)
{
    json_t *want = ref_parse(s, n), *got = NULL;
    enum mrd_code rc = mrd_json_parse(s, n, NULL, &got, NULL);

    if (want == NULL) {
        if (rc == MRD_OK)
            fail_msg("accepted, jansson refuses: %.*s", (int)n, s);
        return;
    }
    if (rc != MRD_OK)
        fail_msg("refused, jansson accepts: %.*s", (int)n, s);
    char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(a);
    assert_non_null(b);
    if (strcmp(a, b) != 0 || !json_equal(want, got))
        fail_msg("%.*s: jansson %s, ours %s", (int)n, s, a, b);
    free(a);
    free(b);
    json_decref(want);
    json_decref(got);
}

/* mrd_json_parse reads common documents itself and hands everything else
 * to jansson: either way the result must be jansson's. */
static void test_json_fast_reader(void **state)
{
    static const char *const docs[] = {
        "{}",
        "[]",
        " { } ",
        "\t[\r\n]\n",
        "{\"a\":1}",
        "[1,2,3]",
        "[0]",
        "[-0]",
        "[-1]",
        "[123456789012345678]",
        "[-123456789012345678]",
        "[1234567890123456789]",
        "[9223372036854775807]",
        "[9223372036854775808]",
        "[99999999999999999999]",
        "[1.5]",
        "[1e3]",
        "[1E+3]",
        "[-0.0]",
        "[01]",
        "[-]",
        "[1.]",
        "[.5]",
        "[+1]",
        "[1x]",
        "[1 2]",
        "[true,false,null]",
        "[tru]",
        "[nul]",
        "[True]",
        "{\"a\":{\"b\":[{\"c\":\"d\"}]}}",
        "{\"a\":1,}",
        "[1,]",
        "[,1]",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{1:2}",
        "{\"a\":1",
        "[",
        "",
        " ",
        "1",
        "\"x\"",
        "null",
        "{} {}",
        "{}x",
        "\xef\xbb\xbf{}",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        "[\"\\u0041\\u00e9\\u20ac\"]",
        "[\"\\ud83d\\ude00\"]",
        "[\"\\ud83d\"]",
        "[\"\\ude00\"]",
        "[\"\\ud83dx\"]",
        "[\"\\ud83d\\u0041\"]",
        "[\"\\u0000\"]",
        "[\"\\u00\"]",
        "[\"\\uZZZZ\"]",
        "[\"\\x\"]",
        "[\"a\tb\"]",
        "[\"a\x01\"]",
        "[\"\x7f\"]",
        "[\"\xc3\xa9\"]",
        /* the fast reader checks its strings' UTF-8 itself */
        "[\"\xc3\"]",
        "[\"a\xff\"]",
        "[\"\\n\xff\"]",
        "[\"\xff\\n\"]",
        "{\"\xff\":1}",
        "{\"a\":\"\xc3\xa9\\t\xc3\"}",
        "[\"\xed\xa0\x80\"]",
        "[\"\xc0\xaf\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xe2\x82\xac\\n\xf0\x9f\x98\x80\"]",
        "[\"abc",
        "[\"abc\\",
        "[\"\\u12",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"\\u0061\":1,\"b\":\"\\u0062\"}",
        "{\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
        "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
        "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
        "\\u00e9x\":\"\\n\",\"k\\n\":[\"\\t\"]}",
        "{\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-"
        "98ee46b3cd3f\",\"confidence\":85,\"x_score\":0.5,\"labels\":[\"a\",\"b\"],"
        "\"revoked\":false,\"pattern\":\"[ipv4-addr:value = '198.51.100.3']\"}]}",
    };
    char buf[512];
    uint32_t seed = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        assert_same_parse(docs[i], strlen(docs[i]));
    assert_same_parse("[\"a\0b\"]", 7); /* a raw NUL */
    /* every truncation and every single-byte change of a real document */
    {
        const char *d = docs[sizeof(docs) / sizeof(docs[0]) - 1];
        size_t n = strlen(d);
        static const char subst[] = "{}[]\",:\\u0aZ -.e\x01\xc3";
        assert_true(n < sizeof(buf));
        for (size_t k = 0; k <= n; k++)
            assert_same_parse(d, k);
        for (size_t k = 0; k < n; k++) {
            for (size_t j = 0; j < sizeof(subst) - 1; j++) {
                memcpy(buf, d, n);
                buf[k] = subst[j];
                assert_same_parse(buf, n);
            }
        }
    }
    /* random documents from a small alphabet */
    for (int round = 0; round < 20000; round++) {
        static const char *const atoms[] = {
            "{", "}",  "[", "]",   ",",    ":",    "\"a\"", "\"b\"", "\"\\u0061\"", "\"\\n\"",
            "1", "-2", "0", "1.5", "true", "null", " ",     "\"",    "\\"};
        size_t len = 0, parts;
        seed = seed * 1103515245u + 12345u;
        parts = 1 + (seed >> 16) % 12;
        for (size_t k = 0; k < parts; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *a = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(atoms[0]))];
            size_t an = strlen(a);
            if (len + an >= sizeof(buf))
                break;
            memcpy(buf + len, a, an);
            len += an;
        }
        assert_same_parse(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_first_message_wins),
        cmocka_unit_test(test_buf_limit),
        cmocka_unit_test(test_buf_nomem),
        cmocka_unit_test(test_array_grow),
        cmocka_unit_test(test_alloc_large),
        cmocka_unit_test(test_arena_limit),
        cmocka_unit_test(test_str_u64),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_char_len),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_json_strict),
        cmocka_unit_test(test_json_fast_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
