/* libFuzzer target for the value index's parsers: what a person types
 * into search (store_value_parse) and the values extracted from a stored
 * object's JSON (store_values_of_object, which runs on every insert).
 *
 * Properties checked besides "no crash, no leak, no UB": a parsed value
 * has a known kind and a key within STORE_VALUE_KEY_MAX (5 bytes for IPv4,
 * 17 for IPv6, a prefix length no longer than the address); its display
 * form parses back to the same key; an object never yields more than
 * STORE_VALUES_MAX values, each well-formed the same way. The free-text
 * query (store_text_query, what search runs through FTS5) is always a
 * list of quoted phrases -- quotes inside doubled -- separated by single
 * spaces and ending in '*': nothing the user typed can be FTS5 syntax.
 * The free-text and reference entries of an object (store_text_of_object,
 * on every PostgreSQL insert) are well-formed (text_each). */
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

/* store_text_of_object's entries: words never hold an ASCII separator
 * twice in a row nor any byte but letters, digits, ' ' and non-ASCII;
 * never longer than the body */
static enum mrd_code text_each(void *ctx, enum store_text_kind kind, int role, const char *s,
                               size_t n, struct mrd_err *err)
{
    (void)ctx;
    (void)err;
    if (kind > STORE_TEXT_REF || role < 0 || role > 3 || n > STORE_OBJECT_MAX)
        abort();
    for (size_t i = 0; i < n && kind != STORE_TEXT_REF; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x80 && c != ' ' && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
            !(c >= '0' && c <= '9'))
            abort();
        if (c == ' ' && i > 0 && s[i - 1] == ' ')
            abort();
    }
    return MRD_OK;
}

/* The grammar store_text_query promises: ("..." )* "..."* */
static void check_fts(const char *q, size_t len)
{
    size_t i = 0;

    if (len < 3 || q[len] != '\0' || q[len - 1] != '*')
        abort();
    len--;
    for (;;) {
        if (q[i++] != '"')
            abort();
        for (;;) {
            if (i >= len)
                abort();
            if (q[i] == '"' && i + 1 < len && q[i + 1] == '"') {
                i += 2;
                continue;
            }
            if (q[i] == '"')
                break;
            if ((unsigned char)q[i] <= ' ')
                abort();
            i++;
        }
        i++;
        if (i == len)
            return;
        if (q[i++] != ' ')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char fts[STORE_TEXT_QUERY_MAX * 2 + STORE_TEXT_TERMS_MAX * 3 + 2];
    size_t fts_len;
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
    (void)store_text_of_object((const char *)data, size, text_each, NULL, NULL);
    if (store_text_query((const char *)data, size, fts, sizeof(fts), &fts_len, NULL) == MRD_OK)
        check_fts(fts, fts_len);
    return 0;
}
