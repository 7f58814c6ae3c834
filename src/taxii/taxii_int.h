/*
 * taxii internals shared by taxii_*.c: the per-request context, media-type
 * negotiation, filter parsing, paging tokens and response helpers.
 * Nothing here is used outside src/taxii/ (and its unit tests).
 */
#ifndef MRD_TAXII_INT_H
#define MRD_TAXII_INT_H

#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>

#include "core/timestamp.h"
#include "http/http.h"
#include "policy/policy.h"
#include "store/store.h"
#include "taxii/taxii.h"

struct taxii_server {
    struct store *st;
    struct http_ratelimit *rl;
    unsigned char next_key[crypto_auth_KEYBYTES];
    char title[STORE_TITLE_MAX + 1];
    char description[STORE_DESC_MAX + 1];
    _Atomic int64_t last_purge; /* usec of the last status purge */
    struct taxii_ingest ingest;
    struct privacy_live *privacy;
    struct ledger_service *ledger; /* NULL: no ledger routes */
};

/* Who is asking. */
struct taxii_principal {
    bool anonymous;
    struct store_token tok; /* valid when !anonymous */
};

/* Which endpoint a path names (TAXII §4–§5). */
enum taxii_route {
    TAXII_R_NONE = 0,
    TAXII_R_DISCOVERY,
    TAXII_R_API_ROOT,
    TAXII_R_STATUS,
    TAXII_R_COLLECTIONS,
    TAXII_R_COLLECTION,
    TAXII_R_MANIFEST,
    TAXII_R_OBJECTS,
    TAXII_R_OBJECT,
    TAXII_R_VERSIONS,
};

/* A parsed path; the strings point into the request arena. */
struct taxii_path {
    enum taxii_route route;
    const char *root; /* API root name */
    const char *id;   /* status id or collection id/alias */
    const char *object_id;
};

/* The collection a request's path names, read with its token in one
 * look-up (store_token_access; taxii_coll_load uses it). */
struct taxii_coll_pre {
    bool loaded; /* else taxii_coll_load looks the collection up itself */
    bool found;
    struct store_collection c;
    struct store_grant g;
};

/* One request being handled. */
struct taxii_req {
    struct taxii_server *ts;
    struct http_request *http;
    struct http_response *resp;
    struct taxii_path path;
    struct taxii_principal who;
    struct taxii_coll_pre pre;
};

/* ---- taxii_media.c: content negotiation (TAXII §1.6.8, §3.1) ---- */

/* True when an Accept header value lets us answer with
 * application/taxii+json;version=2.1: a media range application/taxii+json
 * without version or with version=2.1, or *\/\* or application/\*, with a
 * q-value above 0. NULL (no header) is false. */
bool taxii_accept_ok(const char *accept);

/* True when a Content-Type names application/taxii+json with version=2.1
 * or without version (other parameters are ignored). */
bool taxii_content_type_ok(const char *ctype);

/* ---- taxii_filter.c: query parameters: public in taxii.h ---- */

/* The binding of a paging token: what the query is and who asks. */
struct taxii_next_bind {
    enum taxii_route route;
    const char *root;
    const char *collection_id;
    const char *object_id; /* NULL unless object/versions */
    int64_t org_key;       /* 0 for anonymous */
    const char *token_name;
};

#define TAXII_NEXT_MAX 128 /* characters of a paging token */

/* Writes the token for the cursor (date_added, seq) into out. */
void taxii_next_make(const unsigned char key[crypto_auth_KEYBYTES], const struct taxii_next_bind *b,
                     const struct taxii_filter *f, int64_t date_added, int64_t seq,
                     char out[TAXII_NEXT_MAX + 1]);

/* Checks a token against the key, binding and filters; MRD_E_PARSE for
 * anything forged, altered, or made for another query or requester. */
enum mrd_code taxii_next_check(const unsigned char key[crypto_auth_KEYBYTES],
                               const struct taxii_next_bind *b, const struct taxii_filter *f,
                               const char *token, int64_t *ret_date_added, int64_t *ret_seq,
                               struct mrd_err *err);

/* ---- taxii_server.c: responses ---- */

/* Answers with a TAXII error resource (TAXII §3.6.1) whose http_status is
 * status. title/description must not reveal inaccessible resources. */
void taxii_error(struct taxii_req *r, unsigned status, const char *title, const char *description);
/* 500 without details for the client; the detail goes to the access log. */
void taxii_internal(struct taxii_req *r, const struct mrd_err *err);
/* Serialises v (consumed) as the body with status. */
void taxii_json(struct taxii_req *r, unsigned status, json_t *v);
/* Formats a version timestamp: milliseconds when the microseconds are a
 * whole number of them, else microseconds. out has 28 bytes. */
void taxii_version_str(int64_t usec, char out[MRD_TIME_TAXII_LEN + 1]);

/* ---- taxii_read.c / taxii_write.c: endpoints ---- */

void taxii_get_discovery(struct taxii_req *r);
void taxii_get_api_root(struct taxii_req *r);
void taxii_get_status(struct taxii_req *r);
void taxii_get_collections(struct taxii_req *r);
void taxii_get_collection(struct taxii_req *r);
void taxii_get_rows(struct taxii_req *r); /* manifest, objects, object, versions */
void taxii_post_objects(struct taxii_req *r);
void taxii_delete_object(struct taxii_req *r);

/* ---- taxii_ledger.c: /ledger/v1/ routes ---- */

bool taxii_ledger_path(const char *path);
void taxii_ledger_handle(struct taxii_req *r);

/* The collection of the request's path, with the requester's grant and
 * the policy reader. Answers 404 itself (and returns false) when the API
 * root or collection does not exist or is inaccessible. */
struct taxii_coll {
    struct store_collection c;
    struct store_grant g; /* what this requester may do */
    struct policy_reader reader;
};
bool taxii_coll_load(struct taxii_req *r, struct taxii_coll *ret);

#endif
