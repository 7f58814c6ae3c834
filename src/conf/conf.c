/*
 * conf.c: loading and checking settings against a key table (conf.h).
 *
 * libinih parses the INI syntax. It reads through our line reader, which
 * is how every error gets its line number (Debian's libinih is built
 * without INI_HANDLER_LINENO) and how an over-long line becomes an error
 * rather than two lines.
 */
#include "conf/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"

static enum mrd_code check(const struct conf_key *k, const char *value, struct conf_value *v,
                           struct mrd_err *err);

enum mrd_code conf_init(struct conf *c, const struct conf_key *keys, size_t n, struct mrd_err *err)
{
    memset(c, 0, sizeof(*c));
    c->keys = keys;
    c->n = n;
    c->v = mrd_calloc(n, sizeof(*c->v));
    if (c->v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    /* Defaults go through the same checks as values (a bad default in the
     * table fails here, in every test), but do not count as set. */
    for (size_t i = 0; i < n; i++) {
        enum mrd_code rc;
        if (keys[i].def == NULL)
            continue;
        rc = check(&keys[i], keys[i].def, &c->v[i], err);
        if (rc != MRD_OK) {
            conf_release(c);
            return rc;
        }
        c->v[i].set = false;
        (void)mrd_strlcpy(c->v[i].origin, "default", CONF_MAX_ORIGIN);
    }
    return MRD_OK;
}

void conf_release(struct conf *c)
{
    if (c->v != NULL)
        for (size_t i = 0; i < c->n; i++)
            mrd_free(c->v[i].str);
    mrd_free(c->v);
    c->v = NULL;
}

int conf_find(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *conf_default_path(void)
{
    const char *env = getenv(CONF_ENV);

    return env != NULL && env[0] != '\0' ? env : CONF_DEFAULT_FILE;
}

enum mrd_code conf_parse_addr(const char *s, char host[CONF_MAX_HOST], uint16_t *ret_port,
                              struct mrd_err *err)
{
    const char *colon, *h = s;
    size_t hl;
    uint64_t p;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            goto bad;
        h = s + 1;
        hl = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            goto bad;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= CONF_MAX_HOST)
        goto bad;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        (void)mrd_strlcpy(host, "127.0.0.1", CONF_MAX_HOST);
    if (mrd_str_to_u64(colon + 1, strlen(colon + 1), 65535, &p, NULL) != MRD_OK)
        goto bad;
    *ret_port = (uint16_t)p;
    return MRD_OK;
bad:
    return mrd_err_set(err, MRD_E_INVAL, "'%s' is not HOST:PORT (IPv6 as [ADDR]:PORT)", s);
}

/* value as it may appear in a message: escaped (mrd_str_escape), cut. */
static const char *shown(const char *value, char out[96])
{
    return mrd_str_escape(out, 96, value, strlen(value));
}

static enum mrd_code parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return MRD_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return MRD_OK;
        }
    }
    return MRD_E_INVAL;
}

/* Checks value against k into v (not touching v on failure). */
static enum mrd_code check(const struct conf_key *k, const char *value, struct conf_value *v,
                           struct mrd_err *err)
{
    size_t len = strlen(value);
    struct conf_value t = {0};
    char esc[96];

    if (len > CONF_MAX_VALUE)
        return mrd_err_set(err, MRD_E_TOOBIG, "value longer than %d bytes", CONF_MAX_VALUE);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return mrd_err_set(err, MRD_E_INVAL, "control character in the value");
    if (!mrd_utf8_valid(value, len))
        return mrd_err_set(err, MRD_E_INVAL, "the value is not UTF-8");
    switch (k->type) {
    case CONF_STRING:
        if (len == 0)
            return mrd_err_set(err, MRD_E_INVAL, "empty value");
        break;
    case CONF_UINT:
        if (mrd_str_to_u64(value, len, UINT64_MAX, &t.u, NULL) != MRD_OK)
            return mrd_err_set(err, MRD_E_INVAL, "'%s' is not a number", shown(value, esc));
        if (t.u < k->min || t.u > k->max)
            return mrd_err_set(err, MRD_E_INVAL, "%llu is out of range (%llu..%llu)",
                               (unsigned long long)t.u, (unsigned long long)k->min,
                               (unsigned long long)k->max);
        break;
    case CONF_BOOL:
        if (parse_bool(value, &t.b) != MRD_OK)
            return mrd_err_set(err, MRD_E_INVAL, "'%s' is not true or false", shown(value, esc));
        break;
    case CONF_ADDR:
        if (conf_parse_addr(value, t.host, &t.port, NULL) != MRD_OK) {
            mrd_err_set(err, MRD_E_INVAL, "'%s' is not HOST:PORT (IPv6 as [ADDR]:PORT)",
                        shown(value, esc));
            return MRD_E_INVAL;
        }
        break;
    case CONF_CHOICE: {
        char list[256] = "";
        size_t i = 0;
        while (k->choices[i] != NULL && strcmp(k->choices[i], value) != 0)
            i++;
        if (k->choices[i] != NULL)
            break;
        for (i = 0; k->choices[i] != NULL; i++) {
            size_t l = strlen(list);
            (void)snprintf(list + l, sizeof(list) - l, "%s%s", i > 0 ? ", " : "", k->choices[i]);
        }
        return mrd_err_set(err, MRD_E_INVAL, "'%s' is not one of %s", shown(value, esc), list);
    }
    }
    t.str = mrd_malloc(len + 1);
    if (t.str == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    memcpy(t.str, value, len + 1);
    t.set = true;
    mrd_free(v->str);
    *v = t;
    return MRD_OK;
}

enum mrd_code conf_set(struct conf *c, const char *name, const char *value, const char *origin,
                       struct mrd_err *err)
{
    int i = conf_find(c, name);
    enum mrd_code rc;

    char esc[96];

    if (i < 0)
        rc = mrd_err_set(err, MRD_E_INVAL, "unknown setting '%s' (see 'meridian config keys')",
                         shown(name, esc));
    else
        rc = check(&c->keys[i], value, &c->v[i], err);
    if (rc != MRD_OK) {
        /* "--threads: ..." on the command line, "FILE:3: threads: ..." in
         * a file. */
        if (i >= 0 && (origin == NULL || strncmp(origin, "--", 2) != 0))
            mrd_err_prefix(err, "%s", c->keys[i].name);
        if (origin != NULL)
            mrd_err_prefix(err, "%s", origin);
        return rc;
    }
    (void)mrd_strlcpy(c->v[i].origin, origin != NULL ? origin : "", CONF_MAX_ORIGIN);
    return MRD_OK;
}

/* ---- files ---------------------------------------------------------------- */

struct reader {
    struct conf *c;
    const char *path;
    const char *p, *end;
    int line;                        /* of the line last handed to inih */
    char bad_section[CONF_MAX_LINE]; /* the unknown section last reported */
};

static void add_error(struct conf *c, const char *msg)
{
    if (c->nerrors < CONF_MAX_ERRORS)
        (void)mrd_strlcpy(c->errors[c->nerrors], msg, MRD_ERR_MSG_MAX);
    c->nerrors++;
}

/* fgets over the file's bytes; a line that does not fit is reported and
 * handed on empty, so line numbers stay right. */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    const char *nl;
    size_t len;

    if (r->p >= r->end)
        return NULL;
    nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    len = nl != NULL ? (size_t)(nl - r->p) + 1 : (size_t)(r->end - r->p);
    r->line++;
    if (len >= (size_t)num || memchr(r->p, '\0', len) != NULL) {
        char msg[MRD_ERR_MSG_MAX];
        (void)snprintf(msg, sizeof(msg), "%s:%d: %s", r->path, r->line,
                       len >= (size_t)num ? "line too long" : "NUL byte in the line");
        add_error(r->c, msg);
        r->p += len;
        str[0] = '\n';
        str[1] = '\0';
        return str;
    }
    memcpy(str, r->p, len);
    str[len] = '\0';
    r->p += len;
    return str;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    char origin[CONF_MAX_ORIGIN];
    struct mrd_err err = {0};

    (void)snprintf(origin, sizeof(origin), "%s:%d", r->path, r->line);
    if (section[0] != '\0' && strcmp(section, "serve") != 0) {
        char msg[MRD_ERR_MSG_MAX], esc[96];
        if (strcmp(section, r->bad_section) == 0)
            return 1; /* reported at its first setting */
        (void)mrd_strlcpy(r->bad_section, section, sizeof(r->bad_section));
        (void)snprintf(msg, sizeof(msg), "%s: section [%s] is not known (only [serve])", origin,
                       shown(section, esc));
        add_error(r->c, msg);
        return 1;
    }
    if (conf_set(r->c, name, value, origin, &err) != MRD_OK)
        add_error(r->c, err.msg);
    return 1; /* go on: one run reports every error */
}

/* Adds msg (about line `at`) before the first error about a later line,
 * so errors come out in file order. */
static void insert_error(struct conf *c, const char *path, int at, const char *msg)
{
    size_t n = c->nerrors < CONF_MAX_ERRORS ? c->nerrors : CONF_MAX_ERRORS, i = 0, plen;

    plen = strlen(path);
    for (; i < n; i++) {
        const char *e = c->errors[i];
        if (strncmp(e, path, plen) == 0 && e[plen] == ':' && atoi(e + plen + 1) > at)
            break;
    }
    if (n == CONF_MAX_ERRORS && i == n) {
        c->nerrors++;
        return;
    }
    if (n == CONF_MAX_ERRORS)
        n--; /* the last one falls off; nerrors still counts it */
    memmove(c->errors[i + 1], c->errors[i], (n - i) * sizeof(c->errors[0]));
    (void)mrd_strlcpy(c->errors[i], msg, MRD_ERR_MSG_MAX);
    c->nerrors++;
}

enum mrd_code conf_load_buf(struct conf *c, const char *name, const char *data, size_t len,
                            struct mrd_err *err)
{
    struct reader r = {.c = c, .path = name, .p = data, .end = data + len};
    int at;

    c->nerrors = 0;
    if (len > CONF_MAX_FILE)
        return mrd_err_set(err, MRD_E_TOOBIG, "%s: larger than %zu bytes", name, CONF_MAX_FILE);
    at = ini_parse_stream(read_line, &r, on_pair, &r);
    if (at > 0) {
        /* inih reports its first syntax error (a line that is neither a
         * section, a comment nor name = value) by line number. */
        char msg[MRD_ERR_MSG_MAX];
        (void)snprintf(msg, sizeof(msg), "%s:%d: expected 'name = value', '[serve]' or a comment",
                       name, at);
        insert_error(c, name, at, msg);
    } else if (at < 0) {
        return mrd_err_set(err, MRD_E_NOMEM, "%s: out of memory", name);
    }
    if (c->nerrors > 0)
        return mrd_err_set(err, MRD_E_PARSE, "%s", c->errors[0]);
    return MRD_OK;
}

enum mrd_code conf_load(struct conf *c, const char *path, struct mrd_err *err)
{
    struct mrd_buf b;
    enum mrd_code rc;

    c->nerrors = 0;
    mrd_buf_init(&b, CONF_MAX_FILE);
    rc = mrd_buf_read_file(&b, path, err);
    if (rc == MRD_E_TOOBIG)
        rc = mrd_err_set(err, MRD_E_TOOBIG, "%s: larger than %zu bytes", path, CONF_MAX_FILE);
    if (rc == MRD_OK)
        rc = conf_load_buf(c, path, b.data != NULL ? b.data : "", b.len, err);
    mrd_buf_release(&b);
    return rc;
}

/* ---- values ---------------------------------------------------------------- */

bool conf_is_set(const struct conf *c, int key)
{
    return c->v[key].set;
}

const char *conf_str(const struct conf *c, int key)
{
    return c->v[key].str;
}

uint64_t conf_uint(const struct conf *c, int key)
{
    return c->v[key].u;
}

bool conf_bool(const struct conf *c, int key)
{
    return c->v[key].b;
}

const char *conf_addr_host(const struct conf *c, int key)
{
    return c->v[key].str != NULL ? c->v[key].host : NULL;
}

uint16_t conf_addr_port(const struct conf *c, int key)
{
    return c->v[key].port;
}

/* ---- docs ------------------------------------------------------------------ */

static enum mrd_code help_lines(struct mrd_buf *out, const char *help, const char *first_prefix,
                                const char *prefix, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_puts(out, first_prefix, err);

    for (const char *p = help; rc == MRD_OK && *p != '\0'; p++) {
        rc = mrd_buf_append(out, p, 1, err);
        if (rc == MRD_OK && *p == '\n')
            rc = mrd_buf_puts(out, prefix, err);
    }
    return rc;
}

enum mrd_code conf_usage(const struct conf_key *keys, size_t n, struct mrd_buf *out,
                         struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        const struct conf_key *k = &keys[i];
        char flag[64];
        int w = snprintf(flag, sizeof(flag), "  --%s%s%s", k->name, k->arg != NULL ? " " : "",
                         k->arg != NULL ? k->arg : "");
        rc = mrd_buf_puts(out, flag, err);
        if (rc == MRD_OK)
            rc = w < 28 ? mrd_buf_printf(out, err, "%*s", 28 - w, "")
                        : mrd_buf_printf(out, err, "\n%28s", "");
        if (rc == MRD_OK)
            rc = help_lines(out, k->help, "", "                            ", err);
        if (rc == MRD_OK && k->def != NULL && k->type != CONF_BOOL) {
            const char *nl = memrchr(out->data, '\n', out->len);
            size_t col = out->len - (nl != NULL ? (size_t)(nl - out->data) + 1 : 0);
            /* on the same line when it fits in 80 columns */
            if (col + strlen(k->def) + 11 > 80)
                rc = mrd_buf_printf(out, err, "\n%28s(default %s)", "", k->def);
            else
                rc = mrd_buf_printf(out, err, " (default %s)", k->def);
        }
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "\n", err);
    }
    return rc;
}

enum mrd_code conf_example(const struct conf_key *keys, size_t n, struct mrd_buf *out,
                           struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        const struct conf_key *k = &keys[i];
        rc = help_lines(out, k->help, "\n# ", "# ", err);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(out, err, "\n#%s = %s\n", k->name,
                                k->def != NULL ? k->def : (k->arg != NULL ? k->arg : ""));
    }
    return rc;
}
