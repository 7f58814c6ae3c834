/*
 * fed internals shared by fed_*.c: the TAXII 2.1 HTTP client and the
 * per-peer sync steps. Not for other subsystems.
 */
#ifndef MRD_FED_FED_INT_H
#define MRD_FED_FED_INT_H

#include <curl/curl.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "core/buf.h"
#include "fed/fed.h"

/* One peer's HTTP client: owns its CURL handle (docs/design.md, Conventions). */
struct fed_client {
    CURL *curl;
    const struct fed_peer *peer;    /* borrowed */
    char root_url[FED_URL_MAX + 1]; /* the API root's URL, with a final '/' */
    char auth[FED_TOKEN_MAX + 32];  /* "Authorization: Bearer ..." */
    char curl_err[CURL_ERROR_SIZE]; /* libcurl's message for the last failure */
    const atomic_bool *stop;        /* NULL, or a flag that aborts transfers when set */
};

/* struct fed_response is in fed.h (fed_get). */
void fed__response_init(struct fed_response *r);
void fed__response_release(struct fed_response *r);

enum mrd_code fed__client_new(const struct fed_peer *p, struct fed_client **ret,
                              struct mrd_err *err);
void fed__client_free(struct fed_client *c);

/* GET (body NULL) or POST (body given, TAXII content type) of url. A
 * transport failure (refused, TLS, timeout) is MRD_E_IO naming the URL;
 * any HTTP status comes back in resp->status. */
enum mrd_code fed__http(struct fed_client *c, const char *url, const char *body, size_t body_len,
                        struct fed_response *resp, struct mrd_err *err);

/* Discovery (TAXII 2.1 §4.1): GET URL/taxii2/ and find the API root the
 * peer's api_root names (an entry equal to it, or whose last path segment
 * is it), resolved against the server's URL into c->root_url. */
enum mrd_code fed__discover(struct fed_client *c, struct mrd_err *err);

/* c->root_url (after fed__discover) + "collections/ID/objects/" with
 * collection percent-escaped; MRD_E_TOOBIG when out is too small. */
enum mrd_code fed__objects_url(struct fed_client *c, const char *collection, char *out, size_t size,
                               struct mrd_err *err);

/* Parses a response body as JSON (strict, bounded); MRD_E_PARSE names the
 * URL. Checks the status first: anything but want is MRD_E_IO with the
 * status and the TAXII error's title when there is one. */
enum mrd_code fed__json(const struct fed_response *resp, long want, const char *url, json_t **ret,
                        struct mrd_err *err);

/* One peer's round (fed_sync.c): pull then push as its direction says,
 * then its state saved with the outcome (cursor, failures, back-off). */
void fed__peer_round(const char *data_dir, struct store *st, const struct fed_trust *trust,
                     const struct fed_peer *p, const struct fed_peer_state *s,
                     const atomic_bool *stop, struct fed_round_report *ret);

#endif
