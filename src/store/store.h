/*
 * store: persistence of a Meridian node (docs/design.md §4).
 *
 * An ops table with one backend per file: store_sqlite.c (default, one
 * SQLite file `meridian.db` in the data directory, WAL mode) and, later,
 * store_pg.c (PostgreSQL, several `meridian serve` processes sharing one
 * database). store_open() picks the backend from its argument; everything
 * else goes through the store_* wrappers below, which dispatch to the ops.
 * The interface carries no backend types.
 *
 * Holds: orgs, API tokens (hashed), API roots, collections, grants, STIX
 * object versions (canonical bytes plus indexed columns), TAXII status
 * resources, node metadata. Not here: HTTP (http.h), TAXII semantics
 * (taxii.h), STIX validation (stix.h), the read decision (policy.h: the
 * store hands each candidate row to the caller, who asks policy).
 *
 * Durability: every function that returns MRD_OK after a write has
 * committed it (SQLite: synchronous=FULL in WAL mode: the WAL is fsynced at
 * every commit, so not even power loss undoes it; NORMAL would only sync at
 * checkpoints and is deliberately not used), so `kill -9` after the return
 * loses nothing. A failed call changes nothing.
 *
 * Threading: one struct store is shared by all threads of a process
 * (libmicrohttpd's thread pool included). Each call borrows a database
 * connection from a pool inside the store for its duration and gives it
 * back before returning, so calls on several threads run in parallel
 * (readers never block each other or the writer; writers are serialised
 * by the database's write lock, with a busy timeout of STORE_BUSY_MS).
 * Other processes (CLI verbs beside a running server) may use the same
 * data directory at the same time.
 * Callbacks given to a store function run on the calling thread while its
 * connection is held: they must not call store functions themselves.
 *
 * Errors: MRD_E_NOTFOUND (no such org/collection/...), MRD_E_EXISTS (name
 * taken), MRD_E_INVAL (bad argument, message names it), MRD_E_TOOBIG (a
 * named maximum below), MRD_E_DB (database failure, message from the
 * backend), MRD_E_TIMEOUT (busy beyond STORE_BUSY_MS), MRD_E_NOMEM,
 * MRD_E_UNSUPP (backend not built in). Never logs.
 *
 * Strings travel as NUL-terminated C strings inside the fixed-size fields
 * of the structs below (the sizes are the named maxima) or as (ptr, len)
 * for STIX ids, types and bodies. Pointers in rows handed to callbacks are
 * valid only during the callback.
 */
#ifndef MRD_STORE_H
#define MRD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "policy/policy.h" /* enum policy_tlp, enum policy_relation (header only) */

/* ---- named maxima (bytes, without the NUL) ---- */
#define STORE_NAME_MAX 64                           /* org name, token name, API root name */
#define STORE_TITLE_MAX 256                         /* API root and collection titles */
#define STORE_DESC_MAX 4096                         /* descriptions */
#define STORE_ALIAS_MAX 64                          /* collection alias */
#define STORE_UUID_LEN 36                           /* collection and status ids (RFC 4122 v4) */
#define STORE_STIX_ID_MAX 300                       /* "type--uuid": type is at most 250 chars */
#define STORE_TYPE_MAX 250                          /* STIX type */
#define STORE_SPEC_MAX 16                           /* spec_version, e.g. "2.1" */
#define STORE_PEER_MAX 256                          /* source peer name */
#define STORE_META_KEY_MAX 64                       /* node metadata key */
#define STORE_META_VAL_MAX 4096                     /* node metadata value */
#define STORE_MSG_MAX 512                           /* one status-details message */
#define STORE_OBJECT_MAX ((size_t)16 * 1024 * 1024) /* canonical bytes of one object */
#define STORE_RECIPIENTS_MAX 64                     /* RED recipients per object */
#define STORE_MATCH_MAX 64                          /* values in one match[...] filter */
#define STORE_BUSY_MS 10000                         /* busy timeout on the database write lock */
#define STORE_STATUS_KEEP_USEC ((int64_t)48 * 3600 * 1000000) /* status kept 48 h (>= 24 h) */

/* Tokens: "mrd_" + 43 base64url chars (256 random bits). The token name
 * defaults to its first STORE_TOKEN_PREFIX_LEN chars ("mrd_" + 8), which
 * identifies it in lists and logs without revealing it. */
#define STORE_TOKEN_LEN 47
#define STORE_TOKEN_PREFIX_LEN 12

/* Versions: microseconds since the epoch of `modified`, else `created`.
 * SCOs have neither: their version is STORE_VERSION_NONE, and a second
 * copy of the same SCO id is a duplicate. */
#define STORE_VERSION_NONE INT64_MIN
/* "no time given" for optional time arguments */
#define STORE_TIME_NONE INT64_MIN

struct store;

/* ---- records ---- */

struct store_org {
    int64_t key; /* > 0; stable; what grants, tokens and objects refer to */
    char name[STORE_NAME_MAX + 1];
    enum policy_relation relation;
    int64_t created_usec;
    int64_t disabled_usec; /* STORE_TIME_NONE unless disabled: its tokens do not work */
    int64_t deleted_usec;  /* STORE_TIME_NONE unless deleted (a tombstone; implies disabled) */
};

struct store_token {
    char name[STORE_NAME_MAX + 1];
    int64_t org_key;
    char org_name[STORE_NAME_MAX + 1];
    enum policy_relation org_relation;
    int64_t created_usec;
    int64_t revoked_usec;        /* STORE_TIME_NONE while valid */
    int64_t expires_usec;        /* STORE_TIME_NONE: never */
    int64_t last_used_usec;      /* STORE_TIME_NONE: never; at most a minute stale */
    int64_t prev_expires_usec;   /* after token_rotate: the old secret works until then */
    int64_t prev_last_used_usec; /* the old secret's last use */
    bool org_disabled;           /* its org is disabled or deleted */
    bool via_prev;               /* token_lookup: the old secret of a rotation was used */
    char prefix[STORE_TOKEN_PREFIX_LEN + 1]; /* the current secret's public prefix */
};

struct store_api_root {
    char name[STORE_NAME_MAX + 1]; /* URL path segment: [A-Za-z0-9._-]+, not "taxii2" */
    char title[STORE_TITLE_MAX + 1];
    char description[STORE_DESC_MAX + 1];
    uint64_t max_content_length; /* bytes; > 0 */
};
#define STORE_DEFAULT_MAX_CONTENT ((uint64_t)100 * 1024 * 1024)

struct store_collection {
    int64_t key;                 /* internal handle for the object calls */
    char id[STORE_UUID_LEN + 1]; /* uuid v4, the TAXII collection id */
    char api_root[STORE_NAME_MAX + 1];
    char title[STORE_TITLE_MAX + 1];
    char description[STORE_DESC_MAX + 1];
    char alias[STORE_ALIAS_MAX + 1]; /* "" when none; unique within the API root */
    enum policy_tlp default_tlp;     /* for objects without a TLP marking */
    bool public_read;                /* CLEAR objects readable without a grant */
};

struct store_grant {
    bool can_read;
    bool can_write;
};

/* One grant as listed by store_grant_list. */
struct store_grant_row {
    int64_t org_key;
    char org_name[STORE_NAME_MAX + 1];
    int64_t collection; /* store_collection.key */
    char collection_id[STORE_UUID_LEN + 1];
    char api_root[STORE_NAME_MAX + 1];
    struct store_grant grant;
};

struct store_row;
struct store_agg_query;
struct store_newest;

/* One object version to insert. The caller has validated it (stix.h),
 * computed the canonical bytes (RFC 8785) and the TLP (policy.h). */
struct store_object_in {
    const char *id; /* STIX id, (ptr, len) */
    size_t id_len;
    const char *type;
    size_t type_len;
    const char *spec_version; /* "2.1" when the object has none (SCOs) */
    size_t spec_version_len;
    int64_t created_usec;  /* STORE_TIME_NONE when absent (SCOs) */
    int64_t modified_usec; /* STORE_TIME_NONE when absent */
    bool revoked;
    enum policy_tlp tlp;
    bool local;              /* policy_origin_local() */
    int64_t creator_org;     /* org key of the writer; 0 unknown */
    const char *source_peer; /* NULL when not received from a peer */
    size_t source_peer_len;
    const char *community; /* NULL: the collection's API root name */
    size_t community_len;
    const int64_t *recipients; /* RED recipients, at most STORE_RECIPIENTS_MAX */
    size_t n_recipients;
    const char *body; /* canonical bytes, at most STORE_OBJECT_MAX */
    size_t body_len;
    /* What the writer may read (docs/design.md §5), for the duplicate rule of
     * store_objects_insert: writer_sees(writer_ctx, row) is the writer's
     * policy_may_read. NULL = the writer sees every row (import, federation
     * pulls, admin). Called on whichever thread commits the insert, while
     * the caller waits: it must only read ctx. */
    bool (*writer_sees)(void *writer_ctx, const struct store_row *row);
    void *writer_ctx;
    /* Who signed it (docs/federation.md, "Who may version an object"): the
     * public key of the Meridian signature the body carries, as
     * "ed25519:<base64>" (at most STORE_SIGNER_MAX), NULL when unsigned;
     * signer_trusted(signer_ctx, key, len) says whether this node trusts a
     * key (NULL: none is), so a trusted signer outranks an unknown one. */
    const char *signer;
    size_t signer_len;
    bool (*signer_trusted)(void *signer_ctx, const char *key, size_t len);
    void *signer_ctx;
    /* Whether a stored copy of this version by the same signer (or both
     * unsigned) with other bytes says the same as body: then this one is
     * a duplicate (STORE_INS_DUPLICATE), not another copy. NULL: only the
     * same bytes are. Writers set fed_same_content: the two compared
     * without their Meridian signature blocks, so that an object this
     * node signs again with or without the selective-disclosure block (the
     * privacy policy in force decides) is "already present". Called on
     * the thread that commits the insert. */
    bool (*same_content)(const char *stored, size_t stored_len, const char *body, size_t body_len);
    /* The values body mentions (store_values_of_json of the same object),
     * when the caller extracted them already (off the store's thread);
     * values_given false: the store extracts them from body. */
    const struct store_value *values;
    size_t n_values;
    bool values_given;
    /* A writer that shares the node's key with other orgs (a constituent
     * posting: what it writes is signed here, as the own org's is): it
     * makes versions only of objects it created on this node; another's
     * is not genuine (STORE_INS_NOT_CREATOR, STIX 2.1 §3.6), else the
     * node would sign its rewrite of anyone's intelligence. */
    bool creator_only;
    /* The own org (the node's operator) writing: it may version any
     * object. Else a new version of an object whose genuine rows are all
     * unsigned, itself unsigned, is genuine only from the writer that
     * stored the first of the object's genuine rows here (the same creator_org,
     * or the same source_peer: a peer's pulls and its partner org's POSTs
     * are one writer), else STORE_INS_NOT_CREATOR (STIX 2.1
     * §3.6: only the creator versions an object; unsigned, the store's
     * record of the first writer is all that tells who that is). */
    bool versions_any;
};
#define STORE_SIGNER_MAX 64

/* What store_objects_insert did with one object version. For objects with
 * a version (created/modified; not SCOs), only the key that signs an
 * object makes its versions, and one version has one content (STIX 2.1
 * §3.6); see store_objects_insert. */
enum store_insert_outcome {
    STORE_INS_ADDED = 0,       /* a new row, with a new date_added */
    STORE_INS_DUPLICATE = 1,   /* the same bytes already there for this writer: no-op */
    STORE_INS_REPLACED = 2,    /* added; stored rows of the object by another (or no) signer
                                * were outranked and became writer-only (conflicts recorded) */
    STORE_INS_WRITER_ONLY = 3, /* stored as a copy only its writer reads: not genuine, and
                                * the writer may read no genuine row (conflict recorded) */
    STORE_INS_NOT_SIGNER = 4,  /* refused: the object is signed by a key that outranks this
                                * one's (or it is unsigned) (conflict recorded) */
    STORE_INS_OTHER_COPY = 5,  /* refused: a different copy of this version is stored
                                * (conflict recorded) */
    STORE_INS_HISTORY = 6,     /* refused: a version after the object's revocation, a
                                * revoked one before a stored later version, or one with
                                * another `created` (conflict recorded) */
    STORE_INS_NOT_CREATOR = 7, /* refused: o->creator_only and the object was not created
                                * on this node by o->creator_org, or an unsigned version of
                                * an unsigned object another writer stored first
                                * (o->versions_any) (conflict recorded) */
};

/* A copy of a row's policy_object that owns its strings, for deciding a
 * read after the query's callback has returned (store_policy_keep). po
 * points into the struct itself: keep it where it was filled. */
struct store_policy_kept {
    struct policy_object po;
    char community[STORE_NAME_MAX + 1];
    int64_t recipients[STORE_RECIPIENTS_MAX];
};
void store_policy_keep(const struct policy_object *src, struct store_policy_kept *dst);

/* One stored object version as handed to query callbacks. Pointers are
 * valid during the callback only; body is NULL unless the query asked for
 * it. */
struct store_row {
    int64_t seq;        /* unique across the store, ascending in insert order */
    int64_t date_added; /* usec, unique and strictly increasing per collection */
    const char *id;
    size_t id_len;
    const char *type;
    size_t type_len;
    const char *spec_version;
    size_t spec_version_len;
    int64_t created_usec;  /* STORE_TIME_NONE when absent */
    int64_t modified_usec; /* STORE_TIME_NONE when absent */
    int64_t version_usec;  /* modified, else created, else STORE_VERSION_NONE */
    bool revoked;
    struct policy_object policy; /* tlp, local, creator_org, community, recipients */
    const char *source_peer;     /* NULL when none */
    size_t source_peer_len;
    const char *body; /* canonical bytes; NULL unless want_body */
    size_t body_len;
};

/* match[version] (TAXII 2.1 §3.4.1). LAST is the default. FIRST and LAST
 * may be combined (both bits), with timestamps too; ALL stands alone. */
#define STORE_VER_LAST 0x1u
#define STORE_VER_FIRST 0x2u
#define STORE_VER_ALL 0x4u
#define STORE_VER_TIMESTAMPS 0x8u /* version_usec IN timestamps[] */

struct store_match {
    const char *const *ids; /* match[id]: NUL-terminated STIX ids; NULL = any */
    size_t n_ids;
    const char *const *types; /* match[type] */
    size_t n_types;
    const char *const *spec_versions; /* match[spec_version] */
    size_t n_spec_versions;
    unsigned versions;         /* STORE_VER_* bits; 0 = STORE_VER_LAST */
    const int64_t *timestamps; /* with STORE_VER_TIMESTAMPS: version usecs */
    size_t n_timestamps;
};

/* A query over one collection, in (date_added, seq) order. Keyset paging:
 * pass the last row's key of the previous page as (after_date_added,
 * after_seq) and the next page starts strictly after it, so no row is
 * skipped or repeated, whatever other writers do. "first"/"last" are
 * chosen among the versions the reader may read (see store_objects_query). */
struct store_query {
    int64_t collection;              /* store_collection.key */
    int64_t added_after;             /* TAXII added_after in usec; STORE_TIME_NONE = none */
    const struct store_match *match; /* NULL = no match[] filters (version LAST) */
    bool has_cursor;                 /* resume after (after_date_added, after_seq) */
    int64_t after_date_added;
    int64_t after_seq;
    size_t limit;   /* visible rows to deliver; 0 = no limit */
    bool want_body; /* objects endpoints yes; manifest and versions no */
};

struct store_query_result {
    size_t delivered;         /* rows passed to emit */
    bool more;                /* at least one more visible row follows: exact */
    int64_t first_date_added; /* of the first delivered row; STORE_TIME_NONE if none */
    int64_t last_date_added;  /* of the last delivered row; STORE_TIME_NONE if none */
    int64_t last_seq;         /* cursor of the last delivered row */
};

/* TAXII status resources (TAXII 2.1 §4.3). */
enum store_status_kind { STORE_ST_SUCCESS = 0, STORE_ST_FAILURE = 1, STORE_ST_PENDING = 2 };

struct store_status_detail {
    enum store_status_kind kind;
    char id[STORE_STIX_ID_MAX + 1];  /* STIX id ("" when the object had none) */
    int64_t version_usec;            /* STORE_VERSION_NONE when unknown */
    char message[STORE_MSG_MAX + 1]; /* "" when none */
};

struct store_status {
    char id[STORE_UUID_LEN + 1];
    char api_root[STORE_NAME_MAX + 1];
    int64_t org_key;      /* the org that made the request: only it may read */
    int64_t request_usec; /* request_timestamp */
    bool complete;        /* "complete" or "pending" */
    uint64_t total_count;
    uint64_t success_count;
    uint64_t failure_count;
    uint64_t pending_count;
    struct store_status_detail *details; /* owned by the struct when from status_get */
    size_t n_details;
    /* store_objects_insert_status only (may be NULL): called after the
     * objects and before the status is written, in the same transaction,
     * with each object's outcome, so that the caller can turn a refused
     * object's detail into a failure (it changes the status through ctx). */
    void (*finish)(void *ctx, const enum store_insert_outcome *outcomes, size_t n);
    void *finish_ctx;
};

/* Legal holds (preservation orders, docs/ledger.md "Holds"). The store
 * keeps a hold's indexed fields and its JSON record (what the authority
 * asked for, as the CLI wrote it) and the object versions it preserves. */
#define STORE_CASE_MAX 128                        /* case id */
#define STORE_HOLD_RECORD_MAX ((size_t)64 * 1024) /* a hold's JSON record */
#define STORE_HOLD_ITEMS_MAX 100000               /* object versions one hold preserves */

struct store_hold {
    char id[STORE_UUID_LEN + 1];
    char case_id[STORE_CASE_MAX + 1];
    int64_t created_usec;
    int64_t expires_usec;
    int64_t released_usec; /* STORE_TIME_NONE while not released */
    uint64_t n_items;      /* object versions held (filled by reads) */
    const char *record;    /* JSON text; borrowed */
    size_t record_len;
};

/* A leaf the ledger must record besides object versions: a preservation
 * action. Queued in the same transaction as the change it records; the
 * store computes hash = SHA-256(record). */
struct store_ledger_event {
    uint8_t kind; /* enum ledger_kind (ledger.h) */
    int64_t time_usec;
    const char *record; /* the action's canonical JSON */
    size_t record_len;
};

/* One stored object version with where it lives and its ledger leaf. */
struct store_held {
    const struct store_row *row; /* body set */
    int64_t collection;          /* store_collection.key */
    const char *collection_id;
    const char *api_root;
    int64_t leaf; /* ledger leaf index; -1 until the ledger has it */
};

/* Which object versions store_objects_find reports (all set fields must
 * hold). */
struct store_find {
    const char *id; /* STIX id; NULL = any */
    size_t id_len;
    int64_t version_usec; /* STORE_TIME_NONE = any version */
    int64_t collection;   /* 0 = every collection */
    int64_t leaf;         /* -1 = any; else the version the ledger leaf records */
    const char *type;     /* NULL = any */
    size_t type_len;
    int64_t after_seq; /* 0 = any; else only versions with a higher seq */
    size_t limit;      /* 0 = no limit; else at most this many, lowest seq first */
};

/* One entry waiting for the ledger: an object version (event false, key =
 * its seq, body = its stored bytes) or a queued event (event true, key =
 * its number, hash given). */
struct store_ledger_item {
    bool event;
    int64_t key;
    uint8_t kind;
    int64_t time_usec;
    const char *body;
    size_t body_len;
    const uint8_t *hash; /* events: 32 bytes */
};

struct store_ledger_mark {
    bool event;
    int64_t key;
    int64_t leaf;
};

/* A console session (api.h): a browser signed in with an API token. The
 * cookie carries a random id; the store keeps only its SHA-256, so a copy
 * of the database opens no session. */
#define STORE_SESSION_ID_LEN 43 /* base64url of 32 random bytes */
/* last_seen is written at most this often per session (and at most every
 * idle/8 for idle times under 8 of these): the idle expiry is exact to
 * within it, and a busy console costs one write per interval. */
#define STORE_SESSION_TOUCH_USEC ((int64_t)30 * 1000000)

struct store_session {
    struct store_token tok; /* the token it was opened with: org and relation */
    int64_t created_usec;
    int64_t last_seen_usec;
    int64_t expires_usec; /* absolute expiry */
};

struct store_read_who;
struct store_read_batch;
struct store_read_row;
struct store_read_filter;
struct store_read_digest;
struct store_value;
struct store_value_hit;
struct store_asset;
struct store_notification;
struct store_contact;
struct store_delivery;
struct store_delivery_plan;
struct store_delivery_filter;
struct store_delivery_attempt;
struct store_found;

/* What a snapshot (store_snapshot) holds. */
struct mrd_pace; /* core/pace.h */

struct store_snapshot_info {
    int64_t max_leaf;   /* the highest ledger leaf the snapshot records; -1 when none */
    uint64_t objects;   /* object versions */
    int schema_version; /* of the copy (the current one: the source was migrated at open) */
    uint64_t bytes;     /* size of the copy */
};

/* What an org change did (store_org_disable, _enable, _delete,
 * store_org_revoke_access). */
struct store_org_change {
    struct store_org before, after;
    unsigned tokens_revoked;
    unsigned grants_removed;
};

/* One queued or recorded ledger event (preservation or administrative
 * action), as store_ledger_events lists them. */
struct store_event_row {
    int64_t ev; /* its number, ascending in queue order */
    uint8_t kind;
    int64_t time_usec;
    const char *record; /* the canonical JSON whose SHA-256 the leaf holds */
    size_t record_len;
    const uint8_t *hash; /* 32 bytes */
    int64_t leaf;        /* -1 until the ledger has it */
};

/* A copy of an object version this node does not hold as genuine
 * (store_objects_insert), as store_conflict_list reports it. */
enum store_conflict_reason {
    STORE_CONFLICT_SIGNER = 1,  /* a version not signed by the key that signs the object */
    STORE_CONFLICT_COPY = 2,    /* a different copy of a stored version */
    STORE_CONFLICT_HISTORY = 3, /* a version that breaks the object's history: after its
                                 * revocation, or with another `created` (STIX 2.1 §3.2) */
    STORE_CONFLICT_CREATOR = 4, /* a version by a writer that versions only what it created
                                 * (store_object_in.creator_org) of another's object, or an
                                 * unsigned version of an unsigned object by another writer
                                 * than the first (store_object_in.versions_any) */
};
enum store_conflict_action {
    STORE_CONFLICT_REJECTED = 1,    /* refused; its bytes are kept here (body) */
    STORE_CONFLICT_WRITER_ONLY = 2, /* stored as its writer's own copy (other_seq) */
    STORE_CONFLICT_DEMOTED = 3,     /* stored earlier, outranked since (other_seq) */
};
struct store_conflict {
    int64_t id; /* ascending */
    int64_t time_usec;
    int64_t collection;
    const char *collection_id;
    const char *stix_id;
    int64_t version_usec;
    enum store_conflict_reason reason;
    enum store_conflict_action action;
    int64_t kept_seq;        /* a row this node holds as genuine; 0 none */
    const char *kept_signer; /* NULL: unsigned */
    int64_t other_seq;       /* the non-genuine row; 0 when rejected */
    const char *other_signer;
    int64_t other_org;          /* its writer's org key; 0 none */
    const char *other_org_name; /* NULL when none */
    const char *other_peer;     /* the peer it came from; NULL none */
    const char *body;           /* the other copy's bytes (rejected: kept here) */
    size_t body_len;
};

/* ---- the ops table: one per backend ---- */

/* Scheduled feeds (feed.h): the store keeps each feed's configuration and
 * fetch state as JSON records the feed module writes and reads, and the
 * STIX ids a list-type feed held at its last good round. */
#define STORE_FEED_RECORD_MAX ((size_t)64 * 1024) /* a feed's config or state record */
#define STORE_FEED_MAX_ITEMS 5000000              /* ids remembered per feed */

enum store_feed_mode {
    STORE_FEED_CREATE = 0, /* a new feed (config and state); MRD_E_EXISTS when taken */
    STORE_FEED_CONFIG,     /* replace the config (state kept); MRD_E_NOTFOUND */
    STORE_FEED_STATE,      /* replace the state (config kept); MRD_E_NOTFOUND */
};

struct store_feed {
    char name[STORE_NAME_MAX + 1];
    const char *config; /* JSON text, borrowed during the callback */
    size_t config_len;
    const char *state; /* JSON text, borrowed during the callback */
    size_t state_len;
    int64_t created_usec;
    int64_t updated_usec;
};

struct store_driver; /* store_int.h: what the record operations shared by the backends use */

struct store_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(struct store *st);
    const struct store_driver *driver;

    enum mrd_code (*org_create)(struct store *st, const char *name, enum policy_relation rel,
                                struct store_org *ret, struct mrd_err *err);
    enum mrd_code (*org_get)(struct store *st, const char *name, int64_t key, struct store_org *ret,
                             struct mrd_err *err);
    enum mrd_code (*org_list)(struct store *st,
                              enum mrd_code (*cb)(void *ctx, const struct store_org *org),
                              void *ctx, struct mrd_err *err);

    enum mrd_code (*token_create)(struct store *st, int64_t org_key, const char *name,
                                  int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                  struct store_token *ret, struct mrd_err *err);
    enum mrd_code (*token_lookup)(struct store *st, const char *secret, size_t len,
                                  struct store_token *ret, struct mrd_err *err);
    enum mrd_code (*token_revoke)(struct store *st, const char *name_or_prefix,
                                  struct store_token *ret, struct mrd_err *err);
    enum mrd_code (*token_list)(struct store *st,
                                enum mrd_code (*cb)(void *ctx, const struct store_token *tok),
                                void *ctx, struct mrd_err *err);

    enum mrd_code (*api_root_put)(struct store *st, const struct store_api_root *root,
                                  bool *ret_created, struct mrd_err *err);
    enum mrd_code (*api_root_get)(struct store *st, const char *name, size_t len,
                                  struct store_api_root *ret, struct mrd_err *err);
    enum mrd_code (*api_root_list)(struct store *st,
                                   enum mrd_code (*cb)(void *ctx,
                                                       const struct store_api_root *root),
                                   void *ctx, struct mrd_err *err);

    enum mrd_code (*collection_create)(struct store *st, struct store_collection *c,
                                       struct mrd_err *err);
    enum mrd_code (*collection_get)(struct store *st, const char *api_root, size_t root_len,
                                    const char *id_or_alias, size_t len,
                                    struct store_collection *ret, struct mrd_err *err);
    enum mrd_code (*collection_list)(struct store *st, const char *api_root,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_collection *c),
                                     void *ctx, struct mrd_err *err);

    enum mrd_code (*grant_set)(struct store *st, int64_t org_key, int64_t collection,
                               struct store_grant g, struct mrd_err *err);
    enum mrd_code (*grant_get)(struct store *st, int64_t org_key, int64_t collection,
                               struct store_grant *ret, struct mrd_err *err);
    /* optional (NULL: token_lookup, collection_get and grant_get, one
     * after the other): store_token_access */
    enum mrd_code (*token_access)(struct store *st, const char *secret, size_t len,
                                  const char *api_root, size_t root_len, const char *id_or_alias,
                                  size_t id_len, struct store_token *ret_tok,
                                  struct store_collection *ret_coll, bool *ret_found,
                                  struct store_grant *ret_grant, struct mrd_err *err);

    enum mrd_code (*objects_insert)(struct store *st, int64_t collection,
                                    const struct store_object_in *objs, size_t n,
                                    enum store_insert_outcome *ret_outcomes,
                                    int64_t *ret_date_added, struct mrd_err *err);
    enum mrd_code (*objects_query)(struct store *st, const struct store_query *q,
                                   bool (*visible)(void *ctx, const struct store_row *row),
                                   enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                         struct mrd_err *err),
                                   void *ctx, struct store_query_result *ret, struct mrd_err *err);
    enum mrd_code (*objects_delete)(struct store *st, int64_t collection, const char *id,
                                    size_t id_len, const struct store_match *match,
                                    bool (*visible)(void *ctx, const struct store_row *row),
                                    void *ctx, size_t *ret_deleted, struct mrd_err *err);
    enum mrd_code (*objects_count)(struct store *st, int64_t collection, uint64_t *ret,
                                   struct mrd_err *err);

    enum mrd_code (*status_put)(struct store *st, const struct store_status *s,
                                struct mrd_err *err);
    enum mrd_code (*status_get)(struct store *st, const char *id, size_t len,
                                struct store_status **ret, struct mrd_err *err);
    enum mrd_code (*status_purge)(struct store *st, int64_t older_than_usec, uint64_t *ret_purged,
                                  struct mrd_err *err);

    enum mrd_code (*meta_get)(struct store *st, const char *key, char *ret_val, size_t size,
                              struct mrd_err *err);
    enum mrd_code (*meta_set)(struct store *st, const char *key, const char *val,
                              struct mrd_err *err);

    enum mrd_code (*grant_list)(struct store *st, int64_t org_key, int64_t collection,
                                enum mrd_code (*cb)(void *ctx, const struct store_grant_row *g),
                                void *ctx, struct mrd_err *err);

    /* optional (NULL: no-op): pinned read snapshots */
    enum mrd_code (*read_begin)(struct store *st, struct mrd_err *err);
    void (*read_end)(struct store *st);
    /* optional (NULL: MRD_E_UNSUPP): one write transaction per thread */
    enum mrd_code (*write_begin)(struct store *st, struct mrd_err *err);
    enum mrd_code (*write_end)(struct store *st, bool commit, struct mrd_err *err);

    /* objects_insert plus a status resource in the same transaction
     * (status may be NULL). */
    enum mrd_code (*objects_insert_status)(struct store *st, int64_t collection,
                                           const struct store_object_in *objs, size_t n,
                                           enum store_insert_outcome *ret_outcomes,
                                           int64_t *ret_date_added,
                                           const struct store_status *status, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): holds and the ledger queue */
    enum mrd_code (*hold_create)(struct store *st, const struct store_hold *h, const int64_t *seqs,
                                 size_t n, const struct store_ledger_event *ev,
                                 struct mrd_err *err);
    enum mrd_code (*hold_update)(struct store *st, const struct store_hold *h,
                                 const struct store_ledger_event *ev, struct mrd_err *err);
    enum mrd_code (*hold_list)(struct store *st, const char *id, const char *case_id,
                               enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);
    enum mrd_code (*hold_objects)(struct store *st, const char *id,
                                  enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);
    enum mrd_code (*objects_find)(struct store *st, const struct store_find *f,
                                  enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);
    enum mrd_code (*ledger_pending)(struct store *st, size_t limit,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_ledger_item *it,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err);
    enum mrd_code (*ledger_mark)(struct store *st, const struct store_ledger_mark *marks, size_t n,
                                 struct mrd_err *err);
    enum mrd_code (*ledger_max_leaf)(struct store *st, int64_t *ret, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): console sessions */
    enum mrd_code (*session_create)(struct store *st, const char *token_name, int64_t expires_usec,
                                    char ret_id[STORE_SESSION_ID_LEN + 1], struct mrd_err *err);
    enum mrd_code (*session_lookup)(struct store *st, const char *id, size_t len, int64_t idle_usec,
                                    struct store_session *ret, struct mrd_err *err);
    enum mrd_code (*session_end)(struct store *st, const char *id, size_t len, struct mrd_err *err);
    enum mrd_code (*sessions_end)(struct store *st, const char *token_name, int64_t org_key,
                                  uint64_t *ret_n, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): search by value */
    enum mrd_code (*value_search)(struct store *st, const struct store_value *v, size_t limit,
                                  bool (*visible)(void *ctx, int64_t collection,
                                                  const struct store_row *row),
                                  enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h,
                                                        struct mrd_err *err),
                                  void *ctx, bool *ret_more, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): free text and references */
    enum mrd_code (*text_search)(struct store *st, const char *fts, size_t limit,
                                 bool (*visible)(void *ctx, int64_t collection,
                                                 const struct store_row *row),
                                 enum mrd_code (*emit)(void *ctx, const struct store_found *f,
                                                       struct mrd_err *err),
                                 void *ctx, bool *ret_more, struct mrd_err *err);
    enum mrd_code (*refs_to)(
        struct store *st, const char *id, size_t len, unsigned roles, size_t limit,
        bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
        enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
        void *ctx, bool *ret_more, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): account lifecycle */
    enum mrd_code (*token_rotate)(struct store *st, const char *name, int64_t overlap_usec,
                                  char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                  struct mrd_err *err);
    enum mrd_code (*org_state)(struct store *st, const char *name, bool disable, bool del,
                               struct store_org_change *ret, struct mrd_err *err);
    enum mrd_code (*org_revoke_access)(struct store *st, int64_t org_key,
                                       struct store_org_change *ret, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): backups and the audit trail */
    enum mrd_code (*snapshot)(struct store *st, int fd, uint64_t offset, struct mrd_pace *pace,
                              struct store_snapshot_info *ret, struct mrd_err *err);
    enum mrd_code (*ledger_recorded)(struct store *st, int64_t from_leaf, int64_t to_leaf,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_ledger_item *it,
                                                         int64_t leaf, struct mrd_err *err),
                                     void *ctx, struct mrd_err *err);
    enum mrd_code (*ledger_events)(struct store *st, int64_t since_usec,
                                   enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
    enum mrd_code (*event_add)(struct store *st, const struct store_ledger_event *ev,
                               int64_t *ret_ev, struct mrd_err *err);
    /* optional (NULL: this process always leads): store_lead */
    enum mrd_code (*lead)(struct store *st, const char *role, bool *ret_leader,
                          struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): the conflicts of store_objects_insert */
    enum mrd_code (*conflict_list)(struct store *st, int64_t collection, int64_t id,
                                   enum mrd_code (*cb)(void *ctx, const struct store_conflict *c,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
    /* optional (NULL: MRD_E_UNSUPP): scheduled feeds */
    enum mrd_code (*feed_put)(struct store *st, enum store_feed_mode mode, const char *name,
                              const char *config, const char *state, struct mrd_err *err);
    enum mrd_code (*feed_list)(struct store *st, const char *name,
                               enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);
    enum mrd_code (*feed_remove)(struct store *st, const char *name, struct mrd_err *err);
    enum mrd_code (*feed_items_set)(struct store *st, const char *name, const char *const *ids,
                                    size_t n, struct mrd_err *err);
    enum mrd_code (*feed_items)(struct store *st, const char *name,
                                enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err);

    /* optional (NULL: MRD_E_UNSUPP): the overview's aggregates */
    enum mrd_code (*agg_query)(struct store *st, const struct store_agg_query *q,
                               struct mrd_err *err);
    enum mrd_code (*objects_newest)(struct store *st, const struct store_newest *q,
                                    struct mrd_err *err);
    enum mrd_code (*sent_record)(struct store *st, const char *dest, const int64_t *seqs, size_t n,
                                 int64_t at_usec, struct mrd_err *err);
    /* optional (NULL: MRD_E_UNSUPP): the access audit */
    enum mrd_code (*reads_record)(struct store *st, const struct store_read_batch *b, size_t nb,
                                  struct mrd_err *err);
    enum mrd_code (*reads_list)(struct store *st, const struct store_read_filter *f,
                                enum mrd_code (*cb)(void *ctx, const struct store_read_row *r,
                                                    struct mrd_err *err),
                                void *ctx, bool *ret_more, struct mrd_err *err);
    enum mrd_code (*reads_seal)(struct store *st, struct store_read_digest *d,
                                const struct store_ledger_event *ev, struct mrd_err *err);
    enum mrd_code (*reads_digests)(struct store *st,
                                   enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
    enum mrd_code (*reads_prune)(struct store *st, int64_t before_usec, int64_t now_usec,
                                 uint64_t *ret_rows, struct mrd_err *err);
    /* optional (NULL: MRD_E_UNSUPP): constituency assets and notifications */
    enum mrd_code (*asset_add)(struct store *st, struct store_asset *a, struct mrd_err *err);
    enum mrd_code (*asset_set)(struct store *st, int64_t id, int64_t org, int status,
                               struct store_asset *ret, struct mrd_err *err);
    enum mrd_code (*assets_list)(struct store *st, int64_t org,
                                 enum mrd_code (*cb)(void *ctx, const struct store_asset *a,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err);
    enum mrd_code (*notifications_add)(struct store *st, struct store_notification *n, size_t count,
                                       int64_t squelch_usec, int64_t cursor_seq,
                                       struct mrd_err *err);
    enum mrd_code (*notifications_list)(
        struct store *st, int64_t org, int64_t after_id, size_t limit,
        enum mrd_code (*cb)(void *ctx, const struct store_notification *n, struct mrd_err *err),
        void *ctx, struct mrd_err *err);
    /* optional (NULL: MRD_E_UNSUPP): early-warning delivery */
    enum mrd_code (*contact_add)(struct store *st, struct store_contact *c, struct mrd_err *err);
    enum mrd_code (*contact_remove)(struct store *st, int64_t id, int64_t org,
                                    struct store_contact *ret, struct mrd_err *err);
    enum mrd_code (*contacts_list)(struct store *st, int64_t org,
                                   enum mrd_code (*cb)(void *ctx, const struct store_contact *c,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
    enum mrd_code (*deliveries_enqueue)(struct store *st, const struct store_delivery_plan *p,
                                        size_t n, int64_t from_cursor, int64_t cursor_id,
                                        struct mrd_err *err);
    enum mrd_code (*deliveries_list)(struct store *st, const struct store_delivery_filter *f,
                                     enum mrd_code (*cb)(void *ctx, const struct store_delivery *d,
                                                         struct mrd_err *err),
                                     void *ctx, struct mrd_err *err);
    enum mrd_code (*delivery_items)(struct store *st, int64_t delivery,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_notification *n,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err);
    enum mrd_code (*delivery_update)(struct store *st, const struct store_delivery *d,
                                     struct mrd_err *err);
    enum mrd_code (*delivery_attempts)(struct store *st, int64_t delivery,
                                       enum mrd_code (*cb)(void *ctx,
                                                           const struct store_delivery_attempt *a,
                                                           struct mrd_err *err),
                                       void *ctx, struct mrd_err *err);
};

/* Every backend's struct starts with this. */
struct store {
    const struct store_ops *ops;
};

/* ---- lifecycle ---- */

/* The database file inside a data directory. */
#define STORE_SQLITE_FILE "meridian.db"
#define STORE_PATH_MAX 4096

/* Progress of a schema migration (store_open): called when a step
 * starts (done_steps of total_steps, the schema version it leads to) and
 * then about every STORE_PROGRESS_MS while it runs, with the seconds
 * spent so far. Runs on the opening thread; must not call the store. */
struct store_progress {
    int from_version, to_version; /* the whole migration */
    int step_version;             /* the version this step leads to */
    unsigned done_steps, total_steps;
    double elapsed_s;
    bool finished; /* the last call: the migration committed */
};
#define STORE_PROGRESS_MS 200

struct store_open_opts {
    bool create;       /* create the database (and schema) when missing */
    unsigned max_conn; /* connection pool size; 0 = STORE_DEFAULT_CONNS */
    void (*progress)(void *ctx, const struct store_progress *p); /* may be NULL */
    void *progress_ctx;
    int *ret_migrated_from; /* may be NULL: the version before; == current when none ran */
    /* with create: keep the node's database in PostgreSQL at this libpq
     * connection string (URI or key=value), recorded in DIR/STORE_DSN_FILE
     * for every later store_open of DIR. NULL: SQLite in DIR. */
    const char *dsn;
};
/* The file of a data directory that names its PostgreSQL database: one
 * line, a libpq connection string of at most STORE_DSN_MAX bytes (mode
 * 0600: it may hold a password; a service name or ~/.pgpass avoids that). */
#define STORE_DSN_FILE "store.dsn"
#define STORE_DSN_MAX 1024
#define STORE_DEFAULT_CONNS 16

/* Opens a store. where is a data directory (SQLite: DIR/meridian.db, or
 * the PostgreSQL database DIR/STORE_DSN_FILE names) or a PostgreSQL URI
 * ("postgres://..." or "postgresql://..."; MRD_E_UNSUPP in a build without
 * libpq, and for the operations store_pg.c does not have yet). The directory must exist. A
 * missing database is MRD_E_NOTFOUND unless opts->create. An existing
 * database is migrated to the current schema version; a database from a
 * newer Meridian is refused with MRD_E_UNSUPP. opts may be NULL. */
enum mrd_code store_open(const char *where, const struct store_open_opts *opts, struct store **ret,
                         struct mrd_err *err);

/* Closes every connection and frees st. NULL is a no-op. No other thread
 * may be inside a store call. */
void store_close(struct store *st);

/* Pins one read snapshot to the calling thread until store_read_end: the
 * read-only calls this thread makes in between (org_get, token_lookup,
 * token_access, api_root_get, collection_get/list, grant_get, objects_query,
 * status_get) share one read transaction on a connection kept for this
 * thread, instead of borrowing a pooled connection and opening a
 * transaction each (one request, one snapshot: what a TAXII GET wants).
 * Writes made meanwhile -- by this thread too -- run on other
 * connections, are committed as usual, and are NOT visible to the pinned
 * reads; keep pins short (a snapshot holds back WAL checkpoints). Nested
 * calls are no-ops; store_read_end without a pin is a no-op. Backends
 * without snapshots make both no-ops. */
enum mrd_code store_read_begin(struct store *st, struct mrd_err *err);
void store_read_end(struct store *st);

/* Opens one write transaction for the calling thread: every store call
 * it makes until store_write_end -- reads and writes, including
 * store_event_add -- runs inside it and sees its changes; a call that
 * fails undoes only its own changes. store_write_end(commit=true) commits
 * them all at once (or none: the error says why); commit=false rolls them
 * back. Other threads and processes see nothing until the commit and wait
 * for the write lock meanwhile: keep it short. Not nested
 * (MRD_E_INVAL); object inserts, whose commits are batched across
 * threads, are not for use inside it. What makes an administrative
 * change and its audit record one commit (admin.h). */
enum mrd_code store_write_begin(struct store *st, struct mrd_err *err);
/* Without an open transaction: MRD_E_INVAL when commit, else a no-op. */
enum mrd_code store_write_end(struct store *st, bool commit, struct mrd_err *err);

/* The backend name ("sqlite"). */
const char *store_backend(const struct store *st);

/* The schema version this build writes (migrations bring older files up). */
int store_schema_version(void);

/* ---- orgs ---- */

/* Creates an org; MRD_E_EXISTS when the name is taken. Names: 1..
 * STORE_NAME_MAX chars of [A-Za-z0-9._-]. */
enum mrd_code store_org_create(struct store *st, const char *name, enum policy_relation rel,
                               struct store_org *ret, struct mrd_err *err);
/* Looks an org up by name (key ignored) or, when name is NULL, by key. */
enum mrd_code store_org_get(struct store *st, const char *name, int64_t key, struct store_org *ret,
                            struct mrd_err *err);
/* Calls cb for each org in key order; a cb error stops and is returned. */
enum mrd_code store_org_list(struct store *st,
                             enum mrd_code (*cb)(void *ctx, const struct store_org *org), void *ctx,
                             struct mrd_err *err);

/* Disables an org: its tokens (and client certificates naming it) are
 * refused until store_org_enable; its grants, tokens and objects stay.
 * Enabling an org that is not disabled, or disabling twice, is MRD_OK.
 * MRD_E_NOTFOUND: no such org; MRD_E_INVAL: it was deleted. */
enum mrd_code store_org_disable(struct store *st, const char *name, struct store_org_change *ret,
                                struct mrd_err *err);
enum mrd_code store_org_enable(struct store *st, const char *name, struct store_org_change *ret,
                               struct mrd_err *err);
/* Deletes an org: in one transaction its tokens are revoked, its grants
 * removed and the org marked deleted. The row stays (a tombstone): objects
 * it wrote keep their creator and every reader keeps what it may read;
 * the name is never reused. */
enum mrd_code store_org_delete(struct store *st, const char *name, struct store_org_change *ret,
                               struct mrd_err *err);
/* Revokes every valid token of the org and removes all its grants, in
 * one transaction; ret counts them (before/after are not filled). */
enum mrd_code store_org_revoke_access(struct store *st, int64_t org_key,
                                      struct store_org_change *ret, struct mrd_err *err);

/* Ends the console sessions of token token_name (non-NULL) or of every
 * token of org_key. A store without sessions ends none (MRD_OK, 0). */
enum mrd_code store_sessions_end(struct store *st, int64_t org_key, const char *token_name,
                                 unsigned *ret_ended, struct mrd_err *err);

/* ---- tokens ---- */

/* Why store_token_lookup refused a token: err->msg is exactly one of these
 * (for the operator's access log; clients get one answer for all). */
#define STORE_AUTH_UNKNOWN "token: unknown"
#define STORE_AUTH_REVOKED "token: revoked"
#define STORE_AUTH_EXPIRED "token: expired"
#define STORE_AUTH_DISABLED "token: org disabled"
/* The access log's word for a refusal message above: "revoked", "expired",
 * "disabled" or "unknown" (static). */
const char *store_auth_refusal(const char *msg);

/* A token's last use is written at most this often. */
#define STORE_TOKEN_USE_USEC ((int64_t)60 * 1000000)

/* store_token_create with an expiry time (STORE_TIME_NONE: never): after
 * it the token is refused (STORE_AUTH_EXPIRED). */
enum mrd_code store_token_issue(struct store *st, int64_t org_key, const char *name,
                                int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                struct store_token *ret, struct mrd_err *err);

/* Gives token name a new secret (written to ret_secret once) and keeps the
 * old one working for overlap_usec more (0: it stops now), so clients can
 * switch without an outage. Rotating again ends an earlier overlap at
 * once. MRD_E_NOTFOUND; MRD_E_INVAL for a revoked token or a disabled
 * org's. */
enum mrd_code store_token_rotate(struct store *st, const char *name, int64_t overlap_usec,
                                 char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                 struct mrd_err *err);

/* Makes a new token for org_key: 256 random bits (libsodium), written to
 * ret_secret once; only its SHA-256 is stored. name NULL = the token's
 * prefix. ret may be NULL. */
enum mrd_code store_token_create(struct store *st, int64_t org_key, const char *name,
                                 char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                 struct mrd_err *err);
/* Finds the valid token whose secret is (secret, len): not revoked, not
 * expired, its org not disabled; during a rotation's overlap the old
 * secret too (ret->via_prev). MRD_E_AUTH otherwise, with one of the
 * STORE_AUTH_* reasons in err->msg (never shown to clients). Notes the
 * token's use at most once per STORE_TOKEN_USE_USEC. */
enum mrd_code store_token_lookup(struct store *st, const char *secret, size_t len,
                                 struct store_token *ret, struct mrd_err *err);
/* store_token_lookup, then store_collection_get(api_root, id_or_alias) and
 * store_grant_get of the token's org on that collection, in one look-up (one
 * statement: a TAXII request's authorisation is one round trip on
 * PostgreSQL, docs/store.md). Nothing is cached: every call reads the
 * current rows. A refused token is store_token_lookup's error (MRD_E_AUTH
 * and its STORE_AUTH_* reason); else *ret_found says whether the collection
 * exists, and when it does ret_coll and ret_grant are filled (no grant row:
 * both false). */
enum mrd_code store_token_access(struct store *st, const char *secret, size_t len,
                                 const char *api_root, size_t root_len, const char *id_or_alias,
                                 size_t id_len, struct store_token *ret_tok,
                                 struct store_collection *ret_coll, bool *ret_found,
                                 struct store_grant *ret_grant, struct mrd_err *err);
/* Revokes the token with that name, else the token itself (the whole
 * secret, e.g. a leaked one), else the only token whose public prefix
 * starts with it (4..STORE_TOKEN_PREFIX_LEN chars): MRD_E_NOTFOUND,
 * MRD_E_CONFLICT when ambiguous. Revoking twice is MRD_OK. ret may be NULL.
 * The token's console sessions end in the same transaction. */
enum mrd_code store_token_revoke(struct store *st, const char *name_or_prefix,
                                 struct store_token *ret, struct mrd_err *err);
enum mrd_code store_token_list(struct store *st,
                               enum mrd_code (*cb)(void *ctx, const struct store_token *tok),
                               void *ctx, struct mrd_err *err);

/* ---- API roots ---- */

/* Creates the API root when missing (ret_created true) and leaves an
 * existing one untouched (ret_created false). ret_created may be NULL. */
enum mrd_code store_api_root_put(struct store *st, const struct store_api_root *root,
                                 bool *ret_created, struct mrd_err *err);
enum mrd_code store_api_root_get(struct store *st, const char *name, size_t len,
                                 struct store_api_root *ret, struct mrd_err *err);
enum mrd_code store_api_root_list(struct store *st,
                                  enum mrd_code (*cb)(void *ctx, const struct store_api_root *r),
                                  void *ctx, struct mrd_err *err);

/* ---- collections ---- */

/* Creates a collection in c->api_root (which must exist) with title,
 * description, alias, default_tlp, public_read from c; fills c->key and a
 * fresh uuid v4 c->id. MRD_E_EXISTS when the alias is taken in that root. */
enum mrd_code store_collection_create(struct store *st, struct store_collection *c,
                                      struct mrd_err *err);
/* Finds a collection by id or alias within api_root; api_root NULL
 * searches every root (id only). */
enum mrd_code store_collection_get(struct store *st, const char *api_root, size_t root_len,
                                   const char *id_or_alias, size_t len,
                                   struct store_collection *ret, struct mrd_err *err);
/* Calls cb for each collection of api_root (NULL = all), in creation order. */
enum mrd_code store_collection_list(struct store *st, const char *api_root,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_collection *c),
                                    void *ctx, struct mrd_err *err);

/* ---- grants ---- */

/* Sets (replaces) org_key's grant on a collection. */
enum mrd_code store_grant_set(struct store *st, int64_t org_key, int64_t collection,
                              struct store_grant g, struct mrd_err *err);
/* No grant row is MRD_OK with both false. */
enum mrd_code store_grant_get(struct store *st, int64_t org_key, int64_t collection,
                              struct store_grant *ret, struct mrd_err *err);
/* The policy reader (policy.h) for org org_key, of relation rel, reading
 * collection c: its grant on c (looked up), c's public flag and c's API
 * root as the community. ret->community points into c, which must outlive
 * the reader. ret_can_read says whether the org may read c at all (a read
 * grant, or a public collection): when false nothing of c may be shown,
 * counted or mentioned. The one way routes outside TAXII build readers. */
enum mrd_code store_reader_for(struct store *st, int64_t org_key, enum policy_relation rel,
                               const struct store_collection *c, struct policy_reader *ret,
                               bool *ret_can_read, struct mrd_err *err);

/* Calls cb for each grant row (org_key 0 = every org, collection 0 = every
 * collection), ordered by org then collection. Rows with neither read nor
 * write are left out. */
enum mrd_code store_grant_list(struct store *st, int64_t org_key, int64_t collection,
                               enum mrd_code (*cb)(void *ctx, const struct store_grant_row *g),
                               void *ctx, struct mrd_err *err);

/* ---- objects ---- */

/* Inserts n object versions into a collection in ONE transaction, committed
 * before returning. Concurrent calls (threads of one process) are grouped
 * into one transaction and one fsync (group commit); each call still gets
 * its own result, and a failing call does not fail the others. Each new version gets the next
 * date_added of the collection: max(now, previous + 1 usec), strictly increasing even under
 * concurrent writers (threads or processes).
 * Duplicates (docs/design.md §5, docs/taxii.md "Re-posting a version"): a
 * version already stored (same id and version_usec in this collection) is
 * STORE_INS_DUPLICATE and changes nothing when the writer may read one of
 * its stored copies (o->writer_sees; NULL sees all) or one of them was
 * written by the same org (o->creator_org, when not 0): re-posting is
 * idempotent. When every stored copy is hidden from the writer, its
 * version is stored again as a row of its own, a writer-scoped copy
 * (STORE_INS_ADDED, the writer's own bytes, markings and a new
 * date_added), so that the writer reads back exactly what it posted and a
 * hidden copy changes nothing it can observe. Readers who may read several
 * copies of one (id, version) get one of them (store_objects_query).
 * Duplicates compare bytes: only the same bytes are a no-op.
 * Who may version an object (STIX 2.1 §3.6, issue 17), for objects with a
 * version (SCOs keep the rule above): the rows of an object that this node
 * holds as genuine are all signed by one key, or all unsigned. A new
 * version or copy by that key (or, when they are unsigned, another
 * unsigned one: a new version only from the writer that stored the
 * object first, or the own org, store_object_in.versions_any) is added.
 * One whose signer outranks it (unsigned < unknown key < key
 * signer_trusted says this node trusts) is added and the stored
 * rows by the other (or no) signer become writer-only
 * (STORE_INS_REPLACED): a genuinely signed copy served late replaces the
 * forgery served first. Any other (not signed by that key, or a different
 * copy of a version that key signed) is not genuine, and neither is a
 * version that breaks the history of the genuine rows (STIX 2.1 §3.2,
 * §3.6: `created` never changes; revoking is final, so no version follows
 * a revoked one, and a revoked version older than a stored one is refused
 * too; the first stored wins): refused
 * (STORE_INS_NOT_SIGNER, STORE_INS_OTHER_COPY) when the writer may read a
 * genuine row of the object (STORE_INS_HISTORY: a row whose history it
 * breaks, its own writer-only rows included, so a writer whose object is
 * hidden keeps a history of its own), else stored as a writer-only copy
 * (STORE_INS_WRITER_ONLY; policy_object.writer_only: only its writer reads
 * it, so refusing tells the writer nothing it could not read). Each such
 * copy is recorded as a conflict (store_conflict_list); a refused one with
 * its bytes, once per distinct bytes.
 * ret_outcomes (n entries) and ret_date_added (n entries: the row's
 * date_added; for a duplicate, that of the copy that made it one; 0 for a
 * refused one) may be NULL. On error nothing is inserted. */
enum mrd_code store_objects_insert(struct store *st, int64_t collection,
                                   const struct store_object_in *objs, size_t n,
                                   enum store_insert_outcome *ret_outcomes, int64_t *ret_date_added,
                                   struct mrd_err *err);

/* Calls cb for each recorded conflict (store_objects_insert) of collection
 * (0: every collection), or only the one with that id (id > 0), oldest
 * first, with the other copy's bytes. Administrative: no policy filter. */
enum mrd_code store_conflict_list(struct store *st, int64_t collection, int64_t id,
                                  enum mrd_code (*cb)(void *ctx, const struct store_conflict *c,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);

/* store_objects_insert that also writes (or replaces) the status resource
 * *status in the SAME transaction, so one commit (one fsync, shared by
 * the group) makes both the objects and the status that reports them
 * durable: a TAXII POST answered 202 costs one commit, not two. n may be
 * 0 (a status with failures only). The status is written as given (its
 * details cannot depend on the dates this insert hands out). On error
 * neither the objects nor the status are stored. */
enum mrd_code store_objects_insert_status(struct store *st, int64_t collection,
                                          const struct store_object_in *objs, size_t n,
                                          enum store_insert_outcome *ret_outcomes,
                                          int64_t *ret_date_added,
                                          const struct store_status *status, struct mrd_err *err);

/* Streams the rows matching q in (date_added, seq) order. For each row:
 * visible(ctx, row) decides (call policy_may_read(reader, &row->policy));
 * invisible rows are skipped and never counted. While fewer than q->limit
 * rows were delivered, each visible row goes to emit(ctx, row, err) (an
 * emit error stops the query and is returned). After the limit, the store
 * keeps scanning only until the next visible row, to set ret->more
 * exactly; it does not emit it. ret->last_seq/last_date_added are the
 * cursor for the next page. visible NULL means every row the node holds as
 * genuine is visible (admin use only: the writer-only copies of
 * store_objects_insert are never current for anyone but their writer). Runs in one read transaction
 * (a consistent snapshot). Versions listing = STORE_VER_ALL with match.ids = {id}; GET object =
 * match.ids = {id}.
 * First/last (match[version], LAST by default) are chosen among the
 * versions the reader may read, inside the scan: when the newest version
 * of an object is invisible, "last" is the newest visible one, delivered
 * at its own (date_added, seq) place, so neither the answer, its paging
 * nor its date headers tell that a newer version exists. Cost: a visible
 * row flagged last (is_last, kept by insert and delete) needs no look-up;
 * an older version with the same policy columns as a newest copy (tlp,
 * local, creator_org, community, recipients, source_peer: the usual case)
 * is dropped in SQL as before (and for "first", a newer version with an
 * oldest copy's policy columns); any other visible older version costs
 * one index seek over the object's newer versions, which stops at the
 * first visible one. This assumes visible() depends on row->policy and
 * row->source_peer only (as policy_may_read does); a callback that also
 * looks at other columns can miss an object's last version (it never
 * gets a hidden one).
 * Copies: of several rows with one (id, version) (writer-scoped copies,
 * store_objects_insert) a reader gets only the visible one with the
 * lowest seq, so no reader ever sees one version twice.
 * Hidden objects: a query by match[id] first reads, for each id, only the
 * rows that stand for every policy its rows have (the newest copies and
 * the older rows whose policy columns differ from theirs: usually one);
 * an id none of which the reader may read is dropped before the scan, so
 * asking for an object hidden from the reader costs the same whatever the
 * number of its versions (docs/taxii.md). For the last versions alone the
 * scan itself reads only those rows, and there is no look-up before it. */
enum mrd_code store_objects_query(struct store *st, const struct store_query *q,
                                  bool (*visible)(void *ctx, const struct store_row *row),
                                  enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                        struct mrd_err *err),
                                  void *ctx, struct store_query_result *ret, struct mrd_err *err);

/* Deletes the versions of object id in a collection selected by match
 * (only versions, timestamps and spec_versions are used; match NULL or
 * match->versions 0 = every version, unlike queries where 0 means LAST)
 * and for which visible(ctx, row) is true (NULL = all), in one committed
 * transaction. First/last are chosen among the versions visible() lets
 * through, as in store_objects_query; every visible copy of a selected
 * version is deleted (copies others may not read stay). The remaining
 * versions' first/last status is updated. *ret_deleted counts them; 0 is
 * MRD_OK (the caller answers 404). */
enum mrd_code store_objects_delete(struct store *st, int64_t collection, const char *id,
                                   size_t id_len, const struct store_match *match,
                                   bool (*visible)(void *ctx, const struct store_row *row),
                                   void *ctx, size_t *ret_deleted, struct mrd_err *err);

/* ---- erasure (retention, erasure requests: forget.h) ---- */

#define STORE_ERASE_MAX 1024 /* versions in one store_objects_erase call */

/* ret_held[i] = whether an active legal hold (not released, not expired)
 * preserves version seqs[i] (store_row.seq). A backend without holds
 * answers false for all. n <= STORE_ERASE_MAX. */
enum mrd_code store_objects_held(struct store *st, const int64_t *seqs, size_t n, bool *ret_held,
                                 struct mrd_err *err);

/* Erases the object versions seqs[0..n) (n <= STORE_ERASE_MAX) and queues
 * ev (may be NULL) for the ledger, in one committed transaction: each
 * version is deleted from objects and from every index (the value index,
 * the free-text and reference indexes, the aggregates), and its object's
 * remaining versions get their first/last flags back. The ledger keeps the
 * versions' leaves (hashes only), so it still verifies. A version under an
 * active legal hold makes the whole call fail with MRD_E_PERM naming the
 * hold (nothing erased, nothing queued): callers filter with
 * store_objects_held first. Versions already gone are skipped;
 * *ret_erased (may be NULL) counts the others. */
enum mrd_code store_objects_erase(struct store *st, const int64_t *seqs, size_t n,
                                  const struct store_ledger_event *ev, size_t *ret_erased,
                                  struct mrd_err *err);

/* Number of stored versions in a collection, or in every collection when
 * collection is 0 (all of them; admin/stats use, never shown to a reader
 * as is). */
enum mrd_code store_objects_count(struct store *st, int64_t collection, uint64_t *ret,
                                  struct mrd_err *err);

/* ---- status resources ---- */

/* Generates a uuid v4 into out (also used for status ids). */
void store_uuid4(char out[STORE_UUID_LEN + 1]);

/* Writes (or replaces) a status with its details, committed. s->id must be
 * set (store_uuid4). */
enum mrd_code store_status_put(struct store *st, const struct store_status *s, struct mrd_err *err);
/* Reads a status with its details; *ret is owned by the caller
 * (store_status_free). MRD_E_NOTFOUND when missing or purged. */
enum mrd_code store_status_get(struct store *st, const char *id, size_t len,
                               struct store_status **ret, struct mrd_err *err);
void store_status_free(struct store_status *s);
/* Deletes statuses requested before older_than_usec (callers pass now -
 * STORE_STATUS_KEEP_USEC). ret_purged may be NULL. */
enum mrd_code store_status_purge(struct store *st, int64_t older_than_usec, uint64_t *ret_purged,
                                 struct mrd_err *err);

/* ---- legal holds ---- */

/* Creates hold h (h->id a fresh uuid, case_id 1..STORE_CASE_MAX printable
 * chars, record <= STORE_HOLD_RECORD_MAX) preserving the n object rows
 * seqs (store_row.seq; n <= STORE_HOLD_ITEMS_MAX, may be 0), and queues ev
 * for the ledger, in one committed transaction. While a hold is active
 * (not released, expires_usec in the future) store_objects_delete refuses
 * its versions with MRD_E_PERM naming the hold. MRD_E_EXISTS: id taken. */
enum mrd_code store_hold_create(struct store *st, const struct store_hold *h, const int64_t *seqs,
                                size_t n, const struct store_ledger_event *ev, struct mrd_err *err);

/* Replaces hold h->id's expires_usec, released_usec and record, and queues
 * ev, in one committed transaction. MRD_E_NOTFOUND when no such hold. */
enum mrd_code store_hold_update(struct store *st, const struct store_hold *h,
                                const struct store_ledger_event *ev, struct mrd_err *err);

/* Calls cb for the hold with that id (id non-NULL), else for every hold of
 * case_id (non-NULL), else for every hold, in creation order. With an id,
 * MRD_E_NOTFOUND when there is none. */
enum mrd_code store_hold_list(struct store *st, const char *id, const char *case_id,
                              enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                  struct mrd_err *err),
                              void *ctx, struct mrd_err *err);

/* Calls cb for each object version hold id preserves that is still stored
 * (held versions cannot be deleted while the hold is active), in seq
 * order. */
enum mrd_code store_hold_objects(struct store *st, const char *id,
                                 enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err);

/* Calls cb for each stored object version selected by f (NULL = all), in
 * seq order, with its body. Administrative: no policy filter. */
enum mrd_code store_objects_find(struct store *st, const struct store_find *f,
                                 enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err);

/* ---- the ledger queue (ledger/sync.h drains it) ---- */

/* Calls cb for up to limit entries the ledger does not have yet: object
 * versions in seq order, then queued events in order. The object versions
 * pending are those with a seq above the highest one store_ledger_mark
 * recorded, so a backend must make seqs visible in increasing order
 * (SQLite does: one writer at a time) and marks must go in seq order. */
enum mrd_code store_ledger_pending(struct store *st, size_t limit,
                                   enum mrd_code (*cb)(void *ctx,
                                                       const struct store_ledger_item *it,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);

/* Records, in one committed transaction, the ledger leaf of each entry. */
enum mrd_code store_ledger_mark(struct store *st, const struct store_ledger_mark *marks, size_t n,
                                struct mrd_err *err);

/* The highest leaf index recorded by store_ledger_mark; -1 when none. */
enum mrd_code store_ledger_max_leaf(struct store *st, int64_t *ret, struct mrd_err *err);

/* The principal a verified client certificate stands for: the org named
 * by its subject CN, as a token named "cert:CN" (never revoked).
 * MRD_E_NOTFOUND (or MRD_E_INVAL for a bad name) when there is no such
 * org. */
enum mrd_code store_cert_principal(struct store *st, const char *cn, struct store_token *ret,
                                   struct mrd_err *err);

/* ---- backups and the audit trail ---- */

/* Writes a consistent copy of the whole database, as of one moment, into
 * the file fd from byte offset on (the file is cut there first; the copy
 * is its end, ret->bytes long) while other threads and processes keep
 * reading and writing; fills ret as of the same moment. Written once,
 * straight into fd (a backup archive's member), never to a temporary
 * file; not fsynced (the caller syncs the file). pace (NULL: none) holds
 * the copy under its rate, counting each page once. */
enum mrd_code store_snapshot(struct store *st, int fd, uint64_t offset, struct mrd_pace *pace,
                             struct store_snapshot_info *ret, struct mrd_err *err);

/* Calls cb for every entry the store says the ledger records at a leaf in
 * [from_leaf, to_leaf), with its leaf: object versions (event false, body
 * and time = date_added) and events (event true, hash), each once, objects
 * first, in no particular order. For checking a ledger against its store,
 * and for a front-end that does not lead to copy the leader's leaves
 * (ledger/sync.h). */
enum mrd_code store_ledger_recorded(struct store *st, int64_t from_leaf, int64_t to_leaf,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_ledger_item *it,
                                                        int64_t leaf, struct mrd_err *err),
                                    void *ctx, struct mrd_err *err);

/* Leadership among the processes sharing one database (several `meridian
 * serve` front-ends on PostgreSQL): *ret_leader is true when this process
 * holds role (a name: "ledger", "fed:PEER") or has just taken it, false
 * while another process holds it. Held until the process exits or its
 * connection to the database breaks, so a role passes to another process
 * within one call of its own after the holder dies. Call it before each
 * round of the work the role guards. Stores with one process per database
 * (SQLite) always lead. */
enum mrd_code store_lead(struct store *st, const char *role, bool *ret_leader, struct mrd_err *err);

/* Whether several processes may write st's database at once (then
 * store_lead decides who does what only one may do). */
bool store_shared(const struct store *st);

/* Calls cb for every ledger event (hold and administrative actions)
 * queued at or after since_usec (STORE_TIME_NONE: all), in queue order. */
enum mrd_code store_ledger_events(struct store *st, int64_t since_usec,
                                  enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);

/* Queues ev for the ledger in a transaction of its own (committed), or in
 * the thread's write transaction (store_write_begin) when one is open, and
 * gives its number (ret_ev may be NULL). Audit records (admin.h). */
enum mrd_code store_event_add(struct store *st, const struct store_ledger_event *ev,
                              int64_t *ret_ev, struct mrd_err *err);

/* ---- node metadata ---- */

/* Keys: 1..STORE_META_KEY_MAX chars; values at most STORE_META_VAL_MAX.
 * Well-known keys: "node_id" (uuid v4 made by init), "own_org" (the own
 * org's name). meta_get: MRD_E_NOTFOUND when the key is missing,
 * MRD_E_TOOBIG when the value does not fit in size (incl. the NUL). */
enum mrd_code store_meta_get(struct store *st, const char *key, char *ret_val, size_t size,
                             struct mrd_err *err);
enum mrd_code store_meta_set(struct store *st, const char *key, const char *val,
                             struct mrd_err *err);

/* A secret key of len bytes (at most 64) kept in the metadata under key
 * (hex), made from random bytes on first use: every server process on the
 * same database gets the same one (paging tokens, CSRF tokens). */
enum mrd_code store_meta_key(struct store *st, const char *key, unsigned char *ret, size_t len,
                             struct mrd_err *err);

/* ---- console sessions (api.h) ----
 *
 * Server-side sessions for the console. Revocable at any time: a session
 * lives only while its row exists, its token is not revoked, its
 * absolute expiry has not passed and it was used within the idle time. */

/* Opens a session for the (valid, not revoked) token named token_name,
 * ending at expires_usec at the latest, and writes its new random id (the
 * cookie value) to ret_id. Sessions already expired are deleted on the
 * way. MRD_E_AUTH when the token is unknown or revoked. */
enum mrd_code store_session_create(struct store *st, const char *token_name, int64_t expires_usec,
                                   char ret_id[STORE_SESSION_ID_LEN + 1], struct mrd_err *err);

/* Finds the live session with id (id, len): not ended, before its
 * absolute expiry, used within the last idle_usec, its token not revoked.
 * Anything else is MRD_E_AUTH, which never says why. Records the use
 * (last_seen, at most every STORE_SESSION_TOUCH_USEC). */
enum mrd_code store_session_lookup(struct store *st, const char *id, size_t len, int64_t idle_usec,
                                   struct store_session *ret, struct mrd_err *err);

/* Ends one session (sign-out). An unknown id is MRD_OK. */
enum mrd_code store_session_end(struct store *st, const char *id, size_t len, struct mrd_err *err);

/* END THE SESSIONS OF A TOKEN OR AN ORG: every console session opened
 * with the token named token_name, or by any token of org org_key, ends
 * now (committed before returning). For whoever disables an org, revokes
 * a partner or rotates a token; store_token_revoke already does it for
 * the token it revokes, in the same transaction. ret_n (may be NULL)
 * receives how many sessions ended. */
enum mrd_code store_sessions_end_token(struct store *st, const char *token_name, uint64_t *ret_n,
                                       struct mrd_err *err);
enum mrd_code store_sessions_end_org(struct store *st, int64_t org_key, uint64_t *ret_n,
                                     struct mrd_err *err);

/* ---- search by value (the value index) ----
 *
 * Every object version stored gets its searchable values indexed in the
 * same transaction (store_objects_insert): an SCO's own value (IPv4/IPv6
 * address or CIDR, domain, URL and the URL's host, e-mail address, file
 * hashes) and the values an indicator's pattern compares against (the
 * shapes match/ indexes). store_value_parse() turns what a person types
 * into the same keys; store_value_search() finds the versions mentioning
 * it, exactly, by CIDR containment both ways (an address inside an
 * indicator's range, a range holding stored addresses) and by domain
 * suffix both ways (evil.com's indicator for a.evil.com; a.evil.com's
 * records for evil.com; never notevil.com). The extraction is pure
 * (store_values.c). */

enum store_vkind {
    STORE_V_IPV4 = 1,
    STORE_V_IPV6 = 2,
    STORE_V_DOMAIN = 3,
    STORE_V_URL = 4,
    STORE_V_EMAIL = 5,
    STORE_V_HASH = 6,
};
/* How an object mentions a value. Stored: append-only. */
enum store_vhow {
    STORE_VH_VALUE = 0,    /* the SCO's own value (or hash) */
    STORE_VH_PATTERN = 1,  /* an indicator's pattern compares against it */
    STORE_VH_URL_HOST = 2, /* the host of a URL the object holds */
};
/* How a stored value relates to the one searched for. */
enum store_vmatch {
    STORE_VM_EXACT = 0,
    STORE_VM_CONTAINS = 1, /* the stored value holds the searched one (its CIDR, parent domain) */
    STORE_VM_WITHIN = 2,   /* the stored value lies inside the searched one (subdomain, in CIDR) */
};
#define STORE_VALUE_KEY_MAX 256 /* bytes of one key (longer URLs are not indexed) */
#define STORE_VALUES_MAX 4096   /* values indexed per object version */
#define STORE_SEARCH_MAX 1000   /* visible hits one search hands out at most */

struct store_value {
    uint8_t kind; /* enum store_vkind */
    uint8_t how;  /* enum store_vhow */
    uint16_t len;
    uint8_t key[STORE_VALUE_KEY_MAX];
};

/* Parses a value as a person types it: IPv4/IPv6 address or CIDR, domain,
 * URL, e-mail address, MD5/SHA-1/SHA-256/SHA-512 in hex; defanged forms
 * ("evil[.]com", "hxxp://") are accepted. MRD_E_INVAL when it is none of
 * them. Pure. */
enum mrd_code store_value_parse(const char *s, size_t n, struct store_value *ret,
                                struct mrd_err *err);

/* The value's display form ("10.0.0.0/8", "a.evil.com", hex); returns its
 * length (truncated to size - 1). Pure. */
size_t store_value_format(const struct store_value *v, char *out, size_t size);

/* Calls cb for each value the stored object (canonical JSON, body/len)
 * mentions, at most STORE_VALUES_MAX. Unparseable bodies and patterns the
 * extractor cannot express give no values, not an error. Pure. */
enum mrd_code store_values_of_object(const char *body, size_t len,
                                     enum mrd_code (*cb)(void *ctx, const struct store_value *v,
                                                         struct mrd_err *err),
                                     void *ctx, struct mrd_err *err);

/* The same from the parsed object (what store_values_of_object parses its
 * body into), for callers that hold it already: an importer extracts the
 * values beside canonicalisation, on its own threads, and hands them to
 * store_objects_insert (store_object_in.values). Pure. */
struct json_t;
enum mrd_code store_values_of_json(const struct json_t *o,
                                   enum mrd_code (*cb)(void *ctx, const struct store_value *v,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);

/* store_values_of_json appending each struct store_value to out (at most
 * STORE_VALUES_MAX of them: size out for that), for store_object_in.values. */
struct mrd_buf;
enum mrd_code store_values_append(const struct json_t *o, struct mrd_buf *out, struct mrd_err *err);

/* What PostgreSQL's free-text and reference indexes hold of a stored
 * object (store_text_of_object): the words of its name (STORE_TEXT_NAME,
 * when it has a non-null name, even an empty one), of its descriptive text
 * (STORE_TEXT_WORDS: description, abstract, content and explanation joined
 * by spaces, when that is not blank), each at most once and in that order,
 * then each id it points at (STORE_TEXT_REF; role 0 an element of
 * object_refs, 1 source_ref, 2 target_ref, 3 sighting_of_ref). */
enum store_text_kind { STORE_TEXT_NAME, STORE_TEXT_WORDS, STORE_TEXT_REF };

/* Calls cb with the text and reference index entries of the stored object
 * (canonical JSON, body/len), computed as store_pg.c's SQL computed them
 * (the same words, so the same search): a field's text is the string or,
 * for another JSON value, its canonical text; Latin letters with
 * diacritics fold to ASCII (STORE_FOLD_FROM, store_int.h), and every run of
 * ASCII bytes other than letters and digits becomes one space (PostgreSQL's
 * to_tsvector('simple') then lower-cases the words). Unparseable bodies
 * give nothing. Pure. */
enum mrd_code store_text_of_object(const char *body, size_t len,
                                   enum mrd_code (*cb)(void *ctx, enum store_text_kind kind,
                                                       int role, const char *s, size_t n,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);

/* One stored version mentioning the searched value. */
struct store_value_hit {
    const struct store_row *row; /* body set */
    int64_t collection;          /* store_collection.key */
    enum store_vhow how;
    enum store_vmatch match;
    const struct store_value *stored; /* the indexed value that matched */
};

/* Finds the stored object versions mentioning v (see above). Each
 * candidate goes to visible(ctx, collection, row) first -- the caller's
 * policy_may_read with the reader of that collection -- and only visible
 * ones reach emit, at most limit of them (0 or above STORE_SEARCH_MAX =
 * STORE_SEARCH_MAX); *ret_more (may be NULL) tells whether another
 * visible one exists. One read transaction. */
enum mrd_code store_value_search(struct store *st, const struct store_value *v, size_t limit,
                                 bool (*visible)(void *ctx, int64_t collection,
                                                 const struct store_row *row),
                                 enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h,
                                                       struct mrd_err *err),
                                 void *ctx, bool *ret_more, struct mrd_err *err);

/* ---- scheduled feeds ---- */

/* Writes feed name (store__check_name rules) as mode says: config and
 * state are JSON texts of at most STORE_FEED_RECORD_MAX bytes (the one the
 * mode does not replace may be NULL). Committed. */
enum mrd_code store_feed_put(struct store *st, enum store_feed_mode mode, const char *name,
                             const char *config, const char *state, struct mrd_err *err);
/* Calls cb for feed name (MRD_E_NOTFOUND when there is none), or for
 * every feed in name order when name is NULL. */
enum mrd_code store_feed_list(struct store *st, const char *name,
                              enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                  struct mrd_err *err),
                              void *ctx, struct mrd_err *err);
/* Removes the feed and its remembered ids; MRD_E_NOTFOUND. */
enum mrd_code store_feed_remove(struct store *st, const char *name, struct mrd_err *err);
/* Replaces the ids remembered for feed name (at most
 * STORE_FEED_MAX_ITEMS), in one transaction. */
enum mrd_code store_feed_items_set(struct store *st, const char *name, const char *const *ids,
                                   size_t n, struct mrd_err *err);
/* Calls cb for every id remembered for feed name. */
enum mrd_code store_feed_items(struct store *st, const char *name,
                               enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);

/* ---- the overview's aggregates (docs/console.md, "Overview") ----
 *
 * The store keeps counters per hour, written with the rows they count (in
 * the same transaction, by every change: insert, delete, a copy becoming
 * writer-only, a version ceasing to be the newest), each under a key made
 * of exactly what the read decision looks at: the collection, and the
 * columns of struct policy_object plus source_peer. A reader's figures are
 * the sums over the keys it may read: store_agg_query hands each key to
 * readable() once, as a row carrying only those columns (policy,
 * source_peer; seq = the key), and reads the counters of the readable ones
 * only. So the answer costs a few thousand counter rows, whatever the
 * number of objects, and no figure comes from a row the reader may not
 * read. A sighting counts once, as its newest version (a reader who may
 * read only an older version of it does not count it). */
#define STORE_AGG_TOP_MAX 100     /* most-sighted objects one query lists */
#define STORE_AGG_IDS_MAX 1000    /* objects one query checks for a local sighting */
#define STORE_AGG_KEYS_MAX 100000 /* distinct keys one query reads */
#define STORE_HOUR_USEC ((int64_t)3600 * 1000000)

/* One counter: object versions stored in an hour (name = the STIX type),
 * sightings first seen in an hour (name = the reporter: created_by_ref,
 * else where_sighted_refs[0], else "unknown"), or object versions sent in
 * an hour (name = the destination, store_sent_record). */
struct store_agg_cell {
    const struct store_row *key; /* the key's policy columns and source_peer */
    int64_t collection;
    int64_t hour_usec; /* start of the hour */
    const char *name;
    size_t name_len;
    int64_t n;     /* object versions; sightings */
    int64_t count; /* sightings: the sum of their count (1 when absent) */
};

/* A most-sighted object: sightings of it first seen since the day of
 * since_usec, over the readable keys. */
struct store_agg_top {
    const char *id; /* sighting_of_ref */
    size_t id_len;
    int64_t count; /* sum of count */
    int64_t n;     /* sightings */
};

struct store_agg_query {
    int64_t since_usec; /* counters of the hours from the one holding since_usec */
    /* THE read decision for a key (the caller's policy_may_read with its
     * reader for collection); required */
    bool (*readable)(void *ctx, int64_t collection, const struct store_row *key);
    /* each may be NULL */
    enum mrd_code (*objects)(void *ctx, const struct store_agg_cell *c, struct mrd_err *err);
    enum mrd_code (*sightings)(void *ctx, const struct store_agg_cell *c, struct mrd_err *err);
    enum mrd_code (*sent)(void *ctx, const struct store_agg_cell *c, struct mrd_err *err);
    size_t top; /* most-sighted objects wanted (days from since_usec's), <= STORE_AGG_TOP_MAX */
    enum mrd_code (*top_cb)(void *ctx, const struct store_agg_top *t, struct mrd_err *err);
    /* objects to check for a readable sighting created on this node (local)
     * since the day of since_usec; sighted(ctx, i) is called for each such
     * ids[i]; at most STORE_AGG_IDS_MAX */
    const char *const *ids;
    size_t n_ids;
    void (*sighted)(void *ctx, size_t i);
    void *ctx;
};

/* Reads the aggregates as q describes, in one read transaction.
 * MRD_E_INVAL for a bad query, MRD_E_TOOBIG past STORE_AGG_KEYS_MAX keys. */
enum mrd_code store_agg_query(struct store *st, const struct store_agg_query *q,
                              struct mrd_err *err);

/* The newest versions of one type in a collection received from peers
 * (source_peer set), added after added_after, newest first: each goes to
 * visible(ctx, row) and the visible ones to emit, until limit were
 * emitted. No body. One read transaction. */
struct store_newest {
    int64_t collection;
    const char *type;
    int64_t added_after; /* usec */
    size_t limit;        /* > 0 */
    bool (*visible)(void *ctx, const struct store_row *row);
    enum mrd_code (*emit)(void *ctx, const struct store_row *row, struct mrd_err *err);
    void *ctx;
};
enum mrd_code store_objects_newest(struct store *st, const struct store_newest *q,
                                   struct mrd_err *err);

/* Records that the stored object versions seqs (n, at most STORE_SENT_MAX)
 * left this node at at_usec for dest (the partner org that read them
 * through TAXII, the peer they were pushed to; at most STORE_NAME_MAX):
 * the overview's "sent" counters, under each version's aggregate key.
 * Seqs no longer stored are skipped. One small committed write. */
#define STORE_SENT_MAX 10000
enum mrd_code store_sent_record(struct store *st, const char *dest, const int64_t *seqs, size_t n,
                                int64_t at_usec, struct mrd_err *err);

/* ---- the access audit (audit/audit.h) ----
 *
 * An append-only log of who read which sensitive object version: one row
 * per version sent out (time, STIX id, version, TLP, reading org, token
 * name -- never a secret --, path). Rows are never updated (a trigger
 * refuses it); runs of rows are sealed by digests (first..last row, their
 * count, time span and SHA-256 over their canonical lines), each queued as
 * a ledger event in the transaction that stores it; only sealed rows are
 * ever deleted, a whole digest's run at a time (store_reads_prune). */
#define STORE_READS_MAX 10000      /* object versions one store_reads_record call records */
#define STORE_READ_PATH_MAX 15     /* "taxii", "export", "sync-pull", ... */
#define STORE_READ_WHO_MAX 160     /* token name or "cli:USER" / "peer:NAME" */
#define STORE_READS_LIST_MAX 10000 /* rows one store_reads_list call hands out at most */

/* Who read, and through which path. */
struct store_read_who {
    const char *org;   /* the reading org's name; "anonymous" for none */
    const char *token; /* the token's name, "cli:USER", "peer:NAME"; never a secret */
    const char *path; /* "taxii", "export", "feed", "console", "search", "sync-pull", "sync-push" */
    int64_t time_usec;
};

/* One audit row. */
struct store_read_row {
    int64_t id; /* ascending in the order rows were recorded */
    int64_t time_usec;
    /* the time of the stored row that holds it: the latest of its rows
     * (a merged row holds several pages, each with its own time); the
     * rows of one stored row are sealed, and pruned, together */
    int64_t stored_usec;
    const char *object_id;
    size_t object_id_len;
    int64_t version_usec; /* the version's modified (created; date_added for SCOs) */
    int tlp;              /* enum policy_tlp */
    const char *org, *token, *path;
};

/* Which rows store_reads_list reports (all set fields must hold). */
struct store_read_filter {
    const char *object_id; /* NULL = any */
    const char *org;       /* NULL = any */
    int64_t since_usec;    /* STORE_TIME_NONE = any */
    int64_t after_id;      /* 0 = any; else rows with a higher id */
    int64_t through_id;    /* 0 = any; else rows with an id at most this */
    size_t limit;          /* 1..STORE_READS_LIST_MAX */
};

/* A sealed run of audit rows. */
struct store_read_digest {
    int64_t id;
    int64_t first, last; /* row ids, inclusive */
    uint64_t count;
    int64_t from_usec, to_usec; /* time of the first and last row */
    uint8_t hash[32];           /* SHA-256 over the rows' canonical lines (audit.h) */
    int64_t ev;                 /* its ledger event */
    int64_t leaf;               /* -1 until the ledger has it */
    int64_t pruned_usec;        /* STORE_TIME_NONE while its rows are kept */
    const char *record;         /* the ledger event's JSON (listing only) */
    size_t record_len;
};

/* One group of reads: n object versions (at most STORE_READS_MAX) read by
 * who, packed in packed[0..packed_len) by store_read_pack_put. */
struct store_read_batch {
    struct store_read_who who;
    const uint8_t *packed;
    size_t packed_len;
    size_t n;
};
/* Packed pages (store_readpack.c, schema 18): the versions of one read in
 * binary, about 17 bytes an object: the UUID of a "TYPE--UUID" id in 16
 * bytes, the type, version and TLP only when they change from the item
 * before (another id is kept whole). */
#define STORE_READ_PACK_FORMAT 1
#define STORE_READ_PACKED_MAX (STORE_STIX_ID_MAX + 32) /* bytes one item takes at most */
struct store_read_pack {
    uint8_t *buf;
    size_t size, len; /* buf's size and the bytes used */
    size_t n;         /* items put */
    size_t run_at;    /* the open run's op byte */
    int64_t version;
    int tlp;
    size_t type_len;
    char type[STORE_STIX_ID_MAX];
};
/* Starts an empty page in buf (size bytes). No allocation. */
void store_read_pack_init(struct store_read_pack *pk, uint8_t *buf, size_t size);
/* Appends an item; false (nothing written) when the id is empty, longer
 * than STORE_STIX_ID_MAX or holds a byte <= ' ', the TLP is not 0..9, or
 * fewer than STORE_READ_PACKED_MAX bytes are free. */
bool store_read_pack_put(struct store_read_pack *pk, const char *id, size_t id_len,
                         int64_t version_usec, int tlp);
/* Merged pages (format 2, schema 20): the pages of one reader (org,
 * token, path) that serve's audit thread writes in one round, in ONE
 * stored row (audit.h, audit_write_pages): the format byte
 * STORE_READ_MERGED_FORMAT, then for each page a zigzag varint of its
 * time minus the time of the page before (the first: minus 0), a varint
 * of its length (at least 1), and the page as store_read_pack_put made it
 * without its format byte. A few bytes a page more than its items, and one
 * insert a round and reader instead of one a page. */
#define STORE_READ_MERGED_FORMAT 2
#define STORE_READ_MERGED_MAX (256 * 1024) /* bytes of one merged row: split past it */
struct mrd_buf;
/* Appends page (len bytes, a packed page of STORE_READ_PACK_FORMAT) read
 * at time_usec to the merged row in out (grown up to out->max, at most
 * STORE_READ_MERGED_MAX; an empty out gets the format byte first);
 * *prev_usec is the time of the page before (0 before the first) and
 * becomes time_usec. MRD_E_TOOBIG when it does not fit, MRD_E_INVAL when
 * page is not a packed page with an item: out unchanged then. */
enum mrd_code store_read_merge_put(struct mrd_buf *out, int64_t *prev_usec, const uint8_t *page,
                                   size_t len, int64_t time_usec, struct mrd_err *err);
/* Reads a packed page (or a merged row) back, item by item. */
struct store_read_unpack {
    const uint8_t *p;
    size_t len, at;  /* len: the end of the page being read */
    size_t total;    /* the bytes of the whole value */
    bool merged;     /* STORE_READ_MERGED_FORMAT: pages with their times */
    int64_t time;    /* merged: the time of the page being read */
    bool count_only; /* store_read_unpack_count: UUID ids checked, not spelled */
    unsigned run_left;
    int64_t version;
    int tlp;
    size_t type_len;
    char id[STORE_STIX_ID_MAX + 1];  /* "TYPE--" + the UUID of the item */
    char raw[STORE_STIX_ID_MAX + 1]; /* an id kept whole */
};
/* false when p is neither a packed page nor a merged row. */
bool store_read_unpack_init(struct store_read_unpack *u, const uint8_t *p, size_t len);
/* The next item into r's object_id (pointing into u), object_id_len,
 * version_usec and tlp, and in a merged row its page's time_usec (a
 * packed page leaves r->time_usec alone: the stored row's time is its
 * items'): 1; 0 at the end; -1 when malformed. */
int store_read_unpack_next(struct store_read_unpack *u, struct store_read_row *r);
/* The items in a packed page; 0 when malformed. */
size_t store_read_unpack_count(const uint8_t *p, size_t len);
/* A text item (pages written before schema 18): "VERSION_USEC TLP
 * OBJECT_ID\n" (decimal; a STIX id has no space or control character). */
#define STORE_READ_ITEM_MAX (STORE_STIX_ID_MAX + 26)
/* Parses the item at p (len bytes left) into r's object_id,
 * object_id_len, version_usec and tlp (object_id points into p); returns
 * the bytes it took, 0 when malformed. */
size_t store_read_item_next(const char *p, size_t len, struct store_read_row *r);
/* Records the groups b[0..nb): rows numbered on from the last one, one
 * statement per group, all in one committed transaction. */
enum mrd_code store_reads_record(struct store *st, const struct store_read_batch *b, size_t nb,
                                 struct mrd_err *err);
/* Calls cb for the rows f selects, in id order; *ret_more (may be NULL)
 * is true when rows past f->limit were left out. */
enum mrd_code store_reads_list(struct store *st, const struct store_read_filter *f,
                               enum mrd_code (*cb)(void *ctx, const struct store_read_row *r,
                                                   struct mrd_err *err),
                               void *ctx, bool *ret_more, struct mrd_err *err);
/* Stores digest d (d->first must follow the last sealed row: else
 * MRD_E_EXISTS) and queues ev for the ledger, in one committed
 * transaction; d->id and d->ev are set. */
enum mrd_code store_reads_seal(struct store *st, struct store_read_digest *d,
                               const struct store_ledger_event *ev, struct mrd_err *err);
/* Calls cb for every digest, oldest first, with its record and leaf. */
enum mrd_code store_reads_digests(struct store *st,
                                  enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);
/* Deletes the rows of every digest whose last row is older than
 * before_usec (unsealed rows are never deleted) and marks those digests
 * pruned at now_usec; *ret_rows (may be NULL) counts the rows deleted. */
enum mrd_code store_reads_prune(struct store *st, int64_t before_usec, int64_t now_usec,
                                uint64_t *ret_rows, struct mrd_err *err);
/* ---- constituency assets and notifications (notify.h) ----
 *
 * A constituent org declares what it owns (notify.h: ASNs, prefixes,
 * domains, e-mail domains, hosts). A declaration overlapping another org's
 * is stored pending until the own org approves it, and routes nothing
 * meanwhile. A notification records that an object version concerned an
 * org's asset; a repeat of the same (org, asset, object type, value) within
 * the squelch window is recorded as squelched (kept, not delivered).
 * The routing cursor (the highest object seq routed) is node metadata
 * STORE_NOTIFY_CURSOR_KEY, moved in the transaction that records the
 * notifications it produced. */
#define STORE_ASSET_TEXT_MAX 255 /* an asset's display form */
#define STORE_NOTIFY_CURSOR_KEY "notify.cursor"
#define STORE_NOTIFY_ASSETS_GEN_KEY "notify.assets_gen" /* moves on every declaration change */
#define STORE_NOTIFY_BATCH_MAX 4096                     /* notifications recorded in one call */
#define STORE_NOTIFY_LIST_MAX 10000                     /* notifications one list call hands out */

enum store_asset_status {
    STORE_ASSET_ACTIVE = 0,
    STORE_ASSET_PENDING = 1, /* overlaps another org's declaration: awaiting approval */
    STORE_ASSET_REMOVED = 2, /* asset_set only: delete the declaration */
};

struct store_asset {
    int64_t id;  /* set by asset_add */
    int64_t org; /* orgs.key */
    char org_name[STORE_NAME_MAX + 1];
    uint8_t kind; /* enum notify_akind */
    uint32_t asn;
    struct store_value v;
    char text[STORE_ASSET_TEXT_MAX + 1]; /* display form (notify_asset_format) */
    int status;                          /* enum store_asset_status */
    int64_t created_usec;
    char overlaps[STORE_ASSET_TEXT_MAX + 1]; /* pending: whose declaration it overlaps */
};

struct store_notification {
    int64_t id; /* set by notifications_add */
    int64_t org, asset;
    char org_name[STORE_NAME_MAX + 1];         /* list only */
    char asset_text[STORE_ASSET_TEXT_MAX + 1]; /* list only */
    int64_t seq;                               /* the object version that concerned the asset */
    char object_id[STORE_STIX_ID_MAX + 1];
    char kind[32];                        /* the object's STIX type */
    char value[STORE_ASSET_TEXT_MAX + 1]; /* the value that hit, display form ("AS65010") */
    uint8_t how;                          /* enum notify_how */
    int64_t created_usec;
    bool squelched; /* set by notifications_add */
    /* notifications_add only (may be NULL): the notification as a STIX
     * object, inserted into stix_collection in the same transaction when
     * the notification is new and not squelched (store_objects_insert's
     * rules; stix_outcome gets what it did) */
    const struct store_object_in *stix;
    int64_t stix_collection;
    enum store_insert_outcome stix_outcome;
};

/* Stores a declaration (a->status as given); sets a->id and
 * a->created_usec. MRD_E_EXISTS when the org declared the same asset. */
enum mrd_code store_asset_add(struct store *st, struct store_asset *a, struct mrd_err *err);

/* Sets the status of declaration id (of org, or any org when org is 0):
 * STORE_ASSET_ACTIVE approves it, STORE_ASSET_REMOVED deletes it. ret (may
 * be NULL) gets the declaration as it was. MRD_E_NOTFOUND when there is no
 * such declaration (of that org). */
enum mrd_code store_asset_set(struct store *st, int64_t id, int64_t org, int status,
                              struct store_asset *ret, struct mrd_err *err);

/* Calls cb for each declaration of org (0: every org), by id. */
enum mrd_code store_assets_list(struct store *st, int64_t org,
                                enum mrd_code (*cb)(void *ctx, const struct store_asset *a,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err);

/* Records count (<= STORE_NOTIFY_BATCH_MAX) notifications and moves the
 * routing cursor to cursor_seq, in one transaction; sets each one's id
 * and squelched. A notification's STIX form (n[i].stix) is inserted in
 * that transaction too, only when the notification is new and not
 * squelched: the three commit together or not at all. Never call it
 * inside store_write_begin. */
enum mrd_code store_notifications_add(struct store *st, struct store_notification *n, size_t count,
                                      int64_t squelch_usec, int64_t cursor_seq,
                                      struct mrd_err *err);

/* Calls cb for up to limit (<= STORE_NOTIFY_LIST_MAX) notifications of org
 * (0: every org) with an id above after_id, by id. */
enum mrd_code store_notifications_list(
    struct store *st, int64_t org, int64_t after_id, size_t limit,
    enum mrd_code (*cb)(void *ctx, const struct store_notification *n, struct mrd_err *err),
    void *ctx, struct mrd_err *err);
/* ---- early-warning delivery (notify.h, "delivery") ----
 *
 * A contact says where an org is told: an e-mail address (with an
 * optional armored OpenPGP public key) or a webhook URL (with the secret
 * of its HMAC), and the schedule per kind of finding (notify.h parses it).
 * A delivery is one message to one contact on one schedule: queued (due at
 * `due`; a digest collects notifications until then), sent, or dead (given
 * up after the attempts allowed: the dead-letter list). Who it went to is
 * copied into the delivery, so the record outlives the contact. The
 * delivery cursor (STORE_NOTIFY_DELIVER_CURSOR_KEY, the highest
 * notification id planned) moves in the transaction that queues them. */
#define STORE_CONTACT_ADDR_MAX 512                /* an e-mail address or a webhook URL */
#define STORE_CONTACT_KEY_MAX ((size_t)64 * 1024) /* an armored OpenPGP public key */
#define STORE_CONTACT_SECRET_MAX 128              /* a webhook's HMAC secret */
#define STORE_SCHEDULE_MAX 256                    /* "immediate", "sighting=hourly,daily" */
#define STORE_DELIVERY_ERROR_MAX 300              /* the last attempt's error */
#define STORE_DELIVERY_PLAN_MAX 4096              /* (contact, notification) pairs per call */
#define STORE_NOTIFY_DELIVER_CURSOR_KEY "notify.deliver_cursor"

enum store_channel { STORE_CHANNEL_EMAIL = 1, STORE_CHANNEL_WEBHOOK = 2 };
enum store_delivery_status {
    STORE_DELIVERY_QUEUED = 0, /* waiting for `due` (a digest collects until then) */
    STORE_DELIVERY_SENT = 1,
    STORE_DELIVERY_DEAD = 2, /* given up: the dead-letter list */
};

struct store_contact {
    int64_t id; /* set by contact_add */
    int64_t org;
    char org_name[STORE_NAME_MAX + 1]; /* list only */
    int channel;                       /* enum store_channel */
    char address[STORE_CONTACT_ADDR_MAX + 1];
    const char *pgp_key; /* armored public key or "" (NULL: none); borrowed */
    char secret[STORE_CONTACT_SECRET_MAX + 1];
    char schedule[STORE_SCHEDULE_MAX + 1];
    int64_t created_usec;
};

/* One notification to carry to one contact on one schedule, from due_usec. */
struct store_delivery_plan {
    int64_t contact, notification;
    int schedule; /* notify.h enum notify_schedule */
    int64_t due_usec;
};

struct store_delivery {
    int64_t id, contact, org;
    char org_name[STORE_NAME_MAX + 1]; /* list only */
    int channel;
    char address[STORE_CONTACT_ADDR_MAX + 1];
    int schedule;
    int status; /* enum store_delivery_status */
    int64_t created_usec, due_usec, last_try_usec, sent_usec;
    unsigned attempts;
    char error[STORE_DELIVERY_ERROR_MAX + 1];
    int64_t ev;     /* sent: the ledger event recording it (store_event_add) */
    size_t n_items; /* list only: notifications it carries */
    /* update only: the attempts the stored row must have (else another
     * round has taken it: MRD_E_CONFLICT) */
    unsigned expect_attempts;
    bool record_attempt; /* update only: also record the attempt's outcome */
};

/* One attempt of a delivery and its outcome (status SENT, or QUEUED /
 * DEAD with the error). */
struct store_delivery_attempt {
    int64_t delivery;
    int64_t time_usec;
    int status;
    char error[STORE_DELIVERY_ERROR_MAX + 1];
};

struct store_delivery_filter {
    int64_t id;         /* 0: any */
    int64_t org;        /* 0: any */
    int status;         /* -1: any */
    int64_t due_before; /* 0: any; else only those due at or before it */
    int64_t after_id;
    size_t limit; /* 0 or above STORE_NOTIFY_LIST_MAX: STORE_NOTIFY_LIST_MAX */
};

/* Stores a contact; sets c->id and c->created_usec. MRD_E_EXISTS when the
 * org has that address on that channel already. */
enum mrd_code store_contact_add(struct store *st, struct store_contact *c, struct mrd_err *err);

/* Removes contact id (of org; 0: any); ret (may be NULL; its pgp_key is
 * NULL) gets it as it was. MRD_E_NOTFOUND: no such contact. Its queued
 * deliveries are dead with the error "contact removed". */
enum mrd_code store_contact_remove(struct store *st, int64_t id, int64_t org,
                                   struct store_contact *ret, struct mrd_err *err);

/* Calls cb for each contact of org (0: every org), by id. */
enum mrd_code store_contacts_list(struct store *st, int64_t org,
                                  enum mrd_code (*cb)(void *ctx, const struct store_contact *c,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);

/* Adds each (contact, notification) to the queued delivery of that contact
 * and schedule that has not been tried yet (its due time kept), or to a new
 * one due at p->due_usec; moves the delivery cursor from from_cursor to
 * cursor_id; one transaction. MRD_E_CONFLICT, nothing queued, when the
 * cursor is not at from_cursor (another round queued them meanwhile). */
enum mrd_code store_deliveries_enqueue(struct store *st, const struct store_delivery_plan *p,
                                       size_t n, int64_t from_cursor, int64_t cursor_id,
                                       struct mrd_err *err);

/* Calls cb for the deliveries f selects, by id. */
enum mrd_code store_deliveries_list(struct store *st, const struct store_delivery_filter *f,
                                    enum mrd_code (*cb)(void *ctx, const struct store_delivery *d,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err);

/* Calls cb for each notification delivery carries, by id. */
enum mrd_code store_delivery_items(struct store *st, int64_t delivery,
                                   enum mrd_code (*cb)(void *ctx,
                                                       const struct store_notification *n,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);

/* Writes d's status, due, attempts, last_try, sent, error and ev (joins the
 * thread's write transaction when one is open), if its stored attempts are
 * d->expect_attempts. MRD_E_CONFLICT otherwise or when there is no such
 * delivery. */
enum mrd_code store_delivery_update(struct store *st, const struct store_delivery *d,
                                    struct mrd_err *err);

/* Calls cb for each recorded attempt of delivery, oldest first. */
enum mrd_code store_delivery_attempts(struct store *st, int64_t delivery,
                                      enum mrd_code (*cb)(void *ctx,
                                                          const struct store_delivery_attempt *a,
                                                          struct mrd_err *err),
                                      void *ctx, struct mrd_err *err);

/* ---- free text and references ----
 *
 * Two more indexes written by the insert path in the same transaction as
 * each version (so never behind), and filled for the versions already
 * stored when an older database is opened: the words of the version's
 * name and descriptive text (description, a note's abstract and content,
 * an opinion's explanation) in a SQLite FTS5 table, and the STIX ids it
 * points at (object_refs, a relationship's source_ref and target_ref, a
 * sighting's sighting_of_ref). Like store_value_search, each candidate
 * goes to visible(ctx, collection, row) first and only visible ones reach
 * emit. */

#define STORE_TEXT_QUERY_MAX 512 /* bytes of one free-text query */
#define STORE_TEXT_TERMS_MAX 16  /* words in one free-text query */

/* How a version points at an id (bits of a mask). Stored: append-only. */
enum store_ref_role {
    STORE_REF_CONTAINS = 0,    /* its object_refs list the id (report, note, grouping, ...) */
    STORE_REF_SOURCE = 1,      /* a relationship whose source_ref is the id */
    STORE_REF_TARGET = 2,      /* a relationship whose target_ref is the id */
    STORE_REF_SIGHTING_OF = 3, /* a sighting whose sighting_of_ref is the id */
};
#define STORE_REF_BIT(role) (1u << (role))

/* One stored version found by text or by reference. */
struct store_found {
    const struct store_row *row; /* body set */
    int64_t collection;
    enum store_ref_role role; /* store_refs_to only */
};

/* Turns what a person typed into a safe FTS5 query: each space-separated
 * word holding a letter or digit becomes one quoted phrase (its tokens in
 * order), so no FTS operator can be written; the last one is a prefix.
 * MRD_E_INVAL when there is no word or q is not UTF-8, MRD_E_TOOBIG past
 * STORE_TEXT_QUERY_MAX bytes or STORE_TEXT_TERMS_MAX words; ret_len
 * receives the query's length. Pure. */
enum mrd_code store_text_query(const char *q, size_t n, char *out, size_t size, size_t *ret_len,
                               struct mrd_err *err);

/* Finds the versions whose name or descriptive text hold every word of q
 * (store_text_query), best ranked first, at most limit visible ones (0 or
 * above STORE_SEARCH_MAX = STORE_SEARCH_MAX); *ret_more (may be NULL)
 * tells whether another visible one exists. One read transaction. */
enum mrd_code store_text_search(struct store *st, const char *q, size_t n, size_t limit,
                                bool (*visible)(void *ctx, int64_t collection,
                                                const struct store_row *row),
                                enum mrd_code (*emit)(void *ctx, const struct store_found *f,
                                                      struct mrd_err *err),
                                void *ctx, bool *ret_more, struct mrd_err *err);

/* Finds the versions pointing at the STIX id (id, len) in one of the roles
 * of the mask (STORE_REF_BIT), newest first, at most limit visible ones
 * (as store_text_search). */
enum mrd_code
store_refs_to(struct store *st, const char *id, size_t len, unsigned roles, size_t limit,
              bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
              enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
              void *ctx, bool *ret_more, struct mrd_err *err);

/* ---- copying a node's database between backends (store_copy.c) ---- */

/* Progress of store_copy: called when a table starts (done = 0) and about
 * every STORE_PROGRESS_MS while its rows are copied. Must not call the
 * store. */
struct store_copy_progress {
    const char *table;
    unsigned table_no, tables; /* 1-based, of how many */
    uint64_t done, total;      /* rows of this table */
};

/* What store_copy moved and checked: per table, the rows copied and the
 * row-set digest (SHA-256 of each row's typed values, summed over the
 * rows: independent of row order) found equal on both sides. */
#define STORE_COPY_TABLES_MAX 32
struct store_copy_report {
    size_t ntables;
    struct {
        const char *name;
        uint64_t rows;
    } tables[STORE_COPY_TABLES_MAX];
    uint64_t objects, ledger_leaves, ledger_events; /* object versions, their leaves, events */
    int64_t max_leaf;                               /* the highest ledger leaf recorded; -1 none */
    unsigned char ledger_digest[32];                /* of object_leaves + ledger_events rows */
};

/* Copies every row of the node's database at from into the empty database
 * at to, each a data directory (SQLite: DIR/meridian.db, whatever
 * DIR/store.dsn says; created in to) or a PostgreSQL URI (its schema
 * created in to). One read snapshot of from and one write transaction of
 * to: a failure leaves to as it was. Tables, in order: meta, orgs, tokens,
 * API roots, collections, grants, object versions, statuses, conflicts,
 * the value index, the ledger's leaves and event queue, sessions, holds,
 * feeds, assets, notifications, contacts, deliveries and the access audit;
 * identity keys
 * keep their values (PostgreSQL's sequences move past them); SQLite's
 * free-text, reference and overview indexes are rebuilt from the copied
 * versions. Before committing it reads every table back from to and
 * compares its row count and digest with from's: MRD_E_INVALID naming
 * the table on a difference. MRD_E_EXISTS when to holds orgs, roots,
 * collections, objects or ledger events already. progress may be NULL. */
enum mrd_code store_copy(const char *from, const char *to,
                         void (*progress)(void *ctx, const struct store_copy_progress *p),
                         void *progress_ctx, struct store_copy_report *ret, struct mrd_err *err);

#endif
