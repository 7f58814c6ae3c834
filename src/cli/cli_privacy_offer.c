/*
 * `meridian privacy offer|offers|withdraw`: the offers of private matching
 * (pmatch.h, docs/privacy.md). Parses arguments, calls pmatch/, prints.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_privacy_offer.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "pmatch/pmatch.h"
#include "store/store.h"

#define VERB "privacy"

int cli_privacy_offer(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"collection", required_argument, NULL, 'c'},
        {"to", required_argument, NULL, 't'},   {"budget", required_argument, NULL, 'b'},
        {"reveal", no_argument, NULL, 'r'},     {NULL, 0, NULL, 0},
    };
    struct pmatch_offer o;
    const char *data = NULL, *coll = NULL;
    struct store *st = NULL;
    struct store_collection c;
    struct mrd_err err = {0};
    int ch, ret;

    memset(&o, 0, sizeof(o));
    o.budget = PMATCH_DEFAULT_BUDGET;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            coll = optarg;
            break;
        case 't':
            if (o.nto == PMATCH_MAX_TO || strlen(optarg) >= sizeof(o.to[0]))
                return cli_usage_error(&cli_verb_privacy, "--to: at most %d orgs of %zu bytes",
                                       PMATCH_MAX_TO, sizeof(o.to[0]) - 1);
            mrd_strlcpy(o.to[o.nto++], optarg, sizeof(o.to[0]));
            break;
        case 'r':
            o.reveal = true;
            break;
        case 'b':
            if (mrd_str_to_u64(optarg, strlen(optarg), PMATCH_MAX_VALUES, &o.budget, NULL) !=
                    MRD_OK ||
                o.budget == 0)
                return cli_usage_error(&cli_verb_privacy, "--budget: expected 1..%d",
                                       PMATCH_MAX_VALUES);
            break;
        default:
            return cli_usage_error(&cli_verb_privacy, "unknown option");
        }
    }
    if (optind + 1 != argc || coll == NULL)
        return cli_usage_error(&cli_verb_privacy, "offer needs NAME and --collection ID");
    if (strlen(argv[optind]) > PMATCH_NAME_MAX)
        return cli_usage_error(&cli_verb_privacy, "offer name longer than %d bytes",
                               PMATCH_NAME_MAX);
    mrd_strlcpy(o.name, argv[optind], sizeof(o.name));
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_collection(VERB, st, coll, &c);
    for (size_t i = 0; ret == CLI_EXIT_OK && i < o.nto; i++)
        ret = cli_data_org(VERB, st, o.to[i], &(struct store_org){0});
    if (ret != CLI_EXIT_OK)
        goto out;
    mrd_strlcpy(o.collection, c.id, sizeof(o.collection));
    if (pmatch_offer_put(st, &o, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    printf("offer %s: collection %s, %" PRIu64 " values a day per org, to %s%s\n", o.name, c.id,
           o.budget, o.nto == 0 ? "the orgs that may read the collection" : "the orgs named",
           o.reveal ? "; matched indicators revealed" : "");
out:
    store_close(st);
    return ret;
}

int cli_privacy_offers(int argc, char **argv)
{
    struct pmatch_offer all[PMATCH_MAX_OFFERS];
    const char *data = NULL;
    struct store *st = NULL;
    struct mrd_err err = {0};
    size_t n = 0;
    int ret = cli_data_parse(&cli_verb_privacy, argc, argv, &data);

    if (ret != CLI_EXIT_OK)
        return ret;
    if (optind != argc)
        return cli_usage_error(&cli_verb_privacy, "offers takes no arguments");
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (pmatch_offer_list(st, all, &n, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%s\tcollection=%s\tbudget=%" PRIu64 "\treveal=%s\tto=", all[i].name,
               all[i].collection, all[i].budget, all[i].reveal ? "yes" : "no");
        for (size_t k = 0; k < all[i].nto; k++)
            printf("%s%s", k > 0 ? "," : "", MRD_ESC(all[i].to[k]));
        printf("%s\n", all[i].nto == 0 ? "(readers of the collection)" : "");
    }
    store_close(st);
    return ret;
}

int cli_privacy_withdraw(int argc, char **argv)
{
    const char *data = NULL;
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret = cli_data_parse(&cli_verb_privacy, argc, argv, &data);

    if (ret != CLI_EXIT_OK)
        return ret;
    if (optind + 1 != argc)
        return cli_usage_error(&cli_verb_privacy, "withdraw needs NAME");
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (pmatch_offer_remove(st, argv[optind], &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_FAIL;
    }
    store_close(st);
    return ret;
}
