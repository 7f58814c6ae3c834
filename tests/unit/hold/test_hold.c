/* Unit tests for hold/: selection by pattern (SCOs, indicators that
 * compare the value, objects that refer to them), an empty selection,
 * TAXII query selection and its errors, renew and release, through the
 * public API the CLI and the console share. The store lives in $TMPDIR. */
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

#include "hold/hold.h"
#include "policy/policy.h"
#include "store/store.h"

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
    (void)snprintf(f->dir, sizeof(f->dir), "%s/mrd-hold-XXXXXX",
                   tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "own", POLICY_REL_OWN, &own, &err), MRD_OK);
    assert_int_equal(store_meta_set(f->st, "node_id", "node-1", &err), MRD_OK);
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
    d = opendir(f->dir); /* the database and its WAL files: no subdirectories */
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

/* Stores one object (a JSON text with "id" and "type"; SDOs have created). */
static void put(struct fx *f, const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    struct store_object_in in;
    enum store_insert_outcome out;
    struct mrd_err err = {0};
    const char *id, *type;

    assert_non_null(o);
    id = json_string_value(json_object_get(o, "id"));
    type = json_string_value(json_object_get(o, "type"));
    memset(&in, 0, sizeof(in));
    in.id = id;
    in.id_len = strlen(id);
    in.type = type;
    in.type_len = strlen(type);
    in.spec_version = "2.1";
    in.spec_version_len = 3;
    in.created_usec = json_object_get(o, "created") != NULL ? 1000000 : STORE_TIME_NONE;
    in.modified_usec = in.created_usec;
    in.tlp = POLICY_TLP_GREEN;
    in.local = true;
    in.creator_org = 1;
    in.body = json;
    in.body_len = strlen(json);
    assert_int_equal(store_objects_insert(f->st, f->coll.key, &in, 1, &out, NULL, &err), MRD_OK);
    assert_int_equal(out, STORE_INS_ADDED);
    json_decref(o);
}

#define IND(n, pat)                                                                                \
    "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-00000000000" #n           \
    "\",\"created\":\"2026-01-01T00:00:00.000Z\",\"pattern_type\":\"stix\",\"pattern\":\"" pat     \
    "\"}"

static bool held_has(json_t *rec, const char *id)
{
    json_t *v;
    size_t i;

    json_array_foreach(json_object_get(rec, "held_versions"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            return true;
    }
    return false;
}

static void test_pattern_holds_indicators_and_referrers(void **state)
{
    struct fx *f = *state;
    struct hold_request req = {.case_id = "C1", .authority = "A", .reason = "R", .days = 10};
    struct hold_created h;
    struct mrd_err err = {0};
    json_t *rec = NULL;

    put(f, IND(1, "[ipv4-addr:value = '198.51.100.23']"));
    put(f, IND(2, "[ipv4-addr:value = '198.51.100.0/24']"));
    put(f, IND(3, "[ipv4-addr:value = '198.51.101.1']"));
    put(f, IND(4, "[file:hashes.'SHA-256' = 'ab']"));
    put(f, "{\"type\":\"sighting\",\"id\":\"sighting--00000000-0000-4000-8000-000000000001\","
           "\"created\":\"2026-01-01T00:00:00.000Z\",\"sighting_of_ref\":"
           "\"indicator--00000000-0000-4000-8000-000000000001\"}");
    put(f, "{\"type\":\"report\",\"id\":\"report--00000000-0000-4000-8000-000000000001\","
           "\"created\":\"2026-01-01T00:00:00.000Z\",\"object_refs\":"
           "[\"sighting--00000000-0000-4000-8000-000000000001\"]}");
    put(f, "{\"type\":\"report\",\"id\":\"report--00000000-0000-4000-8000-000000000002\","
           "\"created\":\"2026-01-01T00:00:00.000Z\",\"object_refs\":"
           "[\"indicator--00000000-0000-4000-8000-000000000003\"]}");
    req.pattern = "[ipv4-addr:value = '198.51.100.23']";
    assert_int_equal(hold_create(f->st, &req, 1000000, &h, &err), MRD_OK);
    assert_int_equal(h.items, 4); /* indicators 1 and 2, the sighting, the report on it */
    assert_int_equal(hold_show(f->st, h.id, 1000000, &rec, &err), MRD_OK);
    assert_true(held_has(rec, "indicator--00000000-0000-4000-8000-000000000001"));
    assert_true(held_has(rec, "indicator--00000000-0000-4000-8000-000000000002"));
    assert_true(held_has(rec, "sighting--00000000-0000-4000-8000-000000000001"));
    assert_true(held_has(rec, "report--00000000-0000-4000-8000-000000000001"));
    assert_false(held_has(rec, "indicator--00000000-0000-4000-8000-000000000003"));
    assert_string_equal(json_string_value(json_object_get(rec, "state")), "active");
    json_decref(rec);

    /* a hash hold compares case-insensitively, as the evaluator does */
    req.case_id = "C2";
    req.pattern = "[file:hashes.'SHA-256' = 'AB']";
    assert_int_equal(hold_create(f->st, &req, 1000000, &h, &err), MRD_OK);
    assert_int_equal(h.items, 1);

    /* nothing selected: MRD_E_NOTFOUND, and no hold is stored */
    req.case_id = "C3";
    req.pattern = "[ipv4-addr:value = '192.0.2.1']";
    mrd_err_clear(&err);
    assert_int_equal(hold_create(f->st, &req, 1000000, &h, &err), MRD_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "selects no stored object"));
}

static void test_query_renew_release(void **state)
{
    struct fx *f = *state;
    struct hold_request req = {.case_id = "Q", .authority = "A", .reason = "R", .days = 1};
    struct hold_created h;
    struct mrd_err err = {0};
    char exp[MRD_TIME_TAXII_LEN + 1];

    put(f, IND(5, "[domain-name:value = 'evil.example']"));
    req.query = "match[type]=indicator&match[id]=indicator--00000000-0000-4000-8000-000000000005";
    assert_int_equal(hold_create(f->st, &req, 1000000, &h, &err), MRD_OK);
    assert_int_equal(h.items, 1);
    req.query = "colour=red";
    mrd_err_clear(&err);
    assert_int_equal(hold_create(f->st, &req, 1000000, NULL, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "--query: 'colour' is not a filter"));
    req.query = NULL;
    mrd_err_clear(&err);
    assert_int_equal(hold_create(f->st, &req, 1000000, NULL, &err), MRD_E_INVAL);

    assert_int_equal(hold_renew(f->st, h.id, 90, 2000000, exp, &err), MRD_OK);
    assert_int_equal(hold_release(f->st, h.id, "done", 3000000, &err), MRD_OK);
    mrd_err_clear(&err);
    assert_int_equal(hold_renew(f->st, h.id, 90, 4000000, exp, &err), MRD_E_CONFLICT);
    mrd_err_clear(&err);
    assert_int_equal(hold_release(f->st, "00000000-0000-4000-8000-000000000000", NULL, 1, &err),
                     MRD_E_NOTFOUND);
    assert_int_equal(hold_days_parse("91", &(unsigned){0}, &err), MRD_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pattern_holds_indicators_and_referrers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_renew_release, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
