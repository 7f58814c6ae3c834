#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"

static const char *const code_names[] = {
#define MRD_X_NAME(code, name) name,
    MRD_CODE_TABLE(MRD_X_NAME)
#undef MRD_X_NAME
};

const char *mrd_code_str(enum mrd_code code)
{
    if ((size_t)code >= sizeof(code_names) / sizeof(code_names[0]))
        return "unknown error";
    return code_names[code];
}

void mrd_err_clear(struct mrd_err *err)
{
    if (err == NULL)
        return;
    err->code = MRD_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

__attribute__((format(printf, 3, 0))) static void err_vset(struct mrd_err *err, enum mrd_code code,
                                                           const char *fmt, va_list ap)
{
    /* First message wins: the innermost failure is the most precise. */
    if (err->msg[0] != '\0' && err->code != MRD_OK)
        return;
    err->code = code;
    (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

enum mrd_code mrd_err_set(struct mrd_err *err, enum mrd_code code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    va_start(ap, fmt);
    err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

enum mrd_code mrd_err_sys(struct mrd_err *err, enum mrd_code code, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (err == NULL)
        return code;
    if (err->msg[0] != '\0' && err->code != MRD_OK)
        return code;
    va_start(ap, fmt);
    err_vset(err, code, fmt, ap);
    va_end(ap);
    err->sys_errno = errnum;
    n = strlen(err->msg);
    if (n < sizeof(err->msg))
        (void)snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
    return code;
}

void mrd_err_prefix(struct mrd_err *err, const char *fmt, ...)
{
    char old[MRD_ERR_MSG_MAX];
    size_t n;
    va_list ap;

    if (err == NULL)
        return;
    memcpy(old, err->msg, sizeof(old));
    va_start(ap, fmt);
    (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    n = strlen(err->msg);
    if (n + 2 < sizeof(err->msg)) {
        memcpy(err->msg + n, ": ", 2);
        n += 2;
        mrd_strlcpy(err->msg + n, old, sizeof(err->msg) - n);
    }
}
