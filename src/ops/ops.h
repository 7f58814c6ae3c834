/*
 * ops: what an operator's tooling asks a running node (docs/monitoring.md):
 * `GET /metrics` (Prometheus text exposition format 0.0.4), `GET /healthz`
 * (the process answers) and `GET /readyz` (the store and the ledger are
 * usable).
 *
 * Does: an http.h application in front of another one (the TAXII server
 * and /api/v1/), answering those three paths and handing every other
 * request on. /metrics needs an API token of the node's own org on the main
 * listener; on a separate metrics listener (`serve --metrics-listen`) it
 * needs none. /healthz and /readyz never need a token and say nothing but
 * "ok"/"ready"/"not ready".
 * The counters come from core/metrics.h (updated where things happen, one
 * atomic add each); the gauges that need the store, the ledger or the peer
 * table (objects stored, ledger size and checkpoint age, active holds,
 * each peer's lag and failures) are computed here, at scrape time only.
 * Not here: the counting itself (core/metrics.h), sockets (http.h).
 * Threading: handlers run on many threads; the struct is read-only once
 * the server runs.
 */
#ifndef MRD_OPS_OPS_H
#define MRD_OPS_OPS_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "http/http.h"
#include "store/store.h"

struct ledger_service;

#define OPS_METRICS_PATH "/metrics"
#define OPS_HEALTH_PATH "/healthz"
#define OPS_READY_PATH "/readyz"
#define OPS_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define OPS_MAX_METRICS ((size_t)8 * 1024 * 1024) /* one /metrics answer */
#define OPS_MAX_BODY ((size_t)4096)               /* request bodies on these paths */

struct ops_app {
    struct store *st;
    struct ledger_service *ledger; /* may be NULL: no ledger gauges, /readyz skips it */
    const char *data_dir;          /* for the peer table (fed.h); NULL: no peer gauges */
    bool metrics_public;           /* true: /metrics without a token (metrics listener) */
    /* Everything else; .handle NULL answers 404 (the metrics listener). */
    struct http_app inner;
};

/* Makes *ret the application of o (borrowed; it must outlive the server). */
void ops_app(struct ops_app *o, struct http_app *ret);

/* The whole /metrics text: core/metrics.h's counters, then the gauges. */
enum mrd_code ops_metrics_text(struct ops_app *o, struct mrd_buf *out, struct mrd_err *err);

#endif
