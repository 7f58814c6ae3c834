/*
 * interop: Meridian's indicators in the formats other tools read
 * (docs/interop.md, issue 12).
 *
 * Does: exports a collection's indicators as Suricata rules (plus hash
 * lists for filemd5/filesha1/filesha256), Zeek Intel framework files,
 * plain value lists, an nftables set file, an ipset restore file, CSV of
 * bare values, JSON lines and STIX 2.1 bundles, Snort 3 rules, and
 * Suricata's form for large sets (datasets for names, iprep for
 * addresses). The value formats select active indicators (valid_from <=
 * now < valid_until, not revoked) unless told otherwise, and take the
 * values out of simple patterns with match/'s extractor
 * (match_pattern_pairs): an indicator whose pattern no format construct
 * expresses is counted and named, never dropped in silence.
 * Export is a read like any other: every row goes through the caller's
 * visible() callback, which the CLI and the HTTP feeds implement with
 * policy_may_read() for the reading org, so a file made for a partner holds
 * exactly what that partner could fetch over TAXII.
 * Does not: open files or sockets (output goes to a sink callback), print
 * or log, decide TLP (policy.h), store anything.
 *
 * The writers (interop_writer_*) are pure: they turn one indicator and its
 * values into text and are unit-tested alone.
 * Threading: one export per thread; nothing global.
 * Errors: enum mrd_code + struct mrd_err; MRD_E_IO from the sink is
 * returned as it is.
 */
#ifndef MRD_INTEROP_H
#define MRD_INTEROP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/uuid.h"
#include "match/match.h"
#include "policy/policy.h"
#include "privacy/privacy.h"
#include "store/store.h"

/* Suricata/Snort sids: INTEROP_SID_BASE + a hash of the indicator id (and
 * the rule's protocol) modulo INTEROP_SID_RANGE; a collision inside one
 * export moves the later rule to the next free sid. */
#define INTEROP_SID_BASE 1000000000u
#define INTEROP_SID_RANGE 1000000000u
#define INTEROP_FLUSH ((size_t)256 * 1024)   /* bytes buffered per output before the sink */
#define INTEROP_MAX_OUTPUT ((size_t)1 << 40) /* bound of one output buffer (never reached) */
#define INTEROP_MAX_SAMPLES 5                /* inexpressible ids named in the summary */
#define INTEROP_MAX_LABELS 16                /* --label filters */

enum interop_format {
    INTEROP_F_STIX = 0,    /* one STIX 2.1 bundle of the stored objects */
    INTEROP_F_JSONL,       /* one stored object per line */
    INTEROP_F_CSV,         /* bare values: type,value,indicator_id,tlp,confidence,... */
    INTEROP_F_SURICATA,    /* Suricata 7 rules (+ hash list files) */
    INTEROP_F_ZEEK,        /* Zeek Intel framework file */
    INTEROP_F_LIST,        /* one value per line, one file per value kind */
    INTEROP_F_NFT,         /* nftables set file (addresses and CIDRs) */
    INTEROP_F_IPSET,       /* ipset restore file (addresses and CIDRs) */
    INTEROP_F_MISP,        /* MISP feed: manifest.json, hashes.csv, one event file */
    INTEROP_F_SNORT,       /* Snort 3 rules */
    INTEROP_F_SURICATA_DS, /* Suricata 7 datasets + iprep for large sets (a directory) */
    INTEROP_F_COUNT
};

/* Value kinds for --type on the value formats (bit i = 1 << i). */
enum interop_kind {
    INTEROP_K_IP = 0, /* IPv4/IPv6 addresses and CIDR ranges */
    INTEROP_K_DOMAIN,
    INTEROP_K_URL,
    INTEROP_K_EMAIL,
    INTEROP_K_HASH, /* MD5, SHA-1, SHA-256, SHA-512 */
    INTEROP_K_COUNT
};

/* "stix", "jsonl", "csv", "suricata", "zeek", "list", "nft", "ipset", "misp",
 * "snort", "suricata-datasets". */
const char *interop_format_name(enum interop_format f);
bool interop_format_parse(const char *s, enum interop_format *ret);
/* True for the formats that write several files (an output directory). */
bool interop_format_is_multi(enum interop_format f);
/* True for the formats that carry whole STIX objects (stix, jsonl). */
bool interop_format_is_stix(enum interop_format f);
bool interop_kind_parse(const char *s, enum interop_kind *ret);
enum interop_kind interop_kind_of(enum match_type t);

/* Where the text goes. file is NULL for the main output, else the name of
 * a side file (a plain file name the module chose: "meridian-md5.txt").
 * Called in order; an error stops the export and is returned. */
struct interop_sink {
    enum mrd_code (*write)(void *ctx, const char *file, const char *p, size_t n,
                           struct mrd_err *err);
    void *ctx;
};

/* Which objects an export selects. */
struct audit_batch;

struct interop_filter {
    bool all;              /* value formats: also inactive indicators */
    bool active;           /* stix/jsonl: only active indicators */
    bool latest;           /* stix/jsonl: newest version only (value formats always) */
    bool subdomains;       /* domains also match their subdomains (suricata dotprefix) */
    unsigned kinds;        /* value formats: bit per enum interop_kind; 0 = all */
    const char *stix_type; /* stix/jsonl: only this STIX type; NULL = all */
    bool has_tlp_max;      /* only objects at or below tlp_max */
    enum policy_tlp tlp_max;
    int min_confidence;                     /* -1: no filter; else objects with confidence >= it */
    const char *labels[INTEROP_MAX_LABELS]; /* an object must carry one of them */
    size_t n_labels;
    int64_t since; /* date_added after this (usec); STORE_TIME_NONE = none */
    int64_t now;   /* usec; the "active" reference time */
    /* outbound minimisation (privacy.h) applied to each object after the
     * read decision, for scope; NULL: objects as stored. The value formats
     * take their values from the minimised object: a withheld object or a
     * dropped pattern gives none. */
    const struct privacy_policy *privacy;
    struct privacy_scope scope;
    /* the access audit (audit.h): each object exported is noted, and the
     * batch flushed before interop_export returns; NULL: none */
    struct audit_batch *audit;
    /* called every INTEROP_PROGRESS_ROWS rows read (may be NULL) */
    void (*progress)(void *ctx, uint64_t rows);
    void *progress_ctx;
};
#define INTEROP_PROGRESS_ROWS 4096

/* What an export did. */
struct interop_export_stats {
    uint64_t objects;       /* rows read that the reader may see and the filter kept */
    uint64_t values;        /* values written (value formats) */
    uint64_t rules;         /* Suricata or Snort rules */
    uint64_t inactive;      /* indicators skipped as not active */
    uint64_t inexpressible; /* indicators with no value this format can express */
    char samples[INTEROP_MAX_SAMPLES][STORE_STIX_ID_MAX + 1]; /* the first of them */
    char why[INTEROP_MAX_SAMPLES][96];
    size_t n_samples;
};

/* Exports collection coll of st in format fmt to sink. visible(ctx, row)
 * is the read decision (policy_may_read of the reader); it must not be
 * NULL. collection_id is written into rule metadata. */
enum mrd_code interop_export(struct store *st, const struct store_collection *coll,
                             enum interop_format fmt, const struct interop_filter *flt,
                             bool (*visible)(void *ctx, const struct store_row *row), void *ctx,
                             const struct interop_sink *sink, struct interop_export_stats *ret,
                             struct mrd_err *err);

/* ---- the writers (pure) ---- */

/* One indicator as the writers see it (borrowed). */
struct interop_ind {
    const char *id;
    size_t id_len;
    const char *name; /* NULL when the object has none */
    size_t name_len;
    int64_t modified_usec; /* the version */
    int64_t valid_from;    /* STORE_TIME_NONE when absent */
    int64_t valid_until;   /* STORE_TIME_NONE when absent */
    int confidence;        /* -1 when absent */
    enum policy_tlp tlp;
    const json_t *labels; /* a list of strings, or NULL */
    const char *collection_id;
};

/* One value taken out of a pattern. */
struct interop_value {
    enum match_type type;
    const char *v;
    size_t n;
};

struct interop_writer;

/* A writer for fmt (not stix/jsonl). subdomains: see interop_filter. */
enum mrd_code interop_writer_new(enum interop_format fmt, bool subdomains,
                                 struct interop_writer **ret, struct mrd_err *err);
void interop_writer_free(struct interop_writer *w);
/* The text before the first indicator (headers). */
enum mrd_code interop_writer_begin(struct interop_writer *w, struct mrd_err *err);
/* Adds one indicator's values. *ret_written counts the values the format
 * expressed (0: the indicator is inexpressible here; *ret_why says why). */
enum mrd_code interop_writer_add(struct interop_writer *w, const struct interop_ind *ind,
                                 const struct interop_value *vals, size_t n, size_t *ret_written,
                                 const char **ret_why, struct mrd_err *err);
/* The text after the last indicator (sets closed, hash-list rules). */
enum mrd_code interop_writer_end(struct interop_writer *w, struct mrd_err *err);
/* Hands buffered text to sink: everything when all, else only outputs over
 * INTEROP_FLUSH bytes. */
enum mrd_code interop_writer_flush(struct interop_writer *w, const struct interop_sink *sink,
                                   bool all, struct mrd_err *err);
/* Suricata or Snort rules written so far. */
uint64_t interop_writer_rules(const struct interop_writer *w);

/* ---- MISP (misp.c, pure) ---- */

struct interop_misp_stats {
    size_t events;      /* events converted */
    size_t attributes;  /* attributes seen (objects' attributes included) */
    size_t indicators;  /* to_ids attributes that became indicators */
    size_t observables; /* other attributes that became SCOs */
    size_t galaxies;    /* galaxy clusters that became SDOs */
    size_t sightings;   /* MISP sightings that became STIX sightings */
    size_t skipped;     /* what has no STIX form (types, galaxies, false positives) */
};

/* Whether doc is a MISP event: {"Event": {...}} (a single event file, a
 * feed's event file) or a REST search answer {"response": [{"Event"...}]}. */
bool interop_misp_is_event(const json_t *doc);

/* Appends the STIX 2.1 objects of one MISP event (doc is {"Event": {...}}
 * or the bare event) to the JSON array out: an identity for Orgc, an
 * indicator per to_ids attribute (id indicator--<attribute uuid>, created =
 * modified = valid_from = its timestamp), an SCO per other attribute
 * (deterministic id), an SDO per known galaxy cluster, a sighting per MISP
 * sighting of an indicator, and the report for the event (report--<event
 * uuid>) referring to all of them. tlp:* tags become TLP 2.0 markings
 * (attribute tags add to the event's; the strictest wins), PAP:* tags
 * statement markings, other tags labels. MRD_E_INVALID names what is wrong
 * when the event lacks its uuid, info or timestamp; attributes that do not
 * map are counted in st->skipped. */
enum mrd_code interop_misp_event(const json_t *doc, json_t *out, struct interop_misp_stats *st,
                                 struct mrd_err *err);

/* ---- plain-text and CSV value lists (ioc.c, pure) ---- */

#define INTEROP_CSV_MAX_FIELDS 256

/* One value of a list, ready to become an indicator. */
struct interop_ioc {
    enum match_type type;
    char value[MATCH_MAX_VALUE + 1]; /* refanged, trimmed; lower-case domains and hashes */
    size_t value_len;
    struct mrd_buf pattern;          /* the STIX pattern; init with MATCH_MAX_PATTERN */
    char uuid[MRD_UUID_STR_LEN + 1]; /* v5 of the pattern: indicator--<uuid> */
};

/* Reads one value: trims blanks and quotes, refangs ("hxxp://",
 * "evil[.]com"), classifies it (kind INTEROP_K_COUNT: whatever it is;
 * else it must be that kind) and writes its pattern and id into ret.
 * MRD_E_INVALID (message says what the value is not) or MRD_E_TOOBIG. */
enum mrd_code interop_ioc_value(const char *raw, size_t n, enum interop_kind kind,
                                struct interop_ioc *ret, struct mrd_err *err);

/* Splits one CSV record (RFC 4180; no line breaks inside fields) on sep.
 * Quoted fields are unescaped into scratch (scap bytes). Fills f/fn with
 * up to max fields and returns their number, or (size_t)-1 when the
 * record is malformed (unterminated quote, text after a closing quote) or
 * has more than max fields. */
size_t interop_csv_split(const char *line, size_t n, char sep, char *scratch, size_t scap,
                         const char **f, size_t *fn, size_t max);

/* ---- repair of real-world STIX (repair.c, pure) ---- */

/* Fixes in place the well-known defects of public STIX 2.1 that make an
 * object invalid (docs/interop.md, "Repair"): empty lists and empty
 * references are dropped, second-precision timestamps get milliseconds,
 * a 'modified' before 'created' becomes 'created'. Appends a description
 * of each change to log ("; "-separated; log may be NULL) and counts them
 * in *ret_changes (0: obj untouched). MRD_E_NOMEM, MRD_E_TOOBIG (log). */
enum mrd_code interop_repair(json_t *obj, struct mrd_buf *log, size_t *ret_changes,
                             struct mrd_err *err);

/* The stable sid of (indicator id, protocol tag) before collisions. */
uint32_t interop_sid(const char *id, size_t id_len, const char *tag);

#endif
