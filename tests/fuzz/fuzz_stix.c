/*
 * libFuzzer target: strict JSON parse, then the STIX validator over the
 * document (plain and strict), then every output path of the report (line
 * format, JSON form). Anything that parses must validate without a crash,
 * a leak or undefined behaviour, whatever it contains.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mrd_json_limits lim = {1024 * 1024, MRD_JSON_MAX_DEPTH};
    json_t *doc = NULL;
    json_t *j = NULL;
    struct stix_report rep;
    char line[STIX_LINE_MAX];

    if (mrd_json_parse((const char *)data, size, &lim, &doc, NULL) != MRD_OK)
        return 0;
    stix_report_init(&rep);
    for (unsigned flags = 0; flags <= STIX_STRICT; flags++) {
        stix_report_reset(&rep);
        if (stix_validate_document(doc, flags, &rep, NULL) != MRD_OK)
            abort(); /* only NOMEM may fail, and the fuzzer does not inject it */
        if (rep.nfindings > STIX_MAX_FINDINGS || rep.errors + rep.warnings < rep.nfindings)
            abort();
        for (size_t i = 0; i < rep.nfindings; i++)
            if (stix_finding_format(&rep.findings[i], line, sizeof(line)) >= sizeof(line))
                abort(); /* STIX_LINE_MAX is documented to suffice */
    }
    /* One object at a time must agree that a valid document has valid parts. */
    if (json_is_object(doc) && json_is_string(json_object_get(doc, "type")) &&
        strcmp(json_string_value(json_object_get(doc, "type")), "bundle") != 0 &&
        stix_report_errors(&rep) == 0) {
        stix_report_reset(&rep);
        if (stix_validate_object(doc, STIX_STRICT, &rep, NULL) != MRD_OK ||
            stix_report_errors(&rep) != 0)
            abort();
    }
    if (stix_report_json(&rep, &j, NULL) == MRD_OK) {
        char *s = json_dumps(j, JSON_COMPACT);
        free(s);
        json_decref(j);
    }
    stix_report_release(&rep);
    json_decref(doc);
    return 0;
}
