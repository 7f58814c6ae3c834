/*
 * Document-level behaviour of the STIX validator: the four document
 * shapes, versions within a document, the report (limits, JSON form,
 * per-object counts) and out-of-memory handling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "stix/stix.h"

#define MAL(id, mod, extra)                                                                        \
    "{`type`:`malware`,`spec_version`:`2.1`,`id`:`malware--" id "`,"                               \
    "`created`:`2016-04-06T20:03:48.000Z`,`modified`:`" mod "`,`name`:`x`,`is_family`:true" extra  \
    "}"
#define A "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define B "31b940d4-6f7f-459a-80ea-9c1f17b5891b"
#define T0 "2016-04-06T20:03:48.000Z"
#define T1 "2016-05-06T20:03:48.000Z"
#define BUNDLE(objs) "{`type`:`bundle`,`id`:`bundle--" B "`,`objects`:[" objs "]}"

static json_t *load(const char *s)
{
    char *t = strdup(s);
    json_t *v = NULL;
    struct mrd_err err = {0};

    assert_non_null(t);
    for (char *p = t; *p != '\0'; p++)
        if (*p == '`')
            *p = '"';
    if (mrd_json_parse(t, strlen(t), NULL, &v, &err) != MRD_OK)
        fail_msg("bad test JSON (%s): %s", err.msg, t);
    free(t);
    return v;
}

static bool has_rule(const struct stix_report *rep, const char *rule)
{
    for (size_t i = 0; i < rep->nfindings; i++)
        if (strcmp(rep->findings[i].rule, rule) == 0)
            return true;
    return false;
}

/* Validates src as a document; returns the error count, fills rep. */
static size_t run_doc(const char *src, struct stix_report *rep)
{
    json_t *doc = load(src);
    struct mrd_err err = {0};

    stix_report_init(rep);
    assert_int_equal(stix_validate_document(doc, 0, rep, &err), MRD_OK);
    json_decref(doc);
    return stix_report_errors(rep);
}

static void test_kinds(void **state)
{
    struct stix_report rep;

    (void)state;
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, "")), &rep), 0);
    assert_int_equal(rep.kind, STIX_DOC_BUNDLE);
    assert_int_equal(rep.objects, 1);
    assert_string_equal(stix_doc_kind_str(rep.kind), "bundle");
    stix_report_release(&rep);

    assert_int_equal(run_doc(MAL(A, T0, ""), &rep), 0);
    assert_int_equal(rep.kind, STIX_DOC_OBJECT);
    stix_report_release(&rep);

    assert_int_equal(run_doc("{`objects`:[" MAL(A, T0, "") "],`more`:false}", &rep), 0);
    assert_int_equal(rep.kind, STIX_DOC_ENVELOPE);
    stix_report_release(&rep);

    assert_int_equal(run_doc("{}", &rep), 0); /* an empty envelope is fine (TAXII §3.7) */
    assert_int_equal(rep.kind, STIX_DOC_ENVELOPE);
    stix_report_release(&rep);

    assert_int_equal(run_doc("[" MAL(A, T0, "") "," MAL(B, T0, "") "]", &rep), 0);
    assert_int_equal(rep.kind, STIX_DOC_LIST);
    assert_int_equal(rep.objects, 2);
    stix_report_release(&rep);

    {
        json_t *num = json_integer(42); /* mrd_json_parse never yields one; others may */
        stix_report_init(&rep);
        assert_int_equal(stix_validate_document(num, 0, &rep, NULL), MRD_OK);
        json_decref(num);
    }
    assert_int_equal(stix_report_errors(&rep), 1);
    assert_int_equal(rep.kind, STIX_DOC_UNKNOWN);
    assert_true(has_rule(&rep, "not-a-document"));
    stix_report_release(&rep);
}

static void test_bundle_rules(void **state)
{
    struct stix_report rep;

    (void)state;
    /* the upstream TLP 2.0 example: a bundle that lost its type */
    assert_true(run_doc("{`id`:`bundle--" B "`,`objects`:[" MAL(A, T0, "") "]}", &rep) > 0);
    assert_int_equal(rep.kind, STIX_DOC_BUNDLE);
    assert_true(has_rule(&rep, "required-property"));
    stix_report_release(&rep);

    assert_true(run_doc("{`type`:`bundle`,`id`:`malware--" A "`}", &rep) > 0);
    assert_true(has_rule(&rep, "id-format"));
    stix_report_release(&rep);

    assert_true(run_doc("{`type`:`bundle`}", &rep) > 0);
    assert_true(has_rule(&rep, "required-property"));
    stix_report_release(&rep);

    assert_true(run_doc("{`type`:`bundle`,`id`:`bundle--" B "`,`objects`:[]}", &rep) > 0);
    assert_true(has_rule(&rep, "empty-list"));
    stix_report_release(&rep);

    assert_true(run_doc("{`type`:`bundle`,`id`:`bundle--" B "`,`objects`:{}}", &rep) > 0);
    assert_true(has_rule(&rep, "property-type"));
    stix_report_release(&rep);

    assert_true(run_doc(BUNDLE("{`type`:`bundle`,`id`:`bundle--" A "`}"), &rep) > 0);
    assert_true(has_rule(&rep, "nested-bundle"));
    stix_report_release(&rep);

    assert_true(run_doc(BUNDLE("42"), &rep) > 0);
    assert_true(has_rule(&rep, "not-an-object"));
    assert_string_equal(rep.findings[0].path, "$.objects[0]");
    stix_report_release(&rep);

    /* 2.0-style spec_version on the bundle: a warning */
    assert_int_equal(run_doc("{`type`:`bundle`,`id`:`bundle--" B "`,`spec_version`:`2.1`}", &rep),
                     0);
    assert_int_equal(stix_report_warnings(&rep), 1);
    stix_report_release(&rep);

    assert_true(run_doc("{`type`:`bundle`,`id`:`bundle--" B "`,`Bad Name`:1}", &rep) > 0);
    assert_true(has_rule(&rep, "property-name"));
    stix_report_release(&rep);
    assert_int_equal(run_doc("{`type`:`bundle`,`id`:`bundle--" B "`,`x_acme_note`:`n`}", &rep), 0);
    assert_true(has_rule(&rep, "bundle-property"));
    assert_int_equal(stix_report_warnings(&rep), 1);
    stix_report_release(&rep);
    /* the OASIS validator's bundle with 'created': a custom property, valid */
    assert_int_equal(run_doc("{`type`:`bundle`,`id`:`bundle--" B "`,`created`:`x`}", &rep), 0);
    assert_true(has_rule(&rep, "bundle-property"));
    stix_report_release(&rep);

    assert_true(run_doc("{`objects`:[],`more`:`yes`}", &rep) > 0);
    assert_true(has_rule(&rep, "empty-list"));
    assert_true(has_rule(&rep, "property-type"));
    stix_report_release(&rep);
}

static void test_paths_and_objects(void **state)
{
    struct stix_report rep;

    (void)state;
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, "") "," MAL(B, T0, ",`confidence`:500")), &rep), 1);
    assert_string_equal(rep.findings[0].path, "$.objects[1].confidence");
    assert_int_equal(rep.findings[0].object, 1);
    assert_int_equal(stix_report_object_errors(&rep, 1), 1);
    assert_int_equal(stix_report_object_errors(&rep, 0), 0);
    stix_report_release(&rep);

    assert_int_equal(run_doc("[" MAL(A, T0, ",`confidence`:500") "]", &rep), 1);
    assert_string_equal(rep.findings[0].path, "$[0].confidence");
    stix_report_release(&rep);

    /* keys that are not identifiers are quoted in the path */
    assert_int_equal(run_doc(MAL(A, T0, ",`x_acme`:{`a.b`:[]}"), &rep), 0);
    stix_report_release(&rep);
}

static void test_versions(void **state)
{
    struct stix_report rep;

    (void)state;
    /* two versions of one object: fine */
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, "") "," MAL(A, T1, "")), &rep), 0);
    stix_report_release(&rep);
    /* the same version twice, identical: fine */
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, "") "," MAL(A, T0, "")), &rep), 0);
    stix_report_release(&rep);
    /* the same version twice, different: S22 */
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, "") "," MAL(A, T0, ",`description`:`d`")), &rep), 1);
    assert_true(has_rule(&rep, "version-conflict"));
    stix_report_release(&rep);
    /* created changed between versions: S21 */
    assert_int_equal(
        run_doc(
            BUNDLE(MAL(
                A, T1,
                "") ",{`type`:`malware`,`spec_version`:`2.1`,`id`:`malware--" A
                    "`,`created`:`2016-04-07T20:03:48.000Z`,`modified`:`2016-06-06T20:03:48.000Z`,"
                    "`name`:`x`,`is_family`:true}"),
            &rep),
        1);
    assert_true(has_rule(&rep, "created-changed"));
    stix_report_release(&rep);
    /* a version after a revoked one: S24 (in either order in the file) */
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, ",`revoked`:true") "," MAL(A, T1, "")), &rep), 1);
    assert_true(has_rule(&rep, "revoked-version"));
    stix_report_release(&rep);
    assert_int_equal(run_doc(BUNDLE(MAL(A, T1, "") "," MAL(A, T0, ",`revoked`:true")), &rep), 1);
    stix_report_release(&rep);
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, "") "," MAL(A, T1, ",`revoked`:true")), &rep), 0);
    stix_report_release(&rep);
}

/* S4: a UUID reused across types is reported (SCOs excepted). */
static void test_uuid_reuse(void **state)
{
    struct stix_report rep;

    (void)state;
    assert_int_equal(
        run_doc(BUNDLE(MAL(A, T0, "") ",{`type`:`identity`,`spec_version`:`2.1`,`id`:`identity--" A
                                      "`,`created`:`" T0 "`,`modified`:`" T0 "`,`name`:`n`}"),
                &rep),
        0);
    assert_int_equal(stix_report_warnings(&rep), 1);
    assert_true(has_rule(&rep, "uuid-reused"));
    assert_string_equal(rep.findings[0].path, "$.objects[1].id");
    stix_report_release(&rep);
    /* deterministic SCO ids of different types may collide by design */
    assert_int_equal(
        run_doc(BUNDLE("{`type`:`domain-name`,`id`:`domain-name--" A
                       "`,`value`:`x`},{`type`:`url`,`id`:`url--" A "`,`value`:`http://x`}"),
                &rep),
        0);
    stix_report_release(&rep);
}

static void test_report_json(void **state)
{
    struct stix_report rep;
    json_t *j = NULL;

    (void)state;
    assert_int_equal(run_doc(BUNDLE(MAL(A, T0, ",`confidence`:500")), &rep), 1);
    assert_int_equal(stix_report_json(&rep, &j, NULL), MRD_OK);
    assert_true(json_is_false(json_object_get(j, "valid")));
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "bundle");
    assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "objects")), 1);
    assert_true(json_is_false(json_object_get(j, "truncated")));
    {
        json_t *f = json_array_get(json_object_get(j, "findings"), 0);
        assert_string_equal(json_string_value(json_object_get(f, "rule")), "integer-range");
        assert_string_equal(json_string_value(json_object_get(f, "path")),
                            "$.objects[0].confidence");
        assert_string_equal(json_string_value(json_object_get(f, "severity")), "error");
        assert_non_null(json_string_value(json_object_get(f, "section")));
        assert_non_null(json_string_value(json_object_get(f, "message")));
        assert_int_equal(json_integer_value(json_object_get(f, "object")), 0);
    }
    json_decref(j);
    stix_report_release(&rep);
}

/* Far more findings than STIX_MAX_FINDINGS: counts stay exact, the list is
 * capped, and the JSON says it was truncated. */
static void test_truncation(void **state)
{
    struct mrd_buf b;
    struct stix_report rep;
    json_t *doc = NULL;
    json_t *j = NULL;
    size_t n = STIX_MAX_FINDINGS + 500;

    (void)state;
    mrd_buf_init(&b, 64 * 1024 * 1024);
    assert_int_equal(mrd_buf_puts(&b, "[", NULL), MRD_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mrd_buf_printf(&b, NULL, "%s{\"type\":\"malware\"}", i ? "," : ""),
                         MRD_OK);
    assert_int_equal(mrd_buf_puts(&b, "]", NULL), MRD_OK);
    assert_int_equal(mrd_json_parse(b.data, b.len, NULL, &doc, NULL), MRD_OK);
    stix_report_init(&rep);
    assert_int_equal(stix_validate_document(doc, 0, &rep, NULL), MRD_OK);
    assert_true(stix_report_errors(&rep) >= n * 5); /* id, spec_version, created, ... */
    assert_int_equal(rep.nfindings, STIX_MAX_FINDINGS);
    assert_int_equal(stix_report_json(&rep, &j, NULL), MRD_OK);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    stix_report_release(&rep);
    json_decref(doc);
    mrd_buf_release(&b);
}

/* Every allocation may fail: the validator says MRD_E_NOMEM or finishes,
 * never crashes or leaks (ASan checks the leaks). */
static void test_nomem(void **state)
{
    json_t *doc = load(BUNDLE(MAL(A, T0, ",`confidence`:500") "," MAL(
        A, T0, "") ","
                   "{`type`:`ipv4-addr`,`id`:`ipv4-addr--" A "`,`value`:`1.2.3.4`}"));
    bool finished = false;

    (void)state;
    for (long n = 0; n < 200 && !finished; n++) {
        struct stix_report rep;
        struct mrd_err err = {0};
        enum mrd_code rc;
        stix_report_init(&rep);
        mrd_alloc_fail_after(n);
        rc = stix_validate_document(doc, 0, &rep, &err);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        if (rc == MRD_E_NOMEM)
            assert_non_null(strstr(err.msg, "memory"));
        finished = rc == MRD_OK && stix_report_errors(&rep) >= 2;
        stix_report_release(&rep);
    }
    assert_true(finished);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_bundle_rules),
        cmocka_unit_test(test_paths_and_objects),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_uuid_reuse),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
