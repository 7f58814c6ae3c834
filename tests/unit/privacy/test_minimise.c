/* Unit tests for privacy/'s outbound minimisation: the policy parser, the
 * safe defaults, each action, scopes, and signatures after minimisation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "crypto/crypto.h"
#include "privacy/privacy.h"

static const char *const sighting_text =
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
    "\"id\":\"sighting--6b0c6e2c-1f1a-4b57-9f3a-3c4c4f6b7e11\","
    "\"created\":\"2026-03-01T10:00:00.000Z\",\"modified\":\"2026-03-01T10:00:00.000Z\","
    "\"sighting_of_ref\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"first_seen\":\"2026-03-01T09:17:42.123Z\",\"count\":3,"
    "\"x_sensor_host\":\"fw-7\",\"description\":\"from 10.1.2.3\","
    "\"x_keep\":1}";

static json_t *parse(const char *text)
{
    json_t *v = NULL;

    assert_int_equal(mrd_json_parse(text, strlen(text), NULL, &v, NULL), MRD_OK);
    return v;
}

static struct privacy_policy *policy(const char *text)
{
    struct privacy_policy *p = NULL;
    struct mrd_err err = {0};

    if (privacy_policy_parse(text, text != NULL ? strlen(text) : 0, &p, &err) != MRD_OK)
        fail_msg("policy: %s", err.msg);
    return p;
}

static enum privacy_outcome run(const struct privacy_policy *p, const struct privacy_scope *s,
                                json_t *obj)
{
    enum privacy_outcome o;

    assert_int_equal(privacy_minimise(p, s, obj, &o, NULL), MRD_OK);
    return o;
}

static const char *str(const json_t *obj, const char *k)
{
    return json_string_value(json_object_get(obj, k));
}

static void test_defaults(void **state)
{
    struct privacy_policy *p = policy(NULL);
    struct privacy_scope s = {.community = "api1", .org = "partner"};
    json_t *obj = parse(sighting_text);
    json_t *inside = parse("{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\","
                           "\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\","
                           "\"value\":\"192.168.7.9\"}");
    json_t *outside = parse("{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\","
                            "\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\","
                            "\"value\":\"198.51.100.7\"}");

    (void)state;
    assert_int_equal(run(p, &s, obj), PRIVACY_MINIMISED);
    assert_null(json_object_get(obj, "x_sensor_host"));
    assert_null(json_object_get(obj, "x_keep"));
    assert_null(json_object_get(obj, "description")); /* mentions an internal address */
    assert_int_equal(json_integer_value(json_object_get(obj, "count")), 3);
    assert_int_equal(run(p, &s, inside), PRIVACY_WITHHELD);
    assert_int_equal(run(p, &s, outside), PRIVACY_AS_IS);
    assert_true(privacy_policy_is_internal(p, "fd00::1", 7));
    assert_true(privacy_policy_is_internal(p, "10.0.0.0/16", 11));
    assert_false(privacy_policy_is_internal(p, "10.0.0.0/7", 10)); /* wider than 10/8 */
    assert_false(privacy_policy_is_internal(p, "2001:db8::1", 11));
    json_decref(obj);
    json_decref(inside);
    json_decref(outside);
    privacy_policy_free(p);
}

static void test_declared_prefixes_and_custom(void **state)
{
    struct privacy_policy *p =
        policy("{\"internal_prefixes\":[\"198.51.100.0/24\"],\"forward_custom\":[\"x_keep\"]}");
    struct privacy_scope s = {0};
    json_t *obj = parse(sighting_text);

    (void)state;
    assert_int_equal(run(p, &s, obj), PRIVACY_MINIMISED);
    assert_int_equal(json_integer_value(json_object_get(obj, "x_keep")), 1);
    assert_null(json_object_get(obj, "x_sensor_host"));
    /* 10/8 is no longer internal once prefixes are declared */
    assert_string_equal(str(obj, "description"), "from 10.1.2.3");
    assert_true(privacy_policy_is_internal(p, "198.51.100.9", 12));
    json_decref(obj);
    privacy_policy_free(p);
}

static void test_generalise(void **state)
{
    struct privacy_policy *p = policy("{\"rules\":["
                                      "{\"scope\":\"all\",\"type\":\"ipv4-addr\",\"property\":"
                                      "\"value\",\"action\":\"generalise\"},"
                                      "{\"scope\":\"all\",\"type\":\"ipv6-addr\",\"property\":"
                                      "\"value\",\"action\":\"generalise\"},"
                                      "{\"scope\":\"all\",\"type\":\"email-addr\",\"property\":"
                                      "\"value\",\"action\":\"generalise\"},"
                                      "{\"scope\":\"all\",\"type\":\"sighting\",\"property\":"
                                      "\"first_seen\",\"action\":\"generalise\"},"
                                      "{\"scope\":\"all\",\"type\":\"sighting\",\"property\":"
                                      "\"count\",\"action\":\"generalise\"}]}");
    struct privacy_scope s = {0};
    json_t *v4 = parse("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-"
                       "13d6226742dd\",\"value\":\"198.51.100.7\"}");
    json_t *v6 = parse("{\"type\":\"ipv6-addr\",\"id\":\"ipv6-addr--1e61d36c-a16c-53b7-a80f-"
                       "2a00161c96b1\",\"value\":\"2001:db8:aaaa:bbbb::1\"}");
    json_t *mail = parse("{\"type\":\"email-addr\",\"id\":\"email-addr--2d77a846-6264-5d51-b586-"
                         "e43822ea1ea3\",\"value\":\"alice@example.org\"}");
    json_t *sig = parse(sighting_text);

    (void)state;
    assert_int_equal(run(p, &s, v4), PRIVACY_MINIMISED);
    assert_string_equal(str(v4, "value"), "198.51.100.0/24");
    /* the id follows the value (STIX 2.1 §2.9), so it does not reveal it:
     * UUIDv5 of {"value":"198.51.100.0/24"} */
    assert_string_not_equal(str(v4, "id"), "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd");
    assert_int_equal(strncmp(str(v4, "id"), "ipv4-addr--", 11), 0);
    assert_int_equal(run(p, &s, v6), PRIVACY_MINIMISED);
    assert_string_equal(str(v6, "value"), "2001:db8:aaaa::/48");
    assert_int_equal(run(p, &s, mail), PRIVACY_MINIMISED);
    assert_string_equal(str(mail, "value"), "example.org");
    assert_int_equal(run(p, &s, sig), PRIVACY_MINIMISED);
    assert_string_equal(str(sig, "first_seen"), "2026-03-01T09:00:00Z");
    assert_null(json_object_get(sig, "count")); /* a number cannot be generalised: dropped */
    json_decref(v4);
    json_decref(v6);
    json_decref(mail);
    json_decref(sig);
    privacy_policy_free(p);
}

static void test_pseudonymise_and_scopes(void **state)
{
    /* the reference Crypto-PAn sample key; 128.11.68.132 -> 135.242.180.132
     * is in its published sample trace */
    struct privacy_policy *p = policy(
        "{\"rules\":[{\"scope\":\"community:c1\",\"type\":\"ipv4-addr\",\"property\":\"value\","
        "\"action\":\"pseudonymise\",\"key\":"
        "\"1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202\"},"
        "{\"scope\":\"org:acme\",\"type\":\"*\",\"property\":\"description\",\"action\":\"drop\"},"
        "{\"scope\":\"peer:north\",\"type\":\"*\",\"property\":\"name\",\"action\":\"drop\"},"
        "{\"scope\":\"export\",\"type\":\"*\",\"property\":\"labels\",\"action\":\"drop\"}]}");
    struct privacy_scope c1 = {.community = "c1"}, c2 = {.community = "c2"};
    struct privacy_scope acme = {.org = "acme"}, north = {.peer = "north"},
                         exp = {.is_export = true};
    const char *ind_text = "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"description\":\"d\","
                           "\"name\":\"n\",\"labels\":[\"l\"]}";
    json_t *a = parse("{\"type\":\"ipv4-addr\",\"value\":\"128.11.68.132\"}");
    json_t *b = parse("{\"type\":\"ipv4-addr\",\"value\":\"128.11.68.132\"}");
    json_t *o;

    (void)state;
    assert_int_equal(run(p, &c1, a), PRIVACY_MINIMISED);
    assert_string_equal(str(a, "value"), "135.242.180.132");
    assert_int_equal(run(p, &c2, b), PRIVACY_AS_IS);
    assert_string_equal(str(b, "value"), "128.11.68.132");
    o = parse(ind_text);
    assert_int_equal(run(p, &acme, o), PRIVACY_MINIMISED);
    assert_null(json_object_get(o, "description"));
    assert_non_null(json_object_get(o, "name"));
    json_decref(o);
    o = parse(ind_text);
    assert_int_equal(run(p, &north, o), PRIVACY_MINIMISED);
    assert_null(json_object_get(o, "name"));
    assert_non_null(json_object_get(o, "labels"));
    json_decref(o);
    o = parse(ind_text);
    assert_int_equal(run(p, &exp, o), PRIVACY_MINIMISED);
    assert_null(json_object_get(o, "labels"));
    assert_non_null(json_object_get(o, "description"));
    json_decref(o);
    json_decref(a);
    json_decref(b);
    privacy_policy_free(p);
}

static void test_signatures(void **state)
{
    struct privacy_policy *p =
        policy("{\"rules\":[{\"scope\":\"all\",\"type\":\"sighting\",\"property\":\"first_seen\","
               "\"action\":\"generalise\"}]}");
    struct privacy_scope s = {0};
    uint8_t seed[CRYPTO_SEED_LEN];
    struct crypto_key *k = NULL;
    struct crypto_keyring *kr = NULL;
    struct crypto_verify_result r;
    json_t *sd = parse(sighting_text), *whole = parse(sighting_text), *clean;
    json_t *sco = parse("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.7\"}");
    struct privacy_policy *g =
        policy("{\"rules\":[{\"scope\":\"all\",\"type\":\"ipv4-addr\",\"property\":\"value\","
               "\"action\":\"generalise\"}]}");

    (void)state;
    memset(seed, 3, sizeof(seed));
    assert_int_equal(crypto_key_from_seed(seed, &k, NULL), MRD_OK);
    assert_int_equal(crypto_keyring_new(&kr, NULL), MRD_OK);
    assert_int_equal(crypto_keyring_add(kr, crypto_key_public(k), "a", 1, NULL), MRD_OK);
    /* created here: both blocks; minimised, the SD block still verifies */
    assert_int_equal(crypto_object_sd_sign(sd, k, NULL), MRD_OK);
    assert_int_equal(crypto_object_sign(sd, k, NULL), MRD_OK);
    assert_int_equal(run(p, &s, sd), PRIVACY_MINIMISED);
    assert_false(crypto_object_has_sig(sd));
    assert_int_equal(crypto_object_verify(sd, kr, &r, NULL), MRD_OK);
    assert_int_equal(r.verdict, CRYPTO_VALID);
    assert_int_equal(r.sd_withheld, 4); /* x_sensor_host, x_keep, description, first_seen */
    assert_int_equal(r.sd_transformed, 1);
    assert_string_equal(str(sd, "first_seen"), "2026-03-01T09:00:00Z");
    /* signed in full by another node: a needed change withholds it */
    assert_int_equal(crypto_object_sign(whole, k, NULL), MRD_OK);
    assert_int_equal(run(p, &s, whole), PRIVACY_WITHHELD);
    /* nothing to change: sent as is, signature intact */
    clean = parse("{\"type\":\"indicator\",\"id\":\"indicator--1\",\"name\":\"n\"}");
    assert_int_equal(crypto_object_sign(clean, k, NULL), MRD_OK);
    assert_int_equal(run(p, &s, clean), PRIVACY_AS_IS);
    /* a signed SCO whose value would change: its id would give it away */
    assert_int_equal(crypto_object_sd_sign(sco, k, NULL), MRD_OK);
    assert_int_equal(run(g, &s, sco), PRIVACY_WITHHELD);
    json_decref(sco);
    json_decref(clean);
    json_decref(whole);
    json_decref(sd);
    crypto_keyring_free(kr);
    crypto_key_free(k);
    privacy_policy_free(g);
    privacy_policy_free(p);
}

static void test_bytes(void **state)
{
    struct privacy_policy *p = policy(NULL);
    struct privacy_scope s = {0};
    struct mrd_buf out;
    enum privacy_outcome o;
    const char *clean = "{\"type\":\"indicator\",  \"id\":\"indicator--1\"}";

    (void)state;
    mrd_buf_init(&out, 1 << 20);
    assert_int_equal(privacy_minimise_bytes(p, &s, clean, strlen(clean), &out, &o, NULL), MRD_OK);
    assert_int_equal(o, PRIVACY_AS_IS);
    assert_int_equal(out.len, strlen(clean)); /* the stored bytes, untouched */
    mrd_buf_reset(&out);
    assert_int_equal(
        privacy_minimise_bytes(p, &s, sighting_text, strlen(sighting_text), &out, &o, NULL),
        MRD_OK);
    assert_int_equal(o, PRIVACY_MINIMISED);
    assert_null(strstr(out.data, "x_sensor_host"));
    mrd_buf_release(&out);
    privacy_policy_free(p);
}

/* Which objects a signing node gives the selective-disclosure block: only
 * those some reader's minimisation could change. */
static void test_may_minimise(void **state)
{
    struct privacy_policy *dflt = policy(NULL);
    struct privacy_policy *ruled =
        policy("{\"forward_custom\":[\"x_keep\"],\"rules\":[{\"scope\":\"org:p\","
               "\"type\":\"indicator\",\"property\":\"name\",\"action\":\"drop\"}]}");
    json_t *sighting = parse(sighting_text);
    json_t *clean_sighting = parse("{\"type\":\"sighting\",\"id\":\"sighting--1\",\"count\":2,"
                                   "\"description\":\"from 198.51.100.7\"}");
    json_t *indicator = parse("{\"type\":\"indicator\",\"id\":\"indicator--1\","
                              "\"name\":\"n\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\"}");
    json_t *custom = parse("{\"type\":\"indicator\",\"id\":\"indicator--1\",\"x_keep\":1}");

    (void)state;
    /* defaults: internal addresses in a sighting, any x_ property */
    assert_true(privacy_may_minimise(dflt, sighting));
    assert_false(privacy_may_minimise(dflt, clean_sighting));
    assert_false(privacy_may_minimise(dflt, indicator)); /* patterns are not sensor data */
    assert_true(privacy_may_minimise(dflt, custom));
    /* a rule for the type and property, whatever its scope; forward_custom */
    assert_true(privacy_may_minimise(ruled, indicator));
    assert_false(privacy_may_minimise(ruled, custom));
    json_decref(sighting);
    json_decref(clean_sighting);
    json_decref(indicator);
    json_decref(custom);
    privacy_policy_free(dflt);
    privacy_policy_free(ruled);
}

static void test_policy_errors(void **state)
{
    static const char *const bad[][2] = {
        {"[]", "not a JSON object"},
        {"{\"rule\":[]}", "unknown member \"rule\""},
        {"{\"internal_prefixes\":[\"10.0.0.0/33\"]}", "internal_prefixes[0]"},
        {"{\"forward_custom\":[\"name\"]}", "forward_custom[0]"},
        {"{\"rules\":[{\"scope\":\"everyone\",\"type\":\"*\",\"property\":\"a\",\"action\":"
         "\"drop\"}]}",
         "rules[0].scope"},
        {"{\"rules\":[{\"scope\":\"all\",\"type\":\"*\",\"property\":\"id\",\"action\":\"drop\"}]}",
         "never withheld"},
        {"{\"rules\":[{\"scope\":\"all\",\"type\":\"*\",\"property\":\"a\",\"action\":\"hide\"}]}",
         "rules[0].action"},
        {"{\"rules\":[{\"scope\":\"all\",\"type\":\"*\",\"property\":\"a\",\"action\":"
         "\"pseudonymise\"}]}",
         "key"},
        {"{\"rules\":[{\"scope\":\"all\",\"type\":\"*\",\"property\":\"a\",\"action\":"
         "\"pseudonymise\",\"key\":\"zz\"}]}",
         "rules[0].key"},
        {"{\"rules\":[{\"scope\":\"all\",\"type\":\"*\",\"property\":\"a\",\"action\":\"drop\","
         "\"x\":1}]}",
         "unknown member \"x\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct privacy_policy *p = NULL;
        struct mrd_err err = {0};
        assert_int_not_equal(privacy_policy_parse(bad[i][0], strlen(bad[i][0]), &p, &err), MRD_OK);
        assert_null(p);
        if (strstr(err.msg, bad[i][1]) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i][1]);
    }
}

/* ---- privacy_live: the policy in force, replaced whole ---- */

static const char *const drop_count =
    "{\"rules\":[{\"scope\":\"all\",\"type\":\"sighting\",\"property\":\"count\","
    "\"action\":\"drop\"}]}";

/* Whether p drops a sighting's count (the defaults keep it). */
static bool drops_count(const struct privacy_policy *p)
{
    struct privacy_scope s = {.org = "north"};
    json_t *o = parse(sighting_text);
    bool dropped;

    (void)run(p, &s, o);
    dropped = json_object_get(o, "count") == NULL;
    json_decref(o);
    return dropped;
}

struct fake_source {
    const char *next; /* the policy text the next reload returns; NULL: unchanged */
    bool fail;        /* the next reload fails */
    int errors;
    int asked; /* reloads asked for */
};

static enum mrd_code fake_reload(void *ctx, struct privacy_policy **ret_new, struct mrd_err *err)
{
    struct fake_source *f = ctx;

    *ret_new = NULL;
    f->asked++;
    if (f->fail) {
        f->fail = false;
        return mrd_err_set(err, MRD_E_PARSE, "privacy policy: rules[0]: bad");
    }
    if (f->next == NULL)
        return MRD_OK;
    *ret_new = policy(f->next);
    f->next = NULL;
    return MRD_OK;
}

static void count_error(void *ctx, const struct mrd_err *err)
{
    struct fake_source *f = ctx;

    assert_non_null(strstr(err->msg, "rules[0]"));
    f->errors++;
}

static void test_live_reload_is_whole_and_keeps_old_readers(void **state)
{
    struct fake_source f = {0};
    struct privacy_live_source src = {.reload = fake_reload, .ctx = &f};
    struct privacy_live *l = NULL;
    struct privacy_policy *old, *cur;

    (void)state;
    assert_int_equal(privacy_live_new(policy(NULL), &src, &l, NULL), MRD_OK);
    privacy_live_on_error(l, count_error, &f);
    old = privacy_live_get(l);
    assert_false(drops_count(old));
    /* the source changed: the next get has the new policy ... */
    f.next = drop_count;
    cur = privacy_live_get(l);
    assert_true(drops_count(cur));
    /* ... while a read that started before keeps the old one, intact */
    assert_false(drops_count(old));
    privacy_policy_free(old);
    privacy_policy_free(cur);
    /* a source that fails leaves the policy in force and says so */
    f.fail = true;
    cur = privacy_live_get(l);
    assert_int_equal(f.errors, 1);
    assert_true(drops_count(cur));
    privacy_policy_free(cur);
    /* set replaces it too */
    privacy_live_set(l, policy(NULL));
    cur = privacy_live_get(l);
    assert_false(drops_count(cur));
    privacy_policy_free(cur);
    privacy_live_free(l);
    /* consumed even on failure: no leak when there is nothing to hold */
    assert_int_equal(privacy_live_new(NULL, NULL, &l, NULL), MRD_E_INVAL);
}

/* With check_ms, the source is asked by the first get and then not again
 * within the interval (reads cost no stat); privacy_live_recheck makes
 * the next get ask. */
static void test_live_checks_at_most_once_an_interval(void **state)
{
    struct fake_source f = {0};
    struct privacy_live_source src = {.reload = fake_reload, .ctx = &f, .check_ms = 3600000};
    struct privacy_live *l = NULL;
    struct privacy_policy *cur;

    (void)state;
    assert_int_equal(privacy_live_new(policy(NULL), &src, &l, NULL), MRD_OK);
    cur = privacy_live_get(l);
    assert_int_equal(f.asked, 1);
    privacy_policy_free(cur);
    /* changed, but the interval has not passed: not asked, old policy */
    f.next = drop_count;
    for (int i = 0; i < 100; i++) {
        cur = privacy_live_get(l);
        assert_false(drops_count(cur));
        privacy_policy_free(cur);
    }
    assert_int_equal(f.asked, 1);
    /* told: the next get asks, and has the new policy */
    privacy_live_recheck(l);
    cur = privacy_live_get(l);
    assert_int_equal(f.asked, 2);
    assert_true(drops_count(cur));
    privacy_policy_free(cur);
    cur = privacy_live_get(l);
    assert_int_equal(f.asked, 2);
    privacy_policy_free(cur);
    privacy_live_free(l);
}

struct reader_arg {
    struct privacy_live *l;
    bool mixed; /* a read saw two policies */
};

static void *reader(void *arg)
{
    struct reader_arg *a = arg;

    for (int i = 0; i < 300; i++) {
        struct privacy_policy *p = privacy_live_get(a->l);
        bool d1 = drops_count(p), d2 = drops_count(p);
        /* the policy a read holds does not change under it (nor is it
         * freed: ASan) */
        if (d1 != d2)
            a->mixed = true;
        privacy_policy_free(p);
    }
    return NULL;
}

/* Readers on other threads while the policy is replaced again and again:
 * each read sees one whole policy, and nothing is freed under it (ASan). */
static void test_live_replaced_under_concurrent_readers(void **state)
{
    struct privacy_live *l = NULL;
    struct reader_arg a[2] = {{0}};
    pthread_t t[2];

    (void)state;
    assert_int_equal(privacy_live_new(policy(NULL), NULL, &l, NULL), MRD_OK);
    for (int i = 0; i < 2; i++) {
        a[i].l = l;
        assert_int_equal(pthread_create(&t[i], NULL, reader, &a[i]), 0);
    }
    for (int i = 0; i < 200; i++)
        privacy_live_set(l, policy(i % 2 == 0 ? drop_count : NULL));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_false(a[i].mixed);
    }
    privacy_live_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_declared_prefixes_and_custom),
        cmocka_unit_test(test_generalise),
        cmocka_unit_test(test_pseudonymise_and_scopes),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_may_minimise),
        cmocka_unit_test(test_live_reload_is_whole_and_keeps_old_readers),
        cmocka_unit_test(test_live_checks_at_most_once_an_interval),
        cmocka_unit_test(test_live_replaced_under_concurrent_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
