/* libFuzzer target for what the /api/v1/ router reads from the network
 * before any database work: the Cookie header and the request path.
 *
 * The input is split at the first NUL byte into a Cookie header value and
 * a path below /api/v1/. Properties checked besides "no crash, no leak, no
 * UB": every cookie value found lies inside the header, starts right
 * after "NAME=" and holds no ';'; a path that splits has 1..
 * API_MAX_SEGMENTS non-empty segments of at most API_MAX_SEGMENT bytes
 * without '/', and a route found for it has exactly as many segments and
 * agrees with every literal one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void noop(struct api_req *r)
{
    (void)r;
}

static const struct api_route routes[] = {
    {"GET", "search", 0, 0, noop, ""},        {"POST", "search", 0, 0, noop, ""},
    {"GET", "objects/{id}", 0, 0, noop, ""},  {"GET", "objects/{id}/raw", 0, 0, noop, ""},
    {"DELETE", "holds/{id}", 0, 0, noop, ""}, {"GET", "a/{x}/b/{y}/c/{z}", 0, 0, noop, ""},
};

static void check_cookies(const char *h)
{
    static const char *const names[] = {API_COOKIE_PLAIN, API_COOKIE_SECURE};
    size_t hl = strlen(h);

    for (size_t k = 0; k < 2; k++) {
        const char *pos = h, *v;
        size_t n = 0, nl = strlen(names[k]), count = 0;

        while ((v = api__cookie_next(&pos, names[k], &n)) != NULL) {
            if (v < h + nl + 1 || v + n > h + hl || memcmp(v - nl - 1, names[k], nl) != 0 ||
                v[-1] != '=' || memchr(v, ';', n) != NULL)
                abort();
            if (++count > hl)
                abort(); /* no progress */
        }
    }
}

static void check_path(const struct api_router *rt, const char *rest, size_t len)
{
    struct mrd_arena a;
    struct api_split s;
    char *path = malloc(len + sizeof(API_PREFIX));
    bool known = false;
    const struct api_entry *e;

    if (path == NULL)
        return;
    memcpy(path, API_PREFIX, sizeof(API_PREFIX) - 1);
    memcpy(path + sizeof(API_PREFIX) - 1, rest, len + 1);
    mrd_arena_init(&a, 1 << 20);
    api__split_path(path, &a, &s);
    if (s.ok) {
        if (s.n > API_MAX_SEGMENTS)
            abort();
        for (size_t i = 0; i < s.n; i++) {
            size_t n = strlen(s.seg[i]);
            if (n == 0 || n > API_MAX_SEGMENT || strchr(s.seg[i], '/') != NULL)
                abort();
        }
    }
    e = api__find_route(rt, "GET", &s, &known);
    if (e != NULL) {
        if (!s.ok || e->nseg != s.n || !known)
            abort();
        for (size_t i = 0; i < s.n; i++)
            if (e->seg[i][0] != '{' && strcmp(e->seg[i], s.seg[i]) != 0)
                abort();
    }
    mrd_arena_release(&a);
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct api_router *rt;
    char *buf = malloc(size + 1);
    char *nul;

    if (rt == NULL) {
        rt = calloc(1, sizeof(*rt));
        if (rt == NULL ||
            api_router_add(rt, routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL) != MRD_OK)
            abort();
    }
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    nul = memchr(buf, '\0', size);
    check_cookies(buf);
    if (nul != NULL && nul < buf + size)
        check_path(rt, nul + 1, strlen(nul + 1));
    free(buf);
    return 0;
}
