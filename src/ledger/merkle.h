/*
 * merkle: RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.
 *
 * Pure: no I/O, no allocation, no global state; thread-safe. Hashes are
 * SHA-256 (libsodium): leaf = H(0x00 || data), node = H(0x01 || left || right),
 * and the empty tree hashes to H(""). Proof generation reads the tree through
 * a `struct merkle_source` (the persistent log in ledger.c, or an in-memory
 * array of leaf hashes), so one implementation of the RFC's recursions serves
 * both. Verification (§2.1.3.2, §2.1.4.2) never trusts its input: every
 * failure is MRD_E_INVALID with the reason in err, never an assert.
 * Not here: storage, signatures, checkpoints (ledger.h, checkpoint.h).
 */
#ifndef MRD_LEDGER_MERKLE_H
#define MRD_LEDGER_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MERKLE_HASH_LEN 32
/* Longest proof for a 64-bit tree size: 64 path hashes, one more for a
 * consistency proof's leading subtree hash. Larger proofs never verify. */
#define MERKLE_MAX_PROOF 66

/* Where proof generation reads the tree from. perfect() returns the hash of
 * the perfect subtree holding leaves [index << level, (index + 1) << level);
 * it is only asked for subtrees that lie wholly inside the tree size being
 * proved (level 0 is a leaf hash). */
struct merkle_source {
    void *ctx;
    enum mrd_code (*perfect)(void *ctx, unsigned level, uint64_t index,
                             uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err);
    /* Optional (NULL: none): fills ret with MTH(D[start:end]) of a range
     * that is not a perfect subtree, from a cache, and returns 1; 0 when it
     * has no answer (the range is then computed from perfect subtrees). */
    int (*cached)(void *ctx, uint64_t start, uint64_t end, uint8_t ret[MERKLE_HASH_LEN]);
};

/* An in-memory tree over n leaf hashes, for tests and for small trees (an
 * evidence package). perfect() costs O(2^level) hashes: fine up to ~1e5. */
struct merkle_array {
    const uint8_t *leaves;
    uint64_t n;
};

/* Fills src so that it reads from arr (borrowed; must outlive src). */
void merkle_array_source(const struct merkle_array *arr, struct merkle_source *src);

/* SHA-256 of data (len may be 0): what the ledger hashes with. */
void merkle_sha256(const void *data, size_t len, uint8_t ret[MERKLE_HASH_LEN]);

/* H(0x00 || data): the leaf hash of an entry (RFC 9162 §2.1.1). */
void merkle_hash_leaf(const uint8_t *data, size_t len, uint8_t ret[MERKLE_HASH_LEN]);

/* H(0x01 || left || right): an interior node. */
void merkle_hash_node(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                      uint8_t ret[MERKLE_HASH_LEN]);

/* H(""): the root of the empty tree. */
void merkle_hash_empty(uint8_t ret[MERKLE_HASH_LEN]);

/* MTH of n leaf hashes held in memory, in O(n) time and O(log n) space. */
void merkle_root_of(const uint8_t *leaves, uint64_t n, uint8_t ret[MERKLE_HASH_LEN]);

/* MTH(D[start:end]) read through src; end > start. O(log n) source reads
 * when the range is a node of the tree (as all ranges the proofs need are). */
enum mrd_code merkle_range_hash(const struct merkle_source *src, uint64_t start, uint64_t end,
                                uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err);

/* The root hash of the first size leaves (size 0: the empty hash). */
enum mrd_code merkle_root_at(const struct merkle_source *src, uint64_t size,
                             uint8_t ret[MERKLE_HASH_LEN], struct mrd_err *err);

/* PATH(index, D[size]) of RFC 9162 §2.1.3.1 into ret_proof (room for
 * MERKLE_MAX_PROOF hashes), its length in ret_len. index >= size is
 * MRD_E_INVAL. */
enum mrd_code merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
                                     uint8_t *ret_proof, size_t *ret_len, struct mrd_err *err);

/* PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1; empty when size1 == size2.
 * 0 < size1 <= size2 or MRD_E_INVAL. */
enum mrd_code merkle_consistency_proof(const struct merkle_source *src, uint64_t size1,
                                       uint64_t size2, uint8_t *ret_proof, size_t *ret_len,
                                       struct mrd_err *err);

/* RFC 9162 §2.1.3.2: MRD_OK when proof (proof_len hashes) shows leaf_hash at
 * index in the tree of size whose root is root (root_len bytes, anything but
 * 32 never verifies). Otherwise MRD_E_INVALID and the reason. */
enum mrd_code merkle_verify_inclusion(uint64_t index, uint64_t size,
                                      const uint8_t leaf_hash[MERKLE_HASH_LEN], const uint8_t *root,
                                      size_t root_len, const uint8_t *proof, size_t proof_len,
                                      struct mrd_err *err);

/* RFC 9162 §2.1.4.2: MRD_OK when proof shows the tree of size1 with root1 is
 * a prefix of the tree of size2 with root2. size1 == size2 needs an empty
 * proof and equal roots; size1 == 0 and size1 > size2 never verify (a
 * consistency proof from the empty tree proves nothing). Else MRD_E_INVALID. */
enum mrd_code merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t *root1,
                                        size_t root1_len, const uint8_t *root2, size_t root2_len,
                                        const uint8_t *proof, size_t proof_len,
                                        struct mrd_err *err);

#endif
