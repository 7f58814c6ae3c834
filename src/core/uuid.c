/* RFC 4122 UUIDs: generation (v4, v5), parsing and checking. */
#include "core/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/sha1.h"
#include "core/str.h"

#define hexval(c) mrd_hex_digit((unsigned char)(c))

/* Offsets of the four hyphens in 8-4-4-4-12. */
static int is_hyphen_at(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

/* One pass does both jobs, so check and parse cannot disagree. */
static enum mrd_code parse(const char *s, size_t n, uint8_t u[MRD_UUID_LEN], int *ret_version,
                           struct mrd_err *err)
{
    size_t j = 0;
    int version;

    if (n != MRD_UUID_STR_LEN)
        return mrd_err_set(err, MRD_E_PARSE,
                           "uuid: %zu characters, expected 36 (8-4-4-4-12, RFC 4122 §3)", n);
    for (size_t i = 0; i < n; i++) {
        int hi, lo;

        if (is_hyphen_at(i)) {
            if (s[i] != '-')
                return mrd_err_set(err, MRD_E_PARSE, "uuid: offset %zu: expected '-' (RFC 4122 §3)",
                                   i);
            continue;
        }
        hi = hexval(s[i]);
        lo = i + 1 < n ? hexval(s[i + 1]) : -1;
        if (hi < 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "uuid: offset %zu: expected a hex digit (RFC 4122 §3)", i);
        if (lo < 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "uuid: offset %zu: expected a hex digit (RFC 4122 §3)", i + 1);
        u[j++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    /* the variant sits in the top bits of byte 8 (text offset 19) */
    if ((u[8] & 0xC0) != 0x80)
        return mrd_err_set(err, MRD_E_PARSE,
                           "uuid: offset 19: variant must be 10xx (8, 9, a or b; RFC 4122 §4.1.1)");
    version = u[6] >> 4;
    if (version < 1 || version > 5)
        return mrd_err_set(err, MRD_E_PARSE,
                           "uuid: offset 14: version %d is not 1-5 (RFC 4122 §4.1.3)", version);
    if (ret_version != NULL)
        *ret_version = version;
    return MRD_OK;
}

enum mrd_code mrd_uuid_check(const char *s, size_t n, int *ret_version, struct mrd_err *err)
{
    uint8_t u[MRD_UUID_LEN];

    return parse(s, n, u, ret_version, err);
}

enum mrd_code mrd_uuid_parse(const char *s, size_t n, uint8_t ret[MRD_UUID_LEN],
                             struct mrd_err *err)
{
    uint8_t u[MRD_UUID_LEN];
    enum mrd_code rc = parse(s, n, u, NULL, err);

    if (rc == MRD_OK)
        memcpy(ret, u, sizeof(u));
    return rc;
}

void mrd_uuid_format(const uint8_t u[MRD_UUID_LEN], char out[MRD_UUID_STR_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;

    for (size_t i = 0; i < MRD_UUID_STR_LEN; i++) {
        if (is_hyphen_at(i)) {
            out[i] = '-';
            continue;
        }
        out[i] = hex[u[j] >> 4];
        out[i + 1] = hex[u[j] & 0xF];
        j++;
        i++;
    }
    out[MRD_UUID_STR_LEN] = '\0';
}

/* RFC 4122 §4.4 for v4, §4.3 step 8-10 for v5: the version nibble and the
 * two variant bits overwrite random (or hash) bits. */
static void stamp(uint8_t u[MRD_UUID_LEN], int version)
{
    u[6] = (uint8_t)((u[6] & 0x0F) | (version << 4));
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
}

enum mrd_code mrd_uuid_v4(char out[MRD_UUID_STR_LEN + 1], struct mrd_err *err)
{
    uint8_t u[MRD_UUID_LEN];
    size_t got = 0;

    /* getrandom blocks only until the pool is first seeded, then never; a
     * signal may cut a read short, so loop */
    while (got < sizeof(u)) {
        ssize_t r = getrandom(u + got, sizeof(u) - got, 0);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return mrd_err_sys(err, MRD_E_IO, errno, "uuid: getrandom");
        }
        got += (size_t)r;
    }
    stamp(u, 4);
    mrd_uuid_format(u, out);
    return MRD_OK;
}

enum mrd_code mrd_uuid_v5(const char *ns, const char *name, size_t len,
                          char out[MRD_UUID_STR_LEN + 1], struct mrd_err *err)
{
    uint8_t nsb[MRD_UUID_LEN], digest[MRD_SHA1_LEN];
    struct mrd_sha1 c;
    struct mrd_err nserr = {0};

    /* a bad namespace is the caller's bug, not bad input: MRD_E_INVAL */
    if (parse(ns, MRD_UUID_STR_LEN, nsb, NULL, &nserr) != MRD_OK)
        return mrd_err_set(err, MRD_E_INVAL, "namespace: %s", nserr.msg);
    /* the namespace is hashed in network byte order, i.e. as written */
    mrd_sha1_init(&c);
    mrd_sha1_update(&c, nsb, sizeof(nsb));
    mrd_sha1_update(&c, name, len);
    mrd_sha1_final(&c, digest);
    stamp(digest, 5);
    mrd_uuid_format(digest, out);
    return MRD_OK;
}

enum mrd_code mrd_uuid_v5_id(const char *type, const char *ns, const char *name, char *out,
                             size_t size, struct mrd_err *err)
{
    char u[MRD_UUID_STR_LEN + 1];
    enum mrd_code rc = mrd_uuid_v5(ns, name, strlen(name), u, err);

    if (rc != MRD_OK)
        return rc;
    if ((size_t)snprintf(out, size, "%s--%s", type, u) >= size) {
        out[0] = '\0';
        return mrd_err_set(err, MRD_E_TOOBIG, "identifier: longer than %zu bytes", size - 1);
    }
    return MRD_OK;
}
