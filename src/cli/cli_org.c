/*
 * meridian org: register the orgs this node knows (docs/design.md §5).
 *
 * `org create` prints only the new org's name on stdout, so scripts can
 * chain it; `org list` prints one tab-separated line per org.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "policy/policy.h"
#include "store/store.h"

enum { O_DATA = 1, O_RELATION };

static const struct option opts[] = {
    {"data", required_argument, NULL, O_DATA},
    {"relation", required_argument, NULL, O_RELATION},
    {NULL, 0, NULL, 0},
};

static enum mrd_code print_org(void *ctx, const struct store_org *o)
{
    char t[32];

    (void)ctx;
    cli_data_time(o->created_usec, t);
    printf("%s\t%s\t%s\n", MRD_ESC(o->name), policy_relation_name(o->relation), t);
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    const char *data = NULL, *relation = NULL, *sub;
    enum policy_relation rel = POLICY_REL_PARTNER;
    struct store *st = NULL;
    struct store_org org;
    struct mrd_err err = {0};
    int ret, c;

    if (argc < 2)
        return cli_usage_error(&cli_verb_org, "give a subcommand: create or list");
    sub = argv[1];
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_RELATION)
            relation = optarg;
        else
            return cli_usage_error(&cli_verb_org, "unknown option");
    }
    if (strcmp(sub, "create") == 0) {
        if (optind + 1 != argc)
            return cli_usage_error(&cli_verb_org, "org create takes exactly one NAME");
        if (relation == NULL)
            return cli_usage_error(&cli_verb_org, "--relation own|constituent|partner is required");
        if (policy_relation_parse(relation, strlen(relation), &rel, &err) != MRD_OK)
            return cli_usage_error(&cli_verb_org, "%s", err.msg);
    } else if (strcmp(sub, "list") == 0) {
        if (optind != argc || relation != NULL)
            return cli_usage_error(&cli_verb_org, "org list takes only --data");
    } else {
        return cli_usage_error(&cli_verb_org, "unknown subcommand '%s'", sub);
    }
    ret = cli_data_open("org", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (strcmp(sub, "create") == 0) {
        if (store_org_create(st, argv[optind], rel, &org, &err) != MRD_OK) {
            cli_errorf("org", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        } else {
            printf("%s\n", MRD_ESC(org.name));
        }
    } else if (store_org_list(st, print_org, NULL, &err) != MRD_OK) {
        cli_errorf("org", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_org = {
    .name = "org",
    .summary = "create and list the orgs (own, constituent, partner) of this node",
    .usage = "usage: meridian org create NAME --relation own|constituent|partner [--data DIR]\n"
             "       meridian org list [--data DIR]\n"
             "\n"
             "An org is a team or organisation that holds tokens and grants. Its relation\n"
             "to this node decides what it may read (TLP rules, docs/admin.md):\n"
             "  own          the team that runs the node\n"
             "  constituent  an org the team serves (ministry, ISP, company)\n"
             "  partner      another team, usually another node\n"
             "\n"
             "'create' prints only NAME on stdout. 'list' prints NAME, RELATION and the\n"
             "creation time, tab-separated, one org per line.\n"
             "NAME: 1-64 characters of [A-Za-z0-9._-].\n" CLI_DATA_HELP
             "Exit status: 0 done, 2 usage error, name taken, or data error.\n",
    .run = run,
};
