/*
 * meridian migrate: bring a data directory's database to this build's
 * schema now, with progress (store.h, docs/operations.md "Upgrading").
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "store/store.h"

static int run(int argc, char **argv)
{
    const char *data = NULL;
    struct store_open_opts o;
    struct store *st = NULL;
    struct mrd_err err = {0};
    struct timespec t0, t1;
    int from = -1;

    if (cli_data_parse(&cli_verb_migrate, argc, argv, &data) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    if (optind != argc)
        return cli_usage_error(&cli_verb_migrate, "unexpected argument '%s'", argv[optind]);
    data = cli_data_dir(data);
    cli_data_open_opts(&o);
    o.ret_migrated_from = &from;
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    if (store_open(data, &o, &st, &err) != MRD_OK) {
        cli_errorf("migrate", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    store_close(st);
    if (from == store_schema_version())
        fprintf(stderr, "meridian migrate: %s is at schema %d already\n", data, from);
    else
        fprintf(stderr, "meridian migrate: %s: schema %d -> %d in %.2f s\n", data, from,
                store_schema_version(),
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return CLI_EXIT_OK;
}

const struct cli_verb cli_verb_migrate = {
    .name = "migrate",
    .summary = "bring the database to this version's schema now, with progress",
    .usage = "usage: meridian migrate [--data DIR]\n"
             "\n"
             "Migrates DIR's database to the schema this meridian writes, in one\n"
             "transaction (a failure changes nothing). Every verb and 'serve' migrate an\n"
             "older database by themselves when they open it; run this first to choose\n"
             "when the time is spent (measured times per million objects:\n"
             "bench/backup/README.md), after a 'meridian backup'. Progress is shown\n"
             "on a terminal (silent otherwise); a database from a newer meridian is\n"
             "refused.\n" CLI_DATA_HELP
             "Exit status: 0 done (or nothing to do), 2 usage or data error.\n",
    .run = run,
};
