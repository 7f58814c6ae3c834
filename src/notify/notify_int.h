/*
 * notify_int.h: what route.c and stix.c share (not a public header).
 *
 * stix.c turns a notification into the STIX object the constituent pulls
 * from its own collection (docs/notify.md, "Notifications as STIX"): it
 * finds or creates that collection, publishes the node's and the org's
 * identities in it, and builds, marks and signs each object. It never
 * decides who may read what (route.c asks policy_may_read) and never
 * commits: the objects ride in store_notifications_add's transaction.
 * One struct notify__stix per routing round, used by one thread.
 */
#ifndef MRD_NOTIFY_INT_H
#define MRD_NOTIFY_INT_H

#include "core/buf.h"
#include "notify/notify.h"

#define NOTIFY__ORG_CACHE 32 /* orgs whose collection a round remembers */

/* An org's early-warning collection, as a round found it. */
struct notify__org {
    int64_t org;
    int64_t collection;
    char identity[NOTIFY_STIX_ID_MAX + 1]; /* the org's identity (where_sighted_refs) */
};

struct notify__stix {
    struct store *st;
    const struct fed_trust *trust;
    char node_id[64];
    int64_t own; /* the own org's key: the creator of every notification */
    char own_name[STORE_NAME_MAX + 1];
    char identity[NOTIFY_STIX_ID_MAX + 1]; /* the node's identity (created_by_ref) */
    bool ready;
    struct notify__org orgs[NOTIFY__ORG_CACHE];
    size_t n_orgs, next;
};

/* One notification's STIX form, kept until its batch is stored. */
struct notify__slot {
    struct store_object_in in;
    struct mrd_buf body;
    char id[NOTIFY_STIX_ID_MAX + 1];
    char type[16]; /* "sighting", "note", "identity" */
    char signer[STORE_SIGNER_MAX + 1];
    int64_t recipient;
};

/* What the notification is about, beyond its store row. */
struct notify__finding {
    const char *sighted; /* for a sighting input: the indicator it sights; else NULL */
    uint8_t asset_kind;  /* enum notify_akind */
    bool withheld;       /* the org may not read the object: name only its asset */
};

/* Reads the node id and the own org (once per round). */
enum mrd_code notify__stix_init(struct notify__stix *s, struct store *st,
                                const struct fed_trust *trust, struct mrd_err *err);

/* The early-warning collection of org, created (with read grants for org
 * and the own org, an audit record) on first need; the node's and the
 * org's identities are published in it. */
enum mrd_code notify__stix_org(struct notify__stix *s, int64_t org, const struct notify__org **ret,
                               struct mrd_err *err);

/* Builds n's STIX form into slot (n->created_usec is its time) and points
 * n->stix at it. */
enum mrd_code notify__stix_build(struct notify__stix *s, const struct notify__org *o,
                                 struct store_notification *n, const struct notify__finding *f,
                                 struct notify__slot *slot, struct mrd_err *err);

#endif
