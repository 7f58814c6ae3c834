/*
 * meridian: one binary, many verbs (see docs/ and `meridian help`).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_man.h"
#include "cli/verbs.h"
#include "core/str.h"

/* The verb table. Keep it sorted by name; `meridian help` lists it as is. */
/* clang-format off */
static const struct cli_verb *const verbs[] = {
    &cli_verb_asset,
    &cli_verb_audit,
    &cli_verb_backup,
    &cli_verb_bgp,
    &cli_verb_collection,
    &cli_verb_config,
    &cli_verb_conflicts,
    &cli_verb_contact,
    &cli_verb_demo,
    &cli_verb_dns,
    &cli_verb_erase,
    &cli_verb_evidence,
    &cli_verb_export,
    &cli_verb_feed,
    &cli_verb_grant,
    &cli_verb_hold,
    &cli_verb_import,
    &cli_verb_init,
    &cli_verb_key,
    &cli_verb_ledger,
    &cli_verb_match,
    &cli_verb_migrate,
    &cli_verb_notify,
    &cli_verb_org,
    &cli_verb_pattern,
    &cli_verb_partner,
    &cli_verb_peer,
    &cli_verb_privacy,
    &cli_verb_restore,
    &cli_verb_retention,
    &cli_verb_search,
    &cli_verb_serve,
    &cli_verb_store,
    &cli_verb_sync,
    &cli_verb_token,
    &cli_verb_validate,
    &cli_verb_version,
};
/* clang-format on */

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const struct cli_verb *find(const char *name)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(verbs[i]->name, name) == 0)
            return verbs[i];
    return NULL;
}

static void overview(FILE *f)
{
    fprintf(f,
            "usage: meridian VERB [OPTIONS] [ARGS]\n"
            "       meridian --version\n"
            "\n"
            "Meridian: a federated early-warning and threat-sharing node (STIX 2.1, TAXII 2.1).\n"
            "\n"
            "verbs:\n");
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %-12s %s\n", verbs[i]->name, verbs[i]->summary);
    fprintf(f, "\n'meridian help VERB' prints a verb's manual ('meridian help help': more).\n");
}

static const char help_usage[] =
    "usage: meridian help [VERB]\n"
    "       meridian help --man [VERB]\n"
    "\n"
    "Without VERB, lists the verbs; with one, prints its manual, the same text\n"
    "as its man page meridian-VERB(1) ('man meridian-serve').\n"
    "\n"
    "  --man        print the manual page in roff (man(7)) instead: meridian(1)\n"
    "               without VERB, meridian-VERB(1) with one. The build makes the\n"
    "               installed man pages this way, so they always match 'help'.\n"
    "\n"
    "Every verb also takes its options after the verb name; 'meridian VERB' with\n"
    "wrong arguments prints the manual too. 'meridian --version' prints the\n"
    "version ('meridian version': with the libraries').\n"
    "\n"
    "Environment: MERIDIAN_DATA names the data directory when --data is not\n"
    "given; MERIDIAN_CONFIG the config file instead of\n"
    "/etc/meridian/meridian.conf (see 'meridian help config').\n"
    "\n"
    "Exit status: 0, or 2 when there is no such verb.\n";

static const struct cli_verb help_verb = {
    .name = "help",
    .summary = "print a verb's manual, or its man page (--man)",
    .usage = help_usage,
};

static int help(int argc, char **argv)
{
    const struct cli_verb *v;
    bool man = argc > 2 && strcmp(argv[2], "--man") == 0;
    const char *name = argc > 2 + man ? argv[2 + man] : NULL;

    if (argc > 3 + man) {
        fprintf(stderr, "meridian help: one verb at a time\n");
        return CLI_EXIT_USAGE;
    }
    if (name == NULL) {
        if (man)
            cli_man_overview(stdout, verbs, NVERBS);
        else
            overview(stdout);
        return CLI_EXIT_OK;
    }
    v = strcmp(name, "help") == 0 ? &help_verb : find(name);
    if (v == NULL) {
        fprintf(stderr, "meridian help: no verb named '%s'\n", MRD_ESC(name));
        return CLI_EXIT_USAGE;
    }
    if (man)
        cli_man_verb(stdout, v);
    else
        fputs(cli_verb_usage(v), stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    const struct cli_verb *v;

    if (argc < 2) {
        overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0)
        return help(argc, argv);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("meridian %s\n", MERIDIAN_VERSION);
        return CLI_EXIT_OK;
    }
    v = find(argv[1]);
    if (v == NULL) {
        fprintf(stderr, "meridian: no verb named '%s' (try 'meridian help')\n", MRD_ESC(argv[1]));
        return CLI_EXIT_USAGE;
    }
    return v->run(argc - 1, argv + 1);
}
