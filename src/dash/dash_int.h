/*
 * dash internals shared by dash_*.c. Nothing outside src/dash/ (and its
 * tests) includes this.
 */
#ifndef MRD_DASH_DASH_INT_H
#define MRD_DASH_DASH_INT_H

#include "dash/dash.h"

struct dash {
    struct store *st;
    const struct crypto_keyring *keyring;
    struct http_app inner;         /* what /ui/ is in front of */
    const char *data_dir;          /* for holds' default location; may be NULL */
    struct ledger_service *ledger; /* for evidence exports; may be NULL */
    struct privacy_live *privacy;  /* a partner's request takes the policy in force */
    json_t *(*sensor_status)(void *ctx);
    void *sensor_ctx;
    json_t *(*dns_status)(void *ctx);
    void *dns_ctx;
};

/* The holds page's routes (dash_holds.c). */
enum mrd_code dash__holds_routes(struct dash *d, struct api_router *r, struct mrd_err *err);
/* The early-warning page's routes: assets and notifications (dash_notify.c). */
enum mrd_code dash__notify_routes(struct dash *d, struct api_router *r, struct mrd_err *err);
/* The rule files on the admin API: privacy policy and retention (dash_rules.c). */
enum mrd_code dash__rules_routes(struct dash *d, struct api_router *r, struct mrd_err *err);

/* The reader's view of the node: every collection with the policy reader
 * of the principal for it. */
struct dash_view_coll {
    struct store_collection coll;
    struct policy_reader reader; /* community points into coll */
    bool can_read;               /* a read grant, or a public collection */
};
struct dash_view {
    struct dash_view_coll *c;
    size_t n, cap;
    const struct privacy_policy *privacy; /* dash_who's: partner users */
    const char *org_name;
};

enum mrd_code dash__view_load(struct store *st, const struct dash_who *who, struct dash_view *ret,
                              struct mrd_err *err);
void dash__view_release(struct dash_view *v);
const struct dash_view_coll *dash__view_find(const struct dash_view *v, int64_t key);
/* THE check of every row the console shows: policy_may_read() with the
 * reader of the row's collection (false for a collection it cannot read),
 * then, for a partner user, the outbound privacy policy: an object it
 * withholds is not shown either, exactly as a TAXII read would not. */
bool dash__view_may_read(const struct dash_view *v, int64_t coll, const struct store_row *row);

/* {id, type, tlp, source, collection, api_root, date_added, version,
 * revoked, label} of a row the reader may read. */
json_t *dash__row_summary(const struct dash_view *v, int64_t coll, const struct store_row *row);
const char *dash__kind_name(unsigned kind);
/* A short label for an object: its name, else its value, pattern or
 * description (cut to 300 bytes); NULL when it has none. */
json_t *dash__label_of(const json_t *o);

/* An object as the reader sees it (dash_refs.c). */
struct dash_obj {
    const struct dash_view *view;
    int64_t coll;
    json_t *versions; /* row summaries of every readable version */
    json_t *peers;    /* source peer -> true */
    char *best;       /* body of the newest readable version */
    size_t best_len;
    int64_t best_version, best_added;
    enum policy_tlp best_tlp;
    struct store_row best_row;           /* its id, version and policy, for the access audit */
    char best_id[STORE_STIX_ID_MAX + 1]; /* best_row.id */
    bool any; /* false: no version the reader may read (or none at all) */
};
/* Every readable version of id across the collections the reader may
 * read; x starts zeroed, dash__object_release frees it in any case. */
enum mrd_code dash__object_load(struct store *st, const struct dash_view *view, const char *id,
                                struct dash_obj *x, struct mrd_err *err);
void dash__object_release(struct dash_obj *x);

/* Appends to out (at most max) the edges pointing at id in the roles of
 * the mask (STORE_REF_BIT): each the summary of the edge object's newest
 * readable version with "edge" (container, relationship, sighting),
 * "direction" (out: id is a relationship's source; in), and for a
 * relationship its "relationship_type" and the "other" end ({id, type,
 * tlp, label}). rel_types (NULL-terminated; NULL: all) keeps only those
 * relationship types. An edge whose object or other end the reader may not
 * read is left out. */
enum mrd_code dash__edges(struct store *st, const struct dash_view *view, const char *id,
                          unsigned roles, const char *const *rel_types, size_t max, json_t *out,
                          struct mrd_err *err);

/* The overview's figures for the last days (1..30) as the reader sees
 * them (dash_overview.c, GET /api/v1/overview). */
enum mrd_code dash__overview(struct store *st, const struct dash_who *who, unsigned days,
                             json_t **ret, struct mrd_err *err);

/* How one sensor's alerts are shown (dash_alerts.c). */
struct dash_alerts_spec {
    const char *ext_id; /* the alert extension of the observed-data */
    /* the alert as the page shows it (with "first_seen" and "id"), or NULL */
    json_t *(*alert_of)(const json_t *obj, const json_t *ext, const char *tlp, const char *coll);
    size_t scan_max;  /* rows scanned per collection */
    size_t max;       /* alerts listed */
    const char *what; /* for errors */
};

/* The newest version of each alert under spec->ext_id that the reader may
 * read (dash__view_may_read, minimised for a partner's org_name as privacy
 * says), newest first_seen first, at most spec->max; *ret_more when some
 * were left out. */
enum mrd_code dash__alerts(struct store *st, const struct dash_who *who,
                           const struct privacy_policy *privacy, const char *org_name,
                           const struct dash_alerts_spec *spec, json_t **ret_list, bool *ret_more,
                           struct mrd_err *err);

/* Copies member key of from into to, when present. */
void dash__alert_copy(json_t *to, const json_t *from, const char *key);

/* The Routing page (dash_routing.c, GET /api/v1/routing): {"alerts":
 * [...] newest first_seen first, "by_kind": {hijack, leak, outage,
 * rpki-invalid}, "more"}, every alert one the reader may read; for a
 * partner, as privacy (NULL: none) minimises it for org_name. */
enum mrd_code dash__routing(struct store *st, const struct dash_who *who,
                            const struct privacy_policy *privacy, const char *org_name,
                            json_t **ret, struct mrd_err *err);

/* The DNS page (dash_dns.c, GET /api/v1/dns): {"zones": [{zone, state
 * ("ok" or "findings"), open, kinds, last_check}], "alerts": [...] newest
 * first_seen first, each with "open" (seen in the sensor's last round and
 * not outage-end), "round": the last round's time or null, "more"}. The
 * zones are sensor's "zones" (the running sensor's watched zones, may be
 * NULL) and those of the alerts. */
enum mrd_code dash__dns(struct store *st, const struct dash_who *who,
                        const struct privacy_policy *privacy, const char *org_name,
                        const json_t *sensor, json_t **ret, struct mrd_err *err);

/* The built-in files (dash_assets.c, generated by embed.py). */
struct dash_asset {
    const char *path; /* below /ui/, "" for the page itself */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip of data */
    size_t gz_len;
    const char *etag;
};
extern const struct dash_asset dash__assets[];
extern const size_t dash__n_assets;

#endif
