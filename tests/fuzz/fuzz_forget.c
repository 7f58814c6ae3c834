/*
 * fuzz_forget: forget/'s parsers on hostile input.
 *
 * The first byte picks the target: 0 the retention file (DATA/retention.json,
 * an operator's file), 1 an erasure request's body (from a peer). Beyond "no
 * crash, no sanitizer report" it checks: an accepted retention file has
 * rules within the named limits, each with a type and no control
 * character; an accepted request has 1..FORGET_REQUEST_REFS_MAX ids and a
 * reason within FORGET_REASON_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "forget/forget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void retention(const char *s, size_t n)
{
    struct forget_policy p;

    if (forget_policy_parse(s, n, &p, NULL) != MRD_OK) {
        if (p.rules != NULL || p.n != 0)
            abort();
        return;
    }
    if (p.n > FORGET_RULES_MAX)
        abort();
    for (size_t i = 0; i < p.n; i++) {
        const struct forget_rule *r = &p.rules[i];

        if (r->type[0] == '\0' || r->days > FORGET_DAYS_MAX || strlen(r->type) > FORGET_NAME_MAX)
            abort();
        for (const char *c = r->type; *c; c++)
            if ((unsigned char)*c <= 0x20)
                abort();
    }
    forget_policy_free(&p);
}

static void request(const char *s, size_t n)
{
    json_t *o = NULL, *refs;

    if (forget_request_parse(s, n, &o, NULL) != MRD_OK) {
        if (o != NULL)
            abort();
        return;
    }
    refs = json_object_get(o, "object_refs");
    if (!json_is_array(refs) || json_array_size(refs) == 0 ||
        json_array_size(refs) > FORGET_REQUEST_REFS_MAX ||
        json_string_length(json_object_get(o, "reason")) > FORGET_REASON_MAX)
        abort();
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        retention((const char *)data + 1, size - 1);
    else
        request((const char *)data + 1, size - 1);
    return 0;
}
