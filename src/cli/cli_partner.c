/*
 * meridian partner revoke: end a partner's access in one step
 * (admin/admin.h, docs/admin.md "Account and partner lifecycle").
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"

static int run(int argc, char **argv)
{
    const char *data = NULL;
    struct store *st = NULL;
    struct admin a;
    struct admin_report r;
    struct mrd_err err = {0};
    int ret;

    if (argc < 2 || strcmp(argv[1], "revoke") != 0)
        return cli_usage_error(&cli_verb_partner, "give a subcommand: revoke");
    if (cli_data_parse(&cli_verb_partner, argc - 1, argv + 1, &data) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    argc--;
    argv++;
    if (optind + 1 != argc)
        return cli_usage_error(&cli_verb_partner, "partner revoke takes one NAME");
    data = cli_data_dir(data);
    ret = cli_data_open("partner", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    cli_data_admin(st, data, &a);
    if (admin_partner_revoke(&a, argv[optind], &r, &err) != MRD_OK) {
        cli_errorf("partner", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        printf("revoked %s: %u token(s) revoked, %u grant(s) removed, %u session(s) ended, "
               "org %s, peer %s\n",
               MRD_ESC(argv[optind]), r.org.tokens_revoked, r.org.grants_removed, r.sessions_ended,
               r.org.before.key != 0 ? "disabled" : "(none)",
               r.peer_found ? (r.peer_changed ? "disabled" : "already disabled") : "(none)");
    }
    cli_data_ledger_catch_up("partner", st, data);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_partner = {
    .name = "partner",
    .summary = "revoke a partner in one step (tokens, grants, sessions, peer)",
    .usage = "usage: meridian partner revoke NAME [--data DIR]\n"
             "\n"
             "Ends everything partner NAME has on this node, at once: every token of the\n"
             "org NAME is revoked (a running server refuses them from the next request),\n"
             "every grant it holds is removed, its console sessions end, the org is\n"
             "disabled, and the peer NAME (the partner's server we sync with) is disabled:\n"
             "nothing more is pulled from or pushed to it. The peer is kept, with its\n"
             "cursors, and the org with what it wrote (objects others received stay);\n"
             "'meridian org delete NAME' removes the org and the peer for good.\n"
             "Prints what it did on stdout; one audit record lists it ('meridian "
             "audit').\n" CLI_DATA_HELP
             "Exit status: 0 done, 2 no org or peer named NAME, the own org, usage or data\n"
             "error.\n",
    .run = run,
};
