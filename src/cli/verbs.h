/* The verbs main.c dispatches to; each is defined in cli/cli_<verb>.c. */
#ifndef MRD_CLI_VERBS_H
#define MRD_CLI_VERBS_H

#include "cli/cli.h"

extern const struct cli_verb cli_verb_ledger;
extern const struct cli_verb cli_verb_match;
extern const struct cli_verb cli_verb_pattern;
extern const struct cli_verb cli_verb_serve;
extern const struct cli_verb cli_verb_version;

#endif
