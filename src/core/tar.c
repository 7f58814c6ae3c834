/*
 * tar.c: ustar headers (see tar.h).
 */
#include "core/tar.h"

#include <string.h>

static void octal(uint8_t *field, size_t width, uint64_t v)
{
    /* width - 1 digits and a NUL, as POSIX ustar numeric fields are. */
    field[width - 1] = '\0';
    for (size_t i = width - 1; i > 0; i--) {
        field[i - 1] = (uint8_t)('0' + (v & 7));
        v >>= 3;
    }
}

static unsigned header_sum(const uint8_t *h)
{
    unsigned sum = 0;

    for (size_t i = 0; i < MRD_TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? (unsigned)' ' : h[i];
    return sum;
}

bool mrd_tar_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

size_t mrd_tar_padding(uint64_t size)
{
    return size % MRD_TAR_BLOCK == 0 ? 0 : (size_t)(MRD_TAR_BLOCK - size % MRD_TAR_BLOCK);
}

#define OCTAL_SIZE_MAX (((uint64_t)1 << 33) - 1) /* 11 octal digits */

enum mrd_code mrd_tar_header(uint8_t h[MRD_TAR_BLOCK], const char *name, uint64_t size,
                             unsigned mode, struct mrd_err *err)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > MRD_TAR_NAME_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "tar: member name '%.40s' is empty or too long",
                           name != NULL ? name : "");
    memset(h, 0, MRD_TAR_BLOCK);
    memcpy(h, name, n);
    octal(h + 100, 8, mode & 07777);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    if (size <= OCTAL_SIZE_MAX) {
        octal(h + 124, 12, size);
    } else {
        /* base-256: the first byte's high bit set, big-endian after it */
        h[124] = 0x80;
        for (int i = 0; i < 8; i++)
            h[135 - i] = (uint8_t)(size >> (8 * i));
    }
    octal(h + 136, 12, 0); /* no mtime: an archive's bytes depend on its content */
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "meridian", 8);
    memcpy(h + 297, "meridian", 8);
    octal(h + 148, 7, header_sum(h));
    h[155] = ' ';
    return MRD_OK;
}

static bool parse_octal(const uint8_t *f, size_t width, uint64_t *ret)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < width && f[i] == ' ')
        i++;
    if (i == width || f[i] < '0' || f[i] > '7')
        return false;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return false;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return false;
    *ret = v;
    return true;
}

static bool parse_size(const uint8_t *f, uint64_t *ret)
{
    uint64_t v = 0;

    if (f[0] != 0x80)
        return parse_octal(f, 12, ret);
    for (int i = 1; i < 4; i++)
        if (f[i] != 0)
            return false;
    for (int i = 4; i < 12; i++)
        v = v << 8 | f[i];
    if (v <= OCTAL_SIZE_MAX || v >> 62)
        return false; /* only what the octal field cannot say */
    *ret = v;
    return true;
}

enum mrd_code mrd_tar_header_parse(const uint8_t h[MRD_TAR_BLOCK],
                                   char ret_name[MRD_TAR_NAME_MAX + 1], uint64_t *ret_size,
                                   unsigned *ret_mode, struct mrd_err *err)
{
    uint64_t sum = 0, size = 0, mode = 0;
    size_t namelen;

    if (!parse_octal(h + 148, 8, &sum) || sum != header_sum(h))
        return mrd_err_set(err, MRD_E_PARSE, "tar header checksum does not match");
    if (memcmp(h + 257, "ustar", 5) != 0 || h[156] != '0')
        return mrd_err_set(err, MRD_E_PARSE, "not a ustar regular file (type '%c')",
                           h[156] >= 0x20 && h[156] < 0x7f ? h[156] : '?');
    namelen = strnlen((const char *)h, 100);
    /* Only the owner, mode and time fields may vary between tar writers;
     * the rest of a header (name padding, link name, prefix, trailing
     * bytes) must be zero so that nothing hides in it. */
    if (!mrd_tar_zero(h + namelen, 100 - namelen) || !mrd_tar_zero(h + 157, 100) ||
        !mrd_tar_zero(h + 345, MRD_TAR_BLOCK - 345))
        return mrd_err_set(err, MRD_E_PARSE,
                           "tar header has data in unused fields (link name, long-name prefix "
                           "or padding)");
    if (namelen == 0 || namelen > MRD_TAR_NAME_MAX)
        return mrd_err_set(err, MRD_E_PARSE, "bad member name");
    if (!parse_size(h + 124, &size))
        return mrd_err_set(err, MRD_E_PARSE, "member size is malformed");
    if (!parse_octal(h + 100, 8, &mode))
        mode = 0;
    memcpy(ret_name, h, namelen);
    ret_name[namelen] = '\0';
    *ret_size = size;
    if (ret_mode != NULL)
        *ret_mode = (unsigned)(mode & 07777);
    return MRD_OK;
}
