/*
 * index: the compiled indicator index (docs/design.md §8).
 *
 * One open-addressing hash table holds every exact key, tagged with its
 * type: IPv4 (4 bytes), IPv6 (16 bytes), and lower-case text for domains,
 * URLs, e-mail addresses and hex hashes. A bit filter (two bits in one
 * 64-bit word per key, ~16 bits per key) sits in front of it so that the
 * common case, a value that is no indicator, costs one cache line instead
 * of a probe into a table of tens of megabytes; shape filters (address
 * /16s, domain label counts and lengths) and a small filter of the hash
 * keys alone keep most values from reaching even that line.
 * IPv4 CIDR ranges live in 65,536 buckets indexed by the top 16 bits of
 * the address (shorter prefixes are expanded over the buckets they cover),
 * so a lookup reads one bucket and tests the few ranges in it. IPv6 ranges
 * get one hash probe per prefix length in use.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/alloc.h"
#include "match/match_int.h"

#define SEED 0x5bd1e9955bd1e995ull
#define MAX_V4_EXPANSION ((size_t)16 << 20) /* bucket entries after expanding short prefixes */

/* Key types in the table. Text types are compared case-insensitively. */
enum ktype {
    K_EMPTY = 0,
    K_IPV4,
    K_IPV6,
    K_DOMAIN,
    K_URL,
    K_EMAIL,
    K_HASH,
    K_CIDR6,  /* 1 byte prefix length + masked address bytes */
    K_ID,     /* an indicator's STIX id */
    K_OPAQUE, /* caller's bytes, compared exactly (match_index_add_opaque) */
};

/* Asks for transparent huge pages on a big table: random probes into tens
 * of megabytes otherwise miss the TLB as well as the cache, and loading a
 * million keys takes a page fault per 4 KiB. Advice only; errors ignored. */
static void hint_huge(void *p, size_t n)
{
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;

    if (n >= ((size_t)4 << 20) && e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static inline void bit_set(uint64_t *bits, unsigned i)
{
    bits[i >> 6] |= 1ull << (i & 63);
}

static inline bool bit_test(const uint64_t *bits, unsigned i)
{
    return (bits[i >> 6] >> (i & 63)) & 1;
}

/* Labels of a host name, capped at 63 (the shape filters' rows). */
static inline unsigned host_labels(const char *h, size_t n)
{
    unsigned labels = 1;
    for (size_t i = 0; i < n; i++)
        labels += h[i] == '.';
    return labels > 63 ? 63 : labels;
}

static int ktype_fold(enum ktype t)
{
    return t == K_DOMAIN || t == K_EMAIL || t == K_HASH || t == K_ID;
}

struct slot {
    uint32_t tag;  /* high hash bits, to skip most key compares */
    uint32_t key;  /* offset into keys */
    uint32_t post; /* first posting + 1 (0: none) */
    uint16_t len;
    uint8_t type;
    uint8_t pad;
};

/* An insert waiting in the queue (see add_key). */
#define ADD_QUEUE 16     /* inserts in flight, their slots being prefetched */
#define ADD_QUEUE_KEY 64 /* longer keys are inserted at once */
struct pending {
    uint64_t h;
    uint32_t ind;
    uint16_t len;
    uint8_t type;
    char key[ADD_QUEUE_KEY];
};

struct posting {
    uint32_t ind;
    uint32_t next; /* index + 1 of the next posting for the same key, 0 ends */
};

struct cidr4 {
    uint32_t net;
    uint32_t ind;
    uint8_t plen;
};

struct match_index {
    struct slot *slots;
    size_t mask; /* nslots - 1 */
    size_t nkeys;
    size_t nhash; /* keys of type K_HASH */
    char *keys;
    size_t keys_len, keys_cap;
    struct posting *posts;
    size_t nposts, posts_cap;
    uint64_t *filter; /* inside filter_mem, aligned for a huge page */
    void *filter_mem;
    size_t filter_mask; /* words - 1 */
    /* A second, small filter over the hash keys only. A log's hash column
     * is mostly hashes that are no indicator, and each would otherwise miss
     * the cache in the big filter; this one stays in L2. */
    uint64_t *hash_filter;
    size_t hash_filter_mask;
    /* IPv4 CIDR: collected, then bucketed by build */
    struct cidr4 *c4;
    size_t nc4, c4_cap;
    uint32_t *c4_start; /* 65537 offsets into c4b */
    struct cidr4 *c4b;
    uint64_t c4_used[1024]; /* bucket non-empty bitmap */
    uint8_t v6_plens[129];  /* IPv6 prefix lengths in use */
    uint64_t dom_labels;    /* bit k: some domain key has k labels (63: 63 or more) */
    /* Cheap shape filters in front of the bit filter. They fit in L1/L2,
     * where the bit filter of a million keys (2 MiB) does not: a value
     * whose shape no key has is rejected without touching it. */
    uint64_t v4_16[1024];                          /* /16 of every exact IPv4 key */
    uint64_t v6_16[1024];                          /* first 16 bits of every IPv6 key and range */
    bool v6_short;                                 /* an IPv6 range shorter than /16 exists */
    uint64_t dom_len[64][4];                       /* [labels][length, 255 = longer]: domain keys */
    uint64_t dom_first[64];                        /* [labels]: first label lengths, 63 = longer */
    uint64_t url_len[(MATCH_MAX_VALUE + 64) / 64]; /* normalised URL key lengths */
    uint64_t url_host[64][4];                      /* [labels][length] of URL key hosts */
    struct pending queue[ADD_QUEUE];               /* a ring: inserts not done yet */
    size_t qhead, qlen;
    bool built;
};

enum mrd_code match_index_new(struct match_index **ret, struct mrd_err *err)
{
    struct match_index *idx = mrd_calloc(1, sizeof(*idx));

    if (idx == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
    idx->mask = 1023;
    idx->slots = mrd_calloc(idx->mask + 1, sizeof(struct slot));
    if (idx->slots == NULL) {
        mrd_free(idx);
        return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
    }
    *ret = idx;
    return MRD_OK;
}

void match_index_free(struct match_index *idx)
{
    if (idx == NULL)
        return;
    mrd_free(idx->slots);
    mrd_free(idx->keys);
    mrd_free(idx->posts);
    mrd_free(idx->filter_mem);
    mrd_free(idx->hash_filter);
    mrd_free(idx->c4);
    mrd_free(idx->c4_start);
    mrd_free(idx->c4b);
    mrd_free(idx);
}

size_t match_index_size(const struct match_index *idx)
{
    return idx->nkeys + idx->nc4;
}

static bool key_eq(const struct match_index *idx, const struct slot *s, const char *k, size_t n)
{
    const unsigned char *a = (const unsigned char *)idx->keys + s->key;

    if (s->len != n)
        return false;
    if (!ktype_fold((enum ktype)s->type))
        return memcmp(a, k, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != match__lower((unsigned char)k[i]))
            return false;
    return true;
}

/* Moves the keys into a table of nmask + 1 slots. */
static enum mrd_code rehash(struct match_index *idx, size_t nmask, struct mrd_err *err)
{
    struct slot *ns = mrd_calloc(nmask + 1, sizeof(struct slot));

    if (ns == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory growing the index");
    hint_huge(ns, (nmask + 1) * sizeof(struct slot));
    /* an empty table has nothing to move, and reading it would fault in
     * every page of it */
    for (size_t i = 0; idx->nkeys > 0 && i <= idx->mask; i++) {
        const struct slot *s = &idx->slots[i];
        uint64_t h;
        size_t j;

        if (s->type == K_EMPTY)
            continue;
        h = match__hash(idx->keys + s->key, s->len, SEED + s->type, ktype_fold(s->type));
        j = h & nmask;
        while (ns[j].type != K_EMPTY)
            j = (j + 1) & nmask;
        ns[j] = *s;
    }
    mrd_free(idx->slots);
    idx->slots = ns;
    idx->mask = nmask;
    return MRD_OK;
}

static enum mrd_code grow(struct match_index *idx, struct mrd_err *err)
{
    return rehash(idx, idx->mask * 2 + 1, err);
}

enum mrd_code match_index_reserve(struct match_index *idx, size_t nkeys, struct mrd_err *err)
{
    /* Growing while loading a million keys rehashes everything ~20 times;
     * a caller that can estimate the count sizes the table once. */
    size_t nmask = idx->mask;

    if (nkeys > ((size_t)1 << 30))
        nkeys = (size_t)1 << 30;
    while ((nkeys + 1) * 2 > nmask + 1)
        nmask = nmask * 2 + 1;
    if (nmask != idx->mask && rehash(idx, nmask, err) != MRD_OK)
        return MRD_E_NOMEM;
    if (nkeys > idx->posts_cap) {
        struct posting *np = mrd_realloc(idx->posts, nkeys * sizeof(*np));
        if (np == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
        idx->posts = np;
        idx->posts_cap = nkeys;
        mrd_prefault(idx->posts + idx->nposts, (nkeys - idx->nposts) * sizeof(*np));
    }
    if (nkeys * 32 > idx->keys_cap && nkeys * 32 < UINT32_MAX) {
        char *nk = mrd_realloc(idx->keys, nkeys * 32);
        if (nk == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
        idx->keys = nk;
        idx->keys_cap = nkeys * 32;
        mrd_prefault(idx->keys + idx->keys_len, idx->keys_cap - idx->keys_len);
    }
    return MRD_OK;
}

/* Inserts key k (hash h) for indicator ind. */
static enum mrd_code insert(struct match_index *idx, enum ktype t, const char *k, size_t n,
                            uint64_t h, uint32_t ind, struct mrd_err *err)
{
    size_t j;
    struct slot *s;

    if ((idx->nkeys + 1) * 2 > idx->mask + 1 && grow(idx, err) != MRD_OK)
        return MRD_E_NOMEM;
    j = h & idx->mask;
    for (;;) {
        s = &idx->slots[j];
        if (s->type == K_EMPTY)
            break;
        if (s->type == t && s->tag == (uint32_t)(h >> 32) && key_eq(idx, s, k, n))
            break;
        j = (j + 1) & idx->mask;
    }
    if (idx->nposts == idx->posts_cap) {
        size_t nc = idx->posts_cap ? idx->posts_cap * 2 : 1024;
        struct posting *np = mrd_realloc(idx->posts, nc * sizeof(*np));
        if (np == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
        idx->posts = np;
        idx->posts_cap = nc;
    }
    if (s->type == K_EMPTY) {
        if (idx->keys_len + n > UINT32_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG, "match: index keys exceed 4 GiB");
        if (idx->keys_len + n > idx->keys_cap) {
            size_t nc = idx->keys_cap ? idx->keys_cap * 2 : 65536;
            char *nk;
            while (nc < idx->keys_len + n)
                nc *= 2;
            nk = mrd_realloc(idx->keys, nc);
            if (nk == NULL)
                return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
            idx->keys = nk;
            idx->keys_cap = nc;
        }
        for (size_t i = 0; i < n; i++)
            idx->keys[idx->keys_len + i] =
                ktype_fold(t) ? (char)match__lower((unsigned char)k[i]) : k[i];
        s->type = (uint8_t)t;
        s->tag = (uint32_t)(h >> 32);
        s->key = (uint32_t)idx->keys_len;
        s->len = (uint16_t)n;
        s->post = 0;
        idx->keys_len += n;
        idx->nkeys++;
        idx->nhash += t == K_HASH;
    } else {
        /* The same value for the same indicator twice is one posting. */
        for (uint32_t p = s->post; p != 0; p = idx->posts[p - 1].next)
            if (idx->posts[p - 1].ind == ind)
                return MRD_OK;
    }
    idx->posts[idx->nposts].ind = ind;
    idx->posts[idx->nposts].next = s->post;
    idx->nposts++;
    s->post = (uint32_t)idx->nposts;
    return MRD_OK;
}

/* Inserts the oldest queued key. */
static enum mrd_code insert_oldest(struct match_index *idx, struct mrd_err *err)
{
    const struct pending *q = &idx->queue[idx->qhead];

    idx->qhead = (idx->qhead + 1) % ADD_QUEUE;
    idx->qlen--;
    return insert(idx, (enum ktype)q->type, q->key, q->len, q->h, q->ind, err);
}

static enum mrd_code flush_queue(struct match_index *idx, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    while (idx->qlen > 0 && rc == MRD_OK)
        rc = insert_oldest(idx, err);
    return rc;
}

/* Adds a key. Each insert is a random access into a table of tens of
 * megabytes, a cache and TLB miss that was most of the time spent loading
 * a million indicators. So a key is hashed, its slot prefetched, and the
 * insert made ADD_QUEUE keys later, when the slot is in cache. Inserts
 * stay in order, so a repeated key still finds its first copy; an error
 * of a queued insert is returned by a later add or by build. */
static enum mrd_code add_key(struct match_index *idx, enum ktype t, const char *k, size_t n,
                             uint32_t ind, struct mrd_err *err)
{
    uint64_t h;
    struct pending *q;
    enum mrd_code rc = MRD_OK;

    if (n == 0 || n > MATCH_MAX_VALUE)
        return mrd_err_set(err, MRD_E_INVAL, "match: value length %zu out of range", n);
    h = match__hash(k, n, SEED + t, ktype_fold(t));
    if (n > ADD_QUEUE_KEY) {
        rc = flush_queue(idx, err);
        return rc != MRD_OK ? rc : insert(idx, t, k, n, h, ind, err);
    }
    __builtin_prefetch(&idx->slots[h & idx->mask], 1);
    if (idx->qlen == ADD_QUEUE)
        rc = insert_oldest(idx, err);
    if (rc != MRD_OK)
        return rc;
    q = &idx->queue[(idx->qhead + idx->qlen) % ADD_QUEUE];
    q->h = h;
    q->ind = ind;
    q->len = (uint16_t)n;
    q->type = (uint8_t)t;
    memcpy(q->key, k, n);
    idx->qlen++;
    return MRD_OK;
}

/* Splits "addr/len"; returns the prefix length or -1 when absent, -2 when
 * malformed. */
static int split_cidr(const char *v, size_t n, size_t *addr_len, int max)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '/') {
            int plen = 0;
            if (i + 1 == n || n - i - 1 > 3)
                return -2;
            for (size_t k = i + 1; k < n; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return -2;
                plen = plen * 10 + (v[k] - '0');
            }
            if (plen > max)
                return -2;
            *addr_len = i;
            return plen;
        }
    }
    *addr_len = n;
    return -1;
}

static enum mrd_code add_cidr4(struct match_index *idx, uint32_t a, int plen, uint32_t ind,
                               struct mrd_err *err)
{
    uint32_t mask = plen == 0 ? 0 : 0xffffffffu << (32 - plen);

    if (idx->nc4 == idx->c4_cap) {
        size_t nc = idx->c4_cap ? idx->c4_cap * 2 : 256;
        struct cidr4 *n4 = mrd_realloc(idx->c4, nc * sizeof(*n4));
        if (n4 == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory");
        idx->c4 = n4;
        idx->c4_cap = nc;
    }
    idx->c4[idx->nc4].net = a & mask;
    idx->c4[idx->nc4].plen = (uint8_t)plen;
    idx->c4[idx->nc4].ind = ind;
    idx->nc4++;
    return MRD_OK;
}

static void v6_mask(uint8_t a[16], int plen)
{
    for (int i = 0; i < 16; i++) {
        int bits = plen - 8 * i;
        if (bits >= 8)
            continue;
        a[i] = bits <= 0 ? 0 : (uint8_t)(a[i] & (0xff << (8 - bits)));
    }
}

enum mrd_code match_index_add(struct match_index *idx, enum match_type type, const char *v,
                              size_t n, uint32_t ind, struct mrd_err *err)
{
    char buf[MATCH_MAX_VALUE + 1];
    size_t alen, len;
    int plen;

    if (idx->built)
        return mrd_err_set(err, MRD_E_INVAL, "match: index already built");
    if (n == 0 || n > MATCH_MAX_VALUE)
        return mrd_err_set(err, MRD_E_INVAL, "match: value of %zu bytes out of range", n);
    switch (type) {
    case MATCH_T_IPV4: {
        uint32_t a;
        plen = split_cidr(v, n, &alen, 32);
        if (plen == -2 || !match_ipv4_parse(v, alen, &a))
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an IPv4 address or CIDR",
                               (int)(n > 64 ? 64 : n), v);
        if (plen >= 0 && plen < 32)
            return add_cidr4(idx, a, plen, ind, err);
        buf[0] = (char)(a >> 24);
        buf[1] = (char)(a >> 16);
        buf[2] = (char)(a >> 8);
        buf[3] = (char)a;
        idx->v4_16[a >> 22] |= 1ull << ((a >> 16) & 63);
        return add_key(idx, K_IPV4, buf, 4, ind, err);
    }
    case MATCH_T_IPV6: {
        uint8_t a[16];
        plen = split_cidr(v, n, &alen, 128);
        if (plen == -2 || !match_ipv6_parse(v, alen, a))
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an IPv6 address or CIDR",
                               (int)(n > 64 ? 64 : n), v);
        if (plen >= 0 && plen < 128) {
            v6_mask(a, plen);
            buf[0] = (char)plen;
            memcpy(buf + 1, a, (size_t)(plen + 7) / 8);
            idx->v6_plens[plen] = 1;
            if (plen < 16)
                idx->v6_short = true;
            else
                bit_set(idx->v6_16, (unsigned)a[0] << 8 | a[1]);
            return add_key(idx, K_CIDR6, buf, 1 + (size_t)(plen + 7) / 8, ind, err);
        }
        memcpy(buf, a, 16);
        bit_set(idx->v6_16, (unsigned)a[0] << 8 | a[1]);
        return add_key(idx, K_IPV6, buf, 16, ind, err);
    }
    case MATCH_T_DOMAIN:
        len = match__host_trim(v, n);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c <= ' ' || c == '/' || c == ':' || c == '@' || c == 0x7f)
                return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not a domain name",
                                   (int)(n > 64 ? 64 : n), v);
        }
        {
            unsigned labels = 1;
            for (size_t i = 0; i < len; i++)
                labels += v[i] == '.';
            size_t first = (size_t)(match__find(v, v + len, '.') - v);
            idx->dom_labels |= 1ull << (labels > 63 ? 63 : labels);
            bit_set(idx->dom_len[labels > 63 ? 63 : labels], len > 255 ? 255 : (unsigned)len);
            idx->dom_first[labels > 63 ? 63 : labels] |= 1ull << (first > 63 ? 63 : first);
        }
        return add_key(idx, K_DOMAIN, v, len, ind, err);
    case MATCH_T_URL: {
        const char *host = NULL;
        size_t hl = 0;
        len = match_url_normalize(v, n, buf, sizeof(buf), &host, &hl);
        if (len == 0)
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an absolute URL",
                               (int)(n > 64 ? 64 : n), v);
        bit_set(idx->url_len, (unsigned)len);
        bit_set(idx->url_host[host_labels(host, hl)], hl > 255 ? 255 : (unsigned)hl);
    }
        return add_key(idx, K_URL, buf, len, ind, err);
    case MATCH_T_EMAIL:
        if (memchr(v, '@', n) == NULL)
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an e-mail address",
                               (int)(n > 64 ? 64 : n), v);
        return add_key(idx, K_EMAIL, v, n, ind, err);
    case MATCH_T_MD5:
    case MATCH_T_SHA1:
    case MATCH_T_SHA256:
    case MATCH_T_SHA512: {
        static const size_t want[] = {
            [MATCH_T_MD5] = 32, [MATCH_T_SHA1] = 40, [MATCH_T_SHA256] = 64, [MATCH_T_SHA512] = 128};
        bool hex = n == want[type];
        for (size_t i = 0; hex && i < n; i++) {
            unsigned char c = match__lower((unsigned char)v[i]);
            hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }
        if (!hex)
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not a %zu-digit hex hash",
                               (int)(n > 64 ? 64 : n), v, want[type]);
        return add_key(idx, K_HASH, v, n, ind, err);
    }
    case MATCH_T_ID:
        if (memchr(v, '-', n) == NULL)
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not a STIX id",
                               (int)(n > 64 ? 64 : n), v);
        return add_key(idx, K_ID, v, n, ind, err);
    default:
        return mrd_err_set(err, MRD_E_INVAL, "match: unknown value type %d", (int)type);
    }
}

enum mrd_code match_index_add_opaque(struct match_index *idx, const void *k, size_t n, uint32_t ind,
                                     struct mrd_err *err)
{
    if (idx->built)
        return mrd_err_set(err, MRD_E_INVAL, "match: index already built");
    return add_key(idx, K_OPAQUE, k, n, ind, err);
}

static int cmp_c4(const void *a, const void *b)
{
    const struct cidr4 *x = a, *y = b;
    if (x->net != y->net)
        return x->net < y->net ? -1 : 1;
    return (int)y->plen - (int)x->plen; /* longest prefix first */
}

/* The filter is addressed by the slot tag (the hash's high 32 bits):
 * building it reads the tags in slot order and never touches a key. */
#define FILTER_MAX_WORDS ((size_t)1 << 20) /* 12 tag bits pick bits, 20 the word */

static void filter_set(struct match_index *idx, uint32_t tag)
{
    idx->filter[(tag >> 12) & idx->filter_mask] |=
        (1ull << (tag & 63)) | (1ull << ((tag >> 6) & 63));
}

static inline bool filter_test(const struct match_index *idx, uint32_t tag)
{
    uint64_t w = idx->filter[(tag >> 12) & idx->filter_mask];
    uint64_t m = (1ull << (tag & 63)) | (1ull << ((tag >> 6) & 63));
    return (w & m) == m;
}

/* The hash-key filter takes the low half of the hash, which the big
 * filter does not use, so that their false positives are independent. */
static inline uint64_t hash_filter_bits(uint64_t h)
{
    return (1ull << (h & 63)) | (1ull << ((h >> 6) & 63));
}

static inline bool hash_filter_test(const struct match_index *idx, uint64_t h)
{
    uint64_t m = hash_filter_bits(h);
    return (idx->hash_filter[(h >> 12) & idx->hash_filter_mask] & m) == m;
}

#define HASH_FILTER_MAX_WORDS ((size_t)1 << 14) /* 128 KiB: ~7 bits per key at 150k keys */

static enum mrd_code alloc_hash_filter(struct match_index *idx, struct mrd_err *err)
{
    size_t words = 64;

    /* ~8 bits per key: two bits in one word gives ~5% false positives */
    while (words * 8 < idx->nhash && words < HASH_FILTER_MAX_WORDS)
        words *= 2;
    idx->hash_filter = mrd_calloc(words, sizeof(uint64_t));
    if (idx->hash_filter == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory building the filter");
    idx->hash_filter_mask = words - 1;
    return MRD_OK;
}

static void hash_filter_set(struct match_index *idx, const struct slot *s)
{
    uint64_t h = match__hash(idx->keys + s->key, s->len, SEED + K_HASH, 1);

    idx->hash_filter[(h >> 12) & idx->hash_filter_mask] |= hash_filter_bits(h);
}

enum mrd_code match_index_build(struct match_index *idx, struct mrd_err *err)
{
    size_t words = 64, total = 0;
    enum mrd_code rc;

    if (idx->built)
        return MRD_OK;
    rc = flush_queue(idx, err);
    if (rc != MRD_OK)
        return rc;
    /* ~16 filter bits per key: two bits in one word gives ~1.5% false
     * positives, and 1M keys fit in 2 MiB. */
    while (words * 4 < idx->nkeys + 1 && words < FILTER_MAX_WORDS)
        words *= 2;
    /* Every lookup that passes the shape filters reads one random word:
     * a filter of 2 MiB in one huge page costs a cache miss, in 512 small
     * pages a TLB miss as well. Over-allocated so it can be aligned. */
    {
        size_t bytes = words * sizeof(uint64_t), align = (size_t)2 << 20;
        uintptr_t a;
        if (bytes < align)
            align = 64;
        mrd_free(idx->filter_mem); /* from a build that failed part way */
        mrd_free(idx->hash_filter);
        idx->hash_filter = NULL;
        idx->filter_mem = mrd_malloc(bytes + align);
        if (idx->filter_mem == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory building the filter");
        a = ((uintptr_t)idx->filter_mem + align - 1) & ~(uintptr_t)(align - 1);
        idx->filter = (uint64_t *)a;
        if (align > 64)
            (void)madvise(idx->filter, bytes, MADV_HUGEPAGE);
        memset(idx->filter, 0, bytes);
    }
    idx->filter_mask = words - 1;
    if (alloc_hash_filter(idx, err) != MRD_OK)
        return MRD_E_NOMEM;
    /* one pass over the table (tens of megabytes) fills both filters */
    for (size_t i = 0; i <= idx->mask; i++) {
        const struct slot *s = &idx->slots[i];
        if (s->type == K_EMPTY)
            continue;
        filter_set(idx, s->tag);
        if (s->type == K_HASH)
            hash_filter_set(idx, s);
    }

    /* IPv4 ranges into /16 buckets; a prefix shorter than /16 covers
     * 2^(16-plen) buckets and is copied into each. */
    if (idx->nc4 > 0)
        qsort(idx->c4, idx->nc4, sizeof(*idx->c4), cmp_c4);
    for (size_t i = 0; i < idx->nc4; i++)
        total += idx->c4[i].plen >= 16 ? 1 : (size_t)1 << (16 - idx->c4[i].plen);
    if (total > MAX_V4_EXPANSION)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "match: IPv4 CIDR ranges cover too many /16 buckets (%zu)", total);
    if (idx->nc4 == 0) {
        /* no IPv4 ranges: c4_used stays empty and lookups never look further */
        idx->built = true;
        return MRD_OK;
    }
    idx->c4_start = mrd_calloc(65537, sizeof(uint32_t));
    idx->c4b = mrd_calloc(total + 1, sizeof(struct cidr4));
    if (idx->c4_start == NULL || idx->c4b == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory building CIDR tables");
    for (size_t i = 0; i < idx->nc4; i++) {
        uint32_t b0 = idx->c4[i].net >> 16;
        size_t nb = idx->c4[i].plen >= 16 ? 1 : (size_t)1 << (16 - idx->c4[i].plen);
        for (size_t b = 0; b < nb; b++)
            idx->c4_start[b0 + b + 1]++;
    }
    for (size_t b = 0; b < 65536; b++)
        idx->c4_start[b + 1] += idx->c4_start[b];
    {
        uint32_t *fill = mrd_calloc(65536, sizeof(uint32_t));
        if (fill == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "match: out of memory building CIDR tables");
        for (size_t i = 0; i < idx->nc4; i++) {
            uint32_t b0 = idx->c4[i].net >> 16;
            size_t nb = idx->c4[i].plen >= 16 ? 1 : (size_t)1 << (16 - idx->c4[i].plen);
            for (size_t b = b0; b < b0 + nb; b++) {
                idx->c4b[idx->c4_start[b] + fill[b]++] = idx->c4[i];
                idx->c4_used[b >> 6] |= 1ull << (b & 63);
            }
        }
        mrd_free(fill);
    }
    idx->built = true;
    return MRD_OK;
}

/* Probes the table; appends every posting of the key to out. */
static size_t probe(const struct match_index *idx, enum ktype t, const char *k, size_t n,
                    uint32_t *out, size_t nout, size_t max)
{
    uint64_t h = match__hash(k, n, SEED + t, ktype_fold(t));
    size_t j;

    if (t == K_HASH && !hash_filter_test(idx, h))
        return nout;
    if (!filter_test(idx, (uint32_t)(h >> 32)))
        return nout;
    j = h & idx->mask;
    for (;;) {
        const struct slot *s = &idx->slots[j];
        if (s->type == K_EMPTY)
            return nout;
        if (s->type == t && s->tag == (uint32_t)(h >> 32) && key_eq(idx, s, k, n)) {
            for (uint32_t p = s->post; p != 0 && nout < max; p = idx->posts[p - 1].next)
                out[nout++] = idx->posts[p - 1].ind;
            return nout;
        }
        j = (j + 1) & idx->mask;
    }
}

static inline size_t lookup_v4(const struct match_index *idx, uint32_t a, uint32_t *out,
                               size_t nout, size_t max)
{
    char k[4] = {(char)(a >> 24), (char)(a >> 16), (char)(a >> 8), (char)a};
    uint32_t b = a >> 16;

    if (bit_test(idx->v4_16, b))
        nout = probe(idx, K_IPV4, k, 4, out, nout, max);
    if (idx->c4_used[b >> 6] & (1ull << (b & 63))) {
        for (uint32_t i = idx->c4_start[b]; i < idx->c4_start[b + 1] && nout < max; i++) {
            const struct cidr4 *c = &idx->c4b[i];
            uint32_t m = c->plen == 0 ? 0 : 0xffffffffu << (32 - c->plen);
            if ((a & m) == c->net)
                out[nout++] = c->ind;
        }
    }
    return nout;
}

static size_t lookup_v6(const struct match_index *idx, const uint8_t a[16], uint32_t *out,
                        size_t nout, size_t max)
{
    char k[17];

    if (!idx->v6_short && !bit_test(idx->v6_16, (unsigned)a[0] << 8 | a[1]))
        return nout;
    nout = probe(idx, K_IPV6, (const char *)a, 16, out, nout, max);
    for (int plen = 0; plen < 128; plen++) {
        if (!idx->v6_plens[plen])
            continue;
        k[0] = (char)plen;
        memcpy(k + 1, a, 16);
        v6_mask((uint8_t *)k + 1, plen);
        nout = probe(idx, K_CIDR6, k, 1 + (size_t)(plen + 7) / 8, out, nout, max);
    }
    return nout;
}

/* Parses v as an IPv4 or IPv6 address and looks it up; returns -1 when v
 * is not an address. */
static long lookup_ip(const struct match_index *idx, const char *v, size_t n, uint32_t *out,
                      size_t nout, size_t max)
{
    uint32_t a4;
    uint8_t a6[16];

    if (n >= 7 && n <= 15 && match__ipv4_parse(v, n, &a4))
        return (long)lookup_v4(idx, a4, out, nout, max);
    if (match__find(v, v + n, ':') != v + n && match_ipv6_parse(v, n, a6)) {
        /* ::ffff:a.b.c.d is an IPv4 client seen through a v6 socket. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, 12) == 0)
            nout = lookup_v4(idx,
                             (uint32_t)a6[12] << 24 | (uint32_t)a6[13] << 16 |
                                 (uint32_t)a6[14] << 8 | a6[15],
                             out, nout, max);
        return (long)lookup_v6(idx, a6, out, nout, max);
    }
    return -1;
}

/* Whether some domain key has the shape of v[0..n): its label count, its
 * length and the length of its first label. All three live in L1. */
static inline bool dom_shape(const struct match_index *idx, unsigned labels, const char *v,
                             size_t n)
{
    unsigned k = labels > 63 ? 63 : labels;
    size_t first;

    if (!bit_test(idx->dom_len[k], n > 255 ? 255 : (unsigned)n))
        return false;
    first = (size_t)(match__find(v, v + n, '.') - v);
    return (idx->dom_first[k] >> (first > 63 ? 63 : first)) & 1;
}

static size_t lookup_domain(const struct match_index *idx, const char *v, size_t n, unsigned flags,
                            uint32_t *out, size_t nout, size_t max)
{
    unsigned labels = 1;

    n = match__host_trim(v, n);
    if (n == 0 || idx->dom_labels == 0)
        return nout;
    for (size_t i = 0; i < n; i++)
        labels += v[i] == '.';
    if (dom_shape(idx, labels, v, n))
        nout = probe(idx, K_DOMAIN, v, n, out, nout, max);
    if (flags & MATCH_F_SUBDOMAINS) {
        /* Every suffix that starts right after a dot: a.b.evil.com tries
         * b.evil.com, evil.com and com, never notevil.com-style partial
         * labels, never evil.com.cdn.net's prefix. Only suffixes with a
         * label count some indicator has are probed. */
        for (size_t i = 0; i + 1 < n; i++) {
            if (v[i] != '.')
                continue;
            labels--;
            if (dom_shape(idx, labels, v + i + 1, n - i - 1))
                nout = probe(idx, K_DOMAIN, v + i + 1, n - i - 1, out, nout, max);
        }
    }
    return nout;
}

static size_t lookup_host(const struct match_index *idx, const char *v, size_t n, unsigned flags,
                          uint32_t *out, size_t nout, size_t max)
{
    long r;
    const char *colon;

    if (n == 0)
        return nout;
    if (v[0] == '[') {
        /* [v6]:port */
        const char *e = match__find(v, v + n, ']');
        if (e == v + n)
            return nout;
        r = lookup_ip(idx, v + 1, (size_t)(e - v - 1), out, nout, max);
        return r < 0 ? nout : (size_t)r;
    }
    r = lookup_ip(idx, v, n, out, nout, max);
    if (r >= 0)
        return (size_t)r;
    colon = match__find(v, v + n, ':');
    if (colon != v + n) {
        /* host:port (exactly one colon; more would be IPv6, handled above) */
        if (match__find(colon + 1, v + n, ':') != v + n)
            return nout;
        n = (size_t)(colon - v);
        r = lookup_ip(idx, v, n, out, nout, max);
        if (r >= 0)
            return (size_t)r;
    }
    return lookup_domain(idx, v, n, flags, out, nout, max);
}

static size_t lookup_hash(const struct match_index *idx, const char *v, size_t n, uint32_t *out,
                          size_t nout, size_t max)
{
    if (n != 32 && n != 40 && n != 64 && n != 128)
        return nout;
    return probe(idx, K_HASH, v, n, out, nout, max);
}

size_t match_index_lookup(const struct match_index *idx, enum match_obs obs, const char *v,
                          size_t n, unsigned flags, uint32_t *out, size_t max)
{
    size_t nout = 0;

    if (n == 0 || n > MATCH_MAX_VALUE || !idx->built)
        return 0;
    switch (obs) {
    case MATCH_O_IP: {
        long r = lookup_ip(idx, v, n, out, 0, max);
        return r < 0 ? 0 : (size_t)r;
    }
    case MATCH_O_HOST:
        return lookup_host(idx, v, n, flags, out, 0, max);
    case MATCH_O_HOSTLIST: {
        size_t i = 0;
        while (i < n) {
            size_t j = (size_t)(match__find(v + i, v + n, ',') - v);
            nout = lookup_host(idx, v + i, j - i, flags, out, nout, max);
            i = j + 1;
        }
        return nout;
    }
    case MATCH_O_URL: {
        char buf[MATCH_MAX_VALUE + 8];
        const char *host = NULL;
        size_t hl = 0;
        size_t len = match_url_normalize(v, n, buf, sizeof(buf), &host, &hl);
        if (len == 0)
            return 0;
        if (bit_test(idx->url_len, (unsigned)len) &&
            bit_test(idx->url_host[host_labels(host, hl)], hl > 255 ? 255 : (unsigned)hl))
            nout = probe(idx, K_URL, buf, len, out, 0, max);
        return lookup_host(idx, host, hl, flags, out, nout, max);
    }
    case MATCH_O_EMAIL:
        return probe(idx, K_EMAIL, v, n, out, 0, max);
    case MATCH_O_HASH:
        return lookup_hash(idx, v, n, out, 0, max);
    case MATCH_O_ID:
        return probe(idx, K_ID, v, n, out, 0, max);
    default:
        return 0;
    }
}

size_t match_index_lookup_opaque(const struct match_index *idx, const void *k, size_t n,
                                 uint32_t *out, size_t max)
{
    if (n == 0 || n > MATCH_MAX_VALUE || !idx->built)
        return 0;
    return probe(idx, K_OPAQUE, k, n, out, 0, max);
}
