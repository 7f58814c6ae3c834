#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "core/timestamp.h"

static enum mrd_log_level min_level = MRD_LOG_INFO;

void mrd_log_set_level(enum mrd_log_level level)
{
    min_level = level;
}

void mrd_log(enum mrd_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[2048], msg[2048];
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
    m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    /* Messages carry request paths, names and peers' errors: escaped
     * (str.h), no outside byte can forge a record or drive a terminal. */
    mrd_str_escape(line + n, sizeof(line) - (size_t)n - 1, msg,
                   (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1);
    n += (int)strlen(line + n);
    line[n++] = '\n';
    (void)!write(2, line, (size_t)n);
}
