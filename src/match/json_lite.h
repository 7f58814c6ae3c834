/*
 * json_lite: boundary-finding JSON helpers for match/ (internal).
 * Lenient by design: they find where values end; they do not validate.
 * All return NULL (or (size_t)-1) on malformed or truncated input.
 */
#ifndef MRD_MATCH_JSON_LITE_H
#define MRD_MATCH_JSON_LITE_H

#include <stdbool.h>
#include <stddef.h>

/* Skips JSON white space. */
const char *match__json_ws(const char *p, const char *end);
/* p at an opening quote: returns the byte after the closing quote. */
const char *match__json_string_end(const char *p, const char *end, bool *has_esc);
/* Skips one value (after leading white space); returns the byte after it. */
const char *match__json_skip(const char *p, const char *end);
/* Unescapes the string body s[0..n) into out (max bytes); returns the
 * length or (size_t)-1 when malformed or too long. */
size_t match__json_unescape(const char *s, size_t n, char *out, size_t max);

#endif
