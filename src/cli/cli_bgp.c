/*
 * cli_bgp.c: `meridian bgp decode|scan` over src/bgp/.
 *
 * This file reads the files (gzip and bzip2 are recognised by their magic
 * bytes, as collectors publish them) and prints; decoding, validation and
 * the per-route bookkeeping live in src/bgp/.
 */
#include <bzlib.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bgp/bgp.h"
#include "cli/cli.h"
#include "cli/cli_bgp.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/str.h"
#include "core/uuid.h"
#include "policy/policy.h"
#include "sensor/sensor.h"

#define CLI_BGP_MAX_MRT ((size_t)4 * 1024 * 1024 * 1024) /* one decompressed MRT file */
#define CLI_BGP_MAX_VRPS ((size_t)512 * 1024 * 1024)     /* one VRP file */
#define CLI_BGP_OUT_FLUSH ((size_t)1 << 20)              /* output buffered before a write */
#define CLI_BGP_MAX_CONFIG ((size_t)64 * 1024 * 1024)    /* one --config file */
#define CLI_BGP_MAX_ASREL ((size_t)512 * 1024 * 1024)    /* one --as-rel file */
#define CLI_BGP_RTR_TIMEOUT 30                           /* default --timeout, seconds */
#define CLI_BGP_MAX_TIMEOUT 86400                        /* largest --timeout */

static const char usage[] =
    "usage: meridian bgp decode FILE...\n"
    "       meridian bgp scan (--vrps FILE | --rtr HOST:PORT) [--config FILE]\n"
    "                         [--as-rel FILE] [--rov-all] [--json] [--now TIME]\n"
    "                         [--stix FILE [--tlp LEVEL]] INPUT...\n"
    "       meridian bgp rtr [--follow] [--json] [--rtr-version 0|1] [--timeout S]\n"
    "                         HOST:PORT\n"
    "\n"
    "Reads MRT files (RFC 6396: TABLE_DUMP_V2 RIB dumps and BGP4MP update logs,\n"
    "ADD-PATH forms included), plain, gzip- or bzip2-compressed, and captured BMP\n"
    "streams (RFC 7854, recognised by their first bytes; their routes print as\n"
    "BGP4MP lines, a Peer Up or Down as a STATE line).\n"
    "\n"
    "decode  prints every route, one per line, in `bgpdump -m` format:\n"
    "          TABLE_DUMP2|time|B|peer_ip|peer_as|prefix|as_path|origin|next_hop|\n"
    "            local_pref|med|communities|atomic_agg|aggregator|\n"
    "          BGP4MP|time|A|peer_ip|peer_as|prefix|as_path|...  (announcement)\n"
    "          BGP4MP|time|W|peer_ip|peer_as|prefix              (withdrawal)\n"
    "          BGP4MP|time|STATE|peer_ip|peer_as|old_state|new_state\n"
    "\n"
    "scan    validates the origin of every distinct (prefix, AS path) per RFC 6811\n"
    "        against the VRPs in --vrps (rpki-client JSON or CSV, Routinator JSON;\n"
    "        VRPs whose `expires` lies before --now, default the current time,\n"
    "        are ignored), or fetched from an RTR cache with --rtr HOST:PORT\n"
    "        (RFC 8210; see `bgp rtr`), and prints the invalid ones, or all with\n"
    "        --rov-all:\n"
    "          rov|prefix|as_path|peer_as|first_seen|last_seen|verdict|reason\n"
    "        With --json, one object per line: kind \"rov\", prefix, as_path\n"
    "        (a set is a nested array), origin_as, peer_as, first_seen,\n"
    "        last_seen, rov (valid, invalid, not-found) and reason (match,\n"
    "        not-covered, wrong-origin, too-specific, origin-none, as0).\n"
    "\n"
    "        --config FILE (JSON) turns on hijack and outage detection:\n"
    "          {\"prefixes\": [{\"prefix\": \"2001:db8:ff00::/40\", \"origins\": [65010],\n"
    "                        \"neighbors\": [65020], \"max_length\": 48}],\n"
    "           \"groups\": {\"country-1\": [65030, 65031]}}\n"
    "        (no origins: nobody may originate it; neighbors absent or null: any\n"
    "        first hop; max_length defaults to the prefix length; \"policies\":\n"
    "        [\"no-export\"] when you announce it with NO_EXPORT).\n"
    "          hijack|prefix|as_path|peer_as|first|last|type|hijacker_as|ended\n"
    "        type is ARTEMIS's Prefix|Path|Data|Policy: E exact, S sub-prefix,\n"
    "        Q squatting; 0 illegal origin, 1 illegal first hop, - neither;\n"
    "        L no-export violation (a path of more than 3 ASes), - none.\n"
    "        A group's outage: its prefixes visible to more than half of the\n"
    "        peers fall below half their peak while the other groups hold:\n"
    "          outage|group|first|last|visible|baseline|ended\n"
    "          outage-end|group|time|visible|baseline\n"
    "        --as-rel FILE (CAIDA serial-1, a|b|-1 provider to customer, a|b|0\n"
    "        peers) turns on route-leak detection (valley-free paths, RFC 9234\n"
    "        OTC):\n"
    "          leak|prefix|as_path|peer_as|first|last|leaker_as|valley or otc|ended\n"
    "        Events are updated while they last and end (ended, a time) when\n"
    "        every route that carried them is withdrawn or replaced. Inputs\n"
    "        are read in the order of their first record's time. With --json\n"
    "        each event is one object (docs/bgp.md lists the fields).\n"
    "        --stix FILE also writes the events as a STIX 2.1 bundle ('-': to\n"
    "        stdout, instead of the lines): observed-data objects under the\n"
    "        Meridian routing-alert extension, with their autonomous-system and\n"
    "        ipv4-addr/ipv6-addr objects. The alerts are marked --tlp LEVEL\n"
    "        (clear, green, amber, amber+strict, red; default amber), the AS and\n"
    "        address objects they refer to TLP:CLEAR. `meridian import\n"
    "        --collection ID FILE` then stores them signed, for peers to pull.\n"
    "\n";

/* Past C17's 4095-byte string literal: the rest of the manual. */
static const char usage_rtr[] =
    "rtr     asks an RPKI-to-Router cache (RFC 8210 version 1, RFC 6810 version\n"
    "        0: stayrtr, rpki-client's rtr, Routinator, FORT; plain TCP, so run it\n"
    "        on a trusted network) for its VRPs with a Reset Query and prints\n"
    "        them as CSV (ASN,IP Prefix,Max Length), after a comment line with\n"
    "        the session, serial, VRP count and the cache's refresh, retry and\n"
    "        expire intervals. --rtr-version 0 speaks RFC 6810 from the start; a\n"
    "        version 1 client also falls back to 0 when the cache asks for it.\n"
    "        --timeout S (default 30) bounds the wait for the cache's answer.\n"
    "        --follow stays connected: Serial Query on each Serial Notify and\n"
    "        every refresh interval, Cache Reset honoured; prints the status\n"
    "        line and the whole set after each change, and a line on stderr for\n"
    "        each failure (then retries after 1 s, doubling up to the retry\n"
    "        interval, keeping the last VRPs until the expire interval has\n"
    "        passed without an End of Data: then the set is empty, and says so).\n"
    "        Stops on SIGINT or SIGTERM. --json: one object per change instead:\n"
    "        the status (source, connected, version, session, serial, vrps,\n"
    "        updated, age_seconds, refresh, retry, expire, expired, failures,\n"
    "        last_error, last_query reset or serial, announced, withdrawn) and\n"
    "        \"roas\", the set in rpki-client JSON form.\n"
    "\n"
    "Exit status: 0 success (scan: no invalid route and no event), 1 scan found\n"
    "an invalid route or an event, 2 usage, unreadable or malformed input (the\n"
    "error names the file, the record offset and the RFC section).\n";

const struct cli_verb cli_verb_bgp;

/* Reads path whole and inflates it when it starts with a gzip or bzip2
 * magic. */
static enum mrd_code read_mrt(const char *path, struct mrd_buf *out, struct mrd_err *err)
{
    struct mrd_buf raw;
    enum mrd_code rc;
    const unsigned char *d;

    mrd_buf_init(&raw, CLI_MAX_INPUT_FILE);
    rc = cli_read_file(path, CLI_MAX_INPUT_FILE, &raw, err);
    if (rc != MRD_OK)
        goto out;
    d = (const unsigned char *)raw.data;
    if (raw.len >= 2 && d[0] == 0x1f && d[1] == 0x8b) {
        z_stream z;
        char chunk[65536];
        int zr = Z_OK;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 15 + 32) != Z_OK) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "%s: cannot start gzip", path);
            goto out;
        }
        z.next_in = (Bytef *)raw.data;
        z.avail_in = (uInt)raw.len; /* raw.len <= CLI_MAX_INPUT_FILE fits */
        while (rc == MRD_OK && zr != Z_STREAM_END) {
            z.next_out = (Bytef *)chunk;
            z.avail_out = sizeof(chunk);
            zr = inflate(&z, Z_NO_FLUSH);
            if (zr == Z_STREAM_END && z.avail_in > 0) {
                /* concatenated gzip members */
                rc = mrd_buf_append(out, chunk, sizeof(chunk) - z.avail_out, err);
                zr = inflateReset(&z);
                continue;
            }
            if (zr != Z_OK && zr != Z_STREAM_END)
                rc = mrd_err_set(err, MRD_E_PARSE, "%s: corrupt gzip data (zlib %d)", path, zr);
            else
                rc = mrd_buf_append(out, chunk, sizeof(chunk) - z.avail_out, err);
            if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0)
                rc = rc == MRD_OK ? mrd_err_set(err, MRD_E_PARSE, "%s: truncated gzip data", path)
                                  : rc;
        }
        (void)inflateEnd(&z);
    } else if (raw.len >= 3 && memcmp(d, "BZh", 3) == 0) {
        bz_stream b;
        char chunk[65536];
        int br = BZ_OK;
        memset(&b, 0, sizeof(b));
        if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "%s: cannot start bzip2", path);
            goto out;
        }
        b.next_in = raw.data;
        b.avail_in = (unsigned)raw.len;
        while (rc == MRD_OK && br != BZ_STREAM_END) {
            b.next_out = chunk;
            b.avail_out = sizeof(chunk);
            br = BZ2_bzDecompress(&b);
            if (br != BZ_OK && br != BZ_STREAM_END)
                rc = mrd_err_set(err, MRD_E_PARSE, "%s: corrupt bzip2 data (bzlib %d)", path, br);
            else
                rc = mrd_buf_append(out, chunk, sizeof(chunk) - b.avail_out, err);
            if (br == BZ_OK && b.avail_in == 0 && b.avail_out != 0)
                rc = rc == MRD_OK ? mrd_err_set(err, MRD_E_PARSE, "%s: truncated bzip2 data", path)
                                  : rc;
            if (br == BZ_STREAM_END && b.avail_in > 0) {
                (void)BZ2_bzDecompressEnd(&b); /* concatenated bzip2 streams */
                memset(&b.bzalloc, 0, sizeof(b) - offsetof(bz_stream, bzalloc));
                if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
                    rc = mrd_err_set(err, MRD_E_NOMEM, "%s: cannot restart bzip2", path);
                br = BZ_OK;
            }
        }
        (void)BZ2_bzDecompressEnd(&b);
    } else if (out->len == 0 && raw.len <= out->max) {
        /* Plain: hand the bytes over rather than copy them. */
        size_t max = out->max;
        mrd_buf_release(out);
        *out = raw;
        out->max = max;
        mrd_buf_init(&raw, CLI_MAX_INPUT_FILE);
    } else {
        rc = mrd_buf_append(out, raw.data != NULL ? raw.data : "", raw.len, err);
    }
    if (rc != MRD_OK)
        mrd_err_prefix(err, "%s", path);
out:
    mrd_buf_release(&raw);
    return rc;
}

struct decode_ctx {
    struct mrd_buf out;
    struct mrd_err err;
    enum mrd_code rc;
};

static void flush(struct mrd_buf *out)
{
    if (out->len > 0)
        (void)fwrite(out->data, 1, out->len, stdout);
    mrd_buf_reset(out);
}

static int on_decode(const struct bgp_route *r, void *arg)
{
    struct decode_ctx *c = arg;
    c->rc = bgp_route_format_bgpdump(r, &c->out, &c->err);
    if (c->out.len >= CLI_BGP_OUT_FLUSH)
        flush(&c->out);
    return c->rc != MRD_OK;
}

/* The time of the first MRT record of path (0 when unreadable or empty):
 * only its first 4 bytes are decompressed. */
static uint32_t first_time(const char *path)
{
    unsigned char b[4] = {0};
    int n = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    n = (int)fread(b, 1, 3, f);
    (void)fclose(f);
    if (n == 3 && memcmp(b, "BZh", 3) == 0) {
        BZFILE *bz = BZ2_bzopen(path, "rb");
        n = bz != NULL ? BZ2_bzread(bz, b, 4) : 0;
        if (bz != NULL)
            BZ2_bzclose(bz);
    } else {
        gzFile gz = gzopen(path, "rb"); /* reads plain files as they are */
        n = gz != NULL ? gzread(gz, b, 4) : 0;
        if (gz != NULL)
            (void)gzclose(gz);
    }
    return n == 4 ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

struct timed_file {
    uint32_t t;
    int pos;
    char *path;
};

static int cmp_timed_file(const void *pa, const void *pb)
{
    const struct timed_file *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->pos - b->pos;
}

/* Orders files by the time of their first record (stable), so that a RIB
 * dump and update logs given in any order are read as time went. */
static void sort_by_time(char **files, int n)
{
    struct timed_file *tf = mrd_calloc((size_t)n + 1, sizeof(*tf));
    if (tf == NULL)
        return; /* the given order is still a valid order */
    for (int i = 0; i < n; i++) {
        tf[i].t = first_time(files[i]);
        tf[i].pos = i;
        tf[i].path = files[i];
    }
    qsort(tf, (size_t)n, sizeof(*tf), cmp_timed_file);
    for (int i = 0; i < n; i++)
        files[i] = tf[i].path;
    mrd_free(tf);
}

/* Maps path when it is a plain (uncompressed) regular file, so the
 * decoder reads the page cache directly: no copy, and the pages come in
 * with the mapping. false (and nothing mapped) otherwise: read_mrt then
 * reads it, or says what is wrong. */
static bool map_plain(const char *path, const uint8_t **ret, size_t *ret_len)
{
    struct stat sb;
    unsigned char magic[3];
    void *m;
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    bool ok = false;

    if (fd < 0)
        return false;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 3 &&
        (uint64_t)sb.st_size <= CLI_MAX_INPUT_FILE && pread(fd, magic, 3, 0) == 3 &&
        !(magic[0] == 0x1f && magic[1] == 0x8b) && memcmp(magic, "BZh", 3) != 0) {
        m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m != MAP_FAILED) {
            *ret = m;
            *ret_len = (size_t)sb.st_size;
            ok = true;
        }
    }
    (void)close(fd);
    return ok;
}

/* Decodes every file; fn sees each route. */
static int each_route(char **files, int n, bgp_route_fn fn, void *ctx, enum mrd_code *cb_rc)
{
    struct mrd_err err = {0};
    struct bgp_mrt *mrt = NULL;
    struct bgp_bmp *bmp = NULL;
    int ret = CLI_EXIT_USAGE;

    for (int i = 0; i < n; i++) {
        struct mrd_buf data;
        enum mrd_code rc = MRD_OK;
        const uint8_t *map = NULL;
        size_t map_len = 0;
        mrd_buf_init(&data, CLI_BGP_MAX_MRT);
        if (!map_plain(files[i], &map, &map_len))
            rc = read_mrt(files[i], &data, &err);
        /* Each file starts afresh: its own PEER_INDEX_TABLE. */
        bgp_mrt_free(mrt);
        mrt = NULL;
        bgp_bmp_free(bmp);
        bmp = NULL;
        if (rc == MRD_OK) {
            const uint8_t *in = map != NULL ? map : (const uint8_t *)data.data;
            size_t in_len = map != NULL ? map_len : data.len;
            if (bgp_bmp_sniff(in, in_len)) {
                /* a captured BMP stream (RFC 7854) */
                rc = bgp_bmp_new(&bmp, &err);
                if (rc == MRD_OK)
                    rc = bgp_bmp_decode_all(bmp, in, in_len, 0, fn, ctx, &err);
            } else {
                rc = bgp_mrt_new(&mrt, &err);
                if (rc == MRD_OK)
                    rc = bgp_mrt_decode(mrt, in, in_len, 0, fn, ctx, &err);
            }
        }
        if (map != NULL)
            (void)munmap((void *)(uintptr_t)map, map_len);
        mrd_buf_release(&data);
        if (rc != MRD_OK) {
            cli_errorf("bgp", "%s: %s", files[i], err.msg);
            goto out;
        }
        if (*cb_rc != MRD_OK)
            goto out;
    }
    ret = CLI_EXIT_OK;
out:
    bgp_mrt_free(mrt);
    bgp_bmp_free(bmp);
    return ret;
}

static int do_decode(int argc, char **argv)
{
    struct decode_ctx c = {.rc = MRD_OK};
    int ret;

    if (argc < 1)
        return cli_usage_error(&cli_verb_bgp, "decode needs at least one FILE");
    mrd_buf_init(&c.out, 2 * CLI_BGP_OUT_FLUSH);
    ret = each_route(argv, argc, on_decode, &c, &c.rc);
    flush(&c.out);
    if (c.rc != MRD_OK)
        cli_errorf("bgp", "%s", c.err.msg);
    mrd_buf_release(&c.out);
    return ret;
}

/* One output line and the time it sorts by. */
struct out_line {
    uint32_t t;
    size_t seq;
    char *text;
};

struct scan_ctx {
    struct bgp_scan *scan;
    struct bgp_detect *det;
    struct mrd_err err;
    enum mrd_code rc;
    bool all, json;
    size_t invalid, events;
    json_t *stix, *seen; /* --stix: the bundle's objects, SCO ids already in it */
    struct mrd_buf line;
    struct out_line *out;
    size_t nout, capout;
};

static int on_scan(const struct bgp_route *r, void *arg)
{
    struct scan_ctx *c = arg;
    /* Each side's memory reads are asked for first and happen while the
     * other side works (both wait on cache misses in large tables). */
    bgp_scan_prefetch(c->scan, r);
    if (c->det != NULL) {
        bgp_detect_prefetch(c->det, r);
        c->rc = bgp_detect_route(c->det, r, &c->err);
    }
    if (c->rc == MRD_OK)
        c->rc = bgp_scan_route(c->scan, r, &c->err);
    return c->rc != MRD_OK;
}

/* Keeps c->line (or j, with --json) as an output line sorting at t. */
static void keep_line(struct scan_ctx *c, uint32_t t, json_t *j)
{
    char *text;
    if (j != NULL) {
        text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    } else {
        text = mrd_strndup(c->line.data != NULL ? c->line.data : "", c->line.len);
    }
    if (text == NULL ||
        mrd_array_grow(&c->out, c->nout, &c->capout, sizeof(*c->out), 256) != MRD_OK) {
        free(text); /* json_dumps and mrd_strndup both allocate with malloc */
        c->rc = mrd_err_set(&c->err, MRD_E_NOMEM, "scan: out of memory");
        return;
    }
    c->out[c->nout].t = t;
    c->out[c->nout].seq = c->nout;
    c->out[c->nout++].text = text;
}

static int cmp_out_line(const void *pa, const void *pb)
{
    const struct out_line *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void put_time(struct mrd_buf *b, bool ended, uint32_t t)
{
    if (ended)
        (void)mrd_buf_printf(b, NULL, "|%u", t);
    else
        (void)mrd_buf_puts(b, "|", NULL);
}

static void keep_event(const struct bgp_event *ev, void *arg)
{
    struct scan_ctx *c = arg;
    struct mrd_buf *b = &c->line;

    c->events++;
    if (c->stix != NULL && c->rc == MRD_OK)
        c->rc = bgp_event_stix(ev, c->stix, c->seen, &c->err);
    if (c->json) {
        json_t *j = NULL;
        if (bgp_event_json(ev, &j, &c->err) == MRD_OK)
            keep_line(c, ev->first_seen, j);
        json_decref(j);
        return;
    }
    mrd_buf_reset(b);
    (void)mrd_buf_puts(b, bgp_event_kind_name(ev->kind), NULL);
    if (ev->kind == BGP_EV_HIJACK || ev->kind == BGP_EV_LEAK) {
        (void)mrd_buf_putc(b, '|', NULL);
        (void)bgp_prefix_format(&ev->prefix, b, NULL);
        (void)mrd_buf_putc(b, '|', NULL);
        (void)bgp_aspath_format(ev->path, b, NULL);
        (void)mrd_buf_printf(b, NULL, "|%u|%u|%u", ev->peer_as, ev->first_seen, ev->last_seen);
    }
    if (ev->kind == BGP_EV_HIJACK) {
        (void)mrd_buf_printf(b, NULL, "|%s|", ev->type);
        if (ev->has_hijacker)
            (void)mrd_buf_printf(b, NULL, "%u", ev->hijacker_as);
        put_time(b, ev->ended, ev->ended_at);
    } else if (ev->kind == BGP_EV_LEAK) {
        (void)mrd_buf_printf(b, NULL, "|%u|%s", ev->leak.leaker_as,
                             bgp_leak_reason_name(ev->leak.reason));
        put_time(b, ev->ended, ev->ended_at);
    } else if (ev->kind == BGP_EV_OUTAGE) {
        (void)mrd_buf_printf(b, NULL, "|%s|%u|%u|%zu|%zu", ev->group, ev->first_seen, ev->last_seen,
                             ev->visible, ev->baseline);
        put_time(b, ev->ended, ev->ended_at);
    } else {
        (void)mrd_buf_printf(b, NULL, "|%s|%u|%zu|%zu", ev->group, ev->first_seen, ev->visible,
                             ev->baseline);
    }
    keep_line(c, ev->first_seen, NULL);
}

static void print_event(const struct bgp_rov_event *ev, void *arg)
{
    struct scan_ctx *c = arg;
    if (ev->rov == BGP_ROV_INVALID)
        c->invalid++;
    if (!c->all && ev->rov != BGP_ROV_INVALID)
        return;
    if (c->json) {
        json_t *j = NULL;
        if (bgp_rov_event_json(ev, &j, &c->err) == MRD_OK)
            keep_line(c, ev->first_seen, j);
        json_decref(j);
        return;
    }
    mrd_buf_reset(&c->line);
    (void)mrd_buf_puts(&c->line, "rov|", NULL);
    (void)bgp_prefix_format(&ev->prefix, &c->line, NULL);
    (void)mrd_buf_putc(&c->line, '|', NULL);
    (void)bgp_aspath_format(ev->path, &c->line, NULL);
    (void)mrd_buf_printf(&c->line, NULL, "|%u|%u|%u|%s|%s", ev->peer_as, ev->first_seen,
                         ev->last_seen, bgp_rov_name(ev->rov), bgp_rov_reason_name(ev->reason));
    keep_line(c, ev->first_seen, NULL);
}

/* Reads path (at most max bytes) for one of the inputs. */
static enum mrd_code read_option_file(const char *verb, const char *path, size_t max,
                                      struct mrd_buf *out)
{
    struct mrd_err err = {0};
    if (cli_read_file(path, max, out, &err) != MRD_OK) {
        cli_errorf(verb, "%s: %s", path, err.msg);
        return err.code != MRD_OK ? err.code : MRD_E_IO;
    }
    return MRD_OK;
}

/* --timeout S: 1..CLI_BGP_MAX_TIMEOUT seconds. */
static bool parse_timeout(const char *s, uint64_t *ret)
{
    return mrd_str_to_u64(s, strlen(s), CLI_BGP_MAX_TIMEOUT, ret, NULL) == MRD_OK && *ret > 0;
}

void cli_bgp_inputs_release(struct cli_bgp_inputs *in)
{
    bgp_asrel_free(in->rel);
    bgp_config_free(in->cfg);
    bgp_vrps_free(in->vrps);
    memset(in, 0, sizeof(*in));
}

int cli_bgp_inputs_load(const char *verb, const char *vrp_path, const char *cfg_path,
                        const char *rel_path, int64_t now, struct cli_bgp_inputs *in)
{
    struct mrd_err err = {0};
    struct mrd_buf vbuf, cbuf, rbuf;
    int ret = CLI_EXIT_USAGE;

    memset(in, 0, sizeof(*in));
    mrd_buf_init(&vbuf, CLI_BGP_MAX_VRPS);
    mrd_buf_init(&cbuf, CLI_BGP_MAX_CONFIG);
    mrd_buf_init(&rbuf, CLI_BGP_MAX_ASREL);
    if (vrp_path != NULL) {
        if (read_option_file(verb, vrp_path, CLI_BGP_MAX_VRPS, &vbuf) != MRD_OK)
            goto out;
        if (bgp_vrps_new(&in->vrps, &err) != MRD_OK ||
            bgp_vrps_parse(in->vrps, vbuf.data != NULL ? vbuf.data : "", vbuf.len, now, &err) !=
                MRD_OK) {
            cli_errorf(verb, "%s: %s", vrp_path, err.msg);
            goto out;
        }
        bgp_vrps_finish(in->vrps);
    }
    if (cfg_path != NULL) {
        if (read_option_file(verb, cfg_path, CLI_BGP_MAX_CONFIG, &cbuf) != MRD_OK)
            goto out;
        if (bgp_config_parse(cbuf.data != NULL ? cbuf.data : "", cbuf.len, &in->cfg, &err) !=
            MRD_OK) {
            cli_errorf(verb, "%s: %s", cfg_path, err.msg);
            goto out;
        }
    }
    if (rel_path != NULL) {
        if (read_option_file(verb, rel_path, CLI_BGP_MAX_ASREL, &rbuf) != MRD_OK)
            goto out;
        if (bgp_asrel_parse(rbuf.data != NULL ? rbuf.data : "", rbuf.len, &in->rel, &err) !=
            MRD_OK) {
            cli_errorf(verb, "%s: %s", rel_path, err.msg);
            goto out;
        }
    }
    ret = CLI_EXIT_OK;
out:
    if (ret != CLI_EXIT_OK)
        cli_bgp_inputs_release(in);
    mrd_buf_release(&vbuf);
    mrd_buf_release(&cbuf);
    mrd_buf_release(&rbuf);
    return ret;
}

static int do_scan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vrps", required_argument, NULL, 'v'},
        {"config", required_argument, NULL, 'c'},
        {"as-rel", required_argument, NULL, 'r'},
        {"rov-all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"now", required_argument, NULL, 'n'},
        {"stix", required_argument, NULL, 's'},
        {"tlp", required_argument, NULL, 't'},
        {"rtr", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    struct scan_ctx c = {.rc = MRD_OK};
    const char *rtr = NULL;
    uint64_t timeout = CLI_BGP_RTR_TIMEOUT;
    const char *stix_path = NULL;
    enum policy_tlp tlp = POLICY_TLP_AMBER;
    bool lines;
    struct mrd_err err = {0};
    struct cli_bgp_inputs in = {0};
    const char *vrp_path = NULL, *cfg_path = NULL, *rel_path = NULL;
    int64_t now = (int64_t)time(NULL);
    int opt, ret = CLI_EXIT_USAGE;

    mrd_buf_init(&c.line, 1024 * 1024);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        uint64_t v;
        switch (opt) {
        case 'v':
            vrp_path = optarg;
            break;
        case 'c':
            cfg_path = optarg;
            break;
        case 'r':
            rel_path = optarg;
            break;
        case 'a':
            c.all = true;
            break;
        case 's':
            stix_path = optarg;
            break;
        case 't':
            if (policy_tlp_parse(optarg, strlen(optarg), &tlp, &err) != MRD_OK) {
                ret = cli_usage_error(&cli_verb_bgp, "--tlp: %s", err.msg);
                goto out;
            }
            break;
        case 'j':
            c.json = true;
            break;
        case 'R':
            rtr = optarg;
            break;
        case 'T':
            if (!parse_timeout(optarg, &timeout)) {
                ret = cli_usage_error(&cli_verb_bgp, "--timeout takes 1..%d seconds",
                                      CLI_BGP_MAX_TIMEOUT);
                goto out;
            }
            break;
        case 'n':
            if (mrd_str_to_u64(optarg, strlen(optarg), INT64_MAX, &v, NULL) != MRD_OK) {
                ret = cli_usage_error(&cli_verb_bgp, "--now takes unix seconds");
                goto out;
            }
            now = (int64_t)v;
            break;
        default:
            ret = cli_usage_error(&cli_verb_bgp, "unknown option");
            goto out;
        }
    }
    if ((vrp_path == NULL) == (rtr == NULL) || optind >= argc) {
        ret = cli_usage_error(&cli_verb_bgp,
                              "scan needs --vrps FILE or --rtr HOST:PORT, and at least one INPUT");
        goto out;
    }
    if (cli_bgp_inputs_load("bgp", vrp_path, cfg_path, rel_path, now, &in) != CLI_EXIT_OK)
        goto out;
    if (rtr != NULL && bgp_rtr_fetch(rtr, 1, (int)timeout * 1000, &in.vrps, NULL, &err) != MRD_OK) {
        cli_errorf("bgp", "--rtr: %s", err.msg);
        goto out;
    }
    if (stix_path != NULL) {
        c.stix = json_array();
        c.seen = json_object();
        if (c.stix == NULL || c.seen == NULL || bgp_stix_definitions(c.stix, &err) != MRD_OK) {
            cli_errorf("bgp", "out of memory");
            goto out;
        }
    }
    if (bgp_scan_new(in.vrps, c.all, &c.scan, &err) != MRD_OK ||
        ((in.cfg != NULL || in.rel != NULL) &&
         bgp_detect_new(in.cfg, in.rel, in.vrps, &c.det, &err) != MRD_OK)) {
        cli_errorf("bgp", "%s", err.msg);
        goto out;
    }
    sort_by_time(argv + optind, argc - optind);
    /* one file at a time, so that each event names the file it came from */
    for (int i = optind; i < argc; i++) {
        if (c.det != NULL) {
            const char *base = strrchr(argv[i], '/');
            bgp_detect_source(c.det, base != NULL ? base + 1 : argv[i]);
        }
        ret = each_route(argv + i, 1, on_scan, &c, &c.rc);
        if (ret != CLI_EXIT_OK)
            break;
    }
    if (c.rc != MRD_OK) {
        cli_errorf("bgp", "%s", c.err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret != CLI_EXIT_OK)
        goto out;
    bgp_scan_each(c.scan, print_event, &c);
    if (c.det != NULL) {
        bgp_detect_finish(c.det);
        bgp_detect_each(c.det, keep_event, &c);
    }
    if (c.rc != MRD_OK) {
        cli_errorf("bgp", "%s", c.err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (stix_path != NULL && cli_write_alert_bundle("bgp", c.stix, stix_path, tlp) != CLI_EXIT_OK) {
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (c.nout > 1) /* c.out is NULL when nothing was found */
        qsort(c.out, c.nout, sizeof(*c.out), cmp_out_line);
    lines = stix_path == NULL || strcmp(stix_path, "-") != 0; /* else the bundle is the output */
    for (size_t i = 0; lines && i < c.nout; i++)
        printf("%s\n", c.out[i].text);
    ret = c.invalid > 0 || c.events > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    for (size_t i = 0; i < c.nout; i++)
        mrd_free(c.out[i].text);
    mrd_free(c.out);
    json_decref(c.stix);
    json_decref(c.seen);
    bgp_detect_free(c.det);
    bgp_scan_free(c.scan);
    cli_bgp_inputs_release(&in);
    mrd_buf_release(&c.line);
    return ret;
}

/* ---- `bgp rtr` ---- */

struct rtr_print {
    bool json;
    json_t *roas;
    struct mrd_buf line;
};

static void print_vrp(const struct bgp_vrp *v, void *arg)
{
    struct rtr_print *p = arg;
    mrd_buf_reset(&p->line);
    (void)bgp_prefix_format(&v->prefix, &p->line, NULL);
    if (p->json) {
        json_t *o = json_pack("{s:I, s:s%, s:i}", "asn", (json_int_t)v->asn, "prefix", p->line.data,
                              p->line.len, "maxLength", (int)v->max_len);
        if (o != NULL)
            (void)json_array_append_new(p->roas, o);
        return;
    }
    printf("AS%u,%.*s,%u\n", v->asn, (int)p->line.len, p->line.data, v->max_len);
}

/* Prints the feed's status and set: one JSON object, or a comment line and
 * CSV. */
static void print_feed(struct bgp_rtr_feed *feed, bool json)
{
    struct bgp_rtr_feed_status st;
    struct bgp_vrps *v = bgp_rtr_feed_vrps(feed);
    struct rtr_print p = {.json = json};
    json_t *j;

    bgp_rtr_feed_status(feed, &st);
    j = bgp_rtr_feed_status_json(&st, (int64_t)time(NULL));
    mrd_buf_init(&p.line, 256);
    if (json) {
        p.roas = json_array();
        bgp_vrps_each(v, print_vrp, &p);
        if (j != NULL && p.roas != NULL) {
            char *text;
            json_object_set(j, "roas", p.roas);
            text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
            if (text != NULL)
                printf("%s\n", text);
            free(text); /* json_dumps allocates with malloc */
        }
        json_decref(p.roas);
    } else if (st.rtr.has_data || st.rtr.expired) {
        printf("# %s version %u session %u serial %u: %zu VRPs%s (last %s query: +%zu -%zu); "
               "refresh %u retry %u expire %u\n",
               st.source, st.rtr.version, st.rtr.session, st.rtr.serial, bgp_vrps_count(v),
               st.rtr.expired ? ", expired" : "", st.rtr.last_was_reset ? "reset" : "serial",
               st.rtr.last_announced, st.rtr.last_withdrawn, st.rtr.refresh, st.rtr.retry,
               st.rtr.expire);
        bgp_vrps_each(v, print_vrp, &p);
    }
    (void)fflush(stdout);
    json_decref(j);
    mrd_buf_release(&p.line);
    bgp_vrps_free(v);
}

struct follow_ctx {
    bool json;
    pthread_mutex_t mu;
};

static void on_feed(struct bgp_rtr_feed *feed, void *arg)
{
    struct follow_ctx *f = arg;
    struct bgp_rtr_feed_status st;
    bgp_rtr_feed_status(feed, &st);
    pthread_mutex_lock(&f->mu);
    if (!st.connected && st.last_error[0] != '\0')
        cli_errorf("bgp", "%s: %s (failure %u; next attempt in %u s)", st.source, st.last_error,
                   st.failures, st.backoff);
    if (st.connected || st.rtr.expired || f->json)
        print_feed(feed, f->json);
    pthread_mutex_unlock(&f->mu);
}

static int do_rtr(int argc, char **argv)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"rtr-version", required_argument, NULL, 'V'},
        {"timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    bool follow = false, json = false;
    uint64_t version = 1, timeout = CLI_BGP_RTR_TIMEOUT;
    struct mrd_err err = {0};
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            follow = true;
            break;
        case 'j':
            json = true;
            break;
        case 'V':
            if (mrd_str_to_u64(optarg, strlen(optarg), 1, &version, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_bgp, "--rtr-version is 0 or 1");
            break;
        case 'T':
            if (!parse_timeout(optarg, &timeout))
                return cli_usage_error(&cli_verb_bgp, "--timeout takes 1..%d seconds",
                                       CLI_BGP_MAX_TIMEOUT);
            break;
        default:
            return cli_usage_error(&cli_verb_bgp, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cli_verb_bgp, "rtr needs one HOST:PORT");
    if (!follow) {
        struct bgp_vrps *v = NULL;
        struct bgp_rtr_status st;
        struct rtr_print p = {.json = json};
        if (bgp_rtr_fetch(argv[optind], (uint8_t)version, (int)timeout * 1000, &v, &st, &err) !=
            MRD_OK) {
            cli_errorf("bgp", "%s", err.msg);
            return CLI_EXIT_USAGE;
        }
        mrd_buf_init(&p.line, 256);
        if (json) {
            json_t *j =
                json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:[]}", "version", (int)st.version,
                          "session", (int)st.session, "serial", (json_int_t)st.serial, "vrps",
                          (json_int_t)st.count, "refresh", (json_int_t)st.refresh, "retry",
                          (json_int_t)st.retry, "expire", (json_int_t)st.expire, "roas");
            char *text;
            p.roas = json_object_get(j, "roas");
            bgp_vrps_each(v, print_vrp, &p);
            text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
            if (text != NULL)
                printf("%s\n", text);
            free(text); /* json_dumps allocates with malloc */
            json_decref(j);
        } else {
            printf("# rtr://%s version %u session %u serial %u: %zu VRPs; refresh %u retry %u "
                   "expire %u\n",
                   argv[optind], st.version, st.session, st.serial, st.count, st.refresh, st.retry,
                   st.expire);
            bgp_vrps_each(v, print_vrp, &p);
        }
        mrd_buf_release(&p.line);
        bgp_vrps_free(v);
        return CLI_EXIT_OK;
    }
    {
        struct follow_ctx f = {.json = json};
        struct bgp_rtr_feed *feed = NULL;
        sigset_t set;
        int sig = 0;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        /* Blocked before the thread starts, so only sigwait() sees them. */
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        pthread_mutex_init(&f.mu, NULL);
        if (bgp_rtr_feed_start(argv[optind], (uint8_t)version, on_feed, &f, &feed, &err) !=
            MRD_OK) {
            cli_errorf("bgp", "%s", err.msg);
            pthread_mutex_destroy(&f.mu);
            return CLI_EXIT_USAGE;
        }
        (void)sigwait(&set, &sig);
        bgp_rtr_feed_stop(feed);
        pthread_mutex_destroy(&f.mu);
    }
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_bgp, "missing subcommand");
    if (strcmp(argv[1], "decode") == 0)
        return do_decode(argc - 2, argv + 2);
    if (strcmp(argv[1], "scan") == 0)
        return do_scan(argc - 1, argv + 1);
    if (strcmp(argv[1], "rtr") == 0)
        return do_rtr(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_bgp, "unknown subcommand (decode, scan, rtr)");
}

/* The manual: usage and usage_rtr. */
static const char *bgp_usage(void)
{
    static char *text;
    struct mrd_buf b;

    if (text != NULL)
        return text;
    mrd_buf_init(&b, sizeof(usage) + sizeof(usage_rtr));
    if (mrd_buf_puts(&b, usage, NULL) != MRD_OK || mrd_buf_puts(&b, usage_rtr, NULL) != MRD_OK) {
        mrd_buf_release(&b);
        return usage;
    }
    text = b.data; /* kept for the process's life */
    return text;
}

const struct cli_verb cli_verb_bgp = {
    .name = "bgp",
    .summary = "decode MRT routing data, validate route origins (RFC 6811), fetch VRPs over RTR",
    .usage = usage,
    .usage_fn = bgp_usage,
    .run = run,
};
