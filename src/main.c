/*
 * meridian: one binary, many verbs (see docs/ and `meridian help`).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/str.h"

/* The verb table. Keep it sorted by name; `meridian help` lists it as is. */
/* clang-format off */
static const struct cli_verb *const verbs[] = {
    &cli_verb_bgp,
    &cli_verb_collection,
    &cli_verb_demo,
    &cli_verb_evidence,
    &cli_verb_export,
    &cli_verb_grant,
    &cli_verb_hold,
    &cli_verb_import,
    &cli_verb_init,
    &cli_verb_key,
    &cli_verb_ledger,
    &cli_verb_match,
    &cli_verb_org,
    &cli_verb_pattern,
    &cli_verb_peer,
    &cli_verb_privacy,
    &cli_verb_serve,
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
            "\n"
            "Meridian: a federated early-warning and threat-sharing node (STIX 2.1, TAXII 2.1).\n"
            "\n"
            "verbs:\n");
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %-12s %s\n", verbs[i]->name, verbs[i]->summary);
    fprintf(f, "\n'meridian help VERB' prints a verb's manual.\n");
}

int main(int argc, char **argv)
{
    const struct cli_verb *v;

    if (argc < 2) {
        overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        if (argc < 3) {
            overview(stdout);
            return CLI_EXIT_OK;
        }
        v = find(argv[2]);
        if (v == NULL) {
            fprintf(stderr, "meridian help: no verb named '%s'\n", MRD_ESC(argv[2]));
            return CLI_EXIT_USAGE;
        }
        fputs(v->usage, stdout);
        return CLI_EXIT_OK;
    }
    v = find(argv[1]);
    if (v == NULL) {
        fprintf(stderr, "meridian: no verb named '%s' (try 'meridian help')\n", MRD_ESC(argv[1]));
        return CLI_EXIT_USAGE;
    }
    return v->run(argc - 1, argv + 1);
}
