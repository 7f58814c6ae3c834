/*
 * meridian key: the node's Ed25519 key (DESIGN.md §6).
 *
 * `key show` prints the public key in the exact form a partner pastes into
 * `meridian peer add --pubkey`; `key create` makes the key for a data
 * directory that has none (init does it for new ones). The secret never
 * leaves DIR/node.key.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "crypto/crypto.h"
#include "fed/fed.h"

static const char usage[] =
    "usage: meridian key show [--data DIR]\n"
    "       meridian key create [--data DIR]\n"
    "\n"
    "show    prints the node's public key, ed25519:<base64>, one line on stdout: give\n"
    "        it to partners, who pass it to 'meridian peer add --pubkey'. Objects this\n"
    "        node creates are signed with the matching secret key (docs/federation.md).\n"
    "create  makes DIR/" FED_NODE_KEY_FILE " (mode 0600) when it does not exist yet.\n"
    "\n"
    "  --data DIR   data directory (default $MERIDIAN_DATA or ./meridian-data)\n"
    "\n"
    "Exit status: 0 done, 2 usage, missing or unreadable key.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_key = {
    .name = "key",
    .summary = "show the node's public key (for peers' --pubkey)",
    .usage = usage,
    .run = run,
};

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *sub;
    char path[PATH_MAX], text[CRYPTO_PUBKEY_TEXT_LEN + 1];
    struct crypto_key *k = NULL;
    struct mrd_err err = {0};
    int c;

    if (argc < 2)
        return cli_usage_error(&cli_verb_key, "expected show or create");
    sub = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'd')
            return cli_usage_error(&cli_verb_key, "unknown option");
        data = optarg;
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_key, "unexpected argument '%s'", argv[optind]);
    data = cli_data_dir(data);
    if (strcmp(sub, "create") == 0) {
        if (fed_node_key_ensure(data, &err) != MRD_OK) {
            cli_errorf("key", "%s", err.msg);
            return CLI_EXIT_USAGE;
        }
    } else if (strcmp(sub, "show") != 0) {
        return cli_usage_error(&cli_verb_key, "unknown subcommand '%s'", sub);
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", data, FED_NODE_KEY_FILE) >= sizeof(path))
        return cli_usage_error(&cli_verb_key, "--data: path too long");
    if (crypto_key_load(path, &k, &err) != MRD_OK) {
        cli_errorf("key", "%s%s", err.msg,
                   err.code == MRD_E_NOTFOUND ? " (run 'meridian key create')" : "");
        return CLI_EXIT_USAGE;
    }
    crypto_pubkey_format(crypto_key_public(k), text);
    crypto_key_free(k);
    printf("%s\n", text);
    return CLI_EXIT_OK;
}
