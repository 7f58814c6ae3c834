/* libFuzzer target for what TAXII reads from the network before any
 * database work: the query string filters, Accept/Content-Type values,
 * Authorization headers and paging tokens.
 *
 * The input is split at the first two NUL bytes into a query string
 * ("k=v&k=v", keys and values taken as is), a header value and a paging
 * token. Properties checked besides "no crash, no leak, no UB": a filter
 * parse that succeeds has a limit in 0..TAXII_MAX_PAGE, at most
 * STORE_MATCH_MAX values per list and non-empty values; a paging token
 * that checks out was made by taxii_next_make for that exact binding; a
 * secret from http_auth_secret is NUL-free and at most HTTP_MAX_SECRET. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/http.h"
#include "taxii/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ARGS 32

static void check_filters(char *q)
{
    struct http_kv args[FUZZ_MAX_ARGS];
    size_t n = 0;
    struct mrd_arena a;
    struct taxii_filter f;

    for (char *p = q; p != NULL && n < FUZZ_MAX_ARGS;) {
        char *amp = strchr(p, '&');
        if (amp != NULL)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq != NULL)
            *eq = '\0';
        args[n].key = p;
        args[n].value = eq != NULL ? eq + 1 : NULL;
        n++;
        p = amp != NULL ? amp + 1 : NULL;
    }
    mrd_arena_init(&a, 1 << 20);
    if (taxii_filter_parse(args, n, 0x7f, &a, &f, NULL) == MRD_OK) {
        if (f.limit > TAXII_MAX_PAGE || f.match.n_ids > STORE_MATCH_MAX ||
            f.match.n_types > STORE_MATCH_MAX || f.match.n_spec_versions > STORE_MATCH_MAX)
            abort();
        for (size_t i = 0; i < f.match.n_types; i++)
            if (f.match.types[i][0] == '\0')
                abort();
        if ((f.match.versions & STORE_VER_ALL) && f.match.versions != STORE_VER_ALL)
            abort();
    }
    mrd_arena_release(&a);
}

static void check_header(const char *h)
{
    char s[HTTP_MAX_SECRET + 1];
    size_t n = 0;

    (void)taxii_accept_ok(h);
    (void)taxii_content_type_ok(h);
    if (http_auth_secret(h, strlen(h), s, &n, NULL) == MRD_OK)
        if (n == 0 || n > HTTP_MAX_SECRET || memchr(s, '\0', n) != NULL || s[n] != '\0')
            abort();
}

static void check_token(const char *tok)
{
    static const unsigned char key[crypto_auth_KEYBYTES] = {7};
    struct taxii_next_bind b = {TAXII_R_OBJECTS, "api1", "c", NULL, 1, "t"};
    struct taxii_filter f;
    int64_t d = 0, s = 0, d2 = 0, s2 = 0;
    char again[TAXII_NEXT_MAX + 1];

    memset(&f, 0, sizeof(f));
    if (taxii_next_check(key, &b, &f, tok, &d, &s, NULL) != MRD_OK)
        return;
    /* Only a token we made verifies, and it round-trips. */
    taxii_next_make(key, &b, &f, d, s, again);
    if (strcmp(again, tok) != 0 || taxii_next_check(key, &b, &f, again, &d2, &s2, NULL) != MRD_OK ||
        d2 != d || s2 != s)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 3);
    const char *parts[3];
    size_t k = 0;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = '\0';
    parts[k++] = buf;
    for (size_t i = 0; i < size && k < 3; i++)
        if (buf[i] == '\0')
            parts[k++] = buf + i + 1;
    while (k < 3)
        parts[k++] = buf + size + 1;
    char *q = strdup(parts[0]);
    if (q != NULL)
        check_filters(q);
    free(q);
    check_header(parts[1]);
    check_token(parts[2]);
    free(buf);
    return 0;
}
