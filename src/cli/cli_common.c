#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum mrd_code cli_read_file(const char *path, size_t max, struct mrd_buf *out, struct mrd_err *err)
{
    int fd = -1;
    enum mrd_code rc = MRD_OK;
    char chunk[65536];

    if (strcmp(path, "-") == 0) {
        fd = 0;
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
    }
    out->max = max;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = mrd_err_sys(err, MRD_E_IO, errno, "%s: read", path);
            goto out;
        }
        if (r == 0)
            break;
        rc = mrd_buf_append(out, chunk, (size_t)r, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "%s", path);
            goto out;
        }
    }
    if (out->data == NULL)
        rc = mrd_buf_reserve(out, 0, err); /* empty file: still a valid string */
out:
    if (fd > 0)
        (void)close(fd);
    return rc;
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
