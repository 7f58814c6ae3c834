/*
 * fuzz_ledger: the ledger's parsers and verifiers on hostile input.
 *
 * The first byte picks the target: 0 a checkpoint note (parse, then verify
 * against a fixed key), 1 an inclusion proof, 2 a consistency proof, 3 note
 * keys, 4 an evidence package as is, 5 a valid evidence package (built at
 * start-up) with the input's (offset, xor) edits applied. Sizes and indexes
 * come from the input, so the verifiers see every combination of sizes and
 * proof lengths. Beyond "no crash, no sanitizer report" it checks two
 * properties: a proof the verifier accepts for a tree of size 1 or
 * size1 == size2 is empty, and an edited package never verifies: every
 * byte of a package is checked (docs/ledger.md), tar metadata included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/buf.h"
#include "ledger/checkpoint.h"
#include "ledger/evidence.h"
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

static struct mrd_buf package;
static uint8_t *pristine; /* package's bytes as built */

/* A valid package of two objects over a 5-leaf tree, signed by s. */
static void build_package(const struct ckpt_signer *s)
{
    static const char *const objs[2] = {"{\"id\":\"a\"}", "{\"id\":\"b\"}"};
    uint8_t leaves[5 * MERKLE_HASH_LEN];
    struct evidence_object eo[2];
    struct merkle_array arr = {leaves, 5};
    struct merkle_source src;
    struct ledger_entry e;
    struct ckpt c;
    struct mrd_buf note;

    memset(eo, 0, sizeof(eo));
    for (uint64_t i = 0; i < 5; i++) {
        e.kind = LEDGER_KIND_OBJECT;
        e.time_ms = 1000 + i;
        crypto_hash_sha256(e.hash, (const uint8_t *)objs[i % 2], strlen(objs[i % 2]));
        ledger_entry_leaf_hash(&e, leaves + i * MERKLE_HASH_LEN);
        if (i >= 3) {
            eo[i - 3].entry = e;
            eo[i - 3].leaf_index = i;
            eo[i - 3].data = (const uint8_t *)objs[i % 2];
            eo[i - 3].len = strlen(objs[i % 2]);
        }
    }
    merkle_array_source(&arr, &src);
    memset(&c, 0, sizeof(c));
    memcpy(c.origin, s->name, sizeof(c.origin));
    c.size = 5;
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    mrd_buf_init(&package, EVIDENCE_MAX_PACKAGE);
    if (merkle_root_at(&src, 5, c.root, NULL) != MRD_OK ||
        merkle_inclusion_proof(&src, 3, 5, eo[0].proof, &eo[0].proof_len, NULL) != MRD_OK ||
        merkle_inclusion_proof(&src, 4, 5, eo[1].proof, &eo[1].proof_len, NULL) != MRD_OK ||
        ckpt_sign(&c, s, &note, NULL) != MRD_OK ||
        evidence_write("case", "2026-01-01T00:00:00Z", eo, 2, note.data, note.len, s, &package,
                       NULL) != MRD_OK)
        abort();
    mrd_buf_release(&note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ckpt_verifier v;
    static int init;
    struct evidence_report rep;
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
        build_package(&s);
        pristine = malloc(package.len);
        if (pristine == NULL)
            abort();
        memcpy(pristine, package.data, package.len);
        if (evidence_verify((const uint8_t *)package.data, package.len, &v, &rep, NULL) != MRD_OK)
            abort();
        init = 1;
    }
    if (size < 1)
        return 0;
    p = data + 1;
    n = size - 1;
    switch (data[0] % 6) {
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
    case 4:
        (void)evidence_verify(p, n, &v, &rep, NULL);
        break;
    case 5: {
        /* Edits: (offset: 2 bytes, xor: 1 byte) triples, at most 8. */
        uint8_t *pkg = (uint8_t *)package.data;

        for (size_t k = 0; k + 3 <= n && k < 3 * 8; k += 3)
            pkg[(size_t)(p[k] << 8 | p[k + 1]) % package.len] ^= p[k + 2];
        if (evidence_verify(pkg, package.len, &v, &rep, NULL) == MRD_OK) {
            for (size_t j = 0; j < package.len; j++) {
                if (pkg[j] != pristine[j]) {
                    fprintf(stderr, "edited byte %zu: %02x -> %02x\n", j, pristine[j], pkg[j]);
                    abort(); /* an edited package verified */
                }
            }
        }
        memcpy(pkg, pristine, package.len);
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
