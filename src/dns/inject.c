/*
 * inject.c: the address rules of injection detection (dns.h): bogons
 * and known censorship fingerprints. Pure tables, no I/O.
 *
 * Bogons are the IPv4 special-purpose blocks of RFC 6890 (with RFC 6598
 * shared space and the 240/4 reserved block) and, for IPv6, everything
 * outside global unicast 2000::/3 except the NAT64 well-known prefix
 * (RFC 6052, legitimately synthesised by DNS64 resolvers), plus the
 * documentation blocks 2001:db8::/32 and 3fff::/20 (RFC 3849, RFC 9637).
 * An address the zone's own servers give is never judged by these rules
 * (check.c compares with them first): a private network may resolve to
 * 10/8 on purpose.
 *
 * The fingerprints are a short list of addresses that national filters
 * are documented to inject, named as in the OONI blocking-fingerprints
 * data set (github.com/ooni/blocking-fingerprints, fingerprints_dns.csv);
 * docs/dns.md lists them with their sources.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns/dns.h"

struct range {
    uint8_t net[16];
    unsigned bits;
    const char *name;
};

static const struct range bogons4[] = {
    {{0}, 8, "0.0.0.0/8"},
    {{10}, 8, "10.0.0.0/8"},
    {{100, 64}, 10, "100.64.0.0/10"},
    {{127}, 8, "127.0.0.0/8"},
    {{169, 254}, 16, "169.254.0.0/16"},
    {{172, 16}, 12, "172.16.0.0/12"},
    {{192, 0, 0}, 24, "192.0.0.0/24"},
    {{192, 0, 2}, 24, "192.0.2.0/24"},
    {{192, 168}, 16, "192.168.0.0/16"},
    {{198, 18}, 15, "198.18.0.0/15"},
    {{198, 51, 100}, 24, "198.51.100.0/24"},
    {{203, 0, 113}, 24, "203.0.113.0/24"},
    {{224}, 4, "224.0.0.0/4"},
    {{240}, 4, "240.0.0.0/4"},
};

static const struct range bogons6[] = {
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "2001:db8::/32"},
    {{0x3f, 0xff}, 20, "3fff::/20"},
};

static const struct {
    const char *addr, *name;
} fingerprints[] = {
    /* China: published poison replies of the Great Firewall (ooni.cn_0..9). */
    {"8.7.198.45", "ooni.cn_0"},
    {"37.61.54.158", "ooni.cn_1"},
    {"46.82.174.68", "ooni.cn_2"},
    {"78.16.49.15", "ooni.cn_3"},
    {"93.46.8.89", "ooni.cn_4"},
    {"159.106.121.75", "ooni.cn_5"},
    {"203.98.7.65", "ooni.cn_6"},
    {"59.24.3.173", "ooni.cn_7"},
    {"243.185.187.39", "ooni.cn_9"},
    /* Iran: injections pointing at the national block page. */
    {"10.10.34.34", "ooni.ir_4"},
    {"10.10.34.35", "ooni.ir_5"},
    /* Belarus: mobile ISP MTS's DNS block. */
    {"134.17.0.7", "ooni.by_4"},
};

static bool in_range(const uint8_t *a, const struct range *r)
{
    unsigned full = r->bits / 8, rest = r->bits % 8;
    if (memcmp(a, r->net, full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ r->net[full]) & (uint8_t)(0xFF << (8 - rest))) == 0;
}

bool dns_addr_bogon(const char *addr, const char **ret_range)
{
    uint8_t a[16];
    const char *dummy;

    if (ret_range == NULL)
        ret_range = &dummy;
    *ret_range = NULL;
    if (inet_pton(AF_INET, addr, a) == 1) {
        for (size_t i = 0; i < sizeof(bogons4) / sizeof(bogons4[0]); i++) {
            if (in_range(a, &bogons4[i])) {
                *ret_range = bogons4[i].name;
                return true;
            }
        }
        return false;
    }
    if (inet_pton(AF_INET6, addr, a) != 1)
        return false;
    if ((a[0] & 0xE0) != 0x20) {
        static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
        if (memcmp(a, nat64, sizeof(nat64)) == 0)
            return false;
        *ret_range = "outside 2000::/3";
        return true;
    }
    for (size_t i = 0; i < sizeof(bogons6) / sizeof(bogons6[0]); i++) {
        if (in_range(a, &bogons6[i])) {
            *ret_range = bogons6[i].name;
            return true;
        }
    }
    return false;
}

const char *dns_addr_fingerprint(const char *addr)
{
    for (size_t i = 0; i < sizeof(fingerprints) / sizeof(fingerprints[0]); i++) {
        if (strcmp(addr, fingerprints[i].addr) == 0)
            return fingerprints[i].name;
    }
    return NULL;
}
