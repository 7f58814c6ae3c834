/*
 * pattern-gen: writes N realistic indicator patterns, one per line, from a
 * fixed seed (same output on every machine). The mix follows what CERT
 * feeds carry: mostly single IP / domain / URL / hash equalities, some
 * CIDR blocks and hash pairs, a tail of multi-observation patterns with
 * qualifiers, LIKE, MATCHES and IN sets.
 *
 * usage: pattern-gen [N] [SEED]   (defaults 1000000, 42)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;

static uint32_t rnd(uint32_t n)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state % n);
}

static void hex(char *out, int n)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++)
        out[i] = digits[rnd(16)];
    out[n] = '\0';
}

static void word(char *out, int min, int max)
{
    int n = min + (int)rnd((uint32_t)(max - min + 1));
    for (int i = 0; i < n; i++)
        out[i] = (char)('a' + rnd(26));
    out[n] = '\0';
}

static const char *const tlds[] = {"com", "net", "org", "ru", "info", "xyz", "top", "io"};

static void domain(char *out, size_t cap)
{
    char a[24], b[24];
    word(a, 3, 12);
    word(b, 2, 8);
    if (rnd(3) == 0)
        snprintf(out, cap, "%s.%s.%s", b, a, tlds[rnd(8)]);
    else
        snprintf(out, cap, "%s.%s", a, tlds[rnd(8)]);
}

static void ip(char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u", 1 + rnd(223), rnd(256), rnd(256), 1 + rnd(254));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char h1[130], h2[130], d[80], d2[80], a[40], a2[40], w[40];

    state = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
    if (state == 0)
        state = 42;
    for (long i = 0; i < n; i++) {
        uint32_t k = rnd(1000);
        if (k < 250) {
            ip(a, sizeof(a));
            printf("[ipv4-addr:value = '%s']\n", a);
        } else if (k < 300) {
            ip(a, sizeof(a));
            printf("[ipv4-addr:value ISSUBSET '%s/%u']\n", a, 16 + rnd(17));
        } else if (k < 320) {
            printf("[ipv6-addr:value = '2001:db8:%x:%x::%x']\n", rnd(65536), rnd(65536),
                   rnd(65536));
        } else if (k < 500) {
            domain(d, sizeof(d));
            printf("[domain-name:value = '%s']\n", d);
        } else if (k < 600) {
            domain(d, sizeof(d));
            word(w, 3, 10);
            printf("[url:value = 'http://%s/%s/%s.php?id=%u']\n", d, w, w, rnd(100000));
        } else if (k < 720) {
            hex(h1, 64);
            printf("[file:hashes.'SHA-256' = '%s']\n", h1);
        } else if (k < 780) {
            hex(h1, 32);
            hex(h2, 40);
            printf("[file:hashes.MD5 = '%s' OR file:hashes.'SHA-1' = '%s']\n", h1, h2);
        } else if (k < 820) {
            word(w, 3, 10);
            domain(d, sizeof(d));
            printf("[email-addr:value = '%s@%s']\n", w, d);
        } else if (k < 870) {
            ip(a, sizeof(a));
            printf("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value "
                   "= '%s' AND network-traffic:dst_port = %u]\n",
                   a, rnd(2) ? 443 : 1024 + rnd(60000));
        } else if (k < 900) {
            hex(h1, 32);
            word(w, 4, 12);
            printf("([file:hashes.MD5 = '%s'] FOLLOWEDBY [windows-registry-key:key = "
                   "'HKEY_LOCAL_MACHINE\\\\Software\\\\%s']) WITHIN 300 SECONDS\n",
                   h1, w);
        } else if (k < 930) {
            ip(a, sizeof(a));
            ip(a2, sizeof(a2));
            domain(d, sizeof(d));
            domain(d2, sizeof(d2));
            printf("[ipv4-addr:value IN ('%s', '%s')] OR [domain-name:value IN ('%s', '%s')]\n", a,
                   a2, d, d2);
        } else if (k < 955) {
            word(w, 4, 10);
            printf("[file:name LIKE '%%%s%%.exe' AND file:size > %u]\n", w, rnd(1000000));
        } else if (k < 970) {
            domain(d, sizeof(d));
            printf(
                "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value "
                "= '%s'] REPEATS %u TIMES WITHIN 1800 SECONDS\n",
                d, 2 + rnd(9));
        } else if (k < 985) {
            word(w, 4, 10);
            printf("[process:command_line MATCHES '^.+\\\\\\\\%s\\\\.exe -[a-z]+$']\n", w);
        } else {
            ip(a, sizeof(a));
            printf("[ipv4-addr:value = '%s'] START t'2026-%02u-01T00:00:00Z' STOP "
                   "t'2026-%02u-28T23:59:59.999Z'\n",
                   a, 1 + rnd(6), 7 + rnd(6));
        }
    }
    return 0;
}
