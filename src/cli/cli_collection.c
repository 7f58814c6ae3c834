/*
 * meridian collection: create and list TAXII collections.
 *
 * An API root is a trust community (docs/design.md §5); `collection create`
 * makes the API root on first use, and gives the node's own org read and
 * write on the new collection (the team that runs the node administers
 * what it creates; `meridian grant` changes that). Only the new
 * collection's id goes to stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/str.h"
#include "policy/policy.h"
#include "store/store.h"

enum { O_DATA = 1, O_ROOT, O_TITLE, O_ALIAS, O_DESC, O_TLP, O_PUBLIC };

static const struct option opts[] = {
    {"data", required_argument, NULL, O_DATA},
    {"api-root", required_argument, NULL, O_ROOT},
    {"title", required_argument, NULL, O_TITLE},
    {"alias", required_argument, NULL, O_ALIAS},
    {"description", required_argument, NULL, O_DESC},
    {"default-tlp", required_argument, NULL, O_TLP},
    {"public", no_argument, NULL, O_PUBLIC},
    {NULL, 0, NULL, 0},
};

struct args {
    const char *data, *root, *title, *alias, *desc, *tlp;
    bool public_read;
};

static enum mrd_code print_coll(void *ctx, const struct store_collection *c)
{
    struct store *st = ctx;
    uint64_t n = 0;

    if (store_objects_count(st, c->key, &n, NULL) != MRD_OK)
        n = 0;
    /* Names come from the store, written by whoever had a token: escaped. */
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%llu\n", MRD_ESC(c->id), MRD_ESC(c->api_root),
           c->alias[0] ? MRD_ESC(c->alias) : "-", policy_tlp_name(c->default_tlp),
           c->public_read ? "public" : "private", MRD_ESC(c->title), (unsigned long long)n);
    return MRD_OK;
}

/* Copies a (possibly long) argument into a fixed field, refusing to
 * truncate. */
static bool fit(const char *what, const char *src, char *dst, size_t size)
{
    if (mrd_strlcpy(dst, src, size) >= size) {
        cli_errorf("collection", "%s longer than %zu bytes", what, size - 1);
        return false;
    }
    return true;
}

static int do_create(struct store *st, const struct args *a)
{
    struct store_collection *c = NULL;
    struct store_api_root *root = NULL;
    struct store_org own;
    struct mrd_err err = {0};
    bool created = false;
    int ret = CLI_EXIT_USAGE;

    c = mrd_calloc(1, sizeof(*c));
    root = mrd_calloc(1, sizeof(*root));
    if (c == NULL || root == NULL) {
        cli_errorf("collection", "out of memory");
        goto out;
    }
    if (!fit("--api-root", a->root, root->name, sizeof(root->name)) ||
        !fit("--api-root", a->root, root->title, sizeof(root->title)) ||
        !fit("--api-root", a->root, c->api_root, sizeof(c->api_root)) ||
        !fit("--title", a->title, c->title, sizeof(c->title)) ||
        (a->alias != NULL && !fit("--alias", a->alias, c->alias, sizeof(c->alias))) ||
        (a->desc != NULL && !fit("--description", a->desc, c->description, sizeof(c->description))))
        goto out;
    c->default_tlp = POLICY_TLP_GREEN;
    if (a->tlp != NULL &&
        policy_tlp_parse(a->tlp, strlen(a->tlp), &c->default_tlp, &err) != MRD_OK) {
        cli_errorf("collection", "--default-tlp: %s", err.msg);
        goto out;
    }
    c->public_read = a->public_read;
    ret = cli_data_org("collection", st, NULL, &own);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_USAGE;
    root->max_content_length = STORE_DEFAULT_MAX_CONTENT;
    if (store_api_root_put(st, root, &created, &err) != MRD_OK ||
        store_collection_create(st, c, &err) != MRD_OK ||
        store_grant_set(st, own.key, c->key, (struct store_grant){true, true}, &err) != MRD_OK) {
        cli_errorf("collection", "%s", err.msg);
        goto out;
    }
    if (created)
        fprintf(stderr, "meridian collection: created API root '%s' (served at /%s/)\n",
                MRD_ESC(root->name), MRD_ESC(root->name));
    fprintf(stderr,
            "meridian collection: created '%s' in '%s' (default TLP %s, %s); org '%s' may read "
            "and write it\n",
            MRD_ESC(c->title), MRD_ESC(c->api_root), policy_tlp_name(c->default_tlp),
            c->public_read ? "public" : "private", MRD_ESC(own.name));
    printf("%s\n", c->id);
    ret = CLI_EXIT_OK;
out:
    mrd_free(c);
    mrd_free(root);
    return ret;
}

static int run(int argc, char **argv)
{
    struct args a = {0};
    const char *sub;
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret, c;

    if (argc < 2)
        return cli_usage_error(&cli_verb_collection, "give a subcommand: create or list");
    sub = argv[1];
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            a.data = optarg;
            break;
        case O_ROOT:
            a.root = optarg;
            break;
        case O_TITLE:
            a.title = optarg;
            break;
        case O_ALIAS:
            a.alias = optarg;
            break;
        case O_DESC:
            a.desc = optarg;
            break;
        case O_TLP:
            a.tlp = optarg;
            break;
        case O_PUBLIC:
            a.public_read = true;
            break;
        default:
            return cli_usage_error(&cli_verb_collection, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_collection, "unexpected argument '%s'", argv[optind]);
    if (strcmp(sub, "create") == 0) {
        if (a.root == NULL || a.title == NULL)
            return cli_usage_error(&cli_verb_collection,
                                   "--api-root NAME and --title T are required");
    } else if (strcmp(sub, "list") == 0) {
        if (a.title != NULL || a.alias != NULL || a.desc != NULL || a.tlp != NULL || a.public_read)
            return cli_usage_error(&cli_verb_collection,
                                   "collection list takes only --data and --api-root");
    } else {
        return cli_usage_error(&cli_verb_collection, "unknown subcommand '%s'", sub);
    }
    ret = cli_data_open("collection", cli_data_dir(a.data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (strcmp(sub, "create") == 0) {
        ret = do_create(st, &a);
    } else if (store_collection_list(st, a.root, print_coll, st, &err) != MRD_OK) {
        cli_errorf("collection", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_collection = {
    .name = "collection",
    .summary = "create and list TAXII collections (and their API roots)",
    .usage = "usage: meridian collection create --api-root NAME --title T [--alias A]\n"
             "              [--description D] [--default-tlp LEVEL] [--public] [--data DIR]\n"
             "       meridian collection list [--api-root NAME] [--data DIR]\n"
             "\n"
             "'create' makes a collection in API root NAME, served at /NAME/; the API root\n"
             "is created when it does not exist yet (an API root is a trust community).\n"
             "It prints only the new collection's id (a uuid) on stdout. The node's own\n"
             "org gets read and write on it; use 'meridian grant' for other orgs.\n"
             "  --alias A          a short name, unique in the API root (TAXII 'alias')\n"
             "  --description D    free text\n"
             "  --default-tlp L    the TLP of objects without a TLP marking: clear, green\n"
             "                     (default), amber, amber+strict or red\n"
             "  --public           TLP:CLEAR objects are readable without a token or grant\n"
             "'list' prints ID, API root, alias, default TLP, public/private, title and the\n"
             "number of stored object versions, tab-separated.\n" CLI_DATA_HELP
             "Example: ID=$(meridian collection create --api-root europe --title Indicators)\n"
             "Exit status: 0 done, 2 usage error, alias taken, or data error.\n",
    .run = run,
};
