/*
 * metrics: the process's counters and request-latency histograms, written
 * out in the Prometheus text exposition format (version 0.0.4) for
 * `GET /metrics` (docs/monitoring.md).
 *
 * Does: counting. Every update is a relaxed atomic add on a fixed slot:
 * no allocation, no I/O, and no lock once a label value has been seen (a
 * new label value takes a mutex once). Cardinality is bounded: a family
 * keeps at most MRD_METRIC_MAX_LABELS label values and counts later ones
 * under "other"; HTTP requests are counted by route TEMPLATE (the
 * application names it, never the raw path) and by status.
 * Does not: gauges that need the store, the ledger or the peer table
 * (ops/ computes those at scrape time), HTTP (ops/ serves the text).
 *
 * State is process-wide (one node per process): a module adds a counter by
 * adding one enum value here and one row to the table in metrics.c, then
 * one `mrd_metric_inc(MRD_M_..., label)` line where the event happens.
 * Thread-safe.
 */
#ifndef MRD_CORE_METRICS_H
#define MRD_CORE_METRICS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define MRD_METRIC_MAX_LABELS 64    /* label values kept per family; more count as "other" */
#define MRD_METRIC_MAX_LABEL_LEN 64 /* bytes of one label value; longer ones are cut */
#define MRD_METRIC_MAX_ROUTES 48    /* HTTP route templates; more count as "other" */

/* The counter families. Each has at most one label (its name is in the
 * table in metrics.c); label NULL or "" means the family's only series. */
enum mrd_metric {
    MRD_M_OBJECTS_INGESTED, /* origin: local, received: new versions stored */
    MRD_M_OBJECTS_REJECTED, /* reason: objects refused at ingest, never stored */
    MRD_M_AUTH_FAILURES, /* reason: unknown, revoked, expired, disabled, malformed, certificate */
    MRD_M_SYNC_ROUNDS,   /* peer: federation rounds attempted */
    MRD_M_SYNC_ERRORS,   /* peer: rounds that failed */
    MRD_M_SYNC_PULLED,   /* peer: versions stored from the peer */
    MRD_M_SYNC_PUSHED,   /* peer: objects the peer accepted */
    MRD_M_LEDGER_CHECKPOINTS, /* (none): checkpoints signed */
    MRD_M_SESSIONS_STARTED,   /* (none): console sign-ins */
    MRD_M_SESSIONS_ENDED,     /* reason: signout, expired, revoked */
    MRD_M_FEED_FETCHES,       /* feed: scheduled feed fetches */
    MRD_M_FEED_ERRORS,        /* feed: fetches that failed */
    MRD_M_FEED_RESULTS,       /* result: feed fetches by outcome (ok, not_modified, ...) */
    MRD_M__COUNT
};

/* Adds n to family m's series for label (NULL or "" for none). */
void mrd_metric_add(enum mrd_metric m, const char *label, uint64_t n);

static inline void mrd_metric_inc(enum mrd_metric m, const char *label)
{
    mrd_metric_add(m, label, 1);
}

/* The current value of a series (0 when never counted); for tests. */
uint64_t mrd_metric_get(enum mrd_metric m, const char *label);

/* Counts one finished HTTP request: route is a template such as
 * "/{api_root}/collections/{id}/objects/" (static storage; NULL counts as
 * "other"), status its HTTP status, usec its duration. */
void mrd_metrics_request(const char *route, unsigned status, int64_t usec);

/* The latency histogram's upper bounds in seconds (the last, +Inf, is
 * implied). */
#define MRD_METRIC_BUCKETS 12
extern const double mrd_metric_bucket_le[MRD_METRIC_BUCKETS];

/* Appends every family in the exposition format (# HELP, # TYPE, one line
 * per series), then meridian_build_info and process_start_time_seconds.
 * Fails only when out is full (MRD_E_TOOBIG) or memory runs out. */
enum mrd_code mrd_metrics_render(struct mrd_buf *out, struct mrd_err *err);

/* Appends one sample line `name{label="value"} v` (label NULL: no braces)
 * with the label value escaped as the format requires (\\, \", \n), for
 * callers that add their own gauges. */
enum mrd_code mrd_metrics_sample(struct mrd_buf *out, const char *name, const char *label,
                                 const char *value, double v, struct mrd_err *err);

/* Appends the "# HELP name help\n# TYPE name type\n" header of a family. */
enum mrd_code mrd_metrics_header(struct mrd_buf *out, const char *name, const char *type,
                                 const char *help, struct mrd_err *err);

/* Forgets every count (unit tests). Not thread-safe. */
void mrd_metrics_reset(void);

#endif
