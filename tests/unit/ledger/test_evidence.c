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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_every_byte_matters),
        cmocka_unit_test(test_wrong_key),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
