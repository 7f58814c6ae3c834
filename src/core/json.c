#include "core/json.h"

#include <stdbool.h>

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
