/*
 * meridian restore: rebuild a node from a backup (backup/backup.h,
 * docs/operations.md).
 */
#include <getopt.h>
#include <stdio.h>

#include "backup/backup.h"
#include "cli/cli.h"
#include "cli/cli_backup.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"

static int run(int argc, char **argv)
{
    const char *data = NULL;
    struct backup_report r;
    struct mrd_err err = {0};

    if (cli_data_parse(&cli_verb_restore, argc, argv, &data) != CLI_EXIT_OK)
        return CLI_EXIT_USAGE;
    if (optind + 1 != argc)
        return cli_usage_error(&cli_verb_restore, "restore takes one FILE");
    data = cli_data_dir(data);
    if (backup_restore(argv[optind], data, &r, &err) != MRD_OK) {
        cli_errorf("restore", "%s", err.msg);
        cli_errorf("restore", "nothing was restored into %s", data);
        return err.code == MRD_E_INVALID || err.code == MRD_E_PARSE ? CLI_EXIT_FAIL
                                                                    : CLI_EXIT_USAGE;
    }
    cli_backup_print("restore", data, &r);
    fprintf(stderr,
            "meridian restore: verified: every member's SHA-256 and the seal; the ledger's size "
            "and root; its checkpoint against the node key; %llu leaves the store records\n",
            (unsigned long long)r.checked_leaves);
    return CLI_EXIT_OK;
}

const struct cli_verb cli_verb_restore = {
    .name = "restore",
    .summary = "rebuild a node from a 'meridian backup' file, verifying it",
    .usage = "usage: meridian restore FILE [--data DIR]\n"
             "\n"
             "Rebuilds the node saved in FILE (made by 'meridian backup') in DIR, which must\n"
             "not exist or be empty: restore never overwrites a node. It checks every byte\n"
             "while it writes (each member's SHA-256 against the manifest, the seal over the\n"
             "whole file, the archive's structure, nothing after its end), then the node:\n"
             "the ledger's size and root are the manifest's, its checkpoint verifies with\n"
             "the node key and matches the ledger, and every leaf the store records is in\n"
             "the ledger with the entry the store's row gives. A database from an older\n"
             "Meridian is migrated. Peers resume from the cursors saved in the backup.\n"
             "\n"
             "A truncated or altered file, or a ledger that does not match its store, is\n"
             "refused with what is wrong, and nothing is left in DIR.\n"
             "\n"
             "  --data DIR   the directory to create (default $MERIDIAN_DATA, else 'data'\n"
             "               in /etc/meridian/meridian.conf, else ./node-data)\n"
             "Then: meridian ledger verify --data DIR; meridian serve --data DIR ...\n"
             "Exit status: 0 restored, 1 the backup is truncated, altered or inconsistent,\n"
             "2 usage or I/O error (DIR not empty, disk full).\n",
    .run = run,
};
