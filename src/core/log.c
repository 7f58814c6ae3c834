#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "core/timestamp.h"

static enum mrd_log_level min_level = MRD_LOG_INFO;

void mrd_log_set_level(enum mrd_log_level level)
{
    min_level = level;
}

void mrd_log(enum mrd_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[2048];
    char ts[MRD_TIME_TAXII_LEN + 1];
    va_list ap;
    int n, m;

    if (level < min_level)
        return;
    mrd_time_format_taxii(mrd_time_now_usec(), ts);
    n = snprintf(line, sizeof(line), "%s %s ", ts, names[level]);
    if (n < 0)
        return;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(2, line, (size_t)n);
}
