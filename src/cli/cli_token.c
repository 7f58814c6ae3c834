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

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "store/store.h"

enum { O_DATA = 1, O_ORG, O_NAME };

static const struct option opts[] = {
    {"data", required_argument, NULL, O_DATA},
    {"org", required_argument, NULL, O_ORG},
    {"name", required_argument, NULL, O_NAME},
    {NULL, 0, NULL, 0},
};

static enum mrd_code print_token(void *ctx, const struct store_token *t)
{
    char created[32], revoked[32];

    (void)ctx;
    cli_data_time(t->created_usec, created);
    cli_data_time(t->revoked_usec, revoked);
    printf("%s\t%s\t%s\t%s%s\n", MRD_ESC(t->name), MRD_ESC(t->org_name), created,
           t->revoked_usec == STORE_TIME_NONE ? "active" : "revoked ",
           t->revoked_usec == STORE_TIME_NONE ? "" : revoked);
    return MRD_OK;
}

static int do_create(struct store *st, const char *org_name, const char *name)
{
    char secret[STORE_TOKEN_LEN + 1];
    struct store_token tok;
    struct store_org org;
    struct mrd_err err = {0};
    int ret = cli_data_org("token", st, org_name, &org);

    if (ret != CLI_EXIT_OK)
        return ret;
    if (store_token_create(st, org.key, name, secret, &tok, &err) != MRD_OK) {
        cli_errorf("token", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    printf("%s\n", secret);
    sodium_memzero(secret, sizeof(secret));
    fprintf(stderr, "meridian token: created token '%s' for org '%s' (shown once)\n",
            MRD_ESC(tok.name), MRD_ESC(tok.org_name));
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *data = NULL, *org = NULL, *name = NULL, *sub;
    struct store *st = NULL;
    struct store_token tok;
    struct mrd_err err = {0};
    int ret, c;

    if (argc < 2)
        return cli_usage_error(&cli_verb_token, "give a subcommand: create, revoke or list");
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
        else
            return cli_usage_error(&cli_verb_token, "unknown option");
    }
    if (strcmp(sub, "create") == 0) {
        if (org == NULL || optind != argc)
            return cli_usage_error(&cli_verb_token, "token create takes --org ORG [--name NAME]");
    } else if (strcmp(sub, "revoke") == 0) {
        if (optind + 1 != argc || org != NULL || name != NULL)
            return cli_usage_error(&cli_verb_token, "token revoke takes one NAME or PREFIX");
    } else if (strcmp(sub, "list") == 0) {
        if (optind != argc || org != NULL || name != NULL)
            return cli_usage_error(&cli_verb_token, "token list takes only --data");
    } else {
        return cli_usage_error(&cli_verb_token, "unknown subcommand '%s'", sub);
    }
    ret = cli_data_open("token", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (strcmp(sub, "create") == 0) {
        ret = do_create(st, org, name);
    } else if (strcmp(sub, "revoke") == 0) {
        if (store_token_revoke(st, argv[optind], &tok, &err) != MRD_OK) {
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
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_token = {
    .name = "token",
    .summary = "create, revoke and list API tokens",
    .usage = "usage: meridian token create --org ORG [--name NAME] [--data DIR]\n"
             "       meridian token revoke NAME|PREFIX [--data DIR]\n"
             "       meridian token list [--data DIR]\n"
             "\n"
             "'create' makes a new 256-bit token for ORG and prints only the token on\n"
             "stdout, once: the node keeps its SHA-256, never the token. Its NAME\n"
             "defaults to the token's first 12 characters (mrd_ + 8), which is safe to\n"
             "show and log. Clients send it as 'Authorization: Bearer TOKEN' or as the\n"
             "password of HTTP Basic authentication (any user name).\n"
             "'revoke' disables the token with that NAME, the token given whole (a leaked\n"
             "one), or the only one whose public prefix starts with PREFIX. Revoking twice\n"
             "is not an error.\n"
             "'list' prints NAME, ORG, created and active/revoked, tab-separated.\n" CLI_DATA_HELP
             "Example: TOKEN=$(meridian token create --data D --org cert-b)\n"
             "Exit status: 0 done, 2 usage error, unknown org/token, or data error.\n",
    .run = run,
};
