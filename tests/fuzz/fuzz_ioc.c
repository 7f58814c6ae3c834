/* libFuzzer target for interop/'s list readers: every line of the input is
 * split as a CSV record and each field read as a value (auto and every
 * --type), and the whole input is read as one value. A value read must
 * have a pattern that pattern/ accepts and that yields exactly that value
 * back (match/'s extractor); a CSV split must stay inside its input or the
 * scratch buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interop/interop.h"
#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[65536], pscratch[MATCH_MAX_PATTERN];

struct back {
    const struct interop_ioc *ioc;
    int hits;
};

static enum mrd_code pair(void *ctx, enum match_type t, const char *v, size_t n,
                          struct mrd_err *err)
{
    struct back *b = ctx;
    (void)err;
    if (t != b->ioc->type || n != b->ioc->value_len || memcmp(v, b->ioc->value, n) != 0)
        abort();
    b->hits++;
    return MRD_OK;
}

static void value(const char *s, size_t n, struct interop_ioc *ioc)
{
    for (int k = 0; k <= INTEROP_K_COUNT; k++) {
        struct back b = {ioc, 0};
        if (interop_ioc_value(s, n, (enum interop_kind)k, ioc, NULL) != MRD_OK)
            continue;
        if (pat_check(ioc->pattern.data, ioc->pattern.len, NULL) != MRD_OK)
            abort();
        if (match_pattern_pairs(ioc->pattern.data, ioc->pattern.len, pscratch, pair, &b, NULL) !=
                MRD_OK ||
            b.hits != 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct interop_ioc ioc;
    const char *s = (const char *)data, *end = s + size;
    const char *f[INTEROP_CSV_MAX_FIELDS];
    size_t fn[INTEROP_CSV_MAX_FIELDS];

    if (ioc.pattern.max == 0)
        mrd_buf_init(&ioc.pattern, MATCH_MAX_PATTERN);
    value(s, size, &ioc);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s), nf;
        nf = interop_csv_split(s, n, ',', scratch, sizeof(scratch), f, fn, INTEROP_CSV_MAX_FIELDS);
        for (size_t i = 0; nf != (size_t)-1 && i < nf; i++) {
            bool inside = (f[i] >= s && f[i] + fn[i] <= s + n) ||
                          (f[i] >= scratch && f[i] + fn[i] <= scratch + sizeof(scratch));
            if (!inside)
                abort();
            value(f[i], fn[i], &ioc);
        }
        s += n + 1;
    }
    return 0;
}
