/*
 * notify: constituency early warning (docs/notify.md). Which constituent
 * org an incoming object concerns, decided from the assets each org has
 * declared: ASNs, IPv4/IPv6 prefixes, domains (covering their subdomains),
 * e-mail domains and single host names.
 *
 * Does (this file's pure half, assets.c): parses an asset as an operator
 * types it, builds an immutable index of every declared asset, and routes a
 * value or a whole STIX object through it: addresses and CIDRs by
 * longest-prefix match (plus the owners of prefixes a CIDR holds), host
 * names by longest domain suffix (a host asset only matches itself), e-mail
 * addresses by their domain, autonomous-system SCOs by number. It also
 * lists which other declarations an asset overlaps, so a claim on someone
 * else's network can be held for approval.
 * Does not: read the store, decide what an org may read (policy does), or
 * deliver anything. No I/O: the CLI, serve and the fuzzer call it alike.
 * Threading: an index is immutable once built; any number of threads may
 * route through it at once.
 * Errors: enum mrd_code + struct mrd_err. MRD_E_INVAL: an asset that is
 * none of the kinds, or a prefix with host bits set (the message names the
 * network meant). MRD_E_TOOBIG: more than NOTIFY_ASSETS_MAX assets.
 */
#ifndef MRD_NOTIFY_H
#define MRD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define NOTIFY_ASSETS_MAX 10000000 /* declared assets in one index */
#define NOTIFY_ASSET_TEXT_MAX 256  /* an asset as typed ("2001:db8::/32", "gov.example") */
#define NOTIFY_HOLDS_MAX 64        /* owners reported for prefixes inside one CIDR */
#define NOTIFY_OBJECT_HITS_MAX 256 /* (org, asset) pairs reported for one object */

enum notify_akind {
    NOTIFY_A_ASN = 1,    /* "AS65010" or "65010" */
    NOTIFY_A_PREFIX = 2, /* IPv4/IPv6 CIDR; a bare address is its /32 or /128 */
    NOTIFY_A_DOMAIN = 3, /* a domain and every name below it */
    NOTIFY_A_EMAIL = 4,  /* "@example.org": e-mail addresses at that domain and below */
    NOTIFY_A_HOST = 5,   /* one host name, nothing below it */
};

struct notify_asset {
    int64_t id;  /* the caller's id for this declaration (e.g. its store row) */
    int64_t org; /* the owning org's key */
    uint8_t kind;
    uint32_t asn;         /* NOTIFY_A_ASN */
    struct store_value v; /* PREFIX: IPv4/IPv6 key; DOMAIN, EMAIL, HOST: domain key */
};

/* How an object's value relates to the asset it hit. */
enum notify_how {
    NOTIFY_M_EXACT = 0,  /* the same prefix, name or ASN */
    NOTIFY_M_INSIDE = 1, /* the value lies inside the asset (address in prefix, subdomain) */
    NOTIFY_M_HOLDS = 2,  /* the value's CIDR holds the asset's prefix */
};

struct notify_hit {
    const struct notify_asset *asset;
    enum notify_how how;
    const struct store_value *value; /* the value that hit; NULL for an ASN */
    uint32_t asn;                    /* the ASN that hit, for NOTIFY_A_ASN */
};

typedef enum mrd_code (*notify_hit_fn)(void *ctx, const struct notify_hit *h, struct mrd_err *err);

/* Parses an asset as typed. kind: "asn", "prefix", "domain", "email",
 * "host", or NULL to infer it ("AS…" or digits: ASN; an address or CIDR:
 * prefix; "@…": e-mail domain; otherwise a domain). ret->id and ret->org
 * are left 0 for the caller. */
enum mrd_code notify_asset_parse(const char *kind, const char *text, struct notify_asset *ret,
                                 struct mrd_err *err);

/* The asset's display form ("AS65010", "10.0.0.0/8", "gov.example",
 * "@example.org"); returns its length (truncated to size - 1). */
size_t notify_asset_format(const struct notify_asset *a, char *out, size_t size);

/* Splits one line of an asset file, as `asset import` and the console's
 * upload read it: "ASSET" or "KIND,ASSET", blanks around them and a final
 * CR ignored. False for a line that declares nothing (empty, or a '#'
 * comment). line (NUL-terminated, without its newline) is changed in
 * place; *ret_kind (NULL: infer it) and *ret_text point into it. */
bool notify_asset_line(char *line, const char **ret_kind, const char **ret_text);

/* The kind's name as notify_asset_parse takes it. */
const char *notify_akind_name(enum notify_akind k);

struct notify_index;

/* Builds an index over a copy of the n assets (the caller keeps its own). */
enum mrd_code notify_index_build(const struct notify_asset *a, size_t n, struct notify_index **ret,
                                 struct mrd_err *err);
void notify_index_free(struct notify_index *ix);
size_t notify_index_size(const struct notify_index *ix);

/* Routes one value (as store_value_parse or store_values_of_object give
 * it): the most specific asset(s) holding it (several when orgs declared
 * the same prefix or name), and for a CIDR also the prefixes it holds, at
 * most NOTIFY_HOLDS_MAX. URL and hash values concern nobody (a URL's host
 * is routed as its own value). */
enum mrd_code notify_route_value(const struct notify_index *ix, const struct store_value *v,
                                 notify_hit_fn cb, void *ctx, struct mrd_err *err);

/* Routes an ASN: the assets declaring it. */
enum mrd_code notify_route_asn(const struct notify_index *ix, uint32_t asn, notify_hit_fn cb,
                               void *ctx, struct mrd_err *err);

/* Routes a STIX object (canonical JSON): every value it mentions
 * (store_values_of_object) and, for an autonomous-system SCO, its number.
 * Each (org, asset) pair is reported once, at most NOTIFY_OBJECT_HITS_MAX
 * of them. */
enum mrd_code notify_route_object(const struct notify_index *ix, const char *body, size_t len,
                                  notify_hit_fn cb, void *ctx, struct mrd_err *err);

/* Calls cb for every indexed asset of another org that overlaps a: the same
 * ASN; a prefix holding or inside a's; a domain equal to, above or below
 * a's. hit->how is as seen from a (INSIDE: a lies inside the other). */
enum mrd_code notify_overlaps(const struct notify_index *ix, const struct notify_asset *a,
                              notify_hit_fn cb, void *ctx, struct mrd_err *err);

/* ---- over the store (route.c) ----
 *
 * Declaring assets: notify_asset_declare parses an asset and stores it for
 * org, as an audit record (admin.h); a claim overlapping another org's declaration (active or
 * pending) is stored pending (store.h) and routes nothing until approved. Routing rounds:
 * notify_run_round routes the object versions stored since the last round (store.h,
 * STORE_NOTIFY_CURSOR_KEY) and records a notification for each (org, asset) hit the org may read
 * exactly as a TAXII read of that version would allow; a sighting is routed by the indicator it
 * sights and notifies only an org that may read both. A hit the org may not read produces nothing
 * (counted as withheld), or with opts->withheld NOTIFY_WITHHELD_ASSET_ONLY a notification without
 * the object's id and value. Each notification recorded (not squelched) is also a STIX object in
 * the org's own collection (NOTIFY_API_ROOT, alias the org's name; created on first need), TLP:RED
 * with the org as its one recipient, signed with opts->trust's node key, stored in the transaction
 * that records the notification and moves the cursor. */

#define NOTIFY_SQUELCH_DEFAULT_USEC ((int64_t)86400 * 1000000) /* same finding: once a day */
#define NOTIFY_API_ROOT "early-warning" /* where each org's notification collection is */
#define NOTIFY_STIX_ID_MAX 100          /* the id of a notification's STIX object */

/* The own org's policy for a hit the owning org may not read (docs/notify.md,
 * "Findings a constituent may not read"). Configured as notify.withheld. */
enum notify_withheld {
    NOTIFY_WITHHELD_NOTHING = 0,    /* "nothing": no notification at all (the default) */
    NOTIFY_WITHHELD_ASSET_ONLY = 1, /* "asset-only": a note naming only the org's asset and
                                     * the kind of finding, never the object's id, value or
                                     * source */
};

/* Parses "nothing" or "asset-only". */
enum mrd_code notify_withheld_parse(const char *s, enum notify_withheld *ret, struct mrd_err *err);
#define NOTIFY_ROUND_DEFAULT 1000 /* object versions one round routes */
#define NOTIFY_ROUND_MAX 100000

struct store_notification;
struct admin;
struct fed_trust;
struct notify_deliver_conf;

struct notify_opts {
    int64_t squelch_usec; /* repeats of (org, asset, type, value) within it are squelched */
    size_t batch;         /* versions per round; 0: NOTIFY_ROUND_DEFAULT */
    enum notify_withheld withheld; /* a hit the org may not read */
    /* signs each notification's STIX object (the node key); NULL: unsigned */
    const struct fed_trust *trust;
    /* called for each notification recorded and not squelched; may be NULL */
    void (*on_notify)(void *ctx, const struct store_notification *n);
    void *ctx;
    /* the service: deliver to the contacts (deliver.h) on a thread of its
     * own, with these settings (copied); NULL: no delivery */
    const struct notify_deliver_conf *deliver;
};

struct notify_round {
    size_t objects;   /* versions routed */
    size_t notified;  /* notifications recorded */
    size_t squelched; /* recorded as repeats */
    size_t withheld;  /* hits the owning org may not read (with asset-only: a note each) */
    int64_t cursor;   /* the highest seq routed */
    bool more;        /* the round was full: call again */
};

/* An index of the active declarations; *ret_pending (may be NULL) gets the
 * number awaiting approval. */
enum mrd_code notify_index_load(struct store *st, struct notify_index **ret, size_t *ret_pending,
                                struct mrd_err *err);

/* Declares asset (kind, text) for org; ret (may be NULL) gets the stored
 * declaration (status, overlaps). MRD_E_EXISTS: declared already. */
enum mrd_code notify_asset_declare(struct admin *adm, int64_t org, const char *kind,
                                   const char *text, struct store_asset *ret, struct mrd_err *err);

#define NOTIFY_IMPORT_LINE_MAX 1024 /* one line of an asset file */

/* One line of an asset file (`meridian asset import`, the console's
 * upload), split by notify_asset_line and declared for org as
 * notify_asset_declare does; a line that declares nothing: *ret_skip.
 * *ret_text points at the asset in line. MRD_E_TOOBIG: longer than
 * NOTIFY_IMPORT_LINE_MAX bytes. */
enum mrd_code notify_asset_import_line(struct admin *adm, int64_t org, char *line, bool *ret_skip,
                                       const char **ret_text, struct store_asset *ret,
                                       struct mrd_err *err);

/* Approves (STORE_ASSET_ACTIVE) or removes (STORE_ASSET_REMOVED)
 * declaration id, of org (0: any org); ret (may be NULL) gets it as it
 * was. Both are audit records (admin.h), like the declaration. */
enum mrd_code notify_asset_set(struct admin *adm, int64_t id, int64_t org, int status,
                               struct store_asset *ret, struct mrd_err *err);

/* One routing round (opts NULL: defaults). */
enum mrd_code notify_run_round(struct store *st, const struct notify_index *ix,
                               const struct notify_opts *opts, struct notify_round *ret,
                               struct mrd_err *err);

/* ---- the service (service.c) ----
 * `meridian serve` runs one: a thread that rebuilds the index when the
 * declarations change and routes what was stored every NOTIFY_TICK_MS,
 * so a notification is recorded within about a second of the object.
 * Each notification recorded (not squelched) goes to opts->on_notify, by
 * default a log line. */
#define NOTIFY_TICK_MS 250

struct notify_service;
enum mrd_code notify_service_start(struct store *st, const struct notify_opts *opts,
                                   struct notify_service **ret, struct mrd_err *err);
/* Stops the thread; NULL is a no-op. */
void notify_service_stop(struct notify_service *svc);

#endif
