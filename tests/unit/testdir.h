/*
 * Scratch directories for unit tests, shared by every tests/unit/<sub>/:
 * made with mkdtemp under $TMPDIR (else /tmp), so that parallel runs and
 * sandboxes with their own TMPDIR never collide, and removed with nftw(3)
 * (no shell, no `rm -rf`). Failures are cmocka assertions. Include after
 * <cmocka.h>.
 */
#ifndef MRD_TESTS_UNIT_TESTDIR_H
#define MRD_TESTS_UNIT_TESTDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_DIR_MAX 512 /* room for out in test_dir_make */

/* Makes a new directory $TMPDIR/<name>-XXXXXX; out holds TEST_DIR_MAX bytes. */
static inline void test_dir_make(char out[TEST_DIR_MAX], const char *name)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    n = snprintf(out, TEST_DIR_MAX, "%s/%s-XXXXXX", base, name);
    assert_true(n > 0 && n < TEST_DIR_MAX);
    assert_non_null(mkdtemp(out));
}

static inline int test_dir_remove_one(const char *path, const struct stat *sb, int flag,
                                      struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes dir and everything under it (symbolic links themselves, never
 * what they point to). */
static inline void test_dir_remove(const char *dir)
{
    assert_int_equal(nftw(dir, test_dir_remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

#endif
