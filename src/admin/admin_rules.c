/*
 * The rule files of the data directory (admin.h, "rule files"):
 * privacy-policy.json and retention.json, changed one rule at a time
 * through admin_apply, so that each change has its audit record.
 *
 * A change builds the whole new file, checks it with the parser the node
 * reads it with (plus, for retention, that a named collection exists),
 * writes it under a temporary name, fsyncs it and renames it into place,
 * inside the admin transaction. When the record then fails to commit, the
 * previous file is put back (or the new one removed when there was none).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "forget/forget.h"
#include "privacy/privacy.h"

static enum mrd_code check_privacy(struct store *st, const char *text, size_t len,
                                   struct mrd_err *err)
{
    struct privacy_policy *p = NULL;
    enum mrd_code rc = privacy_policy_parse(text, len, &p, err);

    (void)st;
    privacy_policy_free(p);
    return rc;
}

static enum mrd_code check_retention(struct store *st, const char *text, size_t len,
                                     struct mrd_err *err)
{
    struct forget_policy p;
    enum mrd_code rc = forget_policy_parse(text, len, &p, err);

    if (rc != MRD_OK)
        return rc;
    for (size_t i = 0; rc == MRD_OK && i < p.n; i++) {
        struct store_collection c;
        const char *name = p.rules[i].collection;

        const char *slash = strchr(name, '/');
        bool found =
            name[0] == '\0' ||
            (slash != NULL
                 ? store_collection_get(st, name, (size_t)(slash - name), slash + 1,
                                        strlen(slash + 1), &c, NULL) == MRD_OK
                 : store_collection_get(st, NULL, 0, name, strlen(name), &c, NULL) == MRD_OK);

        if (!found)
            rc =
                mrd_err_set(err, MRD_E_NOTFOUND,
                            "retention: rules[%zu].collection: no collection %s", i, MRD_ESC(name));
    }
    forget_policy_free(&p);
    return rc;
}

const struct admin_rules_file admin_privacy_rules = {
    .name = PRIVACY_POLICY_FILE,
    .object = "privacy-policy",
    .max_bytes = PRIVACY_POLICY_MAX_BYTES,
    .max_rules = PRIVACY_POLICY_MAX_ITEMS,
    .check = check_privacy,
    .secret = "key",
};

const struct admin_rules_file admin_retention_rules = {
    .name = "retention.json",
    .object = "retention",
    .max_bytes = FORGET_FILE_MAX,
    .max_rules = FORGET_RULES_MAX,
    .check = check_retention,
    .secret = NULL,
};

static enum mrd_code path_of(const char *dir, const char *name, const char *suffix, char *out,
                             size_t size, struct mrd_err *err)
{
    if ((size_t)snprintf(out, size, "%s/%s%s", dir, name, suffix) >= size)
        return mrd_err_set(err, MRD_E_TOOBIG, "%s: data directory path too long", name);
    return MRD_OK;
}

/* The file's text into out (found false, out empty, when there is none). */
static enum mrd_code read_text(const char *dir, const struct admin_rules_file *f,
                               struct mrd_buf *out, bool *found, struct mrd_err *err)
{
    char path[4096], chunk[4096];
    enum mrd_code rc;
    FILE *in;
    size_t n;

    *found = false;
    mrd_buf_init(out, f->max_bytes);
    rc = path_of(dir, f->name, "", path, sizeof(path), err);
    if (rc != MRD_OK)
        return rc;
    in = fopen(path, "rb");
    if (in == NULL)
        return errno == ENOENT ? MRD_OK
                               : mrd_err_set(err, MRD_E_IO, "%s: %s", path, strerror(errno));
    *found = true;
    while (rc == MRD_OK && (n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
        rc = mrd_buf_append(out, chunk, n, err);
        if (rc == MRD_E_TOOBIG)
            rc = mrd_err_set(err, MRD_E_TOOBIG, "%s: more than %zu bytes", path, f->max_bytes);
    }
    if (rc == MRD_OK && ferror(in))
        rc = mrd_err_set(err, MRD_E_IO, "%s: read error", path);
    (void)fclose(in);
    return rc;
}

enum mrd_code admin_rules_read(const char *dir, const struct admin_rules_file *f, json_t **ret,
                               struct mrd_err *err)
{
    struct mrd_buf text;
    struct mrd_json_limits lim = {.max_bytes = f->max_bytes, .max_depth = 16};
    bool found = false;
    enum mrd_code rc = read_text(dir, f, &text, &found, err);

    if (rc == MRD_OK && !found)
        *ret = json_pack("{s:[]}", "rules");
    else if (rc == MRD_OK)
        rc = mrd_json_parse(text.data, text.len, &lim, ret, err);
    if (rc == MRD_OK && (*ret == NULL || !json_is_object(*ret))) {
        json_decref(*ret);
        *ret = NULL;
        rc = mrd_err_set(err, MRD_E_PARSE, "%s: not a JSON object", f->name);
    }
    if (rc == MRD_OK && json_object_get(*ret, "rules") == NULL)
        (void)json_object_set_new(*ret, "rules", json_array());
    if (rc == MRD_OK && !json_is_array(json_object_get(*ret, "rules"))) {
        json_decref(*ret);
        *ret = NULL;
        rc = mrd_err_set(err, MRD_E_PARSE, "%s: rules: not an array", f->name);
    }
    mrd_buf_release(&text);
    return rc;
}

json_t *admin_rules_redacted(const struct admin_rules_file *f, const json_t *rules)
{
    json_t *out = json_deep_copy(rules), *r;
    size_t i;

    json_array_foreach(out, i, r)
    {
        if (f->secret != NULL && json_object_get(r, f->secret) != NULL)
            (void)json_object_set_new(r, f->secret, json_string("(secret)"));
    }
    return out;
}

/* Writes text to dir/name through dir/name.tmp, fsync and rename. */
static enum mrd_code write_file(const char *dir, const char *name, const char *text, size_t len,
                                struct mrd_err *err)
{
    char path[4096], tmp[4096];
    size_t off = 0;
    enum mrd_code rc = path_of(dir, name, "", path, sizeof(path), err);
    int fd;

    if (rc == MRD_OK)
        rc = path_of(dir, name, ".tmp", tmp, sizeof(tmp), err);
    if (rc != MRD_OK)
        return rc;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return mrd_err_set(err, MRD_E_IO, "%s: %s", tmp, strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = mrd_err_set(err, MRD_E_IO, "%s: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == MRD_OK && fsync(fd) != 0)
        rc = mrd_err_set(err, MRD_E_IO, "%s: fsync: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == MRD_OK)
        rc = mrd_err_set(err, MRD_E_IO, "%s: %s", tmp, strerror(errno));
    if (rc == MRD_OK && rename(tmp, path) != 0)
        rc = mrd_err_set(err, MRD_E_IO, "%s: %s", path, strerror(errno));
    if (rc != MRD_OK)
        (void)unlink(tmp);
    return rc;
}

struct rules_change {
    const char *dir;
    const struct admin_rules_file *f;
    const json_t *add; /* the rule to append, or NULL */
    size_t remove;     /* 1-based rule to remove, when add is NULL */
    bool written;      /* the new file is in place */
    bool had_old;
    struct mrd_buf old;
};

static enum mrd_code rules_change(void *ctx, struct store *st, struct admin_change *rec,
                                  struct mrd_err *err)
{
    struct rules_change *x = ctx;
    json_t *doc = NULL, *rules;
    char *text = NULL;
    enum mrd_code rc = read_text(x->dir, x->f, &x->old, &x->had_old, err);

    if (rc == MRD_OK)
        rc = admin_rules_read(x->dir, x->f, &doc, err);
    if (rc != MRD_OK)
        return rc;
    rules = json_object_get(doc, "rules");
    rec->before = admin_rules_redacted(x->f, rules);
    if (x->add != NULL) {
        if (json_array_size(rules) >= x->f->max_rules) {
            rc = mrd_err_set(err, MRD_E_TOOBIG, "%s: at most %zu rules", x->f->name,
                             x->f->max_rules);
            goto out;
        }
        (void)json_array_append_new(rules, json_deep_copy(x->add));
        (void)snprintf(rec->target, sizeof(rec->target), "%s rule %zu", x->f->name,
                       json_array_size(rules));
    } else {
        if (x->remove == 0 || x->remove > json_array_size(rules)) {
            rc = mrd_err_set(err, MRD_E_NOTFOUND, "%s: no rule %zu (it has %zu)", x->f->name,
                             x->remove, json_array_size(rules));
            goto out;
        }
        (void)json_array_remove(rules, x->remove - 1);
        (void)snprintf(rec->target, sizeof(rec->target), "%s rule %zu", x->f->name, x->remove);
    }
    rec->after = admin_rules_redacted(x->f, rules);
    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "%s: out of memory", x->f->name);
        goto out;
    }
    if (strlen(text) > x->f->max_bytes) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "%s: more than %zu bytes", x->f->name, x->f->max_bytes);
        goto out;
    }
    /* the node's own parser decides: a file it would refuse is never written */
    rc = x->f->check(st, text, strlen(text), err);
    if (rc == MRD_OK)
        rc = write_file(x->dir, x->f->name, text, strlen(text), err);
    x->written = rc == MRD_OK;
out:
    free(text);
    json_decref(doc);
    return rc;
}

static enum mrd_code rules_apply(struct admin *a, const struct admin_rules_file *f,
                                 const char *action, struct rules_change *x, struct mrd_err *err)
{
    enum mrd_code rc;

    x->dir = a->data_dir;
    x->f = f;
    rc = admin_apply(a, f->object, action, rules_change, x, err);
    if (rc != MRD_OK && x->written) {
        /* the record did not commit: the change must not stay either */
        char path[4096];
        if (x->had_old)
            (void)write_file(x->dir, f->name, x->old.data != NULL ? x->old.data : "", x->old.len,
                             NULL);
        else if (path_of(x->dir, f->name, "", path, sizeof(path), NULL) == MRD_OK)
            (void)unlink(path);
    }
    mrd_buf_release(&x->old);
    return rc;
}

enum mrd_code admin_rule_add(struct admin *a, const struct admin_rules_file *f, const json_t *rule,
                             struct mrd_err *err)
{
    struct rules_change x = {.add = rule};

    return rules_apply(a, f, "add-rule", &x, err);
}

enum mrd_code admin_rule_remove(struct admin *a, const struct admin_rules_file *f, size_t n,
                                struct mrd_err *err)
{
    struct rules_change x = {.remove = n};

    return rules_apply(a, f, "remove-rule", &x, err);
}
