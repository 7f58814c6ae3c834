/*
 * meridian notify: constituency early warning over the data directory
 * (notify.h; docs/notify.md): one routing pass now (serve runs it
 * continuously) and the notifications recorded. The work is
 * notify_run_round's; this file parses and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "fed/fed.h"
#include "notify/notify.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian notify run [--squelch DURATION] [--withheld POLICY] [--data DIR]\n"
    "       meridian notify list [--org ORG] [--after N] [--limit N] [--json] [--data DIR]\n"
    "\n"
    "Constituency early warning (docs/notify.md). Every object version stored on\n"
    "the node (TAXII, sync, import, feeds, the matcher, the sensors) is routed\n"
    "through the assets constituents declared (meridian asset): addresses and\n"
    "CIDRs by longest-prefix match, names by domain suffix, e-mail addresses by\n"
    "their domain, autonomous systems by number; a sighting by the indicator it\n"
    "sights. Each hit the owning org may read (exactly as a TAXII read of that\n"
    "version would allow) is a notification for that org; a hit it may not read\n"
    "produces none. The same (org, asset, object type, value) again within the\n"
    "squelch window is recorded as squelched, not delivered again. Each new\n"
    "notification is also a STIX sighting or note, signed by the node, TLP:RED\n"
    "for that org alone, in its own collection: API root early-warning, alias\n"
    "its org name (made on first need), so it can pull it over TAXII.\n"
    "  run          route everything stored since the last pass (`meridian serve`\n"
    "               does this continuously); prints what it recorded\n"
    "  list         the notifications recorded, oldest first: N, time, org, asset,\n"
    "               object type, object id, the value that hit, squelched or new\n"
    "  --squelch D  the squelch window (90d, 12h, 30m, 45s; default 24h)\n"
    "  --withheld P a finding the org may not read: nothing (default) or\n"
    "               asset-only, a note naming only its asset and the kind of\n"
    "               finding (serve: notify.withheld)\n"
    "  --org ORG    list: only this org's\n"
    "  --after N    list: only notifications after number N\n"
    "  --limit N    list: at most N (default and maximum 10000)\n"
    "  --json       list as {\"notifications\": [...]}\n" CLI_DATA_HELP
    "Exit status: 0 done, 2 usage or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_notify = {
    .name = "notify",
    .summary = "route stored objects to the constituents they concern",
    .usage = usage,
    .run = run,
};

static const char *how_name(int how)
{
    return how == NOTIFY_M_EXACT ? "exact" : how == NOTIFY_M_INSIDE ? "inside" : "holds";
}

static enum mrd_code list_one(void *ctx, const struct store_notification *n, struct mrd_err *err)
{
    json_t *all = ctx;
    char when[32];

    cli_data_time(n->created_usec, when);
    if (all != NULL) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "n",
                              (json_int_t)n->id, "time", when, "org", n->org_name, "asset",
                              n->asset_text, "type", n->kind, "object_id", n->object_id, "value",
                              n->value, "match", how_name(n->how), "squelched", n->squelched);
        if (o == NULL || json_array_append_new(all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "notify: out of memory");
        return MRD_OK;
    }
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)n->id, when, MRD_ESC(n->org_name),
           n->asset_text, MRD_ESC(n->kind), MRD_ESC(n->object_id), MRD_ESC(n->value),
           n->squelched ? "squelched" : "new");
    return MRD_OK;
}

static int do_run(struct store *st, const char *data, int64_t squelch,
                  enum notify_withheld withheld)
{
    struct notify_index *ix = NULL;
    struct fed_trust *trust = NULL;
    struct notify_opts o = {.squelch_usec = squelch, .withheld = withheld};
    struct notify_round total = {0}, r;
    struct mrd_err err = {0};
    size_t pending = 0;

    if (fed_trust_load(data, &trust, &err) != MRD_OK ||
        notify_index_load(st, &ix, &pending, &err) != MRD_OK) {
        cli_errorf("notify", "%s", err.msg);
        fed_trust_free(trust);
        return CLI_EXIT_USAGE;
    }
    o.trust = trust;
    do {
        if (notify_run_round(st, ix, &o, &r, &err) != MRD_OK) {
            cli_errorf("notify", "%s", err.msg);
            notify_index_free(ix);
            fed_trust_free(trust);
            return CLI_EXIT_USAGE;
        }
        total.objects += r.objects;
        total.notified += r.notified;
        total.squelched += r.squelched;
        total.withheld += r.withheld;
        total.cursor = r.cursor;
    } while (r.more);
    printf("routed %zu object versions through %zu assets (%zu pending approval): "
           "%zu notifications, %zu squelched, %zu withheld by TLP; cursor %lld\n",
           total.objects, notify_index_size(ix), pending, total.notified, total.squelched,
           total.withheld, (long long)total.cursor);
    notify_index_free(ix);
    fed_trust_free(trust);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_ORG, O_AFTER, O_LIMIT, O_JSON, O_SQUELCH, O_WITHHELD };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"org", required_argument, NULL, O_ORG},
        {"after", required_argument, NULL, O_AFTER},
        {"limit", required_argument, NULL, O_LIMIT},
        {"json", no_argument, NULL, O_JSON},
        {"squelch", required_argument, NULL, O_SQUELCH},
        {"withheld", required_argument, NULL, O_WITHHELD},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org_name = NULL, *sub;
    uint64_t after = 0, limit = STORE_NOTIFY_LIST_MAX;
    int64_t squelch = NOTIFY_SQUELCH_DEFAULT_USEC;
    enum notify_withheld withheld = NOTIFY_WITHHELD_NOTHING;
    bool json = false, list;
    struct store *st = NULL;
    struct store_org org = {0};
    struct mrd_err err = {0};
    int c, ret;

    if (argc < 2)
        return cli_usage_error(&cli_verb_notify, "expected run or list");
    sub = argv[1];
    if (strcmp(sub, "run") != 0 && strcmp(sub, "list") != 0)
        return cli_usage_error(&cli_verb_notify, "unknown subcommand '%s'", MRD_ESC(sub));
    list = strcmp(sub, "list") == 0;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_AFTER:
            if (mrd_str_to_u64(optarg, strlen(optarg), INT64_MAX, &after, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_notify, "--after: expected a number");
            break;
        case O_LIMIT:
            if (mrd_str_to_u64(optarg, strlen(optarg), STORE_NOTIFY_LIST_MAX, &limit, NULL) !=
                    MRD_OK ||
                limit == 0)
                return cli_usage_error(&cli_verb_notify, "--limit: expected 1..%d",
                                       STORE_NOTIFY_LIST_MAX);
            break;
        case O_JSON:
            json = true;
            break;
        case O_WITHHELD:
            if (notify_withheld_parse(optarg, &withheld, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_notify, "--withheld: %s", err.msg);
            break;
        case O_SQUELCH:
            if (cli_data_duration("notify", "--squelch", optarg, &squelch) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
            break;
        default:
            return cli_usage_error(&cli_verb_notify, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_notify, "unexpected argument '%s'", MRD_ESC(argv[optind]));
    if (!list && (org_name != NULL || json || after != 0))
        return cli_usage_error(&cli_verb_notify, "--org, --after and --json go with list");
    ret = cli_data_open("notify", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (org_name != NULL)
        ret = cli_data_org("notify", st, org_name, &org);
    if (ret == CLI_EXIT_OK && !list)
        ret = do_run(st, cli_data_dir(data), squelch, withheld);
    if (ret == CLI_EXIT_OK && list) {
        json_t *all = json ? json_array() : NULL;
        if (store_notifications_list(st, org.key, (int64_t)after, (size_t)limit, list_one, all,
                                     &err) != MRD_OK) {
            cli_errorf("notify", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        } else if (json) {
            json_t *doc = json_pack("{s:O}", "notifications", all);
            if (doc == NULL || cli_print_json(doc, JSON_INDENT(2)) != MRD_OK)
                ret = CLI_EXIT_USAGE;
            json_decref(doc);
        }
        json_decref(all);
    }
    store_close(st);
    return ret;
}
