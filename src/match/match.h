/*
 * match: the compiled indicator index and the log-line scanner core.
 *
 * Does: turns indicator values (IPv4/IPv6 addresses and CIDR ranges, domain
 * names, URLs, e-mail addresses, MD5/SHA-1/SHA-256/SHA-512 hashes) into an
 * in-memory index (docs/design.md §8): one open-addressing hash table over
 * normalised bytes with a small bit-filter in front of it, longest-prefix
 * buckets for CIDR ranges (v4 and v6), and label-suffix lookup for domains.
 * Parses log lines field by field (nginx/Apache combined, Zeek TSV, CSV with
 * a header row, JSON lines) without copying and reports every (line,
 * indicator) hit through a callback. Also: a streaming reader for STIX
 * bundles/envelopes that pulls out indicators without building a DOM, and
 * an extractor for the simple pattern shapes the index can express.
 * Does not: read files, start threads or print (matchrun/ does);
 * evaluate complex patterns (pattern/ does).
 * Owns: the index copies every value it is given; scanned buffers are
 * borrowed and hits point into them.
 * Threading: an index is built by one thread; once match_index_build()
 * returned it is read-only and may be scanned by many threads at once.
 * Errors: enum mrd_code + struct mrd_err (docs/design.md, Conventions). Never logs.
 * Domain semantics follow issue #5: exact by default, label-suffix with
 * MATCH_F_SUBDOMAINS; hosts case-insensitive, trailing dot ignored; URLs
 * compared after RFC 3986 §6.2.2/§6.2.3 scheme/host case and port
 * normalisation.
 */
#ifndef MRD_MATCH_H
#define MRD_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MATCH_MAX_VALUE 4096             /* longest indicator value or log field we look up */
#define MATCH_MAX_LINE ((size_t)8 << 20) /* longer lines are skipped and counted */
#define MATCH_MAX_PATTERN 65536          /* longest pattern text the extractor reads */
#define MATCH_MAX_LINE_HITS 64           /* distinct indicators reported per line */
#define MATCH_MAX_COLUMNS 256            /* CSV/Zeek columns we map */
#define MATCH_MAX_INDICATORS 50000000u   /* indicator numbers are uint32 */

/* What an indicator value is (its STIX object path). */
enum match_type {
    MATCH_T_NONE = 0,
    MATCH_T_IPV4,   /* address or CIDR */
    MATCH_T_IPV6,   /* address or CIDR, any textual form */
    MATCH_T_DOMAIN, /* domain-name:value */
    MATCH_T_URL,    /* url:value */
    MATCH_T_EMAIL,  /* email-addr:value */
    MATCH_T_MD5,
    MATCH_T_SHA1,
    MATCH_T_SHA256,
    MATCH_T_SHA512,
    MATCH_T_ID, /* the indicator's own STIX id: tools that name it (EVE alert metadata) */
    MATCH_T_COUNT
};

/* What a log field holds; decides which lookups a value gets. */
enum match_obs {
    MATCH_O_NONE = 0,
    MATCH_O_IP,       /* v4 or v6 address */
    MATCH_O_HOST,     /* address or domain name, optional :port */
    MATCH_O_HOSTLIST, /* comma-separated hosts (Zeek answers) */
    MATCH_O_URL,      /* absolute URL: URL lookup plus its host */
    MATCH_O_EMAIL,
    MATCH_O_HASH, /* MD5/SHA-1/SHA-256/SHA-512 by length */
    MATCH_O_TIME, /* not looked up: gives the line's timestamp */
    MATCH_O_ID,   /* a STIX indicator id (exported rule metadata, Zeek intel sources) */
};

/* Scan flags. */
#define MATCH_F_SUBDOMAINS 0x1u /* a domain indicator also matches its subdomains */

struct match_index;

/* Creates an empty index. */
enum mrd_code match_index_new(struct match_index **ret, struct mrd_err *err);
void match_index_free(struct match_index *idx);

/* Adds one value for indicator number ind (the caller's numbering). The
 * value is normalised: IPs parsed (CIDR accepted for IPv4/IPv6), hosts
 * lower-cased without a trailing dot, URLs normalised, hashes hex-checked.
 * MRD_E_INVAL with a message naming the value when it is not a valid value
 * of its type. Adding the same value twice (for two indicators) is fine.
 * Keys are inserted a few adds late (to prefetch their slots), so running
 * out of memory may be reported by a later add or by match_index_build(). */
enum mrd_code match_index_add(struct match_index *idx, enum match_type type, const char *v,
                              size_t n, uint32_t ind, struct mrd_err *err);

/* Makes room for about nkeys keys so loading does not rehash (a hint;
 * adding more still works). */
enum mrd_code match_index_reserve(struct match_index *idx, size_t nkeys, struct mrd_err *err);

/* Freezes the index: builds the filters and CIDR tables. No adds after. */
enum mrd_code match_index_build(struct match_index *idx, struct mrd_err *err);

/* Number of distinct keys and of (key, indicator) postings. */
size_t match_index_size(const struct match_index *idx);

/* Looks up one observed value of kind obs; writes up to max indicator
 * numbers to out and returns how many matched (capped at max). Pure. */
size_t match_index_lookup(const struct match_index *idx, enum match_obs obs, const char *v,
                          size_t n, unsigned flags, uint32_t *out, size_t max);

/* Opaque keys (keys.c, private matching): n bytes compared exactly, in
 * the same table and filter as the values above. */
enum mrd_code match_index_add_opaque(struct match_index *idx, const void *k, size_t n, uint32_t ind,
                                     struct mrd_err *err);
size_t match_index_lookup_opaque(const struct match_index *idx, const void *k, size_t n,
                                 uint32_t *out, size_t max);

/* ---- exact keys (keys.c) ----
 * A value's key is one type byte then the value normalised as the index
 * normalises it (addresses as bytes; hosts, e-mail addresses and hashes in
 * lower case; URLs normalised). Two values meet in match_index_lookup
 * exactly when they share a key, CIDR ranges and subdomain suffixes
 * apart, which have none: the keys are what private matching compares
 * without showing the values (docs/privacy.md). */
#define MATCH_KEY_MAX (MATCH_MAX_VALUE + 8)

/* The key of an indicator value of type. MRD_E_INVAL names a malformed
 * value; MRD_E_UNSUPP for a CIDR range or an id (no exact key). */
enum mrd_code match_value_key(enum match_type type, const char *v, size_t n,
                              char out[MATCH_KEY_MAX], size_t *ret_len, struct mrd_err *err);

/* Called with each key of an observed value (valid during the call). */
typedef void (*match_key_fn)(void *ctx, const char *key, size_t n);

/* Every key match_index_lookup would probe for an observed value of kind
 * obs (a URL gives its key and its host's; a host list each host's). */
void match_obs_keys(enum match_obs obs, const char *v, size_t n, match_key_fn cb, void *ctx);

/* ---- normalisation helpers (exposed for tests and the CLI) ---- */

/* Parses dotted-quad IPv4 (no leading zeros beyond one digit group of 3). */
bool match_ipv4_parse(const char *s, size_t n, uint32_t *ret);
/* Parses any RFC 4291 §2.2 textual IPv6 form, incl. embedded IPv4 and a
 * zone index (%eth0, ignored). */
bool match_ipv6_parse(const char *s, size_t n, uint8_t ret[16]);
/* Writes the normalised URL (scheme and host lower-case, default port
 * elided, empty path as "/") into out; returns its length or 0 when s is not
 * an absolute http(s)/ftp-style URL. host/hostlen (may be NULL) receive the
 * host inside s (brackets stripped for IPv6). */
size_t match_url_normalize(const char *s, size_t n, char *out, size_t outmax, const char **host,
                           size_t *hostlen);

/* ---- log formats ---- */

enum match_format {
    MATCH_FMT_AUTO = 0,
    MATCH_FMT_COMBINED, /* nginx/Apache combined access log */
    MATCH_FMT_ZEEK,     /* Zeek TSV with #fields header (dns.log, conn.log, ...) */
    MATCH_FMT_CSV,      /* CSV with a header row */
    MATCH_FMT_JSONL,    /* one JSON object per line */
    MATCH_FMT_EVE,      /* Suricata EVE JSON: alert, dns, http, tls, fileinfo, flow events */
};

/* How a Zeek/CSV column got its kind (what the summary reports). */
enum match_col_how {
    MATCH_COL_UNKNOWN = 0, /* not scanned */
    MATCH_COL_NAMED,       /* a known field name, or a name pattern (CSV: "file_sha256") */
    MATCH_COL_MAPPED,      /* --map */
    MATCH_COL_SNIFFED,     /* CSV: its values in the first data rows */
};

#define MATCH_SNIFF_ROWS 20 /* CSV data rows whose values decide unnamed columns */

/* How to read one file: its format and, for Zeek/CSV, the column map. */
struct match_reader {
    enum match_format fmt;
    bool have_header; /* CSV/Zeek: a header was seen */
    char sep;         /* CSV/Zeek field separator */
    unsigned ncols;
    uint8_t col_obs[MATCH_MAX_COLUMNS];   /* enum match_obs per column */
    uint8_t looked_up[MATCH_MAX_COLUMNS]; /* the columns whose values are looked up, in order */
    unsigned nlooked_up;
    uint16_t col_name[MATCH_MAX_COLUMNS]; /* index into names[] */
    uint8_t col_how[MATCH_MAX_COLUMNS];   /* enum match_col_how per column */
    bool sniffed;                         /* CSV: unnamed columns were sniffed from data rows */
    int time_col;                         /* -1 when none */
    /* Zeek intel.log: seen.indicator, seen.indicator_type, sources (-1: not one) */
    int intel_ind_col, intel_type_col, intel_src_col;
    char names[4096]; /* NUL-separated column names */
    /* --map overrides: name=type pairs applied when a header is read */
    unsigned nmap;
    struct {
        char name[64];
        enum match_obs obs;
    } map[32];
};

/* Maps a field name ("src_ip", "dns.question.name", "id.resp_h") to the
 * observable kind it holds, case-insensitively; MATCH_O_NONE when unknown. */
enum match_obs match_field_obs(const char *name, size_t n);
/* A CSV column name's kind by its tokens (split at '_', '.', '-', ' ' and
 * lower/upper-case changes), the rightmost token that names a kind
 * winning: "file_sha256" and "SHA256Hash" are hashes, "src_ip_addr" an
 * address, "dst_host" a host, "request_url" a URL, "event_time" a time.
 * Exact names (match_field_obs) come first; MATCH_O_NONE when no token
 * names a kind. */
enum match_obs match_column_obs(const char *name, size_t n);

/* CSV: decides the kind of each column that has none yet from its values
 * in the first MATCH_SNIFF_ROWS data rows of buf[0..len) (which starts
 * after the header row): a column whose non-empty values are all IPv4/IPv6
 * addresses is read as ip, all domain names as host (addresses and domain
 * names mixed: host), all absolute URLs as url, all e-mail addresses as
 * email, all hex strings of 32/40/64/128 digits as hash. Columns with any
 * other value, or no value, stay unscanned. Runs once per reader (sets
 * r->sniffed); a no-op for other formats, before a header or without a
 * complete data row. Pure. */
void match_reader_sniff(struct match_reader *r, const char *buf, size_t len);

/* The name of column c of a Zeek/CSV reader ("" when unknown). */
const char *match_reader_column(const struct match_reader *r, unsigned c);

/* Parses a --map type word (ip, host, domain, url, email, hash, time, none). */
bool match_obs_parse(const char *s, size_t n, enum match_obs *ret);

/* The --map word of a kind ("ip", "host", "hosts", "url", "email", "hash",
 * "time", "none"). */
const char *match_obs_name(enum match_obs obs);

/* Guesses the format from the first bytes of a file. */
enum match_format match_format_detect(const char *buf, size_t len);
const char *match_format_name(enum match_format fmt);
bool match_format_parse(const char *s, enum match_format *ret);

/* Prepares a reader for fmt (not AUTO). */
void match_reader_init(struct match_reader *r, enum match_format fmt);
/* Adds a --map override "col=type"; MRD_E_INVAL when malformed or full. */
enum mrd_code match_reader_map(struct match_reader *r, const char *spec, struct mrd_err *err);

/* One hit: a field of a line matched an indicator. Offsets are relative to
 * the buffer given to match_scan(). */
struct match_hit {
    uint64_t line;    /* 0-based line index within the buffer */
    size_t line_off;  /* offset of the line's first byte */
    size_t value_off; /* the matched field value */
    size_t value_len;
    const char *field; /* static or reader-owned field name */
    uint32_t ind;      /* indicator number */
    int64_t time_usec; /* line timestamp, INT64_MIN when unknown */
};

struct match_stats {
    uint64_t lines;     /* physical lines seen */
    uint64_t header;    /* header/comment lines */
    uint64_t malformed; /* lines the reader could not parse (counted, skipped) */
    uint64_t too_long;  /* lines over MATCH_MAX_LINE (skipped) */
    uint64_t hits;      /* (line, indicator) hits reported */
    uint64_t lookups;   /* field values looked up */
};

/* Called once per (line, indicator). Return false to stop scanning. */
typedef bool (*match_hit_fn)(void *ctx, const struct match_hit *hit);

/* Scans buf[0..len): complete lines only. A final line without '\n' is
 * scanned too (the caller passes only complete data). Header/comment lines
 * update r (Zeek #fields, CSV header when !r->have_header). Returns false
 * when cb stopped the scan. Pure, allocation-free. */
bool match_scan(const struct match_index *idx, struct match_reader *r, const char *buf, size_t len,
                unsigned flags, match_hit_fn cb, void *ctx, struct match_stats *st);

/* One looked-up field of a parsed line, for the pattern evaluator. */
#define MATCH_MAX_LINE_FIELDS 32
struct match_field {
    enum match_obs obs;
    const char *v; /* inside the scanned buffer */
    size_t n;
    const char *field; /* valid during the callback */
};

/* Called once per line that parsed, with the fields looked up in it (at
 * most MATCH_MAX_LINE_FIELDS; JSON values that needed unescaping are left
 * out). Return false to stop scanning. */
typedef bool (*match_line_fn)(void *ctx, const struct match_hit *line,
                              const struct match_field *fields, size_t nfields);

/* As match_scan, and also calls on_line (when not NULL) for every parsed
 * line, so that patterns the index cannot express can be evaluated on an
 * observation built from the line. line->line, line_off and time_usec are
 * set; value fields and ind are not. */
bool match_scan_ex(const struct match_index *idx, struct match_reader *r, const char *buf,
                   size_t len, unsigned flags, match_hit_fn cb, void *ctx, match_line_fn on_line,
                   void *line_ctx, struct match_stats *st);

/* Extracts the timestamp of one line (nginx [..], Zeek ts, ISO 8601, epoch);
 * INT64_MIN when none. */
int64_t match_line_time(const struct match_reader *r, const char *line, size_t len);

/* Parses ISO 8601 / RFC 3339 ("2026-11-29T17:05:56.123Z", "+02:00"
 * offsets, space instead of T), epoch seconds with fraction, or the
 * combined log form "29/Nov/2026:17:05:56 +0000". INT64_MIN on failure. */
int64_t match_time_parse(const char *s, size_t n);

/* ---- indicators: STIX reading and simple-pattern extraction ---- */

/* The fields of one indicator object the index needs (borrowed pointers
 * into the scanned document; pattern is unescaped into a scratch buffer). */
struct match_stix_ind {
    const char *id;
    size_t id_len;
    const char *pattern;
    size_t pattern_len;
    const char *pattern_type; /* NULL when absent */
    size_t pattern_type_len;
    int64_t valid_from;  /* INT64_MIN when absent */
    int64_t valid_until; /* INT64_MAX when absent */
    bool revoked;
    size_t offset; /* byte offset of the object in the document */
    /* for exports (interop/): the name's string body as written (escapes
     * not decoded: name_esc), confidence (-1 when absent or not an
     * integer 0..100) and the raw JSON text of labels (NULL when absent) */
    const char *name;
    size_t name_len;
    bool name_esc;
    int confidence;
    const char *labels;
    size_t labels_len;
};

typedef enum mrd_code (*match_stix_fn)(void *ctx, const struct match_stix_ind *ind,
                                       struct mrd_err *err);

/* Walks a STIX bundle, TAXII envelope, array of objects or single object in
 * doc[0..len) and calls cb for every object of type "indicator". Other
 * objects are skipped without being parsed in depth. MRD_E_PARSE with the
 * byte offset on malformed JSON. Allocation-free apart from nothing: the
 * pattern is unescaped into scratch (MATCH_MAX_PATTERN bytes). */
enum mrd_code match_stix_each(const char *doc, size_t len, char *scratch, match_stix_fn cb,
                              void *ctx, struct mrd_err *err);

/* Called for each (type, value) pair of a simple pattern. */
typedef enum mrd_code (*match_pair_fn)(void *ctx, enum match_type type, const char *v, size_t n,
                                       struct mrd_err *err);

/* Extracts the (type, value) pairs of a pattern made only of equality / IN /
 * ISSUBSET comparisons on the supported object paths joined by OR (inside or
 * across observation expressions). MRD_E_UNSUPP for anything else (AND,
 * LIKE, MATCHES, qualifiers, other paths): such patterns need the
 * evaluator. MRD_E_PARSE on a malformed pattern (offset in the message).
 * The pairs are only reported once the whole pattern is known to be simple,
 * and values are unescaped into scratch (MATCH_MAX_PATTERN bytes). */
enum mrd_code match_pattern_pairs(const char *pat, size_t n, char *scratch, match_pair_fn cb,
                                  void *ctx, struct mrd_err *err);

#endif
