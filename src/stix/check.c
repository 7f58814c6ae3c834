/*
 * check: walks one STIX object against the property tables of schema.c.
 *
 * Every member of the object is looked up in its type's table, then in the
 * common table of its class; a hit is checked by kind (string, timestamp,
 * reference with target types, vocabulary...), a miss is a custom property
 * and is only checked for naming (STIX 2.1 §3.1, §11.1) and for the value
 * rules that hold for every property (no null, no empty list, _ref is an
 * identifier, _bin is base64, _hex is hex). Afterwards required properties
 * are looked for and the type's own rules (rules.c) run.
 *
 * Custom object types (§11.2) and extension-defined types (§7.3 new-sdo,
 * new-sco, new-sro) have no table: they get the common rules of the class
 * they declare, or, when they declare none, only what holds for every
 * object (type, id, timestamps that are present).
 */
#include <math.h>
#include <string.h>

#include "core/str.h"
#include "stix/stix_int.h"
#include "stix/stix_rules.h"

static bool is_lower_alpha(unsigned char ch)
{
    return ch >= 'a' && ch <= 'z';
}

static bool is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

#define hexval(ch) mrd_hex_digit((unsigned char)(ch))

bool stix__type_name_ok(const char *s, size_t n)
{
    if (n < 3 || n > 250 || !is_lower_alpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '-') {
            if (s[i - 1] == '-')
                return false;
        } else if (!is_lower_alpha(ch) && !is_digit(ch)) {
            return false;
        }
    }
    return true;
}

/* Bit 1: a hex digit; bit 2: an upper-case one. */
static const unsigned char hex_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3};

/* The usual UUID in one pass with no branch on its digits (they are
 * random: a branch per digit was most of an id's cost): true when its
 * dashes are in place and the rest are hex digits, with *upper set. */
static bool uuid_shape_ok(const unsigned char *u, bool *upper)
{
    unsigned ok = u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-';
    unsigned all = 1, up = 0;

    for (size_t i = 0; i < 36; i++) {
        unsigned c = (i == 8 || i == 13 || i == 18 || i == 23) ? 1 : hex_class[u[i]];
        all &= c;
        up |= c;
    }
    *upper = (up & 2) != 0;
    return ok && all != 0;
}

bool stix__id_parse(const char *s, size_t n, size_t *ret_tlen, int *ret_version, bool *ret_upper,
                    const char **why)
{
    const char *u;
    size_t t = 0;
    bool upper = false;

    while (t + 1 < n && !(s[t] == '-' && s[t + 1] == '-'))
        t++;
    if (t + 1 >= n) {
        *why = "no '--' between type and UUID";
        return false;
    }
    if (!stix__type_name_ok(s, t)) {
        *why = "the type part is not a valid type name";
        return false;
    }
    u = s + t + 2;
    if (n - t - 2 != 36) {
        *why = "the UUID part is not 36 characters (8-4-4-4-12 hex digits)";
        return false;
    }
    /* the usual shape at once; otherwise the first wrong character is named */
    if (!uuid_shape_ok((const unsigned char *)u, &upper)) {
        for (size_t i = 0; i < 36; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash && u[i] != '-') {
                *why = "the UUID part is not 8-4-4-4-12 hex digits";
                return false;
            }
            if (!dash && hexval(u[i]) < 0) {
                *why = "the UUID part has a character that is not a hex digit";
                return false;
            }
        }
    }
    /* RFC 4122 §4.1.3: versions 1-5; §4.1.1: the variant bits are 10x. */
    if (hexval((unsigned char)u[14]) < 1 || hexval((unsigned char)u[14]) > 5) {
        *why = "the UUID version digit is not 1-5 (RFC 4122 §4.1.3)";
        return false;
    }
    if ((hexval((unsigned char)u[19]) & 0xc) != 0x8) {
        *why = "the UUID variant is not RFC 4122 (digit 17 must be 8, 9, a or b)";
        return false;
    }
    *ret_tlen = t;
    *ret_version = hexval((unsigned char)u[14]);
    *ret_upper = upper;
    return true;
}

/* RFC 5646 §2.1, syntax only: a primary language subtag of 2-3 letters
 * then subtags of 1-8 alphanumerics; "x-..." private use and the
 * grandfathered "i-..." forms are accepted by the same shape. */
bool stix__lang_tag_ok(const char *s, size_t n)
{
    size_t i = 0;
    size_t first = 0;

    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
        i++;
    first = i;
    /* The IANA registry holds 2- and 3-letter primary language subtags only
     * (4 letters are reserved, 5-8 unused), so "english" is not a tag. */
    if (first == 0 || first > 3)
        return false;
    if (first == 1 && !(s[0] == 'x' || s[0] == 'X' || s[0] == 'i' || s[0] == 'I'))
        return false;
    while (i < n) {
        size_t len = 0;
        if (s[i] != '-')
            return false;
        i++;
        while (i < n && s[i] != '-') {
            unsigned char ch = (unsigned char)s[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch)))
                return false;
            i++;
            len++;
        }
        if (len == 0 || len > 8)
            return false;
    }
    return true;
}

bool stix__check_ts(struct stix_ctx *c, const json_t *v, int min_frac, const char *section,
                    struct mrd_time *ret)
{
    struct mrd_err e = {0};
    struct mrd_time t;

    if (!json_is_string(v)) {
        stix__error(c, "timestamp-format", SEC_TS,
                    "must be a timestamp string like 2016-05-12T08:17:27.000Z");
        return false;
    }
    if (mrd_time_parse(json_string_value(v), json_string_length(v), &t, &e) != MRD_OK) {
        stix__error(c, "timestamp-format", SEC_TS,
                    "'%.40s' is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z, UTC): %s",
                    json_string_value(v), e.msg);
        return false;
    }
    if (t.frac_digits < min_frac) {
        stix__error(c, "timestamp-precision", section,
                    "'%.40s' must be precise to the millisecond (at least 3 fraction digits, "
                    "e.g. .000Z)",
                    json_string_value(v));
    }
    if (ret != NULL)
        *ret = t;
    return true;
}

/* Does the referenced type (t, n) satisfy targets? See schema.c. Unknown
 * (custom) types satisfy the class tokens, since a custom object may be of
 * any class; they never satisfy a named type. */
static bool target_ok(const char *t, size_t n, const char *targets)
{
    enum stix_class cls = stix_type_class(t, n);
    const char *p = targets;

    while (*p != '\0') {
        const char *e = strchr(p, ' ');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (len == 3 && memcmp(p, "ANY", 3) == 0)
            return true;
        if (len == 3 && memcmp(p, "SDO", 3) == 0 &&
            (cls == STIX_CLASS_SDO || cls == STIX_CLASS_CUSTOM))
            return true;
        if (len == 3 && memcmp(p, "SCO", 3) == 0 &&
            (cls == STIX_CLASS_SCO || cls == STIX_CLASS_CUSTOM))
            return true;
        if (len == 3 && memcmp(p, "SRO", 3) == 0 && cls == STIX_CLASS_SRO)
            return true;
        if (len == n && memcmp(p, t, n) == 0)
            return true;
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

static void describe_targets(const char *targets, char *out, size_t size)
{
    size_t pos = 0;
    const char *p = targets;

    out[0] = '\0';
    while (*p != '\0' && pos + 1 < size) {
        const char *e = strchr(p, ' ');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        const char *word = p;
        size_t wlen = len;
        if (len == 3 && memcmp(p, "SDO", 3) == 0) {
            word = "an SDO";
            wlen = 6;
        } else if (len == 3 && memcmp(p, "SCO", 3) == 0) {
            word = "an SCO";
            wlen = 6;
        } else if (len == 3 && memcmp(p, "SRO", 3) == 0) {
            word = "an SRO";
            wlen = 6;
        }
        if (pos > 0 && pos + 4 < size) {
            memcpy(out + pos, " or ", 4);
            pos += 4;
        }
        if (wlen > size - 1 - pos)
            wlen = size - 1 - pos;
        memcpy(out + pos, word, wlen);
        pos += wlen;
        out[pos] = '\0';
        p += len;
        while (*p == ' ')
            p++;
    }
}

void stix__check_ref(struct stix_ctx *c, const json_t *v, const char *targets, const char *section)
{
    size_t tlen;
    int version;
    bool upper;
    const char *why;
    const char *s;
    size_t n;

    if (c->container != NULL) {
        /* Inside observed-data "objects": a reference is a key of it. */
        const json_t *target;
        const char *tt;
        if (!json_is_string(v)) {
            stix__error(c, "ref-format", "STIX 2.1 §4.14",
                        "must be a key of the observed-data 'objects' dictionary");
            return;
        }
        target = json_object_get(c->container, json_string_value(v));
        tt = json_string_value(json_object_get(target, "type"));
        if (target == NULL)
            stix__error(c, "ref-unresolved", "STIX 2.1 §4.14",
                        "'%.60s' is not a key of the observed-data 'objects' dictionary",
                        json_string_value(v));
        else if (tt != NULL && !target_ok(tt, strlen(tt), targets))
            stix__error(c, "ref-type", section, "'%.60s' is a '%.60s', which does not fit here",
                        json_string_value(v), tt);
        return;
    }
    if (!json_is_string(v)) {
        stix__error(c, "ref-format", SEC_ID, "must be an identifier string (type--UUID)");
        return;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (!stix__id_parse(s, n, &tlen, &version, &upper, &why)) {
        stix__error(c, "ref-format", SEC_ID, "'%.80s' is not an identifier: %s", s, why);
        return;
    }
    if (!target_ok(s, tlen, targets)) {
        char want[160];
        describe_targets(targets, want, sizeof(want));
        stix__error(c, "ref-type", section, "'%.80s' must refer to %s, not to a '%.*s'", s, want,
                    (int)(tlen > 60 ? 60 : tlen), s);
    }
}

/* ---- generic value rules ---- */

static bool base64_ok(const char *s, size_t n)
{
    size_t pad = 0;

    if (n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '=') {
            pad++;
            continue;
        }
        if (pad > 0)
            return false; /* data after padding */
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '+' ||
              ch == '/'))
            return false;
    }
    return pad <= 2;
}

static bool hex_ok(const char *s, size_t n)
{
    if (n % 2 != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hexval((unsigned char)s[i]) < 0)
            return false;
    return true;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);

    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* §2.10: integers are exact in an IEEE double, |i| <= 2^53 - 1. */
static bool int_ok(json_int_t i)
{
    return i <= 9007199254740991LL && i >= -9007199254740991LL;
}

/* Rules that hold for any property value, known or custom: no null, no
 * empty list (§2.8), _bin/_hex/_ref(s) suffix conventions (§3.1). */
static void check_generic(struct stix_ctx *c, const char *name, const json_t *v)
{
    size_t n = strlen(name);

    if (json_is_null(v)) {
        stix__error(c, "null-value", SEC_COMMON,
                    "null is not a STIX value; leave the property out instead");
        return;
    }
    if (json_is_array(v) && json_array_size(v) == 0) {
        stix__error(c, "empty-list", SEC_LIST,
                    "a list must have at least one element; leave the property out instead");
        return;
    }
    if (json_is_integer(v) && !int_ok(json_integer_value(v))) {
        stix__error(c, "integer-range", "STIX 2.1 §2.10",
                    "integers must lie within -(2^53)+1 .. 2^53-1");
        return;
    }
    if (has_suffix(name, n, "_bin")) {
        if (!json_is_string(v) || !base64_ok(json_string_value(v), json_string_length(v)))
            stix__error(c, "binary-format", "STIX 2.1 §2.2",
                        "a _bin property must be a base64 string (RFC 4648 §4)");
    } else if (has_suffix(name, n, "_hex")) {
        if (!json_is_string(v) || !hex_ok(json_string_value(v), json_string_length(v)))
            stix__error(c, "hex-format", "STIX 2.1 §2.5",
                        "a _hex property must be an even number of hex digits");
    } else if (has_suffix(name, n, "_ref")) {
        stix__check_ref(c, v, "ANY", SEC_NAMING);
    } else if (has_suffix(name, n, "_refs")) {
        if (!json_is_array(v)) {
            stix__error(c, "ref-format", SEC_NAMING,
                        "a _refs property must be a list of identifiers");
            return;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            stix__push_index(c, i);
            stix__check_ref(c, json_array_get(v, i), "ANY", SEC_NAMING);
            stix__pop(c);
        }
    }
}

/* Dictionary keys (§2.7): ASCII letters, digits, '-' and '_', at most 250. */
static bool dict_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > 250)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)k[i];
        if (!(is_lower_alpha(ch) || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '-' ||
              ch == '_'))
            return false;
    }
    return true;
}

/* Does x fit the value kind of a typed dictionary ("S", "LS", "SLS", "I",
 * "IS")? */
static bool dict_value_ok(const json_t *x, const char *kind)
{
    if (strcmp(kind, "S") == 0)
        return json_is_string(x);
    if (strcmp(kind, "SLS") == 0 && json_is_string(x))
        return true;
    if (strcmp(kind, "I") == 0)
        return json_is_integer(x);
    if (strcmp(kind, "IS") == 0)
        return json_is_integer(x) || json_is_string(x);
    if (!json_is_array(x) || json_array_size(x) == 0)
        return false;
    for (size_t i = 0; i < json_array_size(x); i++)
        if (!json_is_string(json_array_get(x, i)))
            return false;
    return true;
}

static const char *dict_value_what(const char *kind)
{
    if (strcmp(kind, "S") == 0)
        return "a string";
    if (strcmp(kind, "I") == 0)
        return "an integer";
    if (strcmp(kind, "IS") == 0)
        return "an integer or a string";
    if (strcmp(kind, "SLS") == 0)
        return "a string or a non-empty list of strings";
    return "a non-empty list of strings";
}

static void check_dict(struct stix_ctx *c, const json_t *v, const char *section, const char *values)
{
    const char *k;
    json_t *x;

    if (!json_is_object(v)) {
        stix__error(c, "property-type", section, "must be a dictionary (JSON object)");
        return;
    }
    if (json_object_size(v) == 0) {
        stix__error(c, "empty-dictionary", SEC_DICT,
                    "a dictionary must have at least one entry; leave the property out instead");
        return;
    }
    json_object_foreach(stix__mut(v), k, x)
    {
        if (!dict_key_ok(k, strlen(k)))
            stix__error(c, "dictionary-key", SEC_DICT,
                        "key '%.60s' must be 1-250 ASCII letters, digits, '-' or '_'", k);
        if (json_is_null(x)) {
            stix__push_key(c, k);
            stix__error(c, "null-value", SEC_DICT, "null is not a STIX value");
            stix__pop(c);
        } else if (values != NULL && !dict_value_ok(x, values)) {
            stix__push_key(c, k);
            stix__error(c, "property-type", section, "each value of this dictionary must be %s",
                        dict_value_what(values));
            stix__pop(c);
        }
    }
}

static const char *const hash_algos[] = {"MD5",      "SHA-1",  "SHA-256", "SHA-512", "SHA3-256",
                                         "SHA3-512", "SSDEEP", "TLSH",    NULL};

/* Hex lengths the hash-algorithm-ov defines for its fixed-size digests. */
static size_t hash_hex_len(const char *alg)
{
    if (strcmp(alg, "MD5") == 0)
        return 32;
    if (strcmp(alg, "SHA-1") == 0)
        return 40;
    if (strcmp(alg, "SHA-256") == 0 || strcmp(alg, "SHA3-256") == 0)
        return 64;
    if (strcmp(alg, "SHA-512") == 0 || strcmp(alg, "SHA3-512") == 0)
        return 128;
    return 0;
}

static void check_hashes(struct stix_ctx *c, const json_t *v)
{
    const char *k;
    json_t *x;

    check_dict(c, v, "STIX 2.1 §2.7", "S");
    if (!json_is_object(v))
        return;
    json_object_foreach(stix__mut(v), k, x)
    {
        size_t kn = strlen(k);
        size_t want;
        stix__push_key(c, k);
        if (kn < 3 || kn > 250)
            stix__error(c, "hash-key", "STIX 2.1 §2.7",
                        "hash algorithm names must be 3-250 characters");
        else if (!stix__in_vocab(hash_algos, k) && strncmp(k, "x_", 2) != 0)
            stix__warn(c, "hash-algorithm", "STIX 2.1 §10.3",
                       "'%.40s' is not in hash-algorithm-ov (MD5, SHA-1, SHA-256, SHA-512, "
                       "SHA3-256, SHA3-512, SSDEEP, TLSH); custom ones should start with x_",
                       k);
        if (!json_is_string(x)) {
            stix__error(c, "property-type", "STIX 2.1 §2.7", "a hash value must be a string");
        } else if ((want = hash_hex_len(k)) != 0 &&
                   (json_string_length(x) != want ||
                    !hex_ok(json_string_value(x), json_string_length(x)))) {
            stix__error(c, "hash-value", "STIX 2.1 §10.3",
                        "a %s hash must be %zu hex digits, got '%.40s'", k, want,
                        json_string_value(x));
        }
        stix__pop(c);
    }
}

static bool lower_hyphen(const char *s)
{
    for (; *s != '\0'; s++)
        if ((*s >= 'A' && *s <= 'Z') || *s == ' ' || *s == '_')
            return false;
    return true;
}

static void check_kcps(struct stix_ctx *c, const json_t *v)
{
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *k = json_array_get(v, i);
        static const char *const names[] = {"kill_chain_name", "phase_name"};
        stix__push_index(c, i);
        if (!json_is_object(k)) {
            stix__error(c, "property-type", "STIX 2.1 §2.11",
                        "a kill-chain-phase must be an object");
            stix__pop(c);
            continue;
        }
        for (size_t j = 0; j < 2; j++) {
            const json_t *x = json_object_get(k, names[j]);
            if (x == NULL)
                stix__error(c, "required-property", "STIX 2.1 §2.11",
                            "a kill-chain-phase needs '%s'", names[j]);
            else if (!json_is_string(x))
                stix__error_at(c, names[j], "property-type", "STIX 2.1 §2.11", "must be a string");
            else if (!lower_hyphen(json_string_value(x)))
                stix__warn_at(c, names[j], "kill-chain-format", "STIX 2.1 §2.11",
                              "'%.60s' should be lowercase with hyphens between words",
                              json_string_value(x));
        }
        stix__pop(c);
    }
}

static void check_extrefs(struct stix_ctx *c, const json_t *v)
{
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *r = json_array_get(v, i);
        const json_t *x;
        static const char *const strs[] = {"source_name", "description", "url", "external_id"};
        stix__push_index(c, i);
        if (!json_is_object(r)) {
            stix__error(c, "property-type", "STIX 2.1 §2.5",
                        "an external-reference must be an object");
            stix__pop(c);
            continue;
        }
        for (size_t j = 0; j < 4; j++) {
            x = json_object_get(r, strs[j]);
            if (x != NULL && !json_is_string(x))
                stix__error_at(c, strs[j], "property-type", "STIX 2.1 §2.5", "must be a string");
        }
        if (json_object_get(r, "source_name") == NULL)
            stix__error(c, "required-property", "STIX 2.1 §2.5",
                        "an external-reference needs 'source_name'");
        if (json_object_get(r, "description") == NULL && json_object_get(r, "url") == NULL &&
            json_object_get(r, "external_id") == NULL)
            stix__error(c, "external-reference", "STIX 2.1 §2.5",
                        "an external-reference needs at least one of 'description', 'url' or "
                        "'external_id'");
        x = json_object_get(r, "hashes");
        if (x != NULL) {
            stix__push_key(c, "hashes");
            check_hashes(c, x);
            stix__pop(c);
        }
        stix__pop(c);
    }
}

static void check_sub_object(struct stix_ctx *c, const json_t *v, const struct stix_prop *sub,
                             const char *section);

static bool is_strlist(struct stix_ctx *c, const json_t *v, const char *section)
{
    if (!json_is_array(v)) {
        stix__error(c, "property-type", section, "must be a list of strings");
        return false;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i))) {
            stix__push_index(c, i);
            stix__error(c, "property-type", section, "must be a string");
            stix__pop(c);
            return false;
        }
    }
    return true;
}

static void check_vocab_value(struct stix_ctx *c, const json_t *v, const struct stix_prop *p,
                              bool closed)
{
    const char *s = json_string_value(v);

    if (stix__in_vocab(p->vocab, s))
        return;
    if (closed)
        stix__error(c, "enum-value", "STIX 2.1 §2.4", "'%.60s' is not a value of %s", s, p->arg);
    else
        stix__warn(c, "open-vocab", "STIX 2.1 §2.14", "'%.60s' is not in %s", s, p->arg);
}

/* Checks one known property's value by kind. The path is at the property. */
static void check_value(struct stix_ctx *c, const json_t *obj, const struct stix_prop *p,
                        const json_t *v, const char *section)
{
    switch ((enum stix_pk)p->kind) {
    case PK_ANY:
        break;
    case PK_STR:
        if (!json_is_string(v))
            stix__error(c, "property-type", section, "must be a string");
        break;
    case PK_TS: {
        int min = (strcmp(p->name, "created") == 0 || strcmp(p->name, "modified") == 0) ? 3 : 0;
        stix__check_ts(c, v, min, SEC_COMMON, NULL);
        break;
    }
    case PK_REF:
        stix__check_ref(c, v, p->arg, section);
        break;
    case PK_REFS:
    case PK_MARKREFS: {
        const char *targets = p->kind == PK_MARKREFS ? "marking-definition" : p->arg;
        if (!json_is_array(v)) {
            stix__error(c, "property-type", section, "must be a list of identifiers");
            break;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            stix__push_index(c, i);
            stix__check_ref(c, json_array_get(v, i), targets,
                            p->kind == PK_MARKREFS ? "STIX 2.1 §7.2.2" : section);
            stix__pop(c);
        }
        break;
    }
    case PK_INT:
        if (!json_is_integer(v)) {
            stix__error(c, "property-type", section, "must be an integer");
        } else if (!int_ok(json_integer_value(v))) {
            stix__error(c, "integer-range", "STIX 2.1 §2.10",
                        "integers must lie within -(2^53)+1 .. 2^53-1");
        } else if (p->flags & P_RANGE) {
            double d = (double)json_integer_value(v);
            if (d < p->min || d > p->max)
                stix__error(c, "integer-range", section, "%lld is outside %.0f..%.0f",
                            (long long)json_integer_value(v), p->min, p->max);
        }
        break;
    case PK_NUM:
        if (!json_is_number(v)) {
            stix__error(c, "property-type", section, "must be a number");
        } else if (p->flags & P_RANGE) {
            double d = json_number_value(v);
            if (!(d >= p->min && d <= p->max))
                stix__error(c, "number-range", section, "%g is outside %g..%g", d, p->min, p->max);
        }
        break;
    case PK_BOOL:
        if (!json_is_boolean(v))
            stix__error(c, "property-type", section, "must be true or false");
        break;
    case PK_STRS:
        is_strlist(c, v, section);
        break;
    case PK_OV:
    case PK_ENUM:
        if (!json_is_string(v))
            stix__error(c, "property-type", section, "must be a string");
        else
            check_vocab_value(c, v, p, p->kind == PK_ENUM);
        break;
    case PK_OVS:
    case PK_ENUMS:
        if (!is_strlist(c, v, section))
            break;
        for (size_t i = 0; i < json_array_size(v); i++) {
            stix__push_index(c, i);
            check_vocab_value(c, json_array_get(v, i), p, p->kind == PK_ENUMS);
            stix__pop(c);
        }
        break;
    case PK_KCPS:
        if (!json_is_array(v))
            stix__error(c, "property-type", section, "must be a list of kill-chain-phase");
        else
            check_kcps(c, v);
        break;
    case PK_EXTREFS:
        if (!json_is_array(v))
            stix__error(c, "property-type", section, "must be a list of external-reference");
        else
            check_extrefs(c, v);
        break;
    case PK_HASHES:
        check_hashes(c, v);
        break;
    case PK_DICT:
        check_dict(c, v, section, p->arg);
        break;
    case PK_LANGS:
        if (!is_strlist(c, v, section))
            break;
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *x = json_array_get(v, i);
            if (!stix__lang_tag_ok(json_string_value(x), json_string_length(x))) {
                stix__push_index(c, i);
                stix__error(c, "language-tag", section, "'%.40s' is not an RFC 5646 language tag",
                            json_string_value(x));
                stix__pop(c);
            }
        }
        break;
    case PK_BIN:
        if (!json_is_string(v) || !base64_ok(json_string_value(v), json_string_length(v)))
            stix__error(c, "binary-format", "STIX 2.1 §2.2",
                        "must be base64 (RFC 4648 §4) with padding");
        break;
    case PK_HEX:
        if (!json_is_string(v) || !hex_ok(json_string_value(v), json_string_length(v)))
            stix__error(c, "hex-format", "STIX 2.1 §2.5", "must be an even number of hex digits");
        break;
    case PK_OBJ:
        check_sub_object(c, v, p->sub, section);
        break;
    case PK_OBJS:
        if (!json_is_array(v)) {
            stix__error(c, "property-type", section, "must be a list of objects");
            break;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            stix__push_index(c, i);
            check_sub_object(c, json_array_get(v, i), p->sub, section);
            stix__pop(c);
        }
        break;
    case PK_LANG:
        if (!json_is_string(v) || !stix__lang_tag_ok(json_string_value(v), json_string_length(v)))
            stix__error(c, "language-tag", SEC_COMMON,
                        "must be an RFC 5646 language tag such as 'en' or 'pt-BR'");
        break;
    case PK_SPECVER:
        if (!json_is_string(v) || strcmp(json_string_value(v), "2.1") != 0)
            stix__error(c, "spec-version", SEC_COMMON,
                        "must be \"2.1\" for STIX 2.1 content (got %s)",
                        json_is_string(v) ? json_string_value(v) : "a non-string");
        break;
    case PK_GRANULAR:
        stix__check_granular(c, obj, v);
        break;
    case PK_EXTS:
        break; /* check_extensions runs with the object's class known */
    }
}

/* Property names (§3.1, §11.1): a-z, 0-9 and '_', 3-250 long, starting
 * with a letter. */
bool stix__prop_name_ok(const char *k, size_t n)
{
    if (n < 3 || n > 250 || !is_lower_alpha((unsigned char)k[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)k[i];
        if (!is_lower_alpha(ch) && !is_digit(ch) && ch != '_')
            return false;
    }
    return true;
}

/* §3.8 reserves these names (the plural and *_precision forms were
 * reserved in STIX 2.0 and are still refused by the OASIS schemas). */
static const char *const reserved_props[] = {"severity",
                                             "username",
                                             "usernames",
                                             "phone_number",
                                             "phone_numbers",
                                             "action",
                                             "addresses",
                                             "first_seen_precision",
                                             "last_seen_precision",
                                             "valid_from_precision",
                                             "valid_until_precision",
                                             NULL};

static void check_custom_prop(struct stix_ctx *c, const char *k, const json_t *v, bool spec_type,
                              bool ext_declared)
{
    size_t n = strlen(k);

    if (!stix__prop_name_ok(k, n)) {
        stix__error(c, "property-name", SEC_CUSTOM,
                    "property names must be 3-250 characters of a-z, 0-9 and '_', starting "
                    "with a letter");
    } else if (spec_type && stix__in_vocab(reserved_props, k)) {
        stix__error(c, "reserved-property", "STIX 2.1 §3.8",
                    "'%s' is a reserved property name and must not be used", k);
    } else if (spec_type && !ext_declared && strncmp(k, "x_", 2) != 0) {
        stix__warn(c, "custom-prefix", SEC_CUSTOM,
                   "custom property '%.60s' should start with x_ (or be defined by an "
                   "extension-definition)",
                   k);
    }
    check_generic(c, k, v);
}

static void check_sub_object(struct stix_ctx *c, const json_t *v, const struct stix_prop *sub,
                             const char *section)
{
    const char *k;
    json_t *x;

    if (!json_is_object(v)) {
        stix__error(c, "property-type", section, "must be an object");
        return;
    }
    if (json_object_size(v) == 0) {
        stix__error(c, "empty-dictionary", SEC_DICT, "must not be empty");
        return;
    }
    json_object_foreach(stix__mut(v), k, x)
    {
        const struct stix_prop *p = stix__prop_find(sub, k);
        stix__push_key(c, k);
        if (json_is_null(x))
            stix__error(c, "null-value", SEC_COMMON, "null is not a STIX value");
        else if (p != NULL)
            check_value(c, v, p, x, section);
        else
            check_custom_prop(c, k, x, false, false);
        stix__pop(c);
    }
    for (const struct stix_prop *p = sub; p->name != NULL; p++)
        if ((p->flags & P_REQ) && json_object_get(v, p->name) == NULL)
            stix__error(c, "required-property", section, "'%s' is required here", p->name);
    /* §6.6.2: a MIME part has body or body_raw_ref; §6.7.6: the PE
     * extension has something besides pe_type. */
    if (stix__prop_find(sub, "body_raw_ref") != NULL && json_object_get(v, "body") == NULL &&
        json_object_get(v, "body_raw_ref") == NULL)
        stix__error(c, "required-property", "STIX 2.1 §6.6.2",
                    "a MIME part needs 'body' or 'body_raw_ref'");
    if (stix__prop_find(sub, "pe_type") != NULL && json_object_get(v, "pe_type") != NULL &&
        json_object_size(v) == 1)
        stix__error(c, "required-property", "STIX 2.1 §6.7.6",
                    "windows-pebinary-ext needs at least one property besides 'pe_type'");
}

/* ---- extensions (§3.10, §7.3) ---- */

/* Returns the class an extension declares for a custom type ("new-sdo"
 * ...), STIX_CLASS_CUSTOM when none; *ret_toplevel is set when a
 * toplevel-property-extension is declared. */
static enum stix_class declared_class(const json_t *obj, bool *ret_toplevel)
{
    const json_t *exts = json_object_get(obj, "extensions");
    enum stix_class cls = STIX_CLASS_CUSTOM;
    const char *k;
    json_t *x;

    *ret_toplevel = false;
    if (!json_is_object(exts))
        return cls;
    json_object_foreach(stix__mut(exts), k, x)
    {
        const char *et = json_string_value(json_object_get(x, "extension_type"));
        if (et == NULL)
            continue;
        if (strcmp(et, "new-sdo") == 0)
            cls = STIX_CLASS_SDO;
        else if (strcmp(et, "new-sco") == 0)
            cls = STIX_CLASS_SCO;
        else if (strcmp(et, "new-sro") == 0)
            cls = STIX_CLASS_SRO;
        else if (strcmp(et, "toplevel-property-extension") == 0)
            *ret_toplevel = true;
    }
    return cls;
}

static bool in_list(const char *const *l, const char *s)
{
    return l != NULL && stix__in_vocab(l, s);
}

static void check_extensions(struct stix_ctx *c, const json_t *v, const struct stix_type *t,
                             enum stix_class cls)
{
    const char *k;
    json_t *x;

    if (!json_is_object(v)) {
        stix__error(c, "property-type", SEC_EXT,
                    "'extensions' must be a dictionary of extension name to extension");
        return;
    }
    if (json_object_size(v) == 0) {
        stix__error(c, "empty-dictionary", SEC_EXT,
                    "'extensions' must have at least one entry; leave it out instead");
        return;
    }
    json_object_foreach(stix__mut(v), k, x)
    {
        size_t kn = strlen(k);
        stix__push_key(c, k);
        if (!json_is_object(x) || json_object_size(x) == 0) {
            stix__error(c, "extension-value", SEC_EXT, "an extension must be a non-empty object");
            stix__pop(c);
            continue;
        }
        if (strncmp(k, "extension-definition--", 22) == 0) {
            size_t tlen;
            int ver;
            bool upper;
            const char *why;
            const json_t *et = json_object_get(x, "extension_type");
            if (!stix__id_parse(k, kn, &tlen, &ver, &upper, &why))
                stix__error(c, "extension-key", SEC_EXT,
                            "'%.80s' is not an extension-definition identifier: %s", k, why);
            if (et == NULL)
                /* The TC's JSON schema (common/extension.json) requires it:
                 * without it a consumer cannot tell what the extension adds. */
                stix__error(c, "required-property", "STIX 2.1 §7.3",
                            "an extension-definition extension needs 'extension_type'");
            else if (!json_is_string(et) ||
                     !stix__in_vocab(stix__ext_type_enum(), json_string_value(et)))
                stix__error_at(c, "extension_type", "enum-value", "STIX 2.1 §7.3",
                               "must be one of new-sdo, new-sco, new-sro, property-extension, "
                               "toplevel-property-extension");
            else if (t != NULL && strncmp(json_string_value(et), "new-", 4) == 0)
                stix__error_at(c, "extension_type", "extension-type", "STIX 2.1 §7.3",
                               "'%s' extensions define new object types; '%s' is a STIX type",
                               json_string_value(et), t->name);
        } else if (kn > 4 && has_suffix(k, kn, "-ext")) {
            const struct stix_prop *props = stix__ext_props(k);
            if (t != NULL && in_list(t->exts, k)) {
                check_sub_object(c, x, props, t->section);
            } else if (t == NULL) {
                /* A custom type owns its extension names: a predefined name
                 * there is not the predefined extension (the OASIS validator
                 * accepts archive-ext on a custom observable). */
            } else if (props != NULL) {
                stix__error(c, "extension-key", SEC_EXT,
                            "'%s' is a predefined extension of another object type, not of "
                            "'%s'",
                            k, t != NULL ? t->name : "this type");
            } else if (cls != STIX_CLASS_SCO && t != NULL) {
                stix__warn(c, "custom-extension", SEC_CUSTOM,
                           "custom '-ext' extensions are for SCOs; use an extension-definition");
            } else if (strncmp(k, "x-", 2) != 0) {
                stix__warn(c, "custom-prefix", SEC_CUSTOM,
                           "custom extension '%.60s' should start with x-", k);
            }
        } else if (stix__type_name_ok(k, kn)) {
            /* A deprecated custom extension (§11.3.1): "the name of the
             * extension MUST end in -ext" (only the x- prefix is a SHOULD). */
            stix__error(c, "extension-key", "STIX 2.1 §11.3.1",
                        "custom extension name '%.60s' must end in '-ext' (or be an "
                        "extension-definition id)",
                        k);
        } else {
            stix__error(c, "extension-key", SEC_EXT,
                        "'%.60s' is neither an extension-definition id nor an extension name "
                        "(3-250 of a-z, 0-9 and '-')",
                        k);
        }
        stix__pop(c);
    }
}

/* ---- the object ---- */

static void check_id(struct stix_ctx *c, const json_t *obj, const char *type, size_t tn,
                     enum stix_class cls)
{
    const json_t *id = json_object_get(obj, "id");
    size_t tlen;
    int ver;
    bool upper;
    const char *why;
    const char *s;

    if (id == NULL)
        return; /* reported as a missing required property */
    stix__push_key(c, "id");
    if (!json_is_string(id)) {
        stix__error(c, "id-format", SEC_ID, "must be an identifier string (type--UUID)");
        goto out;
    }
    s = json_string_value(id);
    if (!stix__id_parse(s, json_string_length(id), &tlen, &ver, &upper, &why)) {
        stix__error(c, "id-format", SEC_ID, "'%.80s' is not a STIX identifier: %s", s, why);
        goto out;
    }
    if (tlen != tn || memcmp(s, type, tn) != 0) {
        stix__error(c, "id-type-mismatch", "STIX 2.1 §3.3",
                    "the identifier's type part '%.*s' must equal the object's type '%.60s'",
                    (int)(tlen > 60 ? 60 : tlen), s, type);
        goto out;
    }
    if (upper)
        stix__warn(c, "uuid-case", SEC_ID, "UUID hex digits should be lowercase (RFC 4122 §3)");
    if (cls == STIX_CLASS_SCO) {
        if (ver != 5 && ver != 4)
            stix__warn(c, "uuid-version", "STIX 2.1 §2.9",
                       "SCO identifiers should use UUIDv5 (or UUIDv4 without contributing "
                       "properties), not v%d",
                       ver);
    } else if (ver != 4 && cls != STIX_CLASS_CUSTOM) {
        stix__warn(c, "uuid-version", "STIX 2.1 §2.9",
                   "identifiers of SDOs, SROs and meta objects should use UUIDv4, not v%d", ver);
    }
out:
    stix__pop(c);
}

static void check_created_modified(struct stix_ctx *c, const json_t *obj)
{
    const json_t *cr = json_object_get(obj, "created");
    const json_t *mo = json_object_get(obj, "modified");
    struct mrd_time tc;
    struct mrd_time tm;
    struct mrd_err e = {0};

    if (!json_is_string(cr) || !json_is_string(mo))
        return;
    if (mrd_time_parse(json_string_value(cr), json_string_length(cr), &tc, &e) != MRD_OK ||
        mrd_time_parse(json_string_value(mo), json_string_length(mo), &tm, &e) != MRD_OK)
        return;
    if (mrd_time_cmp(&tm, &tc) < 0)
        stix__error_at(c, "modified", "modified-before-created", "STIX 2.1 §3.2",
                       "'modified' (%.40s) must not be earlier than 'created' (%.40s)",
                       json_string_value(mo), json_string_value(cr));
}

static const char *class_name(enum stix_class cls)
{
    switch (cls) {
    case STIX_CLASS_SDO:
        return "SDO";
    case STIX_CLASS_SRO:
        return "SRO";
    case STIX_CLASS_SCO:
        return "SCO";
    case STIX_CLASS_META:
        return "meta object";
    case STIX_CLASS_BUNDLE:
        return "bundle";
    case STIX_CLASS_CUSTOM:
        break;
    }
    return "custom object";
}

void stix__check_object(struct stix_ctx *c, const json_t *obj)
{
    const json_t *tv;
    const char *type;
    size_t tn;
    const struct stix_type *t;
    const struct stix_prop *common;
    enum stix_class cls;
    bool toplevel = false;
    const char *section;
    const char *k;
    json_t *v;

    if (!json_is_object(obj)) {
        stix__error(c, "not-an-object", "STIX 2.1 §3", "a STIX object must be a JSON object");
        return;
    }
    tv = json_object_get(obj, "type");
    if (tv == NULL) {
        stix__error(c, "required-property", SEC_COMMON,
                    "every STIX object needs a 'type' property");
        return;
    }
    if (!json_is_string(tv)) {
        stix__error_at(c, "type", "property-type", SEC_COMMON, "must be a string");
        return;
    }
    type = json_string_value(tv);
    tn = json_string_length(tv);
    if (!stix__type_name_ok(type, tn)) {
        stix__error_at(c, "type", "type-name", SEC_NAMING,
                       "'%.60s' is not a valid type name: 3-250 characters of a-z, 0-9 and "
                       "'-', starting with a letter, no '--'",
                       type);
        return;
    }
    if (strcmp(type, "action") == 0) {
        /* Reserved since STIX 2.0 (the OASIS schemas forbid it too). */
        stix__error_at(c, "type", "type-name", SEC_NAMING, "'action' is a reserved type name");
        return;
    }
    t = stix__type_find(type, tn);
    cls = t != NULL ? t->cls : declared_class(obj, &toplevel);
    if (t != NULL)
        (void)declared_class(obj, &toplevel);
    if (c->container != NULL && cls != STIX_CLASS_SCO && cls != STIX_CLASS_CUSTOM) {
        stix__error_at(c, "type", "observed-data-objects", "STIX 2.1 §4.14",
                       "observed-data 'objects' may only hold SCOs, not a '%.60s'", type);
        return;
    }
    if (cls == STIX_CLASS_BUNDLE) {
        stix__error_at(c, "type", "nested-bundle", SEC_BUNDLE,
                       "a bundle is not a STIX object and cannot appear inside a document");
        return;
    }
    section = t != NULL ? t->section : SEC_CUSTOM;
    if (t == NULL && cls == STIX_CLASS_CUSTOM && strncmp(type, "x-", 2) != 0)
        stix__warn_at(c, "type", "custom-prefix", SEC_CUSTOM,
                      "custom object type '%.60s' should start with x- (or be declared by an "
                      "extension-definition with extension_type new-sdo/new-sco/new-sro)",
                      type);
    common = stix__common_props(cls, type);

    json_object_foreach(stix__mut(obj), k, v)
    {
        const struct stix_prop *p = t != NULL ? stix__prop_find(t->props, k) : NULL;
        const char *psec = section;
        if (p == NULL) {
            p = stix__prop_find(common, k);
            psec = SEC_COMMON;
        }
        stix__push_key(c, k);
        if (json_is_null(v)) {
            stix__error(c, "null-value", SEC_COMMON,
                        "null is not a STIX value; leave the property out instead");
        } else if (p != NULL && (p->flags & P_FORBID)) {
            stix__error(c, "forbidden-property", section, "'%s' must not appear on a %s", k, type);
        } else if (p != NULL) {
            check_value(c, obj, p, v, psec);
            if (p->kind == PK_EXTS)
                check_extensions(c, v, t, cls);
            else if (json_is_array(v) && json_array_size(v) == 0)
                stix__error(c, "empty-list", SEC_LIST,
                            "a list must have at least one element; leave the property out "
                            "instead");
        } else if (strcmp(k, "defanged") == 0 && t != NULL && cls != STIX_CLASS_SCO) {
            stix__error(c, "defanged-sco-only", SEC_COMMON,
                        "'defanged' is defined for SCOs only, not for a %s", class_name(cls));
        } else {
            check_custom_prop(c, k, v, t != NULL, toplevel);
        }
        stix__pop(c);
    }

    /* Required properties. Custom types without a declared class only need
     * type and id; with one, the common rules of that class apply. */
    if (cls != STIX_CLASS_CUSTOM) {
        for (const struct stix_prop *p = common; p->name != NULL; p++)
            if ((p->flags & P_REQ) && json_object_get(obj, p->name) == NULL &&
                !(c->container != NULL && strcmp(p->name, "id") == 0))
                stix__error(c, "required-property", SEC_COMMON, "'%s' is required on every %s",
                            p->name, class_name(cls));
    } else {
        bool has_c = json_object_get(obj, "created") != NULL;
        bool has_m = json_object_get(obj, "modified") != NULL;
        if (json_object_get(obj, "id") == NULL && c->container == NULL)
            stix__error(c, "required-property", SEC_COMMON, "'id' is required on every object");
        /* An undeclared custom object may be SDO-like (created and modified
         * required, §3.2) or SCO-like (neither, §6); one without the other
         * is neither. The OASIS validator rejects both halves. */
        if (has_c != has_m)
            stix__error(c, "required-property", SEC_COMMON,
                        "'%s' is required on a custom object that has '%s' (SDO common "
                        "properties go together)",
                        has_c ? "modified" : "created", has_c ? "created" : "modified");
    }
    if (t != NULL)
        for (const struct stix_prop *p = t->props; p->name != NULL; p++)
            if ((p->flags & P_REQ) && json_object_get(obj, p->name) == NULL)
                stix__error(c, "required-property", t->section, "'%s' is required on a %s", p->name,
                            type);

    if (c->container == NULL)
        check_id(c, obj, type, tn, cls);
    check_created_modified(c, obj);
    if (cls == STIX_CLASS_SCO &&
        (json_object_get(obj, "created") != NULL || json_object_get(obj, "modified") != NULL))
        stix__warn(c, "sco-versioning", SEC_VERSIONING,
                   "SCOs are not versioned; 'created'/'modified' are not SCO properties");
    if (t != NULL && t->extra != NULL)
        t->extra(c, obj);
    if (cls == STIX_CLASS_SCO && t != NULL && (c->flags & STIX_NO_SCO_IDCHECK) == 0 &&
        c->container == NULL && stix__warnings_on(c))
        stix__check_sco_id(c, obj, type);
}
