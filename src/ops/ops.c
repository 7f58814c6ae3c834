/*
 * ops.c: /metrics, /healthz and /readyz (ops.h).
 *
 * The answers are plain text and carry nothing a caller could learn about
 * the node's contents beyond what the metrics are for: /healthz and
 * /readyz say one word, and /metrics is for the own org (or a listener the
 * operator bound for scrapers only).
 */
#include "ops/ops.h"

#include <string.h>

#include "core/metrics.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "ledger/sync.h"
#include "taxii/taxii.h"

static bool is_ops(const char *path)
{
    return strcmp(path, OPS_METRICS_PATH) == 0 || strcmp(path, OPS_HEALTH_PATH) == 0 ||
           strcmp(path, OPS_READY_PATH) == 0;
}

static void text(struct http_response *resp, unsigned status, const char *type, const char *s)
{
    resp->status = status;
    resp->content_type = type;
    mrd_buf_reset(&resp->body);
    if (mrd_buf_puts(&resp->body, s, NULL) != MRD_OK)
        resp->status = 500;
}

/* ---- scrape-time gauges -------------------------------------------------- */

struct hold_count {
    int64_t now;
    uint64_t active;
};

static enum mrd_code count_hold(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct hold_count *c = ctx;

    (void)err;
    if (h->released_usec == STORE_TIME_NONE && h->expires_usec > c->now)
        c->active++;
    return MRD_OK;
}

struct peer_ctx {
    struct mrd_buf *out;
    int pass; /* 0: lag, 1: failures, 2: enabled */
};

static enum mrd_code peer_gauge(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    static const char *const names[] = {
        "meridian_peer_lag_seconds", "meridian_peer_consecutive_failures", "meridian_peer_enabled"};
    struct peer_ctx *x = ctx;
    double v;

    if (x->pass == 0) /* since the last good round; never synced: since the epoch */
        v = (double)(mrd_time_now_usec() - s->last_ok_usec) / 1e6;
    else if (x->pass == 1)
        v = s->failures;
    else
        v = p->enabled ? 1 : 0;
    return mrd_metrics_sample(x->out, names[x->pass], "peer", p->name, v, NULL);
}

static enum mrd_code peers(struct ops_app *o, struct mrd_buf *out, struct mrd_err *err)
{
    static const char *const headers[][2] = {
        {"meridian_peer_lag_seconds",
         "Seconds since the peer's last successful sync round (since the epoch: never)."},
        {"meridian_peer_consecutive_failures", "Failed sync rounds in a row, per peer."},
        {"meridian_peer_enabled", "1 when the peer is enabled, 0 when disabled."},
    };
    struct fed_state *fs = NULL;
    enum mrd_code rc;

    rc = fed_state_open(o->data_dir, &fs, err);
    for (int pass = 0; pass < 3 && rc == MRD_OK; pass++) {
        struct peer_ctx x = {.out = out, .pass = pass};
        rc = mrd_metrics_header(out, headers[pass][0], "gauge", headers[pass][1], err);
        if (rc == MRD_OK)
            rc = fed_peer_list(fs, peer_gauge, &x, err);
    }
    fed_state_close(fs);
    return rc;
}

static enum mrd_code gauge(struct mrd_buf *out, const char *name, const char *help, double v,
                           struct mrd_err *err)
{
    enum mrd_code rc = mrd_metrics_header(out, name, "gauge", help, err);

    return rc == MRD_OK ? mrd_metrics_sample(out, name, NULL, NULL, v, err) : rc;
}

enum mrd_code ops_metrics_text(struct ops_app *o, struct mrd_buf *out, struct mrd_err *err)
{
    struct hold_count holds = {.now = mrd_time_now_usec()};
    uint64_t objects = 0;
    enum mrd_code rc;

    rc = mrd_metrics_render(out, err);
    if (rc == MRD_OK)
        rc = store_objects_count(o->st, 0, &objects, err);
    if (rc == MRD_OK)
        rc = gauge(out, "meridian_objects_stored", "Object versions in the store, all collections.",
                   (double)objects, err);
    if (rc == MRD_OK) {
        rc = store_hold_list(o->st, NULL, NULL, count_hold, &holds, err);
        if (rc == MRD_E_UNSUPP) { /* a backend without holds has none */
            mrd_err_clear(err);
            rc = MRD_OK;
        }
    }
    if (rc == MRD_OK)
        rc = gauge(out, "meridian_holds_active", "Legal holds neither released nor expired.",
                   (double)holds.active, err);
    if (rc == MRD_OK && o->ledger != NULL) {
        struct ledger_service_status ls;
        ledger_service_status(o->ledger, &ls);
        rc = gauge(out, "meridian_ledger_size", "Leaves in the ledger's Merkle tree.",
                   (double)ls.size, err);
        if (rc == MRD_OK)
            rc = gauge(out, "meridian_ledger_checkpoint_age_seconds",
                       "Seconds since the newest signed checkpoint (-1: none yet).",
                       ls.checkpoint_usec > 0
                           ? (double)(mrd_time_now_usec() - ls.checkpoint_usec) / 1e6
                           : -1,
                       err);
        if (rc == MRD_OK)
            rc = gauge(out, "meridian_ledger_healthy",
                       "1 when the ledger's last round recorded the store's queue.",
                       ls.healthy ? 1 : 0, err);
    }
    if (rc == MRD_OK && o->data_dir != NULL)
        rc = peers(o, out, err);
    return rc;
}

/* ---- the application ---------------------------------------------------- */

/* The own org's tokens only (or anyone on the metrics listener). Answers
 * 401/404/500 itself and returns false otherwise. */
static bool may_scrape(struct ops_app *o, struct http_request *req, struct http_response *resp)
{
    struct store_token tok;
    struct mrd_err err = {0};

    if (o->metrics_public)
        return true;
    switch (taxii_auth_token(o->st, req, resp, &tok, &err)) {
    case TAXII_AUTH_OK:
        if (tok.org_relation == POLICY_REL_OWN)
            return true;
        text(resp, 404, "text/plain; charset=utf-8", "not found\n");
        return false;
    case TAXII_AUTH_ERROR:
        resp->note = "metrics: token lookup failed";
        if (err.code == MRD_E_UNAVAIL) { /* the database went away */
            text(resp, 503, "text/plain; charset=utf-8", "database unreachable\n");
            (void)http_response_header(resp, "Retry-After", "5");
            return false;
        }
        text(resp, 500, "text/plain; charset=utf-8", "internal error\n");
        return false;
    default:
        (void)http_response_header(resp, "WWW-Authenticate", "Bearer realm=\"meridian\"");
        text(resp, 401, "text/plain; charset=utf-8", "authentication required\n");
        return false;
    }
}

static bool ready(struct ops_app *o)
{
    char id[STORE_META_VAL_MAX + 1];
    struct ledger_service_status ls;

    if (store_meta_get(o->st, "node_id", id, sizeof(id), NULL) != MRD_OK)
        return false;
    if (o->ledger == NULL)
        return true;
    ledger_service_status(o->ledger, &ls);
    return ls.healthy;
}

static void handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct ops_app *o = ctx;
    struct mrd_err err = {0};
    static const char *const routes[] = {OPS_METRICS_PATH, OPS_HEALTH_PATH, OPS_READY_PATH};
    size_t which = 0;

    if (!is_ops(req->path)) {
        if (o->inner.handle != NULL) {
            o->inner.handle(o->inner.ctx, req, resp);
            return;
        }
        text(resp, 404, "text/plain; charset=utf-8", "not found\n");
        return;
    }
    while (strcmp(req->path, routes[which]) != 0)
        which++; /* is_ops: one of them */
    resp->route = routes[which];
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        (void)http_response_header(resp, "Allow", "GET, HEAD");
        text(resp, 405, "text/plain; charset=utf-8", "method not allowed\n");
        return;
    }
    if (which == 1) {
        text(resp, 200, "text/plain; charset=utf-8", "ok\n");
        return;
    }
    if (which == 2) {
        if (ready(o))
            text(resp, 200, "text/plain; charset=utf-8", "ready\n");
        else
            text(resp, 503, "text/plain; charset=utf-8", "not ready\n");
        return;
    }
    if (!may_scrape(o, req, resp))
        return;
    mrd_buf_reset(&resp->body);
    resp->body.max = OPS_MAX_METRICS;
    if (ops_metrics_text(o, &resp->body, &err) != MRD_OK) {
        resp->note = "metrics: scrape failed";
        text(resp, 500, "text/plain; charset=utf-8", "internal error\n");
        return;
    }
    resp->status = 200;
    resp->content_type = OPS_METRICS_TYPE;
}

static size_t body_max(void *ctx, const char *method, const char *path)
{
    struct ops_app *o = ctx;

    if (is_ops(path) || o->inner.body_max == NULL)
        return OPS_MAX_BODY;
    return o->inner.body_max(o->inner.ctx, method, path);
}

/* The inner application's accounting of what it builds from a body
 * (http.h); these three paths take no body worth counting. */
static size_t body_factor(void *ctx, const char *method, const char *path)
{
    struct ops_app *o = ctx;

    if (is_ops(path) || o->inner.body_factor == NULL)
        return 1;
    return o->inner.body_factor(o->inner.ctx, method, path);
}

static void refuse(void *ctx, const char *method, const char *path, struct http_response *resp)
{
    struct ops_app *o = ctx;

    if (!is_ops(path) && o->inner.refuse != NULL) {
        o->inner.refuse(o->inner.ctx, method, path, resp);
        return;
    }
    text(resp, resp->status, "text/plain; charset=utf-8", "refused\n");
}

static void log_rec(void *ctx, const struct http_access *a)
{
    struct ops_app *o = ctx;

    if (o->inner.log != NULL)
        o->inner.log(o->inner.ctx, a);
}

void ops_app(struct ops_app *o, struct http_app *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->ctx = o;
    ret->body_max = body_max;
    ret->body_factor = body_factor;
    ret->handle = handle;
    ret->refuse = refuse;
    ret->log = log_rec;
}
