#include <stdio.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "cli/verbs.h"

#ifndef MERIDIAN_VERSION
#define MERIDIAN_VERSION "unknown"
#endif

static int run(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return cli_usage_error(&cli_verb_version, "takes no arguments");
    printf("meridian %s (jansson %s, sqlite %s, libsodium %s)\n", MERIDIAN_VERSION, JANSSON_VERSION,
           sqlite3_libversion(), sodium_version_string());
    return CLI_EXIT_OK;
}

const struct cli_verb cli_verb_version = {
    .name = "version",
    .summary = "print the version and the libraries it was built with",
    .usage = "usage: meridian version\n"
             "\n"
             "Prints Meridian's version and the versions of the libraries it uses.\n",
    .run = run,
};
