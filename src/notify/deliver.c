/*
 * deliver.c: delivery rounds (deliver.h, "a round").
 *
 * A round first queues: every notification routing recorded since the
 * delivery cursor (squelched ones excepted) goes to each contact of its org,
 * on the schedule the contact gives its kind: into the contact's queued,
 * untried delivery on that schedule, or a new one due now (immediate), at
 * the next full hour or at the next midnight UTC (digests). The cursor moves
 * with them. Then it sends what is due, one message per delivery: each
 * STIX object read again as the org may read it now (notify_object_for);
 * an e-mail through the relay or a signed webhook POST. A failure is
 * recorded (attempts, time, error) and retried after a delay that doubles
 * each time; after the attempts allowed the delivery is dead: the
 * dead-letter list the operator sees and can retry. A message sent is
 * recorded with its ledger leaf in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "ledger/ledger.h"
#include "notify/deliver.h"

#define DELIVERY_RECORD_TYPE "meridian-delivery"
#define PLAN_NOTIFICATIONS 1000 /* notifications one round queues */

/* ---- the contacts, as a round needs them ---- */

struct contact {
    struct store_contact c;
    char *key; /* the armored OpenPGP key, or NULL */
};

struct contacts {
    struct contact *c;
    size_t n, cap;
};

static enum mrd_code contact_cb(void *ctx, const struct store_contact *sc, struct mrd_err *err)
{
    struct contacts *l = ctx;
    struct contact *c;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct contact *p = mrd_realloc(l->c, cap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "contacts: out of memory");
        l->c = p;
        l->cap = cap;
    }
    c = &l->c[l->n];
    c->c = *sc;
    c->c.pgp_key = NULL;
    c->key = NULL;
    if (sc->pgp_key != NULL && sc->pgp_key[0] != '\0') {
        c->key = strdup(sc->pgp_key);
        if (c->key == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "contacts: out of memory");
    }
    l->n++;
    return MRD_OK;
}

static void contacts_free(struct contacts *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->c[i].key);
    free(l->c);
}

static const struct contact *contact_find(const struct contacts *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->c[i].c.id == id)
            return &l->c[i];
    return NULL;
}

/* ---- queueing ---- */

struct notes {
    struct store_notification *n;
    size_t n_n, cap;
};

static enum mrd_code note_cb(void *ctx, const struct store_notification *n, struct mrd_err *err)
{
    struct notes *l = ctx;

    if (l->n_n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct store_notification *p = mrd_realloc(l->n, cap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "deliveries: out of memory");
        l->n = p;
        l->cap = cap;
    }
    l->n[l->n_n++] = *n;
    return MRD_OK;
}

static enum mrd_code plan(struct store *st, const struct contacts *cl,
                          struct notify_deliver_round *ret, struct mrd_err *err)
{
    struct store_delivery_plan *p = NULL;
    struct notes notes = {0};
    char val[32];
    int64_t cursor = 0, now = mrd_time_now_usec();
    uint64_t u;
    size_t np = 0;
    enum mrd_code rc;

    rc = store_meta_get(st, STORE_NOTIFY_DELIVER_CURSOR_KEY, val, sizeof(val), err);
    if (rc == MRD_OK && mrd_str_to_u64(val, strlen(val), INT64_MAX, &u, NULL) == MRD_OK)
        cursor = (int64_t)u;
    else if (rc == MRD_E_NOTFOUND)
        mrd_err_clear(err);
    else if (rc != MRD_OK)
        return rc;
    rc = store_notifications_list(st, 0, cursor, PLAN_NOTIFICATIONS, note_cb, &notes, err);
    if (rc != MRD_OK || notes.n_n == 0)
        goto out;
    p = mrd_calloc(STORE_DELIVERY_PLAN_MAX, sizeof(*p));
    if (p == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "deliveries: out of memory");
        goto out;
    }
    for (size_t i = 0; i < notes.n_n && rc == MRD_OK; i++) {
        const struct store_notification *n = &notes.n[i];
        if (n->squelched)
            continue;
        for (size_t k = 0; k < cl->n && rc == MRD_OK; k++) {
            const struct store_contact *c = &cl->c[k].c;
            enum notify_schedule s;
            if (c->org != n->org)
                continue;
            if (np == STORE_DELIVERY_PLAN_MAX) {
                /* notification i is not complete: the cursor stays before it */
                int64_t to = i > 0 ? notes.n[i - 1].id : cursor;
                rc = store_deliveries_enqueue(st, p, np, cursor, to, err);
                cursor = to;
                np = 0;
            }
            s = notify_schedule_for(c->schedule, n->kind);
            p[np++] = (struct store_delivery_plan){.contact = c->id,
                                                   .notification = n->id,
                                                   .schedule = (int)s,
                                                   .due_usec = notify_schedule_due(s, now)};
            ret->queued++;
        }
    }
    if (rc == MRD_OK)
        rc = store_deliveries_enqueue(st, p, np, cursor, notes.n[notes.n_n - 1].id, err);
    ret->more = notes.n_n == PLAN_NOTIFICATIONS;
out:
    free(p);
    free(notes.n);
    return rc;
}

/* ---- sending ---- */

struct dues {
    struct store_delivery d[NOTIFY_SEND_ROUND_MAX];
    size_t n;
    int64_t now;
    bool flush;
};

static enum mrd_code due_cb(void *ctx, const struct store_delivery *d, struct mrd_err *err)
{
    struct dues *l = ctx;

    (void)err;
    /* --flush sends digests early, never a retry before its back-off */
    if (d->due_usec > l->now && !(l->flush && d->attempts == 0))
        return MRD_OK;
    if (l->n < NOTIFY_SEND_ROUND_MAX)
        l->d[l->n++] = *d;
    return MRD_OK;
}

struct items {
    struct store_notification *n;
    struct notify_item *it;
    char **bodies; /* it[i].body, owned */
    size_t count, cap;
};

static enum mrd_code item_cb(void *ctx, const struct store_notification *n, struct mrd_err *err)
{
    struct items *l = ctx;

    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct store_notification *p = mrd_realloc(l->n, cap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "deliveries: out of memory");
        l->n = p;
        l->cap = cap;
    }
    l->n[l->count++] = *n;
    return MRD_OK;
}

static void items_free(struct items *l)
{
    if (l->bodies != NULL)
        for (size_t i = 0; i < l->count; i++)
            free(l->bodies[i]);
    free(l->bodies);
    free(l->it);
    free(l->n);
}

/* The delivery record a ledger leaf holds: who, what, when, how. */
static enum mrd_code record_build(const struct store_delivery *d, const struct items *l,
                                  const char *message, size_t len, struct mrd_buf *out,
                                  struct mrd_err *err)
{
    uint8_t h[32];
    char hex[65], when[MRD_TIME_TAXII_LEN + 1];
    json_t *r = json_object(), *ids = json_array();
    enum mrd_code rc;

    crypto_hash_sha256(h, (const unsigned char *)message, len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    mrd_time_format_taxii(d->sent_usec, when);
    for (size_t i = 0; i < l->count; i++)
        (void)json_array_append_new(ids, json_integer((json_int_t)l->n[i].id));
    (void)json_object_set_new(r, "type", json_string(DELIVERY_RECORD_TYPE));
    (void)json_object_set_new(r, "delivery", json_integer((json_int_t)d->id));
    (void)json_object_set_new(r, "org", json_string(d->org_name));
    (void)json_object_set_new(r, "channel",
                              json_string(d->channel == STORE_CHANNEL_EMAIL ? "email" : "webhook"));
    (void)json_object_set_new(r, "to", json_string(d->address));
    (void)json_object_set_new(r, "schedule", json_string(notify_schedule_name(d->schedule)));
    (void)json_object_set_new(r, "sent", json_string(when));
    (void)json_object_set_new(r, "notifications", ids);
    (void)json_object_set_new(r, "message_sha256", json_string(hex));
    rc = mrd_jcs_write(r, out, err);
    json_decref(r);
    return rc;
}

/* Writes the outcome of one attempt; a message sent and its ledger event
 * commit together. */
static enum mrd_code record(struct store *st, struct store_delivery *d, const struct items *l,
                            const char *message, size_t len, struct mrd_err *err)
{
    struct mrd_buf text;
    enum mrd_code rc, rc2;

    if (d->status != STORE_DELIVERY_SENT)
        return store_delivery_update(st, d, err);
    mrd_buf_init(&text, STORE_HOLD_RECORD_MAX);
    rc = record_build(d, l, message, len, &text, err);
    if (rc != MRD_OK)
        goto out;
    rc = store_write_begin(st, err);
    if (rc == MRD_OK) {
        struct store_ledger_event ev = {.kind = LEDGER_KIND_DELIVERY,
                                        .time_usec = d->sent_usec,
                                        .record = text.data,
                                        .record_len = text.len};
        rc = store_event_add(st, &ev, &d->ev, err);
        if (rc == MRD_OK)
            rc = store_delivery_update(st, d, err);
        rc2 = store_write_end(st, rc == MRD_OK, rc == MRD_OK ? err : NULL);
        if (rc == MRD_OK)
            rc = rc2;
    }
out:
    mrd_buf_release(&text);
    return rc;
}

static enum mrd_code send_one(struct store *st, const struct notify_deliver_conf *c,
                              const struct contact *ct, const struct store_delivery *d,
                              struct items *l, struct mrd_buf *msg, struct mrd_err *err)
{
    char home[4096];
    size_t shown = 0;
    enum mrd_code rc;

    l->it = mrd_calloc(l->count > 0 ? l->count : 1, sizeof(*l->it));
    l->bodies = mrd_calloc(l->count > 0 ? l->count : 1, sizeof(*l->bodies));
    if (l->it == NULL || l->bodies == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "deliveries: out of memory");
    for (size_t i = 0; i < l->count; i++) {
        char *body = NULL;
        size_t len = 0;
        l->it[i].n = &l->n[i];
        rc = notify_object_for(st, d->org, l->n[i].seq, &body, &len, err);
        if (rc != MRD_OK)
            return rc;
        l->bodies[i] = body;
        l->it[i].body = body;
        l->it[i].body_len = len;
        shown += body != NULL;
    }
    if (d->channel == STORE_CHANNEL_WEBHOOK) {
        rc = notify_webhook_doc(d, l->it, l->count, msg, err);
        if (rc == MRD_OK)
            rc = notify_webhook_post(d->address, ct->c.secret, msg->data, msg->len, c->webhook_ca,
                                     c->timeout_s ? c->timeout_s : NOTIFY_TIMEOUT_DEFAULT_S, err);
        return rc;
    }
    if (c->smtp.host[0] == '\0')
        return mrd_err_set(err, MRD_E_UNSUPP,
                           "e-mail: no SMTP relay configured (smtp-relay in meridian.conf)");
    (void)snprintf(home, sizeof(home), "%s/gnupg", c->data_dir != NULL ? c->data_dir : ".");
    rc = notify_mail_build(d, c->smtp.from, ct->key != NULL ? ct->key : "", home, l->it, l->count,
                           msg, err);
    if (rc == MRD_OK)
        rc = notify_smtp_send(&c->smtp, d->address, msg->data, msg->len, err);
    (void)shown;
    return rc;
}

static int64_t backoff(const struct notify_deliver_conf *c, unsigned attempts)
{
    int64_t b = c->backoff_usec > 0 ? c->backoff_usec : NOTIFY_BACKOFF_DEFAULT_USEC;

    for (unsigned i = 1; i < attempts && b < NOTIFY_BACKOFF_MAX_USEC; i++)
        b *= 2;
    return b < NOTIFY_BACKOFF_MAX_USEC ? b : NOTIFY_BACKOFF_MAX_USEC;
}

static enum mrd_code deliver_one(struct store *st, const struct notify_deliver_conf *c,
                                 const struct contacts *cl, struct store_delivery *d,
                                 struct notify_deliver_round *ret, struct mrd_err *err)
{
    const struct contact *ct = contact_find(cl, d->contact);
    unsigned max = c->attempts ? c->attempts : NOTIFY_ATTEMPTS_DEFAULT;
    struct items l = {0};
    struct mrd_buf msg;
    struct mrd_err why = {0};
    enum mrd_code rc, sent;

    mrd_buf_init(&msg, NOTIFY_MESSAGE_MAX);
    /* claim it first: a round running at the same time (serve and the
     * CLI) sees the attempt taken and leaves it; a crash during the send
     * leaves it due again after a back-off */
    d->expect_attempts = d->attempts;
    d->last_try_usec = mrd_time_now_usec();
    d->attempts++;
    d->due_usec = d->last_try_usec + backoff(c, d->attempts) +
                  (int64_t)(c->timeout_s ? c->timeout_s : NOTIFY_TIMEOUT_DEFAULT_S) * 4000000;
    rc = store_delivery_update(st, d, err);
    if (rc == MRD_E_CONFLICT) {
        mrd_err_clear(err);
        rc = MRD_OK;
        goto out;
    }
    d->expect_attempts = d->attempts;
    if (rc == MRD_OK)
        rc = store_delivery_items(st, d->id, item_cb, &l, err);
    if (rc != MRD_OK)
        goto out;
    if (ct == NULL)
        sent = mrd_err_set(&why, MRD_E_NOTFOUND, "contact removed");
    else
        sent = send_one(st, c, ct, d, &l, &msg, &why);
    if (sent == MRD_OK) {
        d->status = STORE_DELIVERY_SENT;
        d->sent_usec = mrd_time_now_usec();
        d->error[0] = '\0';
        ret->sent++;
    } else {
        (void)snprintf(d->error, sizeof(d->error), "attempt %u: %s", d->attempts, why.msg);
        if (d->attempts >= max || ct == NULL) {
            d->status = STORE_DELIVERY_DEAD;
            ret->dead++;
        } else {
            d->due_usec = d->last_try_usec + backoff(c, d->attempts);
            ret->failed++;
        }
    }
    d->record_attempt = true;
    rc = record(st, d, &l, msg.data != NULL ? msg.data : "", msg.len, err);
    if (rc == MRD_OK && c->on_result != NULL)
        c->on_result(c->ctx, d);
out:
    items_free(&l);
    mrd_buf_release(&msg);
    return rc;
}

enum mrd_code notify_deliver_run(struct store *st, const struct notify_deliver_conf *c,
                                 struct notify_deliver_round *ret, struct mrd_err *err)
{
    struct contacts cl = {0};
    struct dues *due = NULL;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    rc = store_contacts_list(st, 0, contact_cb, &cl, err);
    if (rc == MRD_OK)
        rc = plan(st, &cl, ret, err);
    if (rc == MRD_E_CONFLICT) { /* another round queued them: send what is due */
        mrd_err_clear(err);
        memset(ret, 0, sizeof(*ret));
        ret->more = true;
        rc = MRD_OK;
    }
    if (rc != MRD_OK)
        goto out;
    due = mrd_calloc(1, sizeof(*due));
    if (due == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "deliveries: out of memory");
        goto out;
    }
    due->now = mrd_time_now_usec();
    due->flush = c->flush;
    {
        struct store_delivery_filter f = {.status = STORE_DELIVERY_QUEUED};
        rc = store_deliveries_list(st, &f, due_cb, due, err);
    }
    for (size_t i = 0; rc == MRD_OK && i < due->n; i++)
        rc = deliver_one(st, c, &cl, &due->d[i], ret, err);
    if (due->n == NOTIFY_SEND_ROUND_MAX)
        ret->more = true;
out:
    free(due);
    contacts_free(&cl);
    return rc;
}

static enum mrd_code find_cb(void *ctx, const struct store_delivery *d, struct mrd_err *err)
{
    (void)err;
    *(struct store_delivery *)ctx = *d;
    return MRD_OK;
}

enum mrd_code notify_delivery_retry(struct store *st, int64_t id, struct mrd_err *err)
{
    struct store_delivery d = {.id = 0};
    struct store_delivery_filter f = {.id = id, .status = -1, .limit = 1};
    enum mrd_code rc = store_deliveries_list(st, &f, find_cb, &d, err);

    if (rc != MRD_OK)
        return rc;
    if (d.id != id)
        return mrd_err_set(err, MRD_E_NOTFOUND, "no delivery %lld", (long long)id);
    if (d.status == STORE_DELIVERY_SENT)
        return mrd_err_set(err, MRD_E_INVAL, "delivery %lld was sent already", (long long)id);
    d.status = STORE_DELIVERY_QUEUED;
    d.expect_attempts = d.attempts;
    d.attempts = 0;
    d.due_usec = mrd_time_now_usec();
    return store_delivery_update(st, &d, err);
}
