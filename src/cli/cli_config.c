/*
 * meridian config: check a config file, list the settings, print an
 * example file. The work is in conf/ (conf.h); this file parses, prints
 * and picks the exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "conf/conf.h"

static int check(const char *path)
{
    struct conf cf;
    struct mrd_err err = {0};

    if (conf_init(&cf, conf_serve_keys, CONF_SERVE__COUNT, &err) != MRD_OK) {
        cli_errorf("config", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (conf_load(&cf, path, &err) == MRD_OK) {
        printf("%s: ok\n", path);
        conf_release(&cf);
        return CLI_EXIT_OK;
    }
    if (cf.nerrors == 0) { /* the file itself: missing, unreadable, too big */
        cli_errorf("config", "%s", err.msg);
        conf_release(&cf);
        return CLI_EXIT_USAGE;
    }
    /* conf/ escapes what it quotes from the file (names, values). */
    for (size_t i = 0; i < cf.nerrors && i < CONF_MAX_ERRORS; i++)
        fprintf(stderr, "%s\n", cf.errors[i]);
    if (cf.nerrors > CONF_MAX_ERRORS)
        fprintf(stderr, "... and %zu more\n", cf.nerrors - CONF_MAX_ERRORS);
    conf_release(&cf);
    return CLI_EXIT_FAIL;
}

static int print_buf(enum mrd_code (*fn)(const struct conf_key *, size_t, struct mrd_buf *,
                                         struct mrd_err *))
{
    struct mrd_buf b;
    struct mrd_err err = {0};

    mrd_buf_init(&b, (size_t)1 << 20);
    if (fn(conf_serve_keys, CONF_SERVE__COUNT, &b, &err) != MRD_OK) {
        cli_errorf("config", "%s", err.msg);
        mrd_buf_release(&b);
        return CLI_EXIT_USAGE;
    }
    fwrite(b.data, 1, b.len, stdout);
    mrd_buf_release(&b);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return check(argv[2]);
    if (argc == 2 && strcmp(argv[1], "keys") == 0)
        return print_buf(conf_usage);
    if (argc == 2 && strcmp(argv[1], "example") == 0) {
        printf("# meridian.conf: settings of 'meridian serve' (docs/deployment.md).\n"
               "# 'NAME = VALUE' sets what --NAME VALUE sets; flags override this file.\n"
               "# Every setting is listed with its default, commented out.\n");
        return print_buf(conf_example);
    }
    return cli_usage_error(&cli_verb_config, argc < 2 ? "needs a command" : "unknown command");
}

const struct cli_verb cli_verb_config = {
    .name = "config",
    .summary = "check a config file, list the settings of serve",
    .usage = "usage: meridian config check FILE\n"
             "       meridian config keys\n"
             "       meridian config example\n"
             "\n"
             "'meridian serve' reads its settings from a config file (--config FILE, else\n"
             "$MERIDIAN_CONFIG, else /etc/meridian/meridian.conf when it exists), then\n"
             "from its command line, which wins. The file has one 'NAME = VALUE' per\n"
             "line for each '--NAME VALUE' of serve ('http = true' for --http), '#' or\n"
             "';' comment lines, and optionally a '[serve]' section header. Its 'data'\n"
             "setting is also where every other verb finds the data directory when\n"
             "neither --data nor $MERIDIAN_DATA is given.\n"
             "\n"
             "  check FILE   checks every line of FILE: unknown settings, values of the\n"
             "               wrong type or out of range, syntax; each error is printed\n"
             "               as FILE:LINE: message\n"
             "  keys         lists every setting with its default and meaning\n"
             "  example      prints a config file with every setting commented out\n"
             "\n"
             "Exit status: 0 the file is valid, 1 it has errors (all are printed), 2 usage\n"
             "or the file cannot be read.\n",
    .run = run,
};
