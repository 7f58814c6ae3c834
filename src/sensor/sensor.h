/*
 * sensor: the sensors that run inside `meridian serve`: the live routing
 * sensor (BMP, docs/bgp.md "Live sensor: BMP") and the DNS sensor
 * (docs/dns.md).
 *
 * BMP: listens for BMP (RFC 7854) from routers and collectors on a TCP
 * address, decodes their streams (bgp_bmp_*), feeds every route of every
 * session into one detector (bgp_detect_*: hijacks against the watch
 * configuration with the ROV verdict of the loaded VRPs, leaks against the
 * AS relationships, group outages), and stores each alert that appears or
 * changes as a new version of one STIX observed-data (bgp_event_stix).
 *
 * DNS: runs one check round (src/dns/) every `interval` seconds of its
 * configuration. Open findings are carried from round to round in memory,
 * so an alert keeps its id while it lasts (each round is a new version,
 * modified = last_seen) and an outage that ends is stored once more as
 * outage-end.
 *
 * Both store through the import pipeline every write path uses
 * (feed_import_stix: validated, signed with the node key, TLP recorded,
 * ledger and early warning fed), so alerts federate like any other object.
 * Does not: decide TLP at read time (policy.h does), print or log (cli/).
 * Threading: one thread per sensor; the TAXII server's threads are never
 * blocked by it (the store serialises writes).
 * Errors: enum mrd_code + struct mrd_err at start; a BMP session's bad
 * input closes that session with a log line and nothing else.
 */
#ifndef MRD_SENSOR_SENSOR_H
#define MRD_SENSOR_SENSOR_H

#include <stdint.h>

#include <jansson.h>

#include "bgp/bgp.h"
#include "core/err.h"
#include "dns/dns.h"
#include "fed/fed.h"
#include "policy/policy.h"
#include "store/store.h"

/* Bytes buffered per session: two of the longest BMP messages, so one
 * whole message always fits behind a partly read one. */
#define SENSOR_BMP_SESSION_BUF (2 * (size_t)BGP_BMP_MAX_MSG)
#define SENSOR_BMP_TICK_MS 200 /* wake-up period: idle checks, stop */

/* What the routing sensor knows, for the DNS sensor of the same node
 * (docs/dns.md, "With the routing sensor"): every route of every BMP
 * session (bgp_rib) and the routing alerts open now. The BMP thread feeds
 * it; any thread reads it through sensor_view_routing. Thread-safe. */
struct sensor_view;

enum mrd_code sensor_view_new(struct sensor_view **ret, struct mrd_err *err);
void sensor_view_free(struct sensor_view *v);

/* Feeds one route (bgp_rib_route). */
enum mrd_code sensor_view_route(struct sensor_view *v, const struct bgp_route *r,
                                struct mrd_err *err);

/* Records an alert that appeared or changed: open, or ended (forgotten). */
void sensor_view_event(struct sensor_view *v, const struct bgp_event *ev);

/* The view as the DNS sensor's struct dns_routing (its ctx is v). */
struct dns_routing sensor_view_routing(struct sensor_view *v);

struct sensor_bmp_config {
    const char *host; /* numeric address to listen on */
    uint16_t port;    /* 0: any free port (sensor_bmp_port tells) */
    unsigned max_sessions;
    unsigned idle_timeout_s; /* a session silent this long is closed */
    /* Detection inputs, borrowed, each may be NULL (that detector is off). */
    const struct bgp_vrps *vrps;
    const struct bgp_config *cfg;
    const struct bgp_asrel *rel;
    /* Fed with every route and alert when set (borrowed, may be NULL). */
    struct sensor_view *view;
    /* Where alerts go, borrowed; trust signs them (may be NULL). */
    struct store *st;
    const struct store_collection *coll;
    const struct store_org *org;
    const struct fed_trust *trust;
    enum policy_tlp tlp;
};

struct sensor_bmp;

/* Binds the address and starts the thread. Everything in c is borrowed
 * and must outlive the sensor. */
enum mrd_code sensor_bmp_start(const struct sensor_bmp_config *c, struct sensor_bmp **ret,
                               struct mrd_err *err);

/* The port bound (useful with port 0). */
uint16_t sensor_bmp_port(const struct sensor_bmp *s);

/* Stops the thread, closes every session. NULL-safe. */
void sensor_bmp_stop(struct sensor_bmp *s);

#define SENSOR_BMP_MAX_SYS_NAME 255   /* bytes of a router's sysName kept for the status */
#define SENSOR_BMP_MAX_SYS_DESCR 1023 /* bytes of its sysDescr kept */

/* The listener's state for the console (docs/bgp.md, "Live sensor"):
 * {"listen": "HOST:PORT", "max_sessions": N, "sessions": [{"router":
 * "ADDR:PORT", "sys_name", "sys_descr" (from the Initiation message,
 * printable ASCII, null when not sent), "connected", "last_message"
 * (RFC 3339 or null), "idle_seconds", "peers_up" (peers up now),
 * "peer_ups", "peer_downs", "messages", "route_monitoring", "bytes"
 * (counts since the session opened)}]}. Open sessions only. Safe to call
 * from any thread while the sensor runs; NULL when out of memory. */
json_t *sensor_bmp_status(struct sensor_bmp *s);

/* Marks routing-alert objects (bgp_event_stix, bgp_stix_definitions) for
 * sharing: each observed-data with tlp; the AS and address objects, the
 * sensor's identity and the extension definition, public routing facts
 * shared by alerts of every level, with TLP:CLEAR, so that the same object
 * never comes with two markings. */
enum mrd_code sensor_alerts_mark(json_t *objects, enum policy_tlp tlp, struct mrd_err *err);

#define SENSOR_DNS_MAX_FILE ((size_t)64 * 1024 * 1024) /* the configuration or the baseline */

struct sensor_dns_opts {
    const char *config_path;   /* `meridian dns` configuration (docs/dns.md) */
    const char *baseline_path; /* what `meridian dns baseline` wrote */
    const char *collection;    /* id or alias of the collection for the alerts */
    enum policy_tlp tlp;
    /* the routing sensor of the node (sensor_view_routing), borrowed, may
     * be NULL: the ASN excuse and the correlation of findings use it; its
     * alerts are linked only when routing_tlp is no stricter than tlp */
    const struct dns_routing *routing;
    enum policy_tlp routing_tlp;
};

struct sensor_dns;

/* Reads and checks the configuration and baseline, finds the collection
 * and the node's own org, loads the node key of data_dir, and starts the
 * thread; the first round runs at once. cb (may be NULL) gets one line per
 * round (findings, objects stored, or the error), holding names from
 * outside: escape before printing. */
enum mrd_code sensor_dns_start(const char *data_dir, struct store *st,
                               const struct sensor_dns_opts *o,
                               void (*cb)(void *ctx, const char *line), void *ctx,
                               struct sensor_dns **ret, struct mrd_err *err);

/* Stops the thread after the round in progress. NULL-safe. */
void sensor_dns_stop(struct sensor_dns *s);

/* The sensor's status for the console's DNS page (dash.h dns_status; ctx
 * is the struct sensor_dns): {"zones": [watched zones], "vantages":
 * [names], "interval", "last_round": the last round's time or null,
 * "last_result": its log line or null}. Thread-safe; the caller owns it. */
json_t *sensor_dns_status(void *ctx);

#endif
