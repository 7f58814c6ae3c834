/*
 * Media-type negotiation (TAXII 2.1 §1.6.8, §3.1, RFC 9110 §12.5.1).
 *
 * Parsing is deliberately small: a header is a comma-separated list of
 * media ranges, each "type/subtype" followed by ";name=value" parameters
 * (value possibly quoted). Anything we cannot parse simply does not match.
 */
#include "taxii/taxii_int.h"

#include <string.h>

#include "core/str.h"

#define MEDIA_MAX_PARAMS 8

struct media_range {
    const char *type; /* "type/subtype", (ptr, len) */
    size_t type_len;
    const char *version; /* the version parameter, unquoted, or NULL */
    size_t version_len;
    bool q_zero; /* q=0: explicitly not acceptable */
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_ows(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_ows((*s)[*n - 1]))
        (*n)--;
}

/* Parses one media range (s, n) without the separating comma. */
static void parse_range(const char *s, size_t n, struct media_range *m)
{
    const char *semi = memchr(s, ';', n);
    size_t tl = semi != NULL ? (size_t)(semi - s) : n;

    memset(m, 0, sizeof(*m));
    m->type = s;
    m->type_len = tl;
    trim(&m->type, &m->type_len);
    while (semi != NULL) {
        const char *p = semi + 1;
        size_t rest = n - (size_t)(p - s);
        const char *next = memchr(p, ';', rest);
        size_t pl = next != NULL ? (size_t)(next - p) : rest;
        const char *eq = memchr(p, '=', pl);
        semi = next;
        if (eq == NULL)
            continue;
        const char *k = p, *v = eq + 1;
        size_t kl = (size_t)(eq - p), vl = pl - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v++;
            vl -= 2;
        }
        if (mrd_str_eq_nocase(k, kl, "version", 7)) {
            m->version = v;
            m->version_len = vl;
        } else if (mrd_str_eq_nocase(k, kl, "q", 1)) {
            /* q=0, 0.0, 0.00, 0.000 all mean "not acceptable". */
            bool zero = vl > 0 && v[0] == '0';
            for (size_t i = 1; zero && i < vl; i++)
                zero = (i == 1 && v[i] == '.') || (i > 1 && v[i] == '0');
            m->q_zero = zero;
        }
    }
}

static bool is_taxii_21(const struct media_range *m)
{
    return mrd_str_eq_nocase(m->type, m->type_len, "application/taxii+json", 22) &&
           (m->version == NULL || mrd_str_eq(m->version, m->version_len, "2.1"));
}

bool taxii_accept_ok(const char *accept)
{
    const char *s = accept;

    if (accept == NULL)
        return false;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        struct media_range m;

        parse_range(s, n, &m);
        if (!m.q_zero && (is_taxii_21(&m) || mrd_str_eq(m.type, m.type_len, "*/*") ||
                          mrd_str_eq_nocase(m.type, m.type_len, "application/*", 13)))
            return true;
        if (comma == NULL)
            return false;
        s = comma + 1;
    }
}

bool taxii_content_type_ok(const char *ctype)
{
    struct media_range m;

    if (ctype == NULL)
        return false;
    parse_range(ctype, strlen(ctype), &m);
    return is_taxii_21(&m);
}
