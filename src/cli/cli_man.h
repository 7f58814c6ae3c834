/*
 * cli_man: roff manual pages from the verbs' usage texts (cli_man.c).
 */
#ifndef MRD_CLI_MAN_H
#define MRD_CLI_MAN_H

#include <stdio.h>

#include "cli/cli.h"

/* meridian-VERB(1): NAME from the summary, SYNOPSIS from the usage lines,
 * DESCRIPTION the rest of the text as written. */
void cli_man_verb(FILE *f, const struct cli_verb *v);

/* meridian(1): the list of verbs, environment and files. */
void cli_man_overview(FILE *f, const struct cli_verb *const *verbs, size_t n);

#endif
