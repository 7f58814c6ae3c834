/*
 * sensor: the sensors that run inside `meridian serve`.
 *
 * The DNS sensor (src/dns/) runs one check round every `interval`
 * seconds of its configuration, on a thread of its own, and stores its
 * findings as STIX alerts in a chosen collection with a chosen TLP through
 * the one import pipeline (feed.h): signed with the node key, recorded in
 * the ledger, pulled by peers under the normal rules. Open findings are
 * carried from round to round in memory, so an alert keeps its id while it
 * lasts (each round is a new version, modified = last_seen) and an outage
 * that ends is stored once more as outage-end.
 * Not here: the detectors (dns.h), printing and logging (cli/).
 */
#ifndef MRD_SENSOR_H
#define MRD_SENSOR_H

#include <jansson.h>

#include "core/err.h"
#include "policy/policy.h"

struct store;

/* Marks a sensor's STIX alerts (core/alert.h) for sharing: every
 * observed-data with tlp, everything else (the sensor's identity and
 * extension-definition, the SCOs: public facts shared by alerts of every
 * level) TLP:CLEAR, so one object never comes with two markings. */
enum mrd_code sensor_alerts_mark(json_t *objects, enum policy_tlp tlp, struct mrd_err *err);

#define SENSOR_DNS_MAX_FILE ((size_t)64 * 1024 * 1024) /* the configuration or the baseline */

struct sensor_dns_opts {
    const char *config_path;   /* `meridian dns` configuration (docs/dns.md) */
    const char *baseline_path; /* what `meridian dns baseline` wrote */
    const char *collection;    /* id or alias of the collection for the alerts */
    enum policy_tlp tlp;
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

#endif
