/*
 * str: small helpers for (ptr, len) byte strings.
 *
 * Nothing here assumes NUL termination unless the name says so. Pure, no
 * allocation, thread-safe.
 */
#ifndef MRD_CORE_STR_H
#define MRD_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Copies (s, n) into out as one printable token for logs and terminals:
 * every byte of a control character (C0, DEL, C1), a space, '"', '\\', a
 * Unicode bidi override or isolate (U+202A..U+202E, U+2066..U+2069) and of
 * invalid UTF-8 becomes "\xNN"; other UTF-8 is kept. Always NUL-terminates
 * (size > 0) and never cuts an escape or a character in half: output that
 * does not fit is dropped. Returns the length written. */
size_t mrd_str_escape(const char *s, size_t n, char *out, size_t size);

/* The value of hexadecimal digit c (either case), or -1. */
int mrd_hex_digit(int c);

#endif
