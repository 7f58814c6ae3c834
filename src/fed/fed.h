/*
 * fed: federation between Meridian nodes and other TAXII 2.1 servers
 * (docs/design.md §5–§7, issue 6).
 *
 * Does:
 *  - the peer table and each peer's sync state (pull cursor, push cursor,
 *    failures and back-off, counters), kept in their own SQLite file
 *    FED_DB_FILE in the data directory, beside the store;
 *  - a TAXII 2.1 client over libcurl: discovery, paging through objects/
 *    with added_after and next, POST in batches, following the status
 *    resource; it copes with servers that omit `next` or the
 *    X-TAXII-Date-Added-* headers;
 *  - one sync round for one peer (pull, then push) and for all peers, each
 *    peer on its own thread so that a slow or dead one delays nobody;
 *  - a background runner for `meridian serve` that syncs every peer on an
 *    interval, backing off exponentially with jitter after failures;
 *  - ingest checks shared by every path that writes objects: signing
 *    objects created here, verifying signatures on received ones
 *    (fed_ingest_*), with the node key FED_NODE_KEY_FILE;
 *  - the sightings roll-up (per indicator: count, reporting orgs, first and
 *    last seen) and its JSON API under /api/v1/sightings/.
 *
 * What travels is decided by policy_may_read() and nothing else: pushing
 * to a peer is that peer (its org on this node, else a partner) reading the
 * local collection through the peer's community; serving a peer's pull is
 * the TAXII server's ordinary read. Objects received from a peer are stored
 * with source_peer = the peer's name, local = false and community = the
 * peer's community, so AMBER goes one hop, GREEN stays in its community and
 * RED never leaves its creator.
 *
 * Not here: TAXII serving (taxii.h), storage of objects (store.h), the TLP
 * table (policy.h), signatures themselves (crypto.h). Never prints or logs:
 * results come back in structs and callbacks, cli/ logs them.
 * Threading: a struct fed_state is used by one thread; every thread opens
 * its own (they share the file through SQLite's locking).
 */
#ifndef MRD_FED_FED_H
#define MRD_FED_FED_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "privacy/privacy.h"
#include "http/http.h"
#include "store/store.h"

#define FED_DB_FILE "fed.db"         /* peers and sync state, in the data directory */
#define FED_NODE_KEY_FILE "node.key" /* the node's Ed25519 key (crypto_key_save format) */

/* Named maxima of peer fields (bytes, without the NUL). */
#define FED_PEER_NAME_MAX 64
#define FED_URL_MAX 2048
#define FED_ROOT_MAX 256 /* remote API root name or URL path */
#define FED_COLL_MAX 256 /* remote collection id */
#define FED_TOKEN_MAX 512
#define FED_PATH_MAX 4096
#define FED_ERROR_MAX 256
#define FED_MAX_PEERS 256

/* Limits of the client. */
#define FED_MAX_RESPONSE ((size_t)256 * 1024 * 1024) /* one response body */
#define FED_PAGE_LIMIT 1000                          /* objects asked per page */
#define FED_PUSH_BATCH 500                           /* objects per POST */
#define FED_MAX_PAGES_PER_ROUND 100000               /* guards a server that never ends */
#define FED_CONNECT_TIMEOUT_S 5
#define FED_REQUEST_TIMEOUT_S 120
#define FED_STATUS_WAIT_S 60 /* how long a push follows a pending status */

/* Back-off after failures: min(base * 2^(failures-1), max), then a random
 * factor in [0.5, 1.0] (jitter) so that many nodes do not retry together. */
#define FED_BACKOFF_BASE_S 2
#define FED_BACKOFF_MAX_S 600

enum fed_direction {
    FED_DIR_PULL = 1,
    FED_DIR_PUSH = 2,
    FED_DIR_BOTH = 3,
};

struct fed_peer {
    char name[FED_PEER_NAME_MAX + 1]; /* [A-Za-z0-9._-], also the provenance tag */
    char url[FED_URL_MAX + 1];        /* server base; discovery is URL/taxii2/ */
    char api_root[FED_ROOT_MAX + 1];  /* remote API root as discovery lists it */
    char collection[FED_COLL_MAX + 1];
    char local_collection[STORE_UUID_LEN + 1]; /* local collection id */
    char token[FED_TOKEN_MAX + 1];             /* credential the peer issued to us */
    char pubkey[CRYPTO_PUBKEY_TEXT_LEN + 1];   /* "" when none was given */
    char ca_file[FED_PATH_MAX + 1];            /* "" = system trust store */
    enum fed_direction direction;
    char community[STORE_NAME_MAX + 1];
    bool enabled;
    unsigned interval_ms; /* sync this peer every interval_ms; 0 = the server's --sync-interval */
};

struct fed_peer_state {
    int64_t pull_cursor;     /* usec of the last X-TAXII-Date-Added-Last; STORE_TIME_NONE */
    bool push_has_cursor;    /* push resumes after (push_date_added, push_seq) */
    int64_t push_date_added; /* of the local collection */
    int64_t push_seq;
    unsigned failures;         /* consecutive failed rounds */
    int64_t next_attempt_usec; /* not before (back-off); 0 = now */
    int64_t last_ok_usec;      /* end of the last good round; 0 = never */
    int64_t last_attempt_usec;
    char last_error[FED_ERROR_MAX + 1]; /* "" after a good round */
    uint64_t pulled, pushed, rejected;  /* totals over the peer's life */
};

/* ---- the peer table (fed_state.c) ---- */

struct fed_state;

/* Opens (creating, mode 0600) DIR/FED_DB_FILE. */
enum mrd_code fed_state_open(const char *data_dir, struct fed_state **ret, struct mrd_err *err);
void fed_state_close(struct fed_state *fs);

/* Writes a consistent copy of the peer table and sync state (cursors
 * included) to path, a new file (mode 0600: it holds peer tokens), with
 * SQLite's online backup; *ret_peers (may be NULL) counts the peers. */
enum mrd_code fed_state_snapshot(struct fed_state *fs, const char *path, unsigned *ret_peers,
                                 struct mrd_err *err);

/* Checks p's fields (names, URL scheme, direction, public key syntax) and
 * adds it with a fresh state; MRD_E_EXISTS when the name is taken. */
enum mrd_code fed_peer_add(struct fed_state *fs, const struct fed_peer *p, struct mrd_err *err);
/* Replaces the configuration of peer p->name (URL, API root, collections,
 * token, key, CA, direction, community, enabled, interval) after the same
 * checks as fed_peer_add; its sync state (cursors, counters) is kept.
 * MRD_E_NOTFOUND when there is no such peer. */
enum mrd_code fed_peer_update(struct fed_state *fs, const struct fed_peer *p, struct mrd_err *err);
/* MRD_E_NOTFOUND when there is no such peer. */
enum mrd_code fed_peer_remove(struct fed_state *fs, const char *name, struct mrd_err *err);
enum mrd_code fed_peer_set_enabled(struct fed_state *fs, const char *name, bool enabled,
                                   struct mrd_err *err);
/* ret_state may be NULL. */
enum mrd_code fed_peer_get(struct fed_state *fs, const char *name, struct fed_peer *ret,
                           struct fed_peer_state *ret_state, struct mrd_err *err);
/* Calls cb for every peer in name order; a cb error stops and is returned. */
enum mrd_code fed_peer_list(struct fed_state *fs,
                            enum mrd_code (*cb)(void *ctx, const struct fed_peer *p,
                                                const struct fed_peer_state *s),
                            void *ctx, struct mrd_err *err);
/* Writes a peer's state (committed). */
enum mrd_code fed_peer_state_put(struct fed_state *fs, const char *name,
                                 const struct fed_peer_state *s, struct mrd_err *err);

/* Keys trusted beyond the peers' --pubkey: authors further away whose
 * signatures should verify as valid here (`meridian key trust`). */
enum mrd_code fed_key_trust(struct fed_state *fs, const char *name, const char *pubkey,
                            struct mrd_err *err);
/* MRD_E_NOTFOUND when no key has that name. */
enum mrd_code fed_key_untrust(struct fed_state *fs, const char *name, struct mrd_err *err);
enum mrd_code fed_key_list(struct fed_state *fs,
                           enum mrd_code (*cb)(void *ctx, const char *name, const char *pubkey),
                           void *ctx, struct mrd_err *err);

/* Who a peer is on this node (docs/federation.md, "Who a peer is"): an org
 * of the peer's name must be a partner (never the own org or a
 * constituent, whose reads would send what only they may read), and a
 * peer we push to must have one, with a read grant on local_coll: what is
 * pushed is exactly what that partner could read here over TAXII.
 * MRD_E_INVAL with a message saying what to change; ret_org (may be NULL)
 * gets the org and *ret_has_org whether there is one. Checked by
 * `peer add` and again at the start of every round (orgs change). */
enum mrd_code fed_peer_check_org(struct store *st, const struct fed_peer *p,
                                 const struct store_collection *local_coll,
                                 struct store_org *ret_org, bool *ret_has_org, struct mrd_err *err);

/* Parses "pull", "push" or "both". */
enum mrd_code fed_direction_parse(const char *s, enum fed_direction *ret, struct mrd_err *err);
const char *fed_direction_name(enum fed_direction d);

/* The back-off delay in usec after `failures` consecutive failures, with
 * jitter r in [0, 1] (the caller passes a random number; tests pass fixed
 * ones). */
int64_t fed_backoff_usec(unsigned failures, double r);

/* ---- the node key and ingest checks (fed_ingest.c) ---- */

/* Everything an ingest path needs: the node key (may be absent: nothing is
 * signed) and the keyring of trusted keys (the node's own and every
 * peer's --pubkey). Read-only after fed_trust_load: share between threads. */
struct fed_trust {
    struct crypto_key *node_key; /* NULL when the data directory has none */
    struct crypto_keyring *keyring;
    /* How objects leave this node (privacy.h): DIR/PRIVACY_POLICY_FILE, or
     * the safe defaults when there is none. Never NULL once loaded. The
     * file is read again when it changed (checked at each
     * privacy_live_get: a stat), so a running node applies a new policy
     * at its next read; one that does not parse leaves the old in force
     * (fed_trust_on_privacy_error hears of it). */
    struct privacy_live *privacy;
    struct fed_privacy_file *privacy_file; /* private to fed_ingest.c */
};

/* Loads DIR/FED_NODE_KEY_FILE (a missing file is not an error: no
 * signing), the peers' public keys and the outbound privacy policy (a
 * missing file means the defaults; a bad one fails with its error). */
enum mrd_code fed_trust_load(const char *data_dir, struct fed_trust **ret, struct mrd_err *err);
void fed_trust_free(struct fed_trust *t);
/* Who hears of a changed policy file that could not be read or parsed
 * (the node keeps the policy in force); cb may be NULL. */
void fed_trust_on_privacy_error(struct fed_trust *t,
                                void (*cb)(void *ctx, const struct mrd_err *err), void *ctx);

/* Reads DIR/PRIVACY_POLICY_FILE into *ret (the defaults when absent). */
enum mrd_code fed_privacy_load(const char *data_dir, struct privacy_policy **ret,
                               struct mrd_err *err);

/* Creates DIR/FED_NODE_KEY_FILE when it does not exist (mode 0600);
 * MRD_OK when it already does. */
enum mrd_code fed_node_key_ensure(const char *data_dir, struct mrd_err *err);

enum fed_ingest_origin {
    FED_ORIGIN_LOCAL = 0, /* created here: own/constituent POST, import, matcher, sensors */
    FED_ORIGIN_REMOTE,    /* received: POST by a partner, pull from a peer */
};

struct fed_ingest_result {
    bool reject;                 /* do not store; why is in message */
    bool signed_here;            /* the object was signed with the node key */
    enum crypto_verdict verdict; /* after signing or verifying */
    char message[FED_ERROR_MAX + 1];
    /* fed_ingest_canon only: the level to store (policy_tlp_ingest) and
     * the key of the Meridian signature the stored bytes carry ("" none) */
    enum policy_tlp tlp;
    char signer[CRYPTO_PUBKEY_TEXT_LEN + 1];
};

/* THE ingest check, called by every path that stores objects, after STIX
 * validation and before the canonical form is computed. LOCAL: an object
 * with no Meridian signature is signed in place with the node key (when
 * there is one); an object that carries one is verified like a remote
 * one. REMOTE: the signature, if any, is verified; a signature that does
 * not match (whoever the signer) sets reject with a message for the status
 * resource or log. Unknown signers and unsigned objects are accepted and
 * reported through verdict. t may be NULL (no key, nothing trusted). */
enum mrd_code fed_ingest_check(const struct fed_trust *t, json_t *obj,
                               enum fed_ingest_origin origin, struct fed_ingest_result *ret,
                               struct mrd_err *err);

/* THE ingest step of every write path (TAXII POST, import, pull): what
 * fed_ingest_check decides, without changing obj, and the RFC 8785 form of
 * the bytes to store appended to out. The object's TLP is decided by
 * policy_tlp_ingest() against the collection default dflt (an object is
 * created here when LOCAL and unsigned or signed by the node key) and,
 * when it says so, written into the object before it is signed (LOCAL) or
 * stored (an unsigned received object), so that it leaves this node
 * carrying the level it has here; ret->tlp is that level. The canonical
 * TLP marking definitions are nobody's creation: never signed or marked.
 * When ret->reject is set nothing is appended. MRD_E_TOOBIG / MRD_E_INVAL
 * from the canonical form are returned as they are (out's maximum; NaN). */
enum mrd_code fed_ingest_canon(const struct fed_trust *t, const json_t *obj,
                               enum fed_ingest_origin origin, enum policy_tlp dflt,
                               struct mrd_buf *out, struct fed_ingest_result *ret,
                               struct mrd_err *err);

/* store_object_in.signer_trusted for a struct fed_trust (ctx, may be
 * NULL): whether the keyring holds the key "ed25519:<base64>". */
bool fed_trust_knows(void *ctx, const char *key, size_t len);

/* store_object_in.same_content: whether two copies of one version by one
 * signer say the same without their Meridian signature blocks
 * (crypto_object_same_content). The node signs an object it creates when
 * it stores it, with the selective-disclosure block only when the privacy
 * policy in force could change it (privacy_may_minimise), so the same
 * object imported or posted again after a policy change is signed with
 * other bytes: it is the same copy, "already present", not a conflict. */
bool fed_same_content(const char *stored, size_t stored_len, const char *body, size_t body_len);

/* The verification status of a stored object's bytes, for exports and the
 * dashboard: "valid", "unknown signer", "unsigned" or "invalid". */
const char *fed_verification_of(const struct fed_trust *t, const json_t *obj);

/* ---- sync (fed_sync.c) ---- */

/* Call once per process before any sync (curl_global_init); not
 * thread-safe. fed_global_cleanup at exit. */
enum mrd_code fed_global_init(struct mrd_err *err);
void fed_global_cleanup(void);

/* What one peer's round did. */
struct fed_round_report {
    char peer[FED_PEER_NAME_MAX + 1];
    bool attempted;       /* false: disabled or backing off */
    bool ok;              /* pull and push both succeeded */
    uint64_t pulled;      /* new versions stored */
    uint64_t duplicates;  /* already present */
    uint64_t rejected;    /* invalid STIX or bad signature: never stored */
    uint64_t unverified;  /* stored but unsigned or by an unknown signer */
    uint64_t pushed;      /* objects the peer accepted */
    uint64_t push_failed; /* objects the peer refused */
    uint64_t conflicts;   /* not genuine here (store_objects_insert): refused, kept apart, or
                           * stored ones outranked by a copy pulled now */
    uint64_t pages;
    int64_t usec;
    char error[FED_ERROR_MAX + 1];
    char first_reject[FED_ERROR_MAX + 1]; /* the first rejection's reason */
};

struct fed_sync_opts {
    bool ignore_backoff; /* `meridian sync`: try every enabled peer now */
    const char *only;    /* one peer's name, or NULL for all */
};

/* Runs one round (pull then push, as the direction says) for every enabled
 * peer due now, each on its own thread, and waits for all. data_dir is
 * where fed.db and the key live; st is the open store (shared). cb (may be
 * NULL) receives each peer's report from the peer's thread, serialised by
 * a lock. Peer failures are reported, not returned: the return value is
 * an error only when the round could not start at all. */
enum mrd_code fed_sync_round(const char *data_dir, struct store *st, const struct fed_trust *trust,
                             const struct fed_sync_opts *opts,
                             void (*cb)(void *ctx, const struct fed_round_report *r), void *ctx,
                             struct mrd_err *err);

/* ---- plain HTTP GET (or POST) (fed_client.c), for feeds and private matching ---- */

/* One response. */
struct fed_response {
    long status;
    struct mrd_buf body;      /* at most FED_MAX_RESPONSE (fed_get: req->max_bytes) */
    char date_added_last[64]; /* X-TAXII-Date-Added-Last, "" when absent */
    char content_type[128];
    char etag[256];         /* ETag, "" when absent (or longer than this) */
    char last_modified[64]; /* Last-Modified, "" when absent */
};

/* A GET (a POST when body is set) with the TAXII client's transport settings (certificates always
 * verified, no redirects, http/https only, connect timeout). */
struct fed_get_req {
    const char *url;
    const char *ca_file;       /* NULL or "": the system trust store */
    const char *bearer;        /* Authorization: Bearer token, or NULL */
    const char *etag;          /* If-None-Match, or NULL */
    const char *last_modified; /* If-Modified-Since, or NULL */
    const char *accept;        /* Accept, or NULL */
    size_t max_bytes;          /* a larger body aborts with MRD_E_TOOBIG */
    unsigned timeout_s;        /* the whole transfer; past it MRD_E_TIMEOUT */
    const atomic_bool *stop;   /* NULL, or a flag that aborts the transfer */
    const char *body;          /* not NULL: a POST of body_len bytes of content_type */
    size_t body_len;
    const char *content_type;
};

/* Performs req into resp (fed_get_response_init first); any HTTP status
 * comes back in resp->status, transport failures as MRD_E_IO,
 * MRD_E_TIMEOUT or MRD_E_TOOBIG naming the URL. */
void fed_get_response_init(struct fed_response *r, size_t max_bytes);
void fed_get_response_release(struct fed_response *r);
enum mrd_code fed_get(const struct fed_get_req *req, struct fed_response *resp,
                      struct mrd_err *err);

/* The URL of peer p's collection objects endpoint (TAXII 2.1 §5.4),
 * where a push posts: p->api_root found by discovery at p->url and
 * resolved as a sync resolves it (an absolute URL, a path on the same
 * server, or a path below p->url; never on another origin), then
 * collections/COLLECTION/objects/ with p->collection percent-escaped.
 * One discovery request (fed_global_init first); out holds at least
 * FED_OBJECTS_URL_MAX bytes. */
#define FED_OBJECTS_URL_MAX (FED_URL_MAX * 2)
enum mrd_code fed_peer_objects_url(const struct fed_peer *p, char *out, size_t size,
                                   struct mrd_err *err);

/* ---- the background runner for `meridian serve` (fed_runner.c) ---- */

struct fed_runner;

/* Starts a thread that runs a round for each peer every interval_ms
 * (after a failure: the back-off instead), each peer independently. The
 * store, trust and data_dir must outlive the runner. */
enum mrd_code fed_runner_start(const char *data_dir, struct store *st,
                               const struct fed_trust *trust, unsigned interval_ms,
                               void (*cb)(void *ctx, const struct fed_round_report *r), void *ctx,
                               struct fed_runner **ret, struct mrd_err *err);
/* Stops the runner, waiting for rounds in progress (bounded by the
 * client's timeouts). NULL-safe. */
void fed_runner_stop(struct fed_runner *r);

/* ---- the sightings roll-up (fed_sightings.c) ---- */

#define FED_SIGHT_MAX_ORGS 256 /* distinct reporting orgs kept per indicator */
#define FED_API_MAX_ROWS 10000 /* objects in one verification answer */

/* The roll-up of the sightings of one indicator (id) that reader org_key
 * may read, across every collection it holds a read grant on, as a JSON
 * object: {"indicator", "count", "sightings", "orgs": [...],
 * "first_seen", "last_seen"}; indicator NULL gives {"indicators": [...]}
 * of every sighted indicator, most sighted first. */
enum mrd_code fed_sightings_json(struct store *st, int64_t org_key, const char *indicator,
                                 json_t **ret, struct mrd_err *err);

/* ---- the JSON API (fed_api.c) ---- */

struct api_router;

/* fed's routes in the node's JSON API (api.h, docs/api.md), all GET:
 * sightings/ and sightings/{indicator-id} (the roll-up above),
 * verification/{collection-id} (each readable object's signature status
 * and signer, at most FED_API_MAX_ROWS of them) and, for own orgs only,
 * peers/ (peer health and lag). api must outlive the router. */
struct fed_api {
    struct store *st;
    const char *data_dir;
    const struct fed_trust *trust; /* for verification statuses; may be NULL */
};
enum mrd_code fed_api_routes(struct fed_api *api, struct api_router *router, struct mrd_err *err);

#endif
