/*
 * pattern_glue: indicator patterns of pattern_type "stix" go to pattern/
 * (STIX 2.1 §9). Built when pattern/ is part of the build; otherwise
 * pattern_none.c takes its place (meson picks one, so no #ifdef here).
 */
#include "pattern/pattern.h"
#include "stix/stix_int.h"

static bool is_path_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

/* The object type of every object path (§9.3: "<object-type>:<property>")
 * must be a STIX type name (§3.1, 3-250 characters), which pat_check does
 * not enforce. Outside quoted literals a ':' only ends an object type, so
 * the run of name characters before each such ':' is one. */
static void check_path_types(struct stix_ctx *c, const char *s, size_t n)
{
    bool quoted = false;

    for (size_t i = 0; i < n; i++) {
        if (quoted) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '\'')
                quoted = false;
            continue;
        }
        if (s[i] == '\'') {
            quoted = true;
        } else if (s[i] == ':') {
            size_t b = i;
            while (b > 0 && is_path_char(s[b - 1]))
                b--;
            if (!stix__type_name_ok(s + b, i - b)) {
                stix__error(c, "pattern-syntax", "STIX 2.1 §9.3",
                            "'%.*s' in an object path is not a STIX object type name (3-250 "
                            "characters of a-z, 0-9 and '-')",
                            (int)(i - b > 60 ? 60 : i - b), s + b);
                return;
            }
        }
    }
}

void stix__check_pattern(struct stix_ctx *c, const json_t *pattern)
{
    struct mrd_err e = {0};
    enum mrd_code rc;

    rc = pat_check(json_string_value(pattern), json_string_length(pattern), &e);
    if (rc == MRD_E_NOMEM)
        c->rc = MRD_E_NOMEM;
    else if (rc != MRD_OK)
        stix__error(c, "pattern-syntax", "STIX 2.1 §9",
                    "not a valid STIX pattern (an invalid pattern matches nothing): %s", e.msg);
    else
        check_path_types(c, json_string_value(pattern), json_string_length(pattern));
}
