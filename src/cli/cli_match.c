/*
 * `meridian match`: scan logs for the active indicators of STIX files or
 * of the node's store.
 *
 * Parses the arguments, loads the indicators and runs the scan through
 * matchrun/ (matchrun.h: loading, worker threads, streams, hits, summary,
 * sightings), prints the load line and picks the exit code. --report
 * stores the sightings in the node exactly as `meridian import` would.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "matchrun/matchrun.h"
#include "pmatch/pmatch.h"

#define VERB "match"
#define CLI_REPORT_PATH_MAX 4096 /* --report: data dir and sightings file paths */
#define CLI_REPORT_COLL_MAX 512  /* --report: collection id or API-ROOT/ALIAS */

static const struct option long_opts[] = {
    {"indicators", required_argument, NULL, 'i'},
    {"data", required_argument, NULL, 'd'},
    {"collection", required_argument, NULL, 'c'},
    {"format", required_argument, NULL, 'f'},
    {"map", required_argument, NULL, 'm'},
    {"subdomains", no_argument, NULL, 's'},
    {"hits", required_argument, NULL, 'H'},
    {"sightings", required_argument, NULL, 'S'},
    {"identity", required_argument, NULL, 'I'},
    {"org", required_argument, NULL, 'o'},
    {"follow", no_argument, NULL, 'F'},
    {"threads", required_argument, NULL, 'j'},
    {"at", required_argument, NULL, 'a'},
    {"quiet", no_argument, NULL, 'q'},
    {"report", required_argument, NULL, 'R'},
    {"private", required_argument, NULL, 'P'},
    {"offer", required_argument, NULL, 'O'},
    {"reveal", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Diagnostics from matchrun/: "meridian match: LINE" on stderr. */
static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    cli_errorf(VERB, "%s", line);
}

/* --report: writes to path what the run adds to the sightings the node
 * already has (matchrun_report_write): the same sighting ids every run, one
 * identity per reporting sensor. */
static int report_prepare(const char *data_dir, const char *coll_arg, const struct matchrun_opts *o,
                          const struct matchrun_set *set, struct matchrun_result *res,
                          const char *path)
{
    struct store *st = NULL;
    struct store_collection coll;
    struct matchrun_sensor sensor;
    char node_id[STORE_META_VAL_MAX + 1];
    struct mrd_err err = {0};
    size_t changed = 0;
    int ret;

    memset(&sensor, 0, sizeof(sensor));
    sensor.name = o->org != NULL ? o->org : "local";
    ret = cli_data_open(VERB, cli_data_dir(data_dir), &st);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_collection(VERB, st, coll_arg, &coll);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (o->identity != NULL)
        mrd_strlcpy(sensor.identity, o->identity, sizeof(sensor.identity));
    else if (store_meta_get(st, "node_id", node_id, sizeof(node_id), &err) != MRD_OK ||
             matchrun_sensor_identity(node_id, sensor.name, sensor.identity, &err) != MRD_OK) {
        cli_errorf(VERB, "--report: %s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (matchrun_report_write(set, res, st, coll.key, &sensor, mrd_time_now_usec(), path, &changed,
                              &err) != MRD_OK) {
        cli_errorf(VERB, "--report: %s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (!o->quiet)
        fprintf(stderr, "meridian match: --report: %zu sighting%s new or updated as %s\n", changed,
                changed == 1 ? "" : "s", MRD_ESC(sensor.identity));
out:
    store_close(st);
    return ret;
}

/* --private PEER: the partner side of private matching (pmatch.h) with
 * the peer's URL and credential from the peer table. */
static int run_private(const char *data_dir, const char *peer_name, const char *offer, bool reveal,
                       bool report, const struct matchrun_opts *mo)
{
    struct fed_state *fs = NULL;
    struct fed_peer peer;
    struct pmatch_client_opts o;
    struct pmatch_client_stats stats;
    struct matchrun_sensor sensor;
    char node_id[STORE_META_VAL_MAX + 1], report_url[FED_OBJECTS_URL_MAX];
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret = CLI_EXIT_USAGE;

    memset(&o, 0, sizeof(o));
    if (fed_global_init(&err) != MRD_OK ||
        fed_state_open(cli_data_dir(data_dir), &fs, &err) != MRD_OK ||
        fed_peer_get(fs, peer_name, &peer, NULL, &err) != MRD_OK) {
        cli_errorf(VERB, "--private %s: %s", MRD_ESC(peer_name), err.msg);
        goto out;
    }
    o.url = peer.url;
    o.token = peer.token;
    o.ca_file = peer.ca_file;
    o.offer = offer;
    o.fmt = mo->fmt;
    o.inputs = mo->inputs;
    o.ninputs = mo->ninputs;
    o.threads = mo->threads;
    o.out = stdout;
    o.log = mo->quiet ? NULL : log_line;
    o.reveal = reveal;
    if (report) {
        /* the peer's TAXII collection (peer add --api-root --collection),
         * as a push would post to it; the identity as `match --report` makes it */
        memset(&sensor, 0, sizeof(sensor));
        sensor.name = mo->org != NULL ? mo->org : "local";
        if (mo->identity != NULL)
            mrd_strlcpy(sensor.identity, mo->identity, sizeof(sensor.identity));
        else if (cli_data_open(VERB, cli_data_dir(data_dir), &st) != CLI_EXIT_OK ||
                 store_meta_get(st, "node_id", node_id, sizeof(node_id), &err) != MRD_OK ||
                 matchrun_sensor_identity(node_id, sensor.name, sensor.identity, &err) != MRD_OK) {
            cli_errorf(VERB, "--report: %s", err.msg[0] != '\0' ? err.msg : "no node id");
            goto out;
        }
        if (fed_peer_objects_url(&peer, report_url, sizeof(report_url), &err) != MRD_OK) {
            cli_errorf(VERB, "--report: peer %s: %s", MRD_ESC(peer_name), err.msg);
            goto out;
        }
        o.report_url = report_url;
        o.identity = sensor.identity;
        o.org = sensor.name;
    }
    if (pmatch_client_run(&o, &stats, &err) != MRD_OK) {
        cli_errorf(VERB, "--private %s: %s", MRD_ESC(peer_name), err.msg);
        goto out;
    }
    ret = CLI_EXIT_OK;
out:
    sodium_memzero(&peer, sizeof(peer));
    fed_state_close(fs);
    store_close(st);
    return ret;
}

static const char *usage(void);

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* ---- main ---- */

static int run(int argc, char **argv)
{
    struct matchrun_opts o;
    struct matchrun_set set;
    struct mrd_err err = {0};
    const char **ind_files = NULL, **inputs = NULL;
    size_t nind_files = 0;
    const char *data_dir = NULL, *report_coll = NULL, *collection = NULL;
    const char *private_peer = NULL, *offer = NULL;
    char report_tmp[CLI_REPORT_PATH_MAX] = "";
    const char *report_path = NULL;
    struct matchrun_result result;
    int rc = CLI_EXIT_USAGE, c;
    int64_t t0 = mrd_time_now_usec(), t1;
    /* With --private, --report takes no COLLECTION: the sightings go to the peer. */
    struct option opts[sizeof(long_opts) / sizeof(long_opts[0])];
    bool reveal = false, private_report = false;

    memcpy(opts, long_opts, sizeof(opts));
    for (int k = 1; k < argc; k++)
        if (strcmp(argv[k], "--") == 0)
            break;
        else if (strcmp(argv[k], "--private") == 0 || strncmp(argv[k], "--private=", 10) == 0)
            for (size_t q = 0; opts[q].name != NULL; q++)
                if (strcmp(opts[q].name, "report") == 0) {
                    opts[q].has_arg = no_argument;
                    opts[q].val = 'r';
                }

    matchrun_set_init(&set);
    memset(&result, 0, sizeof(result));
    memset(&o, 0, sizeof(o));
    o.fmt = MATCH_FMT_AUTO;
    o.now = t0;
    o.log.fn = log_line;
    match_reader_init(&o.maps, MATCH_FMT_AUTO);
    ind_files = mrd_calloc((size_t)argc, sizeof(*ind_files));
    inputs = mrd_calloc((size_t)argc, sizeof(*inputs));
    if (ind_files == NULL || inputs == NULL) {
        cli_errorf(VERB, "out of memory");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:d:c:f:m:sH:S:I:o:Fj:a:qR:P:O:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            ind_files[nind_files++] = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'c':
            collection = optarg;
            break;
        case 'f':
            if (!match_format_parse(optarg, &o.fmt)) {
                rc = cli_usage_error(&cli_verb_match, "--format: unknown format '%s'", optarg);
                goto out;
            }
            break;
        case 'm':
            if (match_reader_map(&o.maps, optarg, &err) != MRD_OK) {
                rc = cli_usage_error(&cli_verb_match, "%s", err.msg);
                goto out;
            }
            break;
        case 's':
            o.flags |= MATCH_F_SUBDOMAINS;
            break;
        case 'H':
            o.hits_path = optarg;
            break;
        case 'S':
            o.sightings_path = optarg;
            break;
        case 'I':
            o.identity = optarg;
            break;
        case 'o':
            o.org = optarg;
            break;
        case 'F':
            o.follow = true;
            break;
        case 'j': {
            uint64_t v;
            if (mrd_str_to_u64(optarg, strlen(optarg), 256, &v, NULL) != MRD_OK || v == 0) {
                rc = cli_usage_error(&cli_verb_match, "--threads: expected 1..256");
                goto out;
            }
            o.threads = (unsigned)v;
            break;
        }
        case 'a': {
            struct mrd_time t;
            if (mrd_time_parse(optarg, strlen(optarg), &t, &err) != MRD_OK) {
                rc = cli_usage_error(&cli_verb_match, "--at: %s", err.msg);
                goto out;
            }
            o.now = mrd_time_to_usec(&t);
            break;
        }
        case 'q':
            o.quiet = true;
            break;
        case 'R':
            report_coll = optarg;
            break;
        case 'P':
            private_peer = optarg;
            break;
        case 'O':
            offer = optarg;
            break;
        case 'V':
            reveal = true;
            break;
        case 'r':
            private_report = true;
            break;
        case 'h':
            fputs(usage(), stdout);
            rc = CLI_EXIT_OK;
            goto out;
        default:
            rc = cli_usage_error(&cli_verb_match, "unknown option");
            goto out;
        }
    }
    if (o.identity != NULL &&
        (strncmp(o.identity, "identity--", 10) != 0 || strlen(o.identity) != 46)) {
        rc = cli_usage_error(&cli_verb_match, "--identity: expected identity--<uuid>");
        goto out;
    }
    if (private_peer != NULL) {
        if (nind_files > 0 || collection != NULL || report_coll != NULL || o.follow ||
            optind >= argc) {
            rc = cli_usage_error(&cli_verb_match, "--private PEER takes LOG files, and not "
                                                  "--indicators, --collection, --report or "
                                                  "--follow");
            goto out;
        }
        for (int k = optind; k < argc; k++)
            inputs[o.ninputs++] = argv[k];
        o.inputs = inputs;
        rc = run_private(data_dir, private_peer, offer, reveal, private_report, &o);
        goto out;
    }
    if (offer != NULL || reveal) {
        rc = cli_usage_error(&cli_verb_match, "--offer and --reveal need --private PEER");
        goto out;
    }
    if (nind_files == 0 && data_dir == NULL) {
        rc = cli_usage_error(&cli_verb_match, "give --indicators FILE or --data DIR");
        goto out;
    }
    if (report_coll != NULL && o.follow) {
        rc = cli_usage_error(&cli_verb_match, "--report needs a scan that ends: not with --follow");
        goto out;
    }
    if (report_coll != NULL &&
        (strlen(cli_data_dir(data_dir)) > CLI_REPORT_PATH_MAX - 64 ||
         strlen(report_coll) >= CLI_REPORT_COLL_MAX ||
         (o.sightings_path != NULL && strlen(o.sightings_path) >= CLI_REPORT_PATH_MAX))) {
        rc = cli_usage_error(&cli_verb_match, "--report: data directory, collection or "
                                              "--sightings path too long");
        goto out;
    }
    if (report_coll != NULL) {
        /* The sightings go through a file so that reporting is exactly an
         * import: validated, signed as this node's, stored durably. They
         * are written after the run, merged with what the node has. */
        if (o.sightings_path == NULL) {
            (void)snprintf(report_tmp, sizeof(report_tmp), "%s/.match-report-%ld.json",
                           cli_data_dir(data_dir), (long)getpid());
            report_path = report_tmp;
        } else {
            report_path = o.sightings_path;
        }
        o.sightings_path = NULL;
        o.result = &result;
    }
    for (int k = optind; k < argc; k++)
        inputs[o.ninputs++] = argv[k];
    o.inputs = inputs;
    o.out = o.quiet ? NULL : stdout;
    if (o.follow) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        o.stop = &stop_flag;
    }

    rc = CLI_EXIT_USAGE;
    if (matchrun_set_begin(&set, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < nind_files; i++) {
        if (matchrun_load_file(&set, ind_files[i], o.now, &o.log, &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            goto out;
        }
    }
    if (data_dir != NULL &&
        matchrun_load_store(&set, data_dir, collection, o.now, &o.log, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        goto out;
    }
    if (matchrun_set_build(&set, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        goto out;
    }
    t1 = mrd_time_now_usec();
    if (!o.quiet)
        fprintf(stderr,
                "meridian match: %" PRIu64 " active indicators (%zu index keys) in %.2f s; "
                "%" PRIu64 " by the pattern evaluator; skipped %" PRIu64 " inactive, %" PRIu64
                " not STIX patterns, %" PRIu64 " invalid patterns, %" PRIu64 " bad values\n",
                set.stats.active, match_index_size(set.idx), (double)(t1 - t0) / 1e6,
                set.stats.evaluated, set.stats.inactive, set.stats.not_stix, set.stats.unsupported,
                set.stats.bad_values);
    rc = matchrun_run(&set, &o, &err) == MRD_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (rc == CLI_EXIT_OK && report_coll != NULL)
        rc = report_prepare(data_dir, report_coll, &o, &set, &result, report_path);
    if (rc == CLI_EXIT_OK && report_coll != NULL) {
        /* import's argv is mutable (getopt may permute it): copies, not casts */
        static char a0[] = "import", a1[] = "--data", a3[] = "--collection";
        char dir[CLI_REPORT_PATH_MAX], coll[CLI_REPORT_COLL_MAX], path[CLI_REPORT_PATH_MAX];
        char *imp[] = {a0, a1, dir, a3, coll, path, NULL};

        mrd_strlcpy(dir, cli_data_dir(data_dir), sizeof(dir));
        mrd_strlcpy(coll, report_coll, sizeof(coll));
        mrd_strlcpy(path, report_path, sizeof(path));
        rc = cli_verb_import.run(6, imp);
    }
out:
    if (report_tmp[0] != '\0')
        (void)unlink(report_tmp);
    matchrun_result_release(&result);
    matchrun_set_release(&set);
    mrd_free(ind_files);
    mrd_free(inputs);
    return rc;
}

/* The manual, in three literals (C17 guarantees 4095 bytes per literal). */
static const char usage_scan[] =
    "usage: meridian match (--indicators FILE... | --data DIR [--collection ID])\n"
    "                      [--format auto|combined|zeek|csv|jsonl|eve] [--map COL=TYPE]...\n"
    "                      [--subdomains] [--hits FILE] [--sightings FILE]\n"
    "                      [--identity identity--UUID] [--org NAME] [--follow]\n"
    "                      [--threads N] [--at TIME] [--quiet]\n"
    "                      [--report COLLECTION [--data DIR]] [LOG...]\n"
    "       meridian match --private PEER [--offer NAME] [--data DIR]\n"
    "                      [--reveal | --report [--org NAME] [--identity ID]]\n"
    "                      [--format F] [--threads N] [--quiet] LOG...\n"
    "\n"
    "Compiles the active indicators (not revoked, valid_from <= now < valid_until;\n"
    "--at TIME sets now) of STIX bundles, envelopes or object files, or of the\n"
    "node's store, into an index, then scans each LOG (\"-\" or none: stdin).\n"
    "\n"
    "Indicators: patterns made of '=' / IN / ISSUBSET comparisons on\n"
    "ipv4-addr:value and ipv6-addr:value (addresses or CIDR), domain-name:value,\n"
    "url:value, email-addr:value and file:hashes.(MD5|'SHA-1'|'SHA-256'|'SHA-512')\n"
    "joined by OR go into the index. Other valid patterns (AND, LIKE, MATCHES,\n"
    "qualifiers, other paths) are evaluated by the pattern evaluator on an\n"
    "observation built from each parsed line (slower); invalid ones are named\n"
    "and skipped.\n"
    "\n"
    "Formats (--format auto detects per file): combined (nginx/Apache access log:\n"
    "client, request target incl. absolute-URI proxy requests and CONNECT,\n"
    "referer), zeek (TSV with #fields: *_h addresses, query, answers, host...),\n"
    "csv (header row; columns by name: src/dst/ip, host/domain/query,\n"
    "url/referer, email, md5/sha1/sha256/hash, ts/time/timestamp, or the last\n"
    "word of the name: file_sha256, srcIP, dst_host, request_url; the other\n"
    "columns by their values in the first 20 rows: addresses, domains, URLs,\n"
    "e-mail addresses, hex hashes; the summary lists what each column was\n"
    "read as and which were not scanned), jsonl (ECS\n"
    "names: source.ip, destination.ip, url.full, dns.question.name,\n"
    "dns.answers.data, file.hash.sha256, @timestamp...). --map COL=TYPE maps a\n"
    "column or JSON path to ip, host, hosts, url, email, hash, time or none.\n"
    "eve (Suricata EVE JSON): an alert of a rule from `meridian export --format\n"
    "suricata` counts for the indicator its metadata names (stix_id); dns, http\n"
    "(hostname + url), tls (sni) and fileinfo records by value; flow records by\n"
    "address. A Zeek intel.log (a zeek file with seen.indicator) counts for the\n"
    "indicators its sources name (Meridian's intel files put the STIX id there),\n"
    "else for seen.indicator, never for the connection's other addresses.\n"
    "Malformed lines are counted and skipped, never fatal.\n"
    "\n"
    "Matching: IP addresses in any textual form, CIDR ranges by prefix; hosts\n"
    "case-insensitive, trailing dot ignored; domains exact unless --subdomains,\n"
    "which also matches a.b.evil.com (never notevil.com or evil.com.cdn.net);\n"
    "URLs after scheme/host case and default-port normalisation, and a URL's\n"
    "host is also looked up as a domain or IP.\n"
    "\n";

static const char usage_output[] =
    "Output: --hits FILE writes one JSON object per (line, indicator):\n"
    "{\"file\",\"line\" (1-based physical line),\"indicator\",\"value\",\"field\"}.\n"
    "stdout gets a summary: per-file line counts (header, malformed, too long)\n"
    "and per-indicator counts with first/last seen from the log timestamps.\n"
    "--sightings FILE writes a STIX 2.1 bundle: the local identity (--identity,\n"
    "or a new one named --org, default \"local\") and one sighting per indicator\n"
    "hit (count, first_seen, last_seen, where_sighted_refs).\n"
    "--report COLLECTION stores those sightings (and the identity) in the\n"
    "node's collection (uuid or API-ROOT/ALIAS) exactly as 'meridian import'\n"
    "would: validated, signed by this node, and from there they travel to the\n"
    "indicator's creator through federation. Not with --follow. A re-run is\n"
    "idempotent: one identity per sensor (node id and --org, created once),\n"
    "one sighting id per (identity, indicator), new versions with counts\n"
    "merged per log (a log is known by its first 4 KiB: the same bytes add\n"
    "nothing, new lines add their hits once, another log adds its own).\n"
    "--follow keeps reading growing files (rotation and truncation included)\n"
    "and prints hits as they appear until interrupted (SIGINT/SIGTERM).\n"
    "--threads N sets the workers (default: one per core).\n"
    "\n";

static const char usage_private[] =
    "Private matching: --private PEER checks the LOG files against a set the\n"
    "peer (from 'meridian peer add', in --data DIR) offers without showing it\n"
    "('meridian privacy offer' there): the values are read as above and\n"
    "deduplicated, each is blinded (RFC 9497 OPRF, ristretto255-SHA512), the\n"
    "peer evaluates the blinded elements, and the results are compared with\n"
    "the peer's published outputs here. The peer never sees a value, only\n"
    "how many were checked (its daily budget; past it: HTTP 429). Exact\n"
    "values only: the peer's CIDR ranges, subdomain matching and patterns\n"
    "the index cannot express take no part. --offer NAME picks an offer\n"
    "when the peer makes more than one. stdout: one JSON object per matched\n"
    "value, {\"file\",\"line\",\"field\",\"value\"}, at its first place;\n"
    "stderr: counts and timings. See docs/privacy.md.\n"
    "--reveal asks an offer made with 'privacy offer --reveal' for the indicators\n"
    "behind the matches (proved by the 64-byte OPRF outputs, which only a holder\n"
    "of the value has); each line gets \"indicators\": the STIX indicators the peer's\n"
    "policy lets this node read, minimised as for any read. --report also POSTs\n"
    "one sighting per revealed indicator (count: the log fields holding its\n"
    "values; where_sighted_refs: the identity of --org, default \"local\", or\n"
    "--identity) to the peer's TAXII collection of 'peer add' (a write grant).\n"
    "\n"
    "Exit: 0 done (hits or not), 2 usage, unreadable input or bad indicators.\n";

static const char *usage(void)
{
    static char text[sizeof(usage_scan) + sizeof(usage_output) + sizeof(usage_private)];

    if (text[0] == '\0')
        (void)snprintf(text, sizeof(text), "%s%s%s", usage_scan, usage_output, usage_private);
    return text;
}

const struct cli_verb cli_verb_match = {
    .name = "match",
    .summary = "scan logs (nginx, Zeek, CSV, JSON lines, Suricata EVE) for indicators; emit "
               "sightings",
    .usage_fn = usage,
    .run = run,
};
