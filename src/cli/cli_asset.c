/*
 * meridian asset: what each constituent org owns, for constituency early
 * warning (notify.h; docs/notify.md). Declaring, approving and removing
 * go through notify_asset_declare / notify_asset_set (audit records); this
 * file parses, reads CSV files line by line and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "notify/notify.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian asset add --org ORG [--kind KIND] ASSET... [--data DIR]\n"
    "       meridian asset import --org ORG FILE [--data DIR]\n"
    "       meridian asset list [--org ORG] [--json] [--data DIR]\n"
    "       meridian asset approve ID... [--data DIR]\n"
    "       meridian asset remove ID... [--org ORG] [--data DIR]\n"
    "\n"
    "Declares what a constituent org owns, so that every object reaching the node\n"
    "that concerns it becomes a notification for that org (docs/notify.md):\n"
    "  AS65010 or 65010        an autonomous system (kind asn)\n"
    "  192.0.2.0/24, 2001:db8::/32, 192.0.2.7\n"
    "                          an IPv4/IPv6 prefix or address (kind prefix)\n"
    "  gov.example             a domain and every name below it (kind domain)\n"
    "  @mail.example           e-mail addresses at that domain and below (kind email)\n"
    "  www.bank.example        with --kind host: that one host name only\n"
    "The kind is inferred unless --kind asn|prefix|domain|email|host is given.\n"
    "A declaration that overlaps another org's (the same ASN, a prefix inside or\n"
    "holding one, a name at, above or below one) is stored PENDING: it routes\n"
    "nothing until `asset approve` (run by the team that runs the node), so\n"
    "nobody can claim another's network to read its warnings.\n"
    "  add          declare each ASSET for ORG\n"
    "  import FILE  declare one asset per line: ASSET or KIND,ASSET; empty lines\n"
    "               and lines starting with # are skipped; '-' reads stdin. An\n"
    "               invalid line is reported with its number and skipped; the\n"
    "               others are declared.\n"
    "  list         every declaration (of ORG): id, org, kind, asset, status and,\n"
    "               when pending, what it overlaps\n"
    "  approve ID   make pending declarations active\n"
    "  remove ID    delete declarations (with --org: only that org's)\n"
    "  --json       list as {\"assets\": [...]}\n" CLI_DATA_HELP
    "Each declaration, approval and removal is an audit record (meridian audit).\n"
    "Exit status: 0 done, 1 some lines or assets were refused, 2 usage or data\n"
    "error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_asset = {
    .name = "asset",
    .summary = "declare the networks, domains and ASNs constituents own",
    .usage = usage,
    .run = run,
};

static const char *status_name(int s)
{
    return s == STORE_ASSET_ACTIVE ? "active" : "pending";
}

static void print_declared(const struct store_asset *sa)
{
    if (sa->status == STORE_ASSET_PENDING)
        printf("%lld\t%s\t%s\tpending: overlaps %s; `meridian asset approve %lld` to accept\n",
               (long long)sa->id, notify_akind_name(sa->kind), sa->text, MRD_ESC(sa->overlaps),
               (long long)sa->id);
    else
        printf("%lld\t%s\t%s\tactive\n", (long long)sa->id, notify_akind_name(sa->kind), sa->text);
}

/* Declares one asset; prints the result. False when refused. */
static bool declare(struct admin *adm, const struct store_org *org, const char *kind,
                    const char *text)
{
    struct store_asset sa;
    struct mrd_err err = {0};

    if (notify_asset_declare(adm, org->key, kind, text, &sa, &err) != MRD_OK) {
        cli_errorf("asset", "%s: %s", MRD_ESC(text), err.msg);
        return false;
    }
    print_declared(&sa);
    return true;
}

static int import(struct admin *adm, const struct store_org *org, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[NOTIFY_IMPORT_LINE_MAX + 2];
    unsigned long no = 0;
    size_t ok = 0, bad = 0;
    int ret = CLI_EXIT_OK;

    if (f == NULL) {
        cli_errorf("asset", "%s: %s", MRD_ESC(path), strerror(errno));
        return CLI_EXIT_USAGE;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        struct store_asset sa;
        struct mrd_err err = {0};
        const char *text = "";
        bool skip = false;
        no++;
        if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            /* the whole line is not in the buffer: refused as too long */
            (void)mrd_err_set(&err, MRD_E_TOOBIG, "longer than %d bytes", NOTIFY_IMPORT_LINE_MAX);
        } else {
            if (n > 0 && line[n - 1] == '\n')
                line[--n] = '\0';
            (void)notify_asset_import_line(adm, org->key, line, &skip, &text, &sa, &err);
        }
        if (err.code != MRD_OK) {
            cli_errorf("asset", "line %lu: %s%s%s", no, MRD_ESC(text), text[0] ? ": " : "",
                       err.msg);
            bad++;
        } else if (!skip) {
            print_declared(&sa);
            ok++;
        }
    }
    if (ferror(f)) {
        cli_errorf("asset", "%s: read error", MRD_ESC(path));
        ret = CLI_EXIT_USAGE;
    }
    if (f != stdin)
        (void)fclose(f);
    fprintf(stderr, "asset: %zu declared, %zu refused\n", ok, bad);
    return ret != CLI_EXIT_OK ? ret : bad > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

struct lister {
    struct store *st;
    json_t *all;
};

static enum mrd_code list_one(void *ctx, const struct store_asset *a, struct mrd_err *err)
{
    struct lister *l = ctx;

    if (l->all != NULL) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)a->id, "org",
                              a->org_name, "kind", notify_akind_name(a->kind), "asset", a->text,
                              "status", status_name(a->status), "overlaps", a->overlaps);
        if (o == NULL || json_array_append_new(l->all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "asset: out of memory");
        return MRD_OK;
    }
    printf("%lld\t%s\t%s\t%s\t%s%s%s\n", (long long)a->id, MRD_ESC(a->org_name),
           notify_akind_name(a->kind), a->text, status_name(a->status),
           a->status == STORE_ASSET_PENDING ? ": overlaps " : "",
           a->status == STORE_ASSET_PENDING ? MRD_ESC(a->overlaps) : "");
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_ORG, O_KIND, O_JSON };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"org", required_argument, NULL, O_ORG},
        {"kind", required_argument, NULL, O_KIND},
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org_name = NULL, *kind = NULL, *sub;
    bool json = false;
    struct store *st = NULL;
    struct store_org org = {0};
    struct admin adm;
    struct mrd_err err = {0};
    int c, ret, bad = 0;

    if (argc < 2)
        return cli_usage_error(&cli_verb_asset, "expected add, import, list, approve or remove");
    sub = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_KIND:
            kind = optarg;
            break;
        case O_JSON:
            json = true;
            break;
        default:
            return cli_usage_error(&cli_verb_asset, "unknown option");
        }
    }
    if (strcmp(sub, "add") != 0 && strcmp(sub, "import") != 0 && strcmp(sub, "list") != 0 &&
        strcmp(sub, "approve") != 0 && strcmp(sub, "remove") != 0)
        return cli_usage_error(&cli_verb_asset, "unknown subcommand '%s'", MRD_ESC(sub));
    if ((strcmp(sub, "add") == 0 || strcmp(sub, "import") == 0) && org_name == NULL)
        return cli_usage_error(&cli_verb_asset, "%s: --org is required", sub);
    if (kind != NULL && strcmp(sub, "add") != 0)
        return cli_usage_error(&cli_verb_asset, "--kind goes with add only");
    if (strcmp(sub, "list") == 0     ? optind != argc
        : strcmp(sub, "import") == 0 ? optind + 1 != argc
                                     : optind == argc)
        return cli_usage_error(&cli_verb_asset, "%s: wrong number of arguments", sub);
    for (int i = optind; (strcmp(sub, "approve") == 0 || strcmp(sub, "remove") == 0) && i < argc;
         i++) {
        int64_t id;
        if (!cli_data_row_id(argv[i], &id))
            return cli_usage_error(&cli_verb_asset, "%s: '%s' is not a declaration id", sub,
                                   MRD_ESC(argv[i]));
    }
    ret = cli_data_open("asset", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (org_name != NULL)
        ret = cli_data_org("asset", st, org_name, &org);
    if (ret != CLI_EXIT_OK)
        goto out;
    cli_data_admin(st, cli_data_dir(data), &adm);
    if (strcmp(sub, "add") == 0) {
        if (org.relation != POLICY_REL_CONSTITUENT && org.relation != POLICY_REL_OWN)
            fprintf(stderr, "asset: note: %s is a partner, not a constituent\n", MRD_ESC(org.name));
        for (int i = optind; i < argc; i++)
            bad += !declare(&adm, &org, kind, argv[i]);
        ret = bad > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    } else if (strcmp(sub, "import") == 0) {
        ret = import(&adm, &org, argv[optind]);
    } else if (strcmp(sub, "list") == 0) {
        struct lister l = {.st = st, .all = json ? json_array() : NULL};
        if (store_assets_list(st, org.key, list_one, &l, &err) != MRD_OK) {
            cli_errorf("asset", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        } else if (json) {
            json_t *doc = json_pack("{s:O}", "assets", l.all);
            if (doc == NULL || cli_print_json(doc, JSON_INDENT(2)) != MRD_OK)
                ret = CLI_EXIT_USAGE;
            json_decref(doc);
        }
        json_decref(l.all);
    } else {
        bool approve = strcmp(sub, "approve") == 0;
        for (int i = optind; i < argc; i++) {
            int64_t id = 0;
            struct store_asset was;
            (void)cli_data_row_id(argv[i], &id);
            if (notify_asset_set(&adm, id, org.key,
                                 approve ? STORE_ASSET_ACTIVE : STORE_ASSET_REMOVED, &was,
                                 &err) != MRD_OK) {
                cli_errorf("asset", "%s %lld: %s", sub, (long long)id, err.msg);
                bad++;
                continue;
            }
            printf("%lld\t%s\t%s\t%s\n", (long long)id, MRD_ESC(was.org_name), was.text,
                   approve ? "active" : "removed");
        }
        ret = bad > 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
out:
    store_close(st);
    return ret;
}
