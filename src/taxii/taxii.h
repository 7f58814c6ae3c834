/*
 * taxii: the TAXII 2.1 API (OASIS TAXII 2.1 §4–§5) on top of store.h,
 * policy.h and stix.h, served through http.h.
 *
 * Does: routing of every TAXII 2.1 endpoint (discovery, API root, status,
 * collections, collection, manifest, objects GET/POST, object GET/DELETE,
 * versions), authentication of API tokens (Bearer, or the password of HTTP
 * Basic), per-collection grants, content negotiation, filters and paging,
 * TAXII error resources, per-token rate limiting, and TLP enforcement: every
 * row that any response would reveal (objects, manifest records, versions,
 * counts, paging cursors, error messages) first passes policy_may_read().
 * Does not: listen on sockets (http.h), store (store.h), validate STIX
 * (stix.h), decide TLP (policy.h), log (the access record goes to cli/).
 *
 * Choices where the specification leaves room (docs/taxii.md lists them):
 *  - Accept must name application/taxii+json (with version=2.1 or without a
 *    version), or be a wildcard (*\/\* or application/\*); a missing Accept
 *    or any other type is 406.
 *  - Requests without credentials get 401, except reads of a collection an
 *    operator made public (CLEAR objects only, policy.h).
 *  - An inaccessible collection or API root is 404, exactly like a missing
 *    one; a collection the requester can only write gives 403 on reads.
 *  - Empty pages carry no X-TAXII-Date-Added-* headers.
 *  - `next` is an authenticated cursor (libsodium crypto_auth) bound to the
 *    endpoint, collection, object id, filters and requester.
 *  - POST is processed synchronously: the status is "complete" and every
 *    success is committed before the 202.
 *
 * Threading: taxii_handle() runs on many threads at once; the server state
 * is read-only after taxii_server_new() except the rate limiter (locked).
 */
#ifndef MRD_TAXII_H
#define MRD_TAXII_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/http.h"
#include "privacy/privacy.h"
#include "store/store.h"

struct ledger_service;

#define TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define TAXII_STIX_MEDIA_TYPE "application/stix+json;version=2.1"
#define TAXII_MAX_PAGE 1000               /* server cap on limit (TAXII §3.4) */
#define TAXII_MAX_GET_BODY ((size_t)4096) /* bodies of non-POST requests */
#define TAXII_MAX_JSON_DEPTH 64           /* nesting in POSTed envelopes */
/* Budget bytes a POST reserves per body byte before its body is read
 * (http_app.body_factor): the body, its parsed tree (mrd_json_shape_cost:
 * up to 10x for STIX), canonical copies, and per-object bookkeeping.
 * taxii_post_objects then reserves exactly what the envelope needs. */
#define TAXII_POST_MEMORY_FACTOR 16
#define TAXII_NEXT_KEY_META "taxii_next_key"
#define TAXII_REALM "meridian"
/* Sent by a peer's sync client on its pulls (fed_client.c); labels the
 * access audit's path "sync-pull" instead of "taxii", nothing more. */
#define TAXII_SYNC_HEADER "X-Meridian-Sync"

struct taxii_server;

/* What the ingest step decided about one object. */
struct taxii_ingested {
    enum policy_tlp tlp; /* the level to store (policy_tlp_ingest) */
    char signer[64];     /* the Meridian signature's key ("ed25519:..."), "" when unsigned */
};

/* The ingest step of POST (docs/design.md §6), set by serve to fed's
 * fed_ingest_canon, required: for each valid object, append the bytes to
 * store to out (its TLP written in when policy_tlp_ingest says so against
 * the collection default dflt; signed when local: the writer is own or
 * constituent) and fill *ret, or refuse it with a message for the status
 * resource (ret_refusal non-empty). */
struct taxii_ingest {
    enum mrd_code (*canon)(void *ctx, const json_t *obj, bool local, enum policy_tlp dflt,
                           struct mrd_buf *out, struct taxii_ingested *ret, char *ret_refusal,
                           size_t size, struct mrd_err *err);
    /* whether this node trusts a signer's key (store_object_in.signer_trusted) */
    bool (*trusted)(void *ctx, const char *key, size_t len);
    /* whether two copies by one signer say the same (store_object_in.same_content);
     * may be NULL: only the same bytes do */
    bool (*same_content)(const char *stored, size_t stored_len, const char *body, size_t body_len);
    void *ctx;
};

struct taxii_config {
    unsigned rate; /* requests per second per token; 0 = unlimited */
    const char *title;
    const char *description;    /* may be NULL */
    struct taxii_ingest ingest; /* required */
    /* Outbound minimisation (privacy.h) for partner and anonymous readers
     * of objects; required, borrowed (it must outlive the server). Each
     * read takes the policy in force at its start (privacy_live_get). */
    struct privacy_live *privacy;
};

/* Creates the TAXII application over an open store (borrowed; it must
 * outlive the server). Loads the node's paging-token key from the store
 * metadata, creating it on first use. */
enum mrd_code taxii_server_new(struct store *st, const struct taxii_config *cfg,
                               struct taxii_server **ret, struct mrd_err *err);
void taxii_server_free(struct taxii_server *ts);

/* Serves the node's ledger (ledger/sync.h; borrowed, it must outlive the
 * server) under /ledger/v1/; call before the HTTP server starts. Without
 * one those routes answer 404. */
void taxii_server_set_ledger(struct taxii_server *ts, struct ledger_service *ledger);

/* API-token authentication shared by every HTTP application of the node
 * (TAXII, /api/v1/, /metrics): reads the Authorization header (Bearer, or
 * the password of Basic) and looks the token up. On OK *ret is the token
 * and resp->who its name; on MALFORMED or REFUSED resp->auth_fail says why
 * (for the access log; clients get the same 401 for every reason) and the
 * failure is counted (core/metrics.h). ERROR: the store failed (err). */
enum taxii_auth {
    TAXII_AUTH_NONE,      /* no Authorization header */
    TAXII_AUTH_OK,        /* *ret is valid */
    TAXII_AUTH_MALFORMED, /* not a Bearer/Basic credential we can read */
    TAXII_AUTH_REFUSED,   /* unknown, revoked or expired */
    TAXII_AUTH_ERROR,
};
enum taxii_auth taxii_auth_token(struct store *st, const struct http_request *req,
                                 struct http_response *resp, struct store_token *ret,
                                 struct mrd_err *err);

/* The http.h application for this server (ctx = ts). */
void taxii_app(struct taxii_server *ts, struct http_app *ret);

/* ---- query filters (TAXII §3.4, §3.4.1), also for hold selection ---- */

/* Which filters an endpoint accepts (T81); others are ignored. */
#define TAXII_F_ADDED_AFTER 0x01u
#define TAXII_F_LIMIT 0x02u
#define TAXII_F_NEXT 0x04u
#define TAXII_F_ID 0x08u
#define TAXII_F_TYPE 0x10u
#define TAXII_F_VERSION 0x20u
#define TAXII_F_SPEC 0x40u

struct taxii_filter {
    int64_t added_after; /* STORE_TIME_NONE when absent */
    size_t limit;        /* 0 = absent */
    const char *next;    /* raw token or NULL */
    struct store_match match;
    bool has_match;
    /* The raw values, for binding paging tokens to the query. */
    const char *raw_added_after, *raw_id, *raw_type, *raw_version, *raw_spec;
};

/* Parses args (all query arguments of the request, repeats included)
 * accepting the filters in `allowed`. MRD_E_PARSE with a message naming
 * the parameter for a malformed or repeated value (the caller answers 400).
 * Allocations come from arena. */
enum mrd_code taxii_filter_parse(const struct http_kv *args, size_t n, unsigned allowed,
                                 struct mrd_arena *arena, struct taxii_filter *ret,
                                 struct mrd_err *err);

#define TAXII_QUERY_MAX 4096 /* a query string given outside HTTP (hold --query) */
#define TAXII_QUERY_ARGS 32  /* arguments in such a query string */

/* Splits a query string "k=v&k=v" into args, percent-decoding ('+' is a
 * space) in place: q is modified and args point into it. MRD_E_TOOBIG past
 * max args ("more than N filters"). An argument without '=' has value
 * NULL, as http_request_args gives it. For callers outside HTTP (the
 * `hold --query` selector); requests use http_request_args. */
enum mrd_code taxii_query_split(char *q, struct http_kv *args, size_t max, size_t *ret_n,
                                struct mrd_err *err);

/* Parses a query string for the objects endpoint's filters (added_after,
 * match[id|type|version|spec_version]) and refuses any other key with
 * MRD_E_PARSE naming it. At most TAXII_QUERY_MAX bytes (MRD_E_TOOBIG);
 * allocations come from arena. */
enum mrd_code taxii_filter_parse_query(const char *query, struct mrd_arena *arena,
                                       struct taxii_filter *ret, struct mrd_err *err);

#endif
