/*
 * stix_int: what the files of src/stix/ share and nobody else sees.
 *
 * A validation run carries one struct stix_ctx: the flags, the report, the
 * JSON path as a stack of segments (rendered only when a finding is made,
 * so the happy path costs a pointer store per level), and the object being
 * checked. Findings go through stix__finding(); SHOULD-level ones through
 * stix__warn(), which honours STIX_STRICT and STIX_NO_WARNINGS.
 * The per-type property tables live in schema.c; check.c walks an object
 * against them; markings.c holds the TLP and granular-marking rules;
 * document.c the document-level rules; scoid.c the deterministic SCO ids.
 */
#ifndef MRD_STIX_STIX_INT_H
#define MRD_STIX_STIX_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "stix/stix.h"

/* Deepest JSON path we track; deeper values share the last segment (the
 * JSON layer already caps nesting at MRD_JSON_MAX_DEPTH). */
#define STIX_PATH_DEPTH 80

/* Section strings used by several files. */
#define SEC_ID "STIX 2.1 §2.9"
#define SEC_TS "STIX 2.1 §2.16"
#define SEC_COMMON "STIX 2.1 §3.2"
#define SEC_NAMING "STIX 2.1 §3.1"
#define SEC_VERSIONING "STIX 2.1 §3.6"
#define SEC_EXT "STIX 2.1 §3.10"
#define SEC_LIST "STIX 2.1 §2.8"
#define SEC_DICT "STIX 2.1 §2.7"
#define SEC_CUSTOM "STIX 2.1 §11"
#define SEC_MARKING "STIX 2.1 §7.2"
#define SEC_GRANULAR "STIX 2.1 §7.2.3"
#define SEC_TLP1 "STIX 2.1 §7.2.1.4"
#define SEC_TLP2 "TLP 2.0 extension (cti-stix-common-objects)"
#define SEC_BUNDLE "STIX 2.1 §8"
#define SEC_ENVELOPE "TAXII 2.1 §3.7"

/* jansson's iteration and comparison functions take non-const values even
 * when they only read; this is the one place we drop the qualifier. */
static inline json_t *stix__mut(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

struct stix_seg {
    const char *key; /* NULL: an array index */
    size_t index;
};

struct stix_ctx {
    unsigned flags;
    struct stix_report *rep;
    struct mrd_err *err;
    enum mrd_code rc; /* MRD_E_NOMEM once a finding could not be stored */
    long object;      /* index of the current object in the document, or -1 */
    struct stix_seg segs[STIX_PATH_DEPTH];
    size_t depth;
    /* The deprecated observed-data "objects" dictionary being walked (§4.14):
     * while set, references are keys of it, and objects have no id. */
    const json_t *container;
    /* Reused for the canonical names of SCO ids (scoid.c). */
    struct mrd_buf scratch;
};

/* Largest canonical SCO name hashed for the deterministic id check; SCOs
 * with bigger contributing values (a huge email body) are not checked. */
#define STIX_SCOID_MAX_NAME ((size_t)1024 * 1024)

/* A run's context: no findings yet, at "$", no object (document.c);
 * finish frees its scratch and says whether a finding was lost. */
void stix__ctx_init(struct stix_ctx *c, unsigned flags, struct stix_report *rep,
                    struct mrd_err *err);
enum mrd_code stix__ctx_finish(struct stix_ctx *c);

/* Adds n findings made on another report (the first of theirs kept) and
 * their exact counts to rep, as if made on rep itself (stream.c). */
enum mrd_code stix__report_take(struct stix_report *rep, const struct stix_finding *f, size_t n,
                                size_t errors, size_t warnings, struct mrd_err *err);

/* Path stack. Pushes past STIX_PATH_DEPTH are counted but not recorded. */
static inline void stix__push_key(struct stix_ctx *c, const char *key)
{
    if (c->depth < STIX_PATH_DEPTH) {
        c->segs[c->depth].key = key;
        c->segs[c->depth].index = 0;
    }
    c->depth++;
}

static inline void stix__push_index(struct stix_ctx *c, size_t i)
{
    if (c->depth < STIX_PATH_DEPTH) {
        c->segs[c->depth].key = NULL;
        c->segs[c->depth].index = i;
    }
    c->depth++;
}

static inline void stix__pop(struct stix_ctx *c)
{
    c->depth--;
}

/* Records an error-level finding at the current path. */
void stix__error(struct stix_ctx *c, const char *rule, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a SHOULD-level finding: a warning, an error under STIX_STRICT,
 * nothing under STIX_NO_WARNINGS. */
void stix__warn(struct stix_ctx *c, const char *rule, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* As stix__error/stix__warn at the current path plus one key. */
void stix__error_at(struct stix_ctx *c, const char *key, const char *rule, const char *section,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void stix__warn_at(struct stix_ctx *c, const char *key, const char *rule, const char *section,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline bool stix__warnings_on(const struct stix_ctx *c)
{
    return (c->flags & STIX_STRICT) != 0 || (c->flags & STIX_NO_WARNINGS) == 0;
}

/* ---- property tables (schema.c) ---- */

enum stix_pk {
    PK_ANY = 0,  /* anything but null */
    PK_STR,      /* string */
    PK_TS,       /* STIX timestamp */
    PK_REF,      /* identifier; prop.arg = allowed targets */
    PK_REFS,     /* non-empty list of identifiers; prop.arg = targets */
    PK_INT,      /* integer in [min, max] */
    PK_NUM,      /* number in [min, max] */
    PK_BOOL,     /* true or false */
    PK_STRS,     /* non-empty list of strings */
    PK_OV,       /* string, should come from vocab */
    PK_OVS,      /* non-empty list of strings, each should come from vocab */
    PK_ENUM,     /* string that must come from vocab */
    PK_ENUMS,    /* non-empty list of strings from vocab */
    PK_KCPS,     /* non-empty list of kill-chain-phase */
    PK_EXTREFS,  /* non-empty list of external-reference */
    PK_HASHES,   /* hashes dictionary */
    PK_DICT,     /* non-empty dictionary */
    PK_BIN,      /* base64 string */
    PK_HEX,      /* hex string */
    PK_OBJ,      /* object checked against prop.sub */
    PK_OBJS,     /* non-empty list of objects checked against prop.sub */
    PK_LANG,     /* RFC 5646 tag */
    PK_SPECVER,  /* "2.1" */
    PK_MARKREFS, /* object_marking_refs */
    PK_GRANULAR, /* granular_markings (checked in markings.c) */
    PK_EXTS,     /* extensions dictionary */
    PK_LANGS,    /* non-empty list of RFC 5646 tags */
};

enum {
    P_REQ = 1u << 0,    /* required */
    P_FORBID = 1u << 1, /* must not appear */
    P_RANGE = 1u << 2,  /* min/max apply */
};

struct stix_prop {
    const char *name;
    unsigned char kind;  /* enum stix_pk */
    unsigned char flags; /* P_* */
    const char *arg;     /* PK_REF(S): targets; PK_OV/ENUM: vocabulary name */
    const char *const *vocab;
    double min, max;             /* PK_INT / PK_NUM bounds, with P_RANGE */
    const struct stix_prop *sub; /* PK_OBJ(S): properties, ends with name NULL */
    bool closed;                 /* PK_OBJ(S): no other properties allowed */
};

struct stix_type {
    const char *name;
    enum stix_class cls;
    const char *section;
    const struct stix_prop *props; /* ends with name NULL */
    void (*extra)(struct stix_ctx *c, const json_t *obj);
    const char *const *exts; /* predefined extension names allowed (SCOs) */
};

/* The type table entry for name, or NULL for a custom / unknown type. */
const struct stix_type *stix__type_find(const char *name, size_t len);
/* Common properties for a class (SDO/SRO share; SCO; marking-definition,
 * language-content and extension-definition have their own). */
const struct stix_prop *stix__common_props(enum stix_class cls, const char *type);
/* Looks a property up in a NULL-terminated table. */
const struct stix_prop *stix__prop_find(const struct stix_prop *t, const char *name);
/* A predefined extension's property table (e.g. "ntfs-ext"), or NULL. */
const struct stix_prop *stix__ext_props(const char *name);
/* true when s is in the NULL-terminated vocabulary. */
bool stix__in_vocab(const char *const *vocab, const char *s);

/* ---- values (check.c) ---- */

/* Parses an identifier "type--uuid". On success *ret_tlen is the length of
 * the type part and *ret_uuid_version the UUID version digit; on failure
 * why is set to a static reason. */
bool stix__id_parse(const char *s, size_t n, size_t *ret_tlen, int *ret_version, bool *ret_upper,
                    const char **why);
/* A type name: [a-z0-9-], starts with a letter, no "--", not ending in
 * '-', 3..250 bytes. */
bool stix__type_name_ok(const char *s, size_t n);
/* A property name (§3.1, §11.1): a-z, 0-9, '_', 3-250, starting with a letter. */
bool stix__prop_name_ok(const char *k, size_t n);
/* RFC 5646 language tag, syntax only (no registry look-up). */
bool stix__lang_tag_ok(const char *s, size_t n);
/* Checks that v is a STIX timestamp; reports and returns false if not.
 * min_frac is the number of fraction digits required (3 for created). */
bool stix__check_ts(struct stix_ctx *c, const json_t *v, int min_frac, const char *section,
                    struct mrd_time *ret);
/* Checks v as an identifier reference whose type must satisfy targets
 * (see schema.c: a space-separated list of type names and the classes
 * "SDO", "SCO", "SRO", "ANY"). */
void stix__check_ref(struct stix_ctx *c, const json_t *v, const char *targets, const char *section);

/* ---- object walk (check.c) ---- */

/* Checks one object at the current path. */
void stix__check_object(struct stix_ctx *c, const json_t *obj);

/* ---- markings (markings.c) ---- */

/* Rules of the marking-definition type itself: definition/extensions,
 * statement, TLP 1.0 / 2.0 canonical objects, no self-marking. */
void stix__check_marking_definition(struct stix_ctx *c, const json_t *obj);
/* granular_markings: structure, and every selector resolves within obj. */
void stix__check_granular(struct stix_ctx *c, const json_t *obj, const json_t *list);
/* For a marking-definition id: 1 TLP 1.0, 2 TLP 2.0, 0 neither. */
int stix__tlp_version(const char *id, size_t n);

/* ---- the IANA character set registry (charsets.c) ---- */

/* True when name is a name or alias in the registry (case-insensitive). */
bool stix__charset_known(const char *name);

/* ---- deterministic SCO ids (scoid.c) ---- */

/* Warns when obj's id is not the UUIDv5 the spec's recipe gives. Does
 * nothing when the recipe does not apply or the helpers are not built. */
void stix__check_sco_id(struct stix_ctx *c, const json_t *obj, const char *type);

/* ---- pattern (check.c glue) ---- */
void stix__check_pattern(struct stix_ctx *c, const json_t *pattern);

#endif
