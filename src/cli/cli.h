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

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#define CLI_MAX_INPUT_FILE ((size_t)1024 * 1024 * 1024) /* one input file, 1 GiB */

struct cli_verb {
    const char *name;
    const char *summary; /* one line for `meridian help` */
    const char *usage;   /* the whole manual text for `meridian help VERB` */
    /* argv[0] is the verb name; getopt-style parsing starts at argv[1]. */
    int (*run)(int argc, char **argv);
};

/* Reads a whole file ("-" is stdin) into out, at most max bytes. */
enum mrd_code cli_read_file(const char *path, size_t max, struct mrd_buf *out, struct mrd_err *err);

/* Prints "meridian VERB: message" on stderr. */
void cli_errorf(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints (s, n) on stdout, escaped in full (core/str.h: no control
 * character, bidi control or invalid UTF-8 from outside reaches the
 * terminal), then a newline. */
void cli_print_escaped(const char *s, size_t n);

/* Prints j on stdout as JSON (json_dumps flags) and a newline, with every
 * non-ASCII character and DEL as a \u escape: the same JSON value, but no
 * string from outside reaches the terminal raw. MRD_E_NOMEM when it cannot
 * be formatted. */
enum mrd_code cli_print_json(const json_t *j, size_t flags);

/* Prints the verb's usage on stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
