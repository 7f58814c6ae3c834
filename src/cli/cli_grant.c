/*
 * meridian grant: set what an org may do on a collection. The grant given
 * replaces the previous one, so `grant --org O --collection C` with neither
 * --read nor --write withdraws all access.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/str.h"
#include "store/store.h"

static enum mrd_code print_grant(void *ctx, const struct store_grant_row *g)
{
    (void)ctx;
    printf("%s\t%s\t%s\t%s\t%s\n", MRD_ESC(g->org_name), MRD_ESC(g->collection_id),
           MRD_ESC(g->api_root), g->grant.can_read ? "read" : "-",
           g->grant.can_write ? "write" : "-");
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_ORG, O_COLL, O_READ, O_WRITE };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},       {"org", required_argument, NULL, O_ORG},
        {"collection", required_argument, NULL, O_COLL}, {"read", no_argument, NULL, O_READ},
        {"write", no_argument, NULL, O_WRITE},           {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org_name = NULL, *coll_arg = NULL;
    struct store_grant g = {false, false};
    struct store *st = NULL;
    struct store_org org;
    struct store_collection *coll = NULL;
    struct mrd_err err = {0};
    bool list = false;
    int ret, c;

    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        list = true;
        argc--;
        argv++;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_COLL:
            coll_arg = optarg;
            break;
        case O_READ:
            g.can_read = true;
            break;
        case O_WRITE:
            g.can_write = true;
            break;
        default:
            return cli_usage_error(&cli_verb_grant, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_grant, "unexpected argument '%s'", argv[optind]);
    if (list && (g.can_read || g.can_write))
        return cli_usage_error(&cli_verb_grant, "grant list takes no --read/--write");
    if (!list && (org_name == NULL || coll_arg == NULL))
        return cli_usage_error(&cli_verb_grant, "--org ORG and --collection ID are required");
    ret = cli_data_open("grant", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    coll = mrd_calloc(1, sizeof(*coll));
    if (coll == NULL) {
        cli_errorf("grant", "out of memory");
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    org.key = 0;
    coll->key = 0;
    if (org_name != NULL)
        ret = cli_data_org("grant", st, org_name, &org);
    if (ret == CLI_EXIT_OK && coll_arg != NULL)
        ret = cli_data_collection("grant", st, coll_arg, coll);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (list) {
        if (store_grant_list(st, org.key, coll->key, print_grant, NULL, &err) != MRD_OK) {
            cli_errorf("grant", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        }
        goto out;
    }
    if (store_grant_set(st, org.key, coll->key, g, &err) != MRD_OK) {
        cli_errorf("grant", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    fprintf(stderr, "meridian grant: org '%s' on collection %s (%s/%s): read %s, write %s\n",
            MRD_ESC(org.name), MRD_ESC(coll->id), MRD_ESC(coll->api_root), MRD_ESC(coll->title),
            g.can_read ? "yes" : "no", g.can_write ? "yes" : "no");
out:
    mrd_free(coll);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_grant = {
    .name = "grant",
    .summary = "set (or list) orgs' read/write access to collections",
    .usage = "usage: meridian grant --org ORG --collection ID [--read] [--write] [--data DIR]\n"
             "       meridian grant list [--org ORG] [--collection ID] [--data DIR]\n"
             "\n"
             "Sets ORG's access to the collection ID (its uuid, or API-ROOT/ALIAS) to\n"
             "exactly the flags given: --read lets it read (subject to the TLP rules in\n"
             "docs/admin.md), --write lets it add objects. Neither flag withdraws all\n"
             "access. A partner with a grant on a collection in API root R is a member of\n"
             "the community R.\n"
             "'grant list' prints ORG, collection id, API root, read|- and write|-,\n"
             "tab-separated, one line per org and collection with any access.\n" CLI_DATA_HELP
             "Exit status: 0 done, 2 usage error, unknown org/collection, or data error.\n",
    .run = run,
};
