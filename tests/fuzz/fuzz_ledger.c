/*
 * fuzz_ledger: the ledger's parsers and verifiers on hostile input.
 *
 * The first byte picks the target: 0 a checkpoint note (parse, then verify
 * against a fixed key), 1 an inclusion proof, 2 a consistency proof, 3 note
 * keys. Sizes and indexes come from the input, so the verifiers see every
 * combination of sizes and proof lengths. Beyond "no crash, no sanitizer
 * report" it checks one property: a proof the verifier accepts for a tree
 * of size 1 or size1 == size2 is empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take_u64(const uint8_t **p, size_t *n)
{
    uint64_t v = 0;

    for (int i = 0; i < 8 && *n > 0; i++) {
        v = v << 8 | **p;
        (*p)++;
        (*n)--;
    }
    return v;
}

/* Small sizes hit the interesting branches far more often. */
static uint64_t shape(uint64_t v)
{
    switch (v & 3) {
    case 0:
        return (v >> 2) % 70;
    case 1:
        return UINT64_MAX - ((v >> 2) % 70);
    default:
        return v >> 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ckpt_verifier v;
    static int init;
    struct ckpt c;
    uint8_t root2[MERKLE_HASH_LEN];
    const uint8_t *p;
    size_t n;

    if (!init) {
        struct ckpt_signer s;
        uint8_t seed[32] = {1};

        if (sodium_init() < 0 ||
            ckpt_signer_from_seed("fuzz.example/log", seed, &s, NULL) != MRD_OK)
            abort();
        memcpy(v.name, s.name, sizeof(v.name));
        memcpy(v.pk, s.sk + 32, sizeof(v.pk));
        init = 1;
    }
    if (size < 1)
        return 0;
    p = data + 1;
    n = size - 1;
    switch (data[0] % 4) {
    case 0:
        (void)ckpt_parse((const char *)p, n, &c, NULL);
        (void)ckpt_verify((const char *)p, n, &v, &c, NULL);
        break;
    case 1: {
        uint64_t index = shape(take_u64(&p, &n)), tsize = shape(take_u64(&p, &n));
        const uint8_t *leaf, *root;

        if (n < 2 * MERKLE_HASH_LEN)
            return 0;
        leaf = p;
        root = p + MERKLE_HASH_LEN;
        p += 2 * MERKLE_HASH_LEN;
        n -= 2 * MERKLE_HASH_LEN;
        if (merkle_verify_inclusion(index, tsize, leaf, root, MERKLE_HASH_LEN, p,
                                    n / MERKLE_HASH_LEN, NULL) == MRD_OK &&
            tsize == 1 && n / MERKLE_HASH_LEN != 0)
            abort();
        break;
    }
    case 2: {
        uint64_t s1 = shape(take_u64(&p, &n)), s2 = shape(take_u64(&p, &n));
        const uint8_t *root1;

        if (n < 2 * MERKLE_HASH_LEN)
            return 0;
        root1 = p;
        memcpy(root2, p + MERKLE_HASH_LEN, MERKLE_HASH_LEN);
        p += 2 * MERKLE_HASH_LEN;
        n -= 2 * MERKLE_HASH_LEN;
        if (merkle_verify_consistency(s1, s2, root1, MERKLE_HASH_LEN, root2, MERKLE_HASH_LEN, p,
                                      n / MERKLE_HASH_LEN, NULL) == MRD_OK &&
            s1 == s2 && n / MERKLE_HASH_LEN != 0)
            abort();
        break;
    }
    default: {
        struct ckpt_signer s;
        struct ckpt_verifier kv;

        (void)ckpt_signer_parse((const char *)p, n, &s, NULL);
        (void)ckpt_verifier_parse((const char *)p, n, &kv, NULL);
        break;
    }
    }
    return 0;
}
