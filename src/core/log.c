/*
 * log.c: the log sink (log.h). The file sink keeps one descriptor number
 * for its whole life: reopening dup2()s the new file onto it, so a thread
 * in the middle of write(2) writes to the old file or the new one, never to
 * a closed or reused descriptor.
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/str.h"
#include "core/timestamp.h"

enum sink { SINK_STDERR, SINK_FILE, SINK_SYSLOG };

static enum mrd_log_level min_level = MRD_LOG_INFO;
static enum sink sink = SINK_STDERR;
static int file_fd = -1;
static char file_path[PATH_MAX];
static bool json;

static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void mrd_log_set_level(enum mrd_log_level level)
{
    min_level = level;
}

void mrd_log_set_json(bool on)
{
    json = on;
}

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

enum mrd_code mrd_log_open(const char *target, struct mrd_err *err)
{
    int fd;

    if (strcmp(target, "stderr") == 0) {
        mrd_log_close();
        return MRD_OK;
    }
    if (strcmp(target, "syslog") == 0) {
        mrd_log_close();
        openlog("meridian", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        sink = SINK_SYSLOG;
        return MRD_OK;
    }
    if (strlen(target) >= sizeof(file_path))
        return mrd_err_set(err, MRD_E_INVAL, "log file path too long");
    fd = open_file(target);
    if (fd < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "log file %s", target);
    mrd_log_close();
    (void)mrd_strlcpy(file_path, target, sizeof(file_path));
    file_fd = fd;
    sink = SINK_FILE;
    return MRD_OK;
}

enum mrd_code mrd_log_reopen(struct mrd_err *err)
{
    int fd;

    if (sink != SINK_FILE)
        return MRD_OK;
    fd = open_file(file_path);
    if (fd < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "log file %s", file_path);
    if (dup2(fd, file_fd) < 0) {
        int e = errno;
        (void)close(fd);
        return mrd_err_sys(err, MRD_E_IO, e, "log file %s", file_path);
    }
    (void)close(fd);
    return MRD_OK;
}

void mrd_log_close(void)
{
    if (sink == SINK_FILE && file_fd >= 0)
        (void)close(file_fd);
    if (sink == SINK_SYSLOG)
        closelog();
    file_fd = -1;
    sink = SINK_STDERR;
}

/* Writes one finished record; line[n] may be overwritten with '\n'. The
 * prefix ("TS LEVEL ") is skipped for syslog, which stamps its own. */
static void emit(enum mrd_log_level level, char *line, size_t n, size_t prefix)
{
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};

    if (sink == SINK_SYSLOG) {
        line[n] = '\0';
        syslog(prio[level], "%s", line + prefix);
        return;
    }
    line[n++] = '\n';
    (void)!write(sink == SINK_FILE ? file_fd : 2, line, n);
}

/* Appends s to line (at most cap - 2 bytes in all: room for '\n' and
 * NUL); returns the new length. */
static size_t put(char *line, size_t n, size_t cap, const char *s, size_t len)
{
    if (n + 2 >= cap)
        return n;
    if (len > cap - 2 - n)
        len = cap - 2 - n;
    memcpy(line + n, s, len);
    return n + len;
}

/* Appends (s, len) as the inside of a JSON string: '"', '\\', controls
 * (C0, DEL, C1) and the bidi overrides and isolates as \uXXXX, so the line
 * holds no raw control character; a byte of invalid UTF-8 as the text
 * "\xNN" (its backslash escaped). */
static size_t put_json(char *line, size_t n, size_t cap, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    char esc[16];
    size_t i = 0;

    while (i < len) {
        size_t cl = s[i] < 0x80 ? 1 : s[i] < 0xE0 ? 2 : s[i] < 0xF0 ? 3 : 4;
        unsigned cp = s[i];

        if (cl > len - i || mrd_utf8_check(str + i, cl) != cl) { /* invalid UTF-8 here */
            (void)snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
            n = put(line, n, cap, esc, strlen(esc));
            i++;
            continue;
        }
        if (cl == 2)
            cp = ((s[i] & 0x1fu) << 6) | (s[i + 1] & 0x3fu);
        else if (cl == 3)
            cp = ((s[i] & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
        if (cp == '"' || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            n = put(line, n, cap, esc, 2);
        } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
                   (cp >= 0x2066 && cp <= 0x2069)) {
            (void)snprintf(esc, sizeof(esc), "\\u%04x", cp);
            n = put(line, n, cap, esc, 6);
        } else {
            n = put(line, n, cap, str + i, cl);
        }
        i += cl;
    }
    return n;
}

/* Appends (s, len) escaped for the current format. */
static size_t put_escaped(char *line, size_t n, size_t cap, const char *s, size_t len)
{
    char esc[MRD_LOG_MAX_LINE];
    size_t k;

    if (json)
        return put_json(line, n, cap, s, len);
    /* A value is one token of "key=value ...": its spaces too are
     * escaped, so a path cannot carry a forged " token=admin". */
    mrd_str_escape(esc, sizeof(esc), s, len);
    k = strlen(esc);
    for (size_t i = 0; i < k; i++)
        n = esc[i] == ' ' ? put(line, n, cap, "\\x20", 4) : put(line, n, cap, esc + i, 1);
    return n;
}

/* "TS LEVEL " or {"time":"TS","level":"LEVEL", into line. */
static size_t start(enum mrd_log_level level, char *line, size_t cap, size_t *ret_prefix)
{
    char ts[MRD_TIME_TAXII_LEN + 1];
    int n;

    mrd_time_format_taxii(mrd_time_now_usec(), ts);
    if (json)
        n = snprintf(line, cap, "{\"time\":\"%s\",\"level\":\"%s\"", ts, names[level]);
    else
        n = snprintf(line, cap, "%s %s ", ts, names[level]);
    *ret_prefix = json ? 0 : (size_t)(n > 0 ? n : 0);
    return n > 0 ? (size_t)n : 0;
}

void mrd_log(enum mrd_log_level level, const char *fmt, ...)
{
    char line[MRD_LOG_MAX_LINE], msg[MRD_LOG_MAX_LINE];
    size_t n, prefix;
    va_list ap;
    int m;

    if (level < min_level)
        return;
    n = start(level, line, sizeof(line), &prefix);
    va_start(ap, fmt);
    m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    if ((size_t)m >= sizeof(msg))
        m = (int)sizeof(msg) - 1;
    if (json) {
        /* The message is the caller's text: keep it readable, but a JSON
         * string cannot hold raw control characters or unescaped quotes. */
        n = put(line, n, sizeof(line), ",\"msg\":\"", 8);
        n = put_escaped(line, n, sizeof(line), msg, (size_t)m);
        n = put(line, n, sizeof(line), "\"}", 2);
    } else {
        /* Messages carry request paths, names and peers' errors: escaped
         * (str.h), no outside byte can forge a record or drive a terminal. */
        char esc[MRD_LOG_MAX_LINE];
        mrd_str_escape(esc, sizeof(esc), msg, (size_t)m);
        n = put(line, n, sizeof(line), esc, strlen(esc));
    }
    emit(level, line, n, prefix);
}

void mrd_log_kv(enum mrd_log_level level, const char *event, const struct mrd_log_kv *kv,
                size_t nkv)
{
    char line[MRD_LOG_MAX_LINE], num[64];
    size_t n, prefix;

    if (level < min_level)
        return;
    n = start(level, line, sizeof(line), &prefix);
    if (json) {
        n = put(line, n, sizeof(line), ",\"event\":\"", 10);
        n = put(line, n, sizeof(line), event, strlen(event));
        n = put(line, n, sizeof(line), "\"", 1);
    } else {
        n = put(line, n, sizeof(line), event, strlen(event));
    }
    for (size_t i = 0; i < nkv; i++) {
        const struct mrd_log_kv *f = &kv[i];
        n = put(line, n, sizeof(line), json ? ",\"" : " ", json ? 2 : 1);
        n = put(line, n, sizeof(line), f->key, strlen(f->key));
        n = put(line, n, sizeof(line), json ? "\":" : "=", json ? 2 : 1);
        if (f->str == NULL && f->is_num) {
            int k = snprintf(num, sizeof(num), "%.15g", f->num);
            n = put(line, n, sizeof(line), num, k > 0 ? (size_t)k : 0);
        } else if (f->str == NULL) {
            n = put(line, n, sizeof(line), json ? "null" : "-", json ? 4 : 1);
        } else {
            if (json)
                n = put(line, n, sizeof(line), "\"", 1);
            n = put_escaped(line, n, sizeof(line), f->str, strlen(f->str));
            if (json)
                n = put(line, n, sizeof(line), "\"", 1);
        }
    }
    if (json)
        n = put(line, n, sizeof(line), "}", 1);
    emit(level, line, n, prefix);
}
