/* libFuzzer target for the asset index (notify.h): assets as an operator
 * types them (notify_asset_parse, also what `asset import` reads from a
 * CSV) and routing through an index built from them.
 *
 * Input: lines. Lines before an empty line are assets ("KIND TEXT" or just
 * "TEXT"); the lines after it are values to route, the last of which is
 * also routed as a whole STIX object.
 *
 * Properties checked besides "no crash, no leak, no UB": a parsed asset's
 * display form parses back to the same asset; every hit names an indexed
 * asset whose org is one of the declared ones; an object reports each
 * asset at most once and at most NOTIFY_OBJECT_HITS_MAX of them; a CIDR
 * reports at most NOTIFY_HOLDS_MAX prefixes it holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSETS 64

struct seen {
    const struct notify_asset *a[NOTIFY_OBJECT_HITS_MAX + 1];
    size_t n, holds;
    size_t n_assets;
};

static enum mrd_code hit(void *ctx, const struct notify_hit *h, struct mrd_err *err)
{
    struct seen *s = ctx;

    (void)err;
    if (h->asset == NULL || h->asset->org < 1 || (size_t)h->asset->org > s->n_assets ||
        h->how > NOTIFY_M_HOLDS)
        abort();
    if (h->how == NOTIFY_M_HOLDS && ++s->holds > NOTIFY_HOLDS_MAX)
        abort();
    if (s->n > NOTIFY_OBJECT_HITS_MAX)
        abort();
    s->a[s->n++] = h->asset;
    return MRD_OK;
}

static void roundtrip(const struct notify_asset *a)
{
    char shown[NOTIFY_ASSET_TEXT_MAX + 2];
    struct notify_asset b;

    (void)notify_asset_format(a, shown, sizeof(shown));
    if (notify_asset_parse(notify_akind_name(a->kind), shown, &b, NULL) != MRD_OK ||
        b.kind != a->kind || b.asn != a->asn || b.v.len != a->v.len ||
        memcmp(b.v.key, a->v.key, a->v.len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct notify_asset assets[FUZZ_ASSETS];
    struct notify_index *ix = NULL;
    size_t n = 0, pos = 0;
    char line[NOTIFY_ASSET_TEXT_MAX + 16];
    const char *last = NULL;
    size_t last_len = 0;
    bool values = false;

    if (size > 1 << 16)
        return 0;
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
        const char *l = (const char *)data + pos;

        pos += len + 1;
        if (!values && len == 0) {
            values = true;
            if (notify_index_build(assets, n, &ix, NULL) != MRD_OK)
                abort();
            continue;
        }
        if (len >= sizeof(line) || memchr(l, '\0', len) != NULL)
            continue;
        memcpy(line, l, len);
        line[len] = '\0';
        if (!values) {
            char split[sizeof(line)];
            const char *k = NULL, *t = NULL;
            char *sp;
            /* the same line as a line of an asset file: kind and text lie
             * inside it, trimmed, and a comment or blank line is skipped */
            memcpy(split, line, len + 1);
            if (notify_asset_line(split, &k, &t)) {
                if (t < split || t > split + len || (k != NULL && (k < split || k >= t)) ||
                    t[0] == ' ' || t[0] == '\t' || (k == NULL && t[0] == '#'))
                    abort();
            } else if (k != NULL) {
                abort();
            }
            sp = strchr(line, ' ');
            const char *kind = NULL, *text = line;
            if (sp != NULL) {
                *sp = '\0';
                kind = line;
                text = sp + 1;
            }
            if (n < FUZZ_ASSETS && notify_asset_parse(kind, text, &assets[n], NULL) == MRD_OK) {
                roundtrip(&assets[n]);
                assets[n].org = (int64_t)(n % 7) + 1;
                n++;
            }
        } else {
            struct store_value v;
            struct seen s = {.n_assets = 7};
            if (store_value_parse(line, len, &v, NULL) == MRD_OK)
                (void)notify_route_value(ix, &v, hit, &s, NULL);
            last = l;
            last_len = len;
        }
    }
    if (ix != NULL && last != NULL) {
        struct seen s = {.n_assets = 7};
        (void)notify_route_object(ix, last, last_len, hit, &s, NULL);
        for (size_t i = 0; i < s.n; i++)
            for (size_t j = i + 1; j < s.n; j++)
                if (s.a[i] == s.a[j])
                    abort();
    }
    notify_index_free(ix);
    return 0;
}
