/* Unit tests for ledger/evidence: a package from a real ledger verifies,
 * and changing any single byte of it makes verification fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testdir.h"
#include <sodium.h>

#include "core/buf.h"
#include "ledger/evidence.h"

struct fixture {
    char dir[TEST_DIR_MAX];
    struct ledger *log;
    struct ckpt_signer signer;
    struct ckpt_verifier v;
    struct mrd_buf note;
    char objs[3][64];
};

static void setup(struct fixture *f)
{
    uint8_t seed[32] = {42};
    struct ledger_entry e;
    struct mrd_buf vk;

    memset(f, 0, sizeof(*f));
    test_dir_make(f->dir, "mrd-evidence");
    assert_int_equal(ledger_open(f->dir, LEDGER_OPEN_CREATE, &f->log, NULL, NULL), MRD_OK);
    assert_int_equal(ckpt_signer_from_seed("node.example/log", seed, &f->signer, NULL), MRD_OK);
    mrd_buf_init(&vk, 1024);
    assert_int_equal(ckpt_verifier_format(&f->signer, &vk, NULL), MRD_OK);
    assert_int_equal(ckpt_verifier_parse(vk.data, vk.len, &f->v, NULL), MRD_OK);
    mrd_buf_release(&vk);
    for (int i = 0; i < 20; i++) {
        char obj[64];

        snprintf(obj, sizeof(obj), "{\"id\":\"indicator--%d\"}", i);
        if (i % 7 == 1)
            memcpy(f->objs[i / 7], obj, sizeof(obj));
        e.kind = i % 5 == 4 ? LEDGER_KIND_HOLD_CREATE : LEDGER_KIND_OBJECT;
        e.time_ms = 1700000000000ull + (uint64_t)i;
        crypto_hash_sha256(e.hash, (const uint8_t *)obj, strlen(obj));
        assert_int_equal(ledger_append(f->log, &e, 1, NULL, NULL), MRD_OK);
    }
    mrd_buf_init(&f->note, CKPT_MAX_NOTE);
    assert_int_equal(ledger_checkpoint(f->log, &f->signer, &f->note, NULL), MRD_OK);
}

static void teardown(struct fixture *f)
{
    ledger_free(f->log);
    mrd_buf_release(&f->note);
    test_dir_remove(f->dir);
}

static void build(struct fixture *f, struct mrd_buf *pkg)
{
    struct evidence_object o[3];
    struct mrd_err err = {0};

    for (int i = 0; i < 3; i++) {
        assert_int_equal(evidence_object_from_ledger(f->log, (const uint8_t *)f->objs[i],
                                                     strlen(f->objs[i]), 20, &o[i], &err),
                         MRD_OK);
        o[i].id = "indicator--x";
        o[i].version = NULL;
    }
    assert_int_equal(o[1].leaf_index, 8);
    mrd_buf_init(pkg, EVIDENCE_MAX_PACKAGE);
    assert_int_equal(evidence_write("CASE-1", "2026-11-29T18:00:00Z", o, 3, f->note.data,
                                    f->note.len, &f->signer, pkg, &err),
                     MRD_OK);
}

static void test_roundtrip(void **state)
{
    struct fixture f;
    struct mrd_buf pkg;
    struct evidence_report rep;
    struct mrd_err err = {0};
    struct evidence_object o;

    (void)state;
    setup(&f);
    build(&f, &pkg);
    assert_int_equal(pkg.len % 512, 0);
    if (evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, &err) != MRD_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(rep.objects, 3);
    assert_int_equal(rep.tree_size, 20);
    assert_string_equal(rep.case_id, "CASE-1");
    /* Bytes the ledger never saw are not exportable. */
    assert_int_equal(evidence_object_from_ledger(f.log, (const uint8_t *)"nope", 4, 20, &o, NULL),
                     MRD_E_NOTFOUND);
    mrd_buf_release(&pkg);
    teardown(&f);
}

static void test_every_byte_matters(void **state)
{
    struct fixture f;
    struct mrd_buf pkg;
    struct evidence_report rep;
    size_t accepted = 0;

    (void)state;
    setup(&f);
    build(&f, &pkg);
    for (size_t i = 0; i < pkg.len; i++) {
        pkg.data[i] ^= 0x01;
        if (evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, NULL) == MRD_OK) {
            print_message("flip at offset %zu accepted\n", i);
            accepted++;
        }
        pkg.data[i] ^= 0x01;
    }
    assert_int_equal(accepted, 0);
    /* Any truncation that loses content fails too (the last 1024 bytes
     * are the end-of-archive marker). */
    for (size_t n = 0; n < pkg.len - 1024; n += 97)
        assert_int_not_equal(evidence_verify((const uint8_t *)pkg.data, n, &f.v, &rep, NULL),
                             MRD_OK);
    mrd_buf_release(&pkg);
    teardown(&f);
}

static void test_wrong_key(void **state)
{
    struct fixture f;
    struct mrd_buf pkg;
    struct evidence_report rep;
    struct ckpt_signer other;
    struct ckpt_verifier ov;
    struct mrd_err err = {0};
    uint8_t seed[32] = {7};

    (void)state;
    setup(&f);
    build(&f, &pkg);
    assert_int_equal(ckpt_signer_from_seed("node.example/log", seed, &other, NULL), MRD_OK);
    memcpy(ov.name, other.name, sizeof(ov.name));
    memcpy(ov.pk, other.sk + 32, sizeof(ov.pk));
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, pkg.len, &ov, &rep, &err),
                     MRD_E_INVALID);
    assert_non_null(strstr(err.msg, "checkpoint"));
    mrd_buf_release(&pkg);
    teardown(&f);
}

/* The offset of the header of the k-th member (from 0) of pkg. */
static size_t header_at(const struct mrd_buf *pkg, int k)
{
    size_t off = 0;

    for (int i = 0; i < k; i++) {
        size_t size = (size_t)strtoull(pkg->data + off + 124, NULL, 8);
        off += 512 + (size + 511) / 512 * 512;
    }
    assert_true(off + 512 <= pkg->len);
    return off;
}

/* Recomputes a header's checksum, as a careful forger would. */
static void fix_checksum(char *h)
{
    unsigned sum = 0;

    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

/* Every ustar header field that a tar writer may set differently (issue
 * 17, item 11): changed with a valid checksum, the package fails, naming
 * the field. */
static void test_header_fields_canonical(void **state)
{
    static const struct {
        int off;
        const char *bytes;
        const char *field;
    } edits[] = {
        {100, "0000755", "mode"},     {108, "0001750", "uid"},    {116, "0001750", "gid"},
        {124, " ", "size"},           {136, "14723435", "mtime"}, {156, "7", "typeflag"},
        {157, "x", "linkname"},       {263, " ", "version"},      {257, "gnutar", "magic"},
        {265, "root", "uname"},       {297, "root", "gname"},     {329, "0000000", "devmajor"},
        {337, "0000001", "devminor"}, {345, "dir", "prefix"},     {500, "x", "padding"},
    };
    struct fixture f;
    struct mrd_buf pkg;
    struct evidence_report rep;
    char *saved;

    (void)state;
    setup(&f);
    build(&f, &pkg);
    saved = malloc(pkg.len);
    assert_non_null(saved);
    memcpy(saved, pkg.data, pkg.len);
    for (int k = 0; k < 7; k += 3) { /* manifest.json, pubkey, objects/000003 */
        size_t h = header_at(&pkg, k);

        for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
            struct mrd_err err = {0};

            memcpy(pkg.data + h + edits[i].off, edits[i].bytes, strlen(edits[i].bytes));
            fix_checksum(pkg.data + h);
            assert_int_not_equal(
                evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, &err), MRD_OK);
            if (strstr(err.msg, edits[i].field) == NULL || strstr(err.msg, "canonical") == NULL)
                fail_msg("member %d, %s: %s", k, edits[i].field, err.msg);
            memcpy(pkg.data, saved, pkg.len);
        }
        /* A wrong checksum alone is named as such. */
        pkg.data[h + 150] ^= 1;
        {
            struct mrd_err err = {0};

            assert_int_not_equal(
                evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, &err), MRD_OK);
            assert_non_null(strstr(err.msg, "checksum"));
        }
        memcpy(pkg.data, saved, pkg.len);
    }
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, NULL), MRD_OK);
    free(saved);
    mrd_buf_release(&pkg);
    teardown(&f);
}

/* Exactly two zero blocks end a package, and nothing follows them. */
static void test_end_blocks_canonical(void **state)
{
    struct fixture f;
    struct mrd_buf pkg;
    struct evidence_report rep;
    struct mrd_err err = {0};
    static const char zeros[2048];
    size_t len;

    (void)state;
    setup(&f);
    build(&f, &pkg);
    len = pkg.len;
    /* One end block. */
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, len - 512, &f.v, &rep, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "exactly two 512-byte end-of-archive blocks"));
    /* No end block. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, len - 1024, &f.v, &rep, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "no end-of-archive blocks"));
    /* Three, and the 10 KiB record GNU tar pads to. */
    for (size_t extra = 512; extra <= 2048; extra += 1536) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(mrd_buf_append(&pkg, zeros, extra, NULL), MRD_OK);
        assert_int_equal(evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, &err),
                         MRD_E_PARSE);
        assert_non_null(strstr(err.msg, "exactly two 512-byte end-of-archive blocks"));
        pkg.len = len;
    }
    /* Anything else after them. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(mrd_buf_append(&pkg, "x", 1, NULL), MRD_OK);
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "1 bytes after the two end-of-archive blocks"));
    pkg.len = len;
    /* The package's digest is reported (the hold's export records it). */
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, NULL), MRD_OK);
    {
        uint8_t d[32];
        char hex[65];

        crypto_hash_sha256(d, (const uint8_t *)pkg.data, pkg.len);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        assert_string_equal(rep.sha256, hex);
    }
    mrd_buf_release(&pkg);
    teardown(&f);
}

/* A checkpoint may carry co-signatures by other keys, which signed-note
 * verifiers ignore; in a package they would be bytes nobody checks. */
static void test_extra_signature_refused(void **state)
{
    struct fixture f;
    struct mrd_buf pkg;
    struct evidence_report rep;
    struct mrd_err err = {0};
    struct evidence_object o;

    (void)state;
    setup(&f);
    assert_int_equal(evidence_object_from_ledger(f.log, (const uint8_t *)f.objs[0],
                                                 strlen(f.objs[0]), 20, &o, NULL),
                     MRD_OK);
    o.id = "indicator--x";
    o.version = NULL;
    assert_int_equal(mrd_buf_puts(&f.note, "\xe2\x80\x94 witness.example AAAAAAAA\n", NULL),
                     MRD_OK);
    mrd_buf_init(&pkg, EVIDENCE_MAX_PACKAGE);
    assert_int_equal(evidence_write("CASE-1", "2026-11-29T18:00:00Z", &o, 1, f.note.data,
                                    f.note.len, &f.signer, &pkg, NULL),
                     MRD_OK);
    assert_int_equal(evidence_verify((const uint8_t *)pkg.data, pkg.len, &f.v, &rep, &err),
                     MRD_E_INVALID);
    assert_non_null(strstr(err.msg, "checkpoint: carries 2 signature lines"));
    mrd_buf_release(&pkg);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_every_byte_matters),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_header_fields_canonical),
        cmocka_unit_test(test_end_blocks_canonical),
        cmocka_unit_test(test_extra_signature_refused),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
