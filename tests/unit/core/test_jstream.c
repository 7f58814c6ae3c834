/*
 * test_jstream: the streaming top-level tokenizer (core/jstream.h). Every
 * input is read in pieces of 1, 7 and 4096 bytes, so values cross chunk
 * boundaries; each event's text must be the input's bytes at its offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/jstream.h"

struct src {
    const char *s;
    size_t n, at, piece;
};

static enum mrd_code rd(void *ctx, char *buf, size_t cap, size_t *got, struct mrd_err *err)
{
    struct src *s = ctx;
    size_t k = s->n - s->at;

    (void)err;
    if (k > cap)
        k = cap;
    if (k > s->piece)
        k = s->piece;
    memcpy(buf, s->s + s->at, k);
    s->at += k;
    *got = k;
    return MRD_OK;
}

/* Runs the stream over s and writes one line per event into out:
 * "I<index>:<text>", "M<key>:<text>", "V:<text>", "E" or "X<code>:<msg>". */
static void run(const char *s, size_t piece, size_t max_item, const char *whole_after_key,
                char *out, size_t outsz)
{
    struct mrd_jstream_opts o = {"objects", max_item, 4096, 16};
    struct src src = {s, strlen(s), 0, piece};
    struct mrd_jstream *js = NULL;
    struct mrd_jstream_event ev;
    struct mrd_err err = {0};
    size_t used = 0;

    out[0] = '\0';
    assert_int_equal(mrd_jstream_open(&o, rd, &src, &js, &err), MRD_OK);
    for (;;) {
        enum mrd_code rc = mrd_jstream_next(js, &ev, &err);
        if (rc != MRD_OK) {
            used += (size_t)snprintf(out + used, outsz - used, "X%d:%s\n", (int)rc, err.msg);
            /* an error sticks */
            assert_int_equal(mrd_jstream_next(js, &ev, &err), rc);
            break;
        }
        if (ev.kind == MRD_JSTREAM_END) {
            used += (size_t)snprintf(out + used, outsz - used, "E\n");
            break;
        }
        /* the text is the input's bytes at its offset */
        assert_true(ev.offset + ev.len <= strlen(s));
        assert_memory_equal(ev.text, s + ev.offset, ev.len);
        if (ev.kind == MRD_JSTREAM_ITEM)
            used += (size_t)snprintf(out + used, outsz - used, "I%zu:%.*s\n", ev.index, (int)ev.len,
                                     ev.text);
        else if (ev.kind == MRD_JSTREAM_MEMBER)
            used += (size_t)snprintf(out + used, outsz - used, "M%s:%.*s\n", ev.key, (int)ev.len,
                                     ev.text);
        else
            used += (size_t)snprintf(out + used, outsz - used, "V:%.*s\n", (int)ev.len, ev.text);
        if (whole_after_key != NULL && ev.kind == MRD_JSTREAM_MEMBER &&
            strcmp(ev.key, whole_after_key) == 0)
            mrd_jstream_whole_list(js);
        assert_true(used < outsz);
    }
    mrd_jstream_close(js);
}

/* The same events whatever the read size. */
static void expect(const char *in, size_t max_item, const char *whole, const char *want)
{
    static const size_t pieces[] = {1, 7, 4096};
    char out[8192];

    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        run(in, pieces[i], max_item, whole, out, sizeof(out));
        if (strstr(want, "X") == want || strncmp(out, want, strlen(want)) != 0)
            assert_string_equal(out, want);
    }
}

static void test_objects_before_type(void **state)
{
    (void)state;
    expect(" {\"objects\" : [ {\"a\":1} ,[2,{\"b\":\"}]\\\"{\"}], \"x\"\n],\"type\":\"bundle\","
           "\"id\":\"bundle--1\",\"n\":-1.5e3, \"t\" :true}  \n",
           1024, NULL,
           "I0:{\"a\":1}\nI1:[2,{\"b\":\"}]\\\"{\"}]\nI2:\"x\"\nMtype:\"bundle\"\n"
           "Mid:\"bundle--1\"\nMn:-1.5e3\nMt:true\nE\n");
}

static void test_list_document_and_scalars(void **state)
{
    (void)state;
    expect("[{\"id\":1},{\"id\":2}]", 1024, NULL, "I0:{\"id\":1}\nI1:{\"id\":2}\nE\n");
    expect("[]", 1024, NULL, "E\n");
    expect("{}", 1024, NULL, "E\n");
    expect("  42 ", 1024, NULL, "V:42\nE\n");
    expect("{\"objects\":[]}", 1024, NULL, "E\n");
    /* an escaped member name is decoded */
    expect("{\"ty\\u0070e\":\"x\"}", 1024, NULL, "Mtype:\"x\"\nE\n");
}

static void test_whole_list_after_type(void **state)
{
    (void)state;
    expect("{\"type\":\"x-thing\",\"objects\":[1,2]}", 1024, "type",
           "Mtype:\"x-thing\"\nMobjects:[1,2]\nE\n");
    /* "objects" that is not a list is a member */
    expect("{\"objects\":{\"0\":{}}}", 1024, NULL, "Mobjects:{\"0\":{}}\nE\n");
}

static void test_truncated_keeps_what_came_before(void **state)
{
    char out[4096];

    (void)state;
    run("{\"objects\":[{\"a\":1},{\"b\":", 3, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "I0:{\"a\":1}\n"));
    assert_non_null(strstr(out, "the document is truncated"));
    assert_non_null(strstr(out, "element 1"));
    run("{\"objects\":[{\"a\":1}", 3, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "truncated"));
    run("{\"objects\":[{\"a\":1}]", 3, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "truncated"));
    run("", 3, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "empty"));
}

static void test_limits(void **state)
{
    char out[4096], bomb[200];

    (void)state;
    /* depth: the item sits at depth 2 of 16 */
    (void)snprintf(bomb, sizeof(bomb), "{\"objects\":[%s", "[[[[[[[[[[[[[[[");
    run(bomb, 5, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "nested deeper than 16 levels"));
    assert_non_null(strstr(out, "element 0 at byte 12"));
    /* 14 levels inside the list fit */
    (void)snprintf(bomb, sizeof(bomb), "{\"objects\":[%s%s", "[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]}");
    run(bomb, 5, 1024, NULL, out, sizeof(out));
    assert_string_equal(out, "I0:[[[[[[[[[[[[[[]]]]]]]]]]]]]]\nE\n");
    /* an item over max_item */
    run("{\"objects\":[{\"a\":\"0123456789\"}]}", 4, 16, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "element 0 at byte 12 is longer than 16 bytes"));
    assert_int_equal(out[0], 'X');
}

static void test_bad_structure(void **state)
{
    char out[4096];

    (void)state;
    run("{\"objects\":[1 2]}", 4096, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "expected ',' or ']' after element 0 at byte 14"));
    run("{\"objects\":[1,]}", 4096, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "a ',' before ']'"));
    run("{\"a\" 1}", 4096, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "expected ':'"));
    run("{\"objects\":[1],\"objects\":[2]}", 4096, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "a second \"objects\""));
    run("[1] [2]", 4096, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "data after the end of the document at byte 4"));
    run("{1:2}", 4096, 1024, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "expected a member name at byte 1"));
}

static void test_parse_scalars(void **state)
{
    struct mrd_jstream_event ev = {0};
    struct mrd_err err = {0};
    json_t *v = NULL;

    (void)state;
    ev.text = "\"bundle\"";
    ev.len = strlen(ev.text);
    assert_int_equal(mrd_jstream_parse(&ev, &v, &err), MRD_OK);
    assert_string_equal(json_string_value(v), "bundle");
    json_decref(v);
    ev.text = "tru";
    ev.len = 3;
    assert_int_not_equal(mrd_jstream_parse(&ev, &v, &err), MRD_OK);
    assert_null(v);
    ev.text = "{\"a\":1,\"a\":2}"; /* I-JSON: no duplicate names */
    ev.len = strlen(ev.text);
    assert_int_not_equal(mrd_jstream_parse(&ev, &v, &err), MRD_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_before_type),
        cmocka_unit_test(test_list_document_and_scalars),
        cmocka_unit_test(test_whole_list_after_type),
        cmocka_unit_test(test_truncated_keeps_what_came_before),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_structure),
        cmocka_unit_test(test_parse_scalars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
