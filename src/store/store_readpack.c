/*
 * store_readpack.c: the access audit's packed pages (store.h, "packed
 * pages"): the object versions of one read in a binary form about a
 * quarter the size of the text items (bench/audit).
 *
 * A page is the format byte STORE_READ_PACK_FORMAT, then ops:
 *   0x80 | k        k + 1 items, each a 16-byte UUID (the id is
 *                   "TYPE--" + the UUID in lowercase hex, TYPE, version
 *                   and TLP as the item before);
 *   flags (< 0x20)  one item, the fields flags name first, in this order:
 *     PK_TYPE    varint length + the type's bytes (kept for what follows)
 *     PK_VER_US  zigzag varint: the version minus the one before, in us
 *     PK_VER_MS  the same in milliseconds (when the difference is whole)
 *     PK_TLP     one byte, 0..9
 *     PK_RAW     varint length + the whole id (an id that is not
 *                "TYPE--" + a lowercase UUID); else a 16-byte UUID.
 * The version before the first item is 0; the first UUID item needs a
 * type and every item a TLP set by an item before or itself. Ids and
 * types are checked like the text items' ids: no byte <= ' ', at most
 * STORE_STIX_ID_MAX bytes.
 *
 * A merged row (schema 20: STORE_READ_MERGED_FORMAT, store.h) is such
 * pages one after the other, each behind its time (a zigzag varint, the
 * difference from the page before) and length (a varint): a page is
 * copied in whole, never decoded, and decoding starts each page afresh
 * (version 0, no type, no TLP), as the page was written.
 */
#include <string.h>

#include "core/buf.h"
#include "store/store_int.h"

#define PK_TYPE 0x01u
#define PK_VER_US 0x02u
#define PK_VER_MS 0x04u
#define PK_TLP 0x08u
#define PK_RAW 0x10u
#define PK_RUN 0x80u
#define PK_RUN_MAX 128u /* items one run op covers */
#define UUID_TEXT 36    /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
#define UUID_BYTES 16
#define NO_RUN SIZE_MAX

static bool id_bytes_ok(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] <= ' ')
            return false;
    return len > 0;
}

/* 8 bytes at p as a little-endian number: one load (and a byte swap on
 * a big-endian CPU). */
static inline uint64_t load8(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* The 8 lowercase hex digits in x (the first in the lowest byte) as 4
 * bytes in out; false when one is not a lowercase hex digit (upper case
 * would not come back as it was). All 8 at once, not byte by byte:
 * id_split runs for every object a read sends, on the request thread
 * (bench/audit). A byte below 0x80 plus (0x80 - k) has its high bit set
 * exactly when it is k or more, and never carries into the next byte. */
static inline bool hex8(uint64_t x, uint8_t out[4])
{
    uint64_t ge30 = (x + 0x50 * ONES) & HIGH, ge3a = (x + 0x46 * ONES) & HIGH;
    uint64_t ge61 = (x + 0x1f * ONES) & HIGH, ge67 = (x + 0x19 * ONES) & HIGH;
    uint64_t letter = ge61 & ~ge67, v, t;

    v = (x & 0x0f * ONES) + (letter >> 7) * 9;         /* '0'..'9': 0..9, 'a'..'f': 10..15 */
    t = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffULL; /* byte 2i: digits 2i and 2i + 1 */
    t = (t | (t >> 8)) & 0x0000ffff0000ffffULL;        /* bytes 0-1 and 4-5 */
    t = t | (t >> 16);                                 /* bytes 0-3 */
    out[0] = (uint8_t)t;
    out[1] = (uint8_t)(t >> 8);
    out[2] = (uint8_t)(t >> 16);
    out[3] = (uint8_t)(t >> 24);
    return (x & HIGH) == 0 && ((ge30 & ~ge3a) | letter) == HIGH;
}

/* id is "TYPE--" + a lowercase UUID (TYPE of at least one byte, not
 * checked here: store_read_pack_put checks it when it is not the type
 * before, which was checked): its 16 bytes in out, the type's length in
 * *ret_type_len. */
static bool id_split(const char *id, size_t len, uint8_t out[UUID_BYTES], size_t *ret_type_len)
{
    const unsigned char *u;
    unsigned char mid[16];
    uint64_t w[4];
    bool ok = true;

    if (len < UUID_TEXT + 3 || id[len - UUID_TEXT - 1] != '-' || id[len - UUID_TEXT - 2] != '-')
        return false;
    u = (const unsigned char *)id + len - UUID_TEXT;
    if (u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-')
        return false;
    /* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: 8 digits, 4 + 4, 4 + 4, 8 */
    memcpy(mid, u + 9, 4);
    memcpy(mid + 4, u + 14, 4);
    memcpy(mid + 8, u + 19, 4);
    memcpy(mid + 12, u + 24, 4);
    w[0] = load8(u);
    w[1] = load8(mid);
    w[2] = load8(mid + 8);
    w[3] = load8(u + 28);
    for (size_t i = 0; i < 4; i++) /* one call: inlined */
        ok &= hex8(w[i], out + 4 * i);
    if (!ok)
        return false;
    *ret_type_len = len - UUID_TEXT - 2;
    return true;
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

void store_read_pack_init(struct store_read_pack *pk, uint8_t *buf, size_t size)
{
    pk->buf = buf;
    pk->size = size;
    pk->len = 0;
    pk->n = 0;
    pk->run_at = NO_RUN;
    pk->version = 0;
    pk->tlp = -1;
    pk->type_len = 0;
}

bool store_read_pack_put(struct store_read_pack *pk, const char *id, size_t id_len,
                         int64_t version_usec, int tlp)
{
    uint8_t uuid[UUID_BYTES], *op;
    size_t type_len = 0, at;
    bool uuid_form;
    unsigned flags = 0;
    uint64_t delta = (uint64_t)version_usec - (uint64_t)pk->version;
    int64_t sdelta = (int64_t)delta;

    if (id_len == 0 || id_len > STORE_STIX_ID_MAX || tlp < 0 || tlp > 9 ||
        pk->size < STORE_READ_PACKED_MAX || pk->size - pk->len < STORE_READ_PACKED_MAX)
        return false;
    /* the UUID form checks its own bytes, and its type when it is not the
     * type before (checked then); any other id is checked whole */
    uuid_form = id_split(id, id_len, uuid, &type_len);
    if (uuid_form && (type_len != pk->type_len || memcmp(id, pk->type, type_len) != 0)) {
        if (!id_bytes_ok(id, type_len))
            return false; /* the whole id holds that byte too */
        flags |= PK_TYPE;
    }
    if (!uuid_form && !id_bytes_ok(id, id_len))
        return false;
    if (pk->len == 0)
        pk->buf[pk->len++] = STORE_READ_PACK_FORMAT;
    /* counted here, not beside the last "len +=": a compiler that stores
     * both in one vector then reads len back through a stalled store
     * (bench/audit: a fifth of this function's time) */
    pk->n++;
    if (delta != 0)
        flags |= sdelta % 1000 == 0 ? PK_VER_MS : PK_VER_US;
    if (tlp != pk->tlp)
        flags |= PK_TLP;
    if (!uuid_form)
        flags |= PK_RAW;
    if (flags == 0 && pk->run_at != NO_RUN && (pk->buf[pk->run_at] & 0x7fu) + 1 < PK_RUN_MAX) {
        pk->buf[pk->run_at]++;
    } else if (flags == 0) {
        pk->run_at = pk->len;
        pk->buf[pk->len++] = PK_RUN;
    } else {
        pk->run_at = NO_RUN;
        op = pk->buf + pk->len++;
        *op = (uint8_t)flags;
        at = pk->len;
        if (flags & PK_TYPE) {
            at += put_varint(pk->buf + at, type_len);
            memcpy(pk->buf + at, id, type_len);
            at += type_len;
            memcpy(pk->type, id, type_len);
            pk->type_len = type_len;
        }
        if (flags & (PK_VER_US | PK_VER_MS)) {
            int64_t d = (flags & PK_VER_MS) ? sdelta / 1000 : sdelta;
            /* zigzag: small differences either way take few bytes */
            at += put_varint(pk->buf + at, ((uint64_t)d << 1) ^ (d < 0 ? UINT64_MAX : 0));
            pk->version = version_usec;
        }
        if (flags & PK_TLP) {
            pk->buf[at++] = (uint8_t)tlp;
            pk->tlp = tlp;
        }
        if (flags & PK_RAW) {
            at += put_varint(pk->buf + at, id_len);
            memcpy(pk->buf + at, id, id_len);
            pk->len = at + id_len;
            return true;
        }
        pk->len = at;
    }
    memcpy(pk->buf + pk->len, uuid, UUID_BYTES);
    pk->len += UUID_BYTES;
    return true;
}

bool store_read_unpack_init(struct store_read_unpack *u, const uint8_t *p, size_t len)
{
    u->p = p;
    u->total = len;
    u->at = 1;
    u->run_left = 0;
    u->version = 0;
    u->tlp = -1;
    u->type_len = 0;
    u->time = 0;
    u->count_only = false;
    u->merged = len > 0 && p[0] == STORE_READ_MERGED_FORMAT;
    u->len = u->merged ? 1 : len; /* merged: no page entered yet */
    return len > 0 && (p[0] == STORE_READ_PACK_FORMAT || u->merged);
}

static bool get_varint(struct store_read_unpack *u, uint64_t *ret)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64 && u->at < u->len; shift += 7) {
        uint8_t b = u->p[u->at++];
        if (shift == 63 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *ret = v;
            return true;
        }
    }
    return false;
}

/* A length-prefixed id or type of 1..max bytes, into out. */
static bool get_name(struct store_read_unpack *u, char *out, size_t max, size_t *ret_len)
{
    uint64_t n;

    if (!get_varint(u, &n) || n == 0 || n > max || n > u->len - u->at ||
        !id_bytes_ok((const char *)u->p + u->at, (size_t)n))
        return false;
    memcpy(out, u->p + u->at, (size_t)n);
    u->at += (size_t)n;
    *ret_len = (size_t)n;
    return true;
}

/* Merged: enters the page at u->at (its time and length), as a page of
 * its own: version, TLP and type start again. */
static bool next_page(struct store_read_unpack *u)
{
    uint64_t z, n;

    u->len = u->total; /* the header may be read up to the end */
    if (!get_varint(u, &z) || !get_varint(u, &n) || n == 0 || n > u->total - u->at)
        return false;
    u->time = (int64_t)((uint64_t)u->time + ((z >> 1) ^ ((z & 1) ? UINT64_MAX : 0)));
    u->len = u->at + (size_t)n;
    u->version = 0;
    u->tlp = -1;
    u->type_len = 0;
    return true;
}

int store_read_unpack_next(struct store_read_unpack *u, struct store_read_row *r)
{
    static const char hex[] = "0123456789abcdef";
    unsigned flags = 0;
    char *o;

    if (u->run_left == 0) {
        uint8_t op;
        if (u->at >= u->len) {
            if (!u->merged || u->at >= u->total)
                return 0;
            if (!next_page(u))
                return -1;
        }
        op = u->p[u->at++];
        if (op & PK_RUN) {
            u->run_left = (op & 0x7fu) + 1;
        } else {
            flags = op;
            if ((flags & ~(PK_TYPE | PK_VER_US | PK_VER_MS | PK_TLP | PK_RAW)) != 0 ||
                (flags & PK_VER_US && flags & PK_VER_MS))
                return -1;
        }
    }
    if (flags & PK_TYPE) {
        size_t n;
        if (!get_name(u, u->id, STORE_STIX_ID_MAX - UUID_TEXT - 2, &n))
            return -1;
        u->type_len = n;
        u->id[n] = '-';
        u->id[n + 1] = '-';
    }
    if (flags & (PK_VER_US | PK_VER_MS)) {
        uint64_t z, d;
        if (!get_varint(u, &z))
            return -1;
        d = (z >> 1) ^ ((z & 1) ? UINT64_MAX : 0);
        if (flags & PK_VER_MS) {
            int64_t q = (int64_t)d;
            if (q > INT64_MAX / 1000 || q < INT64_MIN / 1000)
                return -1;
            d = (uint64_t)(q * 1000);
        }
        u->version = (int64_t)((uint64_t)u->version + d);
    }
    if (flags & PK_TLP) {
        if (u->at >= u->len || u->p[u->at] > 9)
            return -1;
        u->tlp = u->p[u->at++];
    }
    if (u->tlp < 0)
        return -1;
    r->version_usec = u->version;
    r->tlp = u->tlp;
    if (u->merged)
        r->time_usec = u->time;
    if (flags & PK_RAW) {
        if (!get_name(u, u->raw, STORE_STIX_ID_MAX, &r->object_id_len))
            return -1;
        r->object_id = u->raw;
        return 1;
    }
    if (u->type_len == 0 || u->len - u->at < UUID_BYTES)
        return -1;
    if (u->run_left > 0)
        u->run_left--;
    if (u->count_only) { /* any 16 bytes are a UUID: nothing to check */
        u->at += UUID_BYTES;
        r->object_id = NULL;
        r->object_id_len = 0;
        return 1;
    }
    o = u->id + u->type_len + 2;
    for (size_t i = 0; i < UUID_BYTES; i++) {
        uint8_t b = u->p[u->at++];
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b >> 4];
        *o++ = hex[b & 15];
    }
    r->object_id = u->id;
    r->object_id_len = u->type_len + 2 + UUID_TEXT;
    return 1;
}

size_t store_read_unpack_count(const uint8_t *p, size_t len)
{
    struct store_read_unpack u;
    struct store_read_row r;
    size_t n = 0;
    int got;

    if (!store_read_unpack_init(&u, p, len))
        return 0;
    u.count_only = true; /* checked as when read, not spelled */
    while ((got = store_read_unpack_next(&u, &r)) == 1) {
        n++;
        /* the rest of a run: the same type, version and TLP, just checked,
         * and 16 bytes each inside the page (what store_read_unpack_next
         * checks of such an item), taken at once: serve's audit thread
         * counts every page it writes (store_reads_record), and item by
         * item that was a second decode of every read (bench/audit) */
        if (u.run_left > 0) {
            if ((u.len - u.at) / UUID_BYTES < u.run_left)
                return 0;
            u.at += (size_t)u.run_left * UUID_BYTES;
            n += u.run_left;
            u.run_left = 0;
        }
    }
    return got == 0 ? n : 0;
}

enum mrd_code store_read_merge_put(struct mrd_buf *out, int64_t *prev_usec, const uint8_t *page,
                                   size_t len, int64_t time_usec, struct mrd_err *err)
{
    uint8_t head[1 + 2 * 10]; /* the format byte, two varints */
    int64_t d = (int64_t)((uint64_t)time_usec - (uint64_t)*prev_usec);
    size_t h = 0, was = out->len;
    enum mrd_code rc;

    if (len < 2 || page[0] != STORE_READ_PACK_FORMAT)
        return mrd_err_set(err, MRD_E_INVAL, "access audit: not a packed page");
    if (out->len == 0)
        head[h++] = STORE_READ_MERGED_FORMAT;
    h += put_varint(head + h, ((uint64_t)d << 1) ^ (d < 0 ? UINT64_MAX : 0));
    h += put_varint(head + h, len - 1);
    if (out->len + h + len - 1 > out->max || out->len + h + len - 1 > STORE_READ_MERGED_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "access audit: merged row full");
    rc = mrd_buf_append(out, head, h, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(out, page + 1, len - 1, err);
    if (rc != MRD_OK) {
        out->len = was;
        return rc;
    }
    *prev_usec = time_usec;
    return MRD_OK;
}
