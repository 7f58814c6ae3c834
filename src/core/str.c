#include "core/str.h"

#include <stdio.h>
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
        if (d > max || v > (max - d) / 10) /* d > max: max - d would wrap */
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
            uint64_t w;
            /* ASCII, most text: eight bytes at a time */
            while (i + 8 <= n && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0))
                i += 8;
            if (i < n && s[i] < 0x80)
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

/* ---- escaping for display (str.h) ---- */

#define ESC_PIECE 12 /* the longest piece: "\u{202E}" is 8 bytes, a character 4 */

/* The code point of the well-formed sequence of len bytes at s. */
static uint32_t utf8_decode(const unsigned char *s, size_t len)
{
    switch (len) {
    case 2:
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    case 3:
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    default:
        return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
               (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    }
}

/* Characters that are well-formed but act on the display: C1 controls
 * (U+009B is CSI on terminals that honour 8-bit controls), the bidi marks,
 * embeddings, overrides and isolates (Trojan Source, CVE-2021-42574), and
 * the Unicode line and paragraph separators. */
static bool display_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The next piece of the escaped form of s[*i..n): one character copied, or
 * its escape. Advances *i past that character (or invalid byte) and returns
 * the piece's length. */
static size_t esc_piece(const unsigned char *s, size_t n, size_t *i, char out[ESC_PIECE])
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char c = s[*i];
    size_t len, window = n - *i < 4 ? n - *i : 4;

    if (c >= 0x20 && c < 0x7F) {
        out[0] = (char)c;
        (*i)++;
        return 1;
    }
    /* A sequence is well-formed when the check gets past its first byte. */
    len = c < 0x80 ? 0 : (c < 0xE0 ? 2 : (c < 0xF0 ? 3 : 4));
    if (len == 0 || len > window || mrd_utf8_check((const char *)s + *i, window) == 0) {
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 15];
        (*i)++;
        return 4;
    }
    if (display_control(utf8_decode(s + *i, len))) {
        int w = snprintf(out, ESC_PIECE, "\\u{%X}", (unsigned)utf8_decode(s + *i, len));

        *i += len;
        return (size_t)w;
    }
    memcpy(out, s + *i, len);
    *i += len;
    return len;
}

const char *mrd_str_escape(char *dst, size_t size, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char piece[ESC_PIECE];
    size_t i = 0, o = 0, cut = 0;
    bool whole = true;

    while (i < n) {
        size_t k = esc_piece(u, n, &i, piece);

        if (o + k + 1 > size) {
            whole = false;
            break;
        }
        memcpy(dst + o, piece, k);
        o += k;
        if (o + 4 <= size)
            cut = o; /* the last place "..." still fits after */
    }
    if (!whole) {
        /* Cut at the last boundary that leaves room for "..." (there is
         * none when size < 4). */
        o = cut;
        if (o + 4 <= size) {
            memcpy(dst + o, "...", 3);
            o += 3;
        }
    }
    dst[o] = '\0';
    return dst;
}

enum mrd_code mrd_buf_escape(struct mrd_buf *b, const char *s, size_t n, struct mrd_err *err)
{
    const unsigned char *u = (const unsigned char *)s;
    char piece[ESC_PIECE];
    size_t i = 0, start = b->len;
    enum mrd_code rc = MRD_OK;

    while (i < n && rc == MRD_OK) {
        size_t plain = i;

        /* Runs of plain characters go in one append. */
        while (plain < n && u[plain] >= 0x20 && u[plain] < 0x7F)
            plain++;
        if (plain > i) {
            rc = mrd_buf_append(b, s + i, plain - i, err);
            i = plain;
            continue;
        }
        rc = mrd_buf_append(b, piece, esc_piece(u, n, &i, piece), err);
    }
    if (rc != MRD_OK && b->data != NULL) {
        b->len = start; /* unchanged on failure, as every mrd_buf function */
        b->data[start] = '\0';
    }
    return rc;
}

size_t mrd_str_char_len(const char *s, size_t n, bool *ret_control)
{
    char piece[ESC_PIECE];
    size_t i = 0, k;

    *ret_control = false;
    if (n == 0)
        return 0;
    k = esc_piece((const unsigned char *)s, n, &i, piece);
    *ret_control = k != i || memcmp(piece, s, i) != 0;
    return i;
}

bool mrd_str_needs_escape(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char piece[ESC_PIECE];
    size_t i = 0;

    while (i < n) {
        size_t at = i;

        if (u[i] >= 0x20 && u[i] < 0x7F) {
            i++;
            continue;
        }
        if (esc_piece(u, n, &i, piece) != i - at || memcmp(piece, s + at, i - at) != 0)
            return true;
    }
    return false;
}
