/*
 * report: the finding list, its formatting, and its JSON form.
 *
 * Findings are kept in a heap array grown by doubling up to
 * STIX_MAX_FINDINGS; past that only the counts move, so a 100 MB bundle
 * full of one mistake cannot make the validator itself a memory problem.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "stix/stix_int.h"

void stix_report_init(struct stix_report *rep)
{
    memset(rep, 0, sizeof(*rep));
}

void stix_report_release(struct stix_report *rep)
{
    if (rep == NULL)
        return;
    mrd_free(rep->findings);
    memset(rep, 0, sizeof(*rep));
}

void stix_report_reset(struct stix_report *rep)
{
    rep->nfindings = 0;
    rep->errors = 0;
    rep->warnings = 0;
    rep->objects = 0;
    rep->kind = STIX_DOC_UNKNOWN;
}

size_t stix_report_errors(const struct stix_report *rep)
{
    return rep->errors;
}

size_t stix_report_warnings(const struct stix_report *rep)
{
    return rep->warnings;
}

size_t stix_report_object_errors(const struct stix_report *rep, long object)
{
    size_t n = 0;

    for (size_t i = 0; i < rep->nfindings; i++)
        if (rep->findings[i].object == object && rep->findings[i].severity == STIX_ERROR)
            n++;
    return n;
}

const char *stix_severity_str(enum stix_severity s)
{
    return s == STIX_ERROR ? "error" : "warning";
}

const char *stix_doc_kind_str(enum stix_doc_kind k)
{
    switch (k) {
    case STIX_DOC_BUNDLE:
        return "bundle";
    case STIX_DOC_OBJECT:
        return "object";
    case STIX_DOC_ENVELOPE:
        return "envelope";
    case STIX_DOC_LIST:
        return "list";
    case STIX_DOC_UNKNOWN:
        break;
    }
    return "unknown";
}

size_t stix_finding_format(const struct stix_finding *f, char *out, size_t size)
{
    int n = snprintf(out, size, "%s: %s (%s): %s", f->path, f->rule, f->section, f->msg);

    return n < 0 ? 0 : (size_t)n;
}

/* Appends s to the path buffer; a key that is not a plain identifier is
 * written in bracket form so the path stays unambiguous. */
static size_t path_put(char *out, size_t pos, const char *s, size_t n)
{
    if (pos >= STIX_PATH_MAX - 1)
        return pos;
    if (n > STIX_PATH_MAX - 1 - pos)
        n = STIX_PATH_MAX - 1 - pos;
    memcpy(out + pos, s, n);
    return pos + n;
}

static bool plain_key(const char *k)
{
    if (*k == '\0')
        return false;
    for (; *k != '\0'; k++) {
        unsigned char ch = (unsigned char)*k;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static void render_path(const struct stix_ctx *c, char *out)
{
    size_t pos = 0;
    size_t depth = c->depth < STIX_PATH_DEPTH ? c->depth : STIX_PATH_DEPTH;
    char num[32];

    pos = path_put(out, pos, "$", 1);
    for (size_t i = 0; i < depth; i++) {
        const struct stix_seg *s = &c->segs[i];
        if (s->key == NULL) {
            int n = snprintf(num, sizeof(num), "[%zu]", s->index);
            pos = path_put(out, pos, num, (size_t)n);
        } else if (plain_key(s->key)) {
            pos = path_put(out, pos, ".", 1);
            pos = path_put(out, pos, s->key, strlen(s->key));
        } else {
            /* Keys with dots or quotes: ['...'], quotes kept as they are
             * (the path is for people; JSON output escapes it anyway). */
            pos = path_put(out, pos, "['", 2);
            pos = path_put(out, pos, s->key, strlen(s->key));
            pos = path_put(out, pos, "']", 2);
        }
    }
    if (pos >= STIX_PATH_MAX - 1 && STIX_PATH_MAX > 4)
        memcpy(out + STIX_PATH_MAX - 4, "...", 3);
    out[pos] = '\0';
}

static void add(struct stix_ctx *c, enum stix_severity sev, const char *rule, const char *section,
                const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Room for one more kept finding (rep->nfindings < STIX_MAX_FINDINGS). */
static bool room(struct stix_report *rep)
{
    if (rep->nfindings == rep->cap) {
        size_t ncap = rep->cap == 0 ? 16 : rep->cap * 2;
        struct stix_finding *nf;
        if (ncap > STIX_MAX_FINDINGS)
            ncap = STIX_MAX_FINDINGS;
        nf = mrd_realloc(rep->findings, ncap * sizeof(*nf));
        if (nf == NULL)
            return false;
        rep->findings = nf;
        rep->cap = ncap;
    }
    return true;
}

static void add(struct stix_ctx *c, enum stix_severity sev, const char *rule, const char *section,
                const char *fmt, va_list ap)
{
    struct stix_report *rep = c->rep;
    struct stix_finding *f;
    int n;

    if (sev == STIX_ERROR)
        rep->errors++;
    else
        rep->warnings++;
    if (rep->nfindings >= STIX_MAX_FINDINGS)
        return;
    if (!room(rep)) {
        c->rc = MRD_E_NOMEM;
        return;
    }
    f = &rep->findings[rep->nfindings++];
    f->severity = sev;
    f->rule = rule;
    f->section = section;
    f->object = c->object;
    render_path(c, f->path);
    n = vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    if (n >= (int)sizeof(f->msg))
        memcpy(f->msg + sizeof(f->msg) - 4, "...", 4);
}

void stix__error(struct stix_ctx *c, const char *rule, const char *section, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add(c, STIX_ERROR, rule, section, fmt, ap);
    va_end(ap);
}

void stix__warn(struct stix_ctx *c, const char *rule, const char *section, const char *fmt, ...)
{
    va_list ap;

    if (!stix__warnings_on(c))
        return;
    va_start(ap, fmt);
    add(c, (c->flags & STIX_STRICT) ? STIX_ERROR : STIX_WARNING, rule, section, fmt, ap);
    va_end(ap);
}

void stix__error_at(struct stix_ctx *c, const char *key, const char *rule, const char *section,
                    const char *fmt, ...)
{
    va_list ap;

    stix__push_key(c, key);
    va_start(ap, fmt);
    add(c, STIX_ERROR, rule, section, fmt, ap);
    va_end(ap);
    stix__pop(c);
}

void stix__warn_at(struct stix_ctx *c, const char *key, const char *rule, const char *section,
                   const char *fmt, ...)
{
    va_list ap;

    if (!stix__warnings_on(c))
        return;
    stix__push_key(c, key);
    va_start(ap, fmt);
    add(c, (c->flags & STIX_STRICT) ? STIX_ERROR : STIX_WARNING, rule, section, fmt, ap);
    va_end(ap);
    stix__pop(c);
}

enum mrd_code stix__report_take(struct stix_report *rep, const struct stix_finding *f, size_t n,
                                size_t errors, size_t warnings, struct mrd_err *err)
{
    rep->errors += errors;
    rep->warnings += warnings;
    for (size_t i = 0; i < n && rep->nfindings < STIX_MAX_FINDINGS; i++) {
        if (!room(rep))
            return mrd_err_set(err, MRD_E_NOMEM, "stix: out of memory recording findings");
        rep->findings[rep->nfindings++] = f[i];
    }
    return MRD_OK;
}

enum mrd_code stix_report_json(const struct stix_report *rep, json_t **ret, struct mrd_err *err)
{
    json_t *root = NULL;
    json_t *list = NULL;
    enum mrd_code rc = MRD_E_NOMEM;

    root = json_object();
    list = json_array();
    if (root == NULL || list == NULL)
        goto out;
    for (size_t i = 0; i < rep->nfindings; i++) {
        const struct stix_finding *f = &rep->findings[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "severity", stix_severity_str(f->severity),
                      "rule", f->rule, "section", f->section, "path", f->path, "message", f->msg,
                      "object", (json_int_t)f->object);
        if (o == NULL || json_array_append_new(list, o) != 0)
            goto out;
    }
    if (json_object_set_new(root, "valid", json_boolean(rep->errors == 0)) != 0 ||
        json_object_set_new(root, "kind", json_string(stix_doc_kind_str(rep->kind))) != 0 ||
        json_object_set_new(root, "objects", json_integer((json_int_t)rep->objects)) != 0 ||
        json_object_set_new(root, "errors", json_integer((json_int_t)rep->errors)) != 0 ||
        json_object_set_new(root, "warnings", json_integer((json_int_t)rep->warnings)) != 0 ||
        json_object_set_new(root, "truncated",
                            json_boolean(rep->errors + rep->warnings > rep->nfindings)) != 0)
        goto out;
    if (json_object_set_new(root, "findings", list) != 0) {
        list = NULL;
        goto out;
    }
    list = NULL;
    *ret = root;
    root = NULL;
    rc = MRD_OK;
out:
    json_decref(list);
    json_decref(root);
    if (rc != MRD_OK)
        return mrd_err_set(err, rc, "stix: out of memory building the report");
    return rc;
}
