/*
 * test_tar: ustar headers (core/tar.h): what the writer produces reads back,
 * GNU tar's shape is accepted, and every kind of tampering is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/tar.h"

static void test_round_trip(void **state)
{
    uint8_t h[MRD_TAR_BLOCK];
    char name[MRD_TAR_NAME_MAX + 1];
    uint64_t size = 0;
    unsigned mode = 0;

    (void)state;
    assert_int_equal(mrd_tar_header(h, "ledger/log", 12345, 0600, NULL), MRD_OK);
    assert_int_equal(mrd_tar_header_parse(h, name, &size, &mode, NULL), MRD_OK);
    assert_string_equal(name, "ledger/log");
    assert_int_equal(size, 12345);
    assert_int_equal(mode, 0600);
    assert_int_equal(memcmp(h + 257, "ustar", 6), 0);
    assert_int_equal(mrd_tar_padding(12345), 512 - 12345 % 512);
    assert_int_equal(mrd_tar_padding(1024), 0);
}

static void test_large_sizes_use_base256(void **state)
{
    uint8_t h[MRD_TAR_BLOCK];
    char name[MRD_TAR_NAME_MAX + 1];
    uint64_t big = ((uint64_t)1 << 33) + 7, size = 0, edge = ((uint64_t)1 << 33) - 1;

    (void)state;
    assert_int_equal(mrd_tar_header(h, "meridian.db", big, 0600, NULL), MRD_OK);
    assert_int_equal(h[124], 0x80);
    assert_int_equal(mrd_tar_header_parse(h, name, &size, NULL, NULL), MRD_OK);
    assert_true(size == big);
    assert_int_equal(mrd_tar_header(h, "meridian.db", edge, 0600, NULL), MRD_OK);
    assert_int_not_equal(h[124], 0x80); /* octal still fits */
    assert_int_equal(mrd_tar_header_parse(h, name, &size, NULL, NULL), MRD_OK);
    assert_true(size == edge);
}

static void test_tampering_is_refused(void **state)
{
    uint8_t h[MRD_TAR_BLOCK], t[MRD_TAR_BLOCK];
    char name[MRD_TAR_NAME_MAX + 1];
    uint64_t size;
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(mrd_tar_header(h, "node.key", 190, 0600, NULL), MRD_OK);
    /* every single byte changed (bar the checksum's trailing space) fails */
    for (size_t i = 0; i < MRD_TAR_BLOCK; i++) {
        memcpy(t, h, sizeof(t));
        t[i] ^= 0x01;
        if (mrd_tar_header_parse(t, name, &size, NULL, NULL) == MRD_OK)
            fail_msg("byte %zu flipped and the header still parses", i);
    }
    /* a symlink, even with a correct checksum */
    memcpy(t, h, sizeof(t));
    t[156] = '2';
    memset(t + 148, ' ', 8);
    {
        unsigned sum = 0;

        for (size_t i = 0; i < MRD_TAR_BLOCK; i++)
            sum += t[i];
        (void)snprintf((char *)t + 148, 8, "%06o", sum);
        t[155] = ' ';
    }
    assert_int_equal(mrd_tar_header_parse(t, name, &size, NULL, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "regular file"));
    /* names: empty or longer than 99 bytes */
    assert_int_equal(mrd_tar_header(h, "", 1, 0600, NULL), MRD_E_INVAL);
    {
        char longname[120];

        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_int_equal(mrd_tar_header(h, longname, 1, 0600, NULL), MRD_E_INVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_large_sizes_use_base256),
        cmocka_unit_test(test_tampering_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
