/*
 * ledger.c: the persistent Merkle log (see ledger.h and docs/ledger.md).
 *
 * Layout of DIR/log: after leaf i's 45-byte record come the interior nodes
 * it completes, lowest level first (tlog's storage order), so
 *
 *     offset of leaf i        = size(i) = 45 i + 32 (i - popcount(i))
 *     offset of node (L >= 1, j) = size(last) + 45 + 32 (L - 1),
 *                              last = (j + 1) 2^L - 1 (its last leaf)
 *
 * and a log of n leaves is exactly size(n) bytes: any other length means a
 * torn tail. Storing every interior node costs 32 bytes per leaf and makes a
 * proof a few dozen memory reads; leaf hashes are recomputed from the 41-byte
 * entries instead of stored (one hash per proof), which keeps a leaf at 77
 * bytes in all.
 *
 * Durability: the leader of a group commit pwrite()s the whole batch
 * (records and nodes, contiguous) then fdatasync()s once; only then does
 * `durable` move and callers return. Readers use a read-only MAP_SHARED
 * mapping reserved far past the end of the file, so growth never remaps and
 * proofs take no lock; they only read below `durable`.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/str.h"
#include "ledger/ledger.h"

#define NODE_LEN MERKLE_HASH_LEN
#define CHECK_LEN (LEDGER_RECORD_LEN - LEDGER_ENTRY_LEN)
/* Address space reserved for the mapping: 1 TiB is ~14e9 leaves. Only
 * pages below the file's end are ever touched. */
#define LEDGER_MAP_RESERVE ((uint64_t)1 << 40)
/* Bytes one batch can add: records, one node per leaf, plus the right
 * edge's carries. */
#define PEND_MAX ((size_t)LEDGER_MAX_BATCH * (LEDGER_RECORD_LEN + NODE_LEN) + 128 * NODE_LEN)

/* The right edge of a tree: the perfect subtrees of its size, largest first
 * (a binary counter of subtree hashes). */
struct front {
    uint8_t h[64][MERKLE_HASH_LEN];
    uint8_t level[64];
    size_t top;
};

/* The hashes of the right spine of the tree of one size: MTH(D[start:size])
 * for each imperfect node ending at size. Every proof at that size needs
 * one of them, which would otherwise cost up to log n hashes per proof. */
struct edge_cache {
    uint64_t size; /* 0: empty */
    size_t n;
    uint64_t start[64];
    uint8_t h[64][MERKLE_HASH_LEN];
};

/* With LEDGER_OPEN_PROOFS, nodes at this level and above are also kept in
 * memory (1/16 of the nodes: 2 bytes per leaf, 20 MB for 10^7 leaves). A
 * proof then reads the file only inside one 16-leaf tile (~1.3 KB, one
 * pread) instead of at ~log n scattered pages: page faults and TLB misses
 * were the cost of a proof. */
#define UPPER_MIN_LEVEL 5

struct ledger {
    char dir[LEDGER_MAX_PATH];
    int fd;
    int dirfd;
    int readonly;
    const uint8_t *map;
    uint64_t map_len;         /* bytes of address space reserved at map */
    _Atomic uint64_t durable; /* leaves on disk and readable through map */
    pthread_mutex_t edge_mu;
    struct edge_cache edge;
    pthread_rwlock_t up_lock; /* guards up, up_n, up_cap */
    uint8_t *up[64];          /* level L's nodes, L >= UPPER_MIN_LEVEL */
    uint64_t up_n[64], up_cap[64];
    int up_on; /* LEDGER_OPEN_PROOFS */

    /* Writer state, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t file_len;    /* bytes written so far (the leader's cursor) */
    uint64_t pending_n;   /* leaves accepted, durable or not */
    uint64_t queued_from; /* first leaf whose bytes are in pend */
    struct front front;   /* right edge of the tree at pending_n */
    struct mrd_buf pend;  /* bytes not yet handed to a leader */
    struct mrd_buf spare; /* the previous batch's buffer, reused */
    int flushing;
    enum mrd_code broken; /* sticky after an I/O error */
    char broken_msg[MRD_ERR_MSG_MAX];
};

static unsigned popcount64(uint64_t x)
{
    return (unsigned)__builtin_popcountll(x);
}

uint64_t ledger_file_size(uint64_t n)
{
    return (uint64_t)LEDGER_RECORD_LEN * n + (uint64_t)NODE_LEN * (n - popcount64(n));
}

static uint64_t node_off(unsigned level, uint64_t index)
{
    uint64_t last = ((index + 1) << level) - 1;

    return ledger_file_size(last) + LEDGER_RECORD_LEN + (uint64_t)NODE_LEN * (level - 1);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

const char *ledger_kind_name(unsigned kind)
{
    static const char *const names[] = {NULL,           "object",      "hold-create", "hold-renew",
                                        "hold-release", "hold-export", "admin",       "delivery",
                                        "erasure",      "access-audit"};

    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : NULL;
}

void ledger_entry_encode(const struct ledger_entry *e, uint8_t ret[LEDGER_ENTRY_LEN])
{
    ret[0] = e->kind;
    put_be64(ret + 1, e->time_ms);
    memcpy(ret + 9, e->hash, MERKLE_HASH_LEN);
}

enum mrd_code ledger_entry_decode(const uint8_t *buf, size_t len, struct ledger_entry *ret,
                                  struct mrd_err *err)
{
    if (len != LEDGER_ENTRY_LEN)
        return mrd_err_set(err, MRD_E_PARSE, "ledger: entry is %zu bytes, want %d", len,
                           LEDGER_ENTRY_LEN);
    if (buf[0] == 0 || buf[0] > LEDGER_KIND_MAX)
        return mrd_err_set(err, MRD_E_PARSE, "ledger: unknown entry kind %u", buf[0]);
    ret->kind = buf[0];
    ret->time_ms = get_be64(buf + 1);
    memcpy(ret->hash, buf + 9, MERKLE_HASH_LEN);
    return MRD_OK;
}

void ledger_entry_leaf_hash(const struct ledger_entry *e, uint8_t ret[MERKLE_HASH_LEN])
{
    uint8_t buf[LEDGER_ENTRY_LEN];

    ledger_entry_encode(e, buf);
    merkle_hash_leaf(buf, sizeof(buf), ret);
}

/* ---- reading (no lock: only below `durable`, through the mapping) ---- */

static const uint8_t *record_at(const struct ledger *log, uint64_t index)
{
    return log->map + ledger_file_size(index);
}

/* Nodes below UPPER_MIN_LEVEL are read a tile at a time: the records and
 * nodes of one aligned block of TILE_LEAVES leaves are contiguous in the
 * file (tlog order), so one pread gives a proof every low-level hash it
 * needs. pread rather than the mapping: a random proof would otherwise
 * page-fault on several pages, which in a VM costs more than the copy. */
#define TILE_LEAVES ((uint64_t)1 << (UPPER_MIN_LEVEL - 1))
#define TILE_MAX ((size_t)TILE_LEAVES * (LEDGER_RECORD_LEN + NODE_LEN) + 64 * NODE_LEN)

/* One proof's view of the log: a size, and the tile last read. */
struct reader {
    struct ledger *log;
    uint64_t size;
    uint64_t tile_block; /* valid when tile_len > 0 */
    uint64_t tile_start; /* file offset of tile[0] */
    size_t tile_len;
    uint8_t tile[TILE_MAX];
};

static enum mrd_code reader_bytes(struct reader *r, uint64_t first_leaf, uint64_t off, size_t len,
                                  const uint8_t **ret, struct mrd_err *err)
{
    uint64_t block = first_leaf / TILE_LEAVES;

    if (r->tile_len == 0 || r->tile_block != block) {
        uint64_t end_leaf = (block + 1) * TILE_LEAVES;
        size_t want, got = 0;

        if (end_leaf > r->size)
            end_leaf = r->size;
        r->tile_start = ledger_file_size(block * TILE_LEAVES);
        want = (size_t)(ledger_file_size(end_leaf) - r->tile_start);
        if (want > TILE_MAX)
            want = TILE_MAX;
        r->tile_len = 0;
        while (got < want) {
            ssize_t n = pread(r->log->fd, r->tile + got, want - got, (off_t)(r->tile_start + got));

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return mrd_err_sys(err, MRD_E_IO, n < 0 ? errno : EIO, "ledger: %s/log: read",
                                   r->log->dir);
            got += (size_t)n;
        }
        r->tile_block = block;
        r->tile_len = want;
    }
    if (off < r->tile_start || off + len > r->tile_start + r->tile_len)
        return mrd_err_set(err, MRD_E_INTERNAL, "ledger: offset %llu outside its tile",
                           (unsigned long long)off);
    *ret = r->tile + (off - r->tile_start);
    return MRD_OK;
}

/* The merkle_source callback. The caller holds up_lock for reading. */
static enum mrd_code source_perfect(void *ctx, unsigned level, uint64_t index,
                                    uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err)
{
    struct reader *r = ctx;
    struct ledger *log = r->log;
    const uint8_t *p = NULL;
    enum mrd_code rc;

    if (level >= 64 || index >= (r->size >> level))
        return mrd_err_set(err, MRD_E_INTERNAL, "ledger: node (%u, %llu) beyond size %llu", level,
                           (unsigned long long)index, (unsigned long long)r->size);
    if (level >= UPPER_MIN_LEVEL) {
        if (index < log->up_n[level])
            memcpy(ret, log->up[level] + index * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
        else
            memcpy(ret, log->map + node_off(level, index), MERKLE_HASH_LEN);
        return MRD_OK;
    }
    if (level == 0) {
        rc = reader_bytes(r, index, ledger_file_size(index), LEDGER_ENTRY_LEN, &p, err);
        if (rc == MRD_OK)
            merkle_hash_leaf(p, LEDGER_ENTRY_LEN, ret);
        return rc;
    }
    rc = reader_bytes(r, index << level, node_off(level, index), NODE_LEN, &p, err);
    if (rc == MRD_OK)
        memcpy(ret, p, NODE_LEN);
    return rc;
}

/* Appends node (level, index) to the in-memory upper levels; they only
 * ever grow by one at the end. Out of memory is not an error: the level
 * just stops growing and later nodes are read from the file. */
static void up_add(struct ledger *log, unsigned level, uint64_t index,
                   const uint8_t h[MERKLE_HASH_LEN])
{
    pthread_rwlock_wrlock(&log->up_lock);
    if (index != log->up_n[level])
        goto out; /* a level that stopped growing */
    if (log->up_n[level] == log->up_cap[level]) {
        uint64_t cap = log->up_cap[level] ? 2 * log->up_cap[level] : 64;
        uint8_t *p = mrd_realloc(log->up[level], (size_t)cap * MERKLE_HASH_LEN);

        if (p == NULL)
            goto out;
        log->up[level] = p;
        log->up_cap[level] = cap;
    }
    memcpy(log->up[level] + index * MERKLE_HASH_LEN, h, MERKLE_HASH_LEN);
    log->up_n[level]++;
out:
    pthread_rwlock_unlock(&log->up_lock);
}

/* Reads the upper levels of the first n leaves from the file in one
 * sequential pass (nodes at these levels are in file order as they were
 * completed), through a large buffer: a few hundred reads, not one per
 * node. */
static enum mrd_code up_load(struct ledger *log, uint64_t n, struct mrd_err *err)
{
    const size_t chunk = (size_t)1 << 20;
    const uint64_t step = (uint64_t)1 << UPPER_MIN_LEVEL;
    uint8_t *buf = mrd_malloc(chunk);
    uint64_t buf_start = 0;
    size_t buf_len = 0;
    enum mrd_code rc = MRD_OK;

    if (buf == NULL)
        return MRD_OK; /* no cache: proofs read the file */
    for (uint64_t count = step; count <= n && rc == MRD_OK; count += step) {
        unsigned top = (unsigned)__builtin_ctzll(count);

        for (unsigned level = UPPER_MIN_LEVEL; level <= top; level++) {
            uint64_t j = (count >> level) - 1, off = node_off(level, j);

            if (off < buf_start || off + NODE_LEN > buf_start + buf_len) {
                ssize_t got;

                buf_start = off;
                do
                    got = pread(log->fd, buf, chunk, (off_t)off);
                while (got < 0 && errno == EINTR);
                if (got < (ssize_t)NODE_LEN) {
                    rc = mrd_err_sys(err, MRD_E_IO, got < 0 ? errno : EIO, "ledger: %s/log: read",
                                     log->dir);
                    break;
                }
                buf_len = (size_t)got;
            }
            up_add(log, level, j, buf + (off - buf_start));
        }
    }
    mrd_free(buf);
    return rc;
}

static void front_load(struct front *f, const uint8_t *map, uint64_t n);

static int source_cached(void *ctx, uint64_t start, uint64_t end, uint8_t ret[MERKLE_HASH_LEN])
{
    struct ledger *log = ((struct reader *)ctx)->log;
    struct edge_cache *c = &log->edge;
    int found = 0;

    if (end > ((struct reader *)ctx)->size)
        return 0;
    pthread_mutex_lock(&log->edge_mu);
    if (c->size != end) {
        /* Fold the perfect subtrees of `end` from the smallest up; each
         * partial fold of two or more is a spine node [start_i, end). */
        struct front f;
        uint64_t starts[64], s = 0;
        uint8_t acc[MERKLE_HASH_LEN];

        front_load(&f, log->map, end);
        for (size_t i = 0; i < f.top; i++) {
            starts[i] = s;
            s += (uint64_t)1 << f.level[i];
        }
        c->n = 0;
        memcpy(acc, f.h[f.top - 1], MERKLE_HASH_LEN);
        for (size_t i = f.top - 1; i > 0; i--) {
            merkle_hash_node(f.h[i - 1], acc, acc);
            c->start[c->n] = starts[i - 1];
            memcpy(c->h[c->n], acc, MERKLE_HASH_LEN);
            c->n++;
        }
        c->size = end;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->start[i] == start) {
            memcpy(ret, c->h[i], MERKLE_HASH_LEN);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&log->edge_mu);
    return found;
}

/* Starts a read of the tree of the given size (<= durable): allocates a
 * reader (a tile buffer) and takes up_lock for reading until reader_end. */
static enum mrd_code reader_begin(struct ledger *log, uint64_t size, struct merkle_source *src,
                                  struct mrd_err *err)
{
    struct reader *r;
    uint64_t have = atomic_load(&log->durable);

    if (size > have)
        return mrd_err_set(err, MRD_E_NOTFOUND, "ledger: tree size %llu is beyond the log's %llu",
                           (unsigned long long)size, (unsigned long long)have);
    r = mrd_malloc(sizeof(*r));
    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "ledger: out of memory");
    r->log = log;
    r->size = size;
    r->tile_len = 0;
    src->ctx = r;
    src->perfect = source_perfect;
    src->cached = source_cached;
    pthread_rwlock_rdlock(&log->up_lock);
    return MRD_OK;
}

static void reader_end(struct merkle_source *src)
{
    struct reader *r = src->ctx;

    pthread_rwlock_unlock(&r->log->up_lock);
    mrd_free(r);
}

uint64_t ledger_size(struct ledger *log)
{
    return atomic_load(&log->durable);
}

static enum mrd_code check_index(struct ledger *log, uint64_t index, struct mrd_err *err)
{
    uint64_t size = ledger_size(log);

    if (index >= size)
        return mrd_err_set(err, MRD_E_NOTFOUND, "ledger: no leaf %llu (the log has %llu)",
                           (unsigned long long)index, (unsigned long long)size);
    return MRD_OK;
}

enum mrd_code ledger_entry_get(struct ledger *log, uint64_t index, struct ledger_entry *ret,
                               struct mrd_err *err)
{
    enum mrd_code rc = check_index(log, index, err);

    if (rc != MRD_OK)
        return rc;
    rc = ledger_entry_decode(record_at(log, index), LEDGER_ENTRY_LEN, ret, err);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "leaf %llu", (unsigned long long)index);
    return rc;
}

enum mrd_code ledger_leaf_hash(struct ledger *log, uint64_t index, uint8_t ret[MERKLE_HASH_LEN],
                               struct mrd_err *err)
{
    enum mrd_code rc = check_index(log, index, err);

    if (rc == MRD_OK)
        merkle_hash_leaf(record_at(log, index), LEDGER_ENTRY_LEN, ret);
    return rc;
}

enum mrd_code ledger_root(struct ledger *log, uint64_t size, uint8_t ret[MERKLE_HASH_LEN],
                          struct mrd_err *err)
{
    struct merkle_source src;
    enum mrd_code rc = reader_begin(log, size, &src, err);

    if (rc != MRD_OK)
        return rc;
    rc = merkle_root_at(&src, size, ret, err);
    reader_end(&src);
    return rc;
}

enum mrd_code ledger_prove_inclusion(struct ledger *log, uint64_t index, uint64_t size,
                                     uint8_t *ret_proof, size_t *ret_len, struct mrd_err *err)
{
    struct merkle_source src;
    enum mrd_code rc = reader_begin(log, size, &src, err);

    if (rc != MRD_OK)
        return rc;
    rc = merkle_inclusion_proof(&src, index, size, ret_proof, ret_len, err);
    reader_end(&src);
    return rc;
}

enum mrd_code ledger_prove_consistency(struct ledger *log, uint64_t size1, uint64_t size2,
                                       uint8_t *ret_proof, size_t *ret_len, struct mrd_err *err)
{
    struct merkle_source src;
    enum mrd_code rc = reader_begin(log, size2, &src, err);

    if (rc != MRD_OK)
        return rc;
    rc = merkle_consistency_proof(&src, size1, size2, ret_proof, ret_len, err);
    reader_end(&src);
    return rc;
}

enum mrd_code ledger_find(struct ledger *log, const uint8_t hash[MERKLE_HASH_LEN], uint64_t start,
                          uint64_t *ret_index, struct mrd_err *err)
{
    uint64_t size = ledger_size(log);

    for (uint64_t i = start; i < size; i++) {
        if (memcmp(record_at(log, i) + 9, hash, MERKLE_HASH_LEN) == 0) {
            *ret_index = i;
            return MRD_OK;
        }
    }
    return mrd_err_set(err, MRD_E_NOTFOUND, "ledger: no leaf records that hash");
}

enum mrd_code ledger_find_leaf(struct ledger *log, const uint8_t leaf_hash[MERKLE_HASH_LEN],
                               uint64_t size, uint64_t *ret_index, struct mrd_err *err)
{
    uint64_t n = ledger_size(log);

    if (size < n)
        n = size;
    /* Each record carries the first CHECK_LEN bytes of its leaf hash:
     * compare those, hash only the candidates. */
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *rec = record_at(log, i);
        uint8_t h[MERKLE_HASH_LEN];

        if (memcmp(rec + LEDGER_ENTRY_LEN, leaf_hash, CHECK_LEN) != 0)
            continue;
        merkle_hash_leaf(rec, LEDGER_ENTRY_LEN, h);
        if (memcmp(h, leaf_hash, MERKLE_HASH_LEN) == 0) {
            *ret_index = i;
            return MRD_OK;
        }
    }
    return mrd_err_set(err, MRD_E_NOTFOUND, "ledger: no leaf with that leaf hash");
}

/* ---- the right edge (frontier) ---- */

/* Pushes a leaf hash; every node it completes is appended to out (if not
 * NULL) in storage order and, when stored is not NULL, compared with the
 * node stored at its offset: returns 1 on the first mismatch, its level in
 * ret_bad_level. */
static int front_push(struct front *f, const uint8_t leaf[MERKLE_HASH_LEN], uint64_t leaf_index,
                      struct mrd_buf *out, const uint8_t *stored, unsigned *ret_bad_level)
{
    size_t t = f->top;
    int bad = 0;

    memcpy(f->h[t], leaf, MERKLE_HASH_LEN);
    f->level[t] = 0;
    t++;
    while (t >= 2 && f->level[t - 1] == f->level[t - 2]) {
        unsigned level = f->level[t - 2] + 1u;

        merkle_hash_node(f->h[t - 2], f->h[t - 1], f->h[t - 2]);
        f->level[t - 2] = (uint8_t)level;
        t--;
        if (out != NULL)
            (void)mrd_buf_append(out, f->h[t - 1], NODE_LEN, NULL); /* reserved */
        if (stored != NULL && !bad &&
            memcmp(stored + node_off(level, leaf_index >> level), f->h[t - 1], NODE_LEN) != 0) {
            bad = 1;
            *ret_bad_level = level;
        }
    }
    f->top = t;
    return bad;
}

/* The root of the tree whose right edge is f (f->top > 0). */
static void front_root(const struct front *f, uint8_t ret[MERKLE_HASH_LEN])
{
    memcpy(ret, f->h[f->top - 1], MERKLE_HASH_LEN);
    for (size_t t = f->top - 1; t > 0; t--)
        merkle_hash_node(f->h[t - 1], ret, ret);
}

/* Sets f to the right edge of the first n (stored) leaves. */
static void front_load(struct front *f, const uint8_t *map, uint64_t n)
{
    uint64_t done = 0;

    f->top = 0;
    for (int level = 63; level >= 0; level--) {
        if ((n >> level & 1) == 0)
            continue;
        if (level == 0)
            merkle_hash_leaf(map + ledger_file_size(done), LEDGER_ENTRY_LEN, f->h[f->top]);
        else
            memcpy(f->h[f->top], map + node_off((unsigned)level, done >> level), NODE_LEN);
        f->level[f->top] = (uint8_t)level;
        f->top++;
        done += (uint64_t)1 << level;
    }
}

/* ---- opening and recovery ---- */

static enum mrd_code read_small_file(int dirfd, const char *name, size_t max, struct mrd_buf *out,
                                     struct mrd_err *err)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    enum mrd_code rc = MRD_OK;
    char chunk[4096];

    if (fd < 0)
        return errno == ENOENT ? mrd_err_set(err, MRD_E_NOTFOUND, "ledger: no %s yet", name)
                               : mrd_err_sys(err, MRD_E_IO, errno, "ledger: %s", name);
    out->max = max;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = mrd_err_sys(err, MRD_E_IO, errno, "ledger: %s", name);
            break;
        }
        if (r == 0)
            break;
        rc = mrd_buf_append(out, chunk, (size_t)r, err);
        if (rc != MRD_OK)
            break;
    }
    (void)close(fd);
    return rc;
}

/* The size of the last checkpoint, below which nothing is ever truncated
 * (0 when there is none or it cannot be parsed: verify reports that). */
static uint64_t checkpoint_floor(struct ledger *log)
{
    struct mrd_buf b;
    struct ckpt c;
    uint64_t floor = 0;

    mrd_buf_init(&b, CKPT_MAX_NOTE);
    if (read_small_file(log->dirfd, "checkpoint", CKPT_MAX_NOTE, &b, NULL) == MRD_OK &&
        ckpt_parse(b.data, b.len, &c, NULL) == MRD_OK)
        floor = c.size;
    mrd_buf_release(&b);
    return floor;
}

/* Re-checks the leaves [n0, n) that the last (possibly interrupted) batch
 * wrote: each record's check and each node. Returns the first bad leaf, or
 * n when all are whole. Leaves the frontier at that leaf. */
static uint64_t check_tail(struct ledger *log, uint64_t n)
{
    uint64_t n0 = n > LEDGER_MAX_BATCH ? n - LEDGER_MAX_BATCH : 0;
    uint8_t h[MERKLE_HASH_LEN];
    unsigned bad_level = 0;
    struct front f;

    front_load(&f, log->map, n0);
    for (uint64_t i = n0; i < n; i++) {
        const uint8_t *rec = record_at(log, i);

        merkle_hash_leaf(rec, LEDGER_ENTRY_LEN, h);
        if (memcmp(h, rec + LEDGER_ENTRY_LEN, CHECK_LEN) != 0 ||
            front_push(&f, h, i, NULL, log->map, &bad_level))
            return i;
    }
    return n;
}

static enum mrd_code recover(struct ledger *log, struct ledger_open_info *info, struct mrd_err *err)
{
    struct stat st;
    uint64_t n, good, floor;

    if (fstat(log->fd, &st) != 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "ledger: %s/log", log->dir);
    if ((uint64_t)st.st_size > log->map_len)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "ledger: %s/log is larger than the %llu bytes of address space "
                           "reserved for it",
                           log->dir, (unsigned long long)log->map_len);
    /* The largest n whose log fits in the file. */
    n = (uint64_t)st.st_size / (LEDGER_RECORD_LEN + NODE_LEN);
    while (ledger_file_size(n + 1) <= (uint64_t)st.st_size)
        n++;
    while (n > 0 && ledger_file_size(n) > (uint64_t)st.st_size)
        n--;
    good = check_tail(log, n);
    floor = checkpoint_floor(log);
    if (!log->readonly && good < floor)
        return mrd_err_set(err, MRD_E_INVALID,
                           "ledger: %s/log: %s leaf %llu, inside the last checkpoint (size %llu); "
                           "run 'meridian ledger verify'",
                           log->dir, good < n ? "damage at" : "the log ends at",
                           (unsigned long long)good, (unsigned long long)floor);
    if (log->readonly && good < floor)
        good = n; /* damage inside a checkpoint is verify's to report, not a torn tail */
    info->size = good;
    info->dropped = n - good;
    info->dropped_bytes = (uint64_t)st.st_size - ledger_file_size(good);
    if (info->dropped_bytes > 0 && !log->readonly) {
        /* A torn tail: the crash came between write and fdatasync. */
        if (ftruncate(log->fd, (off_t)ledger_file_size(good)) != 0 || fsync(log->fd) != 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "ledger: %s/log: truncating a torn tail",
                               log->dir);
    }
    atomic_store(&log->durable, good);
    log->pending_n = good;
    log->queued_from = good;
    log->file_len = ledger_file_size(good);
    return MRD_OK;
}

enum mrd_code ledger_open(const char *dir, unsigned flags, struct ledger **ret,
                          struct ledger_open_info *info, struct mrd_err *err)
{
    struct ledger *log = NULL;
    struct ledger_open_info dummy;
    enum mrd_code rc = MRD_OK;
    int readonly = (flags & LEDGER_OPEN_READONLY) != 0;
    void *map;

    if (info == NULL)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    if (strlen(dir) >= LEDGER_MAX_PATH)
        return mrd_err_set(err, MRD_E_TOOBIG, "ledger: directory path too long");
    if ((flags & LEDGER_OPEN_CREATE) != 0 && !readonly && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return mrd_err_sys(err, MRD_E_IO, errno, "ledger: mkdir %s", dir);
    log = mrd_calloc(1, sizeof(*log));
    if (log == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "ledger: out of memory");
    log->fd = -1;
    log->dirfd = -1;
    log->readonly = readonly;
    mrd_strlcpy(log->dir, dir, sizeof(log->dir));
    mrd_buf_init(&log->pend, PEND_MAX);
    mrd_buf_init(&log->spare, PEND_MAX);
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->edge_mu, NULL);
    pthread_rwlock_init(&log->up_lock, NULL);
    pthread_cond_init(&log->cv, NULL);
    log->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->dirfd < 0) {
        rc =
            mrd_err_sys(err, errno == ENOENT ? MRD_E_NOTFOUND : MRD_E_IO, errno, "ledger: %s", dir);
        goto out;
    }
    log->fd = openat(log->dirfd, "log",
                     readonly ? O_RDONLY | O_CLOEXEC
                              : O_RDWR | O_CLOEXEC | ((flags & LEDGER_OPEN_CREATE) ? O_CREAT : 0),
                     0600);
    if (log->fd < 0) {
        rc = mrd_err_sys(err, errno == ENOENT ? MRD_E_NOTFOUND : MRD_E_IO, errno, "ledger: %s/log",
                         dir);
        goto out;
    }
    if (!readonly && flock(log->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? mrd_err_set(err, MRD_E_CONFLICT, "ledger: %s is open for writing elsewhere", dir)
                 : mrd_err_sys(err, MRD_E_IO, errno, "ledger: lock %s/log", dir);
        goto out;
    }
    /* Reserve as much as the address space allows (sanitizers' layouts
     * refuse 1 TiB); appends past the reservation fail cleanly. */
    log->map_len = LEDGER_MAP_RESERVE;
    map = MAP_FAILED;
    while (log->map_len >= ((uint64_t)1 << 30)) {
        map = mmap(NULL, (size_t)log->map_len, PROT_READ, MAP_SHARED, log->fd, 0);
        if (map != MAP_FAILED)
            break;
        log->map_len >>= 1;
    }
    if (map == MAP_FAILED) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "ledger: mmap %s/log", dir);
        goto out;
    }
    log->map = map;
    if (!readonly && (flags & LEDGER_OPEN_CREATE) != 0 && fsync(log->dirfd) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "ledger: fsync %s", dir);
        goto out;
    }
    rc = recover(log, info, err);
    if (rc != MRD_OK)
        goto out;
    front_load(&log->front, log->map, log->pending_n);
    if ((flags & LEDGER_OPEN_PROOFS) != 0) {
        rc = up_load(log, log->pending_n, err);
        if (rc != MRD_OK)
            goto out;
    }
    log->up_on = (flags & LEDGER_OPEN_PROOFS) != 0;
    *ret = log;
    log = NULL;
out:
    ledger_free(log);
    return rc;
}

void ledger_free(struct ledger *log)
{
    if (log == NULL)
        return;
    if (log->map != NULL)
        (void)munmap((void *)(uintptr_t)log->map, (size_t)log->map_len);
    if (log->fd >= 0)
        (void)close(log->fd); /* also drops the flock */
    if (log->dirfd >= 0)
        (void)close(log->dirfd);
    mrd_buf_release(&log->pend);
    mrd_buf_release(&log->spare);
    pthread_mutex_destroy(&log->mu);
    pthread_mutex_destroy(&log->edge_mu);
    pthread_rwlock_destroy(&log->up_lock);
    for (int l = 0; l < 64; l++)
        mrd_free(log->up[l]);
    pthread_cond_destroy(&log->cv);
    mrd_free(log);
}

/* ---- appending: group commit ---- */

static enum mrd_code write_all(int fd, const char *p, size_t n, uint64_t off, struct mrd_err *err)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "ledger: write");
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return MRD_OK;
}

/* The leader: hands pend to disk with one pwrite and one fdatasync while
 * others keep queueing into a fresh buffer. Called and returns with mu. */
static void flush_batch(struct ledger *log)
{
    struct mrd_buf batch = log->pend;
    uint64_t end = log->pending_n, off = log->file_len;
    struct mrd_err ferr = {0};
    enum mrd_code rc;

    log->pend = log->spare;
    mrd_buf_reset(&log->pend);
    mrd_buf_init(&log->spare, PEND_MAX);
    log->queued_from = end;
    log->flushing = 1;
    pthread_cond_broadcast(&log->cv); /* room in pend again */
    pthread_mutex_unlock(&log->mu);

    rc = write_all(log->fd, batch.data, batch.len, off, &ferr);
    if (rc == MRD_OK && fdatasync(log->fd) != 0)
        rc = mrd_err_sys(&ferr, MRD_E_IO, errno, "ledger: fdatasync");

    pthread_mutex_lock(&log->mu);
    if (rc == MRD_OK) {
        log->file_len = off + batch.len;
        atomic_store(&log->durable, end);
    } else if (log->broken == MRD_OK) {
        /* What is on disk past `durable` is unknown: stop appending; the
         * next open checks the tail and truncates what is torn. */
        log->broken = rc;
        mrd_strlcpy(log->broken_msg, ferr.msg, sizeof(log->broken_msg));
    }
    mrd_buf_reset(&batch);
    mrd_buf_release(&log->spare);
    log->spare = batch;
    log->flushing = 0;
    pthread_cond_broadcast(&log->cv);
}

enum mrd_code ledger_append(struct ledger *log, const struct ledger_entry *entries, size_t n,
                            uint64_t *ret_first, struct mrd_err *err)
{
    uint64_t first, my_end;
    enum mrd_code rc = MRD_OK;
    uint8_t rec[LEDGER_RECORD_LEN], h[MERKLE_HASH_LEN];
    unsigned unused = 0;

    if (log->readonly)
        return mrd_err_set(err, MRD_E_PERM, "ledger: opened read-only");
    if (n == 0 || n > LEDGER_MAX_BATCH)
        return mrd_err_set(err, MRD_E_TOOBIG, "ledger: append of %zu entries (1..%d)", n,
                           LEDGER_MAX_BATCH);
    for (size_t i = 0; i < n; i++)
        if (entries[i].kind == 0 || entries[i].kind > LEDGER_KIND_MAX)
            return mrd_err_set(err, MRD_E_INVAL, "ledger: entry %zu has unknown kind %u", i,
                               entries[i].kind);
    pthread_mutex_lock(&log->mu);
    /* Wait for room: a batch never exceeds LEDGER_MAX_BATCH leaves, which
     * bounds both memory and what recovery must re-check. */
    while (log->broken == MRD_OK && log->pending_n - log->queued_from + n > LEDGER_MAX_BATCH)
        pthread_cond_wait(&log->cv, &log->mu);
    if (log->broken != MRD_OK) {
        rc = mrd_err_set(err, log->broken, "ledger: an earlier write failed (%s); reopen the log",
                         log->broken_msg);
        goto out;
    }
    if (ledger_file_size(log->pending_n + n) > log->map_len) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "ledger: the log would outgrow its %llu-byte mapping",
                         (unsigned long long)log->map_len);
        goto out;
    }
    /* Reserve first so that nothing below can fail halfway. */
    rc = mrd_buf_reserve(&log->pend, n * (LEDGER_RECORD_LEN + NODE_LEN) + 64 * NODE_LEN, err);
    if (rc != MRD_OK)
        goto out;
    first = log->pending_n;
    for (size_t i = 0; i < n; i++) {
        ledger_entry_encode(&entries[i], rec);
        merkle_hash_leaf(rec, LEDGER_ENTRY_LEN, h);
        memcpy(rec + LEDGER_ENTRY_LEN, h, CHECK_LEN);
        (void)mrd_buf_append(&log->pend, rec, sizeof(rec), NULL); /* reserved */
        (void)front_push(&log->front, h, first + i, &log->pend, NULL, &unused);
        /* The nodes this leaf completed are the last ones in pend, lowest
         * level first; keep the upper ones in memory too. */
        {
            uint64_t count = first + i + 1;
            unsigned top = (unsigned)__builtin_ctzll(count);

            for (unsigned level = UPPER_MIN_LEVEL; log->up_on && level <= top; level++) {
                const uint8_t *node =
                    (const uint8_t *)log->pend.data + log->pend.len - (top - level + 1) * NODE_LEN;

                up_add(log, level, (count >> level) - 1, node);
            }
        }
    }
    log->pending_n += n;
    my_end = log->pending_n;
    while (atomic_load(&log->durable) < my_end) {
        if (log->broken != MRD_OK) {
            rc = mrd_err_set(err, log->broken, "%s", log->broken_msg);
            goto out;
        }
        if (!log->flushing)
            flush_batch(log);
        else
            pthread_cond_wait(&log->cv, &log->mu);
    }
    if (ret_first != NULL)
        *ret_first = first;
out:
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* ---- checkpoints ---- */

static enum mrd_code write_file_atomic(struct ledger *log, const char *name, const char *data,
                                       size_t len, struct mrd_err *err)
{
    char tmp[64];
    int fd;
    enum mrd_code rc;

    snprintf(tmp, sizeof(tmp), "%s.tmp", name);
    fd = openat(log->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "ledger: %s/%s", log->dir, tmp);
    rc = write_all(fd, data, len, 0, err);
    if (rc == MRD_OK && fsync(fd) != 0)
        rc = mrd_err_sys(err, MRD_E_IO, errno, "ledger: fsync %s/%s", log->dir, tmp);
    (void)close(fd);
    if (rc == MRD_OK && renameat(log->dirfd, tmp, log->dirfd, name) != 0)
        rc = mrd_err_sys(err, MRD_E_IO, errno, "ledger: rename %s/%s", log->dir, tmp);
    if (rc == MRD_OK && fsync(log->dirfd) != 0)
        rc = mrd_err_sys(err, MRD_E_IO, errno, "ledger: fsync %s", log->dir);
    return rc;
}

enum mrd_code ledger_checkpoint(struct ledger *log, const struct ckpt_signer *signer,
                                struct mrd_buf *out, struct mrd_err *err)
{
    struct ckpt c;
    struct mrd_buf note;
    struct tm tm;
    time_t now = time(NULL);
    enum mrd_code rc;

    if (log->readonly)
        return mrd_err_set(err, MRD_E_PERM, "ledger: opened read-only");
    memset(&c, 0, sizeof(c));
    mrd_strlcpy(c.origin, signer->name, sizeof(c.origin));
    c.size = ledger_size(log);
    gmtime_r(&now, &tm);
    strftime(c.time, sizeof(c.time), "%Y-%m-%dT%H:%M:%SZ", &tm);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    rc = ledger_root(log, c.size, c.root, err);
    if (rc == MRD_OK)
        rc = ckpt_sign(&c, signer, &note, err);
    if (rc == MRD_OK)
        rc = write_file_atomic(log, "checkpoint", note.data, note.len, err);
    if (rc == MRD_OK && out != NULL)
        rc = mrd_buf_append(out, note.data, note.len, err);
    mrd_buf_release(&note);
    return rc;
}

enum mrd_code ledger_checkpoint_read(struct ledger *log, struct mrd_buf *out, struct mrd_err *err)
{
    return read_small_file(log->dirfd, "checkpoint", CKPT_MAX_NOTE, out, err);
}

/* ---- verification ---- */

static void report_leaf(struct ledger_verify_report *r, uint64_t leaf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records leaf as the culprit unless an earlier leaf already is. */
static void report_leaf(struct ledger_verify_report *r, uint64_t leaf, const char *fmt, ...)
{
    va_list ap;

    if (r->have_bad_leaf && r->bad_leaf <= leaf)
        return;
    r->have_bad_leaf = 1;
    r->bad_leaf = leaf;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

enum mrd_code ledger_verify(struct ledger *log, const struct ckpt *c,
                            struct ledger_verify_report *report, struct mrd_err *err)
{
    uint64_t n = ledger_size(log);
    uint8_t h[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
    char node_detail[MRD_ERR_MSG_MAX] = "";
    unsigned bad_level = 0;
    struct front f;

    memset(report, 0, sizeof(*report));
    merkle_hash_empty(root);
    f.top = 0;
    /* Every stored leaf, also those after the checkpoint, in one pass. */
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *rec = record_at(log, i);

        merkle_hash_leaf(rec, LEDGER_ENTRY_LEN, h);
        if (memcmp(h, rec + LEDGER_ENTRY_LEN, CHECK_LEN) != 0)
            report_leaf(report, i,
                        "leaf %llu: its entry no longer matches its record's check (log offset "
                        "%llu)",
                        (unsigned long long)i, (unsigned long long)ledger_file_size(i));
        if (front_push(&f, h, i, NULL, log->map, &bad_level) && node_detail[0] == '\0') {
            uint64_t j = i >> bad_level, lo = j << bad_level, hi = lo + ((uint64_t)1 << bad_level);

            /* A pair whose record check already named one leaf is that leaf. */
            if (bad_level == 1 && !(report->have_bad_leaf && report->bad_leaf >= lo))
                report_leaf(report, lo,
                            "leaf %llu or %llu: their entries no longer hash to the stored node "
                            "above them",
                            (unsigned long long)lo, (unsigned long long)(hi - 1));
            snprintf(node_detail, sizeof(node_detail),
                     "stored node (level %u, index %llu) at log offset %llu differs from the "
                     "one recomputed from leaves %llu..%llu",
                     bad_level, (unsigned long long)j, (unsigned long long)node_off(bad_level, j),
                     (unsigned long long)lo, (unsigned long long)(hi - 1));
        }
        if (i + 1 == c->size)
            front_root(&f, root);
    }
    report->leaves = n;
    if (c->size > n) {
        report_leaf(report, n,
                    "the log has %llu leaves but the checkpoint covers %llu: leaves are missing",
                    (unsigned long long)n, (unsigned long long)c->size);
        return mrd_err_set(err, MRD_E_INVALID, "%s", report->detail);
    }
    if (sodium_memcmp(root, c->root, MERKLE_HASH_LEN) != 0) {
        if (report->have_bad_leaf)
            return mrd_err_set(err, MRD_E_INVALID, "root differs from the checkpoint's: %s",
                               report->detail);
        return mrd_err_set(err, MRD_E_INVALID,
                           "the root of the first %llu leaves differs from the checkpoint's, "
                           "though every record and stored node is self-consistent: the log was "
                           "rewritten%s%s",
                           (unsigned long long)c->size, node_detail[0] ? "; " : "", node_detail);
    }
    if (report->have_bad_leaf)
        return mrd_err_set(err, MRD_E_INVALID, "%s", report->detail);
    if (node_detail[0] != '\0') {
        mrd_strlcpy(report->detail, node_detail, sizeof(report->detail));
        return mrd_err_set(err, MRD_E_INVALID, "%s", node_detail);
    }
    return MRD_OK;
}
