#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum mrd_code cli_read_file(const char *path, size_t max, struct mrd_buf *out, struct mrd_err *err)
{
    out->max = max;
    if (strcmp(path, "-") == 0)
        return mrd_buf_read_fd(out, 0, "-", err);
    return mrd_buf_read_file(out, path, err);
}

void cli_errorf(const char *verb, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "meridian %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "meridian %s: ", verb->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", cli_verb_usage(verb));
    return CLI_EXIT_USAGE;
}

const char *cli_verb_usage(const struct cli_verb *verb)
{
    return verb->usage_fn != NULL ? verb->usage_fn() : verb->usage;
}
