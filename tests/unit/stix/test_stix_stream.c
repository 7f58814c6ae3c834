/*
 * test_stix_stream: stix_stream_* (a document checked one object at a time)
 * gives the findings stix_validate_document gives for the same document:
 * the same rules at the same paths, for the rules across objects too
 * (versions of one id, created changed, revocation, SCO duplicates, a UUID
 * reused across types).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "stix/stix.h"

#define U1 "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define IND(uuid, created, modified, extra)                                                        \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" uuid "\","             \
    "\"created\":\"" created "\",\"modified\":\"" modified "\",\"pattern\":\"[ipv4-addr:value "    \
    "= '1.2.3.4']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00.000Z\"" extra   \
    "}"
#define T0 "2020-01-01T00:00:00.000Z"
#define T1 "2020-02-01T00:00:00.000Z"

static json_t *load(const char *s)
{
    json_t *v = NULL;
    struct mrd_err err = {0};

    assert_int_equal(mrd_json_parse(s, strlen(s), NULL, &v, &err), MRD_OK);
    return v;
}

/* "rule path" lines of a report, sorted by nothing: in finding order. */
static void lines(const struct stix_report *rep, char *out, size_t n)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < rep->nfindings; i++)
        used += (size_t)snprintf(out + used, n - used, "%s %s %s\n", rep->findings[i].rule,
                                 rep->findings[i].path, rep->findings[i].msg);
}

/* The stix_stream_expect hint both_doc gives (0: none). */
static size_t expect_hint;

/* Both ways over bundle d (consumed); want and got: the findings' lines. */
static void both_doc(json_t *d, char *want, char *got, size_t n)
{
    json_t *list, *head;
    struct stix_report a, b;
    struct stix_stream *s = NULL;
    struct mrd_err err = {0};

    stix_report_init(&a);
    stix_report_init(&b);
    assert_int_equal(stix_validate_document(d, 0, &a, &err), MRD_OK);
    list = json_object_get(d, "objects");
    assert_int_equal(stix_stream_begin(0, false, &b, &s, &err), MRD_OK);
    if (expect_hint > 0)
        stix_stream_expect(s, expect_hint);
    for (size_t i = 0; i < json_array_size(list); i++)
        assert_int_equal(stix_stream_object(s, i, json_array_get(list, i), &err), MRD_OK);
    stix_stream_free(s);
    head = json_deep_copy(d);
    assert_int_equal(json_object_del(head, "objects"), 0);
    assert_int_equal(stix_stream_end(&b, head, json_array_size(list), 0, &err), MRD_OK);
    assert_int_equal(a.kind, b.kind);
    assert_int_equal(a.objects, b.objects);
    assert_int_equal(stix_report_errors(&a), stix_report_errors(&b));
    assert_int_equal(stix_report_warnings(&a), stix_report_warnings(&b));
    lines(&a, want, n);
    lines(&b, got, n);
    json_decref(head);
    json_decref(d);
    stix_report_release(&a);
    stix_report_release(&b);
}

/* Both ways over a bundle of the given objects; returns the streamed lines. */
static void both(const char *objects, char *want, char *got, size_t n)
{
    char doc[8192];

    (void)snprintf(doc, sizeof(doc),
                   "{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\","
                   "\"objects\":[%s]}",
                   objects);
    both_doc(load(doc), want, got, n);
}

static void test_same_findings_across_objects(void **state)
{
    static const char *const cases[] = {
        /* the same version twice, different content */
        IND(U1, T0, T0, "") "," IND(U1, T0, T0, ",\"name\":\"x\""),
        /* the same version twice, same content in another member order */
        IND(U1, T0, T0,
            ",\"name\":\"x\",\"labels\":[\"a\"]") ","
                                                  "{\"labels\":[\"a\"],\"name\":\"x\",\"valid_"
                                                  "from\":\"2020-01-01T00:00:00.000Z\","
                                                  "\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-"
                                                  "addr:value = '1.2.3.4']\",\"modified\":\"" T0
                                                  "\",\"created\":\"" T0
                                                  "\",\"id\":\"indicator--" U1
                                                  "\",\"spec_version\":\"2.1\","
                                                  "\"type\":\"indicator\"}",
        /* created changed between versions; a newer version after a revoked one */
        IND(U1, T0, T0, ",\"revoked\":true") "," IND(U1, T1, T1, ""),
        /* one UUID, two types */
        IND(U1, T0, T0,
            "") ",{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" U1
                "\",\"created\":\"" T0 "\",\"modified\":\"" T0 "\",\"name\":\"n\"}",
        /* an SCO id twice with different content */
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\","
        "\"value\":\"198.51.100.3\"},{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--ff26c055-6336-"
        "5bc5-"
        "b98d-13d6226742dd\",\"value\":\"198.51.100.4\"}",
    };
    char want[16384], got[16384];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        both(cases[i], want, got, sizeof(want));
        assert_string_equal(got, want);
        /* every case but the equal copies finds something */
        if (i != 1)
            assert_true(want[0] != '\0');
    }
}

static void test_empty_list_and_not_json(void **state)
{
    struct stix_report rep;
    struct stix_stream *s = NULL;
    struct mrd_err err = {0};
    json_t *head =
        load("{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\"}");

    (void)state;
    stix_report_init(&rep);
    assert_int_equal(stix_stream_end(&rep, head, 0, 0, &err), MRD_OK);
    assert_int_equal(stix_report_errors(&rep), 1);
    assert_string_equal(rep.findings[0].rule, "empty-list");
    stix_report_reset(&rep);
    assert_int_equal(stix_stream_begin(0, true, &rep, &s, &err), MRD_OK);
    assert_int_equal(stix_stream_not_json(s, 4, "bad", &err), MRD_OK);
    stix_stream_free(s);
    assert_int_equal(stix_stream_end(&rep, NULL, 5, 0, &err), MRD_OK);
    assert_int_equal(rep.kind, STIX_DOC_LIST);
    assert_string_equal(rep.findings[0].rule, "json-syntax");
    assert_string_equal(rep.findings[0].path, "$[4]");
    stix_report_release(&rep);
    json_decref(head);
}

/* Past the first table sizes (4,096 objects, then 8,192; or past the
 * size expected, expect_hint): every object is still found by its id and its
 * UUID after the tables are rebuilt. */
static void across_grown(void)
{
    enum { N = 9000 };
    static char want[65536], got[65536];
    json_t *d = load("{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-"
                     "33f4c354e56d\",\"objects\":[]}");
    json_t *list = json_object_get(d, "objects");
    char buf[1024], uuid[40];

    for (int i = 0; i < N; i++) {
        (void)snprintf(uuid, sizeof(uuid), "%08x-17d4-4cbf-938f-98ee46b3cd3f", (unsigned)i);
        (void)snprintf(buf, sizeof(buf), IND("%s", T0, T0, ""), uuid);
        assert_int_equal(json_array_append_new(list, load(buf)), 0);
    }
    /* object 7 again with other content, object 5000's UUID as an identity */
    (void)snprintf(buf, sizeof(buf),
                   IND("%08x-17d4-4cbf-938f-98ee46b3cd3f", T0, T0, ",\"name\":\"x\""), 7u);
    assert_int_equal(json_array_append_new(list, load(buf)), 0);
    (void)snprintf(buf, sizeof(buf),
                   "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--"
                   "%08x-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"" T0 "\",\"modified\":\"" T0
                   "\",\"name\":\"n\"}",
                   5000u);
    assert_int_equal(json_array_append_new(list, load(buf)), 0);
    both_doc(d, want, got, sizeof(want));
    assert_string_equal(got, want);
    assert_non_null(strstr(got, "version-conflict $.objects[9000]"));
    assert_non_null(strstr(got, "[7]"));
    assert_non_null(strstr(got, "uuid-reused $.objects[9001].id"));
    assert_non_null(strstr(got, "[5000]"));
}

static void test_across_objects_after_the_tables_grow(void **state)
{
    (void)state;
    expect_hint = 0;
    across_grown();
}

/* A hint below the count (the tables made for 6,000 grow past it, keeping
 * what they hold), above it, and past STIX_STREAM_EXPECT_MAX (capped):
 * the same findings. */
static void test_across_objects_with_an_expected_count(void **state)
{
    const size_t hints[] = {6000, 20000, STIX_STREAM_EXPECT_MAX * 4};

    (void)state;
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        expect_hint = hints[i];
        across_grown();
    }
    expect_hint = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_findings_across_objects),
        cmocka_unit_test(test_empty_list_and_not_json),
        cmocka_unit_test(test_across_objects_after_the_tables_grow),
        cmocka_unit_test(test_across_objects_with_an_expected_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
