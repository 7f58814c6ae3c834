#include "core/str.h"

#include <string.h>

bool mrd_str_eq(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);

    return n == l && memcmp(s, lit, n) == 0;
}

bool mrd_str_has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t l = strlen(prefix);

    return n >= l && memcmp(s, prefix, l) == 0;
}

bool mrd_str_has_suffix(const char *s, size_t n, const char *suffix)
{
    size_t l = strlen(suffix);

    return n >= l && memcmp(s + n - l, suffix, l) == 0;
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool mrd_str_eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

enum mrd_code mrd_str_to_u64(const char *s, size_t n, uint64_t max, uint64_t *ret,
                             struct mrd_err *err)
{
    uint64_t v = 0;

    if (n == 0)
        return mrd_err_set(err, MRD_E_PARSE, "expected a number, got an empty string");
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return mrd_err_set(err, MRD_E_PARSE, "offset %zu: expected a digit", i);
        d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return mrd_err_set(err, MRD_E_TOOBIG, "number larger than %llu",
                               (unsigned long long)max);
        v = v * 10 + d;
    }
    *ret = v;
    return MRD_OK;
}

size_t mrd_strlcpy(char *dst, const char *src, size_t size)
{
    size_t l = strlen(src);

    if (size > 0) {
        size_t c = l < size - 1 ? l : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return l;
}

size_t mrd_utf8_check(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return i;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return i;
            if (c == 0xE0 && s[i + 1] < 0xA0)
                return i; /* overlong */
            if (c == 0xED && s[i + 1] >= 0xA0)
                return i; /* surrogate */
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return i;
            if (c == 0xF0 && s[i + 1] < 0x90)
                return i; /* overlong */
            if (c == 0xF4 && s[i + 1] >= 0x90)
                return i; /* above U+10FFFF */
            i += 4;
        } else {
            return i;
        }
    }
    return n;
}

bool mrd_utf8_valid(const char *s, size_t n)
{
    return mrd_utf8_check(s, n) == n;
}

int mrd_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The length of the valid UTF-8 sequence at s[0] (1..4), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;

    if (len > n || mrd_utf8_check((const char *)s, len) != len)
        return 0;
    return len;
}

size_t mrd_str_escape(const char *str, size_t n, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, o = 0;

    if (size == 0)
        return 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : utf8_seq_len(s + i, n - i);
        /* C1 controls (U+0080..U+009F) and the bidi overrides and isolates
         * (U+202A..U+202E, U+2066..U+2069) reorder or hide what follows. */
        bool hide =
            len == 0 || c <= 0x20 || c == 0x7f || c == '\\' || c == '"' ||
            (len == 2 && c == 0xC2 && s[i + 1] < 0xA0) ||
            (len == 3 && c == 0xE2 && s[i + 1] == 0x80 && s[i + 2] >= 0xAA && s[i + 2] <= 0xAE) ||
            (len == 3 && c == 0xE2 && s[i + 1] == 0x81 && s[i + 2] >= 0xA6 && s[i + 2] <= 0xA9);
        size_t need = hide ? 4 * (len == 0 ? 1 : len) : len;

        if (o + need >= size)
            break;
        if (!hide) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
            continue;
        }
        for (size_t k = 0; k < (len == 0 ? 1 : len); k++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[s[i + k] >> 4];
            out[o++] = hex[s[i + k] & 15];
        }
        i += len == 0 ? 1 : len;
    }
    out[o] = '\0';
    return o;
}
