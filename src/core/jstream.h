/*
 * jstream: one large JSON document read as a stream, in bounded memory.
 *
 * Bundles and envelopes are a small top-level object around one long list
 * ("objects"). jstream walks that top level with a small incremental
 * tokenizer and hands out, one at a time, each element of the list as its
 * own JSON text (at most max_item bytes), and every other top-level member
 * as (name, JSON text), in the order they come: "objects" may come before
 * or after "type" and "id". A document that is itself a list hands out its
 * elements the same way. Nothing but the current element (and the input
 * chunk around it) is held, so memory stays flat whatever the file size.
 *
 * jstream only finds where each value begins and ends (strings, escapes,
 * nesting); it does not validate the values: the caller parses each text
 * with mrd_json_parse, which reports what is wrong inside it. The
 * structure around the values is checked here: a truncated document, a
 * missing ',' or ':', trailing data, a value nested deeper than
 * max_depth or larger than its limit are errors (MRD_E_PARSE or
 * MRD_E_TOOBIG) that give the byte offset; the stream is then finished.
 *
 * Pure: no I/O of its own (the caller gives a read function), no globals.
 */
#ifndef MRD_CORE_JSTREAM_H
#define MRD_CORE_JSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/json.h"

#define MRD_JSTREAM_CHUNK ((size_t)1 << 20) /* bytes read at a time */
#define MRD_JSTREAM_MAX_KEY 1024            /* a top-level member name, in bytes */

/* Reads up to cap bytes into buf; *got 0 means the end of the input. */
typedef enum mrd_code (*mrd_jstream_read_fn)(void *ctx, char *buf, size_t cap, size_t *got,
                                             struct mrd_err *err);

struct mrd_jstream_opts {
    const char *list_key; /* the member whose list is streamed, e.g. "objects" */
    size_t max_item;      /* largest element of the list, in bytes */
    size_t max_head;      /* all other top-level members together, in bytes */
    unsigned max_depth;   /* nesting limit of the whole document */
};

enum mrd_jstream_kind {
    MRD_JSTREAM_ITEM,   /* an element of the list */
    MRD_JSTREAM_MEMBER, /* a top-level member other than the streamed list */
    MRD_JSTREAM_VALUE,  /* the document is neither an object nor a list: all of it */
    MRD_JSTREAM_END,    /* the document ended well */
};

enum mrd_jstream_top {
    MRD_JSTREAM_TOP_NONE,   /* nothing read yet */
    MRD_JSTREAM_TOP_OBJECT, /* {...} */
    MRD_JSTREAM_TOP_LIST,   /* [...]: its elements are the items */
    MRD_JSTREAM_TOP_SCALAR,
};

struct mrd_jstream_event {
    enum mrd_jstream_kind kind;
    const char *key; /* MEMBER: its name, decoded, NUL-terminated */
    size_t key_len;
    const char *text; /* the value's JSON text; valid until the next call */
    size_t len;
    size_t index;    /* ITEM: its index in the list */
    uint64_t offset; /* byte offset of text in the input */
};

struct mrd_jstream;

/* A new stream over read(ctx). NULL limits take the defaults of
 * mrd_json_parse. */
enum mrd_code mrd_jstream_open(const struct mrd_jstream_opts *opts, mrd_jstream_read_fn read,
                               void *ctx, struct mrd_jstream **ret, struct mrd_err *err);
void mrd_jstream_close(struct mrd_jstream *js);

/* The next event. After MRD_JSTREAM_END or an error, every call returns
 * the same again. */
enum mrd_code mrd_jstream_next(struct mrd_jstream *js, struct mrd_jstream_event *ev,
                               struct mrd_err *err);

/* From now on, list_key is handed out whole as a MEMBER (bounded by
 * max_head) instead of streamed: for a caller that learnt the document is
 * not a bundle (e.g. "type" came first and names an object). */
void mrd_jstream_whole_list(struct mrd_jstream *js);

/* What the document is (known after the first event). */
enum mrd_jstream_top mrd_jstream_top(const struct mrd_jstream *js);
/* Whether list_key was met and streamed as items. */
bool mrd_jstream_list_seen(const struct mrd_jstream *js);
/* Bytes consumed so far (for progress). */
uint64_t mrd_jstream_offset(const struct mrd_jstream *js);

/* Parses an event's text as mrd_json_parse does, a string, number or
 * literal too (top-level members are often scalars). */
enum mrd_code mrd_jstream_parse(const struct mrd_jstream_event *ev, json_t **ret,
                                struct mrd_err *err);

/* A read function over a stdio stream (ctx is the FILE *). */
enum mrd_code mrd_jstream_read_file(void *ctx, char *buf, size_t cap, size_t *got,
                                    struct mrd_err *err);

#endif
