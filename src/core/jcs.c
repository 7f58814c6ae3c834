/* RFC 8785 (JSON Canonicalization Scheme) output for jansson values.
 *
 * Signatures are computed over these bytes, so every choice below follows the
 * RFC (and ECMA-262 Number::toString for numbers) to the letter; a single
 * differing byte between two implementations breaks verification. */
#include "core/json.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"

/* jansson's parser stops at 2048 levels; values built in code could nest
 * deeper (or even form a cycle), so recursion is bounded here too. */
#define JCS_MAX_DEPTH 2048

/* 2^53: every integer up to this magnitude is exact in a double, so ES
 * would print it digit for digit. */
#define JCS_EXACT_INT ((json_int_t)9007199254740992LL)

/* "-" + 17 digits + "." + "e-324" fits easily; sized for the widest %e. */
#define JCS_NUM_MAX 40

/* Shortest decimal digits of a positive finite double: value = 0.digits x 10^point. */
struct jcs_dec {
    char digits[20];
    int k;     /* number of digits, 1..17 */
    int point; /* ES's n: position of the decimal point */
};

static bool dec_roundtrips(const struct jcs_dec *d, double x)
{
    char s[JCS_NUM_MAX];

    /* 0.DDDDe<point> parses back to exactly the decimal we have */
    (void)snprintf(s, sizeof(s), "0.%.*se%d", d->k, d->digits, d->point);
    return strtod(s, NULL) == x;
}

/* Moves d one unit in its last digit up (dir > 0) or down, keeping k digits. */
static void dec_step(struct jcs_dec *d, int dir)
{
    int i = d->k - 1;

    if (dir > 0) {
        while (i >= 0 && d->digits[i] == '9')
            d->digits[i--] = '0';
        if (i >= 0) {
            d->digits[i]++;
        } else {
            /* 999 + 1 = 1000: same k digits, decimal point one further */
            d->digits[0] = '1';
            d->point++;
        }
    } else {
        while (i >= 0 && d->digits[i] == '0')
            d->digits[i--] = '9';
        d->digits[i]--; /* i >= 0: the leading digit is never 0 */
        if (d->digits[0] == '0') {
            /* 100 - 1 = 099: the grid below a power of ten is finer, so the
             * k-digit neighbour is 999 one decade down */
            memmove(d->digits, d->digits + 1, (size_t)d->k - 1);
            d->digits[d->k - 1] = '9';
            d->point--;
        }
    }
}

/* Reads "D.DDDDe+XX" as printed by %.*e into d. */
static void dec_from_e(const char *s, struct jcs_dec *d)
{
    const char *p = s;

    d->k = 0;
    while (*p != 'e') {
        if (*p != '.')
            d->digits[d->k++] = *p;
        p++;
    }
    d->point = atoi(p + 1) + 1;
}

/* Finds a k-digit decimal that reads back as x, if there is one. %.*e gives
 * the correctly rounded (nearest) k-digit decimal; when that one misses,
 * the only other candidate is its neighbour on the other side of x, which
 * can still land inside the rounding interval of x because that interval
 * is asymmetric at powers of two. ECMA-262 wants the nearest one that
 * works, so the rounded one is tried first. */
static bool dec_try(double x, int k, struct jcs_dec *d)
{
    char s[JCS_NUM_MAX];

    (void)snprintf(s, sizeof(s), "%.*e", k - 1, x);
    dec_from_e(s, d);
    if (dec_roundtrips(d, x))
        return true;
    dec_step(d, strtod(s, NULL) < x ? 1 : -1);
    return dec_roundtrips(d, x);
}

/* ECMA-262 §7.1.12.1 wants the smallest k for which some k-digit decimal
 * reads back as x. Every k-digit decimal is also a (k+1)-digit one, so
 * "some k-digit decimal works" is monotonic in k and a binary search over
 * 1..17 finds the smallest (17 digits always work) in at most five tries;
 * this is exact, without a Ryu/Grisu table. */
static void dec_shortest(double x, struct jcs_dec *ret)
{
    struct jcs_dec d;
    int lo = 1, hi = 17;

    while (lo < hi) {
        int mid = (lo + hi) / 2;

        if (dec_try(x, mid, &d))
            hi = mid;
        else
            lo = mid + 1;
    }
    (void)dec_try(x, lo, &d);
    /* trailing zeros carry nothing (the neighbour step can produce them) */
    while (d.k > 1 && d.digits[d.k - 1] == '0')
        d.k--;
    *ret = d;
}

/* Lays out the digits as Number::toString does (ECMA-262 §7.1.12.1 steps
 * 6-10): plain integers up to 21 digits, plain fractions down to 1e-6,
 * exponent form with an explicit sign otherwise. */
static enum mrd_code dec_write(const struct jcs_dec *d, bool neg, struct mrd_buf *out,
                               struct mrd_err *err)
{
    char s[JCS_NUM_MAX + 24];
    size_t len = 0;
    int k = d->k, n = d->point;

    if (neg)
        s[len++] = '-';
    if (k <= n && n <= 21) {
        memcpy(s + len, d->digits, (size_t)k);
        len += (size_t)k;
        for (int i = 0; i < n - k; i++)
            s[len++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(s + len, d->digits, (size_t)n);
        len += (size_t)n;
        s[len++] = '.';
        memcpy(s + len, d->digits + n, (size_t)(k - n));
        len += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        s[len++] = '0';
        s[len++] = '.';
        for (int i = 0; i < -n; i++)
            s[len++] = '0';
        memcpy(s + len, d->digits, (size_t)k);
        len += (size_t)k;
    } else {
        s[len++] = d->digits[0];
        if (k > 1) {
            s[len++] = '.';
            memcpy(s + len, d->digits + 1, (size_t)k - 1);
            len += (size_t)k - 1;
        }
        len +=
            (size_t)snprintf(s + len, sizeof(s) - len, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    return mrd_buf_append(out, s, len, err);
}

enum mrd_code mrd_jcs_number(double x, struct mrd_buf *out, struct mrd_err *err)
{
    struct jcs_dec d;
    char s[JCS_NUM_MAX];
    int len;

    if (!isfinite(x))
        return mrd_err_set(err, MRD_E_INVAL, "jcs: %s has no JSON form (RFC 8785 §3.2.2.3)",
                           isnan(x) ? "NaN" : "an infinite number");
    if (x == 0) /* -0 as well */
        return mrd_buf_putc(out, '0', err);
    /* Integers below 2^53 are exact and their neighbours are other
     * integers, so their shortest form is just their digits. The common
     * case in STIX (counts, ports, sizes) skips the digit search. */
    if (fabs(x) < 9007199254740992.0 && x == trunc(x)) {
        len = snprintf(s, sizeof(s), "%.0f", x);
        return mrd_buf_append(out, s, (size_t)len, err);
    }
    dec_shortest(fabs(x), &d);
    return dec_write(&d, x < 0, out, err);
}

/* Decodes the code point starting at s[i] of valid UTF-8. */
static uint32_t utf8_at(const unsigned char *s, size_t i)
{
    unsigned char c = s[i];

    if (c < 0x80)
        return c;
    if (c < 0xE0)
        return ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
    if (c < 0xF0)
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
               (s[i + 2] & 0x3F);
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
           ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
}

struct jcs_key {
    const char *s;
    size_t n;
    json_t *v;
};

/* RFC 8785 §3.2.3 sorts by UTF-16 code units. UTF-8 byte order equals code
 * point order, and code point order equals UTF-16 order except that
 * supplementary characters (surrogates D800-DFFF in UTF-16) sort below
 * U+E000..U+FFFF. So compare bytes, and only at the first difference look
 * at the two characters involved. Keys were checked to be valid UTF-8. */
static int key_cmp(const void *pa, const void *pb)
{
    const struct jcs_key *a = pa, *b = pb;
    const unsigned char *x = (const unsigned char *)a->s, *y = (const unsigned char *)b->s;
    size_t n = a->n < b->n ? a->n : b->n, i = 0;
    uint32_t ca, cb;

    while (i < n && x[i] == y[i])
        i++;
    if (i == n)
        return a->n < b->n ? -1 : a->n > b->n;
    while (i > 0 && (x[i] & 0xC0) == 0x80) /* back to the start of the character */
        i--;
    ca = utf8_at(x, i);
    cb = utf8_at(y, i);
    if ((ca >= 0x10000) != (cb >= 0x10000)) {
        /* one is a surrogate pair (first unit D800-DBFF), the other a BMP
         * character, which is never itself a surrogate in valid UTF-8 */
        uint32_t bmp = ca >= 0x10000 ? cb : ca;
        int bmp_first = bmp < 0xD800;
        return (ca < 0x10000) == bmp_first ? -1 : 1;
    }
    return ca < cb ? -1 : 1;
}

enum mrd_code mrd_jcs_string(const char *s, size_t n, struct mrd_buf *out, struct mrd_err *err)
{
    static const char hex[] = "0123456789abcdef";
    enum mrd_code rc;
    size_t run = 0; /* start of the bytes not yet written */

    if (!mrd_utf8_valid(s, n))
        return mrd_err_set(err, MRD_E_INVAL, "jcs: string is not valid UTF-8 (RFC 8785 §3.2.2.2)");
    rc = mrd_buf_putc(out, '"', err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue; /* literal, including all non-ASCII UTF-8 */
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            elen = 6;
        }
        rc = mrd_buf_append(out, s + run, i - run, err);
        if (rc == MRD_OK)
            rc = mrd_buf_append(out, esc, elen, err);
        run = i + 1;
    }
    if (rc == MRD_OK)
        rc = mrd_buf_append(out, s + run, n - run, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(out, '"', err);
    return rc;
}

static enum mrd_code write_value(const json_t *v, unsigned depth, struct mrd_buf *out,
                                 struct mrd_err *err);

/* What mrd_jcs_write_slot() looks for: a member name at the top level and,
 * when that member exists, a name inside it. */
struct jcs_probe {
    struct jcs_key name[2];
    unsigned level; /* which of the two names this object is searched for */
    struct mrd_jcs_slot *slot;
    bool found;
};

/* The slot for probe->name[level] among the sorted keys of an object being
 * written: before keys[i], the first key that sorts after it. */
static void probe_mark(struct jcs_probe *probe, size_t i, size_t count, size_t at)
{
    probe->slot->at = at;
    probe->slot->comma_before = i > 0;
    probe->slot->comma_after = i == 0 && count > 0;
    probe->slot->inside = probe->level == 1;
    probe->found = true;
}

static enum mrd_code write_object(const json_t *v, unsigned depth, struct jcs_probe *probe,
                                  struct mrd_buf *out, struct mrd_err *err)
{
    struct jcs_key *keys = NULL;
    size_t count = json_object_size(v), i = 0;
    const char *k;
    size_t klen;
    json_t *m;
    enum mrd_code rc = MRD_OK;
    const struct jcs_key *want = probe != NULL ? &probe->name[probe->level] : NULL;

    if (count > 0) {
        keys = mrd_calloc(count, sizeof(*keys));
        if (keys == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "jcs: out of memory sorting %zu members", count);
    }
    /* json_object_keylen_foreach wants a non-const object, yet only reads */
    json_object_keylen_foreach((json_t *)(uintptr_t)v, k, klen, m)
    {
        if (!mrd_utf8_valid(k, klen)) {
            rc = mrd_err_set(err, MRD_E_INVAL,
                             "jcs: member name is not valid UTF-8 (RFC 8785 §3.2.2.2)");
            goto out;
        }
        keys[i].s = k;
        keys[i].n = klen;
        keys[i].v = m;
        i++;
    }
    if (count > 1)
        qsort(keys, count, sizeof(*keys), key_cmp);
    rc = mrd_buf_putc(out, '{', err);
    for (i = 0; i < count && rc == MRD_OK; i++) {
        struct jcs_probe *inner = NULL;

        if (want != NULL && !probe->found) {
            int c = key_cmp(want, &keys[i]);
            if (c < 0) {
                probe_mark(probe, i, count, out->len);
            } else if (c == 0) {
                /* the name is there: the slot is inside it (level 0), or
                 * there is no room for a second member of that name */
                if (probe->level == 1 || !json_is_object(keys[i].v)) {
                    rc = mrd_err_set(err, MRD_E_INVAL, "jcs: member \"%.*s\" already present",
                                     (int)(want->n < 64 ? want->n : 64), want->s);
                    break;
                }
                inner = probe;
            }
        }
        if (i > 0)
            rc = mrd_buf_putc(out, ',', err);
        if (rc == MRD_OK)
            rc = mrd_jcs_string(keys[i].s, keys[i].n, out, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ':', err);
        if (rc == MRD_OK && inner != NULL) {
            inner->level = 1;
            rc = write_object(keys[i].v, depth + 1, inner, out, err);
        } else if (rc == MRD_OK) {
            rc = write_value(keys[i].v, depth + 1, out, err);
        }
    }
    if (rc == MRD_OK && want != NULL && !probe->found)
        probe_mark(probe, count, count, out->len); /* after the last member */
    if (rc == MRD_OK)
        rc = mrd_buf_putc(out, '}', err);
out:
    mrd_free(keys);
    return rc;
}

static enum mrd_code write_value(const json_t *v, unsigned depth, struct mrd_buf *out,
                                 struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    json_int_t iv;
    char s[JCS_NUM_MAX];
    int len;

    if (depth > JCS_MAX_DEPTH)
        return mrd_err_set(err, MRD_E_TOOBIG, "jcs: nesting deeper than %d levels", JCS_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return write_object(v, depth, NULL, out, err);
    case JSON_ARRAY:
        rc = mrd_buf_putc(out, '[', err);
        for (size_t i = 0; i < json_array_size(v) && rc == MRD_OK; i++) {
            if (i > 0)
                rc = mrd_buf_putc(out, ',', err);
            if (rc == MRD_OK)
                rc = write_value(json_array_get(v, i), depth + 1, out, err);
        }
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ']', err);
        return rc;
    case JSON_STRING:
        return mrd_jcs_string(json_string_value(v), json_string_length(v), out, err);
    case JSON_INTEGER:
        /* jansson keeps integers as long long; a JSON number is an IEEE
         * double to every other RFC 8785 implementation, so beyond 2^53 we
         * print what the double nearest to it prints as */
        iv = json_integer_value(v);
        if (iv > JCS_EXACT_INT || iv < -JCS_EXACT_INT)
            return mrd_jcs_number((double)iv, out, err);
        len = snprintf(s, sizeof(s), "%lld", (long long)iv);
        return mrd_buf_append(out, s, (size_t)len, err);
    case JSON_REAL:
        return mrd_jcs_number(json_real_value(v), out, err);
    case JSON_TRUE:
        return mrd_buf_append(out, "true", 4, err);
    case JSON_FALSE:
        return mrd_buf_append(out, "false", 5, err);
    case JSON_NULL:
        return mrd_buf_append(out, "null", 4, err);
    }
    return mrd_err_set(err, MRD_E_INTERNAL, "jcs: unknown jansson type %d", (int)json_typeof(v));
}

enum mrd_code mrd_jcs_write(const json_t *v, struct mrd_buf *out, struct mrd_err *err)
{
    size_t start = out->len;
    enum mrd_code rc;

    if (v == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "jcs: no value");
    rc = write_value(v, 0, out, err);
    if (rc != MRD_OK) {
        /* leave out as it was: a half-written canonical form is worse than
         * none, since someone might hash it */
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}

enum mrd_code mrd_jcs_write_slot(const json_t *v, const char *outer, const char *inner,
                                 struct mrd_buf *out, struct mrd_jcs_slot *ret, struct mrd_err *err)
{
    size_t start = out->len;
    struct mrd_jcs_slot slot = {0};
    struct jcs_probe probe = {.name = {{outer, strlen(outer), NULL}, {inner, strlen(inner), NULL}},
                              .slot = &slot};
    enum mrd_code rc;

    if (!json_is_object(v))
        return mrd_err_set(err, MRD_E_INVAL, "jcs: not an object");
    rc = write_object(v, 0, &probe, out, err);
    if (rc != MRD_OK) {
        out->len = start; /* as mrd_jcs_write: nothing half-written */
        if (out->data != NULL)
            out->data[start] = '\0';
        return rc;
    }
    *ret = slot;
    return MRD_OK;
}
