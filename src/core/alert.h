/*
 * alert: the STIX 2.1 shape every Meridian sensor alert shares.
 *
 * A sensor (bgp, dns) describes itself with an identity and a property
 * extension-definition, and each alert is an observed-data (STIX 2.1
 * §4.14) carrying the sensor's fields under that extension (§7.3) and
 * referring to SCOs whose ids follow §2.9 (UUIDv5 over the RFC 8785 form
 * of the ID contributing property), so every node names the same AS,
 * address or domain with the same id. Pure: the caller stores or prints
 * what is appended to its JSON array.
 */
#ifndef MRD_CORE_ALERT_H
#define MRD_CORE_ALERT_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"

#define MRD_ALERT_DEFS_TIME "2026-12-07T00:00:00.000Z" /* created/modified of the definitions */

struct mrd_alert_sensor {
    const char *identity_id, *identity_name, *identity_description;
    const char *ext_id, *ext_name, *ext_description, *ext_schema;
    /* The extension-definition's version and modified: a new schema text is
     * a new version of the same id (STIX 2.1 §3.6), so alerts made under an
     * older one keep their meaning. NULL: "1.0", MRD_ALERT_DEFS_TIME. */
    const char *ext_version, *ext_modified;
};

/* Appends the sensor's identity and extension-definition to objects. */
enum mrd_code mrd_alert_definitions(const struct mrd_alert_sensor *s, json_t *objects,
                                    struct mrd_err *err);

/* Appends the SCO {type, prop: value} to objects unless its id is a key of
 * seen (seen then gets it), and its id to refs unless already there.
 * value is consumed (NULL: out of memory). */
enum mrd_code mrd_alert_sco(json_t *objects, json_t *seen, const char *type, const char *prop,
                            json_t *value, json_t *refs, struct mrd_err *err);

/* Appends the observed-data "observed-data--<uuid>" created by the
 * sensor, observed from first to last (unix microseconds), with
 * object_refs refs and ext (borrowed; extension_type is added to a copy)
 * under the sensor's extension. */
enum mrd_code mrd_alert_observed(const struct mrd_alert_sensor *s, json_t *objects,
                                 const char *uuid, int64_t first_usec, int64_t last_usec,
                                 int64_t number, const json_t *refs, const json_t *ext,
                                 struct mrd_err *err);

#endif
