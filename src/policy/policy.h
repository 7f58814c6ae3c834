/*
 * policy: who may read which STIX object on this node (docs/design.md §5).
 *
 * Two things live here and nowhere else:
 *  - the effective TLP level of an object, from its marking references
 *    (TLP 1.0 and TLP 2.0 marking-definition ids are equivalent);
 *  - THE read decision, policy_may_read(). Every path that returns or sends
 *    objects (TAXII objects/object/manifest/versions, counts, paging tokens,
 *    error messages, export, sync, dashboard) asks it, row by row, and
 *    treats "no" as "does not exist".
 *
 * Pure: no I/O, no allocation, no global state; thread-safe. Never logs.
 * Not here: storing orgs and grants (store.h), HTTP status mapping (taxii.h).
 *
 * The decision table (reader must hold the read grant on the collection
 * being read, except anonymous/no-grant readers of a public collection,
 * who may read CLEAR only):
 *
 *   CLEAR/WHITE   every reader with the grant; anyone if the collection is
 *                 public (anonymous included)
 *   GREEN         own, constituents; partners only when the object's
 *                 community equals the community (API root) being read
 *   AMBER         own, constituents; partners only when the object was
 *                 created on this node (one hop) AND the community matches
 *   AMBER+STRICT  own; partners only when created on this node AND the
 *                 community matches; constituents never (TLP 2.0: the
 *                 recipient organisation only)
 *   RED           only the creator org and the orgs named as recipients
 *                 (grant still required); the relation gives nothing
 *
 * A writer-only copy (policy_object.writer_only) is readable by the org
 * that wrote it and nobody else, whatever its level.
 *
 * Two deliberate choices beyond the table, both in the safe direction:
 *  - the GREEN community condition is also applied to partners at AMBER and
 *    AMBER+STRICT, so a higher level never allows more than a lower one
 *    (tests check this monotonicity for every reader);
 *  - an anonymous reader never sees anything above CLEAR, and an org
 *    without a grant sees only CLEAR, and only in a public collection.
 */
#ifndef MRD_POLICY_H
#define MRD_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* TLP levels, ordered from least to most restrictive. The numeric values are
 * stored in the database (store.h): append-only, never renumber. */
enum policy_tlp {
    POLICY_TLP_CLEAR = 0, /* TLP 2.0 CLEAR = TLP 1.0 WHITE */
    POLICY_TLP_GREEN = 1,
    POLICY_TLP_AMBER = 2,
    POLICY_TLP_AMBER_STRICT = 3, /* TLP 2.0 only */
    POLICY_TLP_RED = 4,
};
#define POLICY_TLP_COUNT 5

/* An org's relation to this node (docs/design.md §5). Stored in the database:
 * append-only, never renumber. */
enum policy_relation {
    POLICY_REL_OWN = 0,         /* the team that runs the node */
    POLICY_REL_CONSTITUENT = 1, /* an org the team serves */
    POLICY_REL_PARTNER = 2,     /* another team / node */
};

/* The canonical marking-definition ids (testdata/stix-markings/). */
#define POLICY_TLP1_WHITE_ID "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define POLICY_TLP1_GREEN_ID "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define POLICY_TLP1_AMBER_ID "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define POLICY_TLP1_RED_ID "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define POLICY_TLP2_CLEAR_ID "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define POLICY_TLP2_GREEN_ID "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define POLICY_TLP2_AMBER_ID "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define POLICY_TLP2_AMBER_STRICT_ID "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define POLICY_TLP2_RED_ID "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

/* The reader: who asks, and through which collection. */
struct policy_reader {
    bool anonymous;                /* no authenticated org: org_id/relation ignored */
    int64_t org_id;                /* store org key (> 0) */
    enum policy_relation relation; /* of org_id to this node */
    bool has_read_grant;           /* org_id holds read on the collection being read */
    bool collection_public;        /* the collection is public (CLEAR to anyone) */
    const char *community;         /* API root name of the collection being read */
    size_t community_len;
};

/* What policy needs to know about one stored object version (store.h's
 * struct store_row carries exactly these columns). */
struct policy_object {
    enum policy_tlp tlp;   /* effective level, from policy_tlp_of_object() */
    bool local;            /* created on this node: see policy_origin_local() */
    int64_t creator_org;   /* store org key of the writer; 0 unknown */
    const char *community; /* API root the object belongs to (arrived in) */
    size_t community_len;
    const int64_t *recipients; /* RED recipients (org keys), may be NULL */
    size_t n_recipients;
    /* A copy this node does not hold as genuine (store.h: a version not
     * signed by the key that signs the object's others, a different copy of
     * a stored version): only the org that wrote it (creator_org) reads it,
     * so the writer reads back what it posted and nobody else is told. */
    bool writer_only;
};

/* THE read decision: true only when the table above allows r to read o.
 * Anything unexpected (out-of-range enum values, NULL community) denies.
 * r and o may not be NULL. */
bool policy_may_read(const struct policy_reader *r, const struct policy_object *o);

/* THE delete decision (TAXII DELETE, docs/taxii.md "Deleting objects"):
 * r may delete o only when it may read it, and o is its own (written by
 * r's org: creator_org) or r is the own org, which may delete anything.
 * A partner or constituent never deletes what another org wrote here (its
 * DELETE answers as for an absent object). r and o may not be NULL. */
bool policy_may_delete(const struct policy_reader *r, const struct policy_object *o);

/* Whether a read of o that policy_may_read allowed is recorded by the
 * access audit (audit/audit.h): TLP:AMBER, AMBER+STRICT and RED. Asked
 * right after the read decision, by the same paths, with the same row;
 * an out-of-range level counts as sensitive. */
bool policy_read_audited(const struct policy_object *o);

/* Whether an object written now counts as "created on this node": written
 * by an own or constituent org, and not received from a peer. Objects
 * written by partners or pulled by federation are not local. */
bool policy_origin_local(enum policy_relation writer, bool from_peer);

/* The TLP level named by a marking-definition id (TLP 1.0 or 2.0), as
 * (ptr, len), compared ASCII case-insensitively (an upper-case UUID is the
 * same UUID, RFC 4122 §3). Returns false for any other id (not a TLP
 * marking). */
bool policy_tlp_of_marking(const char *id, size_t len, enum policy_tlp *ret);

/* The effective TLP level of a STIX object (a JSON object): the most
 * restrictive TLP marking among object_marking_refs and the marking_ref of
 * every granular_markings entry; non-TLP markings are ignored; dflt when
 * there is no TLP marking at all (the collection default, GREEN unless
 * configured). Malformed marking properties are ignored here: the STIX
 * validator rejects them before objects reach the store. */
enum policy_tlp policy_tlp_of_object(const json_t *obj, enum policy_tlp dflt);

/* Forwarding carries bytes, not this node's collection settings: an object
 * whose level comes from a default arrives unmarked at a peer, which would
 * apply its own default (a public collection's CLEAR). So (issue 17):
 *  - an object created here gets its level written in before it is signed,
 *    whatever the default (CLEAR and GREEN included);
 *  - an object received (from a peer, a partner's POST, a partner import)
 *    without a TLP marking is never more open than GREEN within its
 *    community: its level is max(GREEN, dflt), and when it is unsigned that
 *    level is written into it too, so it leaves this node carrying it; a
 *    signed one cannot be changed (its signature would break) and relies on
 *    every receiver applying the same GREEN floor.
 * policy_tlp_ingest() decides: ret_tlp is the level to store; *ret_write is
 * true when policy_tlp_mark(obj, *ret_tlp) must be applied first. Marking
 * definitions are never marked. created_here: written by an own or
 * constituent org and not signed by anyone else; may_change: obj carries no
 * signature that a change would break. */
void policy_tlp_ingest(const json_t *obj, bool created_here, bool may_change, enum policy_tlp dflt,
                       enum policy_tlp *ret_tlp, bool *ret_write);

/* Appends the TLP 2.0 marking-definition id of level to obj's
 * object_marking_refs (creating the list). MRD_E_NOMEM on allocation
 * failure, obj unchanged. */
enum mrd_code policy_tlp_mark(json_t *obj, enum policy_tlp level, struct mrd_err *err);

/* The TLP 2.0 marking-definition id of level (POLICY_TLP2_*_ID); NULL
 * when out of range. */
const char *policy_tlp2_id(enum policy_tlp level);

/* Lower-case names: "clear", "green", "amber", "amber+strict", "red";
 * "unknown" for an out-of-range value. Never NULL. */
const char *policy_tlp_name(enum policy_tlp tlp);

/* Parses a TLP name (case-insensitive; "white" = "clear"; "amber-strict"
 * accepted as well). MRD_E_INVAL names the bad value. */
enum mrd_code policy_tlp_parse(const char *s, size_t len, enum policy_tlp *ret,
                               struct mrd_err *err);

/* "own", "constituent", "partner"; "unknown" when out of range. */
const char *policy_relation_name(enum policy_relation rel);

/* Parses "own", "constituent" or "partner". MRD_E_INVAL otherwise. */
enum mrd_code policy_relation_parse(const char *s, size_t len, enum policy_relation *ret,
                                    struct mrd_err *err);

#endif
