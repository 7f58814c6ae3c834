/*
 * merkle.c: RFC 9162 §2.1 hashing, proof generation and verification.
 *
 * Generation follows the RFC's recursive definitions over node ranges
 * [lo, hi): the left child of a node always holds the largest power of two
 * smaller than its size, so every left sibling is a perfect subtree the
 * source stores, and only ranges ending at the tree size need combining.
 * Verification is the iterative algorithm of §2.1.3.2/§2.1.4.2, written so
 * that no input (sizes, counts, lengths) can make it read out of bounds.
 */
#include <string.h>

#include <nettle/sha2.h>
#include <sodium.h>

#include "ledger/merkle.h"

_Static_assert(SHA256_DIGEST_SIZE == MERKLE_HASH_LEN, "a Merkle hash is a SHA-256 digest");

/* nettle's SHA-256 takes the CPU's SHA instructions where there are some
 * (libsodium's is portable C: 4x slower on 400-byte bodies, a sixteenth of
 * an import's storing thread hashing its ledger entries). */
void merkle_sha256(const void *data, size_t len, uint8_t ret[MERKLE_HASH_LEN])
{
    struct sha256_ctx c;

    sha256_init(&c);
    if (len > 0)
        sha256_update(&c, len, data);
    sha256_digest(&c, SHA256_DIGEST_SIZE, ret);
}

void merkle_hash_leaf(const uint8_t *data, size_t len, uint8_t ret[MERKLE_HASH_LEN])
{
    struct sha256_ctx c;
    static const uint8_t prefix = 0x00;

    sha256_init(&c);
    sha256_update(&c, 1, &prefix);
    if (len > 0)
        sha256_update(&c, len, data);
    sha256_digest(&c, SHA256_DIGEST_SIZE, ret);
}

void merkle_hash_node(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                      uint8_t ret[MERKLE_HASH_LEN])
{
    /* One contiguous buffer and the one-shot call: measurably faster than
     * three updates, and this is the inner loop of every proof. */
    uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

    buf[0] = 0x01;
    memcpy(buf + 1, left, MERKLE_HASH_LEN);
    memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
    merkle_sha256(buf, sizeof(buf), ret);
}

void merkle_hash_empty(uint8_t ret[MERKLE_HASH_LEN])
{
    merkle_sha256(NULL, 0, ret);
}

/* The largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;

    while (k < n - k)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

static unsigned log2_exact(uint64_t n)
{
    unsigned l = 0;

    while (n > 1) {
        n >>= 1;
        l++;
    }
    return l;
}

void merkle_root_of(const uint8_t *leaves, uint64_t n, uint8_t ret[MERKLE_HASH_LEN])
{
    /* A stack of perfect subtrees, like a binary counter: each leaf merges
     * equal-height neighbours; at the end fold right to left (§2.1.1). */
    uint8_t stack[65][MERKLE_HASH_LEN];
    unsigned height[65];
    size_t top = 0;

    if (n == 0) {
        merkle_hash_empty(ret);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        memcpy(stack[top], leaves + i * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
        height[top] = 0;
        top++;
        while (top >= 2 && height[top - 1] == height[top - 2]) {
            merkle_hash_node(stack[top - 2], stack[top - 1], stack[top - 2]);
            height[top - 2]++;
            top--;
        }
    }
    while (top >= 2) {
        merkle_hash_node(stack[top - 2], stack[top - 1], stack[top - 2]);
        top--;
    }
    memcpy(ret, stack[0], MERKLE_HASH_LEN);
}

static enum mrd_code array_perfect(void *ctx, unsigned level, uint64_t index,
                                   uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err)
{
    const struct merkle_array *arr = ctx;
    uint64_t start, count;

    if (level >= 64 || index > (arr->n >> level))
        return mrd_err_set(err, MRD_E_INVAL, "merkle: subtree (%u, %llu) outside the tree", level,
                           (unsigned long long)index);
    start = index << level;
    count = (uint64_t)1 << level;
    if (start + count > arr->n)
        return mrd_err_set(err, MRD_E_INVAL, "merkle: subtree (%u, %llu) outside the tree", level,
                           (unsigned long long)index);
    merkle_root_of(arr->leaves + start * MERKLE_HASH_LEN, count, ret);
    return MRD_OK;
}

void merkle_array_source(const struct merkle_array *arr, struct merkle_source *src)
{
    /* The source's ctx is not const because other sources keep state. */
    src->ctx = (void *)(uintptr_t)arr;
    src->perfect = array_perfect;
    src->cached = NULL;
}

enum mrd_code merkle_range_hash(const struct merkle_source *src, uint64_t start, uint64_t end,
                                uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err)
{
    uint64_t n, k;
    uint8_t left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
    enum mrd_code rc;

    if (end <= start)
        return mrd_err_set(err, MRD_E_INVAL, "merkle: empty range [%llu, %llu)",
                           (unsigned long long)start, (unsigned long long)end);
    n = end - start;
    if (is_pow2(n) && start % n == 0)
        return src->perfect(src->ctx, log2_exact(n), start / n, ret, err);
    /* Not perfect: split as §2.1.1 does; the left part is perfect when the
     * range is a tree node, so the recursion only walks down the right edge
     * (depth <= 64). */
    if (src->cached != NULL && src->cached(src->ctx, start, end, ret))
        return MRD_OK;
    k = split_point(n);
    rc = merkle_range_hash(src, start, start + k, left, err);
    if (rc == MRD_OK)
        rc = merkle_range_hash(src, start + k, end, right, err);
    if (rc == MRD_OK)
        merkle_hash_node(left, right, ret);
    return rc;
}

enum mrd_code merkle_root_at(const struct merkle_source *src, uint64_t size,
                             uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err)
{
    if (size == 0) {
        merkle_hash_empty(ret);
        return MRD_OK;
    }
    return merkle_range_hash(src, 0, size, ret, err);
}

enum mrd_code merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
                                     uint8_t *ret_proof, size_t *ret_len, struct mrd_err *err)
{
    /* PATH(m, D[n]) appends the sibling after the sub-path, so walking down
     * from the root collects siblings root-first; fill from the far end. */
    uint8_t tmp[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    size_t depth = 0;
    uint64_t lo = 0, hi = size, k;
    enum mrd_code rc;

    if (index >= size)
        return mrd_err_set(err, MRD_E_INVAL,
                           "merkle: leaf index %llu is not below tree size %llu (RFC 9162 §2.1.3)",
                           (unsigned long long)index, (unsigned long long)size);
    while (hi - lo > 1) {
        k = split_point(hi - lo);
        if (index < lo + k) {
            rc = merkle_range_hash(src, lo + k, hi, tmp[depth], err);
            hi = lo + k;
        } else {
            rc = merkle_range_hash(src, lo, lo + k, tmp[depth], err);
            lo = lo + k;
        }
        if (rc != MRD_OK)
            return rc;
        depth++;
    }
    for (size_t i = 0; i < depth; i++)
        memcpy(ret_proof + i * MERKLE_HASH_LEN, tmp[depth - 1 - i], MERKLE_HASH_LEN);
    *ret_len = depth;
    return MRD_OK;
}

/* SUBPROOF(m, D[lo:hi], b) of §2.1.4.1, appending to proof. m counts the old
 * tree's leaves inside [lo, hi). Recursion depth is at most 64. */
static enum mrd_code subproof(const struct merkle_source *src, uint64_t m, uint64_t lo, uint64_t hi,
                              int b, uint8_t *proof, size_t *len, struct mrd_err *err)
{
    uint64_t k;
    enum mrd_code rc;

    if (*len >= MERKLE_MAX_PROOF)
        return mrd_err_set(err, MRD_E_INTERNAL, "merkle: consistency proof too long");
    if (m == hi - lo) {
        if (b)
            return MRD_OK;
        return merkle_range_hash(src, lo, hi, proof + (*len)++ * MERKLE_HASH_LEN, err);
    }
    k = split_point(hi - lo);
    if (m <= k) {
        rc = subproof(src, m, lo, lo + k, b, proof, len, err);
        if (rc == MRD_OK && *len >= MERKLE_MAX_PROOF)
            rc = mrd_err_set(err, MRD_E_INTERNAL, "merkle: consistency proof too long");
        if (rc == MRD_OK)
            rc = merkle_range_hash(src, lo + k, hi, proof + (*len)++ * MERKLE_HASH_LEN, err);
    } else {
        rc = subproof(src, m - k, lo + k, hi, 0, proof, len, err);
        if (rc == MRD_OK && *len >= MERKLE_MAX_PROOF)
            rc = mrd_err_set(err, MRD_E_INTERNAL, "merkle: consistency proof too long");
        if (rc == MRD_OK)
            rc = merkle_range_hash(src, lo, lo + k, proof + (*len)++ * MERKLE_HASH_LEN, err);
    }
    return rc;
}

enum mrd_code merkle_consistency_proof(const struct merkle_source *src, uint64_t size1,
                                       uint64_t size2, uint8_t *ret_proof, size_t *ret_len,
                                       struct mrd_err *err)
{
    size_t len = 0;
    enum mrd_code rc;

    if (size1 == 0 || size1 > size2)
        return mrd_err_set(err, MRD_E_INVAL,
                           "merkle: no consistency proof from size %llu to size %llu "
                           "(RFC 9162 §2.1.4 needs 0 < size1 <= size2)",
                           (unsigned long long)size1, (unsigned long long)size2);
    rc = subproof(src, size1, 0, size2, 1, ret_proof, &len, err);
    if (rc == MRD_OK)
        *ret_len = len;
    return rc;
}

/* Right-shifts fn and sn together until fn's low bit is set or fn is 0. */
static void shift_to_set_bit(uint64_t *fn, uint64_t *sn)
{
    while ((*fn & 1) == 0 && *fn != 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

enum mrd_code merkle_verify_inclusion(uint64_t index, uint64_t size,
                                      const uint8_t leaf_hash[MERKLE_HASH_LEN], const uint8_t *root,
                                      size_t root_len, const uint8_t *proof, size_t proof_len,
                                      struct mrd_err *err)
{
    uint8_t r[MERKLE_HASH_LEN];
    uint64_t fn, sn;

    if (size == 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "inclusion: the empty tree has no leaves (RFC 9162 §2.1.3.2)");
    if (index >= size)
        return mrd_err_set(err, MRD_E_INVALID,
                           "inclusion: leaf index %llu is not below tree size %llu "
                           "(RFC 9162 §2.1.3.2)",
                           (unsigned long long)index, (unsigned long long)size);
    if (root_len != MERKLE_HASH_LEN)
        return mrd_err_set(err, MRD_E_INVALID, "inclusion: root hash is %zu bytes, want %d",
                           root_len, MERKLE_HASH_LEN);
    fn = index;
    sn = size - 1;
    memcpy(r, leaf_hash, MERKLE_HASH_LEN);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return mrd_err_set(err, MRD_E_INVALID,
                               "inclusion: proof has %zu hashes, more than the %zu this index "
                               "and size need (RFC 9162 §2.1.3.2)",
                               proof_len, i);
        if ((fn & 1) != 0 || fn == sn) {
            merkle_hash_node(proof + i * MERKLE_HASH_LEN, r, r);
            shift_to_set_bit(&fn, &sn);
        } else {
            merkle_hash_node(r, proof + i * MERKLE_HASH_LEN, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "inclusion: proof has %zu hashes, too few for index %llu in size %llu "
                           "(RFC 9162 §2.1.3.2)",
                           proof_len, (unsigned long long)index, (unsigned long long)size);
    if (sodium_memcmp(r, root, MERKLE_HASH_LEN) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "inclusion: computed root does not match the given root "
                           "(RFC 9162 §2.1.3.2)");
    return MRD_OK;
}

enum mrd_code merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t *root1,
                                        size_t root1_len, const uint8_t *root2, size_t root2_len,
                                        const uint8_t *proof, size_t proof_len, struct mrd_err *err)
{
    uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
    uint64_t fn, sn;
    size_t i;

    if (size1 > size2)
        return mrd_err_set(err, MRD_E_INVALID,
                           "consistency: size1 %llu is larger than size2 %llu (RFC 9162 §2.1.4.2)",
                           (unsigned long long)size1, (unsigned long long)size2);
    if (size1 == 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "consistency: size1 is 0; a proof from the empty tree proves nothing "
                           "(RFC 9162 §2.1.4)");
    if (size1 == size2) {
        if (proof_len != 0)
            return mrd_err_set(err, MRD_E_INVALID,
                               "consistency: sizes are equal but the proof is not empty "
                               "(RFC 9162 §2.1.4.1)");
        if (root1_len != root2_len ||
            (root1_len != 0 && sodium_memcmp(root1, root2, root1_len) != 0))
            return mrd_err_set(err, MRD_E_INVALID,
                               "consistency: sizes are equal but the roots differ");
        return MRD_OK;
    }
    if (proof_len == 0)
        return mrd_err_set(
            err, MRD_E_INVALID,
            "consistency: empty proof for different sizes (RFC 9162 §2.1.4.2 step 1)");
    if (root1_len != MERKLE_HASH_LEN || root2_len != MERKLE_HASH_LEN)
        return mrd_err_set(err, MRD_E_INVALID, "consistency: root hashes must be %d bytes",
                           MERKLE_HASH_LEN);
    /* Step 2: when size1 is a power of two the old root is itself the first
     * node of the path; rather than copying the proof, start from root1. */
    i = 0;
    if (is_pow2(size1)) {
        memcpy(fr, root1, MERKLE_HASH_LEN);
    } else {
        memcpy(fr, proof, MERKLE_HASH_LEN);
        i = 1;
    }
    memcpy(sr, fr, MERKLE_HASH_LEN);
    fn = size1 - 1;
    sn = size2 - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < proof_len; i++) {
        if (sn == 0)
            return mrd_err_set(err, MRD_E_INVALID,
                               "consistency: proof has %zu hashes, more than these sizes need "
                               "(RFC 9162 §2.1.4.2)",
                               proof_len);
        if ((fn & 1) != 0 || fn == sn) {
            merkle_hash_node(proof + i * MERKLE_HASH_LEN, fr, fr);
            merkle_hash_node(proof + i * MERKLE_HASH_LEN, sr, sr);
            shift_to_set_bit(&fn, &sn);
        } else {
            merkle_hash_node(sr, proof + i * MERKLE_HASH_LEN, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "consistency: proof has %zu hashes, too few for sizes %llu and %llu "
                           "(RFC 9162 §2.1.4.2)",
                           proof_len, (unsigned long long)size1, (unsigned long long)size2);
    if (sodium_memcmp(fr, root1, MERKLE_HASH_LEN) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "consistency: proof does not lead to root1 (RFC 9162 §2.1.4.2)");
    if (sodium_memcmp(sr, root2, MERKLE_HASH_LEN) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "consistency: proof does not lead to root2 (RFC 9162 §2.1.4.2)");
    return MRD_OK;
}
