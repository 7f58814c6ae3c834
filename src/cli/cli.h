/*
 * cli: the verb table behind `meridian VERB ...` and what verbs share.
 *
 * Each verb lives in cli_<verb>.c and exports one `const struct cli_verb`.
 * main.c lists them; `meridian help VERB` prints the verb's usage, which is
 * also its manual page (docs/ repeats it). Exit codes: 0 success, 1 the
 * answer is "no" (invalid input, no match), 2 usage or I/O error.
 * cli/ is the only layer that prints and logs.
 */
#ifndef MRD_CLI_H
#define MRD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "policy/policy.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#define CLI_MAX_INPUT_FILE ((size_t)1024 * 1024 * 1024) /* one input file, 1 GiB */

struct cli_verb {
    const char *name;
    const char *summary; /* one line for `meridian help` */
    const char *usage;   /* the whole manual text for `meridian help VERB` */
    /* When set, builds the manual text instead (serve's options come from
     * the conf/ key table); usage is then ignored. */
    const char *(*usage_fn)(void);
    /* argv[0] is the verb name; getopt-style parsing starts at argv[1]. */
    int (*run)(int argc, char **argv);
};

/* Reads a whole file ("-" is stdin) into out, at most max bytes. */
enum mrd_code cli_read_file(const char *path, size_t max, struct mrd_buf *out, struct mrd_err *err);

/* Prints "meridian VERB: message" on stderr. */
void cli_errorf(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The verb's manual text (usage, or what usage_fn builds). */
const char *cli_verb_usage(const struct cli_verb *verb);

/* Prints (s, n) on stdout, escaped in full (core/str.h: no control
 * character, bidi control or invalid UTF-8 from outside reaches the
 * terminal), then a newline. */
void cli_print_escaped(const char *s, size_t n);

/* Prints j on stdout as JSON (json_dumps flags) and a newline, with every
 * non-ASCII character and DEL as a \u escape: the same JSON value, but no
 * string from outside reaches the terminal raw. MRD_E_NOMEM when it cannot
 * be formatted. */
enum mrd_code cli_print_json(const json_t *j, size_t flags);

/* The end of a listing verb: rc is the listing's result (err its message).
 * On success with all (a JSON array the rows were appended to; NULL for
 * text output) prints {"key": all} indented. Frees all; returns the exit
 * status (CLI_EXIT_USAGE after printing the error). */
int cli_print_list(const char *verb, enum mrd_code rc, const struct mrd_err *err, json_t *all,
                   const char *key);

/* Progress of a long import or export on a terminal: "VERB: N UNIT, R/s"
 * and, with a known total, "of T, ETA S s", on one line of stderr at most
 * four times a second. Silent when stderr is not a terminal. */
struct cli_progress {
    const char *verb, *unit;
    bool on;
    uint64_t total; /* 0: unknown */
    int64_t t0, last;
    bool shown;
};
void cli_progress_init(struct cli_progress *p, const char *verb, const char *unit, uint64_t total);
void cli_progress_tick(struct cli_progress *p, uint64_t done);
/* The same for a file read as a stream: "N UNIT, R/s" and, when the
 * file's size is known (total_bytes > 0), how much of it is read and the
 * ETA that the byte rate gives. */
void cli_progress_stream(struct cli_progress *p, uint64_t done, uint64_t bytes,
                         uint64_t total_bytes);
/* Clears the line (when one was shown). */
void cli_progress_end(struct cli_progress *p);

/* Prints the verb's usage on stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes a sensor's alerts (objects: the definitions, observed-data and
 * SCOs of core/alert.h) as a STIX 2.1 bundle to path ("-": stdout): the
 * observed-data marked tlp, everything else TLP:CLEAR. Prints the error
 * as "meridian VERB: ..." and returns CLI_EXIT_USAGE on failure. */
int cli_write_alert_bundle(const char *verb, json_t *objects, const char *path,
                           enum policy_tlp tlp);

#endif
