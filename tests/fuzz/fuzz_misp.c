/* libFuzzer target for interop/'s MISP reader: any JSON that parses is
 * handed to interop_misp_event (as a single event and as a REST answer);
 * it must either fail cleanly with a message or produce STIX objects that
 * are JSON objects with a type and an id of that type, and that survive
 * canonicalisation (what import does next). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "interop/interop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const json_t *doc)
{
    struct interop_misp_stats st;
    struct mrd_err err = {0};
    json_t *out = json_array();
    struct mrd_buf b;

    memset(&st, 0, sizeof(st));
    if (out == NULL)
        return;
    if (interop_misp_event(doc, out, &st, &err) != MRD_OK) {
        if (err.msg[0] == '\0')
            abort(); /* every failure says what is wrong */
    }
    for (size_t i = 0; i < json_array_size(out); i++) {
        const json_t *o = json_array_get(out, i);
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        if (type == NULL || id == NULL || strncmp(id, type, strlen(type)) != 0)
            abort();
        mrd_buf_init(&b, (size_t)64 << 20);
        if (mrd_jcs_write(o, &b, NULL) != MRD_OK)
            abort();
        mrd_buf_release(&b);
    }
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = NULL;

    if (mrd_json_parse((const char *)data, size, NULL, &doc, NULL) != MRD_OK)
        return 0;
    (void)interop_misp_is_event(doc);
    check(doc);
    json_decref(doc);
    return 0;
}
