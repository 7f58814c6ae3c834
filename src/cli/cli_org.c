/*
 * meridian org: register the orgs this node knows (docs/design.md §5).
 *
 * `org create` prints only the new org's name on stdout, so scripts can
 * chain it; `org list` prints one tab-separated line per org.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
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
    char t[32], since[32];

    (void)ctx;
    cli_data_time(o->created_usec, t);
    cli_data_time(o->deleted_usec != STORE_TIME_NONE ? o->deleted_usec : o->disabled_usec, since);
    printf("%s\t%s\t%s\t%s%s%s\n", MRD_ESC(o->name), policy_relation_name(o->relation), t,
           o->deleted_usec != STORE_TIME_NONE    ? "deleted"
           : o->disabled_usec != STORE_TIME_NONE ? "disabled"
                                                 : "active",
           o->disabled_usec != STORE_TIME_NONE ? " " : "",
           o->disabled_usec != STORE_TIME_NONE ? since : "");
    return MRD_OK;
}

/* org disable|enable|delete NAME */
static int change(struct admin *a, const char *sub, const char *name)
{
    struct admin_report r;
    struct mrd_err err = {0};
    enum mrd_code rc;

    if (strcmp(sub, "disable") == 0)
        rc = admin_org_disable(a, name, &r, &err);
    else if (strcmp(sub, "enable") == 0)
        rc = admin_org_enable(a, name, &r, &err);
    else
        rc = admin_org_delete(a, name, &r, &err);
    if (rc != MRD_OK) {
        cli_errorf("org", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    fprintf(stderr,
            "meridian org: %sd '%s': %u token(s) revoked, %u grant(s) removed, %u session(s) "
            "ended, %s\n",
            sub, MRD_ESC(name), r.org.tokens_revoked, r.org.grants_removed, r.sessions_ended,
            !r.peer_found     ? "no peer of that name"
            : !r.peer_changed ? "its peer unchanged"
            : sub[1] == 'i'   ? "its peer disabled"
            : sub[1] == 'n'   ? "its peer enabled"
                              : "its peer removed");
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *data = NULL, *relation = NULL, *sub;
    enum policy_relation rel = POLICY_REL_PARTNER;
    struct store *st = NULL;
    struct store_org org;
    struct mrd_err err = {0};
    int ret, c;

    struct admin a;
    bool is_change;

    if (argc < 2)
        return cli_usage_error(&cli_verb_org,
                               "give a subcommand: create, list, disable, enable or delete");
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
    } else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0 ||
               strcmp(sub, "delete") == 0) {
        if (optind + 1 != argc || relation != NULL)
            return cli_usage_error(&cli_verb_org, "org %s takes exactly one NAME", sub);
    } else {
        return cli_usage_error(&cli_verb_org, "unknown subcommand '%s'", sub);
    }
    is_change = strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0;
    data = cli_data_dir(data);
    ret = cli_data_open("org", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    cli_data_admin(st, data, &a);
    if (is_change) {
        ret = change(&a, sub, argv[optind]);
    } else if (strcmp(sub, "create") == 0) {
        if (admin_org_create(&a, argv[optind], rel, &org, &err) != MRD_OK) {
            cli_errorf("org", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        } else {
            printf("%s\n", MRD_ESC(org.name));
        }
    } else if (store_org_list(st, print_org, NULL, &err) != MRD_OK) {
        cli_errorf("org", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (strcmp(sub, "list") != 0)
        cli_data_ledger_catch_up("org", st, data);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_org = {
    .name = "org",
    .summary = "create, list, disable, enable and delete the orgs of this node",
    .usage = "usage: meridian org create NAME --relation own|constituent|partner [--data DIR]\n"
             "       meridian org list [--data DIR]\n"
             "       meridian org disable|enable|delete NAME [--data DIR]\n"
             "\n"
             "An org is a team or organisation that holds tokens and grants. Its relation\n"
             "to this node decides what it may read (TLP rules, docs/admin.md):\n"
             "  own          the team that runs the node\n"
             "  constituent  an org the team serves (ministry, ISP, company)\n"
             "  partner      another team, usually another node\n"
             "\n"
             "'create' prints only NAME on stdout. 'list' prints NAME, RELATION, the\n"
             "creation time and the state (active, disabled TIME, deleted TIME),\n"
             "tab-separated, one org per line.\n"
             "'disable' stops the org's access at once: its tokens and client certificates\n"
             "are refused (401), its console sessions end and the peer of the same name\n"
             "(if any) stops syncing; its tokens, grants and objects are kept.\n"
             "'enable' undoes that (revoked or expired tokens stay refused) and enables\n"
             "the peer of the same name.\n"
             "'delete' revokes its tokens, removes its grants, ends its sessions and\n"
             "removes the peer of the same name. The objects it wrote stay: deleting an\n"
             "org never deletes intelligence others received. The org is kept as a\n"
             "tombstone (objects and the audit trail keep naming it) and its name is never\n"
             "reused. The own org cannot be disabled or deleted.\n"
             "Every change is an audit record ('meridian audit').\n"
             "NAME: 1-64 characters of [A-Za-z0-9._-].\n" CLI_DATA_HELP
             "Exit status: 0 done, 2 usage error, name taken, no such org, or data error.\n",
    .run = run,
};
