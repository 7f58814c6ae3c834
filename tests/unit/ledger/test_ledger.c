/* Unit tests for ledger/ledger: the persistent log on a real temp dir —
 * roots and proofs against an in-memory tree, reopen, torn tails, a
 * corrupted byte, a truncated log, the writer lock, concurrent appends. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testdir.h"
#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "ledger/ledger.h"

#define N_LEAVES 300

struct tmp {
    char dir[TEST_DIR_MAX];
    char log[TEST_DIR_MAX + 8];
};

static void tmp_make(struct tmp *t)
{
    test_dir_make(t->dir, "mrd-ledger");
    snprintf(t->log, sizeof(t->log), "%s/log", t->dir);
}

static void tmp_remove(struct tmp *t)
{
    test_dir_remove(t->dir);
}

static void entry_for(uint64_t i, struct ledger_entry *e)
{
    char data[32];
    int len = snprintf(data, sizeof(data), "object %llu", (unsigned long long)i);

    e->kind = (uint8_t)(1 + i % LEDGER_KIND_MAX);
    e->time_ms = 1700000000000ull + i;
    crypto_hash_sha256(e->hash, (const uint8_t *)data, (size_t)len);
}

/* Leaf hashes of the first n entries, computed independently. */
static uint8_t *expected_leaves(uint64_t n)
{
    uint8_t *leaves = malloc(n * MERKLE_HASH_LEN + 1);
    struct ledger_entry e;

    for (uint64_t i = 0; i < n; i++) {
        entry_for(i, &e);
        ledger_entry_leaf_hash(&e, leaves + i * MERKLE_HASH_LEN);
    }
    return leaves;
}

static void append_range(struct ledger *log, uint64_t from, uint64_t to)
{
    struct ledger_entry batch[64];
    uint64_t first = 0;

    while (from < to) {
        size_t n = (size_t)(to - from) < 64 ? (size_t)(to - from) : 1 + (size_t)(from % 37);
        if (n > to - from)
            n = (size_t)(to - from);
        for (size_t k = 0; k < n; k++)
            entry_for(from + k, &batch[k]);
        assert_int_equal(ledger_append(log, batch, n, &first, NULL), MRD_OK);
        assert_int_equal(first, from);
        from += n;
    }
}

static void check_tree(struct ledger *log, uint64_t n)
{
    uint8_t *leaves = expected_leaves(n);
    uint8_t root[MERKLE_HASH_LEN], want[MERKLE_HASH_LEN], r1[MERKLE_HASH_LEN];
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    size_t len = 0;
    struct mrd_err err = {0};

    assert_int_equal(ledger_size(log), n);
    for (uint64_t size = 1; size <= n; size += 1 + size / 7) {
        merkle_root_of(leaves, size, want);
        assert_int_equal(ledger_root(log, size, root, &err), MRD_OK);
        assert_memory_equal(root, want, MERKLE_HASH_LEN);
        for (uint64_t i = 0; i < size; i += 1 + size / 5) {
            assert_int_equal(ledger_prove_inclusion(log, i, size, proof, &len, &err), MRD_OK);
            assert_int_equal(merkle_verify_inclusion(i, size, leaves + i * MERKLE_HASH_LEN, root,
                                                     MERKLE_HASH_LEN, proof, len, &err),
                             MRD_OK);
        }
        for (uint64_t m = 1; m <= size; m += 1 + m / 3) {
            merkle_root_of(leaves, m, r1);
            assert_int_equal(ledger_prove_consistency(log, m, size, proof, &len, &err), MRD_OK);
            assert_int_equal(merkle_verify_consistency(m, size, r1, MERKLE_HASH_LEN, root,
                                                       MERKLE_HASH_LEN, proof, len, &err),
                             MRD_OK);
        }
    }
    assert_int_equal(ledger_root(log, n + 1, root, NULL), MRD_E_NOTFOUND);
    assert_int_equal(ledger_prove_inclusion(log, n, n, proof, &len, NULL), MRD_E_INVAL);
    free(leaves);
}

static void test_append_prove_reopen(void **state)
{
    struct tmp t;
    struct ledger *log = NULL;
    struct ledger_open_info info;
    struct ledger_entry e, got;
    struct stat st;
    uint64_t idx = 0;

    (void)state;
    tmp_make(&t);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_CREATE, &log, &info, NULL), MRD_OK);
    assert_int_equal(info.size, 0);
    append_range(log, 0, N_LEAVES);
    check_tree(log, N_LEAVES);
    entry_for(123, &e);
    assert_int_equal(ledger_entry_get(log, 123, &got, NULL), MRD_OK);
    assert_memory_equal(&got.hash, e.hash, 32);
    assert_int_equal(got.time_ms, e.time_ms);
    assert_int_equal(ledger_find(log, e.hash, 0, &idx, NULL), MRD_OK);
    assert_int_equal(idx, 123);
    ledger_free(log);

    assert_int_equal(stat(t.log, &st), 0);
    assert_int_equal((uint64_t)st.st_size, ledger_file_size(N_LEAVES));
    assert_true((double)st.st_size / N_LEAVES <= 100.0);

    log = NULL;
    /* Reopened with the in-memory upper levels: the same answers. */
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_PROOFS, &log, &info, NULL), MRD_OK);
    assert_int_equal(info.size, N_LEAVES);
    assert_int_equal(info.dropped, 0);
    append_range(log, N_LEAVES, N_LEAVES + 45);
    check_tree(log, N_LEAVES + 45);
    ledger_free(log);
    tmp_remove(&t);
}

static void file_append(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void test_torn_tail_is_truncated(void **state)
{
    struct tmp t;
    struct ledger *log = NULL;
    struct ledger_open_info info;
    struct stat st;
    uint8_t zeros[200] = {0};
    uint8_t rec[LEDGER_RECORD_LEN];
    uint64_t n = 64;

    (void)state;
    tmp_make(&t);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_CREATE, &log, NULL, NULL), MRD_OK);
    append_range(log, 0, n);
    ledger_free(log);

    /* 1: half a record after the last leaf. */
    file_append(t.log, zeros, 20);
    assert_int_equal(ledger_open(t.dir, 0, &log, &info, NULL), MRD_OK);
    assert_int_equal(info.size, n);
    assert_int_equal(info.dropped_bytes, 20);
    ledger_free(log);
    assert_int_equal(stat(t.log, &st), 0);
    assert_int_equal((uint64_t)st.st_size, ledger_file_size(n));

    /* 2: a whole leaf's worth of zeros (a crash that extended the file but
     * never wrote the data): its check fails, it is dropped. */
    file_append(t.log, zeros, (size_t)(ledger_file_size(n + 1) - ledger_file_size(n)));
    assert_int_equal(ledger_open(t.dir, 0, &log, &info, NULL), MRD_OK);
    assert_int_equal(info.size, n);
    assert_int_equal(info.dropped, 1);
    ledger_free(log);

    /* 3: the last leaf's record written but its nodes cut short (leaf 63
     * completes six nodes): the leaf is dropped, the tree is whole. */
    assert_int_equal(truncate(t.log, (off_t)(ledger_file_size(n) - 40)), 0);
    assert_int_equal(ledger_open(t.dir, 0, &log, &info, NULL), MRD_OK);
    assert_int_equal(info.size, n - 1);
    check_tree(log, n - 1);
    append_range(log, n - 1, n + 10);
    check_tree(log, n + 10);
    ledger_free(log);

    /* 4: a record with a valid length but garbage bytes. */
    memset(rec, 0x5a, sizeof(rec));
    file_append(t.log, rec, sizeof(rec));
    assert_int_equal(ledger_open(t.dir, 0, &log, &info, NULL), MRD_OK);
    assert_int_equal(info.size, n + 10);
    assert_int_equal(info.dropped_bytes, sizeof(rec));
    check_tree(log, n + 10);
    ledger_free(log);
    tmp_remove(&t);
}

static void flip_byte(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t b;

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= 0x04;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

static void test_verify_names_changed_leaf(void **state)
{
    struct tmp t;
    struct ledger *log = NULL;
    struct ckpt_signer signer;
    struct ckpt_verifier v;
    struct ckpt c;
    struct mrd_buf note, vk;
    struct ledger_verify_report rep;
    struct mrd_err err = {0};
    uint8_t seed[32] = {3};

    (void)state;
    tmp_make(&t);
    assert_int_equal(ckpt_signer_from_seed("test.example/log", seed, &signer, NULL), MRD_OK);
    mrd_buf_init(&vk, 1024);
    assert_int_equal(ckpt_verifier_format(&signer, &vk, NULL), MRD_OK);
    assert_int_equal(ckpt_verifier_parse(vk.data, vk.len, &v, NULL), MRD_OK);
    mrd_buf_release(&vk);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_CREATE, &log, NULL, NULL), MRD_OK);
    append_range(log, 0, 100);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    assert_int_equal(ledger_checkpoint(log, &signer, &note, &err), MRD_OK);
    assert_int_equal(ckpt_verify(note.data, note.len, &v, &c, &err), MRD_OK);
    assert_int_equal(c.size, 100);
    append_range(log, 100, 120); /* leaves after the checkpoint */
    assert_int_equal(ledger_verify(log, &c, &rep, &err), MRD_OK);
    assert_int_equal(rep.leaves, 120);
    ledger_free(log);
    log = NULL;

    /* One byte of leaf 37's content hash. */
    flip_byte(t.log, ledger_file_size(37) + 20);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_READONLY, &log, NULL, NULL), MRD_OK);
    err.msg[0] = '\0';
    assert_int_equal(ledger_verify(log, &c, &rep, &err), MRD_E_INVALID);
    assert_true(rep.have_bad_leaf);
    assert_int_equal(rep.bad_leaf, 37);
    if (strstr(err.msg, "leaf 37") == NULL)
        fail_msg("%s", err.msg);
    ledger_free(log);
    log = NULL;
    flip_byte(t.log, ledger_file_size(37) + 20);

    /* One byte of a stored node: the leaves are fine, the node is named. */
    flip_byte(t.log, ledger_file_size(63) + LEDGER_RECORD_LEN + 2 * 32 + 1);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_READONLY, &log, NULL, NULL), MRD_OK);
    err.msg[0] = '\0';
    assert_int_equal(ledger_verify(log, &c, &rep, &err), MRD_E_INVALID);
    assert_false(rep.have_bad_leaf);
    assert_non_null(strstr(err.msg, "level 3"));
    ledger_free(log);
    log = NULL;
    flip_byte(t.log, ledger_file_size(63) + LEDGER_RECORD_LEN + 2 * 32 + 1);

    /* Truncated below the checkpoint: a writer refuses, verify names the
     * first missing leaf. */
    assert_int_equal(truncate(t.log, (off_t)ledger_file_size(90)), 0);
    assert_int_equal(ledger_open(t.dir, 0, &log, NULL, &err), MRD_E_INVALID);
    assert_null(log);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_READONLY, &log, NULL, NULL), MRD_OK);
    assert_int_equal(ledger_verify(log, &c, &rep, &err), MRD_E_INVALID);
    assert_int_equal(rep.bad_leaf, 90);
    ledger_free(log);
    mrd_buf_release(&note);
    tmp_remove(&t);
}

static void test_writer_lock(void **state)
{
    struct tmp t;
    struct ledger *a = NULL, *b = NULL, *r = NULL;
    struct ledger_entry e;

    (void)state;
    tmp_make(&t);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_CREATE, &a, NULL, NULL), MRD_OK);
    assert_int_equal(ledger_open(t.dir, 0, &b, NULL, NULL), MRD_E_CONFLICT);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_READONLY, &r, NULL, NULL), MRD_OK);
    entry_for(0, &e);
    assert_int_equal(ledger_append(r, &e, 1, NULL, NULL), MRD_E_PERM);
    e.kind = 0;
    assert_int_equal(ledger_append(a, &e, 1, NULL, NULL), MRD_E_INVAL);
    assert_int_equal(ledger_append(a, &e, 0, NULL, NULL), MRD_E_TOOBIG);
    ledger_free(r);
    ledger_free(a);
    ledger_free(NULL);
    tmp_remove(&t);
    assert_int_equal(ledger_open("/nonexistent/dir", 0, &a, NULL, NULL), MRD_E_NOTFOUND);
}

#define THREADS 4
#define PER_THREAD 300

struct worker {
    struct ledger *log;
    int id;
    uint64_t got[PER_THREAD];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct ledger_entry e;

    for (int i = 0; i < PER_THREAD; i++) {
        entry_for((uint64_t)(w->id * PER_THREAD + i), &e);
        if (ledger_append(w->log, &e, 1, &w->got[i], NULL) != MRD_OK)
            w->got[i] = UINT64_MAX;
    }
    return NULL;
}

static void test_concurrent_appends(void **state)
{
    struct tmp t;
    struct ledger *log = NULL;
    pthread_t th[THREADS];
    static struct worker w[THREADS];
    static uint8_t seen[THREADS * PER_THREAD];
    uint8_t *leaves = malloc(THREADS * PER_THREAD * MERKLE_HASH_LEN);
    uint8_t root[MERKLE_HASH_LEN], want[MERKLE_HASH_LEN];
    struct ledger_entry e;

    (void)state;
    tmp_make(&t);
    assert_int_equal(ledger_open(t.dir, LEDGER_OPEN_CREATE | LEDGER_OPEN_PROOFS, &log, NULL, NULL),
                     MRD_OK);
    for (int i = 0; i < THREADS; i++) {
        w[i].log = log;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(ledger_size(log), THREADS * PER_THREAD);
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < PER_THREAD; k++) {
            assert_true(w[i].got[k] < THREADS * PER_THREAD);
            assert_false(seen[w[i].got[k]]);
            seen[w[i].got[k]] = 1;
            /* Each appender's leaf is where it was told. */
            assert_int_equal(ledger_entry_get(log, w[i].got[k], &e, NULL), MRD_OK);
            assert_int_equal(e.time_ms, 1700000000000ull + (uint64_t)(i * PER_THREAD + k));
        }
    for (uint64_t i = 0; i < THREADS * PER_THREAD; i++)
        assert_int_equal(ledger_leaf_hash(log, i, leaves + i * MERKLE_HASH_LEN, NULL), MRD_OK);
    merkle_root_of(leaves, THREADS * PER_THREAD, want);
    assert_int_equal(ledger_root(log, THREADS * PER_THREAD, root, NULL), MRD_OK);
    assert_memory_equal(root, want, MERKLE_HASH_LEN);
    for (uint64_t i = 0; i < THREADS * PER_THREAD; i += 37) {
        uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
        size_t len = 0;

        assert_int_equal(ledger_prove_inclusion(log, i, THREADS * PER_THREAD, proof, &len, NULL),
                         MRD_OK);
        assert_int_equal(merkle_verify_inclusion(i, THREADS * PER_THREAD,
                                                 leaves + i * MERKLE_HASH_LEN, root,
                                                 MERKLE_HASH_LEN, proof, len, NULL),
                         MRD_OK);
    }
    ledger_free(log);
    log = NULL;
    /* And the file is whole: a reopen drops nothing. */
    {
        struct ledger_open_info info;
        assert_int_equal(ledger_open(t.dir, 0, &log, &info, NULL), MRD_OK);
        assert_int_equal(info.dropped_bytes, 0);
        assert_int_equal(info.size, THREADS * PER_THREAD);
        ledger_free(log);
    }
    free(leaves);
    tmp_remove(&t);
}

/* Every allocation failure is MRD_E_NOMEM (or absorbed, for caches) and
 * leaks nothing (LeakSanitizer in the ASan build). */
static void test_alloc_failures(void **state)
{
    struct tmp t;
    struct ledger *log = NULL;
    struct ledger_entry e[40];
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
    size_t len = 0;
    enum mrd_code rc;
    int saw_nomem = 0;

    (void)state;
    tmp_make(&t);
    for (uint64_t i = 0; i < 40; i++)
        entry_for(i, &e[i]);
    for (long n = 0; n < 30; n++) {
        log = NULL;
        mrd_alloc_fail_after(n);
        rc = ledger_open(t.dir, LEDGER_OPEN_CREATE | LEDGER_OPEN_PROOFS, &log, NULL, NULL);
        if (rc == MRD_OK)
            rc = ledger_append(log, e, 40, NULL, NULL);
        if (rc == MRD_OK)
            rc = ledger_prove_inclusion(log, 3, ledger_size(log), proof, &len, NULL);
        if (rc == MRD_OK)
            rc = ledger_root(log, ledger_size(log), root, NULL);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        saw_nomem |= rc == MRD_E_NOMEM;
        ledger_free(log);
    }
    assert_true(saw_nomem);
    /* Whatever failed, the log on disk is whole. */
    {
        struct ledger_open_info info;

        assert_int_equal(ledger_open(t.dir, 0, &log, &info, NULL), MRD_OK);
        assert_int_equal(info.dropped_bytes, 0);
        assert_int_equal(info.size % 40, 0);
        ledger_free(log);
    }
    tmp_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_prove_reopen),
        cmocka_unit_test(test_torn_tail_is_truncated),
        cmocka_unit_test(test_verify_names_changed_leaf),
        cmocka_unit_test(test_writer_lock),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_alloc_failures),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
