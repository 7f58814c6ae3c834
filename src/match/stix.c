/*
 * stix: indicators out of STIX documents, and (type, value) pairs out of
 * the pattern shapes the index can express.
 *
 * A bundle of a million indicators is ~350 MB of JSON; a DOM of it would
 * need gigabytes. So the document is walked with json_lite: only the
 * members of each object that matter are looked at, the rest is skipped.
 * The pattern extractor is deliberately small: equality, IN and ISSUBSET
 * on the common object paths joined by OR (STIX 2.1 §9). Everything else
 * is reported as MRD_E_UNSUPP so the caller can route it to the evaluator.
 */
#include <string.h>

#include "match/json_lite.h"
#include "match/match_int.h"

static bool key_is(const char *k, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(k, lit, n) == 0;
}

static enum mrd_code bad_json(const char *doc, const char *p, struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_PARSE, "offset %zu: malformed JSON (RFC 8259)",
                       (size_t)(p - doc));
}

/* One object at p ('{'); calls cb when it is an indicator. Returns the
 * byte after it, or NULL with err set. */
static const char *one_object(const char *doc, const char *p, const char *end, char *scratch,
                              match_stix_fn cb, void *ctx, enum mrd_code *rc, struct mrd_err *err)
{
    struct match_stix_ind ind;
    const char *type = NULL;
    size_t type_len = 0;
    bool pat_esc = false;
    const char *start = p;

    memset(&ind, 0, sizeof(ind));
    ind.valid_from = INT64_MIN;
    ind.valid_until = INT64_MAX;
    ind.confidence = -1;
    ind.offset = (size_t)(p - doc);
    p = match__json_ws(p + 1, end);
    while (p < end && *p != '}') {
        const char *k0, *k1, *v, *ve;
        size_t kn;
        bool esc;

        if (*p != '"')
            goto bad;
        k0 = p + 1;
        k1 = match__json_string_end(p, end, &esc);
        if (k1 == NULL)
            goto bad;
        kn = (size_t)(k1 - 1 - k0);
        p = match__json_ws(k1, end);
        if (p >= end || *p != ':')
            goto bad;
        v = match__json_ws(p + 1, end);
        ve = match__json_skip(v, end);
        if (ve == NULL)
            goto bad;
        if (*v == '"') {
            const char *s = v + 1;
            size_t sn = (size_t)(ve - v - 2);
            bool sesc = memchr(s, '\\', sn) != NULL;
            if (key_is(k0, kn, "type")) {
                type = s;
                type_len = sn;
            } else if (key_is(k0, kn, "id")) {
                ind.id = s;
                ind.id_len = sn;
            } else if (key_is(k0, kn, "pattern")) {
                ind.pattern = s;
                ind.pattern_len = sn;
                pat_esc = sesc;
            } else if (key_is(k0, kn, "pattern_type")) {
                ind.pattern_type = s;
                ind.pattern_type_len = sn;
            } else if (key_is(k0, kn, "valid_from")) {
                ind.valid_from = match_time_parse(s, sn);
            } else if (key_is(k0, kn, "valid_until")) {
                ind.valid_until = match_time_parse(s, sn);
            } else if (key_is(k0, kn, "name")) {
                ind.name = s;
                ind.name_len = sn;
                ind.name_esc = sesc;
            }
        } else if (key_is(k0, kn, "revoked")) {
            ind.revoked = ve - v == 4 && memcmp(v, "true", 4) == 0;
        } else if (key_is(k0, kn, "confidence")) {
            int c = 0;
            const char *q = v;
            while (q < ve && *q >= '0' && *q <= '9' && c <= 100)
                c = c * 10 + (*q++ - '0');
            ind.confidence = q == ve && q > v && c <= 100 ? c : -1;
        } else if (key_is(k0, kn, "labels") && *v == '[') {
            ind.labels = v;
            ind.labels_len = (size_t)(ve - v);
        }
        p = match__json_ws(ve, end);
        if (p < end && *p == ',')
            p = match__json_ws(p + 1, end);
        else if (p >= end || *p != '}')
            goto bad;
    }
    if (p >= end)
        goto bad;
    if (type != NULL && key_is(type, type_len, "indicator")) {
        if (ind.pattern != NULL && pat_esc) {
            size_t n =
                match__json_unescape(ind.pattern, ind.pattern_len, scratch, MATCH_MAX_PATTERN);
            if (n == (size_t)-1) {
                *rc = mrd_err_set(err, MRD_E_PARSE,
                                  "offset %zu: pattern string malformed or over %d bytes",
                                  ind.offset, MATCH_MAX_PATTERN);
                return NULL;
            }
            ind.pattern = scratch;
            ind.pattern_len = n;
        }
        *rc = cb(ctx, &ind, err);
        if (*rc != MRD_OK)
            return NULL;
    }
    return p + 1;
bad:
    (void)start;
    *rc = bad_json(doc, p, err);
    return NULL;
}

static const char *object_array(const char *doc, const char *p, const char *end, char *scratch,
                                match_stix_fn cb, void *ctx, enum mrd_code *rc, struct mrd_err *err)
{
    p = match__json_ws(p + 1, end);
    while (p < end && *p != ']') {
        if (*p == '{') {
            p = one_object(doc, p, end, scratch, cb, ctx, rc, err);
            if (p == NULL)
                return NULL;
        } else {
            const char *q = match__json_skip(p, end);
            if (q == NULL)
                break;
            p = q;
        }
        p = match__json_ws(p, end);
        if (p < end && *p == ',')
            p = match__json_ws(p + 1, end);
        else if (p >= end || *p != ']')
            break;
    }
    if (p >= end || *p != ']') {
        *rc = bad_json(doc, p < end ? p : end, err);
        return NULL;
    }
    return p + 1;
}

enum mrd_code match_stix_each(const char *doc, size_t len, char *scratch, match_stix_fn cb,
                              void *ctx, struct mrd_err *err)
{
    const char *p = doc, *end = doc + len, *top;
    enum mrd_code rc = MRD_OK;
    bool is_indicator = false, saw_objects = false;

    p = match__json_ws(p, end);
    if (p < end && *p == '[') {
        p = object_array(doc, p, end, scratch, cb, ctx, &rc, err);
        goto tail;
    }
    if (p >= end || *p != '{')
        return bad_json(doc, p, err);
    top = p;
    p = match__json_ws(p + 1, end);
    while (p < end && *p != '}') {
        const char *k0, *k1, *v;
        size_t kn;
        bool esc;

        if (*p != '"')
            return bad_json(doc, p, err);
        k0 = p + 1;
        k1 = match__json_string_end(p, end, &esc);
        if (k1 == NULL)
            return bad_json(doc, p, err);
        kn = (size_t)(k1 - 1 - k0);
        p = match__json_ws(k1, end);
        if (p >= end || *p != ':')
            return bad_json(doc, p, err);
        v = match__json_ws(p + 1, end);
        if (key_is(k0, kn, "objects") && v < end && *v == '[') {
            saw_objects = true;
            p = object_array(doc, v, end, scratch, cb, ctx, &rc, err);
            if (p == NULL)
                return rc;
        } else {
            p = match__json_skip(v, end);
            if (p == NULL)
                return bad_json(doc, v, err);
            if (key_is(k0, kn, "type") && p - v == 11 && memcmp(v, "\"indicator\"", 11) == 0)
                is_indicator = true;
        }
        p = match__json_ws(p, end);
        if (p < end && *p == ',')
            p = match__json_ws(p + 1, end);
        else if (p >= end || *p != '}')
            return bad_json(doc, p < end ? p : end, err);
    }
    if (p >= end)
        return bad_json(doc, end, err);
    p++;
    if (is_indicator && !saw_objects) {
        if (one_object(doc, top, end, scratch, cb, ctx, &rc, err) == NULL)
            return rc;
    }
tail:
    if (p == NULL)
        return rc;
    p = match__json_ws(p, end);
    if (p != end)
        return mrd_err_set(err, MRD_E_PARSE, "offset %zu: trailing data after the document",
                           (size_t)(p - doc));
    return MRD_OK;
}

/* ---- simple patterns ---- */

struct pscan {
    const char *src, *p, *end;
    char *scratch;
    size_t used;
    match_pair_fn cb; /* NULL on the checking pass */
    void *ctx;
    struct mrd_err *err;
};

static void pws(struct pscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool pword(struct pscan *s, const char *w)
{
    size_t n = strlen(w);
    pws(s);
    if ((size_t)(s->end - s->p) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s->p[i] & ~0x20) != w[i])
            return false;
    if ((size_t)(s->end - s->p) > n) {
        char c = s->p[n];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            return false;
    }
    s->p += n;
    return true;
}

static enum mrd_code perr(struct pscan *s, const char *what)
{
    return mrd_err_set(s->err, MRD_E_PARSE, "pattern: offset %zu: %s (STIX 2.1 §9)",
                       (size_t)(s->p - s->src), what);
}

static enum mrd_code unsupp(struct pscan *s, const char *what)
{
    return mrd_err_set(s->err, MRD_E_UNSUPP, "pattern: offset %zu: %s needs the evaluator",
                       (size_t)(s->p - s->src), what);
}

/* Object path: "ipv4-addr:value", "file:hashes.'SHA-256'". */
static enum mrd_code ppath(struct pscan *s, enum match_type *ret)
{
    char norm[96];
    size_t n = 0;

    pws(s);
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '\'') {
            const char *q = memchr(s->p + 1, '\'', (size_t)(s->end - s->p - 1));
            if (q == NULL)
                return perr(s, "unterminated quoted path component");
            for (const char *k = s->p + 1; k < q; k++)
                if (*k != '-' && n < sizeof(norm) - 1)
                    norm[n++] = (char)match__lower((unsigned char)*k);
            s->p = q + 1;
            continue;
        }
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '-' &&
            c != '_' && c != ':' && c != '.')
            break;
        /* inside hashes.X, '-' is dropped so SHA-256 == SHA256 */
        if (!(c == '-' && n > 12 && memcmp(norm, "file:hashes.", 12) == 0) && n < sizeof(norm) - 1)
            norm[n++] = (char)match__lower((unsigned char)c);
        s->p++;
    }
    norm[n] = '\0';
    if (n == 0)
        return perr(s, "expected an object path");
    if (strcmp(norm, "ipv4-addr:value") == 0)
        *ret = MATCH_T_IPV4;
    else if (strcmp(norm, "ipv6-addr:value") == 0)
        *ret = MATCH_T_IPV6;
    else if (strcmp(norm, "domain-name:value") == 0)
        *ret = MATCH_T_DOMAIN;
    else if (strcmp(norm, "url:value") == 0)
        *ret = MATCH_T_URL;
    else if (strcmp(norm, "email-addr:value") == 0)
        *ret = MATCH_T_EMAIL;
    else if (strcmp(norm, "file:hashes.md5") == 0)
        *ret = MATCH_T_MD5;
    else if (strcmp(norm, "file:hashes.sha1") == 0)
        *ret = MATCH_T_SHA1;
    else if (strcmp(norm, "file:hashes.sha256") == 0)
        *ret = MATCH_T_SHA256;
    else if (strcmp(norm, "file:hashes.sha512") == 0)
        *ret = MATCH_T_SHA512;
    else
        return unsupp(s, "object path");
    return MRD_OK;
}

/* A string literal; emits (type, value) on the emitting pass. */
static enum mrd_code pstring(struct pscan *s, enum match_type t)
{
    const char *q;
    size_t o = s->used;

    pws(s);
    if (s->p >= s->end || *s->p != '\'')
        return perr(s, "expected a string literal");
    q = s->p + 1;
    while (q < s->end && *q != '\'') {
        if (*q == '\\') {
            q++;
            if (q >= s->end || (*q != '\'' && *q != '\\'))
                return perr(s, "bad escape in string literal");
        }
        if (o >= MATCH_MAX_PATTERN)
            return mrd_err_set(s->err, MRD_E_TOOBIG, "pattern: literals over %d bytes",
                               MATCH_MAX_PATTERN);
        s->scratch[o++] = *q++;
    }
    if (q >= s->end)
        return perr(s, "unterminated string literal");
    s->p = q + 1;
    if (s->cb != NULL) {
        enum mrd_code rc = s->cb(s->ctx, t, s->scratch + s->used, o - s->used, s->err);
        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}

static enum mrd_code pcomp_or(struct pscan *s, char close);

static enum mrd_code pcomp(struct pscan *s)
{
    enum match_type t = MATCH_T_NONE;
    enum mrd_code rc;

    pws(s);
    if (s->p < s->end && *s->p == '(') {
        s->p++;
        return pcomp_or(s, ')');
    }
    if (pword(s, "NOT"))
        return unsupp(s, "NOT");
    rc = ppath(s, &t);
    if (rc != MRD_OK)
        return rc;
    pws(s);
    if (s->p < s->end && *s->p == '=') {
        s->p++;
        return pstring(s, t);
    }
    if (pword(s, "ISSUBSET")) {
        if (t != MATCH_T_IPV4 && t != MATCH_T_IPV6)
            return unsupp(s, "ISSUBSET on a non-address");
        return pstring(s, t);
    }
    if (pword(s, "IN")) {
        pws(s);
        if (s->p >= s->end || *s->p != '(')
            return perr(s, "expected '(' after IN");
        s->p++;
        for (;;) {
            rc = pstring(s, t);
            if (rc != MRD_OK)
                return rc;
            pws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == ')') {
                s->p++;
                return MRD_OK;
            }
            return perr(s, "expected ',' or ')' in IN set");
        }
    }
    return unsupp(s, "comparison operator");
}

/* Comparisons joined by OR, then the closing character: the only shape
 * inside an observation the index can express (AND goes elsewhere). */
static enum mrd_code pcomp_or(struct pscan *s, char close)
{
    enum mrd_code rc = pcomp(s);

    while (rc == MRD_OK && pword(s, "OR"))
        rc = pcomp(s);
    if (rc != MRD_OK)
        return rc;
    if (pword(s, "AND"))
        return unsupp(s, "AND inside an observation expression");
    pws(s);
    if (s->p >= s->end || *s->p != close)
        return perr(s, close == ')' ? "expected ')'" : "expected ']'");
    s->p++;
    return MRD_OK;
}

static enum mrd_code pobs(struct pscan *s)
{
    enum mrd_code rc;

    pws(s);
    if (s->p < s->end && *s->p == '(') {
        s->p++;
        rc = pobs(s);
        while (rc == MRD_OK && pword(s, "OR"))
            rc = pobs(s);
        if (rc != MRD_OK)
            return rc;
        pws(s);
        if (s->p >= s->end || *s->p != ')')
            return perr(s, "expected ')'");
        s->p++;
        return MRD_OK;
    }
    if (s->p >= s->end || *s->p != '[')
        return perr(s, "expected '['");
    s->p++;
    return pcomp_or(s, ']');
}

static enum mrd_code pattern_pass(struct pscan *s)
{
    enum mrd_code rc = pobs(s);

    while (rc == MRD_OK) {
        pws(s);
        if (s->p >= s->end)
            return MRD_OK;
        if (pword(s, "OR")) {
            rc = pobs(s);
            continue;
        }
        if (pword(s, "AND") || pword(s, "FOLLOWEDBY") || pword(s, "WITHIN") ||
            pword(s, "REPEATS") || pword(s, "START"))
            return unsupp(s, "AND, FOLLOWEDBY or a qualifier");
        return perr(s, "unexpected input");
    }
    return rc;
}

enum mrd_code match_pattern_pairs(const char *pat, size_t n, char *scratch, match_pair_fn cb,
                                  void *ctx, struct mrd_err *err)
{
    struct pscan s = {pat, pat, pat + n, scratch, 0, NULL, ctx, err};
    enum mrd_code rc;

    if (n > MATCH_MAX_PATTERN)
        return mrd_err_set(err, MRD_E_TOOBIG, "pattern: over %d bytes", MATCH_MAX_PATTERN);
    rc = pattern_pass(&s);
    if (rc != MRD_OK)
        return rc;
    s.p = pat;
    s.cb = cb;
    return pattern_pass(&s);
}
