/*
 * bgp-gen: writes a synthetic full-table MRT RIB dump and a VRP set for the
 * `meridian bgp` benchmark (bench/bgp/README.md). Deterministic (fixed
 * seed): every run writes the same bytes.
 *
 * usage: bgp-gen OUTDIR [PREFIXES [PEERS [VRPS [UPDATES]]]]
 *   OUTDIR/rib.mrt    TABLE_DUMP_V2: PEER_INDEX_TABLE, then PREFIXES RIB
 *                     records (85% IPv4, 15% IPv6), each seen by every peer
 *                     (routes = PREFIXES x PEERS)
 *   OUTDIR/vrps.csv   VRPS VRPs (rpki-client CSV): one per announced prefix
 *                     for 70% of them (10% of those with another origin),
 *                     the rest in unannounced space
 *   OUTDIR/updates.mrt  BGP4MP MESSAGE_AS4: UPDATES updates (one IPv4 prefix
 *                     each, 90% announcements, 10% withdrawals) from the
 *                     peers, 100 per second of MRT time; 1% of those for
 *                     watched prefixes carry a foreign origin (hijacks)
 *   OUTDIR/watch.json the 2000 first IPv4 prefixes with their origin (every
 *                     tenth with a neighbors list), 3 groups of 100 origins
 *   OUTDIR/as-rel.txt 500000 CAIDA serial-1 links among the transit ASes
 * Defaults: 110000 prefixes, 10 peers, 500000 VRPs (1.1 M routes), 1000000
 * updates.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static uint8_t buf[1 << 20];
static size_t blen;

static void p8(uint32_t v)
{
    buf[blen++] = (uint8_t)v;
}

static void p16(uint32_t v)
{
    p8(v >> 8);
    p8(v);
}

static void p32(uint32_t v)
{
    p16(v >> 16);
    p16(v);
}

static void record(FILE *f, uint16_t type, uint16_t subtype)
{
    uint8_t h[12] = {0x65,
                     0x70,
                     0x00,
                     0x00,
                     (uint8_t)(type >> 8),
                     (uint8_t)type,
                     (uint8_t)(subtype >> 8),
                     (uint8_t)subtype,
                     (uint8_t)(blen >> 24),
                     (uint8_t)(blen >> 16),
                     (uint8_t)(blen >> 8),
                     (uint8_t)blen};
    if (fwrite(h, 1, 12, f) != 12 || fwrite(buf, 1, blen, f) != blen) {
        perror("write");
        exit(1);
    }
    blen = 0;
}

struct pfx {
    int v6;
    uint8_t addr[16];
    uint8_t len;
    uint32_t origin;
};

/* Opens OUTDIR/name for writing, or says why not. */
static FILE *create(const char *dir, const char *name, const char *mode)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, mode);
    if (f == NULL)
        perror(path);
    return f;
}

/* Closes f (NULL when that fails) and opens OUTDIR/name for writing. */
static FILE *next_file(FILE *f, const char *dir, const char *name)
{
    return fclose(f) != 0 ? NULL : create(dir, name, "w");
}

#define NWATCH 2000  /* watched (configured) prefixes */
#define TRANSIT 5000 /* transit ASes 100 .. 5099 */

static int updates(const char *dir, const struct pfx *px, size_t nprefix, unsigned npeers,
                   size_t nupdates)
{
    size_t nv4 = nprefix * 85 / 100, nwatch = nv4 < NWATCH ? nv4 : NWATCH;
    FILE *f;

    f = create(dir, "updates.mrt", "wb");
    if (f == NULL || nv4 == 0)
        return 1;
    for (size_t u = 0; u < nupdates; u++) {
        unsigned peer = rnd() % npeers, hops = 1 + rnd() % 5;
        /* a third of the stream on watched prefixes, the rest anywhere */
        size_t i = u % 3 == 0 ? rnd() % nwatch : rnd() % nv4;
        const struct pfx *p = &px[i];
        uint32_t peer_as = peer % 2 ? 4200000000u + peer : 64512 + peer;
        uint32_t origin = p->origin;
        int withdraw = rnd() % 10 == 0;
        size_t msg_at;

        if (i < nwatch && rnd() % 100 == 0)
            origin = 70000 + rnd() % 1000; /* hijack */
        p32(peer_as);
        p32(65000);
        p16(0);
        p16(1);
        p32(0xC6336400 + peer + 1);
        p32(0xC63364FE);
        msg_at = blen;
        for (int k = 0; k < 16; k++)
            p8(0xff);
        p16(0); /* length, set below */
        p8(2);
        if (withdraw) {
            p16(1u + (p->len + 7u) / 8u);
            p8(p->len);
            for (unsigned b = 0; b < (p->len + 7u) / 8u; b++)
                p8(p->addr[b]);
            p16(0);
        } else {
            p16(0);
            p16(4 + 3 + 4 * (hops + 2) + 2 + 7);
            p8(0x40); /* ORIGIN */
            p8(1);
            p8(1);
            p8(0);
            p8(0x40); /* AS_PATH */
            p8(2);
            p8(2 + 4 * (hops + 2));
            p8(2);
            p8(hops + 2);
            p32(peer_as);
            for (unsigned h = 0; h < hops; h++)
                p32(100 + rnd() % TRANSIT);
            p32(origin);
            p8(0x40); /* NEXT_HOP */
            p8(3);
            p8(4);
            p32(0xC6336400 + peer + 1);
            p8(p->len);
            for (unsigned b = 0; b < (p->len + 7u) / 8u; b++)
                p8(p->addr[b]);
        }
        buf[msg_at + 16] = (uint8_t)((blen - msg_at) >> 8);
        buf[msg_at + 17] = (uint8_t)(blen - msg_at);
        {
            uint32_t t = 0x65700000u + (uint32_t)(u / 100);
            uint8_t h[12] = {(uint8_t)(t >> 24),
                             (uint8_t)(t >> 16),
                             (uint8_t)(t >> 8),
                             (uint8_t)t,
                             0,
                             16,
                             0,
                             4,
                             (uint8_t)(blen >> 24),
                             (uint8_t)(blen >> 16),
                             (uint8_t)(blen >> 8),
                             (uint8_t)blen};
            if (fwrite(h, 1, 12, f) != 12 || fwrite(buf, 1, blen, f) != blen) {
                perror("write");
                return 1;
            }
            blen = 0;
        }
    }
    f = next_file(f, dir, "watch.json");
    if (f == NULL)
        return 1;
    fprintf(f, "{\"prefixes\": [\n");
    for (size_t i = 0; i < nwatch; i++) {
        const struct pfx *p = &px[i];
        fprintf(f, "%s{\"prefix\": \"%u.%u.%u.0/%u\", \"origins\": [%u]", i ? ",\n" : "",
                p->addr[0], p->addr[1], p->addr[2], p->len, p->origin);
        if (i % 10 == 0)
            fprintf(f, ", \"neighbors\": [%u, %u]", 100 + rnd() % TRANSIT, 100 + rnd() % TRANSIT);
        fprintf(f, "}");
    }
    fprintf(f, "],\n\"groups\": {");
    /* groups: the distinct origins of 100 prefixes each, from the start of
     * the table (an AS may be in one group only) */
    {
        uint32_t used[300];
        size_t nused = 0, i = 0;
        for (int g = 0; g < 3; g++) {
            size_t k = 0;
            fprintf(f, "%s\"group-%d\": [", g ? ", " : "", g);
            for (; k < 100 && i < nwatch; i++) {
                size_t j = 0;
                while (j < nused && used[j] != px[i].origin)
                    j++;
                if (j < nused)
                    continue;
                used[nused++] = px[i].origin;
                fprintf(f, "%s%u", k++ ? ", " : "", px[i].origin);
            }
            fprintf(f, "]");
        }
    }
    fprintf(f, "}}\n");
    f = next_file(f, dir, "as-rel.txt");
    if (f == NULL)
        return 1;
    fprintf(f, "# synthetic CAIDA serial-1: provider|customer|-1, peer|peer|0\n");
    for (size_t k = 0; k < 500000; k++) {
        uint32_t a = 100 + rnd() % TRANSIT, b = 100 + rnd() % TRANSIT;
        if (a != b)
            fprintf(f, "%u|%u|%d\n", a, b, rnd() % 4 == 0 ? 0 : -1);
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    size_t nprefix = argc > 2 ? strtoul(argv[2], NULL, 10) : 110000;
    unsigned npeers = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 10;
    size_t nvrps = argc > 4 ? strtoul(argv[4], NULL, 10) : 500000;
    size_t nupdates = argc > 5 ? strtoul(argv[5], NULL, 10) : 1000000;
    struct pfx *px;
    FILE *f;

    if (argc < 2 || npeers == 0 || npeers > 1000) {
        fprintf(stderr, "usage: bgp-gen OUTDIR [PREFIXES [PEERS [VRPS [UPDATES]]]]\n");
        return 2;
    }
    px = calloc(nprefix, sizeof(*px));
    if (px == NULL)
        return 1;
    f = create(argv[1], "rib.mrt", "wb");
    if (f == NULL)
        return 1;
    /* PEER_INDEX_TABLE: half IPv4 peers with 2-byte ASNs, half IPv6 with
     * 4-byte ASNs. */
    p32(0xC0000201);
    p16(0);
    p16(npeers);
    for (unsigned i = 0; i < npeers; i++) {
        int v6 = i % 2;
        p8(v6 ? 3 : 0);
        p32(0x0A000000 + i);
        if (v6) {
            p32(0x20010db8);
            p32(0);
            p32(0);
            p32(i + 1);
            p32(4200000000u + i);
        } else {
            p32(0xC6336400 + i + 1);
            p16(64512 + i);
        }
    }
    record(f, 13, 1);
    /* Prefixes in increasing order, as a RIB dump has them. */
    for (size_t i = 0; i < nprefix; i++) {
        struct pfx *p = &px[i];
        p->v6 = i >= nprefix * 85 / 100;
        p->origin = 1000 + rnd() % 60000;
        if (!p->v6) {
            uint32_t a = (uint32_t)(0x01000000u + (uint32_t)i * 256u * 3u);
            p->len = (uint8_t)(i % 10 == 0 ? 22 : 24);
            a &= ~0u << (32 - p->len);
            p->addr[0] = (uint8_t)(a >> 24);
            p->addr[1] = (uint8_t)(a >> 16);
            p->addr[2] = (uint8_t)(a >> 8);
        } else {
            uint32_t k = (uint32_t)(i - nprefix * 85 / 100);
            p->len = 48;
            p->addr[0] = 0x2a;
            p->addr[1] = 0x00;
            p->addr[2] = (uint8_t)(k >> 16);
            p->addr[3] = (uint8_t)(k >> 8);
            p->addr[4] = (uint8_t)k;
        }
    }
    for (size_t i = 0; i < nprefix; i++) {
        struct pfx *p = &px[i];
        p32((uint32_t)i);
        p8(p->len);
        for (unsigned b = 0; b < (p->len + 7u) / 8u; b++)
            p8(p->addr[b]);
        p16(npeers);
        for (unsigned peer = 0; peer < npeers; peer++) {
            unsigned hops = 1 + rnd() % 5, ncomm = rnd() % 4;
            size_t alen_at;
            p16(peer);
            p32(0x65700000 - rnd() % 100000);
            alen_at = blen;
            p16(0);
            p8(0x40); /* ORIGIN IGP */
            p8(1);
            p8(1);
            p8(0);
            p8(0x40); /* AS_PATH: peer, transit hops, origin */
            p8(2);
            p8(2 + 4 * (hops + 2));
            p8(2);
            p8(hops + 2);
            p32(peer % 2 ? 4200000000u + peer : 64512 + peer);
            for (unsigned h = 0; h < hops; h++)
                p32(100 + rnd() % 5000);
            p32(p->origin);
            if (p->v6) {
                p8(0x80); /* MP_REACH_NLRI, TABLE_DUMP_V2 abbreviated form */
                p8(14);
                p8(17);
                p8(16);
                p32(0x20010db8);
                p32(0);
                p32(0);
                p32(peer + 1);
            } else {
                p8(0x40); /* NEXT_HOP */
                p8(3);
                p8(4);
                p32(0xC6336400 + peer + 1);
            }
            p8(0x80); /* MED */
            p8(4);
            p8(4);
            p32(rnd() % 1000);
            if (ncomm > 0) {
                p8(0xC0);
                p8(8);
                p8(4 * ncomm);
                for (unsigned c = 0; c < ncomm; c++)
                    p32((100 + rnd() % 5000) << 16 | rnd() % 1000);
            }
            buf[alen_at] = (uint8_t)((blen - alen_at - 2) >> 8);
            buf[alen_at + 1] = (uint8_t)(blen - alen_at - 2);
        }
        record(f, 13, p->v6 ? 4 : 2);
    }
    if (fclose(f) != 0)
        return 1;

    f = create(argv[1], "vrps.csv", "w");
    if (f == NULL)
        return 1;
    fprintf(f, "ASN,IP Prefix,Max Length,Trust Anchor,Expires\n");
    for (size_t i = 0, n = 0; n < nvrps; i++, n++) {
        if (i < nprefix && i % 10 < 7) {
            const struct pfx *p = &px[i];
            uint32_t asn = i % 100 < 7 ? p->origin + 1 : p->origin;
            if (p->v6)
                fprintf(f, "AS%u,2a00:%02x%02x:%02x00::/%u,%u,bench,2000000000\n", asn, p->addr[2],
                        p->addr[3], p->addr[4], p->len - 8, p->len);
            else
                fprintf(f, "AS%u,%u.%u.%u.0/%u,%u,bench,2000000000\n", asn, p->addr[0], p->addr[1],
                        p->addr[2], p->len, p->len);
        } else {
            /* Unannounced space, 100.0.0.0 upwards. */
            uint32_t a = 0x64000000u + (uint32_t)i * 256u;
            fprintf(f, "AS%u,%u.%u.%u.0/24,24,bench,2000000000\n", 1000 + rnd() % 60000, a >> 24,
                    (a >> 16) & 255, (a >> 8) & 255);
        }
    }
    if (fclose(f) != 0)
        return 1;
    if (updates(argv[1], px, nprefix, npeers, nupdates) != 0)
        return 1;
    free(px);
    return 0;
}
