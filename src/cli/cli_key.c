/*
 * meridian key: the node's Ed25519 key (docs/design.md §6).
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
#include "core/str.h"
#include "crypto/crypto.h"
#include "fed/fed.h"

static const char usage[] =
    "usage: meridian key show [--data DIR]\n"
    "       meridian key create [--data DIR]\n"
    "       meridian key trust NAME KEY [--data DIR]\n"
    "       meridian key untrust NAME [--data DIR]\n"
    "       meridian key list [--data DIR]\n"
    "\n"
    "show    prints the node's public key, ed25519:<base64>, one line on stdout: give\n"
    "        it to partners, who pass it to 'meridian peer add --pubkey'. Objects this\n"
    "        node creates are signed with the matching secret key (docs/federation.md).\n"
    "create  makes DIR/" FED_NODE_KEY_FILE " (mode 0600) when it does not exist yet.\n"
    "trust   adds the public key KEY of a node further away (not a direct peer, whose\n"
    "        key is 'peer add --pubkey'), so objects it signed verify as valid here\n"
    "untrust removes such a key\n"
    "list    prints NAME<TAB>KEY of every trusted key (peers' keys marked 'peer')\n"
    "\n" CLI_DATA_HELP "\n"
    "Exit status: 0 done, 2 usage, missing or unreadable key.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_key = {
    .name = "key",
    .summary = "show the node's public key (for peers' --pubkey)",
    .usage = usage,
    .run = run,
};

static enum mrd_code print_key(void *ctx, const char *name, const char *pubkey)
{
    (void)ctx;
    printf("%s\t%s\n", MRD_ESC(name), MRD_ESC(pubkey));
    return MRD_OK;
}

static enum mrd_code print_peer_key(void *ctx, const struct fed_peer *p,
                                    const struct fed_peer_state *s)
{
    (void)s;
    if (p->pubkey[0] != '\0')
        printf("%s\t%s\tpeer\n", MRD_ESC(p->name), MRD_ESC(p->pubkey));
    (void)ctx;
    return MRD_OK;
}

/* trust, untrust and list: the keyring kept in fed.db. */
static int keyring_verb(const char *data, const char *sub, char **args, int nargs)
{
    struct fed_state *fs = NULL;
    struct mrd_err err = {0};

    if ((strcmp(sub, "trust") == 0 && nargs != 2) || (strcmp(sub, "untrust") == 0 && nargs != 1) ||
        (strcmp(sub, "list") == 0 && nargs != 0))
        return cli_usage_error(&cli_verb_key, "key %s: wrong number of arguments", sub);
    if (fed_state_open(data, &fs, &err) == MRD_OK) {
        if (sub[0] == 't')
            (void)fed_key_trust(fs, args[0], args[1], &err);
        else if (sub[0] == 'u')
            (void)fed_key_untrust(fs, args[0], &err);
        else if (fed_peer_list(fs, print_peer_key, NULL, &err) == MRD_OK)
            (void)fed_key_list(fs, print_key, NULL, &err);
    }
    fed_state_close(fs);
    if (err.code != MRD_OK) {
        cli_errorf("key", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

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
    data = cli_data_dir(data);
    if (strcmp(sub, "trust") == 0 || strcmp(sub, "untrust") == 0 || strcmp(sub, "list") == 0)
        return keyring_verb(data, sub, argv + optind, argc - optind);
    if (optind != argc)
        return cli_usage_error(&cli_verb_key, "unexpected argument '%s'", argv[optind]);
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
