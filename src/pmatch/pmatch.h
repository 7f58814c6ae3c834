/*
 * pmatch: private matching (issue 15, docs/privacy.md "Private matching").
 *
 * A node offers the indicator values of a collection; a partner learns
 * which of its own log values are among them and nothing else, and the
 * node learns only how many values the partner asked about. Built on the
 * RFC 9497 OPRF of privacy/ (ristretto255-SHA512, mode 0x00):
 *
 *  offering node: the exact key (match/, match_value_key) of every value
 *    of every active indicator of the collection is evaluated under the
 *    offer's key (Evaluate); the first PMATCH_OUTPUT_LEN bytes of each
 *    output, sorted, are the published set. Partners fetch it, and send
 *    batches of blinded elements for BlindEvaluate, accounted against a
 *    daily budget per (offer, partner org).
 *  partner: extracts the keys of its log values exactly as `meridian
 *    match` looks them up (match_obs_keys), dedups them, blinds them,
 *    has them evaluated, finalises, truncates and looks the outputs up in
 *    a match/ index of the published set (opaque keys).
 *
 * Offers live in the store's node metadata (PMATCH_META_OFFERS: their
 * definitions; one OPRF seed per offer; the day's count per partner).
 *
 * Wire (all under the API's authentication, /api/v1/private/):
 *   GET  private/                   the offers this principal may use (JSON)
 *   GET  private/{offer}            its parameters and the caller's budget (JSON)
 *   GET  private/{offer}/set?start=N  up to PMATCH_SET_PAGE outputs of
 *                                   PMATCH_OUTPUT_LEN bytes (octet-stream),
 *                                   header X-Meridian-Total
 *   POST private/{offer}/evaluate   n x 32-byte blinded elements in, n x
 *                                   32-byte evaluated elements out
 *                                   (octet-stream), 1 <= n <= PMATCH_BATCH_MAX
 *   POST private/{offer}/reveal     offers made with reveal only (else 403):
 *                                   n x 64-byte finalised OPRF outputs in
 *                                   (octet-stream, 1 <= n <= PMATCH_REVEAL_MAX),
 *                                   JSON out: {"objects": [the indicators
 *                                   behind them], "unknown": outputs that
 *                                   match no value}. Only the full output
 *                                   proves the caller holds a value: the
 *                                   published set has 16 of its 64 bytes.
 *                                   Each indicator passes policy_may_read
 *                                   for the caller and outbound minimisation.
 *
 * Threading: pmatch_server is shared by the API's threads (one mutex over
 * the published sets and the accounting). The client runs its own threads.
 */
#ifndef MRD_PMATCH_H
#define MRD_PMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "match/match.h"

#define PMATCH_ID_MAX 100              /* a STIX id kept by the reveal map */
#define PMATCH_NAME_MAX 32             /* offer name: [A-Za-z0-9._-] */
#define PMATCH_MAX_TO 32               /* orgs an offer names */
#define PMATCH_MAX_OFFERS 16           /* offers on a node (they share one metadata value) */
#define PMATCH_ELEMENT_LEN 32          /* a ristretto255 element on the wire */
#define PMATCH_OUTPUT_LEN 16           /* published bytes of each 64-byte OPRF output */
#define PMATCH_BATCH_MAX 4096          /* elements in one evaluate request */
#define PMATCH_SET_PAGE 65536          /* outputs in one set page (1 MiB) */
#define PMATCH_MAX_VALUES 20000000     /* values of one offer, and of one partner session */
#define PMATCH_DEFAULT_BUDGET 2000000u /* values per partner org per UTC day */
#define PMATCH_SET_TTL_S 60            /* a published set is recomputed when older */
#define PMATCH_META_OFFERS "private_offers"
#define PMATCH_SUITE "ristretto255-SHA512"
#define PMATCH_FULL_LEN 64    /* a finalised OPRF output, as sent to reveal */
#define PMATCH_REVEAL_MAX 256 /* outputs in one reveal request */

struct store;

/* ---- offers (pmatch_offer.c) ---- */

struct pmatch_offer {
    char name[PMATCH_NAME_MAX + 1];
    char collection[64];        /* the collection's id (uuid) */
    char to[PMATCH_MAX_TO][64]; /* org names allowed; none: any org that may read the collection */
    size_t nto;
    uint64_t budget; /* values per partner org per UTC day */
    bool reveal;     /* partners may ask for the indicators behind their matches */
};

/* Adds or replaces an offer (the collection must exist: given as uuid or
 * API-ROOT/ALIAS, stored as uuid). MRD_E_INVAL names a bad field. */
enum mrd_code pmatch_offer_put(struct store *st, const struct pmatch_offer *o, struct mrd_err *err);
/* MRD_E_NOTFOUND when there is no such offer. Its key goes with it. */
enum mrd_code pmatch_offer_remove(struct store *st, const char *name, struct mrd_err *err);
/* All offers, in name order, into ret (at most PMATCH_MAX_OFFERS). */
enum mrd_code pmatch_offer_list(struct store *st, struct pmatch_offer *ret, size_t *ret_n,
                                struct mrd_err *err);

/* What reveal looks outputs up in: every (full output, indicator) pair of
 * an offer, sorted by output. */
struct pmatch_reveal_entry {
    uint8_t out[PMATCH_FULL_LEN];
    uint32_t ind; /* into ids */
};
struct pmatch_reveal_map {
    struct pmatch_reveal_entry *e;
    size_t n;
    char (*ids)[PMATCH_ID_MAX + 1]; /* the indicators' STIX ids */
    size_t nids;
};
void pmatch_reveal_map_release(struct pmatch_reveal_map *m);
/* The indicator ids behind one full output: calls cb(ctx, id) for each. */
size_t pmatch_reveal_lookup(const struct pmatch_reveal_map *m, const uint8_t out[PMATCH_FULL_LEN],
                            void (*cb)(void *ctx, const char *id), void *ctx);

/* The sorted, deduplicated published set of an offer: ret_n outputs of
 * PMATCH_OUTPUT_LEN bytes (mrd_free it), computed with `threads` threads.
 * ret_skipped counts values with no exact key (CIDR ranges). ret_map (may
 * be NULL) gets the reveal map of the same values, in the same pass. */
enum mrd_code pmatch_offer_publish(struct store *st, const struct pmatch_offer *o, unsigned threads,
                                   uint8_t **ret, size_t *ret_n, size_t *ret_skipped,
                                   struct pmatch_reveal_map *ret_map, struct mrd_err *err);

/* ---- the wire (pmatch_wire.c, pure) ---- */

/* Checks an evaluate request body: a non-empty whole number of elements,
 * at most PMATCH_BATCH_MAX. MRD_E_INVAL / MRD_E_TOOBIG say which limit. */
enum mrd_code pmatch_batch_parse(const uint8_t *body, size_t len, size_t *ret_n,
                                 struct mrd_err *err);
/* BlindEvaluate of n elements (checked by pmatch_batch_parse) under sk
 * into out (n x 32 bytes). MRD_E_INVALID names the first bad element. */
enum mrd_code pmatch_batch_evaluate(const uint8_t sk[32], const uint8_t *in, size_t n, uint8_t *out,
                                    struct mrd_err *err);
/* The OPRF key of an offer from its 32-byte seed. */
enum mrd_code pmatch_offer_key(const uint8_t seed[32], const char *name, uint8_t ret_sk[32],
                               struct mrd_err *err);

/* ---- the serving side (pmatch_api.c) ---- */

struct api_router;
struct pmatch_server;

/* The routes above, on st (borrowed). log(ctx, line) receives one line per
 * evaluate request (offer, org, count, used today): the accounting. */
enum mrd_code pmatch_server_new(struct store *st, void (*log)(void *ctx, const char *line),
                                void *log_ctx, struct pmatch_server **ret, struct mrd_err *err);
void pmatch_server_free(struct pmatch_server *s);
/* The outbound minimisation revealed indicators get (borrowed; NULL: none,
 * and nothing is revealed to partners). Each reveal takes the policy in
 * force at the time (privacy_live_get). */
struct privacy_live;
void pmatch_server_set_privacy(struct pmatch_server *s, struct privacy_live *p);
enum mrd_code pmatch_api_routes(struct pmatch_server *s, struct api_router *router,
                                struct mrd_err *err);

/* ---- the partner side (pmatch_client.c) ---- */

struct pmatch_client_opts {
    const char *url;     /* the peer's base URL (https://host:port) */
    const char *token;   /* the credential the peer issued to us */
    const char *ca_file; /* NULL/"": system trust store */
    const char *offer;   /* NULL: the peer's only offer */
    enum match_format fmt;
    const char **inputs;
    size_t ninputs;
    unsigned threads;
    FILE *out; /* one line per matched value */
    /* Reveal: asks the offer for the indicators behind the matches (it
     * must offer it); each output line gets them ("indicators"). */
    bool reveal;
    /* Report (implies reveal): POSTs to this TAXII objects URL of the peer
     * one sighting per revealed indicator (count: the log lines holding
     * its values), where_sighted_refs the identity below (sent too). */
    const char *report_url;
    const char *identity;                     /* identity--UUID */
    const char *org;                          /* the identity's name */
    void (*log)(void *ctx, const char *line); /* progress and diagnostics */
    void *log_ctx;
};

struct pmatch_client_stats {
    uint64_t lines, values, keys, published, matched, batches, revealed, reported;
    double extract_s, oprf_s, total_s;
};

/* Runs a session: extract, dedup, blind, evaluate over HTTP, finalise,
 * test membership, print the matches. */
enum mrd_code pmatch_client_run(const struct pmatch_client_opts *o, struct pmatch_client_stats *ret,
                                struct mrd_err *err);

#endif
