/*
 * cli_data: what the administrative verbs share about the data directory.
 *
 * Every verb takes `--data DIR`; without it the directory is
 * $MERIDIAN_DATA, else the `data` setting of the config file
 * (conf_default_path(): /etc/meridian/meridian.conf, which the Debian
 * package points at /var/lib/meridian), else ./node-data (what
 * scripts/node uses). The helpers open the store, find the own org and
 * resolve a collection argument, printing a clear error as
 * "meridian VERB: ..." on failure and returning the exit code to use, so
 * verbs stay short. Used by init, org, token, collection, grant, import and
 * export.
 */
#ifndef MRD_CLI_DATA_H
#define MRD_CLI_DATA_H

#include "cli/cli.h"
#include "store/store.h"

#define CLI_DATA_ENV "MERIDIAN_DATA"
#define CLI_DATA_DEFAULT "./node-data"
/* The --data line of every verb's manual. */
#define CLI_DATA_HELP                                                                              \
    "  --data DIR   the data directory (default $MERIDIAN_DATA, else 'data' in\n"                  \
    "               /etc/meridian/meridian.conf, else ./node-data)\n"

/* The data directory to use: opt when given, else $MERIDIAN_DATA, else
 * the config file's `data`, else CLI_DATA_DEFAULT. Never NULL. A config
 * file that exists but cannot be read or has errors is reported on stderr
 * (once) and skipped. */
const char *cli_data_dir(const char *opt);

/* The same order with the config file's value given (serve reads its own
 * --config): opt, $MERIDIAN_DATA, from_conf, CLI_DATA_DEFAULT. */
const char *cli_data_dir_from(const char *opt, const char *from_conf);

/* Opens the store in dir (which must have been made by `meridian init`).
 * Returns CLI_EXIT_OK or prints the error and returns CLI_EXIT_USAGE. */
int cli_data_open(const char *verb, const char *dir, struct store **ret);

/* Looks up an org by name; prints "no org named ..." and returns
 * CLI_EXIT_USAGE when missing. name NULL means the node's own org (meta key
 * "own_org", set by init). */
int cli_data_org(const char *verb, struct store *st, const char *name, struct store_org *ret);

/* Resolves a collection argument: its uuid, or ROOT/ALIAS. */
int cli_data_collection(const char *verb, struct store *st, const char *arg,
                        struct store_collection *ret);

struct ckpt_signer;
struct ledger;

/* The node's checkpoint signer: the node key (DIR/node.key) under the key
 * name "meridian/<own org>/<node id>", which is also the checkpoints'
 * origin. Prints the error and returns CLI_EXIT_USAGE on failure. */
int cli_data_signer(const char *verb, struct store *st, const char *dir, struct ckpt_signer *ret);

/* Opens DIR/ledger (creating it) for writing and brings it up to date with
 * the store (ledger/sync.h). When a running server holds the ledger, *ret
 * is NULL and CLI_EXIT_OK: the server records the store's queue itself
 * within a second. */
int cli_data_ledger(const char *verb, struct store *st, const char *dir, struct ledger **ret);

/* cli_data_ledger and close: for verbs that stored objects or holds, so
 * the ledger records them now when no server runs. Failures are printed as
 * a warning (the queue stays in the store; the next sync takes it). */
void cli_data_ledger_catch_up(const char *verb, struct store *st, const char *dir);

/* Formats usec as a STIX millisecond timestamp, or "-" for STORE_TIME_NONE. */
void cli_data_time(int64_t usec, char out[32]);

#endif
