/*
 * stix: the STIX 2.1 validator that guards every door data comes in by
 * (TAXII POST, `meridian import`, federation pull, `meridian validate`).
 *
 * Does: checks already-parsed JSON (jansson values from mrd_json_parse, which
 * has enforced I-JSON: UTF-8, no duplicate names, depth and size limits)
 * against the MUST rules of STIX 2.1 (items S1–S47, see docs/validate.md): identifier
 * syntax and type prefix, timestamps and their ordering, required and
 * forbidden properties per object type, versioning properties, the canonical
 * TLP 1.0 / TLP 2.0 marking definitions, granular marking selectors,
 * custom-content naming, `extensions`, reference target types, non-empty
 * lists and dictionaries, enumerations. SHOULD rules (open vocabularies,
 * x_ prefixes, UUID versions, deterministic SCO ids...) give warnings, which
 * STIX_STRICT turns into errors. Indicator patterns of `pattern_type: "stix"`
 * are checked by pattern/ when it is built in.
 * Does not: read files or sockets, print or log, parse JSON text, decide
 * TLP policy (policy/), store anything, or compare an object with earlier
 * versions held elsewhere (versioning across documents is store/'s job; only
 * what one object or one document shows is checked here).
 *
 * Verdict: a run that returns MRD_OK has *checked* the input; the input is
 * valid when stix_report_errors() is 0. A non-MRD_OK code means the check
 * itself could not finish (MRD_E_NOMEM, MRD_E_INVAL for a NULL argument) and
 * says nothing about the input.
 *
 * Findings: each has a severity, a stable rule id (docs/validate.md lists
 * them with their item number, see docs/validate.md), a JSON path ("$" is the value passed in:
 * the document, or the object for stix_validate_object), the spec section,
 * and a message saying what to change. At most STIX_MAX_FINDINGS are kept;
 * the counts stay exact past that.
 *
 * Ownership: the report owns its findings; the `rule` and `section` strings
 * are static. Inputs are borrowed and never modified.
 * Threading: no global state; one report per thread.
 * Spec: STIX 2.1 Errata 01 (cite as "STIX 2.1 §x"); TLP 2.0 from the OASIS
 * cti-stix-common-objects extension definition.
 */
#ifndef MRD_STIX_STIX_H
#define MRD_STIX_STIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Largest document `meridian validate` and importers should hand us (the
 * JSON parse limit they pass to mrd_json_parse). */
#define STIX_MAX_DOCUMENT ((size_t)512 * 1024 * 1024)
/* Findings kept per report; later ones are only counted. */
#define STIX_MAX_FINDINGS 1000
/* Bytes (with NUL) of a finding's JSON path and message; longer ones are
 * truncated, marked with "...". */
#define STIX_PATH_MAX 192
#define STIX_MSG_MAX 256
/* Bytes (with NUL) a formatted finding line needs at most. */
#define STIX_LINE_MAX (STIX_PATH_MAX + STIX_MSG_MAX + 96)

enum stix_severity {
    STIX_ERROR = 1,   /* breaks a MUST: the input is invalid */
    STIX_WARNING = 2, /* breaks a SHOULD; an error under STIX_STRICT */
};

/* Flags for the stix_validate_* functions (bitwise OR). */
enum {
    STIX_STRICT = 1u << 0,         /* SHOULD-level findings are errors */
    STIX_NO_WARNINGS = 1u << 1,    /* skip SHOULD-level checks (ignored with STIX_STRICT) */
    STIX_NO_PATTERN = 1u << 2,     /* do not parse indicator patterns */
    STIX_NO_SCO_IDCHECK = 1u << 3, /* skip the deterministic SCO id (UUIDv5) check */
};

/* What stix_validate_document found at the top level. */
enum stix_doc_kind {
    STIX_DOC_UNKNOWN = 0, /* not an object or array: nothing else checked */
    STIX_DOC_BUNDLE,      /* {"type": "bundle", ...} */
    STIX_DOC_OBJECT,      /* one STIX object */
    STIX_DOC_ENVELOPE,    /* a TAXII 2.1 envelope (TAXII §3.7): no "type" */
    STIX_DOC_LIST,        /* a JSON array of objects */
};

struct stix_finding {
    enum stix_severity severity; /* STIX_ERROR or STIX_WARNING, after STIX_STRICT */
    const char *rule;            /* stable id, e.g. "id-format" (docs/validate.md) */
    const char *section;         /* e.g. "STIX 2.1 §3.2" */
    long object;                 /* index in the document's object list, -1 if none */
    char path[STIX_PATH_MAX];    /* e.g. "$.objects[3].created" */
    char msg[STIX_MSG_MAX];      /* lowercase, no final period */
};

struct stix_report {
    struct stix_finding *findings; /* the first nfindings findings (heap) */
    size_t nfindings;              /* <= STIX_MAX_FINDINGS */
    size_t cap;
    size_t errors;   /* exact count, including ones not kept */
    size_t warnings; /* exact count, including ones not kept */
    size_t objects;  /* STIX objects checked */
    enum stix_doc_kind kind;
};

/* Prepares an empty report (no allocation yet). */
void stix_report_init(struct stix_report *rep);

/* Frees the findings; the report is empty and reusable afterwards.
 * NULL-safe. */
void stix_report_release(struct stix_report *rep);

/* Empties the report for another run but keeps its memory. */
void stix_report_reset(struct stix_report *rep);

/* Error and warning counts (exact, even past STIX_MAX_FINDINGS). */
size_t stix_report_errors(const struct stix_report *rep);
size_t stix_report_warnings(const struct stix_report *rep);

/* Errors recorded for one object index of the last document run (only the
 * kept findings are counted, so this is exact while the report is not full;
 * callers that need per-object verdicts on large documents should validate
 * object by object with stix_validate_object). */
size_t stix_report_object_errors(const struct stix_report *rep, long object);

/* Checks one STIX object (SDO, SRO, SCO, marking-definition,
 * language-content, extension-definition, or a custom object) on its own:
 * "$" in paths is obj. Rules that need other objects (ref targets that are
 * not given by the id's prefix, granular selectors are checked against obj
 * itself) use what the object shows. Findings are appended to rep, so one
 * report may collect several runs.
 * Returns MRD_OK when the check ran (see stix_report_errors for the
 * verdict), MRD_E_INVAL if obj or rep is NULL, MRD_E_NOMEM. */
enum mrd_code stix_validate_object(const json_t *obj, unsigned flags, struct stix_report *rep,
                                   struct mrd_err *err);

/* Checks a whole document: a bundle (STIX 2.1 §8), a TAXII envelope
 * (TAXII §3.7: an object without "type", with optional "objects", "more",
 * "next"), a single object, or a JSON array of objects. Each object is
 * checked as by stix_validate_object (paths are "$.objects[i]..." or
 * "$[i]..."), and then across the document: duplicate (id, modified)
 * pairs, marking definitions that the document defines and references, and
 * references whose targets are present. Sets rep->kind and rep->objects.
 * Returns as stix_validate_object. */
enum mrd_code stix_validate_document(const json_t *doc, unsigned flags, struct stix_report *rep,
                                     struct mrd_err *err);

/* A document read as a stream (core/jstream.h), one object at a time,
 * with the findings stix_validate_document would give (paths
 * "$.objects[i]..." or "$[i]..."; the document's own findings come last).
 * The rules across objects (versions of one id, a UUID reused across
 * types) keep about 100 bytes per object and stop, with a warning, past
 * STIX_STREAM_MAX_TRACKED objects, so memory stays bounded.
 *   stix_stream_begin     top_list: the document is a JSON list
 *   stix_stream_object    each element, index from 0
 *   stix_stream_not_json  an element that did not parse (its message)
 *   stix_stream_end       the top-level members (NULL for a list), n the
 *                         number of elements; sets rep->kind
 * A document without a list to stream goes to stix_validate_document. */
#define STIX_STREAM_MAX_TRACKED ((size_t)2000000)
/* The largest object of a streamed list (the store keeps at most as much). */
#define STIX_STREAM_MAX_OBJECT ((size_t)16 * 1024 * 1024)
struct stix_stream;
enum mrd_code stix_stream_begin(unsigned flags, bool top_list, struct stix_report *rep,
                                struct stix_stream **ret, struct mrd_err *err);
/* A hint (say, from the file's size and the objects read so far): room for the summaries of this
 * many objects (at most STIX_STREAM_EXPECT_MAX) is made at once, not by doubling (each doubling
 * copies the summaries and rebuilds the tables: a seventh of a 100,000-object validation). Findings
 * do not depend on it. */
#define STIX_STREAM_EXPECT_MAX ((size_t)1 << 20)
void stix_stream_expect(struct stix_stream *s, size_t objects);
enum mrd_code stix_stream_object(struct stix_stream *s, size_t index, const json_t *obj,
                                 struct mrd_err *err);
enum mrd_code stix_stream_not_json(struct stix_stream *s, size_t index, const char *msg,
                                   struct mrd_err *err);
enum mrd_code stix_stream_end(struct stix_report *rep, const json_t *head, size_t n, unsigned flags,
                              struct mrd_err *err);
void stix_stream_free(struct stix_stream *s);

/* An element of the streamed list as JSON text (at byte offset of the
 * input), parsed and checked as by stix_stream_object; a text that is not
 * JSON is a json-syntax error "not JSON (the object at byte N): why".
 * With stix_stream_threads(s, n > 1) (before the first text), the texts are
 * copied into batches of at most STIX_STREAM_BATCH_OBJECTS objects or
 * STIX_STREAM_BATCH_BYTES bytes (two batches at a time at most) and parsed
 * and checked on n threads while the caller reads on; their findings reach
 * the report in input order, exactly as with one thread, as batches are
 * settled, the last ones by stix_stream_flush (before stix_stream_end).
 * Out of memory stops the run (MRD_E_NOMEM). */
#define STIX_STREAM_MAX_THREADS 4
#define STIX_STREAM_BATCH_OBJECTS ((size_t)4096)
#define STIX_STREAM_BATCH_BYTES ((size_t)8 * 1024 * 1024)
void stix_stream_threads(struct stix_stream *s, unsigned n);
enum mrd_code stix_stream_text(struct stix_stream *s, size_t index, uint64_t offset,
                               const char *text, size_t len, struct mrd_err *err);
enum mrd_code stix_stream_flush(struct stix_stream *s, struct mrd_err *err);

/* What kind of STIX object a type name denotes (STIX 2.1 §2.x, §3.1). */
enum stix_class {
    STIX_CLASS_CUSTOM = 0, /* not a STIX 2.1 type (custom or unknown) */
    STIX_CLASS_SDO,        /* attack-pattern ... vulnerability */
    STIX_CLASS_SRO,        /* relationship, sighting */
    STIX_CLASS_SCO,        /* artifact ... x509-certificate */
    STIX_CLASS_META,       /* marking-definition, language-content, extension-definition */
    STIX_CLASS_BUNDLE,     /* bundle */
};

/* Classifies the type name (type, len). */
enum stix_class stix_type_class(const char *type, size_t len);

/* "bundle", "object", "envelope", "list" or "unknown". */
const char *stix_doc_kind_str(enum stix_doc_kind k);

/* "error" or "warning". */
const char *stix_severity_str(enum stix_severity s);

/* Writes "PATH: RULE (SECTION): message" (no newline) into out, always
 * NUL-terminated when size > 0. Returns the length the whole line needs, so
 * truncation is `ret >= size`; STIX_LINE_MAX always suffices. */
size_t stix_finding_format(const struct stix_finding *f, char *out, size_t size);

/* Builds {"valid": bool, "kind": "bundle"|..., "objects": n, "errors": n,
 * "warnings": n, "truncated": bool, "findings": [{"severity", "rule",
 * "section", "path", "message", "object"}...]} for rep. *ret owns a new
 * reference on success. MRD_E_NOMEM on allocation failure. */
enum mrd_code stix_report_json(const struct stix_report *rep, json_t **ret, struct mrd_err *err);

#endif
