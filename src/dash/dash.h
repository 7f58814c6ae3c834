/*
 * dash: the analyst console (docs/console.md).
 *
 * Does: the console's pages at /ui/ (HTML, CSS and JavaScript built into
 * the binary at compile time by src/dash/embed.py: nothing is fetched at
 * run time) with a strict Content-Security-Policy, and the console's data
 * routes in the JSON API (api.h): search by value, one at a time and in
 * bulk, and object pages. The search code is shared with `meridian
 * search`, so the CLI and the console give the same answers.
 * Does not: decide what anyone may read: every row goes through
 * policy_may_read() with the reader store_reader_for() builds for its
 * collection, before anything about it (a hit, a count, a version, an
 * error) is produced. Does not store anything itself (store.h) or log.
 *
 * Threading: a struct dash is read-only after dash_new(); handlers run on
 * many threads at once.
 */
#ifndef MRD_DASH_DASH_H
#define MRD_DASH_DASH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "ledger/sync.h"
#include "store/store.h"
#include "privacy/privacy.h"

#define DASH_BULK_MAX 10000                  /* values in one bulk lookup */
#define DASH_BULK_TEXT_MAX ((size_t)4 << 20) /* text of one bulk lookup */
#define DASH_SEARCH_LIMIT 200                /* objects one search returns by default */
#define DASH_BULK_PER_VALUE 5                /* objects listed per value in bulk */
#define DASH_STRING_MAX ((size_t)64 * 1024)  /* longer strings are cut in object pages */
#define DASH_MAX_VERSIONS 1000               /* versions listed on an object page */
#define DASH_CONTEXT_RESULTS 50              /* search results given what references them */
#define DASH_CONTEXT_PER_RESULT 10           /* containers / relationships listed per result */
#define DASH_MAX_EDGES 200                   /* relationships an object page lists per direction */
#define DASH_ROUTING_MAX 1000                /* routing alerts the Routing page lists */
#define DASH_ROUTING_SCAN_MAX 20000          /* observed-data rows read per collection for it */
#define DASH_DNS_MAX 1000                    /* DNS alerts the DNS page lists */

/* Who reads: an org and its relation to this node. */
struct dash_who {
    int64_t org_key;
    enum policy_relation relation;
    /* a partner user's outbound policy (privacy.h) and org name: what it
     * withholds is not shown, what it changes is shown changed; NULL: none */
    const struct privacy_policy *privacy;
    const char *org_name;
    /* who reads, for the access audit (audit.h): a token's name, or
     * "cli:USER"; NULL: "-" */
    const char *token;
};

/* Searches what a person typed with the reader's eyes: a value
 * (store_value_parse) first, then the words of names and descriptions
 * (store_text_search; not for an address). {"query", "value", "kind"
 * ("text" when q is no value), "results": [...], "more"}; each result is
 * an object (newest matching version the reader may read) with its TLP,
 * source, collection, how it mentions the query ("via": value, pattern,
 * url-host, text) and how that relates to it; the first
 * DASH_CONTEXT_RESULTS also list the containers referencing them
 * ("referenced_by") and their based-on / indicates relationships
 * ("related"), each readable by the reader. MRD_E_INVAL (message for the
 * user) when q has no word, MRD_E_TOOBIG when q is over
 * STORE_TEXT_QUERY_MAX bytes or STORE_TEXT_TERMS_MAX words. */
enum mrd_code dash_search(struct store *st, const struct dash_who *who, const char *q, size_t qlen,
                          size_t limit, json_t **ret, struct mrd_err *err);

/* Bulk lookup: the values in text (one per line, or any prose: addresses,
 * domains, URLs, e-mail addresses and hashes are picked out, defanged
 * forms too), at most DASH_BULK_MAX distinct ones: {"values": [{"value",
 * "kind", "found", "more", "results": [...]}], "known", "unknown",
 * "truncated"}. */
enum mrd_code dash_search_bulk(struct store *st, const struct dash_who *who, const char *text,
                               size_t len, json_t **ret, struct mrd_err *err);

struct dash;

struct dash_config {
    struct store *st;
    const struct crypto_keyring *keyring; /* to verify signatures on object pages; may be NULL */
    const char *data_dir;                 /* named in holds' records; may be NULL */
    struct ledger_service *ledger;        /* for evidence exports; NULL: none (503) */
    /* outbound minimisation (privacy.h) of the object pages partner users
     * read; required, borrowed; each partner request takes the policy in
     * force when it starts */
    struct privacy_live *privacy;
    /* The routing sensor's status for the Routing page, or NULL: a JSON
     * object {"sources": [VRP sources], "bmp": [BMP sessions]} (members
     * may be absent) that the caller owns; called on the request's thread. */
    json_t *(*sensor_status)(void *ctx);
    void *sensor_ctx;
    /* The DNS sensor's status for the DNS page, or NULL: {"zones": [watched
     * zones], "vantages": [names], "interval": seconds, "last_round": time
     * or null, "last_result": its log line}, owned by the caller. */
    json_t *(*dns_status)(void *ctx);
    void *dns_ctx;
};

enum mrd_code dash_new(const struct dash_config *cfg, struct dash **ret, struct mrd_err *err);
void dash_free(struct dash *d);

/* Adds the console's routes to the JSON API. */
enum mrd_code dash_api_routes(struct dash *d, struct api_router *r, struct mrd_err *err);

/* The http.h application: GET / and /ui/... here (the console's files),
 * everything else to inner. */
void dash_ui_app(struct dash *d, const struct http_app *inner, struct http_app *ret);

#endif
