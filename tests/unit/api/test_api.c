/* api: the route table (adding, matching, parameters, 405 vs 404), the
 * Cookie header parser and the CSRF key kept in the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"
#include "core/arena.h"

static void noop(struct api_req *r)
{
    (void)r;
}

static const struct api_route routes[] = {
    {"GET", "search", 0, 0, noop, "a"},        {"POST", "search", 0, 65536, noop, "b"},
    {"GET", "objects/{id}", 0, 0, noop, "c"},  {"GET", "objects/{id}/raw/", 0, 0, noop, "d"},
    {"GET", "holds", API_F_OWN, 0, noop, "e"},
};

static struct api_router *table(void)
{
    struct api_router *rt = calloc(1, sizeof(*rt));
    struct mrd_err err = {0};

    assert_non_null(rt);
    assert_int_equal(api_router_add(rt, routes, 5, NULL, &err), MRD_OK);
    return rt;
}

static const struct api_entry *find(struct api_router *rt, struct mrd_arena *a, const char *m,
                                    const char *path, bool *known, struct api_split *s)
{
    api__split_path(path, a, s);
    return api__find_route(rt, m, s, known);
}

static void test_add_rejects_bad_routes(void **state)
{
    struct api_router *rt = table();
    struct mrd_err err = {0};
    const struct api_route dup = {"GET", "objects/{other}", 0, 0, noop, ""};
    const struct api_route bad[] = {
        {"PATCH", "x", 0, 0, noop, ""},
        {"GET", "/x", 0, 0, noop, ""},
        {"GET", "a//b", 0, 0, noop, ""},
        {"GET", "a/{", 0, 0, noop, ""},
        {"GET", "x", 0, 0, NULL, ""},
        {"GET", "a/{x}y", 0, 0, noop, ""},
        {"GET", "{a}/{b}/{c}/{d}/{e}", 0, 0, noop, ""},
    };

    (void)state;
    /* the same shape under another parameter name is the same route */
    assert_int_equal(api_router_add(rt, &dup, 1, NULL, &err), MRD_E_EXISTS);
    assert_non_null(strstr(err.msg, "objects/{other}"));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mrd_err_clear(&err);
        assert_int_not_equal(api_router_add(rt, &bad[i], 1, NULL, &err), MRD_OK);
    }
    assert_int_equal(api_router_count(rt), 5);
    assert_string_equal(api_router_route(rt, 1)->summary, "b");
    assert_null(api_router_route(rt, 5));
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->routes[i].nseg; k++)
            free((void *)(uintptr_t)rt->routes[i].seg[k]);
    free(rt);
}

static void test_match(void **state)
{
    struct api_router *rt = table();
    struct mrd_arena a;
    struct api_split s;
    const struct api_entry *e;
    bool known;

    (void)state;
    mrd_arena_init(&a, 1 << 20);
    e = find(rt, &a, "GET", "/api/v1/search", &known, &s);
    assert_non_null(e);
    assert_string_equal(e->route.summary, "a");
    e = find(rt, &a, "HEAD", "/api/v1/search/", &known, &s); /* final '/' and HEAD = GET */
    assert_non_null(e);
    assert_string_equal(e->route.summary, "a");
    e = find(rt, &a, "POST", "/api/v1/search", &known, &s);
    assert_int_equal(e->route.body_max, 65536);
    e = find(rt, &a, "DELETE", "/api/v1/search", &known, &s);
    assert_null(e);
    assert_true(known); /* 405, not 404 */
    e = find(rt, &a, "GET", "/api/v1/objects/indicator--1/raw", &known, &s);
    assert_non_null(e);
    assert_string_equal(e->route.summary, "d");
    assert_string_equal(s.seg[1], "indicator--1");
    e = find(rt, &a, "GET", "/api/v1/objects", &known, &s);
    assert_null(e);
    assert_false(known);
    e = find(rt, &a, "GET", "/api/v1/objects//raw", &known, &s); /* empty segment */
    assert_null(e);
    assert_false(s.ok);
    e = find(rt, &a, "GET", "/api/v1/searchx", &known, &s);
    assert_null(e);
    e = find(rt, &a, "GET", "/api/v1/objects/\xff\xfe", &known, &s); /* not UTF-8 */
    assert_null(e);
    assert_false(s.ok);
    mrd_arena_release(&a);
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->routes[i].nseg; k++)
            free((void *)(uintptr_t)rt->routes[i].seg[k]);
    free(rt);
}

static void test_cookies(void **state)
{
    const char *h = "a=1; mrd_session=AAA;mrd_sessionx=B; __Host-mrd_session=C ; mrd_session=DD";
    const char *pos = h, *v;
    size_t n = 0;

    (void)state;
    v = api__cookie_next(&pos, "mrd_session", &n);
    assert_non_null(v);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "AAA", 3);
    v = api__cookie_next(&pos, "mrd_session", &n); /* the same name twice: both found */
    assert_non_null(v);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "DD", 2);
    assert_null(api__cookie_next(&pos, "mrd_session", &n));
    pos = h;
    v = api__cookie_next(&pos, "__Host-mrd_session", &n);
    assert_int_equal(n, 1); /* trailing blanks dropped */
    assert_memory_equal(v, "C", 1);
    pos = "mrd_session";
    assert_null(api__cookie_next(&pos, "mrd_session", &n));
    pos = "";
    assert_null(api__cookie_next(&pos, "mrd_session", &n));
}

static void test_csrf_key_is_shared(void **state)
{
    char dir[64] = "/tmp/mrd-api-XXXXXX", cmd[128];
    struct store_open_opts opts = {.create = true, .max_conn = 2};
    struct store *st = NULL;
    struct api_router *a = NULL, *b = NULL;
    struct mrd_err err = {0};
    static const unsigned char zero[crypto_generichash_KEYBYTES];

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &opts, &st, &err), MRD_OK);
    assert_int_equal(api_router_new(st, NULL, &a, &err), MRD_OK);
    assert_int_equal(api_router_new(st, NULL, &b, &err), MRD_OK);
    /* two servers on one database derive the same CSRF tokens */
    assert_memory_equal(a->csrf_key, b->csrf_key, sizeof(a->csrf_key));
    assert_memory_not_equal(a->csrf_key, zero, sizeof(zero));
    /* the router's own routes are there: index and the three session ones */
    assert_int_equal(api_router_count(a), 4);
    assert_int_equal(a->cfg.idle_s, API_SESSION_IDLE_DEFAULT_S);
    api_router_free(a);
    api_router_free(b);
    api_router_free(NULL);
    store_close(st);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_rejects_bad_routes),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_csrf_key_is_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
