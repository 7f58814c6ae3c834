/* policy: every cell of docs/design.md §5's table, the TLP marking ids of both
 * schemes, and the properties that make leaks impossible (monotonic
 * levels, deny on anything unexpected). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "policy/policy.h"

/* Org keys of the cast. */
#define OWN 1
#define CONST 2
#define PART 3
#define PART2 4
#define CONST2 5

static struct policy_reader reader(int64_t org, enum policy_relation rel, bool grant,
                                   const char *community)
{
    struct policy_reader r = {0};

    r.org_id = org;
    r.relation = rel;
    r.has_read_grant = grant;
    r.community = community;
    r.community_len = community != NULL ? strlen(community) : 0;
    return r;
}

static struct policy_reader anon(bool public_read)
{
    struct policy_reader r = reader(0, POLICY_REL_PARTNER, false, "europe");

    r.anonymous = true;
    r.collection_public = public_read;
    return r;
}

static struct policy_object object(enum policy_tlp tlp, bool local, int64_t creator,
                                   const char *community)
{
    struct policy_object o = {0};

    o.tlp = tlp;
    o.local = local;
    o.creator_org = creator;
    o.community = community;
    o.community_len = community != NULL ? strlen(community) : 0;
    return o;
}

/* ---- CLEAR ---- */

static void test_clear(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader con = reader(CONST, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader nogrant = reader(PART, POLICY_REL_PARTNER, false, "europe");
    struct policy_reader own_nogrant = reader(OWN, POLICY_REL_OWN, false, "europe");
    struct policy_reader a_priv = anon(false);
    struct policy_reader a_pub = anon(true);
    struct policy_object o = object(POLICY_TLP_CLEAR, false, PART2, "asia");

    (void)state;
    assert_true(policy_may_read(&own, &o));
    assert_true(policy_may_read(&con, &o));
    assert_true(policy_may_read(&par, &o)); /* CLEAR travels anywhere */
    assert_false(policy_may_read(&nogrant, &o));
    assert_false(policy_may_read(&own_nogrant, &o)); /* the grant comes first */
    assert_false(policy_may_read(&a_priv, &o));
    assert_true(policy_may_read(&a_pub, &o));
    nogrant.collection_public = true;
    assert_true(policy_may_read(&nogrant, &o));
}

/* ---- GREEN ---- */

static void test_green(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader con = reader(CONST, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader par_asia = reader(PART, POLICY_REL_PARTNER, true, "asia");
    struct policy_reader par_nogrant = reader(PART, POLICY_REL_PARTNER, false, "europe");
    struct policy_reader a_pub = anon(true);
    struct policy_object eu_local = object(POLICY_TLP_GREEN, true, OWN, "europe");
    struct policy_object eu_peer = object(POLICY_TLP_GREEN, false, PART2, "europe");
    struct policy_object asia_peer = object(POLICY_TLP_GREEN, false, PART2, "asia");

    (void)state;
    assert_true(policy_may_read(&own, &eu_local));
    assert_true(policy_may_read(&own, &asia_peer));
    assert_true(policy_may_read(&con, &eu_local));
    assert_true(policy_may_read(&con, &asia_peer));
    /* partners: only within the community the object belongs to */
    assert_true(policy_may_read(&par, &eu_local));
    assert_true(policy_may_read(&par, &eu_peer));
    assert_false(policy_may_read(&par, &asia_peer));
    assert_true(policy_may_read(&par_asia, &asia_peer));
    assert_false(policy_may_read(&par_asia, &eu_local));
    assert_false(policy_may_read(&par_nogrant, &eu_local));
    assert_false(policy_may_read(&a_pub, &eu_local)); /* public opens CLEAR only */
    par_nogrant.collection_public = true;
    assert_false(policy_may_read(&par_nogrant, &eu_local));
}

/* A community that is a prefix of another is a different community. */
static void test_green_community_exact(void **state)
{
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "eu");
    struct policy_object o = object(POLICY_TLP_GREEN, true, OWN, "europe");
    struct policy_object none = object(POLICY_TLP_GREEN, true, OWN, NULL);

    (void)state;
    assert_false(policy_may_read(&par, &o));
    assert_false(policy_may_read(&par, &none));
    par.community = NULL;
    par.community_len = 0;
    assert_false(policy_may_read(&par, &o));
}

/* ---- AMBER ---- */

static void test_amber(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader con = reader(CONST, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader own_nogrant = reader(OWN, POLICY_REL_OWN, false, "europe");
    struct policy_reader a_pub = anon(true);
    struct policy_object local = object(POLICY_TLP_AMBER, true, CONST2, "europe");
    struct policy_object from_peer = object(POLICY_TLP_AMBER, false, PART2, "europe");
    struct policy_object local_asia = object(POLICY_TLP_AMBER, true, OWN, "asia");

    (void)state;
    assert_true(policy_may_read(&own, &local));
    assert_true(policy_may_read(&own, &from_peer));
    assert_true(policy_may_read(&con, &local));
    assert_true(policy_may_read(&con, &from_peer));
    /* partners: one hop only */
    assert_true(policy_may_read(&par, &local));
    assert_false(policy_may_read(&par, &from_peer));
    assert_false(policy_may_read(&par, &local_asia)); /* and never outside the community */
    assert_false(policy_may_read(&own_nogrant, &local));
    assert_false(policy_may_read(&a_pub, &local));
}

/* The partner who sent an AMBER object does not get it back as "local"
 * either: a partner's own objects are not created on this node. */
static void test_amber_partner_own_object(void **state)
{
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_object o =
        object(POLICY_TLP_AMBER, policy_origin_local(POLICY_REL_PARTNER, false), PART, "europe");

    (void)state;
    assert_false(o.local);
    assert_false(policy_may_read(&par, &o));
}

/* ---- AMBER+STRICT ---- */

static void test_amber_strict(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader con = reader(CONST, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader par_asia = reader(PART, POLICY_REL_PARTNER, true, "asia");
    struct policy_object local = object(POLICY_TLP_AMBER_STRICT, true, OWN, "europe");
    struct policy_object from_peer = object(POLICY_TLP_AMBER_STRICT, false, PART2, "europe");
    struct policy_object by_con = object(POLICY_TLP_AMBER_STRICT, true, CONST, "europe");

    (void)state;
    assert_true(policy_may_read(&own, &local));
    assert_true(policy_may_read(&own, &from_peer));
    assert_false(policy_may_read(&con, &local));
    assert_false(policy_may_read(&con, &from_peer));
    assert_false(policy_may_read(&con, &by_con)); /* the table says own only */
    assert_true(policy_may_read(&par, &local));
    assert_false(policy_may_read(&par, &from_peer));
    assert_false(policy_may_read(&par_asia, &local));
}

/* ---- RED ---- */

static void test_red(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader con = reader(CONST, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader con2 = reader(CONST2, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader par2 = reader(PART2, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader con_nogrant = reader(CONST, POLICY_REL_CONSTITUENT, false, "europe");
    struct policy_reader a_pub = anon(true);
    const int64_t rcpt[] = {PART};
    struct policy_object o = object(POLICY_TLP_RED, true, CONST, "europe");

    (void)state;
    /* no recipients: the creator only, not even the node's own team */
    assert_true(policy_may_read(&con, &o));
    assert_false(policy_may_read(&own, &o));
    assert_false(policy_may_read(&con2, &o));
    assert_false(policy_may_read(&par, &o));
    assert_false(policy_may_read(&con_nogrant, &o));
    assert_false(policy_may_read(&a_pub, &o));
    o.recipients = rcpt;
    o.n_recipients = 1;
    assert_true(policy_may_read(&par, &o));
    assert_false(policy_may_read(&par2, &o));
    assert_false(policy_may_read(&own, &o));
    assert_true(policy_may_read(&con, &o));
    /* unknown creator (0) matches nobody, not an anonymous 0 either */
    o.creator_org = 0;
    o.recipients = NULL;
    o.n_recipients = 0;
    assert_false(policy_may_read(&own, &o));
    a_pub.org_id = 0;
    assert_false(policy_may_read(&a_pub, &o));
}

/* ---- DELETE ---- */

/* A reader deletes only what it may read and its org wrote; the own org
 * anything it may read; an unknown writer (0) is nobody's. */
static void test_may_delete(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader con = reader(CONST, POLICY_REL_CONSTITUENT, true, "europe");
    struct policy_reader par = reader(PART, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader par2 = reader(PART2, POLICY_REL_PARTNER, true, "europe");
    struct policy_reader a_pub = anon(true);
    struct policy_object by_par = object(POLICY_TLP_GREEN, false, PART, "europe");
    struct policy_object by_own = object(POLICY_TLP_CLEAR, true, OWN, "europe");
    struct policy_object by_con = object(POLICY_TLP_GREEN, true, CONST, "europe");
    struct policy_object nobody = object(POLICY_TLP_CLEAR, false, 0, "europe");
    struct policy_object red = object(POLICY_TLP_RED, true, CONST, "europe");

    (void)state;
    assert_true(policy_may_delete(&par, &by_par));
    assert_false(policy_may_delete(&par2, &by_par)); /* reads it, did not write it */
    assert_true(policy_may_read(&par2, &by_par));
    assert_false(policy_may_delete(&par, &by_own));
    assert_false(policy_may_delete(&con, &by_own));
    assert_false(policy_may_delete(&par, &by_con));
    assert_true(policy_may_delete(&con, &by_con));
    assert_true(policy_may_delete(&own, &by_par));
    assert_true(policy_may_delete(&own, &by_con));
    assert_false(policy_may_delete(&par, &nobody));
    assert_true(policy_may_delete(&own, &nobody));
    assert_false(policy_may_delete(&a_pub, &by_own)); /* reads CLEAR, deletes nothing */
    assert_false(policy_may_delete(&a_pub, &nobody));
    /* what it may not read, not even the own org */
    assert_false(policy_may_delete(&own, &red));
    assert_true(policy_may_delete(&con, &red));
    by_par.writer_only = true;
    assert_true(policy_may_delete(&par, &by_par));
    assert_false(policy_may_delete(&own, &by_par));
}

/* ---- properties ---- */

/* Whatever the reader and object, a more restrictive level never allows
 * more than a less restrictive one (RED aside, which is recipient-based:
 * it is checked to never exceed AMBER+STRICT for non-recipients). */
static void test_monotonic(void **state)
{
    const enum policy_relation rels[] = {POLICY_REL_OWN, POLICY_REL_CONSTITUENT,
                                         POLICY_REL_PARTNER};
    const char *comms[] = {"europe", "asia"};

    (void)state;
    for (size_t ri = 0; ri < 3; ri++)
        for (int grant = 0; grant < 2; grant++)
            for (int pub = 0; pub < 2; pub++)
                for (int anonym = 0; anonym < 2; anonym++)
                    for (size_t ci = 0; ci < 2; ci++)
                        for (int local = 0; local < 2; local++) {
                            struct policy_reader r = reader(PART, rels[ri], grant != 0, "europe");
                            bool prev = true;

                            r.collection_public = pub != 0;
                            r.anonymous = anonym != 0;
                            for (int t = POLICY_TLP_CLEAR; t <= POLICY_TLP_AMBER_STRICT; t++) {
                                struct policy_object o =
                                    object((enum policy_tlp)t, local != 0, OWN, comms[ci]);
                                bool now = policy_may_read(&r, &o);
                                assert_false(now && !prev);
                                prev = now;
                            }
                            struct policy_object red =
                                object(POLICY_TLP_RED, local != 0, OWN, comms[ci]);
                            assert_false(policy_may_read(&r, &red));
                        }
}

static void test_out_of_range_denies(void **state)
{
    struct policy_reader own = reader(OWN, POLICY_REL_OWN, true, "europe");
    struct policy_reader weird = reader(OWN, (enum policy_relation)7, true, "europe");
    struct policy_object o = object((enum policy_tlp)9, true, OWN, "europe");
    struct policy_object g = object(POLICY_TLP_GREEN, true, OWN, "europe");

    (void)state;
    assert_false(policy_may_read(&own, &o));
    assert_false(policy_may_read(&weird, &g));
    own.org_id = 0; /* an org key of 0 is nobody */
    assert_false(policy_may_read(&own, &g));
}

/* ---- markings ---- */

static void test_marking_ids(void **state)
{
    static const struct {
        const char *id;
        enum policy_tlp tlp;
    } cases[] = {
        {POLICY_TLP1_WHITE_ID, POLICY_TLP_CLEAR},
        {POLICY_TLP2_CLEAR_ID, POLICY_TLP_CLEAR},
        {POLICY_TLP1_GREEN_ID, POLICY_TLP_GREEN},
        {POLICY_TLP2_GREEN_ID, POLICY_TLP_GREEN},
        {POLICY_TLP1_AMBER_ID, POLICY_TLP_AMBER},
        {POLICY_TLP2_AMBER_ID, POLICY_TLP_AMBER},
        {POLICY_TLP2_AMBER_STRICT_ID, POLICY_TLP_AMBER_STRICT},
        {POLICY_TLP1_RED_ID, POLICY_TLP_RED},
        {POLICY_TLP2_RED_ID, POLICY_TLP_RED},
    };
    enum policy_tlp t;
    const char *other = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41db";
    const char *red_upper = "marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1";

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(policy_tlp_of_marking(cases[i].id, strlen(cases[i].id), &t));
        assert_int_equal(t, cases[i].tlp);
    }
    assert_false(policy_tlp_of_marking(other, strlen(other), &t));
    /* (ptr, len): a prefix of a real id is not that id */
    assert_false(policy_tlp_of_marking(POLICY_TLP1_RED_ID, 20, &t));
    /* an upper-case UUID is the same marking, never the (lower) default */
    assert_true(policy_tlp_of_marking(red_upper, strlen(red_upper), &t));
    assert_int_equal(t, POLICY_TLP_RED);
}

/* The marking-definition files shipped in testdata carry exactly the ids
 * and levels policy knows. */
static void test_marking_files(void **state)
{
    static const struct {
        const char *file;
        enum policy_tlp tlp;
    } files[] = {
        {"tlp1/tlp-white.json", POLICY_TLP_CLEAR},
        {"tlp1/tlp-green.json", POLICY_TLP_GREEN},
        {"tlp1/tlp-amber.json", POLICY_TLP_AMBER},
        {"tlp1/tlp-red.json", POLICY_TLP_RED},
        {"tlp2/tlp-clear.json", POLICY_TLP_CLEAR},
        {"tlp2/tlp-green.json", POLICY_TLP_GREEN},
        {"tlp2/tlp-amber.json", POLICY_TLP_AMBER},
        {"tlp2/tlp-amber-strict.json", POLICY_TLP_AMBER_STRICT},
        {"tlp2/tlp-red.json", POLICY_TLP_RED},
    };
    const char *dir = getenv("MERIDIAN_MARKINGS");
    char path[4096];

    (void)state;
    if (dir == NULL)
        dir = MERIDIAN_MARKINGS_DIR;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        json_error_t jerr;
        json_t *m;
        enum policy_tlp t;
        const json_t *id;

        snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
        m = json_load_file(path, 0, &jerr);
        if (m == NULL)
            fail_msg("test data file %s: %s", path, jerr.text);
        id = json_object_get(m, "id");
        assert_true(policy_tlp_of_marking(json_string_value(id), json_string_length(id), &t));
        assert_int_equal(t, files[i].tlp);
        json_decref(m);
    }
}

static enum policy_tlp tlp_of(const char *json, enum policy_tlp dflt)
{
    json_t *v = json_loads(json, 0, NULL);
    enum policy_tlp t;

    assert_non_null(v);
    t = policy_tlp_of_object(v, dflt);
    json_decref(v);
    return t;
}

static void test_tlp_of_object(void **state)
{
    (void)state;
    /* no marking: the collection default */
    assert_int_equal(tlp_of("{\"type\":\"indicator\"}", POLICY_TLP_GREEN), POLICY_TLP_GREEN);
    assert_int_equal(tlp_of("{\"type\":\"indicator\"}", POLICY_TLP_AMBER), POLICY_TLP_AMBER);
    assert_int_equal(tlp_of("{\"object_marking_refs\":[]}", POLICY_TLP_GREEN), POLICY_TLP_GREEN);
    /* TLP 1.0 white = TLP 2.0 clear, below a GREEN default */
    assert_int_equal(
        tlp_of("{\"object_marking_refs\":[\"" POLICY_TLP1_WHITE_ID "\"]}", POLICY_TLP_GREEN),
        POLICY_TLP_CLEAR);
    assert_int_equal(
        tlp_of("{\"object_marking_refs\":[\"" POLICY_TLP2_CLEAR_ID "\"]}", POLICY_TLP_RED),
        POLICY_TLP_CLEAR);
    /* non-TLP markings are ignored: default applies */
    assert_int_equal(tlp_of("{\"object_marking_refs\":[\"marking-definition--00000000-0000-4000-"
                            "8000-000000000000\"]}",
                            POLICY_TLP_AMBER),
                     POLICY_TLP_AMBER);
    /* several: the most restrictive wins, whatever the order and scheme */
    assert_int_equal(tlp_of("{\"object_marking_refs\":[\"" POLICY_TLP1_RED_ID
                            "\",\"" POLICY_TLP2_GREEN_ID "\"]}",
                            POLICY_TLP_GREEN),
                     POLICY_TLP_RED);
    assert_int_equal(tlp_of("{\"object_marking_refs\":[\"" POLICY_TLP2_GREEN_ID
                            "\",\"" POLICY_TLP2_AMBER_STRICT_ID "\"]}",
                            POLICY_TLP_GREEN),
                     POLICY_TLP_AMBER_STRICT);
    /* a granular TLP marking raises the whole object */
    assert_int_equal(tlp_of("{\"object_marking_refs\":[\"" POLICY_TLP2_CLEAR_ID "\"],"
                            "\"granular_markings\":[{\"marking_ref\":\"" POLICY_TLP1_AMBER_ID
                            "\",\"selectors\":[\"description\"]}]}",
                            POLICY_TLP_GREEN),
                     POLICY_TLP_AMBER);
    /* not an object: default */
    assert_int_equal(tlp_of("[1]", POLICY_TLP_GREEN), POLICY_TLP_GREEN);
    assert_int_equal(
        tlp_of("{\"object_marking_refs\":\"" POLICY_TLP1_RED_ID "\"}", POLICY_TLP_GREEN),
        POLICY_TLP_GREEN);
}

static void test_names(void **state)
{
    enum policy_tlp t;
    enum policy_relation r;
    struct mrd_err err = {0};

    (void)state;
    for (int i = 0; i < POLICY_TLP_COUNT; i++) {
        const char *n = policy_tlp_name((enum policy_tlp)i);
        assert_int_equal(policy_tlp_parse(n, strlen(n), &t, NULL), MRD_OK);
        assert_int_equal(t, i);
    }
    assert_int_equal(policy_tlp_parse("WHITE", 5, &t, NULL), MRD_OK);
    assert_int_equal(t, POLICY_TLP_CLEAR);
    assert_int_equal(policy_tlp_parse("amber-strict", 12, &t, NULL), MRD_OK);
    assert_int_equal(t, POLICY_TLP_AMBER_STRICT);
    assert_int_equal(policy_tlp_parse("amber", 4, &t, NULL), MRD_E_INVAL); /* "ambe" */
    assert_int_equal(policy_tlp_parse("purple", 6, &t, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "purple"));
    assert_string_equal(policy_tlp_name((enum policy_tlp)42), "unknown");
    assert_int_equal(policy_relation_parse("partner", 7, &r, NULL), MRD_OK);
    assert_int_equal(r, POLICY_REL_PARTNER);
    assert_int_equal(policy_relation_parse("Own", 3, &r, NULL), MRD_E_INVAL);
    assert_string_equal(policy_relation_name(POLICY_REL_CONSTITUENT), "constituent");
    assert_true(policy_origin_local(POLICY_REL_OWN, false));
    assert_true(policy_origin_local(POLICY_REL_CONSTITUENT, false));
    assert_false(policy_origin_local(POLICY_REL_PARTNER, false));
    assert_false(policy_origin_local(POLICY_REL_OWN, true));
}

static void ingest(const json_t *o, bool here, bool change, enum policy_tlp dflt,
                   enum policy_tlp want, bool want_write)
{
    enum policy_tlp t = (enum policy_tlp)99;
    bool w = !want_write;

    policy_tlp_ingest(o, here, change, dflt, &t, &w);
    assert_int_equal(t, want);
    assert_int_equal(w, want_write);
}

/* Whatever default gave an object created here its level, the level is
 * written into it; a received unmarked object is never more open than
 * GREEN, and is marked unless a signature forbids it (issue 17). Marked
 * objects and marking definitions are left alone. */
static void test_tlp_ingest(void **state)
{
    json_t *o = json_pack("{s:s, s:s}", "type", "indicator", "id",
                          "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    json_t *md = json_pack("{s:s}", "type", "marking-definition");
    json_t *marked =
        json_pack("{s:s, s:[s]}", "type", "indicator", "object_marking_refs", POLICY_TLP1_GREEN_ID);
    struct mrd_err err = {0};

    (void)state;
    /* created here: the default, written in (CLEAR and GREEN too) */
    ingest(o, true, true, POLICY_TLP_CLEAR, POLICY_TLP_CLEAR, true);
    ingest(o, true, true, POLICY_TLP_GREEN, POLICY_TLP_GREEN, true);
    ingest(o, true, true, POLICY_TLP_RED, POLICY_TLP_RED, true);
    /* received: at least GREEN; written in when unsigned */
    ingest(o, false, true, POLICY_TLP_CLEAR, POLICY_TLP_GREEN, true);
    ingest(o, false, false, POLICY_TLP_CLEAR, POLICY_TLP_GREEN, false);
    ingest(o, false, true, POLICY_TLP_AMBER, POLICY_TLP_AMBER, true);
    /* marked objects keep their marking; definitions are not marked */
    ingest(marked, false, true, POLICY_TLP_RED, POLICY_TLP_GREEN, false);
    ingest(marked, true, true, POLICY_TLP_CLEAR, POLICY_TLP_GREEN, false);
    ingest(md, true, true, POLICY_TLP_AMBER, POLICY_TLP_AMBER, false);
    ingest(md, false, true, POLICY_TLP_CLEAR, POLICY_TLP_GREEN, false);

    assert_int_equal(policy_tlp_mark(o, POLICY_TLP_AMBER_STRICT, &err), MRD_OK);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(o, "object_marking_refs"), 0)),
        POLICY_TLP2_AMBER_STRICT_ID);
    /* once marked, the object carries its level whatever the reader's default */
    assert_int_equal(policy_tlp_of_object(o, POLICY_TLP_CLEAR), POLICY_TLP_AMBER_STRICT);
    ingest(o, false, true, POLICY_TLP_CLEAR, POLICY_TLP_AMBER_STRICT, false);

    /* an existing non-TLP marking list is extended, not replaced */
    json_object_set_new(
        marked, "object_marking_refs",
        json_pack("[s]", "marking-definition--1d2f7e33-56b1-4b3c-9d8e-6a0f2c4b7e11"));
    ingest(marked, true, true, POLICY_TLP_RED, POLICY_TLP_RED, true);
    assert_int_equal(policy_tlp_mark(marked, POLICY_TLP_RED, &err), MRD_OK);
    assert_int_equal(json_array_size(json_object_get(marked, "object_marking_refs")), 2);
    assert_int_equal(policy_tlp_of_object(marked, POLICY_TLP_CLEAR), POLICY_TLP_RED);
    json_decref(o);
    json_decref(md);
    json_decref(marked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_green),
        cmocka_unit_test(test_green_community_exact),
        cmocka_unit_test(test_amber),
        cmocka_unit_test(test_amber_partner_own_object),
        cmocka_unit_test(test_amber_strict),
        cmocka_unit_test(test_red),
        cmocka_unit_test(test_may_delete),
        cmocka_unit_test(test_monotonic),
        cmocka_unit_test(test_out_of_range_denies),
        cmocka_unit_test(test_marking_ids),
        cmocka_unit_test(test_marking_files),
        cmocka_unit_test(test_tlp_of_object),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_tlp_ingest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
