/*
 * match_run: the I/O side of `meridian match` (cli/ only): the indicator
 * set (index + STIX ids), scanning files with worker threads or as
 * streams, and writing hits, the summary and sightings.
 * Prints: yes (this is cli/). Threads: match_run() starts and joins them.
 */
#ifndef MRD_CLI_MATCH_RUN_H
#define MRD_CLI_MATCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "match/match.h"

struct pat_prog;

/* The compiled index and the STIX id of each indicator number. */
struct match_set {
    struct match_index *idx;
    char *idbuf;
    size_t idlen, idcap;
    uint64_t *idoff; /* offset << 8 | length */
    size_t n, cap;
    /* patterns the index cannot express, for the evaluator (match_eval.c) */
    struct pat_prog **progs;
    uint32_t *prog_ind;
    size_t nprogs, progs_cap;
};

void match_set_init(struct match_set *s);
void match_set_release(struct match_set *s);
enum mrd_code match_set_begin(struct match_set *s, struct mrd_err *err);
/* Appends an id; *ret is its indicator number. */
enum mrd_code match_set_add_id(struct match_set *s, const char *id, size_t n, uint32_t *ret,
                               struct mrd_err *err);
/* Makes room for about n more indicators (ids and index keys). */
enum mrd_code match_set_reserve(struct match_set *s, size_t n, struct mrd_err *err);
/* Forgets the last id (its indicator added no value). Values it already
 * added stay in the index under its number, which then reports no id:
 * callers drop it only before adding values or when none were added. */
void match_set_drop_last(struct match_set *s);
/* The id of indicator i (NUL-terminated inside idbuf). */
const char *match_set_id(const struct match_set *s, uint32_t i);

/* Compiles pat for the evaluator under indicator number ind. MRD_E_PARSE
 * (message in err) when pattern/ rejects it. */
enum mrd_code match_set_add_prog(struct match_set *s, const char *pat, size_t n, uint32_t ind,
                                 struct mrd_err *err);
void match_set_free_progs(struct match_set *s);
/* Per-thread evaluation memory (a struct pat_scratch). */
void *match_eval_scratch_new(void);
void match_eval_scratch_free(void *scratch);
/* Evaluates every compiled pattern on the observation made of one line's
 * fields; writes the indicator numbers that match to out (at most max). */
size_t match_eval_line(const struct match_set *s, void *scratch, const struct match_field *f,
                       size_t nf, int64_t time_usec, uint32_t *out, size_t max);

struct match_opts {
    enum match_format fmt;
    struct match_reader maps; /* --map overrides only */
    unsigned flags;
    const char *hits_path;
    const char *sightings_path;
    const char *identity;
    const char *org;
    const char *collection;
    bool follow;
    bool quiet;
    unsigned threads;
    int64_t now;
    const char **inputs;
    size_t ninputs;
};

/* Scans the inputs and writes the outputs; returns a CLI exit code. */
int match_run(const struct match_set *set, const struct match_opts *o);

/* Walks the latest version of every indicator stored at data_dir (all
 * collections, or the one whose id is collection) and calls cb for each,
 * as match_stix_each() does for a file. */
enum mrd_code match_load_store(const char *data_dir, const char *collection, char *scratch,
                               match_stix_fn cb, void *ctx, struct mrd_err *err);

#endif
