/*
 * forget: forgetting on schedule (docs/privacy.md, "Retention" and
 * "Erasure").
 *
 * Does: parses the retention policy (DATA/retention.json), finds the
 * object versions it has expired and erases them (store_objects_erase:
 * the store and every index; the ledger keeps their leaf hashes); erases
 * the versions mentioning a value or all versions of an object on request;
 * records every erasure as a ledger event (LEDGER_KIND_ERASURE, SHA-256 of
 * the record's canonical JSON). A version under an active legal hold is
 * never erased: it is reported, and erased by a later run once the hold
 * is released or lapses.
 * Does not: open the data directory, print, log, or decide who may read
 * (erasure is administrative: it sees every version).
 * Threading: every call works on the store it is given; none keeps state.
 * Errors: enum mrd_code + struct mrd_err. MRD_E_PARSE: a bad policy file
 * (the message names the member: "retention: rules[1].days: ...");
 * MRD_E_INVAL: a bad request (the option named); MRD_E_NOTFOUND: a rule's
 * collection does not exist, or nothing matched an erasure. Anything else:
 * the store.
 */
#ifndef MRD_FORGET_H
#define MRD_FORGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

#define FORGET_FILE "retention.json"
#define FORGET_FILE_MAX (256 * 1024)    /* bytes of the retention file */
#define FORGET_RULES_MAX 256            /* rules in it */
#define FORGET_DAYS_MAX 36500           /* one rule's days (100 years) */
#define FORGET_NAME_MAX 250             /* a rule's collection or type */
#define FORGET_REASON_MAX 1024          /* an erasure's --reason */
#define FORGET_BATCH 256                /* versions erased per transaction */
#define FORGET_RECORD_MAX (1024 * 1024) /* one erasure record (a batch: ~150 bytes a version) */
#define FORGET_USEC_PER_DAY ((int64_t)86400 * 1000000)

/* From what a rule's days count. */
enum forget_basis {
    FORGET_FROM_ADDED = 0,       /* the version's date_added on this node */
    FORGET_FROM_VALID_UNTIL = 1, /* the version's valid_until (kept while it has none) */
};

struct forget_rule {
    char collection[FORGET_NAME_MAX + 1]; /* "" = every collection; else id or ROOT/ALIAS */
    char type[FORGET_NAME_MAX + 1];       /* a STIX type or "*" */
    unsigned days;                        /* 0..FORGET_DAYS_MAX */
    enum forget_basis basis;
};

/* The retention policy: for each version the first rule (in file order)
 * whose collection and type match decides; a version no rule matches is
 * kept. */
struct forget_policy {
    struct forget_rule *rules;
    size_t n;
};

/* Parses the retention file's text:
 *   {"rules": [{"collection": "ROOT/ALIAS", "type": "sighting", "days": 180},
 *              {"type": "indicator", "days": 365, "from": "valid_until"}]}
 * collection is optional (every collection), type is required ("*" for
 * any), from is "added" (default) or "valid_until". Unknown members are
 * refused. MRD_E_PARSE names the member; MRD_E_TOOBIG past the limits.
 * On success *ret owns the rules (forget_policy_free). Pure. */
enum mrd_code forget_policy_parse(const char *text, size_t len, struct forget_policy *ret,
                                  struct mrd_err *err);

/* Reads DIR/retention.json; a missing file is an empty policy with
 * *ret_found false (ret_found may be NULL). */
enum mrd_code forget_policy_load(const char *dir, struct forget_policy *ret, bool *ret_found,
                                 struct mrd_err *err);

void forget_policy_free(struct forget_policy *p);

/* The rule (index into p->rules) that decides for a version of type in
 * coll, or -1 when none does (kept). */
long forget_rule_for(const struct forget_policy *p, const struct store_collection *coll,
                     const char *type, size_t type_len);

/* When the version (row with body) expires under rule r: usec since the
 * epoch; STORE_TIME_NONE when it never does (a valid_until rule and a
 * version without a valid_until). Pure. */
int64_t forget_expiry(const struct forget_rule *r, const struct store_row *row);

/* One version a run or an erasure touches. */
struct forget_item {
    const struct store_held *o; /* body set */
    long rule;                  /* retention: the deciding rule; erasure: -1 */
    int64_t expired_usec;       /* retention: when it expired; erasure: STORE_TIME_NONE */
    bool held;                  /* kept: under an active legal hold */
};

struct forget_result {
    size_t expired; /* versions past their retention (or matching the erasure) */
    size_t erased;  /* of which erased (0 in a dry run) */
    size_t held;    /* of which kept under a legal hold */
};

/* One retention run at time now: every expired version is passed to cb
 * (may be NULL; before it is erased) and, unless dry_run or held, erased;
 * each transaction's erasures are one ledger event. MRD_E_NOTFOUND when a
 * rule names a collection that does not exist. */
enum mrd_code forget_retention_run(struct store *st, const struct forget_policy *p, int64_t now,
                                   bool dry_run,
                                   enum mrd_code (*cb)(void *ctx, const struct forget_item *it,
                                                       struct mrd_err *err),
                                   void *ctx, struct forget_result *ret, struct mrd_err *err);

/* What to erase: exactly one of value (the versions whose indexed values
 * include it exactly: an SCO's own value, a value an indicator's pattern
 * compares, a URL's host) and object (every version of that STIX id, in
 * every collection). */
struct forget_erase_req {
    const char *value;
    const char *object;
    const char *reason;    /* required, 1..FORGET_REASON_MAX bytes of UTF-8 */
    const char *requester; /* NULL: this node's operator; else who asked (a peer's request) */
    const char *request;   /* NULL; else the id of the erasure request applied */
};

/* Where the erasure requests of a forget_erase go (request.c). */
struct fed_trust;
struct forget_publish {
    const struct fed_trust *trust; /* signs them with the node key */
    size_t published;              /* out: requests stored */
};

/* Erases what req selects at time now (dry_run: only reports), passing
 * each version to cb first (may be NULL); held versions are reported and
 * kept. With pub (NULL: none), the erasure then travels: for each
 * collection and TLP level of the versions erased, a signed erasure
 * request naming their ids is stored in that collection, so it reaches
 * the peers that received them through the ordinary pushes and pulls.
 * MRD_E_INVAL for a bad request, MRD_E_NOTFOUND when nothing matches. */
enum mrd_code forget_erase(struct store *st, const struct forget_erase_req *req, int64_t now,
                           bool dry_run, struct forget_publish *pub,
                           enum mrd_code (*cb)(void *ctx, const struct forget_item *it,
                                               struct mrd_err *err),
                           void *ctx, struct forget_result *ret, struct mrd_err *err);

/* ---- erasure requests (request.c; docs/privacy.md, "Erasure requests") ----
 *
 * An erasure request is a STIX custom object created and signed by the
 * node that erased the data:
 *   {"type": "x-meridian-erasure-request", "spec_version": "2.1", "id": ...,
 *    "created": ..., "modified": ..., "object_refs": [erased ids],
 *    "reason": "...", "object_marking_refs": [the erased versions' TLP]}
 * It is stored in the collection the versions were erased from and travels
 * like any object (and like a revocation). A node applies a request it
 * received when its Meridian signature is valid and by a key it trusts;
 * then, of each referenced object, the versions signed by that same key
 * (the requester created them) or received from the peer the request came
 * from (the requester is their source) are erased, as by forget_erase, and
 * recorded in the ledger with the request's id; other versions are kept
 * and reported. An unsigned, unknown-signer or malformed request changes
 * nothing and is reported. */
#define FORGET_REQUEST_TYPE "x-meridian-erasure-request"
#define FORGET_REQUEST_REFS_MAX 1000                /* ids in one request */
#define FORGET_REQUEST_CURSOR "forget_requests_seq" /* meta key: the last request seen */

/* Parses and checks a request's body (JSON, at most STORE_OBJECT_MAX): its
 * type, object_refs (1..FORGET_REQUEST_REFS_MAX STIX ids) and reason
 * (1..FORGET_REASON_MAX bytes of UTF-8). On success *ret owns the parsed
 * object. MRD_E_PARSE names the member. Pure. */
enum mrd_code forget_request_parse(const char *body, size_t len, json_t **ret, struct mrd_err *err);

/* What happened to one received request. */
struct forget_applied {
    const char *request; /* its id */
    const char *source;  /* the peer it came from ("" when posted) */
    bool applied;        /* false: refused, why in message */
    const char *message;
    struct forget_result r; /* applied: matched / erased / held versions */
    size_t refused;         /* versions kept: not the requester's */
};

struct crypto_keyring;
/* Applies the requests received since the last call (the store's meta
 * FORGET_REQUEST_CURSOR), in the order stored, reporting each to cb (may
 * be NULL). kr: the keys this node trusts (its peers'). Requests this node
 * created are skipped. *ret_n (may be NULL) counts the requests seen. */
enum mrd_code forget_requests_apply(struct store *st, const struct crypto_keyring *kr, int64_t now,
                                    void (*cb)(void *ctx, const struct forget_applied *a),
                                    void *ctx, size_t *ret_n, struct mrd_err *err);

/* ---- the privacy report (report.c) ---- */

/* The privacy statement of the node at data_dir at time now, as JSON
 * (*ret owned by the caller):
 *   {generated, controller: the own org,
 *    categories: [{category, description, versions, versions_by_type: {type: n},
 *                  retention: ["180 days after it was stored (rule 0)", ...]}],
 *    retention: {configured, file},
 *    recipients: {partners: [{org, collections: ["ROOT/ID"...]}],
 *                 peers: [{peer, direction, community, local_collection, enabled}]},
 *    outbound_policy: {file, present, defaults: [...], rules: [{scope, type,
 *                      property, action}] (keys never shown), forward_custom}}
 * Categories: the STIX types that carry personal data (addresses, e-mail,
 * accounts, URLs and domains, traffic, sightings, observed data,
 * identities, certificates) and the indicators whose patterns compare
 * addresses, e-mail addresses or accounts; counted per stored version,
 * each with the retention the first matching rule gives it in its
 * collection. A bad retention or privacy-policy file is an error. */
enum mrd_code forget_report(struct store *st, const char *data_dir, int64_t now, json_t **ret,
                            struct mrd_err *err);

/* The same document as Markdown, for people (appended to out); text from
 * outside is escaped and stripped of control characters. */
enum mrd_code forget_report_markdown(const json_t *doc, struct mrd_buf *out, struct mrd_err *err);

/* ---- the scheduled job (serve) ---- */

/* One round of the job: rc and err say whether it ran; r what retention
 * did. */
struct forget_round {
    enum mrd_code rc;
    const struct mrd_err *err;
    struct forget_result r;
    bool have_policy; /* DIR/retention.json exists */
    size_t requests;  /* erasure requests received and handled */
};

/* Starts a thread that, every interval_s seconds (the first round at
 * once), runs retention, re-reading DIR/retention.json each round (a
 * change takes effect at the next round without a restart), and applies
 * the erasure requests received (when kr is not NULL: the trusted keys,
 * borrowed for the service's life). cb gets each round, on_request each
 * request (either may be NULL; called on that thread). interval_s 0: no
 * thread, *ret NULL. */
struct forget_service;
enum mrd_code forget_service_start(const char *data_dir, struct store *st,
                                   const struct crypto_keyring *kr, unsigned interval_s,
                                   void (*cb)(void *ctx, const struct forget_round *round),
                                   void (*on_request)(void *ctx, const struct forget_applied *a),
                                   void *ctx, struct forget_service **ret, struct mrd_err *err);
/* Stops the thread (after the round in progress). NULL-safe. */
void forget_service_stop(struct forget_service *s);

#endif
