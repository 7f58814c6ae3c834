/* libFuzzer target for the value index's parsers: what a person types
 * into search (store_value_parse) and the values extracted from a stored
 * object's JSON (store_values_of_object, which runs on every insert).
 *
 * Properties checked besides "no crash, no leak, no UB": a parsed value
 * has a known kind and a key within STORE_VALUE_KEY_MAX (5 bytes for IPv4,
 * 17 for IPv6, a prefix length no longer than the address); its display
 * form parses back to the same key; an object never yields more than
 * STORE_VALUES_MAX values, each well-formed the same way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct store_value *v)
{
    if (v->kind < STORE_V_IPV4 || v->kind > STORE_V_HASH || v->len == 0 ||
        v->len > STORE_VALUE_KEY_MAX)
        abort();
    if ((v->kind == STORE_V_IPV4 && (v->len != 5 || v->key[4] > 32)) ||
        (v->kind == STORE_V_IPV6 && (v->len != 17 || v->key[16] > 128)))
        abort();
}

static enum mrd_code each(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    size_t *n = ctx;

    (void)err;
    check(v);
    if (++*n > STORE_VALUES_MAX)
        abort();
    return MRD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_value v, again;
    char shown[STORE_VALUE_KEY_MAX * 3];
    size_t n = 0, len;

    if (store_value_parse((const char *)data, size, &v, NULL) == MRD_OK) {
        check(&v);
        len = store_value_format(&v, shown, sizeof(shown));
        if (v.kind != STORE_V_HASH && v.kind != STORE_V_EMAIL &&
            (store_value_parse(shown, len, &again, NULL) != MRD_OK || again.kind != v.kind ||
             again.len != v.len || memcmp(again.key, v.key, v.len) != 0))
            abort();
    }
    (void)store_values_of_object((const char *)data, size, each, &n, NULL);
    return 0;
}
