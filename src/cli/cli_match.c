/*
 * `meridian match`: scan logs for the active indicators of STIX files.
 *
 * Load: each --indicators file is mapped and walked with match_stix_each()
 * (no DOM: a million indicators fit in about a second and a few hundred
 * MB), while a second thread touches its pages just ahead of the parser;
 * the active indicators' simple patterns go into one match_index.
 * Scan: regular files are mapped, split into chunks at line boundaries and
 * scanned by one worker per core (match_run.c); stdin, pipes and --follow
 * are read sequentially in blocks. Output: hits as JSON lines, a summary on
 * stdout, STIX sightings.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/match_run.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"

#define VERB "match"
#define CLI_REPORT_PATH_MAX 4096             /* --report: data dir and sightings file paths */
#define CLI_REPORT_COLL_MAX 512              /* --report: collection id or API-ROOT/ALIAS */
#define MAX_INDICATOR_FILE ((size_t)4 << 30) /* one STIX file: 4 GiB */
#define MAX_WARNINGS 10                      /* per kind, then only counted */
#define DROP_EVERY ((size_t)32 << 20)        /* loaded bytes between MADV_DONTNEED calls */
#define BYTES_PER_INDICATOR 300              /* for sizing the index before loading */
#define TOUCH_AHEAD ((size_t)32 << 20)       /* how far the page toucher runs ahead of the parser */
#define TOUCH_STEP ((size_t)4 << 20)

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
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* ---- indicator loading ---- */

struct load_ctx {
    struct match_set *set;
    int64_t now;
    const char *file;
    uint64_t active, inactive, unsupported, bad_values, not_stix, evaluated;
    char scratch[MATCH_MAX_PATTERN];
    char pscratch[MATCH_MAX_PATTERN];
    uint32_t cur;
    bool cur_added;
    const char *map; /* the file being loaded, and how much of it was dropped */
    size_t dropped;
    atomic_size_t parsed; /* offset of the last indicator seen, for the toucher */
    struct mrd_err last;
};

/* Touches the pages of the mapped indicator file just ahead of the parser,
 * on the other core. The first touch of a mapped page costs microseconds
 * on a virtual machine (0.3 s for a 350 MB bundle), and the parser would
 * pay it on the critical path. The toucher only reads, stays at most
 * TOUCH_AHEAD bytes ahead (pages behind the parser are dropped, so RSS
 * stays bounded) and never goes back to pages the parser has passed. */
struct toucher {
    const char *map;
    size_t size;
    atomic_size_t *parsed;
    atomic_bool stop;
    pthread_t tid;
    bool started;
};

static void *touch_main(void *arg)
{
    struct toucher *t = arg;
    const volatile char *map = t->map;
    size_t off = 0;
    unsigned sum = 0;

    while (off < t->size && !atomic_load(&t->stop)) {
        size_t parsed = atomic_load(t->parsed), n;
        if (off < parsed)
            off = parsed & ~(size_t)4095;
        if (off >= parsed + TOUCH_AHEAD) {
            usleep(1000); /* the parser needs ~0.1 s for the window */
            continue;
        }
        n = t->size - off < TOUCH_STEP ? t->size - off : TOUCH_STEP;
#if defined(MADV_POPULATE_READ)
        (void)madvise((void *)(uintptr_t)(t->map + off), n, MADV_POPULATE_READ);
#endif
        for (size_t i = 0; i < n; i += 4096)
            sum += (unsigned char)map[off + i];
        off += n;
    }
    return (void *)(uintptr_t)sum;
}

static enum mrd_code add_pair(void *vctx, enum match_type type, const char *v, size_t n,
                              struct mrd_err *err)
{
    struct load_ctx *lc = vctx;
    struct mrd_err e = {0};
    enum mrd_code rc = match_index_add(lc->set->idx, type, v, n, lc->cur, &e);

    if (rc == MRD_E_INVAL) {
        /* One bad value does not sink the indicator's other values. */
        if (lc->bad_values++ < MAX_WARNINGS)
            cli_errorf(VERB, "%s: skipping value of %s: %s", lc->file,
                       match_set_id(lc->set, lc->cur), e.msg);
        return MRD_OK;
    }
    if (rc != MRD_OK) {
        *err = e;
        return rc;
    }
    lc->cur_added = true;
    return MRD_OK;
}

/* The indicator's own id, once it is kept: an EVE alert of an exported
 * Suricata rule, or a Zeek intel.log line, names it (docs/interop.md). */
static enum mrd_code add_own_id(struct load_ctx *lc, const struct match_stix_ind *ind,
                                struct mrd_err *err)
{
    struct mrd_err e = {0};
    enum mrd_code rc = match_index_add(lc->set->idx, MATCH_T_ID, ind->id, ind->id_len, lc->cur, &e);

    if (rc == MRD_E_INVAL)
        return MRD_OK; /* an id without '-' names nothing a tool could report */
    if (rc != MRD_OK)
        *err = e;
    return rc;
}

static enum mrd_code on_indicator(void *vctx, const struct match_stix_ind *ind, struct mrd_err *err)
{
    struct load_ctx *lc = vctx;
    struct mrd_err e = {0};
    enum mrd_code rc;

    atomic_store_explicit(&lc->parsed, ind->offset, memory_order_relaxed);
    if (lc->map != NULL && ind->offset >= lc->dropped + DROP_EVERY) {
        /* Pages behind us are done: keep a 350 MB bundle from becoming
         * 350 MB of resident memory. */
        size_t upto = (ind->offset - 65536) & ~(size_t)4095;
        if (upto > lc->dropped) {
            (void)madvise((void *)(uintptr_t)(lc->map + lc->dropped), upto - lc->dropped,
                          MADV_DONTNEED);
            lc->dropped = upto;
        }
    }
    if (ind->revoked || ind->valid_from > lc->now || ind->valid_until <= lc->now) {
        lc->inactive++;
        return MRD_OK;
    }
    if (ind->pattern_type != NULL &&
        !mrd_str_eq(ind->pattern_type, ind->pattern_type_len, "stix")) {
        lc->not_stix++;
        return MRD_OK;
    }
    if (ind->id == NULL || ind->pattern == NULL || ind->id_len == 0 || ind->id_len > 100) {
        if (lc->bad_values++ < MAX_WARNINGS)
            cli_errorf(VERB, "%s: offset %zu: indicator without id or pattern skipped", lc->file,
                       ind->offset);
        return MRD_OK;
    }
    rc = match_set_add_id(lc->set, ind->id, ind->id_len, &lc->cur, err);
    if (rc != MRD_OK)
        return rc;
    lc->cur_added = false;
    rc = match_pattern_pairs(ind->pattern, ind->pattern_len, lc->pscratch, add_pair, lc, &e);
    if (rc == MRD_E_UNSUPP || rc == MRD_E_PARSE) {
        /* Not expressible by the index: the pattern evaluator runs it on
         * every parsed line. One it rejects is named and skipped. */
        mrd_err_clear(&e);
        rc = match_set_add_prog(lc->set, ind->pattern, ind->pattern_len, lc->cur, &e);
        if (rc == MRD_OK) {
            lc->evaluated++;
            lc->active++;
            return add_own_id(lc, ind, err);
        }
        if (rc == MRD_E_NOMEM) {
            *err = e;
            return rc;
        }
        if (lc->unsupported++ < MAX_WARNINGS)
            cli_errorf(VERB, "%s: %.*s: %s", lc->file, (int)ind->id_len, ind->id, e.msg);
        match_set_drop_last(lc->set);
        return MRD_OK;
    }
    if (rc != MRD_OK) {
        *err = e;
        return rc;
    }
    if (!lc->cur_added) {
        match_set_drop_last(lc->set);
        return MRD_OK;
    }
    lc->active++;
    return add_own_id(lc, ind, err);
}

static enum mrd_code load_file(struct load_ctx *lc, const char *path, struct mrd_err *err)
{
    int fd = -1;
    struct stat st;
    void *map = MAP_FAILED;
    struct toucher t;
    enum mrd_code rc;

    memset(&t, 0, sizeof(t));
    lc->file = path;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_INDICATOR_FILE) {
        rc = mrd_err_set(err, MRD_E_INVAL, "%s: not a regular file of at most 4 GiB", path);
        goto out;
    }
    if (st.st_size == 0) {
        rc = mrd_err_set(err, MRD_E_PARSE, "%s: empty file", path);
        goto out;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "%s: mmap", path);
        goto out;
    }
    (void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    lc->map = map;
    lc->dropped = 0;
    atomic_store(&lc->parsed, 0);
    t.map = map;
    t.size = (size_t)st.st_size;
    t.parsed = &lc->parsed;
    atomic_init(&t.stop, false);
    /* without the thread, the parser touches the pages itself */
    t.started = pthread_create(&t.tid, NULL, touch_main, &t) == 0;
    rc = match_set_reserve(lc->set, lc->set->n + (size_t)st.st_size / BYTES_PER_INDICATOR, err);
    if (rc != MRD_OK)
        goto out;
    rc = match_stix_each(map, (size_t)st.st_size, lc->scratch, on_indicator, lc, err);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "%s", path);
out:
    if (t.started) {
        atomic_store(&t.stop, true);
        pthread_join(t.tid, NULL);
    }
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- main ---- */

static int run(int argc, char **argv)
{
    struct match_opts o;
    struct match_set set;
    struct load_ctx *lc = NULL;
    struct mrd_err err = {0};
    const char **ind_files = NULL, **inputs = NULL;
    size_t nind_files = 0;
    const char *data_dir = NULL, *report_coll = NULL;
    char report_tmp[CLI_REPORT_PATH_MAX] = "";
    int rc = CLI_EXIT_USAGE, c;
    int64_t t0 = mrd_time_now_usec(), t1;

    match_set_init(&set);
    memset(&o, 0, sizeof(o));
    o.fmt = MATCH_FMT_AUTO;
    o.now = t0;
    match_reader_init(&o.maps, MATCH_FMT_AUTO);
    ind_files = mrd_calloc((size_t)argc, sizeof(*ind_files));
    inputs = mrd_calloc((size_t)argc, sizeof(*inputs));
    lc = mrd_calloc(1, sizeof(*lc));
    if (ind_files == NULL || inputs == NULL || lc == NULL) {
        cli_errorf(VERB, "out of memory");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:d:c:f:m:sH:S:I:o:Fj:a:qR:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            ind_files[nind_files++] = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'c':
            o.collection = optarg;
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
        case 'h':
            fputs(cli_verb_match.usage, stdout);
            rc = CLI_EXIT_OK;
            goto out;
        default:
            rc = cli_usage_error(&cli_verb_match, "unknown option");
            goto out;
        }
    }
    if (nind_files == 0 && data_dir == NULL) {
        rc = cli_usage_error(&cli_verb_match, "give --indicators FILE or --data DIR");
        goto out;
    }
    if (o.identity != NULL &&
        (strncmp(o.identity, "identity--", 10) != 0 || strlen(o.identity) != 46)) {
        rc = cli_usage_error(&cli_verb_match, "--identity: expected identity--<uuid>");
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
    if (report_coll != NULL && o.sightings_path == NULL) {
        /* The sightings go through a file so that reporting is exactly an
         * import: validated, signed as this node's, stored durably. */
        (void)snprintf(report_tmp, sizeof(report_tmp), "%s/.match-report-%ld.json",
                       cli_data_dir(data_dir), (long)getpid());
        o.sightings_path = report_tmp;
    }
    for (int k = optind; k < argc; k++)
        inputs[o.ninputs++] = argv[k];
    o.inputs = inputs;

    rc = CLI_EXIT_USAGE;
    if (match_set_begin(&set, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        goto out;
    }
    lc->set = &set;
    lc->now = o.now;
    for (size_t i = 0; i < nind_files; i++) {
        if (load_file(lc, ind_files[i], &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            goto out;
        }
    }
    if (data_dir != NULL) {
        lc->file = data_dir;
        lc->map = NULL;
        lc->dropped = 0;
        if (match_load_store(data_dir, o.collection, lc->scratch, on_indicator, lc, &err) !=
            MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            goto out;
        }
    }
    if (match_index_build(set.idx, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        goto out;
    }
    t1 = mrd_time_now_usec();
    if (!o.quiet)
        fprintf(stderr,
                "meridian match: %" PRIu64 " active indicators (%zu index keys) in %.2f s; "
                "%" PRIu64 " by the pattern evaluator; skipped %" PRIu64 " inactive, %" PRIu64
                " not STIX patterns, %" PRIu64 " invalid patterns, %" PRIu64 " bad values\n",
                lc->active, match_index_size(set.idx), (double)(t1 - t0) / 1e6, lc->evaluated,
                lc->inactive, lc->not_stix, lc->unsupported, lc->bad_values);
    rc = match_run(&set, &o);
    if (rc == CLI_EXIT_OK && report_coll != NULL) {
        /* import's argv is mutable (getopt may permute it): copies, not casts */
        static char a0[] = "import", a1[] = "--data", a3[] = "--collection";
        char dir[CLI_REPORT_PATH_MAX], coll[CLI_REPORT_COLL_MAX], path[CLI_REPORT_PATH_MAX];
        char *imp[] = {a0, a1, dir, a3, coll, path, NULL};

        mrd_strlcpy(dir, cli_data_dir(data_dir), sizeof(dir));
        mrd_strlcpy(coll, report_coll, sizeof(coll));
        mrd_strlcpy(path, o.sightings_path, sizeof(path));
        rc = cli_verb_import.run(6, imp);
    }
out:
    if (report_tmp[0] != '\0')
        (void)unlink(report_tmp);
    match_set_release(&set);
    mrd_free(lc);
    mrd_free(ind_files);
    mrd_free(inputs);
    return rc;
}

const struct cli_verb cli_verb_match = {
    .name = "match",
    .summary = "scan logs (nginx, Zeek, CSV, JSON lines, Suricata EVE) for indicators; emit "
               "sightings",
    .usage =
        "usage: meridian match (--indicators FILE... | --data DIR [--collection ID])\n"
        "                      [--format auto|combined|zeek|csv|jsonl|eve] [--map COL=TYPE]...\n"
        "                      [--subdomains] [--hits FILE] [--sightings FILE]\n"
        "                      [--identity identity--UUID] [--org NAME] [--follow]\n"
        "                      [--threads N] [--at TIME] [--quiet]\n"
        "                      [--report COLLECTION [--data DIR]] [LOG...]\n"
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
        "csv (header row; columns mapped by name: src/dst/ip, host/domain/query,\n"
        "url/referer, email, md5/sha1/sha256/hash, ts/time/timestamp), jsonl (ECS\n"
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
        "\n"
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
        "indicator's creator through federation. Not with --follow.\n"
        "--follow keeps reading growing files (rotation and truncation included)\n"
        "and prints hits as they appear until interrupted (SIGINT/SIGTERM).\n"
        "--threads N sets the workers (default: one per core).\n"
        "\n"
        "Exit: 0 done (hits or not), 2 usage, unreadable input or bad indicators.\n",
    .run = run,
};
