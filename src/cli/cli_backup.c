/*
 * meridian backup: an online backup of a node's data directory, and
 * `backup verify` to check one (backup/backup.h, docs/operations.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "backup/backup.h"
#include "cli/cli.h"
#include "cli/cli_backup.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/pace.h"
#include "core/str.h"

#define VERB "backup"

void cli_backup_print(const char *verb, const char *what, const struct backup_report *r)
{
    char hex[MERKLE_HASH_LEN * 2 + 1],
        root[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];

    sodium_bin2hex(hex, sizeof(hex), r->sha256, sizeof(r->sha256));
    sodium_bin2base64(root, sizeof(root), r->ledger_root, sizeof(r->ledger_root),
                      sodium_base64_VARIANT_ORIGINAL);
    fprintf(stderr,
            "meridian %s: %s: node %s (org %s), %llu object versions (schema %d), ledger %llu "
            "leaves (root %s, checkpoint at %llu), %u peers, %zu members, %llu bytes\n",
            verb, MRD_ESC(what), MRD_ESC(r->node_id), MRD_ESC(r->own_org),
            (unsigned long long)r->objects, r->schema_version, (unsigned long long)r->ledger_size,
            root, (unsigned long long)r->checkpoint_size, r->peers, r->members,
            (unsigned long long)r->bytes);
    /* stdout: the file's SHA-256, to record beside the backup */
    printf("%s\n", hex);
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_OUT, O_RATE };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"output", required_argument, NULL, O_OUT},
        {"max-rate", required_argument, NULL, O_RATE},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *out = NULL;
    struct backup_opts bo = {0};
    struct backup_report r;
    struct mrd_err err = {0};
    int c;

    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        if (argc != 3)
            return cli_usage_error(&cli_verb_backup, "backup verify takes one FILE");
        if (backup_verify(argv[2], &r, &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            return CLI_EXIT_FAIL;
        }
        cli_backup_print(VERB, "ok", &r);
        return CLI_EXIT_OK;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_OUT || c == 'o')
            out = optarg;
        else if (c == O_RATE && mrd_pace_parse(optarg, &bo.max_rate, &err) != MRD_OK)
            return cli_usage_error(&cli_verb_backup, "--max-rate: %s", err.msg);
        else if (c != O_RATE)
            return cli_usage_error(&cli_verb_backup, "unknown option");
    }
    if (optind != argc || out == NULL)
        return cli_usage_error(&cli_verb_backup, "backup needs -o FILE");
    data = cli_data_dir(data);
    if (backup_write(data, out, &bo, &r, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < r.n_skipped; i++)
        cli_errorf(VERB, "note: left out %s/%s (not a regular file, or larger than %llu bytes)",
                   data, r.skipped[i], (unsigned long long)BACKUP_MAX_FILE);
    cli_backup_print(VERB, out, &r);
    return CLI_EXIT_OK;
}

const struct cli_verb cli_verb_backup = {
    .name = "backup",
    .summary = "online backup of a node (store, federation, ledger, keys) into one file",
    .usage =
        "usage: meridian backup [--data DIR] [--max-rate RATE] -o FILE\n"
        "       meridian backup verify FILE\n"
        "\n"
        "Writes everything the node in DIR is into FILE, while 'meridian serve' keeps\n"
        "running and accepting writes: a consistent snapshot of the store (meridian.db),\n"
        "the federation state (fed.db: peers, their tokens and cursors), the ledger\n"
        "leaves the store records and its signed checkpoint, the node key, the TLS\n"
        "certificate and key, and the other top-level files of DIR (config). A manifest\n"
        "lists each member's size and SHA-256 and the ledger's size and root; a seal\n"
        "closes the file with the SHA-256 of everything before it.\n"
        "\n"
        "FILE is written as FILE.partial, synced to disk and then renamed: a backup that\n"
        "is killed leaves the node and any earlier FILE as they were. FILE is created\n"
        "mode 0600: it holds the node's secret key, the TLS key and peer tokens; keep it\n"
        "as you keep the node.\n"
        "\n"
        "'verify' checks a backup without restoring it (every member's SHA-256, the\n"
        "seal, the archive's structure) and names what is wrong.\n"
        "\n"
        "A node whose database is PostgreSQL (DIR/store.dsn) is refused: back it up\n"
        "with PostgreSQL's tools, pg_dump or pg_basebackup with WAL archiving, after\n"
        "copying DIR's files (docs/store.md, \"Backups on PostgreSQL\"), or take a\n"
        "SQLite copy with 'meridian store copy' and back that up.\n"
        "\n"
        "stdout: the SHA-256 of FILE (record it with the backup). stderr: a summary.\n"
        "Restore with 'meridian restore FILE --data NEWDIR' (docs/operations.md).\n" CLI_DATA_HELP
        "  -o FILE      the backup file to write (replaced if it exists)\n"
        "  --max-rate RATE  move at most RATE bytes per second (K, M, G: powers of\n"
        "               1024; e.g. 64M), so that the node serving beside the backup keeps\n"
        "               its speed: the store counts twice (copied, then read back for\n"
        "               its SHA-256), everything else once. Default: no limit.\n"
        "Exit status: 0 written (verify: intact), 1 verify found it altered or\n"
        "truncated, 2 usage or I/O error.\n",
    .run = run,
};
