/*
 * matchrun: a matching run over log files, the service `meridian match`,
 * serve's sensors and the console share.
 *
 * Does: loads the active indicators of STIX files or of the node's store
 * into a match/ index (plus the pattern evaluator for patterns the index
 * cannot express), scans files with worker threads (regular files, mapped
 * and cut into chunks) or as streams (stdin, pipes, --follow with rotation),
 * and writes hits (JSON lines), a per-file and per-indicator summary and
 * STIX sightings.
 * Does not: parse command lines, install signal handlers or choose exit
 * codes (cli/cli_match.c does); parse logs or look values up (match/ does,
 * purely); evaluate patterns (pattern/ does).
 * Output: the summary goes to opts->out (NULL: none), hits to
 * opts->hits_path, sightings to opts->sightings_path; every diagnostic (bad
 * indicator value, unreadable file, rotation) goes to the log callback as
 * one line, never to stderr directly.
 * Threads: matchrun_run() starts and joins its workers; a set is read-only
 * while a run uses it. Loading uses a second thread (page toucher, store
 * reader) and joins it before returning.
 * Errors: enum mrd_code + struct mrd_err.
 */
#ifndef MRD_MATCHRUN_H
#define MRD_MATCHRUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "match/match.h"

struct pat_prog;

#define MATCHRUN_MAX_INDICATOR_FILE ((size_t)4 << 30) /* one STIX file: 4 GiB */
#define MATCHRUN_MAX_WARNINGS 10 /* per kind of bad indicator, then only counted */

/* Where diagnostics go: one line each, without a trailing newline. */
struct matchrun_log {
    void (*fn)(void *ctx, const char *line);
    void *ctx;
};

/* What loading found, across every file and store loaded into a set. */
struct matchrun_load_stats {
    uint64_t active;      /* indicators in the index or the evaluator */
    uint64_t inactive;    /* revoked, not yet valid, expired */
    uint64_t unsupported; /* invalid patterns (named through the log) */
    uint64_t bad_values;  /* values the index refused, indicators without id or pattern */
    uint64_t not_stix;    /* pattern_type other than stix */
    uint64_t evaluated;   /* active ones left to the pattern evaluator */
};

/* The compiled index and the STIX id of each indicator number. */
struct matchrun_set {
    struct match_index *idx;
    char *idbuf;
    size_t idlen, idcap;
    uint64_t *idoff; /* offset << 8 | length */
    size_t n, cap;
    /* patterns the index cannot express, for the evaluator (eval.c) */
    struct pat_prog **progs;
    uint32_t *prog_ind;
    size_t nprogs, progs_cap;
    struct matchrun_load_stats stats;
};

void matchrun_set_init(struct matchrun_set *s);
void matchrun_set_release(struct matchrun_set *s);
enum mrd_code matchrun_set_begin(struct matchrun_set *s, struct mrd_err *err);
/* Appends an id; *ret is its indicator number. */
enum mrd_code matchrun_set_add_id(struct matchrun_set *s, const char *id, size_t n, uint32_t *ret,
                                  struct mrd_err *err);
/* Makes room for about n more indicators (ids and index keys). */
enum mrd_code matchrun_set_reserve(struct matchrun_set *s, size_t n, struct mrd_err *err);
/* Forgets the last id (its indicator added no value). Values it already
 * added stay in the index under its number, which then reports no id:
 * callers drop it only before adding values or when none were added. */
void matchrun_set_drop_last(struct matchrun_set *s);
/* The id of indicator i (NUL-terminated inside idbuf). */
const char *matchrun_set_id(const struct matchrun_set *s, uint32_t i);

/* Loads the indicators of one STIX file (bundle, envelope, list or object)
 * that are active at now into s: index values, or evaluator programs for
 * patterns the index cannot express. Bad values and invalid patterns are
 * counted in s->stats and the first MATCHRUN_MAX_WARNINGS of each kind
 * named through log; they never fail the load. */
enum mrd_code matchrun_load_file(struct matchrun_set *s, const char *path, int64_t now,
                                 const struct matchrun_log *log, struct mrd_err *err);

/* As matchrun_load_file for the latest version of every indicator stored
 * at data_dir (all collections, or the one whose id or ROOT/ALIAS is
 * collection). Reads with no policy filter: this is the node operator
 * matching the node's own data. */
enum mrd_code matchrun_load_store(struct matchrun_set *s, const char *data_dir,
                                  const char *collection, int64_t now,
                                  const struct matchrun_log *log, struct mrd_err *err);

/* Freezes the index: no loading after. */
enum mrd_code matchrun_set_build(struct matchrun_set *s, struct mrd_err *err);

/* Compiles pat for the evaluator under indicator number ind. MRD_E_PARSE
 * (message in err) when pattern/ rejects it. */
enum mrd_code matchrun_set_add_prog(struct matchrun_set *s, const char *pat, size_t n, uint32_t ind,
                                    struct mrd_err *err);
void matchrun_set_free_progs(struct matchrun_set *s);
/* Per-thread evaluation memory (a struct pat_scratch). */
void *matchrun_eval_scratch_new(void);
void matchrun_eval_scratch_free(void *scratch);
/* Evaluates every compiled pattern on the observation made of one line's
 * fields; writes the indicator numbers that match to out (at most max). */
size_t matchrun_eval_line(const struct matchrun_set *s, void *scratch, const struct match_field *f,
                          size_t nf, int64_t time_usec, uint32_t *out, size_t max);

/* What identifies "the same log" between runs: its first bytes. */
#define MATCHRUN_HEAD_MAX 4096
struct matchrun_head {
    uint8_t bytes[MATCHRUN_HEAD_MAX];
    size_t len; /* 0 when unknown (unreadable input) */
};

/* The hits of one indicator in one input. */
struct matchrun_sum {
    uint32_t ind;  /* indicator number (matchrun_set_id) */
    uint32_t file; /* index into opts->inputs */
    uint64_t count;
    int64_t first, last; /* log timestamps, valid when timed */
    bool timed;
};

/* What a run found, per input: for reporting sightings into the store. */
struct matchrun_result {
    struct matchrun_head *heads; /* one per input */
    size_t nfiles;
    struct matchrun_sum *sums;
    size_t nsums;
};

void matchrun_result_release(struct matchrun_result *res);

/* ---- reporting sightings into the store (report.c) ---- */

struct store;

#define MATCHRUN_ID_MAX 100     /* a STIX id we make */
#define MATCHRUN_REPORT_LOGS 64 /* logs one sighting keeps counts of; older ones are folded */

/* The sensor that reports: its identity and, for a first report, its name. */
struct matchrun_sensor {
    char identity[MATCHRUN_ID_MAX + 1];
    const char *name;
};

/* The deterministic identity of a reporting sensor: identity--UUIDv5 of
 * the node id and the org name. The same node and org always report as the
 * same identity. */
enum mrd_code matchrun_sensor_identity(const char *node_id, const char *org,
                                       char out[MATCHRUN_ID_MAX + 1], struct mrd_err *err);

/* Writes to path a STIX bundle of what a run adds to the sightings stored
 * in the collection (store key): the sensor's identity when the
 * collection does not have it yet, and for each indicator hit a sighting
 * with a deterministic id (UUIDv5 of identity and indicator): its first
 * version, or a new version (same created, later modified) whose per-log
 * counts (x_meridian_log_counts) have the logs of this run replaced, not
 * added; count, first_seen and last_seen are over all its logs. A log is
 * "the same" when its first bytes (res->heads) start with the bytes an
 * entry's digest covers, so a re-run over the same bytes writes no new
 * version and a grown log adds only its new lines. ret_changed (may be
 * NULL) gets the number of sightings written. res->sums is reordered. */
enum mrd_code matchrun_report_write(const struct matchrun_set *set, struct matchrun_result *res,
                                    struct store *st, int64_t collection,
                                    const struct matchrun_sensor *sensor, int64_t now,
                                    const char *path, size_t *ret_changed, struct mrd_err *err);

struct matchrun_opts {
    enum match_format fmt;
    struct match_reader maps; /* --map overrides only */
    unsigned flags;           /* MATCH_F_* */
    const char *hits_path;    /* NULL: none; "-": stdout */
    const char *sightings_path;
    const char *identity; /* identity--UUID of the sightings, or NULL: a new one named org */
    const char *org;
    bool follow; /* keep reading growing files until *stop */
    bool quiet;  /* no summary */
    unsigned threads;
    int64_t now;
    const char **inputs; /* "-" or none: stdin */
    size_t ninputs;
    FILE *out;                         /* the summary (and --follow hit lines); NULL: none */
    const volatile sig_atomic_t *stop; /* set (by a signal handler) to end --follow */
    struct matchrun_log log;
    struct matchrun_result *result; /* filled when not NULL (release it after) */
};

/* Scans the inputs and writes the outputs. Problems (an unreadable input,
 * an undetectable format, an output that cannot be written) are reported
 * through o->log as they happen and make the result MRD_E_IO; the other
 * inputs are still scanned. */
enum mrd_code matchrun_run(const struct matchrun_set *set, const struct matchrun_opts *o,
                           struct mrd_err *err);

#endif
