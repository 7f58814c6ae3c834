#include "core/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"

/* jansson's own depth limit is a compile-time 2048; we want a smaller,
 * named one, and its error for it is vague. One pass over the bytes that
 * tracks strings is cheap next to the parse itself. */
static enum mrd_code check_depth(const char *s, size_t n, unsigned max, struct mrd_err *err)
{
    unsigned depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return mrd_err_set(err, MRD_E_TOOBIG,
                                   "json: offset %zu: nesting deeper than %u levels", i, max);
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
        }
    }
    return MRD_OK;
}

/* ---- the fast path ------------------------------------------------------
 * jansson's reader goes through the text one character at a time through
 * a stream layer; on a TAXII envelope it was most of the parse. This
 * reader builds the same jansson values straight from the bytes, for the
 * common case only: anything unusual -- any syntax error, a duplicate
 * member name, \u0000, a lone surrogate, a number with a fraction or
 * exponent, or an integer of more than 18 digits -- makes it give up, and
 * jansson parses the whole text as before (so every error message, and
 * every number, is still jansson's). What it accepts, jansson accepts with
 * the same result: the tests parse documents both ways and compare. */

struct fast {
    const char *p, *end;
    char *scratch; /* for strings with escapes */
    size_t scap;
    unsigned depth, max_depth;
};

static void fast_ws(struct fast *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t'))
        f->p++;
}

#define hexval(c) mrd_hex_digit((unsigned char)(c))

/* Four hex digits at p (which has at least 4 bytes); -1 when not hex. */
static int32_t hex4(const char *p)
{
    int32_t v = 0;

    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Whether the string text from s (past its opening quote) up to its
 * closing quote is UTF-8, escapes left as they are. */
static bool utf8_unescaped_ok(const char *s, const char *end)
{
    const char *q = s;

    while (q < end && *q != '"')
        q += *q == '\\' && q + 1 < end ? 2 : 1;
    return mrd_utf8_valid(s, (size_t)(q - s));
}

/* Reads a string (f->p at the opening quote) into ret_s and ret_n: a
 * pointer into the text when it has no escapes, else into f->scratch. */
static bool fast_string(struct fast *f, const char **ret_s, size_t *ret_n)
{
    const char *start = ++f->p, *q = start;
    size_t out = 0;
    unsigned char high = 0;

    while (q < f->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        high |= (unsigned char)*q++;
    if (q >= f->end || (unsigned char)*q < 0x20)
        return false;
    /* The text is not checked as UTF-8 before the fast path: its strings
     * are here (nothing else it takes may hold a byte past 0x7F). */
    if (*q == '"' ? (high & 0x80) != 0 && !mrd_utf8_valid(start, (size_t)(q - start))
                  : !utf8_unescaped_ok(start, f->end))
        return false;
    if (*q == '"') {
        *ret_s = start;
        *ret_n = (size_t)(q - start);
        f->p = q + 1;
        return true;
    }
    /* escapes: decode into scratch, which the decoded text never outgrows */
    if ((size_t)(f->end - start) > f->scap) {
        size_t cap = (size_t)(f->end - start);
        char *nb = mrd_realloc(f->scratch, cap);
        if (nb == NULL)
            return false;
        f->scratch = nb;
        f->scap = cap;
    }
    q = start;
    while (q < f->end && *q != '"') {
        unsigned char c = (unsigned char)*q;
        int32_t u, lo;

        if (c < 0x20)
            return false;
        if (c != '\\') {
            f->scratch[out++] = (char)c;
            q++;
            continue;
        }
        if (q + 1 >= f->end)
            return false;
        switch (q[1]) {
        case '"':
        case '\\':
        case '/':
            f->scratch[out++] = q[1];
            q += 2;
            continue;
        case 'b':
            f->scratch[out++] = '\b';
            q += 2;
            continue;
        case 'f':
            f->scratch[out++] = '\f';
            q += 2;
            continue;
        case 'n':
            f->scratch[out++] = '\n';
            q += 2;
            continue;
        case 'r':
            f->scratch[out++] = '\r';
            q += 2;
            continue;
        case 't':
            f->scratch[out++] = '\t';
            q += 2;
            continue;
        case 'u':
            break;
        default:
            return false;
        }
        if (f->end - q < 6 || (u = hex4(q + 2)) <= 0) /* \u0000 is refused too */
            return false;
        q += 6;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return false; /* a low surrogate first */
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (f->end - q < 6 || q[0] != '\\' || q[1] != 'u')
                return false;
            lo = hex4(q + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return false;
            q += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        /* UTF-8; never longer than the 6 or 12 bytes of its escape */
        if (u < 0x80) {
            f->scratch[out++] = (char)u;
        } else if (u < 0x800) {
            f->scratch[out++] = (char)(0xC0 | (u >> 6));
            f->scratch[out++] = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            f->scratch[out++] = (char)(0xE0 | (u >> 12));
            f->scratch[out++] = (char)(0x80 | ((u >> 6) & 0x3F));
            f->scratch[out++] = (char)(0x80 | (u & 0x3F));
        } else {
            f->scratch[out++] = (char)(0xF0 | (u >> 18));
            f->scratch[out++] = (char)(0x80 | ((u >> 12) & 0x3F));
            f->scratch[out++] = (char)(0x80 | ((u >> 6) & 0x3F));
            f->scratch[out++] = (char)(0x80 | (u & 0x3F));
        }
    }
    if (q >= f->end)
        return false;
    f->p = q + 1;
    *ret_s = f->scratch;
    *ret_n = out;
    return true;
}

static json_t *fast_value(struct fast *f);

static json_t *fast_object(struct fast *f)
{
    json_t *o = json_object();

    f->p++; /* '{' */
    fast_ws(f);
    if (o != NULL && f->p < f->end && *f->p == '}') {
        f->p++;
        return o;
    }
    while (o != NULL) {
        const char *k;
        size_t kn;
        char kbuf[64];
        char *kheap = NULL;
        json_t *v;

        if (f->p >= f->end || *f->p != '"' || !fast_string(f, &k, &kn))
            break;
        /* the value's strings reuse the scratch buffer: keep the key */
        if (k == f->scratch) {
            if (kn < sizeof(kbuf)) {
                memcpy(kbuf, k, kn);
                k = kbuf;
            } else {
                kheap = mrd_strndup(k, kn);
                if (kheap == NULL)
                    break;
                k = kheap;
            }
        }
        fast_ws(f);
        if (f->p >= f->end || *f->p != ':' || json_object_getn(o, k, kn) != NULL) {
            mrd_free(kheap);
            break; /* jansson reports duplicates (JSON_REJECT_DUPLICATES) */
        }
        f->p++;
        fast_ws(f);
        v = fast_value(f);
        if (v == NULL || json_object_setn_new_nocheck(o, k, kn, v) != 0) {
            mrd_free(kheap);
            break;
        }
        mrd_free(kheap);
        fast_ws(f);
        if (f->p < f->end && *f->p == ',') {
            f->p++;
            fast_ws(f);
            continue;
        }
        if (f->p < f->end && *f->p == '}') {
            f->p++;
            return o;
        }
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *fast_array(struct fast *f)
{
    json_t *a = json_array();

    f->p++; /* '[' */
    fast_ws(f);
    if (a != NULL && f->p < f->end && *f->p == ']') {
        f->p++;
        return a;
    }
    while (a != NULL) {
        json_t *v = fast_value(f);

        if (v == NULL || json_array_append_new(a, v) != 0)
            break;
        fast_ws(f);
        if (f->p < f->end && *f->p == ',') {
            f->p++;
            fast_ws(f);
            continue;
        }
        if (f->p < f->end && *f->p == ']') {
            f->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

/* An integer of at most 18 digits (no fraction, no exponent): exact in a
 * json_int_t, and what jansson's strtoll gives. Anything else: NULL. */
static json_t *fast_number(struct fast *f)
{
    const char *q = f->p;
    bool neg = false;
    int64_t v = 0;
    int digits = 0;

    if (*q == '-') {
        neg = true;
        q++;
    }
    if (q >= f->end || *q < '0' || *q > '9')
        return NULL;
    if (*q == '0') {
        q++;
        digits = 1;
    } else {
        /* a 19th digit stops here and is seen below */
        while (q < f->end && *q >= '0' && *q <= '9' && digits < 18) {
            v = v * 10 + (*q - '0');
            q++;
            digits++;
        }
    }
    if (q < f->end && (*q == '.' || *q == 'e' || *q == 'E' || (*q >= '0' && *q <= '9')))
        return NULL;
    f->p = q;
    return json_integer(neg ? -v : v);
}

static bool fast_word(struct fast *f, const char *w, size_t n)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, w, n) != 0)
        return false;
    f->p += n;
    return true;
}

static json_t *fast_value(struct fast *f)
{
    const char *s;
    size_t n;
    json_t *v = NULL;

    if (f->p >= f->end)
        return NULL;
    switch (*f->p) {
    case '{':
    case '[':
        if (f->depth >= f->max_depth)
            return NULL;
        f->depth++;
        v = *f->p == '{' ? fast_object(f) : fast_array(f);
        f->depth--;
        return v;
    case '"':
        return fast_string(f, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    case 't':
        return fast_word(f, "true", 4) ? json_true() : NULL;
    case 'f':
        return fast_word(f, "false", 5) ? json_false() : NULL;
    case 'n':
        return fast_word(f, "null", 4) ? json_null() : NULL;
    default:
        return fast_number(f);
    }
}

/* The document as jansson would read it, or NULL: then ask jansson. */
static json_t *fast_parse(const char *s, size_t n, unsigned max_depth)
{
    struct fast f = {.p = s, .end = s + n, .max_depth = max_depth};
    json_t *v = NULL;

    fast_ws(&f);
    /* jansson (without JSON_DECODE_ANY) wants an object or array */
    if (f.p < f.end && (*f.p == '{' || *f.p == '['))
        v = fast_value(&f);
    fast_ws(&f);
    if (v != NULL && f.p != f.end) {
        json_decref(v);
        v = NULL;
    }
    mrd_free(f.scratch);
    return v;
}

/* ---- memory planning ----------------------------------------------------
 * The costs below are jansson 2.14's structures on LP64 rounded up to
 * glibc malloc chunks (8 bytes of header, 16-byte granules, 32 minimum):
 * json_object_t 72 -> 80, its first 8 buckets 128 -> 144, a hashtable
 * pair 56 + key -> at most 80 + key, and buckets double as members come
 * (at most 32 per member over the table's life, the old table freed);
 * json_array_t 40 -> 48, its first 8 slots 64 -> 80, slots double (at
 * most 16 per element plus the transient old table, 24 in all);
 * json_string_t 32 -> 48 and its bytes + NUL -> at most len + 24; a
 * number 24 -> 32. The lexer's buffer grows to twice the longest string,
 * and fast_parse decodes escaped strings in a scratch buffer of its own. */
#define JSON_COST_OBJECT 224
#define JSON_COST_MEMBER 112
#define JSON_COST_ARRAY 128
#define JSON_COST_VALUE_SLOT 24
#define JSON_COST_STRING 72
#define JSON_COST_NUMBER 32
#define JSON_COST_FIXED 4096

void mrd_json_shape_scan(const char *s, size_t n, struct mrd_json_shape *ret)
{
    struct mrd_json_shape sh = {0};
    size_t i = 0;

    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            size_t len = (i < n ? i : n) - start;
            sh.strings++;
            sh.string_bytes += len;
            if (len > sh.max_string)
                sh.max_string = len;
            i++;
            continue;
        }
        if (c == '{')
            sh.objects++;
        else if (c == '[')
            sh.arrays++;
        else if (c == ':')
            sh.members++;
        else if (c == 't' || c == 'f' || c == 'n')
            sh.literals++;
        else if (c == '-' || (c >= '0' && c <= '9')) {
            sh.numbers++;
            while (i + 1 < n &&
                   (s[i + 1] == '-' || s[i + 1] == '+' || s[i + 1] == '.' || s[i + 1] == 'e' ||
                    s[i + 1] == 'E' || (s[i + 1] >= '0' && s[i + 1] <= '9')))
                i++;
        }
        if (c == 't' || c == 'f' || c == 'n')
            while (i + 1 < n && s[i + 1] >= 'a' && s[i + 1] <= 'z')
                i++;
        i++;
    }
    *ret = sh;
}

/* a + b * k, saturating. */
static size_t cost_add(size_t a, size_t b, size_t k)
{
    if (k != 0 && b > (SIZE_MAX - a) / k)
        return SIZE_MAX;
    return a + b * k;
}

size_t mrd_json_shape_cost(const struct mrd_json_shape *sh, size_t n)
{
    size_t values = sh->objects + sh->arrays + sh->strings + sh->numbers + sh->literals;
    /* a member's name is a string of the scan, but lives in its pair */
    size_t value_strings = sh->strings - (sh->members < sh->strings ? sh->members : sh->strings);
    size_t c = JSON_COST_FIXED;

    c = cost_add(c, sh->objects, JSON_COST_OBJECT);
    c = cost_add(c, sh->members, JSON_COST_MEMBER);
    c = cost_add(c, sh->arrays, JSON_COST_ARRAY);
    c = cost_add(c, values, JSON_COST_VALUE_SLOT);
    c = cost_add(c, value_strings, JSON_COST_STRING);
    c = cost_add(c, sh->numbers, JSON_COST_NUMBER);
    c = cost_add(c, sh->string_bytes, 1);
    c = cost_add(c, sh->max_string, 3);
    (void)n;
    return c;
}

enum mrd_code mrd_json_parse(const char *s, size_t n, const struct mrd_json_limits *limits,
                             json_t **ret, struct mrd_err *err)
{
    size_t max_bytes = limits != NULL ? limits->max_bytes : MRD_JSON_MAX_BYTES;
    unsigned max_depth = limits != NULL ? limits->max_depth : MRD_JSON_MAX_DEPTH;
    json_error_t jerr;
    json_t *v;
    enum mrd_code rc;
    size_t bad;

    if (n > max_bytes)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "json: document of %zu bytes exceeds the limit of %zu", n, max_bytes);
    /* The fast path keeps the depth limit and checks its strings' UTF-8
     * itself, so a document it takes needs neither pass below; one it
     * gives up on gets them, and every error, as before. */
    v = fast_parse(s, n, max_depth);
    if (v != NULL) {
        *ret = v;
        return MRD_OK;
    }
    rc = check_depth(s, n, max_depth, err);
    if (rc != MRD_OK)
        return rc;
    /* jansson checks UTF-8 (and rejects \u0000 without JSON_ALLOW_NUL), but
     * reports it vaguely; our own check names the offset. */
    bad = mrd_utf8_check(s, n);
    if (bad != n)
        return mrd_err_set(err, MRD_E_PARSE, "json: offset %zu: invalid UTF-8", bad);
    v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL && json_error_code(&jerr) == json_error_numeric_overflow) {
        /* An integer beyond 64 bits is still a JSON number (and RFC 8785
         * writes doubles up to 1e21 without an exponent): read every integer
         * as a double, as an ECMAScript parser would. A real overflow
         * (1e400) fails again and is reported below. */
        v = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    }
    if (v == NULL)
        return mrd_err_set(err, MRD_E_PARSE, "json: offset %d: %s", jerr.position, jerr.text);
    *ret = v;
    return MRD_OK;
}

bool mrd_json_array_has(const json_t *arr, const json_t *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_equal(e, (json_t *)(uintptr_t)v))
            return true;
    }
    return false;
}
