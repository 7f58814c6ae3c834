/*
 * notify/deliver.h: early-warning delivery (docs/notify.md, "Delivery").
 * The notifications routing recorded (notify.h) reach each org's contacts:
 * by e-mail through an SMTP relay (STARTTLS, AUTH PLAIN/LOGIN, PGP/MIME
 * when the contact has an OpenPGP key) or by an HMAC-signed webhook POST,
 * immediately or in an hourly or daily digest per kind of finding.
 *
 * Does: contacts (declared through admin_apply: each change an audit
 * record), delivery rounds (queue what routing recorded per contact and
 * schedule; send what is due; retry with exponential back-off; give up
 * after the attempts allowed, into the dead-letter list), the delivery
 * record (every attempt's outcome; each message sent is a ledger leaf of
 * kind LEDGER_KIND_DELIVERY, hash = SHA-256 of the delivery record), the
 * SMTP client (smtp.c), the MIME and OpenPGP message (mail.c), the webhook
 * client (webhook.c).
 * Does not: decide who is concerned (route.c) or what an org may read
 * (policy: every STIX object attached is read again through
 * notify_object_for, the one read decision, at send time).
 * Threading: a round is run by one thread at a time (the notify service
 * thread in serve, or `meridian notify deliver`).
 * Errors: enum mrd_code + struct mrd_err. A send that fails is not an
 * error of the round: it is recorded in the delivery (its error text) and
 * retried.
 */
#ifndef MRD_NOTIFY_DELIVER_H
#define MRD_NOTIFY_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

struct admin;

/* ---- schedules ----
 * A contact's schedule is "SCHED" (every kind of finding) and/or
 * "KIND=SCHED" items, comma-separated: "immediate", "daily,sighting=immediate".
 * KIND is the STIX type of the object routed (indicator, sighting, ...). */
enum notify_schedule {
    NOTIFY_S_IMMEDIATE = 0, /* within a second */
    NOTIFY_S_HOURLY = 1,    /* one digest at the top of each hour (UTC) */
    NOTIFY_S_DAILY = 2,     /* one digest at midnight UTC */
};

/* Checks a schedule; MRD_E_INVAL names the bad item. */
enum mrd_code notify_schedule_check(const char *spec, struct mrd_err *err);
/* The schedule spec gives kind (immediate when spec names none). */
enum notify_schedule notify_schedule_for(const char *spec, const char *kind);
const char *notify_schedule_name(int s);
/* When a message on schedule s, queued at now, is due. */
int64_t notify_schedule_due(enum notify_schedule s, int64_t now_usec);

/* ---- contacts (contacts.c) ---- */

/* Checks c (an e-mail address: printable, no CR/LF, one '@', a domain; a
 * webhook URL: http:// or https://, no spaces or control characters; an
 * armored OpenPGP public key when given; the schedule) and stores it for
 * c->org with its audit record (never the secret or the key itself). A
 * webhook contact without a secret gets a random one (64 hex digits),
 * returned in c->secret so the operator can hand it over once. */
enum mrd_code notify_contact_add(struct admin *adm, struct store_contact *c, struct mrd_err *err);
enum mrd_code notify_contact_remove(struct admin *adm, int64_t id, int64_t org,
                                    struct store_contact *ret, struct mrd_err *err);
/* An e-mail address fit for a header: MRD_E_INVAL otherwise. */
enum mrd_code notify_email_check(const char *addr, struct mrd_err *err);

/* ---- a round ---- */

#define NOTIFY_SMTP_HOST_MAX 255
#define NOTIFY_SECRET_MAX 256 /* an SMTP password */
#define NOTIFY_ATTEMPTS_DEFAULT 5
#define NOTIFY_ATTEMPTS_MAX 100
#define NOTIFY_BACKOFF_DEFAULT_USEC ((int64_t)30 * 1000000) /* first retry; doubles */
#define NOTIFY_BACKOFF_MAX_USEC ((int64_t)6 * 3600 * 1000000)
#define NOTIFY_TIMEOUT_DEFAULT_S 10
#define NOTIFY_SEND_ROUND_MAX 100                    /* deliveries one round sends */
#define NOTIFY_MESSAGE_MAX ((size_t)8 * 1024 * 1024) /* one message or webhook body */

struct notify_smtp_conf {
    char host[NOTIFY_SMTP_HOST_MAX + 1]; /* "" : e-mail is not configured */
    uint16_t port;
    char from[STORE_CONTACT_ADDR_MAX + 1];
    char user[STORE_CONTACT_ADDR_MAX + 1]; /* "" : no AUTH */
    char password[NOTIFY_SECRET_MAX + 1];
    const char *ca_file; /* NULL: the system store */
    bool plain;          /* no STARTTLS (a relay on loopback only) */
    unsigned timeout_s;
};

struct notify_deliver_conf {
    struct notify_smtp_conf smtp;
    const char *webhook_ca; /* CA for https webhooks; NULL: the system store */
    unsigned timeout_s;     /* per webhook request; 0: NOTIFY_TIMEOUT_DEFAULT_S */
    unsigned attempts;      /* before a delivery is dead; 0: NOTIFY_ATTEMPTS_DEFAULT */
    int64_t backoff_usec;   /* the first retry's delay; 0: NOTIFY_BACKOFF_DEFAULT_USEC */
    const char *data_dir;   /* where the OpenPGP keyring is made (DIR/gnupg) */
    bool flush;             /* send digests now, not at their hour */
    void (*on_result)(void *ctx, const struct store_delivery *d); /* each attempt; may be NULL */
    void *ctx;
};

struct notify_deliver_round {
    size_t queued; /* (contact, notification) pairs queued */
    size_t sent;   /* messages sent */
    size_t failed; /* attempts that failed (to be retried) */
    size_t dead;   /* given up */
    bool more;     /* call again */
};

/* One round: queue what routing recorded since the delivery cursor, then
 * send up to NOTIFY_SEND_ROUND_MAX deliveries that are due. */
enum mrd_code notify_deliver_run(struct store *st, const struct notify_deliver_conf *c,
                                 struct notify_deliver_round *ret, struct mrd_err *err);

/* Puts dead (or queued) delivery id back in the queue, due now, its
 * attempts reset. MRD_E_NOTFOUND: no such delivery; MRD_E_INVAL: sent. */
enum mrd_code notify_delivery_retry(struct store *st, int64_t id, struct mrd_err *err);

/* The stored version seq as org may read it now (its read grant on the
 * collection and policy_may_read, exactly as routing decided): *ret_body
 * (malloc'd, NUL-terminated) or NULL when the org may not read it or it is
 * gone. (route.c) */
enum mrd_code notify_object_for(struct store *st, int64_t org, int64_t seq, char **ret_body,
                                size_t *ret_len, struct mrd_err *err);

/* ---- the message (mail.c) ---- */

struct notify_item {
    const struct store_notification *n;
    const char *body; /* the STIX object, or NULL when withheld now */
    size_t body_len;
};

/* The readable summary, grouped by asset. */
enum mrd_code notify_summary(const struct store_delivery *d, const struct notify_item *it, size_t n,
                             struct mrd_buf *out, struct mrd_err *err);
/* The webhook's JSON document: {"delivery", "org", "schedule", "notifications": [...],
 * "objects": [...]}. */
enum mrd_code notify_webhook_doc(const struct store_delivery *d, const struct notify_item *it,
                                 size_t n, struct mrd_buf *out, struct mrd_err *err);
/* The whole e-mail (headers and body, CRLF lines): multipart/mixed with the
 * summary and the objects as application/stix+json; encrypted to pgp_key
 * (PGP/MIME, RFC 3156) when it is not empty, with a keyring under
 * gnupg_home. */
enum mrd_code notify_mail_build(const struct store_delivery *d, const char *from,
                                const char *pgp_key, const char *gnupg_home,
                                const struct notify_item *it, size_t n, struct mrd_buf *out,
                                struct mrd_err *err);

/* ---- SMTP (smtp.c) ---- */

#define NOTIFY_SMTP_REPLY_MAX 4096 /* one reply, all its lines */
#define NOTIFY_SMTP_LINE_MAX 1000  /* one reply line (RFC 5321 4.5.3.1.5: 512) */

struct notify_smtp_reply {
    int code;                              /* 3 digits */
    char text[NOTIFY_SMTP_REPLY_MAX + 1];  /* the lines' text, '\n'-joined; no controls */
    bool starttls, auth_plain, auth_login; /* EHLO keywords */
};

/* Parses one complete reply (CRLF lines "NNN-text" ... "NNN text") from
 * buf: *ret_used gets the bytes it took, 0 when the reply is not complete
 * yet. MRD_E_PARSE: not a reply (the message says where). */
enum mrd_code notify_smtp_reply_parse(const char *buf, size_t len, struct notify_smtp_reply *ret,
                                      size_t *ret_used, struct mrd_err *err);

/* Sends message (notify_mail_build) from c->from to rcpt. */
enum mrd_code notify_smtp_send(const struct notify_smtp_conf *c, const char *rcpt,
                               const char *message, size_t len, struct mrd_err *err);

/* ---- webhooks (webhook.c) ---- */

#define NOTIFY_SIG_HEADER "X-Meridian-Signature"
#define NOTIFY_TIME_HEADER "X-Meridian-Timestamp"

/* "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body). */
void notify_webhook_sign(const char *secret, const char *timestamp, const char *body, size_t len,
                         char out[7 + 64 + 1]);

/* POSTs body to url, signed; a 2xx answer is success. */
enum mrd_code notify_webhook_post(const char *url, const char *secret, const char *body, size_t len,
                                  const char *ca_file, unsigned timeout_s, struct mrd_err *err);

#endif
