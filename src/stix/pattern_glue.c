/*
 * pattern_glue: indicator patterns of pattern_type "stix" go to pattern/
 * (STIX 2.1 §9). Built when pattern/ is part of the build; otherwise
 * pattern_none.c takes its place (meson picks one, so no #ifdef here).
 */
#include "pattern/pattern.h"
#include "stix/stix_int.h"

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
}
