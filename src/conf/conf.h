/*
 * conf: the key table behind `meridian serve`'s flags and its config file
 * (INI, read with libinih), `meridian config check` and the docs
 * (docs/deployment.md).
 *
 * One table (conf_serve_keys, keys.c) gives each setting its name (the
 * file's key and the flag: `listen = ...` in the file is `--listen ...`),
 * type, default, bounds and help text. Parsing, validation, the options
 * part of `meridian help serve` (and so the man page) and `meridian config
 * keys` are all driven by it, so they cannot drift apart.
 * File format: `name = value` lines; '#' or ';' starts a comment line;
 * optionally under one `[serve]` section. Every error names the file and
 * line ("meridian.conf:12: ..."); a file is checked whole, so one run shows
 * every error (up to CONF_MAX_ERRORS).
 * Pure apart from reading the file; never prints. Not thread-safe.
 */
#ifndef MRD_CONF_CONF_H
#define MRD_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define CONF_DEFAULT_FILE "/etc/meridian/meridian.conf"
#define CONF_ENV "MERIDIAN_CONFIG"        /* overrides CONF_DEFAULT_FILE */
#define CONF_MAX_FILE ((size_t)64 * 1024) /* a config file */
#define CONF_MAX_LINE 1024                /* one line of it */
#define CONF_MAX_VALUE 1000               /* one value */
#define CONF_MAX_ERRORS 32
#define CONF_MAX_ORIGIN 300 /* "FILE:LINE" or "--flag" */
#define CONF_MAX_HOST 64    /* host part of an address value */

enum conf_type {
    CONF_STRING, /* any text (a path, a name) */
    CONF_UINT,   /* decimal, within [min, max] */
    CONF_BOOL,   /* true/false, yes/no, on/off, 1/0; a flag takes no argument */
    CONF_ADDR,   /* numeric HOST:PORT or [V6]:PORT ("localhost" = 127.0.0.1) */
    CONF_CHOICE, /* one of choices */
};

struct conf_key {
    const char *name;
    enum conf_type type;
    const char *def; /* default as text; NULL: none */
    uint64_t min, max;
    const char *const *choices; /* CONF_CHOICE: NULL-terminated */
    const char *arg;            /* metavariable in the help: "DIR", "N" */
    const char *help;           /* may hold '\n' for more lines */
};

struct conf_value {
    bool set;
    char *str; /* the value as given (heap) */
    uint64_t u;
    bool b;
    char host[CONF_MAX_HOST]; /* CONF_ADDR */
    uint16_t port;
    char origin[CONF_MAX_ORIGIN];
};

struct conf {
    const struct conf_key *keys;
    size_t n;
    struct conf_value *v;
    size_t nerrors; /* of conf_load; the first is also in err */
    char errors[CONF_MAX_ERRORS][MRD_ERR_MSG_MAX];
};

/* The settings of `meridian serve`, in the order of conf_serve_keys. */
enum conf_serve_key {
    CONF_DATA,
    CONF_LISTEN,
    CONF_HTTP,
    CONF_TLS_CERT,
    CONF_TLS_KEY,
    CONF_CLIENT_CA,
    CONF_THREADS,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_HEADER,
    CONF_IDLE_TIMEOUT,
    CONF_REQUEST_TIMEOUT,
    CONF_RATE,
    CONF_MAX_BODY_MEMORY,
    CONF_SYNC_INTERVAL,
    CONF_CHECKPOINT_INTERVAL,
    CONF_SESSION_IDLE,
    CONF_SESSION_MAX,
    CONF_METRICS_LISTEN,
    CONF_LOG,
    CONF_LOG_FORMAT,
    CONF_LOG_LEVEL,
    CONF_READY_FILE,
    CONF_NOTIFY_WITHHELD,
    CONF_SMTP_RELAY,
    CONF_SMTP_FROM,
    CONF_SMTP_USER,
    CONF_SMTP_PASSWORD_FILE,
    CONF_SMTP_CA,
    CONF_SMTP_PLAIN,
    CONF_WEBHOOK_CA,
    CONF_DELIVER_TIMEOUT,
    CONF_DELIVER_ATTEMPTS,
    CONF_DELIVER_BACKOFF,
    CONF_BMP_LISTEN,
    CONF_BMP_COLLECTION,
    CONF_BMP_TLP,
    CONF_BMP_VRPS,
    CONF_BMP_CONFIG,
    CONF_BMP_AS_REL,
    CONF_BMP_MAX_SESSIONS,
    CONF_BMP_IDLE_TIMEOUT,
    CONF_DNS_CONFIG,
    CONF_DNS_BASELINE,
    CONF_DNS_COLLECTION,
    CONF_DNS_TLP,
    CONF_RTR,
    CONF_RETENTION_INTERVAL,
    CONF_SERVE__COUNT
};
extern const struct conf_key conf_serve_keys[CONF_SERVE__COUNT];

/* An empty configuration over keys (borrowed, static). */
enum mrd_code conf_init(struct conf *c, const struct conf_key *keys, size_t n, struct mrd_err *err);
void conf_release(struct conf *c);

/* Checks value against key name's type and bounds and sets it (a later
 * set wins). origin ("FILE:LINE", "--flag") prefixes any error. */
enum mrd_code conf_set(struct conf *c, const char *name, const char *value, const char *origin,
                       struct mrd_err *err);

/* Reads and checks the file at path, setting every valid key. On any
 * problem, MRD_E_PARSE (or MRD_E_IO / MRD_E_TOOBIG for the file itself)
 * with every error in c->errors ("PATH:LINE: ...") and the first in err;
 * the valid keys are still set. */
enum mrd_code conf_load(struct conf *c, const char *path, struct mrd_err *err);

/* conf_load over bytes already in memory; name stands for the path in
 * messages. */
enum mrd_code conf_load_buf(struct conf *c, const char *name, const char *data, size_t len,
                            struct mrd_err *err);

/* The file serve and the other verbs read when no --config is given:
 * $MERIDIAN_CONFIG, else CONF_DEFAULT_FILE. */
const char *conf_default_path(void);

/* Index of key name, or -1. */
int conf_find(const struct conf *c, const char *name);
bool conf_is_set(const struct conf *c, int key);
/* The value (set or default); NULL for a string without one. */
const char *conf_str(const struct conf *c, int key);
uint64_t conf_uint(const struct conf *c, int key);
bool conf_bool(const struct conf *c, int key);
/* CONF_ADDR: host (numeric) and port of the value or default; NULL and 0
 * when there is neither. */
const char *conf_addr_host(const struct conf *c, int key);
uint16_t conf_addr_port(const struct conf *c, int key);

/* Parses "HOST:PORT" / "[V6]:PORT" (numeric host or "localhost"). */
enum mrd_code conf_parse_addr(const char *s, char host[CONF_MAX_HOST], uint16_t *ret_port,
                              struct mrd_err *err);

/* Appends the options block of a usage text: "  --name ARG  help
 * (default D)" lines, aligned, for every key. */
enum mrd_code conf_usage(const struct conf_key *keys, size_t n, struct mrd_buf *out,
                         struct mrd_err *err);

/* Appends an example config file documenting every key (commented out,
 * with its default): what the Debian package installs. */
enum mrd_code conf_example(const struct conf_key *keys, size_t n, struct mrd_buf *out,
                           struct mrd_err *err);

#endif
