/*
 * pattern_none: used when pattern/ is not part of the build. Patterns are
 * then not checked (stix.h says so); everything else still is.
 */
#include "stix/stix_int.h"

void stix__check_pattern(struct stix_ctx *c, const json_t *pattern)
{
    (void)c;
    (void)pattern;
}
