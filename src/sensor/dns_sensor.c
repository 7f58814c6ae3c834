/*
 * dns_sensor.c: the DNS sensor inside `meridian serve` (sensor.h).
 *
 * One thread: a round (dns_check_round over the real transport), then the
 * findings as STIX alerts through a fresh importer into the collection,
 * then a wait of `interval` seconds that sensor_dns_stop cuts short.
 * After each round its time goes into the store's metadata; at start the
 * open findings are rebuilt from it and the alerts that round stored, so a
 * restart neither raises them again as new nor forgets an outage's end.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "dns/dns.h"
#include "dns/dns_net.h"
#include "fed/fed.h"
#include "feed/feed.h"
#include "sensor/sensor.h"
#include "store/store.h"

struct sensor_dns {
    struct store *st;
    struct fed_trust *trust;
    struct dns_config *cfg;
    json_t *baseline, *state;
    json_t *stored; /* dns_findings_due: what was last stored of each open finding */
    char collection[STORE_META_VAL_MAX + 1];
    enum policy_tlp tlp;
    struct dns_net net;
    struct dns_routing routing; /* o->routing, alerts dropped when their TLP is stricter */
    void (*cb)(void *ctx, const char *line);
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
    char last_round[40];   /* under mu: the last round's time, "" before one */
    json_t *open_ids;      /* under mu: alert ids of the open findings (the console) */
    char last_result[512]; /* under mu: its log line */
};

static void say(struct sensor_dns *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct sensor_dns *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (void)pthread_mutex_lock(&s->mu);
    memcpy(s->last_result, line, sizeof(line));
    (void)pthread_mutex_unlock(&s->mu);
    if (s->cb != NULL)
        s->cb(s->ctx, line);
}

json_t *sensor_dns_status(void *ctx)
{
    struct sensor_dns *s = ctx;
    json_t *zones = json_array(), *vantages = json_array(), *out;

    for (size_t i = 0; zones != NULL && i < s->cfg->nzones; i++) {
        char z[DNS_MAX_NAME_STR];
        dns_name_format(&s->cfg->zones[i].zone, z);
        (void)json_array_append_new(zones, json_string(z));
    }
    for (size_t i = 0; vantages != NULL && i < s->cfg->nvantages; i++)
        (void)json_array_append_new(vantages, json_string(s->cfg->vantages[i].name));
    (void)pthread_mutex_lock(&s->mu);
    out = json_pack("{s:o*, s:o*, s:i, s:o, s:o}", "zones", zones, "vantages", vantages, "interval",
                    (int)s->cfg->interval, "last_round",
                    s->last_round[0] != '\0' ? json_string(s->last_round) : json_null(),
                    "last_result",
                    s->last_result[0] != '\0' ? json_string(s->last_result) : json_null());
    if (out != NULL && s->open_ids != NULL)
        (void)json_object_set_new(out, "open", json_deep_copy(s->open_ids));
    (void)pthread_mutex_unlock(&s->mu);
    return out;
}

/* The findings as a marked bundle, imported into the collection. */
static enum mrd_code store_findings(struct sensor_dns *s, const json_t *found, size_t *ret_stored,
                                    struct mrd_err *err)
{
    json_t *objs = json_array(), *seen = json_object(), *bundle = NULL, *f;
    char uuid[MRD_UUID_STR_LEN + 1], id[64], own[STORE_META_VAL_MAX + 1];
    struct store_collection coll;
    struct store_org org;
    struct feed_import_opts io;
    struct feed_counts counts;
    struct feed_importer *im = NULL;
    char *text = NULL;
    enum mrd_code rc;
    size_t i;

    memset(&io, 0, sizeof(io));
    memset(&counts, 0, sizeof(counts));
    rc = objs != NULL && seen != NULL ? dns_stix_definitions(objs, err)
                                      : mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
    json_array_foreach(found, i, f)
    {
        if (rc == MRD_OK)
            rc = dns_finding_stix(f, objs, seen, err);
    }
    if (rc == MRD_OK)
        rc = sensor_alerts_mark(objs, s->tlp, err);
    if (rc == MRD_OK)
        rc = mrd_uuid_v4(uuid, err);
    if (rc != MRD_OK)
        goto out;
    (void)snprintf(id, sizeof(id), "bundle--%s", uuid);
    bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id", id, "objects", objs);
    text = bundle != NULL ? json_dumps(bundle, JSON_COMPACT) : NULL;
    if (text == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
        goto out;
    }
    rc = store_collection_get(s->st, NULL, 0, s->collection, strlen(s->collection), &coll, err);
    if (rc == MRD_OK)
        rc = store_meta_get(s->st, "own_org", own, sizeof(own), err);
    if (rc == MRD_OK)
        rc = store_org_get(s->st, own, 0, &org, err);
    if (rc == MRD_OK)
        rc = feed_importer_new(s->st, &coll, &org, s->trust, &io, NULL, &im, err);
    if (rc != MRD_OK)
        goto out;
    if (feed_import_stix(im, "dns sensor", text, strlen(text), &counts) != FEED_OK) {
        rc = mrd_err_set(err, MRD_E_INVALID, "dns sensor: the collection refused the alerts");
        goto out;
    }
    *ret_stored = counts.added + counts.duplicates;
out:
    feed_importer_free(im);
    free(text);
    json_decref(bundle);
    json_decref(objs);
    json_decref(seen);
    return rc;
}

#define DNS_META_ROUND "dns_sensor_round" /* store meta: the time of the last round */
/* store meta: that round's pending findings (dns_pending_pack) */
#define DNS_META_PENDING "dns_sensor_pending"
/* alerts looked at on a restart: added up to an hour before the last
 * round, and before that up to alert_refresh (a lasting finding's last
 * version may be that old) */
#define DNS_RESUME_WINDOW_USEC ((int64_t)3600 * 1000000)

struct resume {
    json_t *found; /* the DNS extension of each alert this node made */
    int64_t own;   /* the own org's key: the sensor stores as it (store_findings) */
};

/* Ours: stored by the sensor, as the own org, not a peer's copy nor an
 * object a constituent or partner posted with the sensor's identity and
 * extension (its findings would become the sensor's, and their ends be
 * published under the node's signature). */
static bool resume_visible(void *ctx, const struct store_row *row)
{
    const struct resume *r = ctx;

    return row->source_peer == NULL && r->own != 0 && row->policy.creator_org == r->own;
}

static enum mrd_code resume_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct resume *r = ctx;
    json_t *o = NULL, *ext;

    if (mrd_json_parse(row->body, row->body_len, NULL, &o, err) != MRD_OK)
        return MRD_OK; /* not ours to judge here: the store holds it */
    ext = json_object_get(json_object_get(o, "extensions"), DNS_STIX_EXT_ID);
    if (json_is_object(ext) && json_is_string(json_object_get(o, "created_by_ref")) &&
        strcmp(json_string_value(json_object_get(o, "created_by_ref")), DNS_STIX_IDENTITY_ID) ==
            0 &&
        json_array_append(r->found, ext) != 0) {
        json_decref(o);
        return mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
    }
    json_decref(o);
    return MRD_OK;
}

/* The pending findings of the last round (held for confirmation by the
 * next one), kept in the metadata beside its time. */
static enum mrd_code resume_pending(struct sensor_dns *s, json_t *state, struct mrd_err *err)
{
    char text[STORE_META_VAL_MAX + 1];
    enum mrd_code rc = store_meta_get(s->st, DNS_META_PENDING, text, sizeof(text), err);

    if (rc == MRD_E_NOTFOUND)
        return MRD_OK;
    if (rc == MRD_OK)
        rc = dns_pending_unpack(state, text, err);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "meta %s", DNS_META_PENDING);
    return rc;
}

/* The open findings of the last round before a restart, rebuilt from the
 * alerts that round stored (their newest versions) and the round's time
 * kept in the store's metadata: none when the sensor never ran here. */
static enum mrd_code resume_state(struct sensor_dns *s, json_t **ret_state, struct mrd_err *err)
{
    char round[STORE_META_VAL_MAX + 1];
    const char *types[] = {"observed-data"};
    struct store_match m = {NULL, 0, types, 1, NULL, 0, STORE_VER_LAST, NULL, 0};
    struct store_query q;
    struct store_query_result res;
    struct store_collection coll;
    struct mrd_time t;
    struct resume r = {json_array(), 0};
    struct store_org org;
    char own[STORE_META_VAL_MAX + 1];
    enum mrd_code rc;

    *ret_state = NULL;
    if (r.found == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
    rc = store_meta_get(s->st, DNS_META_ROUND, round, sizeof(round), err);
    if (rc == MRD_E_NOTFOUND) {
        json_decref(r.found);
        return MRD_OK;
    }
    if (rc == MRD_OK && mrd_time_parse(round, strlen(round), &t, NULL) != MRD_OK)
        rc = mrd_err_set(err, MRD_E_PARSE, "dns sensor: meta %s: not a time", DNS_META_ROUND);
    if (rc == MRD_OK)
        rc = store_collection_get(s->st, NULL, 0, s->collection, strlen(s->collection), &coll, err);
    if (rc == MRD_OK)
        rc = store_meta_get(s->st, "own_org", own, sizeof(own), err);
    if (rc == MRD_OK)
        rc = store_org_get(s->st, own, 0, &org, err);
    if (rc == MRD_OK)
        r.own = org.key;
    if (rc == MRD_OK) {
        /* That round's alerts were added around its time: a round's time
         * is kept later than the one before (dns_check_round), so it may be
         * ahead of the clock by a little; alerts of older rounds that the
         * window also finds are left out by their last_seen
         * (dns_state_from_alerts). */
        memset(&q, 0, sizeof(q));
        q.collection = coll.key;
        q.added_after = mrd_time_to_usec(&t) - DNS_RESUME_WINDOW_USEC -
                        (int64_t)s->cfg->alert_refresh * 1000000;
        q.match = &m;
        q.want_body = true;
        rc = store_objects_query(s->st, &q, resume_visible, resume_emit, &r, &res, err);
    }
    if (rc == MRD_OK)
        rc = dns_state_from_alerts(r.found, round, s->cfg->alert_refresh, ret_state, err);
    json_decref(r.found);
    if (rc == MRD_OK)
        rc = resume_pending(s, *ret_state, err);
    return rc;
}

/* The alert ids of state's open findings, for sensor_dns_status (the
 * console tells open alerts by them: an alert is not stored every round). */
static void set_open_ids(struct sensor_dns *s, const json_t *state)
{
    json_t *ids = json_array(), *f;
    size_t i;

    json_array_foreach(json_object_get(state, "open"), i, f)
    {
        char id[DNS_FINDING_ID_LEN + 1];
        if (ids != NULL && dns_finding_id(f, id, NULL) == MRD_OK &&
            json_array_append_new(ids, json_string(id)) != 0) {
            json_decref(ids);
            ids = NULL;
        }
    }
    (void)pthread_mutex_lock(&s->mu);
    json_decref(s->open_ids);
    s->open_ids = ids; /* NULL (out of memory): the console falls back on times */
    (void)pthread_mutex_unlock(&s->mu);
}

static enum mrd_code keep_pending(struct sensor_dns *s, const json_t *state, struct mrd_err *err)
{
    char text[STORE_META_VAL_MAX + 1];
    size_t kept = 0;
    enum mrd_code rc = dns_pending_pack(state, text, sizeof(text), &kept, err);

    if (rc == MRD_OK && kept < json_array_size(json_object_get(state, "pending")))
        say(s, "dns sensor: %zu of %zu pending findings kept for a restart (metadata full)", kept,
            json_array_size(json_object_get(state, "pending")));
    return rc == MRD_OK ? store_meta_set(s->st, DNS_META_PENDING, text, err) : rc;
}

/* A round; of its findings, only those new, changed or due for a refresh
 * (alert_refresh) are stored as a new version (dns_findings_due). */
static void round_once(struct sensor_dns *s)
{
    struct mrd_err err = {0};
    json_t *found = NULL, *next = NULL, *due = NULL, *stored_next = NULL;
    const char *round;
    struct mrd_time rt;
    size_t stored = 0;

    if (dns_check_round_net(s->cfg, &s->net, s->baseline, s->state, &found, &next, &err) !=
        MRD_OK) {
        say(s, "dns sensor: round failed: %s", err.msg);
        return;
    }
    json_decref(s->state);
    s->state = next;
    round = json_string_value(json_object_get(next, "round"));
    if (dns_findings_correlate(found, s->baseline, s->net.routing, &err) != MRD_OK) {
        say(s, "dns sensor: round failed: %s", err.msg);
        goto out;
    }
    if (round == NULL || mrd_time_parse(round, strlen(round), &rt, NULL) != MRD_OK ||
        dns_findings_due(found, s->stored, mrd_time_to_usec(&rt) / 1000000, s->cfg->alert_refresh,
                         &due, &stored_next, &err) != MRD_OK) {
        say(s, "dns sensor: round failed: %s", err.msg[0] != '\0' ? err.msg : "no round time");
        goto out;
    }
    if (json_array_size(due) > 0 && store_findings(s, due, &stored, &err) != MRD_OK) {
        say(s, "dns sensor: %zu findings not stored: %s", json_array_size(due), err.msg);
        goto out;
    }
    json_decref(s->stored);
    s->stored = stored_next;
    stored_next = NULL;
    /* The round is over and its alerts stored: what a restart resumes from
     * (its pending findings first: kept with the time of their round). */
    if (keep_pending(s, next, &err) != MRD_OK ||
        store_meta_set(s->st, DNS_META_ROUND, round, &err) != MRD_OK)
        say(s, "dns sensor: round not kept: %s", err.msg);
    set_open_ids(s, next);
    (void)pthread_mutex_lock(&s->mu);
    (void)snprintf(s->last_round, sizeof(s->last_round), "%s", round);
    (void)pthread_mutex_unlock(&s->mu);
    say(s,
        "dns sensor: round done, %zu findings, %zu alerts stored, %zu divergences excused, "
        "%zu TLS verdicts cached, %zu pending",
        json_array_size(found), stored, json_array_size(json_object_get(next, "excused")),
        (size_t)json_integer_value(json_object_get(next, "tls_cached")),
        json_array_size(json_object_get(next, "pending")));
out:
    json_decref(due);
    json_decref(stored_next);
    json_decref(found);
}

static void *sensor_main(void *arg)
{
    struct sensor_dns *s = arg;

    (void)pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec until;
        (void)pthread_mutex_unlock(&s->mu);
        round_once(s);
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->cfg->interval;
        (void)pthread_mutex_lock(&s->mu);
        while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
            ;
    }
    (void)pthread_mutex_unlock(&s->mu);
    return NULL;
}

void sensor_dns_stop(struct sensor_dns *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        (void)pthread_mutex_lock(&s->mu);
        s->stop = true;
        (void)pthread_cond_broadcast(&s->cv);
        (void)pthread_mutex_unlock(&s->mu);
        (void)pthread_join(s->thread, NULL);
    }
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_cond_destroy(&s->cv);
    fed_trust_free(s->trust);
    dns_config_free(s->cfg);
    json_decref(s->baseline);
    json_decref(s->state);
    json_decref(s->stored);
    json_decref(s->open_ids);
    mrd_free(s);
}

enum mrd_code sensor_dns_start(const char *data_dir, struct store *st,
                               const struct sensor_dns_opts *o,
                               void (*cb)(void *ctx, const char *line), void *ctx,
                               struct sensor_dns **ret, struct mrd_err *err)
{
    struct sensor_dns *s = mrd_calloc(1, sizeof(*s));
    struct mrd_buf b;
    struct store_collection coll;
    enum mrd_code rc;

    mrd_buf_init(&b, SENSOR_DNS_MAX_FILE);
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    s->st = st;
    s->tlp = o->tlp;
    s->cb = cb;
    s->ctx = ctx;
    s->net.timeout_ms = DNS_NET_DEFAULT_TIMEOUT_MS;
    s->net.retries = DNS_NET_DEFAULT_RETRIES;
    s->net.hold_ms = DNS_NET_DEFAULT_HOLD_MS;
    s->net.parallel = DNS_NET_DEFAULT_PARALLEL;
    if (o->routing != NULL) {
        /* A link names a routing alert (its kind and prefix) inside a DNS
         * alert that readers of the DNS alert's level may pull. */
        s->routing = *o->routing;
        if (o->routing_tlp > o->tlp)
            s->routing.alerts = NULL;
        s->net.routing = &s->routing;
    }
    if (strlen(o->collection) >= sizeof(s->collection)) {
        rc = mrd_err_set(err, MRD_E_INVAL, "dns sensor: collection name too long");
        goto out;
    }
    memcpy(s->collection, o->collection, strlen(o->collection) + 1);
    rc = mrd_buf_read_file(&b, o->config_path, err);
    if (rc == MRD_OK)
        rc = dns_config_parse(b.data, b.len, &s->cfg, err);
    if (rc == MRD_OK)
        rc = dns_config_load_files(s->cfg, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "dns sensor: %s", o->config_path);
        goto out;
    }
    mrd_buf_reset(&b);
    rc = mrd_buf_read_file(&b, o->baseline_path, err);
    if (rc == MRD_OK)
        rc = mrd_json_parse(b.data, b.len, NULL, &s->baseline, err);
    if (rc == MRD_OK)
        rc = dns_baseline_check(s->baseline, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "dns sensor: %s", o->baseline_path);
        goto out;
    }
    rc = store_collection_get(st, NULL, 0, s->collection, strlen(s->collection), &coll, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "dns sensor: collection");
        goto out;
    }
    rc = fed_trust_load(data_dir, &s->trust, err);
    if (rc != MRD_OK)
        goto out;
    rc = resume_state(s, &s->state, err);
    /* never ran here: an empty state, so that the first round already
     * holds a SERVFAIL without EDE for the next one to confirm */
    if (rc == MRD_OK && s->state == NULL && (s->state = json_object()) == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
    if (rc == MRD_OK && (s->stored = dns_findings_stored(s->state)) == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns sensor: out of memory");
    if (rc == MRD_OK && s->state != NULL)
        set_open_ids(s, s->state);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "dns sensor: open findings of the last round");
        goto out;
    }
    if (pthread_create(&s->thread, NULL, sensor_main, s) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns sensor: cannot start its thread");
        goto out;
    }
    s->started = true;
    *ret = s;
    s = NULL;
out:
    mrd_buf_release(&b);
    sensor_dns_stop(s);
    return rc;
}
