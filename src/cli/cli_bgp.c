/*
 * cli_bgp.c: `meridian bgp decode|scan` over src/bgp/.
 *
 * This file reads the files (gzip and bzip2 are recognised by their magic
 * bytes, as collectors publish them) and prints; decoding, validation and
 * the per-route bookkeeping live in src/bgp/.
 */
#include <bzlib.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "bgp/bgp.h"
#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/str.h"

#define CLI_BGP_MAX_MRT ((size_t)4 * 1024 * 1024 * 1024) /* one decompressed MRT file */
#define CLI_BGP_MAX_VRPS ((size_t)512 * 1024 * 1024)     /* one VRP file */
#define CLI_BGP_OUT_FLUSH ((size_t)1 << 20)              /* output buffered before a write */

static const char usage[] =
    "usage: meridian bgp decode FILE...\n"
    "       meridian bgp scan --vrps FILE [--rov-all] [--json] [--now TIME] INPUT...\n"
    "\n"
    "Reads MRT files (RFC 6396: TABLE_DUMP_V2 RIB dumps and BGP4MP update logs,\n"
    "ADD-PATH forms included), plain, gzip- or bzip2-compressed.\n"
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
    "        are ignored) and prints the invalid ones, or all with --rov-all:\n"
    "          rov|prefix|as_path|peer_as|first_seen|last_seen|verdict|reason\n"
    "        With --json, one object per line: kind \"rov\", prefix, as_path\n"
    "        (a set is a nested array), origin_as, peer_as, first_seen,\n"
    "        last_seen, rov (valid, invalid, not-found) and reason (match,\n"
    "        not-covered, wrong-origin, too-specific, origin-none, as0).\n"
    "\n"
    "Exit status: 0 success (scan: no invalid route), 1 scan found an invalid\n"
    "route, 2 usage, unreadable or malformed input (the error names the file,\n"
    "the record offset and the RFC section).\n";

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

/* Decodes every file; fn sees each route. */
static int each_route(char **files, int n, bgp_route_fn fn, void *ctx, enum mrd_code *cb_rc)
{
    struct mrd_err err = {0};
    struct bgp_mrt *mrt = NULL;
    int ret = CLI_EXIT_USAGE;

    for (int i = 0; i < n; i++) {
        struct mrd_buf data;
        enum mrd_code rc;
        mrd_buf_init(&data, CLI_BGP_MAX_MRT);
        rc = read_mrt(files[i], &data, &err);
        /* Each file starts afresh: its own PEER_INDEX_TABLE. */
        bgp_mrt_free(mrt);
        mrt = NULL;
        if (rc == MRD_OK)
            rc = bgp_mrt_new(&mrt, &err);
        if (rc == MRD_OK)
            rc = bgp_mrt_decode(mrt, (const uint8_t *)data.data, data.len, 0, fn, ctx, &err);
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

struct scan_ctx {
    struct bgp_scan *scan;
    struct mrd_err err;
    enum mrd_code rc;
    bool all, json;
    size_t invalid;
    struct mrd_buf line;
};

static int on_scan(const struct bgp_route *r, void *arg)
{
    struct scan_ctx *c = arg;
    c->rc = bgp_scan_route(c->scan, r, &c->err);
    return c->rc != MRD_OK;
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
            (void)cli_print_json(j, JSON_COMPACT);
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
    printf("%.*s\n", (int)c->line.len, c->line.data);
}

static int do_scan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vrps", required_argument, NULL, 'v'},
        {"rov-all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"now", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct scan_ctx c = {.rc = MRD_OK};
    struct mrd_err err = {0};
    struct bgp_vrps *vrps = NULL;
    struct mrd_buf vbuf;
    const char *vrp_path = NULL;
    int64_t now = (int64_t)time(NULL);
    int opt, ret = CLI_EXIT_USAGE;

    mrd_buf_init(&vbuf, CLI_BGP_MAX_VRPS);
    mrd_buf_init(&c.line, 1024 * 1024);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        uint64_t v;
        switch (opt) {
        case 'v':
            vrp_path = optarg;
            break;
        case 'a':
            c.all = true;
            break;
        case 'j':
            c.json = true;
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
    if (vrp_path == NULL || optind >= argc) {
        ret = cli_usage_error(&cli_verb_bgp, "scan needs --vrps FILE and at least one INPUT");
        goto out;
    }
    if (cli_read_file(vrp_path, CLI_BGP_MAX_VRPS, &vbuf, &err) != MRD_OK ||
        bgp_vrps_new(&vrps, &err) != MRD_OK ||
        bgp_vrps_parse(vrps, vbuf.data, vbuf.len, now, &err) != MRD_OK) {
        cli_errorf("bgp", "%s: %s", vrp_path, err.msg);
        goto out;
    }
    bgp_vrps_finish(vrps);
    if (bgp_scan_new(vrps, &c.scan, &err) != MRD_OK) {
        cli_errorf("bgp", "%s", err.msg);
        goto out;
    }
    ret = each_route(argv + optind, argc - optind, on_scan, &c, &c.rc);
    if (c.rc != MRD_OK) {
        cli_errorf("bgp", "%s", c.err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret != CLI_EXIT_OK)
        goto out;
    bgp_scan_each(c.scan, print_event, &c);
    ret = c.invalid > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    bgp_scan_free(c.scan);
    bgp_vrps_free(vrps);
    mrd_buf_release(&vbuf);
    mrd_buf_release(&c.line);
    return ret;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_bgp, "missing subcommand");
    if (strcmp(argv[1], "decode") == 0)
        return do_decode(argc - 2, argv + 2);
    if (strcmp(argv[1], "scan") == 0)
        return do_scan(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_bgp, "unknown subcommand (decode, scan)");
}

const struct cli_verb cli_verb_bgp = {
    .name = "bgp",
    .summary = "decode MRT routing data and validate route origins (RFC 6811)",
    .usage = usage,
    .run = run,
};
