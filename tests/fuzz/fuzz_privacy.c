/*
 * fuzz_privacy: privacy/'s parsers and the OPRF on hostile input.
 *
 * The first byte picks the target: 0 a Crypto-PAn key file, 1 an address
 * line, 2 an OPRF blinded element sent by a partner (BlindEvaluate) and an
 * evaluated element sent back by a server (Finalize). Beyond "no crash, no
 * sanitizer report" it checks: an accepted address formats to text that
 * parses to the same address; pseudonymising and reversing gives it back,
 * in the same family; a BlindEvaluate that succeeds yields a valid element.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privacy/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed key: the reference Crypto-PAn sample key. */
static const uint8_t cp_key[PRIVACY_CRYPTOPAN_KEY_LEN] = {
    21,  34,  23,  141, 51,  164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
    216, 152, 143, 131, 121, 121, 101, 39,  98, 87, 76, 45, 42, 132, 34,  2};

static void address(const char *s, size_t n)
{
    struct privacy_cryptopan cp;
    struct privacy_addr a, b, m, back;
    char text[PRIVACY_ADDR_TEXT_MAX];

    if (privacy_addr_parse(s, n, &a, NULL) != MRD_OK)
        return;
    privacy_addr_format(&a, text, sizeof(text));
    if (privacy_addr_parse(text, strlen(text), &b, NULL) != MRD_OK || b.len != a.len ||
        memcmp(a.bytes, b.bytes, a.len) != 0)
        abort();
    privacy_cryptopan_init(&cp, cp_key);
    privacy_cryptopan_map(&cp, &a, &m);
    privacy_cryptopan_unmap(&cp, &m, &back);
    if (m.len != a.len || back.len != a.len || memcmp(back.bytes, a.bytes, a.len) != 0)
        abort();
    privacy_cryptopan_release(&cp);
}

static void oprf(const uint8_t *data, size_t size)
{
    static const uint8_t sk[PRIVACY_OPRF_SCALAR_LEN] = {
        0x5e, 0xbc, 0xea, 0x5e, 0xe3, 0x70, 0x23, 0xcc, 0xb9, 0xfc, 0x2d,
        0x20, 0x19, 0xf9, 0xd7, 0x73, 0x7b, 0xe8, 0x55, 0x91, 0xae, 0x86,
        0x52, 0xff, 0xa9, 0xef, 0x0f, 0x4d, 0x37, 0x06, 0x3b, 0x0e};
    uint8_t elem[PRIVACY_OPRF_ELEMENT_LEN] = {0};
    uint8_t blind[PRIVACY_OPRF_SCALAR_LEN] = {0};
    uint8_t ev[PRIVACY_OPRF_ELEMENT_LEN], out[PRIVACY_OPRF_OUTPUT_LEN];
    size_t take = size < sizeof(elem) ? size : sizeof(elem);

    memcpy(elem, data, take);
    if (privacy_oprf_blind_evaluate(sk, elem, ev, NULL) == MRD_OK &&
        crypto_core_ristretto255_is_valid_point(ev) != 1)
        abort();
    data += take;
    size -= take;
    take = size < sizeof(blind) ? size : sizeof(blind);
    memcpy(blind, data, take);
    (void)privacy_oprf_finalize(data, size, blind, elem, out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN];

    if (size == 0 || sodium_init() < 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        (void)privacy_cryptopan_key_parse((const char *)data + 1, size - 1, key, NULL);
        break;
    case 1:
        address((const char *)data + 1, size - 1);
        break;
    default:
        oprf(data + 1, size - 1);
        break;
    }
    return 0;
}
