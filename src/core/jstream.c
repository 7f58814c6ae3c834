/*
 * jstream: the incremental top-level tokenizer (jstream.h).
 *
 * The input sits in one buffer: [0, mark) is consumed, [mark, pos) is the
 * value being scanned, [pos, end) is read but not looked at. When the scan
 * reaches end, fill() moves [mark, end) to the front and reads another
 * chunk, growing the buffer only as far as the current value needs (at
 * most its limit plus one chunk). Positions are indices, so they survive
 * the move. Nesting is counted, never recursed, so a depth bomb costs
 * nothing but its bytes.
 */
#include "core/jstream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"

enum state {
    S_START,
    S_OBJ_FIRST, /* after '{' */
    S_OBJ_NEXT,  /* after a member */
    S_LIST_FIRST,
    S_LIST_NEXT,
    S_AFTER, /* after the document: only white space may follow */
    S_END,
    S_FAILED,
};

struct mrd_jstream {
    struct mrd_jstream_opts o;
    mrd_jstream_read_fn read;
    void *ctx;
    char *buf;
    size_t cap, mark, pos, end;
    uint64_t base; /* input offset of buf[0] */
    bool eof;
    enum state st;
    enum mrd_jstream_top top;
    bool whole_list, list_seen, in_list_of_object;
    size_t index, head_bytes;
    enum mrd_code fail_code;
    struct mrd_err fail; /* the error, returned again on later calls */
    char key[MRD_JSTREAM_MAX_KEY + 1];
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static enum mrd_code failf(struct mrd_jstream *js, enum mrd_code code, struct mrd_err *err,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum mrd_code failf(struct mrd_jstream *js, enum mrd_code code, struct mrd_err *err,
                           const char *fmt, ...)
{
    char msg[MRD_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    js->st = S_FAILED;
    js->fail_code = code;
    (void)mrd_err_set(&js->fail, code, "%s", msg);
    return mrd_err_set(err, code, "%s", msg);
}

static uint64_t at(const struct mrd_jstream *js)
{
    return js->base + js->pos;
}

/* Reads more input keeping [mark, end). *more is false at the end of the
 * input. limit: the most bytes [mark, end) may need (the value's limit). */
static enum mrd_code fill(struct mrd_jstream *js, size_t limit, bool *more, struct mrd_err *err)
{
    size_t got = 0, want;
    enum mrd_code rc;

    *more = false;
    if (js->eof)
        return MRD_OK;
    if (js->mark > 0) {
        memmove(js->buf, js->buf + js->mark, js->end - js->mark);
        js->base += js->mark;
        js->pos -= js->mark;
        js->end -= js->mark;
        js->mark = 0;
    }
    /* grow only when little room is left: each read fills what there is */
    if (js->cap - js->end < MRD_JSTREAM_CHUNK / 4) {
        size_t ncap = js->cap == 0 ? 2 * MRD_JSTREAM_CHUNK : js->cap * 2;
        char *nb;
        want = js->end + MRD_JSTREAM_CHUNK;
        if (ncap > limit + 2 * MRD_JSTREAM_CHUNK)
            ncap = limit + 2 * MRD_JSTREAM_CHUNK;
        if (ncap < want)
            ncap = want;
        nb = mrd_realloc(js->buf, ncap);
        if (nb == NULL)
            return failf(js, MRD_E_NOMEM, err, "out of memory reading the document");
        js->buf = nb;
        js->cap = ncap;
    }
    rc = js->read(js->ctx, js->buf + js->end, js->cap - js->end, &got, err);
    if (rc != MRD_OK) {
        js->st = S_FAILED;
        js->fail_code = rc;
        (void)mrd_err_set(&js->fail, rc, "%s", err != NULL ? err->msg : "read error");
        return rc;
    }
    if (got == 0) {
        js->eof = true;
        return MRD_OK;
    }
    js->end += got;
    *more = true;
    return MRD_OK;
}

/* Skips white space; *c is the next byte, or -1 at the end of the input.
 * Consumes what it skipped (mark follows pos). */
static enum mrd_code skip_ws(struct mrd_jstream *js, int *c, struct mrd_err *err)
{
    for (;;) {
        while (js->pos < js->end && is_ws(js->buf[js->pos]))
            js->pos++;
        js->mark = js->pos;
        if (js->pos < js->end) {
            *c = (unsigned char)js->buf[js->pos];
            return MRD_OK;
        }
        bool more;
        enum mrd_code rc = fill(js, 0, &more, err);
        if (rc != MRD_OK)
            return rc;
        if (!more) {
            *c = -1;
            return MRD_OK;
        }
    }
}

static enum mrd_code truncated(struct mrd_jstream *js, const char *what, struct mrd_err *err)
{
    return failf(js, MRD_E_PARSE, err,
                 "the document is truncated: it ends at byte %llu inside %s (started at byte "
                 "%llu)",
                 (unsigned long long)at(js), what, (unsigned long long)(js->base + js->mark));
}

/* skip_ws inside `what`, where the input may not end yet. */
static enum mrd_code skip_ws_in(struct mrd_jstream *js, const char *what, int *c,
                                struct mrd_err *err)
{
    enum mrd_code rc = skip_ws(js, c, err);

    if (rc == MRD_OK && *c == -1)
        return truncated(js, what, err);
    return rc;
}

/* Scans the value starting at pos (a non-space byte) to its end, keeping
 * it from mark. depth0: how deep the value sits; limit: its largest size. */
static enum mrd_code scan_value(struct mrd_jstream *js, unsigned depth0, size_t limit,
                                const char *what, struct mrd_err *err)
{
    unsigned depth = 0;
    bool in_str = false, more;
    char c0 = js->buf[js->pos];
    enum mrd_code rc;

    if (c0 != '{' && c0 != '[' && c0 != '"') {
        /* a number or literal: up to a delimiter or the end of the input */
        for (;;) {
            while (js->pos < js->end) {
                char c = js->buf[js->pos];
                if (is_ws(c) || c == ',' || c == '}' || c == ']' || c == ':')
                    return MRD_OK;
                js->pos++;
                if (js->pos - js->mark > limit)
                    return failf(js, MRD_E_TOOBIG, err, "%s at byte %llu is longer than %zu bytes",
                                 what, (unsigned long long)(js->base + js->mark), limit);
            }
            rc = fill(js, limit, &more, err);
            if (rc != MRD_OK)
                return rc;
            if (!more)
                return MRD_OK;
        }
    }
    for (;;) {
        while (js->pos < js->end) {
            char c;
            if (in_str) {
                /* the plain run of a string, where most bytes are */
                const char *p = js->buf + js->pos, *e = js->buf + js->end;
                while (p < e && *p != '"' && *p != '\\')
                    p++;
                js->pos = (size_t)(p - js->buf);
                if (p == e)
                    break;
            }
            c = js->buf[js->pos++];
            if (in_str) {
                if (c == '\\') {
                    if (js->pos == js->end) {
                        js->pos--; /* read on, then take the escape again */
                        break;
                    }
                    js->pos++;
                } else if (c == '"') {
                    in_str = false;
                    if (depth == 0)
                        return MRD_OK;
                }
            } else if (c == '"') {
                in_str = true;
            } else if (c == '{' || c == '[') {
                if (++depth + depth0 > js->o.max_depth)
                    return failf(js, MRD_E_PARSE, err,
                                 "%s at byte %llu is nested deeper than %u levels (byte %llu)",
                                 what, (unsigned long long)(js->base + js->mark), js->o.max_depth,
                                 (unsigned long long)(at(js) - 1));
            } else if (c == '}' || c == ']') {
                if (depth == 0)
                    return failf(js, MRD_E_PARSE, err, "unexpected '%c' at byte %llu", c,
                                 (unsigned long long)(at(js) - 1));
                if (--depth == 0)
                    return MRD_OK;
            }
            if (js->pos - js->mark > limit)
                return failf(js, MRD_E_TOOBIG, err, "%s at byte %llu is longer than %zu bytes",
                             what, (unsigned long long)(js->base + js->mark), limit);
        }
        if (js->pos - js->mark > limit)
            return failf(js, MRD_E_TOOBIG, err, "%s at byte %llu is longer than %zu bytes", what,
                         (unsigned long long)(js->base + js->mark), limit);
        rc = fill(js, limit, &more, err);
        if (rc != MRD_OK)
            return rc;
        if (!more)
            return truncated(js, what, err);
    }
}

/* A member name at pos ('"'), decoded into js->key. */
static enum mrd_code scan_key(struct mrd_jstream *js, size_t *ret_len, struct mrd_err *err)
{
    const char *s;
    size_t n;
    enum mrd_code rc = scan_value(js, 1, MRD_JSTREAM_MAX_KEY + 2, "a member name", err);

    if (rc != MRD_OK)
        return rc;
    s = js->buf + js->mark;
    n = js->pos - js->mark;
    if (memchr(s, '\\', n) == NULL) {
        for (size_t i = 1; i + 1 < n; i++)
            if ((unsigned char)s[i] < 0x20)
                return failf(js, MRD_E_PARSE, err,
                             "a control character in the member name at byte %llu",
                             (unsigned long long)(js->base + js->mark));
        if (!mrd_utf8_valid(s + 1, n - 2))
            return failf(js, MRD_E_PARSE, err, "a member name at byte %llu is not UTF-8",
                         (unsigned long long)(js->base + js->mark));
        memcpy(js->key, s + 1, n - 2);
        *ret_len = n - 2;
    } else {
        json_error_t je;
        json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!json_is_string(v) || json_string_length(v) > MRD_JSTREAM_MAX_KEY ||
            memchr(json_string_value(v), '\0', json_string_length(v)) != NULL) {
            json_decref(v);
            return failf(js, MRD_E_PARSE, err, "a bad member name at byte %llu",
                         (unsigned long long)(js->base + js->mark));
        }
        *ret_len = json_string_length(v);
        memcpy(js->key, json_string_value(v), *ret_len);
        json_decref(v);
    }
    js->key[*ret_len] = '\0';
    js->mark = js->pos;
    return MRD_OK;
}

static void emit(struct mrd_jstream *js, enum mrd_jstream_kind kind, struct mrd_jstream_event *ev)
{
    ev->kind = kind;
    ev->text = js->buf + js->mark;
    ev->len = js->pos - js->mark;
    ev->offset = js->base + js->mark;
    js->mark = js->pos; /* the text stays in the buffer until the next call */
}

/* The next list element, or the list's end ('*done'). */
static enum mrd_code list_step(struct mrd_jstream *js, struct mrd_jstream_event *ev, bool *done,
                               struct mrd_err *err)
{
    int c;
    enum mrd_code rc = skip_ws_in(js, "the list", &c, err);

    *done = false;
    if (rc != MRD_OK)
        return rc;
    if (c == ']') {
        js->pos++;
        js->mark = js->pos;
        js->st = js->in_list_of_object ? S_OBJ_NEXT : S_AFTER;
        *done = true;
        return MRD_OK;
    }
    if (js->st == S_LIST_NEXT) {
        if (c != ',')
            return failf(js, MRD_E_PARSE, err, "expected ',' or ']' after element %zu at byte %llu",
                         js->index - 1, (unsigned long long)at(js));
        js->pos++;
        rc = skip_ws_in(js, "the list", &c, err);
        if (rc != MRD_OK)
            return rc;
        if (c == ']')
            return failf(js, MRD_E_PARSE, err, "a ',' before ']' at byte %llu",
                         (unsigned long long)at(js));
    }
    if (c == ',' || c == ':' || c == '}')
        return failf(js, MRD_E_PARSE, err, "unexpected '%c' at byte %llu", c,
                     (unsigned long long)at(js));
    {
        char what[64];
        (void)snprintf(what, sizeof(what), "element %zu", js->index);
        rc = scan_value(js, js->in_list_of_object ? 2 : 1, js->o.max_item, what, err);
    }
    if (rc != MRD_OK)
        return rc;
    emit(js, MRD_JSTREAM_ITEM, ev);
    ev->index = js->index++;
    js->st = S_LIST_NEXT;
    return MRD_OK;
}

#define TOP "the top-level object"

/* The next top-level member, the list's start, or the object's end. */
static enum mrd_code obj_step(struct mrd_jstream *js, struct mrd_jstream_event *ev, bool *got,
                              struct mrd_err *err)
{
    int c;
    size_t klen = 0;
    enum mrd_code rc = skip_ws_in(js, TOP, &c, err);

    *got = false;
    if (rc != MRD_OK)
        return rc;
    if (c == '}') {
        js->pos++;
        js->mark = js->pos;
        js->st = S_AFTER;
        return MRD_OK;
    }
    if (js->st == S_OBJ_NEXT) {
        if (c != ',')
            return failf(js, MRD_E_PARSE, err, "expected ',' or '}' at byte %llu",
                         (unsigned long long)at(js));
        js->pos++;
        rc = skip_ws_in(js, TOP, &c, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (c != '"')
        return failf(js, MRD_E_PARSE, err, "expected a member name at byte %llu",
                     (unsigned long long)at(js));
    rc = scan_key(js, &klen, err);
    if (rc == MRD_OK)
        rc = skip_ws_in(js, TOP, &c, err);
    if (rc != MRD_OK)
        return rc;
    if (c != ':')
        return failf(js, MRD_E_PARSE, err, "expected ':' after \"%.60s\" at byte %llu", js->key,
                     (unsigned long long)at(js));
    js->pos++;
    rc = skip_ws_in(js, TOP, &c, err);
    if (rc != MRD_OK)
        return rc;
    if (c == ',' || c == '}' || c == ']' || c == ':')
        return failf(js, MRD_E_PARSE, err, "expected a value for \"%.60s\" at byte %llu", js->key,
                     (unsigned long long)at(js));
    if (c == '[' && !js->whole_list && js->o.list_key != NULL &&
        strcmp(js->key, js->o.list_key) == 0) {
        if (js->list_seen)
            return failf(js, MRD_E_PARSE, err, "a second \"%s\" member at byte %llu", js->key,
                         (unsigned long long)at(js));
        js->list_seen = true;
        js->in_list_of_object = true;
        js->pos++;
        js->mark = js->pos;
        js->st = S_LIST_FIRST;
        return MRD_OK;
    }
    rc = scan_value(js, 1, js->o.max_head - js->head_bytes, "a top-level member", err);
    if (rc != MRD_OK)
        return rc;
    emit(js, MRD_JSTREAM_MEMBER, ev);
    js->head_bytes += ev->len;
    ev->key = js->key;
    ev->key_len = klen;
    js->st = S_OBJ_NEXT;
    *got = true;
    return MRD_OK;
}

enum mrd_code mrd_jstream_next(struct mrd_jstream *js, struct mrd_jstream_event *ev,
                               struct mrd_err *err)
{
    enum mrd_code rc;
    int c;

    memset(ev, 0, sizeof(*ev));
    for (;;) {
        switch (js->st) {
        case S_FAILED:
            return mrd_err_set(err, js->fail_code, "%s", js->fail.msg);
        case S_END:
            ev->kind = MRD_JSTREAM_END;
            ev->offset = at(js);
            return MRD_OK;
        case S_START:
            rc = skip_ws(js, &c, err);
            if (rc != MRD_OK)
                return rc;
            if (c == -1)
                return failf(js, MRD_E_PARSE, err, "the document is empty");
            if (c == '{' || c == '[') {
                js->top = c == '{' ? MRD_JSTREAM_TOP_OBJECT : MRD_JSTREAM_TOP_LIST;
                js->st = c == '{' ? S_OBJ_FIRST : S_LIST_FIRST;
                js->pos++;
                js->mark = js->pos;
                continue;
            }
            js->top = MRD_JSTREAM_TOP_SCALAR;
            rc = scan_value(js, 0, js->o.max_head, "the document", err);
            if (rc != MRD_OK)
                return rc;
            emit(js, MRD_JSTREAM_VALUE, ev);
            js->st = S_AFTER;
            return MRD_OK;
        case S_OBJ_FIRST:
        case S_OBJ_NEXT: {
            bool got;
            rc = obj_step(js, ev, &got, err);
            if (rc != MRD_OK || got)
                return rc;
            continue;
        }
        case S_LIST_FIRST:
        case S_LIST_NEXT: {
            bool done;
            rc = list_step(js, ev, &done, err);
            if (rc != MRD_OK || !done)
                return rc;
            continue;
        }
        case S_AFTER:
            rc = skip_ws(js, &c, err);
            if (rc != MRD_OK)
                return rc;
            if (c != -1)
                return failf(js, MRD_E_PARSE, err,
                             "data after the end of the document at byte %llu",
                             (unsigned long long)at(js));
            js->st = S_END;
            continue;
        }
    }
}

enum mrd_code mrd_jstream_open(const struct mrd_jstream_opts *opts, mrd_jstream_read_fn read,
                               void *ctx, struct mrd_jstream **ret, struct mrd_err *err)
{
    struct mrd_jstream *js = mrd_calloc(1, sizeof(*js));

    *ret = NULL;
    if (js == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    js->o = *opts;
    if (js->o.max_item == 0)
        js->o.max_item = MRD_JSON_MAX_BYTES;
    if (js->o.max_head == 0)
        js->o.max_head = MRD_JSON_MAX_BYTES;
    if (js->o.max_depth == 0)
        js->o.max_depth = MRD_JSON_MAX_DEPTH;
    js->read = read;
    js->ctx = ctx;
    js->st = S_START;
    *ret = js;
    return MRD_OK;
}

void mrd_jstream_close(struct mrd_jstream *js)
{
    if (js == NULL)
        return;
    mrd_free(js->buf);
    mrd_free(js);
}

void mrd_jstream_whole_list(struct mrd_jstream *js)
{
    js->whole_list = true;
}

enum mrd_jstream_top mrd_jstream_top(const struct mrd_jstream *js)
{
    return js->top;
}

bool mrd_jstream_list_seen(const struct mrd_jstream *js)
{
    return js->list_seen;
}

uint64_t mrd_jstream_offset(const struct mrd_jstream *js)
{
    return js->base + js->pos;
}

enum mrd_code mrd_jstream_read_file(void *ctx, char *buf, size_t cap, size_t *got,
                                    struct mrd_err *err)
{
    FILE *f = ctx;

    *got = fread(buf, 1, cap, f);
    if (*got == 0 && ferror(f))
        return mrd_err_sys(err, MRD_E_IO, errno, "read");
    return MRD_OK;
}

enum mrd_code mrd_jstream_parse(const struct mrd_jstream_event *ev, json_t **ret,
                                struct mrd_err *err)
{
    struct mrd_json_limits lim = {ev->len + 1, MRD_JSON_MAX_DEPTH};

    *ret = NULL;
    if (ev->len > 0 && (ev->text[0] == '{' || ev->text[0] == '['))
        return mrd_json_parse(ev->text, ev->len, &lim, ret, err);
    /* a scalar: parsed inside a list, so it gets the same reader */
    {
        char *w = mrd_malloc(ev->len + 2);
        json_t *list = NULL;
        enum mrd_code rc;
        if (w == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        w[0] = '[';
        memcpy(w + 1, ev->text, ev->len);
        w[ev->len + 1] = ']';
        lim.max_bytes = ev->len + 3;
        rc = mrd_json_parse(w, ev->len + 2, &lim, &list, err);
        mrd_free(w);
        if (rc == MRD_OK && json_array_size(list) != 1) {
            json_decref(list);
            return mrd_err_set(err, MRD_E_PARSE, "json: not one value");
        }
        if (rc == MRD_OK) {
            *ret = json_incref(json_array_get(list, 0));
            json_decref(list);
        }
        return rc;
    }
}
