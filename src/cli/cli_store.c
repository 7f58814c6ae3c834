/*
 * meridian store copy: a node's database from SQLite to PostgreSQL or
 * back (store.h, store_copy; docs/store.md "Moving a node between
 * backends").
 */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "store/store.h"

#define VERB "store"

struct show {
    struct cli_progress bar;
    char label[96];
};

static void show_progress(void *ctx, const struct store_copy_progress *p)
{
    struct show *s = ctx;

    if (p->done == 0) {
        (void)snprintf(s->label, sizeof(s->label), "store copy: %u/%u %s", p->table_no, p->tables,
                       p->table);
        cli_progress_init(&s->bar, s->label, "rows", p->total);
    }
    cli_progress_tick(&s->bar, p->done);
}

static int cmd_copy(int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    const char *from = NULL, *to = NULL;
    struct store_copy_report rep;
    struct mrd_err err = {0};
    struct show show = {0};
    enum mrd_code rc;
    char digest[2 * sizeof(rep.ledger_digest) + 1];
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f')
            from = optarg;
        else if (c == 't')
            to = optarg;
        else
            return cli_usage_error(&cli_verb_store, "copy: unknown option");
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_store, "copy: unexpected argument '%s'", argv[optind]);
    if (from == NULL || to == NULL)
        return cli_usage_error(&cli_verb_store, "copy needs --from and --to");
    rc = store_copy(from, to, show_progress, &show, &rep, &err);
    if (rc != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return rc == MRD_E_INVALID ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < rep.ntables; i++)
        printf("%-18s %" PRIu64 " rows\n", rep.tables[i].name, rep.tables[i].rows);
    (void)sodium_bin2hex(digest, sizeof(digest), rep.ledger_digest, sizeof(rep.ledger_digest));
    printf("verified: every table read back equal (row counts and digests)\n");
    printf("objects %" PRIu64 ", ledger leaves %" PRIu64 ", ledger events %" PRIu64
           ", highest leaf %" PRId64 "\n",
           rep.objects, rep.ledger_leaves, rep.ledger_events, rep.max_leaf);
    printf("ledger records digest %s\n", digest);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_store, "needs a command");
    if (strcmp(argv[1], "copy") == 0)
        return cmd_copy(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_store, "unknown command '%s'", argv[1]);
}

const struct cli_verb cli_verb_store = {
    .name = "store",
    .summary = "move a node's database between SQLite and PostgreSQL",
    .usage = "usage: meridian store copy --from DIR|postgresql://... --to DIR|postgresql://...\n"
             "\n"
             "copy moves everything a node keeps in its database -- orgs, tokens, API roots,\n"
             "collections, grants, every object version with its flags, statuses,\n"
             "conflicts, the value index, the ledger's object leaves and event queue, console\n"
             "sessions, legal holds, feeds, assets, notifications, contacts, deliveries and\n"
             "the access audit --\n"
             "from one store into a new, empty one: SQLite to PostgreSQL, or back. A DIR\n"
             "names the SQLite file DIR/meridian.db (whatever DIR/store.dsn says; created\n"
             "in --to); a postgresql:// URI (libpq: TLS, service files) names a database\n"
             "that exists (its Meridian schema is created). Keys keep their values;\n"
             "SQLite's free-text, reference and overview indexes are rebuilt.\n"
             "\n"
             "It reads one snapshot of --from and writes --to in one transaction, which\n"
             "commits only after every table has been read back from --to and found equal\n"
             "(row count and a digest of every row): a failure leaves --to as it was. A\n"
             "target holding orgs, roots, collections, objects or ledger events is\n"
             "refused. Stop 'meridian serve' first (rows written during the copy are not\n"
             "in it). Progress (rows, rate, ETA) is shown on a terminal; the rows per\n"
             "table, the ledger's leaves and highest leaf and a digest of the ledger\n"
             "records are printed. PostgreSQL is written with COPY (no round trip per\n"
             "row) and read one row at a time, so memory stays small at any size.\n"
             "\n"
             "The node's other files stay in its data directory (node key, certificates,\n"
             "fed.db, ledger/). To switch the node over after the copy (docs/store.md):\n"
             "  to PostgreSQL:  write the URI into DIR/store.dsn (mode 0600);\n"
             "  to SQLite:      copy --to the node's own DIR, then remove DIR/store.dsn.\n"
             "'meridian ledger checkpoint --data DIR' then prints the same tree head.\n"
             "\n"
             "Exit status: 0 copied and verified, 1 the target differed after the copy\n"
             "(nothing committed), 2 usage, a non-empty target or a database error.\n",
    .run = run,
};
