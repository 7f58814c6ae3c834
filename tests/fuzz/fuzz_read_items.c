/* libFuzzer target for the access audit's pages as read back from the
 * database, which audit reads, seal and verify run over every stored page:
 * a packed page (first byte STORE_READ_PACK_FORMAT: store_read_unpack_*)
 * or the text items of pages written before schema 18
 * (store_read_item_next).
 *
 * Properties checked besides "no crash, no leak, no UB":
 * - packed: every item read has an id of 1..STORE_STIX_ID_MAX bytes
 *   without spaces or control characters and a TLP 0..9; the items read,
 *   packed again by store_read_pack_put, read back the same (so the
 *   writer and the reader agree on every page the reader takes), and
 *   store_read_unpack_count agrees with the item-by-item reading;
 * - merged (first byte STORE_READ_MERGED_FORMAT: several packed pages,
 *   each with its time): every item as above; the items read, packed
 *   again page by page (a page: a run of items of one time) and merged by
 *   store_read_merge_put, read back the same, times included;
 * - text: an item taken is never longer than what is left nor than
 *   STORE_READ_ITEM_MAX, ends in a newline, has such an id and a TLP
 *   digit, and is spelled as "%lld %d %s\n" would spell it unless it
 *   used leading zeros or "-0". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store.h"

#define ITEMS_MAX 512 /* items of one input checked by re-packing */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id(const struct store_read_row *r)
{
    if (r->object_id_len == 0 || r->object_id_len > STORE_STIX_ID_MAX || r->tlp < 0 || r->tlp > 9)
        abort();
    for (size_t i = 0; i < r->object_id_len; i++)
        if ((unsigned char)r->object_id[i] <= ' ')
            abort();
}

static struct store_read_unpack u, again;
static struct store_read_pack pk;
static uint8_t buf[ITEMS_MAX * STORE_READ_PACKED_MAX];

static void fuzz_packed(const uint8_t *data, size_t size)
{
    struct store_read_row r, r2;
    size_t n = 0;
    int got;

    if (!store_read_unpack_init(&u, data, size))
        abort();
    store_read_pack_init(&pk, buf, sizeof(buf));
    while (n < ITEMS_MAX && (got = store_read_unpack_next(&u, &r)) == 1) {
        check_id(&r);
        if (!store_read_pack_put(&pk, r.object_id, r.object_id_len, r.version_usec, r.tlp))
            abort();
        n++;
    }
    if (n < ITEMS_MAX && got == 0 && store_read_unpack_count(data, size) != n)
        abort();
    if (n == 0)
        return;
    if (!store_read_unpack_init(&u, data, size) || !store_read_unpack_init(&again, pk.buf, pk.len))
        abort();
    for (size_t i = 0; i < n; i++) {
        if (store_read_unpack_next(&u, &r) != 1 || store_read_unpack_next(&again, &r2) != 1 ||
            r.version_usec != r2.version_usec || r.tlp != r2.tlp ||
            r.object_id_len != r2.object_id_len ||
            memcmp(r.object_id, r2.object_id, r.object_id_len) != 0)
            abort();
    }
    if (store_read_unpack_next(&again, &r2) != 0)
        abort();
}

static uint8_t page[ITEMS_MAX * STORE_READ_PACKED_MAX];

/* Closes the page being packed into out (when it holds an item). */
static void merge_page(struct mrd_buf *out, int64_t *prev, int64_t t)
{
    if (pk.n > 0 && store_read_merge_put(out, prev, pk.buf, pk.len, t, NULL) != MRD_OK)
        abort();
    store_read_pack_init(&pk, page, sizeof(page));
}

static void fuzz_merged(const uint8_t *data, size_t size)
{
    struct store_read_row r, r2;
    struct mrd_buf out;
    int64_t prev = 0, t = 0;
    size_t n = 0;
    int got;

    if (!store_read_unpack_init(&u, data, size))
        abort();
    mrd_buf_init(&out, ITEMS_MAX * STORE_READ_PACKED_MAX + ITEMS_MAX * 32);
    store_read_pack_init(&pk, page, sizeof(page));
    while (n < ITEMS_MAX && (got = store_read_unpack_next(&u, &r)) == 1) {
        check_id(&r);
        if (n > 0 && r.time_usec != t)
            merge_page(&out, &prev, t);
        t = r.time_usec;
        if (!store_read_pack_put(&pk, r.object_id, r.object_id_len, r.version_usec, r.tlp))
            abort();
        n++;
    }
    merge_page(&out, &prev, t);
    if (n < ITEMS_MAX && got == 0 && store_read_unpack_count(data, size) != n)
        abort();
    if (n > 0) {
        if (!store_read_unpack_init(&u, data, size) ||
            !store_read_unpack_init(&again, (const uint8_t *)out.data, out.len))
            abort();
        for (size_t i = 0; i < n; i++) {
            if (store_read_unpack_next(&u, &r) != 1 || store_read_unpack_next(&again, &r2) != 1 ||
                r.time_usec != r2.time_usec || r.version_usec != r2.version_usec ||
                r.tlp != r2.tlp || r.object_id_len != r2.object_id_len ||
                memcmp(r.object_id, r2.object_id, r.object_id_len) != 0)
                abort();
        }
        if (store_read_unpack_next(&again, &r2) != 0)
            abort();
    }
    mrd_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    char spelled[STORE_READ_ITEM_MAX + 8];
    size_t at = 0;

    if (size > 0 && data[0] == STORE_READ_PACK_FORMAT) {
        fuzz_packed(data, size);
        return 0;
    }
    if (size > 0 && data[0] == STORE_READ_MERGED_FORMAT) {
        fuzz_merged(data, size);
        return 0;
    }
    while (at < size) {
        struct store_read_row r;
        size_t used = store_read_item_next(p + at, size - at, &r);
        int len;

        if (used == 0)
            break;
        if (used > size - at || used > STORE_READ_ITEM_MAX || p[at + used - 1] != '\n')
            abort();
        check_id(&r);
        len = snprintf(spelled, sizeof(spelled), "%lld %d %.*s\n", (long long)r.version_usec, r.tlp,
                       (int)r.object_id_len, r.object_id);
        /* leading zeros and "-0" parse but are spelled otherwise */
        if (len <= 0 || ((size_t)len == used && memcmp(spelled, p + at, used) != 0))
            abort();
        at += used;
    }
    return 0;
}
