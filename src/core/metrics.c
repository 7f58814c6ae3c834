/*
 * metrics.c: fixed slots of atomic counters (metrics.h).
 *
 * A label table publishes its entries with a release store of its count,
 * so readers scan it without a lock; only adding a label value takes the
 * table's mutex (once per value, and at most MRD_METRIC_MAX_LABELS times).
 */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "core/timestamp.h"

#define OTHER MRD_METRIC_MAX_LABELS /* the slot of label values past the table */

struct labels {
    pthread_mutex_t mu;
    _Atomic unsigned n;
    char name[MRD_METRIC_MAX_LABELS][MRD_METRIC_MAX_LABEL_LEN + 1];
};

struct family {
    const char *name;
    const char *label; /* label name, or NULL for a single series */
    const char *help;
    struct labels l;
    _Atomic uint64_t v[MRD_METRIC_MAX_LABELS + 1];
};

/* clang-format off */
#define FAMILY(n, lab, h) {.name = (n), .label = (lab), .help = (h), .l = {.mu = PTHREAD_MUTEX_INITIALIZER}}
static struct family families[MRD_M__COUNT] = {
    [MRD_M_OBJECTS_INGESTED] = FAMILY("meridian_objects_ingested_total", "origin",
        "New object versions stored: created here (local) or received."),
    [MRD_M_OBJECTS_REJECTED] = FAMILY("meridian_objects_rejected_total", "reason",
        "Objects refused at ingest (never stored), by reason."),
    [MRD_M_AUTH_FAILURES] = FAMILY("meridian_auth_failures_total", "reason",
        "Requests whose credentials were refused, by reason."),
    [MRD_M_SYNC_ROUNDS] = FAMILY("meridian_sync_rounds_total", "peer",
        "Federation sync rounds attempted, per peer."),
    [MRD_M_SYNC_ERRORS] = FAMILY("meridian_sync_errors_total", "peer",
        "Federation sync rounds that failed, per peer."),
    [MRD_M_SYNC_PULLED] = FAMILY("meridian_sync_pulled_objects_total", "peer",
        "Object versions stored from a peer's pulls."),
    [MRD_M_SYNC_PUSHED] = FAMILY("meridian_sync_pushed_objects_total", "peer",
        "Objects a peer accepted from our pushes."),
    [MRD_M_LEDGER_CHECKPOINTS] = FAMILY("meridian_ledger_checkpoints_total", NULL,
        "Ledger checkpoints signed by this process."),
    [MRD_M_SESSIONS_STARTED] = FAMILY("meridian_sessions_started_total", NULL,
        "Console sessions started."),
    [MRD_M_SESSIONS_ENDED] = FAMILY("meridian_sessions_ended_total", "reason",
        "Console sessions ended, by reason."),
    [MRD_M_FEED_FETCHES] = FAMILY("meridian_feed_fetches_total", "feed",
        "Scheduled feed fetches, per feed."),
    [MRD_M_FEED_ERRORS] = FAMILY("meridian_feed_errors_total", "feed",
        "Scheduled feed fetches that failed, per feed."),
    [MRD_M_FEED_RESULTS] = FAMILY("meridian_feed_fetch_results_total", "result",
        "Scheduled feed fetches by outcome: ok, not_modified, http_error, unreachable, timeout, "
        "too_big, garbage, store_error."),
};
/* clang-format on */

const double mrd_metric_bucket_le[MRD_METRIC_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

/* The statuses this server answers with; anything else is "other". */
static const unsigned statuses[] = {200, 201, 202, 204, 206, 301, 302, 304, 400,
                                    401, 403, 404, 405, 406, 408, 409, 411, 413,
                                    415, 416, 422, 429, 431, 500, 501, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

static struct {
    struct labels l;
    _Atomic uint64_t count[MRD_METRIC_MAX_ROUTES + 1][NSTATUS + 1];
    _Atomic uint64_t bucket[MRD_METRIC_MAX_ROUTES + 1][MRD_METRIC_BUCKETS + 1];
    _Atomic uint64_t sum_usec[MRD_METRIC_MAX_ROUTES + 1];
} req = {.l = {.mu = PTHREAD_MUTEX_INITIALIZER}};

static int64_t started_usec;

__attribute__((constructor)) static void metrics_start(void)
{
    started_usec = mrd_time_now_usec();
}

/* The slot of label s in l, adding it when there is room; OTHER when the
 * table is full. */
static unsigned slot(struct labels *l, const char *s)
{
    unsigned n = atomic_load_explicit(&l->n, memory_order_acquire);
    unsigned i;

    for (i = 0; i < n; i++)
        if (strncmp(l->name[i], s, MRD_METRIC_MAX_LABEL_LEN) == 0)
            return i;
    pthread_mutex_lock(&l->mu);
    n = atomic_load_explicit(&l->n, memory_order_relaxed);
    for (; i < n; i++) /* added by another thread meanwhile */
        if (strncmp(l->name[i], s, MRD_METRIC_MAX_LABEL_LEN) == 0)
            break;
    if (i == n && n < MRD_METRIC_MAX_LABELS) {
        (void)mrd_strlcpy(l->name[n], s, sizeof(l->name[n]));
        atomic_store_explicit(&l->n, n + 1, memory_order_release);
    } else if (i == n) {
        i = OTHER;
    }
    pthread_mutex_unlock(&l->mu);
    return i;
}

void mrd_metric_add(enum mrd_metric m, const char *label, uint64_t n)
{
    struct family *f;

    if ((unsigned)m >= MRD_M__COUNT)
        return;
    f = &families[m];
    if (f->label == NULL || label == NULL || label[0] == '\0')
        label = "";
    atomic_fetch_add_explicit(&f->v[slot(&f->l, label)], n, memory_order_relaxed);
}

uint64_t mrd_metric_get(enum mrd_metric m, const char *label)
{
    struct family *f;
    unsigned n;

    if ((unsigned)m >= MRD_M__COUNT)
        return 0;
    f = &families[m];
    if (f->label == NULL || label == NULL)
        label = "";
    n = atomic_load_explicit(&f->l.n, memory_order_acquire);
    for (unsigned i = 0; i < n; i++)
        if (strcmp(f->l.name[i], label) == 0)
            return atomic_load_explicit(&f->v[i], memory_order_relaxed);
    return 0;
}

static unsigned status_slot(unsigned status)
{
    for (unsigned i = 0; i < NSTATUS; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS;
}

void mrd_metrics_request(const char *route, unsigned status, int64_t usec)
{
    unsigned r = slot(&req.l, route != NULL ? route : "other"), b = 0;
    double s = (double)(usec > 0 ? usec : 0) / 1e6;

    while (b < MRD_METRIC_BUCKETS && s > mrd_metric_bucket_le[b])
        b++;
    atomic_fetch_add_explicit(&req.count[r][status_slot(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&req.bucket[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&req.sum_usec[r], (uint64_t)(usec > 0 ? usec : 0),
                              memory_order_relaxed);
}

/* ---- exposition ---------------------------------------------------------- */

/* A label value as the format wants it: \\, \" and \n escaped. */
static enum mrd_code put_label_value(struct mrd_buf *out, const char *s, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (; *s != '\0' && rc == MRD_OK; s++) {
        if (*s == '\\')
            rc = mrd_buf_puts(out, "\\\\", err);
        else if (*s == '"')
            rc = mrd_buf_puts(out, "\\\"", err);
        else if (*s == '\n')
            rc = mrd_buf_puts(out, "\\n", err);
        else
            rc = mrd_buf_append(out, s, 1, err);
    }
    return rc;
}

static enum mrd_code put_value(struct mrd_buf *out, double v, struct mrd_err *err)
{
    if (isinf(v))
        return mrd_buf_puts(out, v > 0 ? " +Inf\n" : " -Inf\n", err);
    if (isnan(v))
        return mrd_buf_puts(out, " NaN\n", err);
    if (v == floor(v) && fabs(v) < 1e15)
        return mrd_buf_printf(out, err, " %.0f\n", v);
    return mrd_buf_printf(out, err, " %.15g\n", v);
}

enum mrd_code mrd_metrics_header(struct mrd_buf *out, const char *name, const char *type,
                                 const char *help, struct mrd_err *err)
{
    return mrd_buf_printf(out, err, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum mrd_code mrd_metrics_sample(struct mrd_buf *out, const char *name, const char *label,
                                 const char *value, double v, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_puts(out, name, err);

    if (rc == MRD_OK && label != NULL) {
        rc = mrd_buf_printf(out, err, "{%s=\"", label);
        if (rc == MRD_OK)
            rc = put_label_value(out, value, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "\"}", err);
    }
    if (rc == MRD_OK)
        rc = put_value(out, v, err);
    return rc;
}

static enum mrd_code render_family(struct mrd_buf *out, struct family *f, struct mrd_err *err)
{
    unsigned n = atomic_load_explicit(&f->l.n, memory_order_acquire);
    enum mrd_code rc = mrd_metrics_header(out, f->name, "counter", f->help, err);

    if (rc == MRD_OK && f->label == NULL) /* a single series: always present */
        return mrd_metrics_sample(out, f->name, NULL, NULL,
                                  (double)atomic_load_explicit(&f->v[0], memory_order_relaxed),
                                  err);
    for (unsigned i = 0; i <= MRD_METRIC_MAX_LABELS && rc == MRD_OK; i++) {
        if (i >= n && i != OTHER)
            continue;
        uint64_t v = atomic_load_explicit(&f->v[i], memory_order_relaxed);
        if (i == OTHER && v == 0)
            continue;
        rc = mrd_metrics_sample(out, f->name, f->label, i == OTHER ? "other" : f->l.name[i],
                                (double)v, err);
    }
    return rc;
}

static enum mrd_code render_requests(struct mrd_buf *out, struct mrd_err *err)
{
    unsigned n = atomic_load_explicit(&req.l.n, memory_order_acquire);
    enum mrd_code rc;

    rc = mrd_metrics_header(out, "meridian_http_requests_total", "counter",
                            "HTTP requests answered, by route template and status.", err);
    for (unsigned r = 0; r <= MRD_METRIC_MAX_ROUTES && rc == MRD_OK; r++) {
        const char *route = r == MRD_METRIC_MAX_ROUTES ? "other" : req.l.name[r];
        if (r >= n && r != MRD_METRIC_MAX_ROUTES)
            continue;
        for (unsigned s = 0; s <= NSTATUS && rc == MRD_OK; s++) {
            uint64_t v = atomic_load_explicit(&req.count[r][s], memory_order_relaxed);
            if (v == 0)
                continue;
            rc = mrd_buf_puts(out, "meridian_http_requests_total{route=\"", err);
            if (rc == MRD_OK)
                rc = put_label_value(out, route, err);
            if (rc == MRD_OK && s < NSTATUS)
                rc = mrd_buf_printf(out, err, "\",status=\"%u\"}", statuses[s]);
            else if (rc == MRD_OK)
                rc = mrd_buf_puts(out, "\",status=\"other\"}", err);
            if (rc == MRD_OK)
                rc = put_value(out, (double)v, err);
        }
    }
    if (rc == MRD_OK)
        rc = mrd_metrics_header(out, "meridian_http_request_duration_seconds", "histogram",
                                "Time from a request's headers to the end of its response.", err);
    for (unsigned r = 0; r <= MRD_METRIC_MAX_ROUTES && rc == MRD_OK; r++) {
        const char *route = r == MRD_METRIC_MAX_ROUTES ? "other" : req.l.name[r];
        uint64_t cum = 0;
        if (r >= n && r != MRD_METRIC_MAX_ROUTES)
            continue;
        for (unsigned b = 0; b <= MRD_METRIC_BUCKETS; b++)
            cum += atomic_load_explicit(&req.bucket[r][b], memory_order_relaxed);
        if (cum == 0)
            continue;
        cum = 0;
        for (unsigned b = 0; b <= MRD_METRIC_BUCKETS && rc == MRD_OK; b++) {
            cum += atomic_load_explicit(&req.bucket[r][b], memory_order_relaxed);
            rc = mrd_buf_puts(out, "meridian_http_request_duration_seconds_bucket{route=\"", err);
            if (rc == MRD_OK)
                rc = put_label_value(out, route, err);
            if (rc == MRD_OK && b < MRD_METRIC_BUCKETS)
                rc = mrd_buf_printf(out, err, "\",le=\"%g\"}", mrd_metric_bucket_le[b]);
            else if (rc == MRD_OK)
                rc = mrd_buf_puts(out, "\",le=\"+Inf\"}", err);
            if (rc == MRD_OK)
                rc = put_value(out, (double)cum, err);
        }
        for (int k = 0; k < 2 && rc == MRD_OK; k++) {
            rc = mrd_buf_printf(out, err, "meridian_http_request_duration_seconds_%s{route=\"",
                                k == 0 ? "sum" : "count");
            if (rc == MRD_OK)
                rc = put_label_value(out, route, err);
            if (rc == MRD_OK)
                rc = mrd_buf_puts(out, "\"}", err);
            if (rc == MRD_OK)
                rc = put_value(
                    out,
                    k == 0
                        ? (double)atomic_load_explicit(&req.sum_usec[r], memory_order_relaxed) / 1e6
                        : (double)cum,
                    err);
        }
    }
    return rc;
}

enum mrd_code mrd_metrics_render(struct mrd_buf *out, struct mrd_err *err)
{
    enum mrd_code rc = render_requests(out, err);

    for (unsigned m = 0; m < MRD_M__COUNT && rc == MRD_OK; m++)
        rc = render_family(out, &families[m], err);
    if (rc == MRD_OK)
        rc = mrd_metrics_header(out, "meridian_build_info", "gauge",
                                "Always 1; the version label says which Meridian runs.", err);
    if (rc == MRD_OK)
        rc = mrd_metrics_sample(out, "meridian_build_info", "version",
#ifdef MERIDIAN_VERSION
                                MERIDIAN_VERSION,
#else
                                "unknown",
#endif
                                1, err);
    if (rc == MRD_OK)
        rc = mrd_metrics_header(out, "process_start_time_seconds", "gauge",
                                "When this process started, in seconds since the epoch.", err);
    if (rc == MRD_OK)
        rc = mrd_metrics_sample(out, "process_start_time_seconds", NULL, NULL,
                                (double)(started_usec / 1000000), err);
    return rc;
}

void mrd_metrics_reset(void)
{
    for (unsigned m = 0; m < MRD_M__COUNT; m++) {
        atomic_store(&families[m].l.n, 0);
        for (unsigned i = 0; i <= MRD_METRIC_MAX_LABELS; i++)
            atomic_store(&families[m].v[i], 0);
    }
    atomic_store(&req.l.n, 0);
    for (unsigned r = 0; r <= MRD_METRIC_MAX_ROUTES; r++) {
        for (unsigned s = 0; s <= NSTATUS; s++)
            atomic_store(&req.count[r][s], 0);
        for (unsigned b = 0; b <= MRD_METRIC_BUCKETS; b++)
            atomic_store(&req.bucket[r][b], 0);
        atomic_store(&req.sum_usec[r], 0);
    }
}
