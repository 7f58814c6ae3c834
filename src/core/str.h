/*
 * str: small helpers for (ptr, len) byte strings.
 *
 * Nothing here assumes NUL termination unless the name says so. Pure,
 * thread-safe; only mrd_buf_escape allocates (into the caller's buffer).
 */
#ifndef MRD_CORE_STR_H
#define MRD_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

/* (s, n) equals the NUL-terminated lit. */
bool mrd_str_eq(const char *s, size_t n, const char *lit);
bool mrd_str_has_prefix(const char *s, size_t n, const char *prefix);
bool mrd_str_has_suffix(const char *s, size_t n, const char *suffix);
/* ASCII case-insensitive equality of two byte strings. */
bool mrd_str_eq_nocase(const char *a, size_t an, const char *b, size_t bn);

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow,
 * at most max. */
enum mrd_code mrd_str_to_u64(const char *s, size_t n, uint64_t max, uint64_t *ret,
                             struct mrd_err *err);

/* Copies at most size-1 bytes of src and always NUL-terminates (size > 0).
 * Returns strlen(src), so truncation is `ret >= size`. */
size_t mrd_strlcpy(char *dst, const char *src, size_t size);

/* True when (s, n) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool mrd_utf8_valid(const char *s, size_t n);
/* The offset of the first byte that starts an invalid sequence, or n. */
size_t mrd_utf8_check(const char *s, size_t n);

/* The value of hexadecimal digit c (either case), or -1. Inline: the id
 * and hash checks call it for every digit. */
static inline int mrd_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Escaping text from outside before it is printed (a file or member name, a
 * value from a log, a message from a peer, a JSON path), so that it can
 * neither drive a terminal nor forge or reorder a log line. The escaped form:
 *
 *   - printable ASCII and every other well-formed UTF-8 character: as is;
 *   - C0 controls (TAB, CR and LF included) and DEL: \xNN (two hex digits);
 *   - bytes that are not well-formed UTF-8 (RFC 3629): \xNN, one per byte;
 *   - C1 controls U+0080..U+009F and the Unicode bidirectional formatting
 *     characters (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069)
 *     and the line and paragraph separators U+2028, U+2029: \u{HEX}.
 *
 * A backslash is not doubled, so escaping twice changes nothing (a message
 * may be escaped where it is built and again where it is printed); the form
 * is for reading, not for decoding back.
 */
#define MRD_ESC_SIZE 1024 /* what MRD_ESC() shows at most, NUL included */

/* Writes the escaped form of (s, n) into dst (size > 0 bytes), always
 * NUL-terminated. When it does not fit it is cut between two characters and
 * ends in "...". Returns dst, so it can be an argument of printf. */
const char *mrd_str_escape(char *dst, size_t size, const char *s, size_t n);

/* Appends the whole escaped form of (s, n) to b (MRD_E_TOOBIG past b's
 * maximum, b unchanged then). */
enum mrd_code mrd_buf_escape(struct mrd_buf *b, const char *s, size_t n, struct mrd_err *err);

/* True when (s, n) has something mrd_str_escape would change. */
bool mrd_str_needs_escape(const char *s, size_t n);

/* The length of the character at s (n bytes left, n > 0; 0 when n is 0):
 * its UTF-8 sequence, or 1 for ASCII and for a byte that does not start a
 * well-formed sequence. *ret_control says whether mrd_str_escape would
 * escape it (C0, DEL, C1, a bidi or line-separator character, a bad byte):
 * what a writer whose format has no escape must replace. */
size_t mrd_str_char_len(const char *s, size_t n, bool *ret_control);

/* The escaped form of the NUL-terminated s (or of n bytes at s), at most
 * MRD_ESC_SIZE - 1 bytes, in a compound literal that lives until the end of
 * the enclosing block: printf("%s\n", MRD_ESC(name)). */
#define MRD_ESC(s) mrd_str_escape((char[MRD_ESC_SIZE]){0}, MRD_ESC_SIZE, (s), strlen(s))
#define MRD_ESCN(s, n) mrd_str_escape((char[MRD_ESC_SIZE]){0}, MRD_ESC_SIZE, (s), (n))

#endif
