/* libFuzzer target for the access audit's packed rows: the items text of
 * an access_pages row as read back from the database (store_read_item_next,
 * which audit reads, seal and verify run over every stored page).
 *
 * Properties checked besides "no crash, no leak, no UB": an item taken is
 * never longer than what is left nor than STORE_READ_ITEM_MAX, ends in a
 * newline, has an id of 1..STORE_STIX_ID_MAX bytes without spaces or
 * control characters and a TLP digit, and store_read_item_put writes the
 * same bytes back from what was parsed (the format has one spelling:
 * no leading zeros, no "-0"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    char again[STORE_READ_ITEM_MAX];
    size_t at = 0;

    while (at < size) {
        struct store_read_row r;
        size_t used = store_read_item_next(p + at, size - at, &r), len;

        if (used == 0)
            break;
        if (used > size - at || used > STORE_READ_ITEM_MAX || p[at + used - 1] != '\n' ||
            r.object_id_len == 0 || r.object_id_len > STORE_STIX_ID_MAX || r.tlp < 0 || r.tlp > 9)
            abort();
        for (size_t i = 0; i < r.object_id_len; i++)
            if ((unsigned char)r.object_id[i] <= ' ')
                abort();
        len = store_read_item_put(again, sizeof(again), r.object_id, r.object_id_len,
                                  r.version_usec, r.tlp);
        /* leading zeros and "-0" parse but are spelled otherwise */
        if (len == 0 || (len == used && memcmp(again, p + at, len) != 0))
            abort();
        at += used;
    }
    return 0;
}
