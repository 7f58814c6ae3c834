/* Crypto-PAn: prefix-preserving address pseudonymisation (see privacy.h).
 *
 * Output bit i is input bit i XOR the first bit of AES_k(P_i), where P_i is
 * the first i bits of the original address followed by the pad's remaining
 * bits. That is the reference implementation's construction (it fills the
 * 128-bit block the same way for IPv4: the address's first i bits, then the
 * pad), so one loop serves both families. Bit i of the output depends only
 * on the original bits before it, which is what makes the mapping prefix-
 * preserving and lets unmap recover the original bit by bit. */
#include "privacy/privacy.h"

#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

#include "core/str.h"

static inline unsigned bit_get(const uint8_t *b, unsigned pos)
{
    return (b[pos / 8] >> (7 - pos % 8)) & 1u;
}

static inline void bit_set(uint8_t *b, unsigned pos, unsigned v)
{
    uint8_t mask = (uint8_t)(0x80u >> (pos % 8));

    if (v)
        b[pos / 8] |= mask;
    else
        b[pos / 8] &= (uint8_t)~mask;
}

enum mrd_code privacy_cryptopan_key_parse(const char *text, size_t len,
                                          uint8_t ret_key[PRIVACY_CRYPTOPAN_KEY_LEN],
                                          struct mrd_err *err)
{
    uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN];
    size_t digits = 0;
    size_t end = len;
    enum mrd_code rc = MRD_OK;

    if (len > PRIVACY_CRYPTOPAN_KEY_FILE_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "crypto-pan key: %zu bytes, at most %d (64 hex digits and a newline)",
                           len, PRIVACY_CRYPTOPAN_KEY_FILE_MAX);
    /* One trailing line end is allowed, as editors write it. */
    if (end > 0 && text[end - 1] == '\n')
        end--;
    if (end > 0 && text[end - 1] == '\r')
        end--;
    for (size_t i = 0; i < end; i++) {
        int v = mrd_hex_digit((unsigned char)text[i]);

        if (v < 0) {
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "crypto-pan key: offset %zu: expected a hex digit, found %s", i,
                             MRD_ESCN(text + i, 1));
            goto out;
        }
        if (digits == 2 * PRIVACY_CRYPTOPAN_KEY_LEN) {
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "crypto-pan key: offset %zu: more than 64 hex digits", i);
            goto out;
        }
        if (digits % 2 == 0)
            key[digits / 2] = (uint8_t)(v << 4);
        else
            key[digits / 2] |= (uint8_t)v;
        digits++;
    }
    if (digits != 2 * PRIVACY_CRYPTOPAN_KEY_LEN) {
        rc = mrd_err_set(err, MRD_E_PARSE,
                         "crypto-pan key: %zu hex digits, expected 64 (a 32-byte key)", digits);
        goto out;
    }
    memcpy(ret_key, key, sizeof(key));
out:
    sodium_memzero(key, sizeof(key));
    return rc;
}

void privacy_cryptopan_init(struct privacy_cryptopan *cp,
                            const uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN])
{
    aes128_set_encrypt_key(&cp->aes, key);
    aes128_encrypt(&cp->aes, sizeof(cp->pad), cp->pad, key + 16);
}

void privacy_cryptopan_release(struct privacy_cryptopan *cp)
{
    if (cp != NULL)
        sodium_memzero(cp, sizeof(*cp));
}

/* One pass over the bits. Forward: the block takes the input's bits.
 * Reverse: the input is the pseudonym, and the block takes the original
 * bits as they are recovered. */
static void walk(const struct privacy_cryptopan *cp, const struct privacy_addr *in,
                 struct privacy_addr *ret_out, int reverse)
{
    uint8_t block[16];
    uint8_t enc[16];
    struct privacy_addr out = {.len = in->len};
    unsigned nbits = 8u * in->len;

    memcpy(block, cp->pad, sizeof(block));
    for (unsigned pos = 0; pos < nbits; pos++) {
        unsigned flip;
        unsigned in_bit = bit_get(in->bytes, pos);
        unsigned out_bit;

        aes128_encrypt(&cp->aes, sizeof(enc), enc, block);
        flip = enc[0] >> 7;
        out_bit = in_bit ^ flip;
        bit_set(out.bytes, pos, out_bit);
        bit_set(block, pos, reverse ? out_bit : in_bit);
    }
    *ret_out = out;
    sodium_memzero(block, sizeof(block));
    sodium_memzero(enc, sizeof(enc));
}

void privacy_cryptopan_map(const struct privacy_cryptopan *cp, const struct privacy_addr *in,
                           struct privacy_addr *ret_out)
{
    walk(cp, in, ret_out, 0);
}

void privacy_cryptopan_unmap(const struct privacy_cryptopan *cp, const struct privacy_addr *in,
                             struct privacy_addr *ret_out)
{
    walk(cp, in, ret_out, 1);
}

enum mrd_code privacy_addr_parse(const char *s, size_t n, struct privacy_addr *ret_addr,
                                 struct mrd_err *err)
{
    char text[PRIVACY_ADDR_LINE_MAX + 1];
    struct privacy_addr a = {0};
    int family;

    if (n == 0)
        return mrd_err_set(err, MRD_E_PARSE, "empty line, expected an IPv4 or IPv6 address");
    if (n > PRIVACY_ADDR_LINE_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "%zu bytes, an address has at most %d", n,
                           PRIVACY_ADDR_LINE_MAX);
    if (memchr(s, '\0', n) != NULL)
        return mrd_err_set(err, MRD_E_PARSE, "a NUL byte is not part of an address");
    memcpy(text, s, n);
    text[n] = '\0';
    family = memchr(s, ':', n) != NULL ? AF_INET6 : AF_INET;
    a.len = family == AF_INET6 ? 16 : 4;
    /* inet_pton takes exactly the dotted quad (no octal, no short forms)
     * for IPv4 and RFC 4291 text for IPv6: no spaces, prefixes or zones. */
    if (inet_pton(family, text, a.bytes) != 1)
        return mrd_err_set(err, MRD_E_PARSE, "'%s' is not an %s address", MRD_ESCN(s, n),
                           family == AF_INET6 ? "IPv6" : "IPv4");
    *ret_addr = a;
    return MRD_OK;
}

const char *privacy_addr_format(const struct privacy_addr *addr, char *out, size_t size)
{
    if (inet_ntop(addr->len == 16 ? AF_INET6 : AF_INET, addr->bytes, out, (socklen_t)size) == NULL)
        mrd_strlcpy(out, "?", size);
    return out;
}

unsigned privacy_addr_common_prefix(const struct privacy_addr *a, const struct privacy_addr *b)
{
    unsigned n = 0;

    if (a->len != b->len)
        return 0;
    while (n < 8u * a->len && bit_get(a->bytes, n) == bit_get(b->bytes, n))
        n++;
    return n;
}
