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

/* Prints a schema migration's progress on stderr, on one line that it
 * rewrites (store.h, struct store_progress). */
void cli_data_progress(void *ctx, const struct store_progress *p);
/* Open options for the CLI: migration progress when stderr is a terminal,
 * silence otherwise. */
void cli_data_open_opts(struct store_open_opts *ret);

/* getopt for verbs whose only option is --data DIR: parses argv from
 * argv[1], sets *ret_data (unchanged when not given) and leaves the
 * operands at argv[optind..]. Prints the usage and returns CLI_EXIT_USAGE
 * for any other option. */
int cli_data_parse(const struct cli_verb *verb, int argc, char **argv, const char **ret_data);

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

struct admin;

/* An admin context (admin/admin.h) for a CLI verb: the actor is the local
 * user; each audit record's line goes to stderr. */
void cli_data_admin(struct store *st, const char *dir, struct admin *ret);

/* A point in time given as a timestamp (2026-12-31T00:00:00Z) or as a
 * duration from now (90d, 12h, 30m, 45s): usec since the epoch. Prints the
 * error (naming opt) and returns CLI_EXIT_USAGE when it is neither. */
int cli_data_when(const char *verb, const char *opt, const char *s, int64_t *ret);

/* A duration (90d, 12h, 30m, 45s, or plain seconds) in usec. */
int cli_data_duration(const char *verb, const char *opt, const char *s, int64_t *ret);

/* A row id given on the command line: a positive decimal integer that
 * fits int64_t. False (nothing stored) when s is anything else. */
bool cli_data_row_id(const char *s, int64_t *ret);

/* Formats usec as a STIX millisecond timestamp, or "-" for STORE_TIME_NONE. */
void cli_data_time(int64_t usec, char out[32]);

#endif
