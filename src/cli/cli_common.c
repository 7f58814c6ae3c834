#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "core/uuid.h"
#include "sensor/sensor.h"
#include "core/timestamp.h"

enum mrd_code cli_read_file(const char *path, size_t max, struct mrd_buf *out, struct mrd_err *err)
{
    out->max = max;
    if (strcmp(path, "-") == 0)
        return mrd_buf_read_fd(out, 0, "-", err);
    return mrd_buf_read_file(out, path, err);
}

/* Messages carry names, values and errors from outside (file contents,
 * peers' answers, command-line arguments): each is printed escaped
 * (str.h), so none can drive the terminal or forge another line. */
__attribute__((format(printf, 2, 0))) static void print_escaped(const char *verb, const char *fmt,
                                                                va_list ap)
{
    char msg[4096], out[4 * sizeof(msg)];

    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    fprintf(stderr, "meridian %s: %s\n", verb, mrd_str_escape(out, sizeof(out), msg, strlen(msg)));
}

void cli_errorf(const char *verb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    print_escaped(verb, fmt, ap);
    va_end(ap);
}

int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    print_escaped(verb->name, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", cli_verb_usage(verb));
    return CLI_EXIT_USAGE;
}

const char *cli_verb_usage(const struct cli_verb *verb)
{
    return verb->usage_fn != NULL ? verb->usage_fn() : verb->usage;
}

void cli_print_escaped(const char *s, size_t n)
{
    struct mrd_buf b;

    mrd_buf_init(&b, 4 * n + 1);
    if (mrd_buf_escape(&b, s, n, NULL) == MRD_OK)
        fwrite(b.data, 1, b.len, stdout);
    fputc('\n', stdout);
    mrd_buf_release(&b);
}

enum mrd_code cli_print_json(const json_t *j, size_t flags)
{
    char *s = json_dumps(j, flags | JSON_ENSURE_ASCII);

    if (s == NULL)
        return MRD_E_NOMEM;
    /* ENSURE_ASCII leaves DEL (0x7F) alone; in JSON text it can only be
     * inside a string, where \u007f is the same character. */
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == 0x7F)
            fputs("\\u007f", stdout);
        else
            fputc(*p, stdout);
    }
    fputc('\n', stdout);
    free(s); /* jansson's allocator */
    return MRD_OK;
}

int cli_print_list(const char *verb, enum mrd_code rc, const struct mrd_err *err, json_t *all,
                   const char *key)
{
    int ret = CLI_EXIT_OK;

    if (rc != MRD_OK) {
        cli_errorf(verb, "%s", err->msg);
        ret = CLI_EXIT_USAGE;
    } else if (all != NULL) {
        json_t *doc = json_pack("{s:O}", key, all);
        if (doc == NULL || cli_print_json(doc, JSON_INDENT(2)) != MRD_OK)
            ret = CLI_EXIT_USAGE;
        json_decref(doc);
    }
    json_decref(all);
    return ret;
}

void cli_progress_init(struct cli_progress *p, const char *verb, const char *unit, uint64_t total)
{
    p->verb = verb;
    p->unit = unit;
    p->on = isatty(STDERR_FILENO) == 1;
    p->total = total;
    p->t0 = mrd_time_now_usec();
    p->last = p->t0;
    p->shown = false;
}

/* Seconds since the start when a line is due (at most four a second),
 * else a negative number. */
static double progress_due(struct cli_progress *p)
{
    int64_t now;

    if (!p->on)
        return -1;
    now = mrd_time_now_usec();
    if (now - p->last < 250000)
        return -1;
    p->last = now;
    return (double)(now - p->t0) / 1e6;
}

void cli_progress_tick(struct cli_progress *p, uint64_t done)
{
    double secs, rate;

    secs = progress_due(p);
    if (secs < 0)
        return;
    rate = secs > 0 ? (double)done / secs : 0;
    if (p->total > 0 && rate > 0 && done <= p->total)
        fprintf(stderr, "\rmeridian %s: %llu of %llu %s, %.0f/s, ETA %.0f s   ", p->verb,
                (unsigned long long)done, (unsigned long long)p->total, p->unit, rate,
                (double)(p->total - done) / rate);
    else
        fprintf(stderr, "\rmeridian %s: %llu %s, %.0f/s   ", p->verb, (unsigned long long)done,
                p->unit, rate);
    p->shown = true;
}

void cli_progress_stream(struct cli_progress *p, uint64_t done, uint64_t bytes,
                         uint64_t total_bytes)
{
    double secs;

    if (total_bytes == 0 || bytes == 0 || bytes > total_bytes) {
        cli_progress_tick(p, done);
        return;
    }
    secs = progress_due(p);
    if (secs < 0)
        return;
    fprintf(stderr, "\rmeridian %s: %llu %s, %.0f/s, %llu of %llu MB, ETA %.0f s   ", p->verb,
            (unsigned long long)done, p->unit, secs > 0 ? (double)done / secs : 0.0,
            (unsigned long long)(bytes >> 20), (unsigned long long)(total_bytes >> 20),
            secs * (double)(total_bytes - bytes) / (double)bytes);
    p->shown = true;
}

void cli_progress_end(struct cli_progress *p)
{
    if (p->on && p->shown)
        fprintf(stderr, "\r\033[K");
    p->shown = false;
}

int cli_write_alert_bundle(const char *verb, json_t *objects, const char *path, enum policy_tlp tlp)
{
    char uuid[MRD_UUID_STR_LEN + 1], id[64];
    struct mrd_err err = {0};
    json_t *bundle = NULL;
    int ret = CLI_EXIT_USAGE;
    FILE *f = NULL;

    if (sensor_alerts_mark(objects, tlp, &err) != MRD_OK)
        goto out;
    if (mrd_uuid_v4(uuid, &err) != MRD_OK)
        goto out;
    (void)snprintf(id, sizeof(id), "bundle--%s", uuid);
    bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id", id, "objects", objects);
    f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (bundle == NULL || f == NULL ||
        json_dumpf(bundle, f, JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0 || fputc('\n', f) == EOF ||
        (f != stdout && fclose(f) != 0) || (f == stdout && fflush(f) != 0)) {
        mrd_err_set(&err, MRD_E_IO, "cannot write the STIX bundle");
        f = NULL;
        goto out;
    }
    f = NULL;
    ret = CLI_EXIT_OK;
out:
    if (f != NULL && f != stdout)
        (void)fclose(f);
    if (ret != CLI_EXIT_OK)
        cli_errorf(verb, "%s: %s", path, err.msg);
    json_decref(bundle);
    return ret;
}
