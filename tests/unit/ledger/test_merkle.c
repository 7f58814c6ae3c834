/* Unit tests for ledger/merkle: RFC 9162 hashing, proofs, verification,
 * over generated trees and every transparency-dev vector in tests/data/. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "ledger/merkle.h"

#define MAX_LEAVES 70
#define B64_MAX 256

/* A reference MTH straight from the RFC's recursive definition. */
static void ref_mth(uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
    uint64_t k = 1;
    uint8_t l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];

    if (n == 1) {
        memcpy(out, leaves[0], MERKLE_HASH_LEN);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    ref_mth(leaves, k, l);
    ref_mth(leaves + k, n - k, r);
    merkle_hash_node(l, r, out);
}

static void make_leaves(uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n)
{
    char data[32];

    for (uint64_t i = 0; i < n; i++) {
        int len = snprintf(data, sizeof(data), "leaf %llu", (unsigned long long)i);
        merkle_hash_leaf((const uint8_t *)data, (size_t)len, leaves[i]);
    }
}

static void test_known_hashes(void **state)
{
    uint8_t h[MERKLE_HASH_LEN];
    static const uint8_t empty[] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14};
    static const uint8_t leaf_empty[] = {0x6e, 0x34, 0x0b, 0x9c, 0xff, 0xb3, 0x7a, 0x98};

    (void)state;
    merkle_hash_empty(h);
    assert_memory_equal(h, empty, sizeof(empty));
    merkle_hash_leaf(NULL, 0, h);
    assert_memory_equal(h, leaf_empty, sizeof(leaf_empty));
    merkle_root_of(NULL, 0, h);
    assert_memory_equal(h, empty, sizeof(empty));
}

/* For every size up to MAX_LEAVES: root, every inclusion proof and every
 * consistency proof generated, verified, and rejected once mutated. */
static void test_generated_trees(void **state)
{
    static uint8_t leaves[MAX_LEAVES][MERKLE_HASH_LEN];
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
    uint8_t root[MERKLE_HASH_LEN], ref[MERKLE_HASH_LEN], root1[MERKLE_HASH_LEN];
    struct merkle_array arr = {&leaves[0][0], 0};
    struct merkle_source src;
    struct mrd_err err = {0};
    size_t len = 0;

    (void)state;
    make_leaves(leaves, MAX_LEAVES);
    merkle_array_source(&arr, &src);
    for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
        arr.n = n;
        ref_mth(leaves, n, ref);
        merkle_root_of(&leaves[0][0], n, root);
        assert_memory_equal(root, ref, MERKLE_HASH_LEN);
        assert_int_equal(merkle_root_at(&src, n, root, &err), MRD_OK);
        assert_memory_equal(root, ref, MERKLE_HASH_LEN);
        for (uint64_t m = 0; m < n; m++) {
            assert_int_equal(merkle_inclusion_proof(&src, m, n, &proof[0][0], &len, &err), MRD_OK);
            assert_int_equal(merkle_verify_inclusion(m, n, leaves[m], root, MERKLE_HASH_LEN,
                                                     &proof[0][0], len, &err),
                             MRD_OK);
            if (m + 1 < n)
                assert_int_equal(merkle_verify_inclusion(m + 1, n, leaves[m], root, MERKLE_HASH_LEN,
                                                         &proof[0][0], len, NULL),
                                 MRD_E_INVALID);
            if (len > 0) {
                proof[len - 1][5] ^= 0x10;
                assert_int_equal(merkle_verify_inclusion(m, n, leaves[m], root, MERKLE_HASH_LEN,
                                                         &proof[0][0], len, NULL),
                                 MRD_E_INVALID);
                proof[len - 1][5] ^= 0x10;
                assert_int_equal(merkle_verify_inclusion(m, n, leaves[m], root, MERKLE_HASH_LEN,
                                                         &proof[0][0], len - 1, NULL),
                                 MRD_E_INVALID);
            }
        }
        for (uint64_t m = 1; m <= n; m++) {
            ref_mth(leaves, m, root1);
            assert_int_equal(merkle_consistency_proof(&src, m, n, &proof[0][0], &len, &err),
                             MRD_OK);
            assert_int_equal(merkle_verify_consistency(m, n, root1, MERKLE_HASH_LEN, root,
                                                       MERKLE_HASH_LEN, &proof[0][0], len, &err),
                             MRD_OK);
            if (len > 0) {
                proof[0][31] ^= 1;
                assert_int_equal(merkle_verify_consistency(m, n, root1, MERKLE_HASH_LEN, root,
                                                           MERKLE_HASH_LEN, &proof[0][0], len,
                                                           NULL),
                                 MRD_E_INVALID);
                proof[0][31] ^= 1;
            }
            if (m < n) {
                /* The old root of a different size never verifies. */
                assert_int_equal(merkle_verify_consistency(m, n, root, MERKLE_HASH_LEN, root,
                                                           MERKLE_HASH_LEN, &proof[0][0], len,
                                                           NULL),
                                 MRD_E_INVALID);
            }
        }
    }
    err.msg[0] = '\0';
    assert_int_equal(merkle_inclusion_proof(&src, 5, 5, &proof[0][0], &len, &err), MRD_E_INVAL);
    assert_int_equal(merkle_consistency_proof(&src, 0, 5, &proof[0][0], &len, NULL), MRD_E_INVAL);
    assert_int_equal(merkle_consistency_proof(&src, 6, 5, &proof[0][0], &len, NULL), MRD_E_INVAL);
}

/* ---- transparency-dev vectors ---- */

struct vec {
    int consistency;
    uint64_t a, b; /* leafIdx/treeSize or size1/size2 */
    uint8_t r1[B64_MAX], r2[B64_MAX];
    size_t r1_len, r2_len; /* root (and leaf hash) or root1/root2 */
    uint8_t proof[MERKLE_MAX_PROOF + 2][MERKLE_HASH_LEN];
    size_t proof_len;
    int proof_bad; /* a proof node that is not 32 bytes */
    int want_err;
};

static int b64(const char *s, uint8_t *out, size_t max, size_t *ret_len)
{
    const char *end = NULL;

    return sodium_base642bin(out, max, s, strlen(s), NULL, ret_len, &end,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           *end == '\0';
}

/* jansson cannot hold 2^64-1 (a vector uses it), so sizes are read from the
 * text: the value after "key": in the file. */
static uint64_t text_u64(const char *path, const char *key)
{
    char text[8192], pat[64];
    FILE *f = fopen(path, "r");
    size_t n;
    const char *p;

    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(text, pat);
    if (p == NULL)
        fail_msg("%s: no %s", path, key);
    return strtoull(p + strlen(pat), NULL, 10);
}

static void vec_load(const char *path, struct vec *v)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
    json_t *proof;
    size_t i;
    json_t *item;

    if (doc == NULL)
        fail_msg("%s: %s", path, jerr.text);
    memset(v, 0, sizeof(*v));
    v->consistency = json_object_get(doc, "size1") != NULL;
    v->a = text_u64(path, v->consistency ? "size1" : "leafIdx");
    v->b = text_u64(path, v->consistency ? "size2" : "treeSize");
    assert_true(b64(json_string_value(json_object_get(doc, v->consistency ? "root1" : "root")),
                    v->r1, sizeof(v->r1), &v->r1_len));
    assert_true(b64(json_string_value(json_object_get(doc, v->consistency ? "root2" : "leafHash")),
                    v->r2, sizeof(v->r2), &v->r2_len));
    proof = json_object_get(doc, "proof");
    json_array_foreach(proof, i, item)
    {
        uint8_t tmp[B64_MAX];
        size_t len = 0;

        assert_true(i < MERKLE_MAX_PROOF);
        assert_true(b64(json_string_value(item), tmp, sizeof(tmp), &len));
        if (len != MERKLE_HASH_LEN)
            v->proof_bad = 1;
        else
            memcpy(v->proof[i], tmp, MERKLE_HASH_LEN);
        v->proof_len = i + 1;
    }
    v->want_err = json_is_true(json_object_get(doc, "wantErr"));
    json_decref(doc);
}

/* What the CLI does: a malformed hash length is a rejection. */
static enum mrd_code vec_verify(const struct vec *v, struct mrd_err *err)
{
    const uint8_t *p = &v->proof[0][0];

    if (v->proof_bad)
        return MRD_E_INVALID;
    if (v->consistency)
        return merkle_verify_consistency(v->a, v->b, v->r1, v->r1_len, v->r2, v->r2_len, p,
                                         v->proof_len, err);
    if (v->r2_len != MERKLE_HASH_LEN)
        return MRD_E_INVALID;
    return merkle_verify_inclusion(v->a, v->b, v->r2, v->r1, v->r1_len, p, v->proof_len, err);
}

static int n_valid, n_invalid, n_mutants;

static void expect_reject(const struct vec *v, const char *path, const char *what)
{
    struct mrd_err err = {0};

    if (vec_verify(v, &err) == MRD_OK)
        fail_msg("%s: mutation '%s' was accepted", path, what);
    n_mutants++;
}

/* Mutates a valid vector every way we can think of; each must fail. */
static void mutate_all(const struct vec *orig, const char *path)
{
    struct vec v;

    for (size_t i = 0; i < orig->proof_len; i++) {
        for (unsigned bit = 0; bit < 8 * MERKLE_HASH_LEN; bit += 37) {
            v = *orig;
            v.proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            expect_reject(&v, path, "flipped proof bit");
        }
        v = *orig; /* drop node i */
        memmove(v.proof[i], v.proof[i + 1], (v.proof_len - i - 1) * MERKLE_HASH_LEN);
        v.proof_len--;
        expect_reject(&v, path, "dropped node");
        v = *orig; /* duplicate node i */
        memmove(v.proof[i + 1], v.proof[i], (v.proof_len - i) * MERKLE_HASH_LEN);
        v.proof_len++;
        expect_reject(&v, path, "duplicated node");
    }
    v = *orig; /* add a node at the end */
    memset(v.proof[v.proof_len], 0xab, MERKLE_HASH_LEN);
    v.proof_len++;
    expect_reject(&v, path, "appended node");
    for (size_t i = 0; i < orig->r1_len; i += 7) {
        v = *orig;
        v.r1[i] ^= 0x01;
        expect_reject(&v, path, "flipped root bit");
    }
    for (size_t i = 0; i < orig->r2_len; i += 7) {
        v = *orig;
        v.r2[i] ^= 0x80;
        expect_reject(&v, path, orig->consistency ? "flipped root2 bit" : "flipped leaf bit");
    }
    v = *orig;
    v.r1_len--;
    expect_reject(&v, path, "truncated root");
    if (!orig->consistency) {
        v = *orig;
        v.a ^= 1;
        expect_reject(&v, path, "wrong index (xor 1)");
        v = *orig;
        v.a += 2;
        expect_reject(&v, path, "wrong index (+2)");
        v = *orig;
        v.b *= 2;
        expect_reject(&v, path, "wrong size (*2)");
        v = *orig;
        v.b /= 2;
        expect_reject(&v, path, "wrong size (/2)");
    } else {
        v = *orig;
        memcpy(v.r1, orig->r2, sizeof(v.r1));
        memcpy(v.r2, orig->r1, sizeof(v.r2));
        v.r1_len = orig->r2_len;
        v.r2_len = orig->r1_len;
        if (orig->a != orig->b || memcmp(orig->r1, orig->r2, orig->r1_len) != 0)
            expect_reject(&v, path, "swapped roots");
        v = *orig;
        v.a += 1;
        expect_reject(&v, path, "wrong size1 (+1)");
        if (orig->a > 1) {
            v = *orig;
            v.a -= 1;
            expect_reject(&v, path, "wrong size1 (-1)");
        }
        v = *orig;
        v.b *= 2;
        if (orig->a != orig->b)
            expect_reject(&v, path, "wrong size2 (*2)");
        v = *orig;
        v.a = 0;
        expect_reject(&v, path, "size1 0");
    }
}

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    struct vec v;
    struct mrd_err err = {0};
    enum mrd_code rc;
    size_t n = strlen(path);

    (void)sb;
    (void)ftw;
    if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".json") != 0)
        return 0;
    vec_load(path, &v);
    rc = vec_verify(&v, &err);
    if (v.want_err) {
        if (rc == MRD_OK)
            fail_msg("%s: invalid vector accepted", path);
        n_invalid++;
    } else {
        if (rc != MRD_OK)
            fail_msg("%s: valid vector rejected: %s", path, err.msg);
        n_valid++;
        mutate_all(&v, path);
    }
    return 0;
}

static void test_vectors(void **state)
{
    const char *dir = getenv("MERIDIAN_MERKLE_VECTORS");

    (void)state;
    if (dir == NULL)
        dir = "tests/data/transparency-dev-merkle";
    if (nftw(dir, visit, 16, FTW_PHYS) != 0)
        fail_msg("test data folder %s: %s", dir, strerror(errno));
    print_message("vectors: %d valid, %d invalid, %d mutants rejected\n", n_valid, n_invalid,
                  n_mutants);
    assert_true(n_valid >= 10);
    assert_true(n_invalid >= 150);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_hashes),
        cmocka_unit_test(test_generated_trees),
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
