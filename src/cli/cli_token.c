/*
 * meridian token: API tokens for orgs (TAXII `Authorization: Bearer`, or the
 * password of HTTP Basic).
 *
 * A token is 256 random bits shown once by `token create` (the only thing
 * on stdout) and stored as its SHA-256; `token list` shows names and public
 * prefixes, never secrets.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "store/store.h"

enum { O_DATA = 1, O_ORG, O_NAME, O_EXPIRES, O_OVERLAP };

static const struct option opts[] = {
    {"data", required_argument, NULL, O_DATA},
    {"org", required_argument, NULL, O_ORG},
    {"name", required_argument, NULL, O_NAME},
    {"expires", required_argument, NULL, O_EXPIRES},
    {"overlap", required_argument, NULL, O_OVERLAP},
    {NULL, 0, NULL, 0},
};

#define TOKEN_DEFAULT_OVERLAP_USEC ((int64_t)24 * 3600 * 1000000) /* rotate: one day */

static enum mrd_code print_token(void *ctx, const struct store_token *t)
{
    char created[32], state[48], expires[32], used[32], prev[32], prev_used[32];
    int64_t now = mrd_time_now_usec();

    (void)ctx;
    cli_data_time(t->created_usec, created);
    cli_data_time(t->expires_usec, expires);
    cli_data_time(t->last_used_usec, used);
    if (t->revoked_usec != STORE_TIME_NONE) {
        char r[32];

        cli_data_time(t->revoked_usec, r);
        (void)snprintf(state, sizeof(state), "revoked %s", r);
    } else if (t->expires_usec != STORE_TIME_NONE && t->expires_usec <= now) {
        (void)snprintf(state, sizeof(state), "expired");
    } else if (t->org_disabled) {
        (void)snprintf(state, sizeof(state), "org-disabled");
    } else {
        (void)snprintf(state, sizeof(state), "active");
    }
    printf("%s\t%s\t%s\t%s\texpires %s\tlast-used %s", MRD_ESC(t->name), MRD_ESC(t->org_name),
           created, state, expires, used);
    if (t->prev_expires_usec != STORE_TIME_NONE && t->prev_expires_usec > now) {
        cli_data_time(t->prev_expires_usec, prev);
        cli_data_time(t->prev_last_used_usec, prev_used);
        printf("\tprevious-secret-until %s last-used %s", prev, prev_used);
    }
    printf("\n");
    return MRD_OK;
}

static int do_create(struct admin *a, const char *org_name, const char *name, int64_t expires)
{
    char secret[STORE_TOKEN_LEN + 1];
    struct store_token tok;
    struct mrd_err err = {0};

    if (admin_token_create(a, org_name, name, expires, secret, &tok, &err) != MRD_OK) {
        cli_errorf("token", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    printf("%s\n", secret);
    sodium_memzero(secret, sizeof(secret));
    fprintf(stderr, "meridian token: created token '%s' for org '%s' (shown once)\n",
            MRD_ESC(tok.name), MRD_ESC(tok.org_name));
    return CLI_EXIT_OK;
}

static int do_rotate(struct admin *a, const char *name, int64_t overlap)
{
    char secret[STORE_TOKEN_LEN + 1], until[32];
    struct store_token tok;
    struct mrd_err err = {0};

    if (admin_token_rotate(a, name, overlap, secret, &tok, &err) != MRD_OK) {
        cli_errorf("token", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    printf("%s\n", secret);
    sodium_memzero(secret, sizeof(secret));
    cli_data_time(tok.prev_expires_usec, until);
    fprintf(stderr,
            "meridian token: new secret for token '%s' of org '%s' (shown once); the old one "
            "works until %s\n",
            tok.name, tok.org_name, until);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *data = NULL, *org = NULL, *name = NULL, *sub, *expires_arg = NULL;
    const char *overlap_arg = NULL;
    int64_t expires = STORE_TIME_NONE, overlap = TOKEN_DEFAULT_OVERLAP_USEC;
    struct store *st = NULL;
    struct store_token tok;
    struct admin a;
    struct mrd_err err = {0};
    int ret, c;

    if (argc < 2)
        return cli_usage_error(&cli_verb_token,
                               "give a subcommand: create, revoke, rotate or list");
    sub = argv[1];
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_ORG)
            org = optarg;
        else if (c == O_NAME)
            name = optarg;
        else if (c == O_EXPIRES)
            expires_arg = optarg;
        else if (c == O_OVERLAP)
            overlap_arg = optarg;
        else
            return cli_usage_error(&cli_verb_token, "unknown option");
    }
    if (strcmp(sub, "create") == 0) {
        if (org == NULL || optind != argc || overlap_arg != NULL)
            return cli_usage_error(&cli_verb_token,
                                   "token create takes --org ORG [--name NAME] [--expires WHEN]");
    } else if (strcmp(sub, "revoke") == 0 || strcmp(sub, "rotate") == 0) {
        if (optind + 1 != argc || org != NULL || name != NULL || expires_arg != NULL ||
            (sub[1] == 'e' && overlap_arg != NULL))
            return cli_usage_error(&cli_verb_token, "token %s takes one NAME%s", sub,
                                   sub[1] == 'e' ? " or PREFIX" : " [--overlap DURATION]");
    } else if (strcmp(sub, "list") == 0) {
        if (optind != argc || org != NULL || name != NULL || expires_arg || overlap_arg)
            return cli_usage_error(&cli_verb_token, "token list takes only --data");
    } else {
        return cli_usage_error(&cli_verb_token, "unknown subcommand '%s'", sub);
    }
    if (expires_arg != NULL && cli_data_when("token", "--expires", expires_arg, &expires) != 0)
        return CLI_EXIT_USAGE;
    if (overlap_arg != NULL &&
        cli_data_duration("token", "--overlap", overlap_arg, &overlap) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    data = cli_data_dir(data);
    ret = cli_data_open("token", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    cli_data_admin(st, data, &a);
    if (strcmp(sub, "create") == 0) {
        ret = do_create(&a, org, name, expires);
    } else if (strcmp(sub, "rotate") == 0) {
        ret = do_rotate(&a, argv[optind], overlap);
    } else if (strcmp(sub, "revoke") == 0) {
        if (admin_token_revoke(&a, argv[optind], &tok, &err) != MRD_OK) {
            cli_errorf("token", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        } else {
            fprintf(stderr, "meridian token: revoked token '%s' of org '%s'\n", MRD_ESC(tok.name),
                    MRD_ESC(tok.org_name));
        }
    } else if (store_token_list(st, print_token, NULL, &err) != MRD_OK) {
        cli_errorf("token", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (strcmp(sub, "list") != 0)
        cli_data_ledger_catch_up("token", st, data);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_token = {
    .name = "token",
    .summary = "create, rotate, revoke and list API tokens",
    .usage = "usage: meridian token create --org ORG [--name NAME] [--expires WHEN] [--data DIR]\n"
             "       meridian token rotate NAME [--overlap DURATION] [--data DIR]\n"
             "       meridian token revoke NAME|PREFIX [--data DIR]\n"
             "       meridian token list [--data DIR]\n"
             "\n"
             "'create' makes a new 256-bit token for ORG and prints only the token on\n"
             "stdout, once: the node keeps its SHA-256, never the token. Its NAME\n"
             "defaults to the token's first 12 characters (mrd_ + 8), which is safe to\n"
             "show and log. Clients send it as 'Authorization: Bearer TOKEN' or as the\n"
             "password of HTTP Basic authentication (any user name).\n"
             "--expires WHEN: the token stops working then: a time (2026-12-31T00:00:00Z)\n"
             "or a duration from now (90d, 12h, 30m, 45s).\n"
             "'rotate' gives token NAME a new secret, printed once on stdout; the old secret\n"
             "keeps working for --overlap (default 24h; 0 ends it now) so clients can\n"
             "switch without an outage. Rotating again ends an earlier overlap at once.\n"
             "'revoke' disables the token with that NAME, the token given whole (a leaked\n"
             "one), or the only one whose public prefix starts with PREFIX. Revoking twice\n"
             "is not an error. It also ends the token's console sessions.\n"
             "'list' prints NAME, ORG, created, state (active, revoked TIME, expired,\n"
             "org-disabled), expiry and last use (kept to within a minute), and during a\n"
             "rotation's overlap the old secret's end and last use, tab-separated.\n"
             "Every change is an audit record ('meridian audit').\n" CLI_DATA_HELP
             "Example: TOKEN=$(meridian token create --data D --org cert-b)\n"
             "Exit status: 0 done, 2 usage error, unknown org/token, or data error.\n",
    .run = run,
};
