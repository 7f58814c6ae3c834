/* libFuzzer target for the JSON layer and RFC 8785 output.
 *
 * Any input: strict parse (default limits); when it parses, canonicalise,
 * parse the canonical bytes again and canonicalise once more. The two
 * canonical forms must be byte-identical (signatures depend on it), and
 * canonical output must always parse. Also takes the first 8 bytes as a
 * double and checks that its ES form reads back as the same double. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Canonical output can outgrow its input (1e20 is 21 digits long). */
#define FUZZ_OUT_MAX(n) ((n)*32 + 4096)

static void check_number(const uint8_t *data, size_t size)
{
    struct mrd_buf b;
    double d;

    if (size < sizeof(d))
        return;
    memcpy(&d, data, sizeof(d));
    mrd_buf_init(&b, 64);
    if (mrd_jcs_number(d, &b, NULL) == MRD_OK) {
        double back = strtod(b.data, NULL);
        if (back != d && !(back == 0 && d == 0)) {
            fprintf(stderr, "number %.17g printed as %s\n", d, b.data);
            abort();
        }
    } else if (d == d && d - d == 0) {
        fprintf(stderr, "finite number %.17g refused\n", d);
        abort();
    }
    mrd_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mrd_buf once, twice;
    struct mrd_err err = {0};
    json_t *v = NULL, *w = NULL;

    check_number(data, size);
    if (mrd_json_parse((const char *)data, size, NULL, &v, NULL) != MRD_OK)
        return 0;
    mrd_buf_init(&once, FUZZ_OUT_MAX(size));
    mrd_buf_init(&twice, FUZZ_OUT_MAX(size));
    if (mrd_jcs_write(v, &once, &err) != MRD_OK) {
        /* jansson never hands us NaN, invalid UTF-8 or deep nesting */
        fprintf(stderr, "parsed input not canonicalisable: %s\n", err.msg);
        abort();
    }
    if (mrd_json_parse(once.data, once.len, NULL, &w, &err) != MRD_OK) {
        /* Known limitation of the parse side, not of JCS: jansson reads a
         * number without fraction or exponent as a long long and refuses
         * one that overflows, but ES writes every double below 1e21 that
         * way (9223372036854775807 comes out as 9223372036854776000, 1e20
         * as 100000000000000000000). Such output is still valid JSON, so
         * check idempotency with integers read as doubles instead. */
        if (strstr(err.msg, "too big") == NULL || strstr(err.msg, "integer") == NULL) {
            fprintf(stderr, "canonical output does not parse: %s\n%s\n", err.msg, once.data);
            abort();
        }
        w = json_loadb(once.data, once.len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
        if (w == NULL) {
            fprintf(stderr, "canonical output does not parse as JSON:\n%s\n", once.data);
            abort();
        }
    }
    if (mrd_jcs_write(w, &twice, &err) != MRD_OK) {
        fprintf(stderr, "canonical output not canonicalisable: %s\n", err.msg);
        abort();
    }
    if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0) {
        fprintf(stderr, "not idempotent:\n%s\n%s\n", once.data, twice.data);
        abort();
    }
    json_decref(v);
    json_decref(w);
    mrd_buf_release(&once);
    mrd_buf_release(&twice);
    return 0;
}
