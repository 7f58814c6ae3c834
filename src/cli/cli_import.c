/*
 * meridian import: load STIX 2.1 files into a collection.
 *
 * Each FILE is a bundle, a TAXII envelope, a JSON array of objects or one
 * object. Every object goes through the STIX validator on its own
 * (stix_validate_object), exactly like a TAXII POST: an invalid object is
 * reported with the validator's findings and skipped, the valid ones are
 * stored (RFC 8785 canonical bytes) in batches, each batch one committed
 * transaction. Objects already present (same id and version) are counted,
 * not errors. Summaries go to stderr; stdout stays empty. The pipeline
 * itself (streaming included) is feed_import.c (feed.h), shared with
 * scheduled feeds: this file parses arguments and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "feed/feed.h"
#include "fed/fed.h"
#include "interop/interop.h"
#include "policy/policy.h"
#include "store/store.h"

#define IMPORT_MAX_RECIPIENTS FEED_IMPORT_MAX_RECIPIENTS /* --recipient options */
#define IMPORT_MAX_LABELS FEED_IMPORT_MAX_LABELS

/* The importer's messages and progress, on stderr (escaped). */
struct cli_hooks {
    struct cli_progress prog;
};

static void on_msg(void *ctx, enum feed_msg_kind kind, const char *text)
{
    (void)ctx;
    if (kind == FEED_MSG_DETAIL)
        fprintf(stderr, "  %s\n", MRD_ESC(text)); /* paths and values from the file */
    else
        cli_errorf("import", "%s", text);
}

static void on_begin(void *ctx, const char *unit, uint64_t total)
{
    struct cli_hooks *h = ctx;
    cli_progress_init(&h->prog, "import", unit, total);
}

static void on_tick(void *ctx, uint64_t done)
{
    struct cli_hooks *h = ctx;
    cli_progress_tick(&h->prog, done);
}

static void on_stream(void *ctx, uint64_t done, uint64_t bytes, uint64_t total_bytes)
{
    struct cli_hooks *h = ctx;
    cli_progress_stream(&h->prog, done, bytes, total_bytes);
}

static void on_end(void *ctx)
{
    struct cli_hooks *h = ctx;
    cli_progress_end(&h->prog);
}

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1,
        O_COLL,
        O_ORG,
        O_RCPT,
        O_FORMAT,
        O_TYPE,
        O_COLUMN,
        O_SEP,
        O_TLP,
        O_CONF,
        O_FROM,
        O_UNTIL,
        O_LABEL,
        O_REPAIR
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"collection", required_argument, NULL, O_COLL},
        {"as-org", required_argument, NULL, O_ORG},
        {"recipient", required_argument, NULL, O_RCPT},
        {"format", required_argument, NULL, O_FORMAT},
        {"type", required_argument, NULL, O_TYPE},
        {"column", required_argument, NULL, O_COLUMN},
        {"separator", required_argument, NULL, O_SEP},
        {"tlp", required_argument, NULL, O_TLP},
        {"confidence", required_argument, NULL, O_CONF},
        {"valid-from", required_argument, NULL, O_FROM},
        {"valid-until", required_argument, NULL, O_UNTIL},
        {"label", required_argument, NULL, O_LABEL},
        {"repair", no_argument, NULL, O_REPAIR},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll_arg = NULL, *org_name = NULL;
    const char *rcpt[IMPORT_MAX_RECIPIENTS];
    size_t n_rcpt = 0;
    struct feed_importer *im = NULL;
    struct feed_counts total = {0};
    struct mrd_err ferr = {0};
    struct feed_list_opts lo;
    struct feed_import_opts io;
    struct cli_hooks h;
    struct feed_import_hooks hooks = {.msg = on_msg,
                                      .progress_begin = on_begin,
                                      .progress_tick = on_tick,
                                      .progress_stream = on_stream,
                                      .progress_end = on_end,
                                      .ctx = &h};
    struct store *st = NULL;
    struct store_collection coll;
    struct store_org org;
    struct fed_trust *trust = NULL;
    size_t repairs = 0, fixable = 0;
    bool repair = false;
    int ret = CLI_EXIT_USAGE, c;

    memset(&h, 0, sizeof(h));
    memset(&io, 0, sizeof(io));
    feed_list_opts_init(&lo);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_FORMAT:
            lo.csv = strcmp(optarg, "csv") == 0;
            lo.text = strcmp(optarg, "text") == 0;
            if (!lo.csv && !lo.text && strcmp(optarg, "stix") != 0 && strcmp(optarg, "misp") != 0)
                return cli_usage_error(&cli_verb_import,
                                       "--format takes stix, misp, csv or text (stix and misp "
                                       "are recognised by their content)");
            break;
        case O_TYPE:
            if (strcmp(optarg, "auto") != 0 && !interop_kind_parse(optarg, &lo.kind))
                return cli_usage_error(&cli_verb_import,
                                       "--type takes ip, domain, url, email, hash or auto");
            break;
        case O_COLUMN:
            lo.column = optarg;
            break;
        case O_SEP:
            if (strlen(optarg) != 1)
                return cli_usage_error(&cli_verb_import, "--separator takes one character");
            lo.sep = optarg[0];
            break;
        case O_TLP: {
            static const char *const ids[POLICY_TLP_COUNT] = {
                POLICY_TLP2_CLEAR_ID, POLICY_TLP2_GREEN_ID, POLICY_TLP2_AMBER_ID,
                POLICY_TLP2_AMBER_STRICT_ID, POLICY_TLP2_RED_ID};
            enum policy_tlp t;
            if (policy_tlp_parse(optarg, strlen(optarg), &t, &ferr) != MRD_OK)
                return cli_usage_error(&cli_verb_import, "%s", ferr.msg);
            lo.tlp_id = ids[t];
            break;
        }
        case O_CONF: {
            uint64_t v;
            if (mrd_str_to_u64(optarg, strlen(optarg), 100, &v, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_import, "--confidence takes 0..100");
            lo.confidence = (int)v;
            break;
        }
        case O_FROM:
        case O_UNTIL: {
            struct mrd_time t;
            if (mrd_time_parse(optarg, strlen(optarg), &t, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_import,
                                       "%s takes an RFC 3339 time, e.g. 2027-01-01T00:00:00Z",
                                       c == O_FROM ? "--valid-from" : "--valid-until");
            mrd_time_format_stix_ms(mrd_time_to_usec(&t),
                                    c == O_FROM ? lo.valid_from : lo.valid_until);
            break;
        }
        case O_REPAIR:
            repair = true;
            break;
        case O_LABEL:
            if (lo.n_labels == IMPORT_MAX_LABELS)
                return cli_usage_error(&cli_verb_import, "at most %d --label options",
                                       IMPORT_MAX_LABELS);
            lo.labels[lo.n_labels++] = optarg;
            break;
        case O_COLL:
            coll_arg = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_RCPT:
            if (n_rcpt == IMPORT_MAX_RECIPIENTS)
                return cli_usage_error(&cli_verb_import, "at most %d --recipient options",
                                       IMPORT_MAX_RECIPIENTS);
            rcpt[n_rcpt++] = optarg;
            break;
        default:
            return cli_usage_error(&cli_verb_import, "unknown option");
        }
    }
    if (coll_arg == NULL)
        return cli_usage_error(&cli_verb_import, "--collection ID is required");
    if (optind == argc)
        return cli_usage_error(&cli_verb_import, "give at least one FILE");
    if ((lo.kind != INTEROP_K_COUNT || lo.column != NULL || lo.tlp_id != NULL ||
         lo.confidence >= 0 || lo.valid_until[0] != '\0' || lo.n_labels > 0) &&
        !lo.csv && !lo.text)
        return cli_usage_error(&cli_verb_import,
                               "--type, --column, --tlp, --confidence, --valid-until and --label "
                               "are for --format csv or text");
    if (lo.valid_from[0] == '\0') {
        /* today, 00:00 UTC: the same list imported again today is the same
         * indicators (same version); tomorrow's import is a new version */
        int64_t now = mrd_time_now_usec();
        mrd_time_format_stix_ms(now - now % ((int64_t)86400 * 1000000), lo.valid_from);
    }
    io.repair = repair;
    ret = cli_data_open("import", cli_data_dir(data), &st);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_collection("import", st, coll_arg, &coll);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_org("import", st, org_name, &org);
    for (size_t i = 0; i < n_rcpt && ret == CLI_EXIT_OK; i++) {
        struct store_org r;
        ret = cli_data_org("import", st, rcpt[i], &r);
        io.recipients[io.n_recipients++] = r.key;
    }
    if (ret == CLI_EXIT_OK && fed_trust_load(cli_data_dir(data), &trust, &ferr) != MRD_OK) {
        cli_errorf("import", "%s", ferr.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret != CLI_EXIT_OK)
        goto out;
    /* the labels and column stay argv's: the importer is freed first */
    io.list = lo;
    if (feed_importer_new(st, &coll, &org, trust, &io, &hooks, &im, &ferr) != MRD_OK) {
        cli_errorf("import", "%s", ferr.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        int r = (int)feed_import_file(im, argv[i], &total);
        if (r > ret)
            ret = r;
    }
    if (argc - optind > 1)
        fprintf(stderr,
                "meridian import: total: %zu object%s: %zu added, %zu already present, %zu "
                "invalid, %zu conflicts\n",
                total.objects, total.objects == 1 ? "" : "s", total.added, total.duplicates,
                total.invalid, total.conflicts);
    feed_importer_repairs(im, &repairs, &fixable);
    if (fixable > 0)
        fprintf(stderr,
                "meridian import: %zu invalid object%s would be repaired by --repair (see "
                "above)\n",
                fixable, fixable == 1 ? "" : "s");
    if (total.added > 0)
        cli_data_ledger_catch_up("import", st, cli_data_dir(data));
out:
    feed_importer_free(im);
    fed_trust_free(trust);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_import = {
    .name = "import",
    .summary = "load STIX 2.1 files into a collection (each object validated)",
    .usage =
        "usage: meridian import --collection ID [--as-org ORG] [--recipient ORG]... [--data DIR]\n"
        "              [--repair] [--format stix|misp|csv|text [list options]] FILE...\n"
        "\n"
        "Loads each FILE ('-' is stdin): a STIX bundle, a TAXII envelope, a JSON list\n"
        "of objects, a single object, or a MISP event (a MISP event file, a REST\n"
        "search answer, or a MISP feed directory with manifest.json; mapped to STIX\n"
        "as docs/interop.md says, MISP uuids kept as ids so re-importing adds\n"
        "nothing). Any other JSON is an error naming the file. Every object is\n"
        "checked by the STIX 2.1\n"
        "validator (as 'meridian validate' does); an invalid one is reported with the\n"
        "validator's findings and skipped, the valid ones are stored in the collection\n"
        "ID (its uuid, or API-ROOT/ALIAS). Objects already in the collection (same id\n"
        "and version) are left as they are. A summary per file goes to stderr.\n"
        "\n"
        "Bundles, envelopes and lists are read as a stream, one object (at most\n"
        "16 MiB) at a time, and stored in batches as they fill, so memory stays\n"
        "bounded whatever the file size; 'objects' may come before 'type'. A bad\n"
        "object is named with its index and byte offset and skipped; a truncated\n"
        "file is an error after the objects before it are stored. On a terminal\n"
        "the progress shows (objects, rate, megabytes read, ETA).\n"
        "\n"
        "--format text: one value per line ('#' comments); --format csv: a header\n"
        "row, then records (RFC 4180). Each value (IP address or CIDR, domain, URL,\n"
        "e-mail address, MD5/SHA-1/SHA-256/SHA-512; defanged forms like hxxp:// and\n"
        "evil[.]com accepted) becomes an indicator whose id is derived from its\n"
        "pattern, valid from --valid-from (default: today 00:00 UTC), so a list\n"
        "imported again the same day adds nothing. Lines that are no value are\n"
        "named (line number) and skipped; memory stays flat for any file size.\n"
        "  --type ip|domain|url|email|hash|auto   what the values are (default auto)\n"
        "  --column COL      csv: the value column, by header name or 1-based number\n"
        "                    (default: value, indicator, ioc, ip, domain, url, hash...)\n"
        "  --separator C     csv: the field separator (default ',')\n"
        "  --tlp LEVEL       a TLP 2.0 marking on every indicator\n"
        "  --confidence N    0..100\n"
        "  --valid-from T, --valid-until T   RFC 3339 times\n"
        "  --label L         a label on every indicator (repeatable)\n"
        "\n"
        "--repair fixes the known defects of real public STIX before validation and\n"
        "prints every change: empty lists and empty references are dropped, times\n"
        "given to the second get milliseconds, a 'modified' before 'created' becomes\n"
        "'created' (docs/interop.md). Without it, an invalid object that --repair\n"
        "would fix says so.\n"
        "\n"
        "Each object's TLP comes from its TLP markings (TLP 1.0 or 2.0), else the\n"
        "collection's default TLP.\n"
        "  --as-org ORG      the org recorded as creator (default: the node's own org);\n"
        "                    objects count as created on this node unless ORG is a partner\n"
        "  --recipient ORG   an org that may read TLP:RED objects of this import besides\n"
        "                    the creator (repeatable, at most 16)\n" CLI_DATA_HELP
        "Exit status: 0 all objects stored or already present, 1 some object or file\n"
        "was invalid (the valid ones were stored), 2 usage, I/O or data error.\n",
    .run = run,
};
