/* libFuzzer target for core/jstream, the streaming top-level tokenizer.
 *
 * The first byte picks the read size (1..64 bytes, so values cross chunk
 * boundaries) and the limits; the rest is the document. Invariants: every
 * event's text is exactly the input's bytes at its offset; items are
 * numbered 0, 1, 2...; an error sticks and has a message; and when the
 * whole input parses (mrd_json_parse, with two levels to spare) as an
 * object whose "objects" is a list, the stream ends well and hands out each
 * element with the same value, then the other members. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/jstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
    const char *s;
    size_t n, at, piece;
};

static enum mrd_code rd(void *ctx, char *buf, size_t cap, size_t *got, struct mrd_err *err)
{
    struct src *s = ctx;
    size_t k = s->n - s->at;

    (void)err;
    if (k > cap)
        k = cap;
    if (k > s->piece)
        k = s->piece;
    memcpy(buf, s->s + s->at, k);
    s->at += k;
    *got = k;
    return MRD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mrd_jstream_opts o = {"objects", 1 << 16, 1 << 16, 16};
    struct mrd_json_limits lim = {(size_t)1 << 16, 14};
    struct mrd_jstream *js = NULL;
    struct mrd_jstream_event ev;
    struct mrd_err err = {0};
    struct src src;
    json_t *whole = NULL;
    const json_t *list = NULL;
    size_t items = 0, members = 0;
    bool ended = false;

    if (size < 1)
        return 0;
    src.piece = (size_t)(data[0] & 63) + 1;
    src.s = (const char *)data + 1;
    src.n = size - 1;
    src.at = 0;
    if (mrd_json_parse(src.s, src.n, &lim, &whole, NULL) == MRD_OK) {
        list = json_object_get(whole, "objects");
        if (!json_is_object(whole) || !json_is_array(list))
            list = NULL;
    }
    if (mrd_jstream_open(&o, rd, &src, &js, &err) != MRD_OK)
        abort();
    for (;;) {
        enum mrd_code rc = mrd_jstream_next(js, &ev, &err);
        if (rc != MRD_OK) {
            if (err.msg[0] == '\0' || list != NULL)
                abort(); /* a message; and a document that parses streams well */
            if (mrd_jstream_next(js, &ev, &err) != rc)
                abort(); /* errors stick */
            break;
        }
        if (ev.kind == MRD_JSTREAM_END) {
            ended = true;
            break;
        }
        if (ev.offset + ev.len > src.n || memcmp(ev.text, src.s + ev.offset, ev.len) != 0)
            abort();
        if (ev.kind == MRD_JSTREAM_ITEM) {
            if (ev.index != items++)
                abort();
            if (list != NULL) {
                json_t *v = NULL;
                if (mrd_jstream_parse(&ev, &v, NULL) != MRD_OK ||
                    !json_equal(v, json_array_get(list, ev.index)))
                    abort();
                json_decref(v);
            }
        } else if (ev.kind == MRD_JSTREAM_MEMBER) {
            members++;
            if (list != NULL) {
                json_t *v = NULL;
                if (mrd_jstream_parse(&ev, &v, NULL) != MRD_OK ||
                    !json_equal(v, json_object_get(whole, ev.key)))
                    abort();
                json_decref(v);
            }
        }
    }
    if (list != NULL &&
        (!ended || items != json_array_size(list) || members + 1 != json_object_size(whole)))
        abort();
    mrd_jstream_close(js);
    json_decref(whole);
    return 0;
}
