/*
 * fuzz_http_head: the request-head check (http.h) over arbitrary header
 * lines. The input is split at '\n' into lines and each line at its first
 * ':' into name and value (the value's leading OWS skipped, as
 * libmicrohttpd does); the first byte chooses HTTP/1.0 or 1.1.
 *
 * Properties: never crashes; the verdict is 0, 400 or 501, with a reason
 * exactly when it is not 0; feeding the same lines twice never turns a
 * refusal into an acceptance (repeating a line can only add ambiguity);
 * a head holding two Content-Length lines, or a NUL in a value, is never
 * accepted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
    unsigned content_length;
    bool nul;
};

static void feed(struct http_head_check *hc, const uint8_t *d, size_t n, struct tally *t)
{
    size_t i = 0;

    while (i < n) {
        const uint8_t *line = d + i;
        const uint8_t *nl = memchr(line, '\n', n - i);
        size_t len = nl != NULL ? (size_t)(nl - line) : n - i;
        const uint8_t *colon = memchr(line, ':', len);

        i += len + (nl != NULL);
        if (colon == NULL)
            continue;
        size_t klen = (size_t)(colon - line);
        const uint8_t *v = colon + 1;
        while (v < line + len && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(line + len - v);
        if (klen == 14 && strncasecmp((const char *)line, "Content-Length", 14) == 0)
            t->content_length++;
        if (memchr(v, '\0', vlen) != NULL)
            t->nul = true;
        http_head_check_field(hc, (const char *)line, klen, (const char *)v, vlen);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_head_check hc;
    struct tally t = {0};
    const char *why = NULL;
    bool http10;
    unsigned once, twice;

    if (size == 0)
        return 0;
    http10 = (data[0] & 1) != 0;
    data++;
    size--;
    http_head_check_init(&hc);
    feed(&hc, data, size, &t);
    once = http_head_check_end(&hc, http10, &why);
    if (once != 0 && once != 400 && once != 501)
        abort();
    if ((once != 0) != (why != NULL))
        abort();
    if ((t.content_length > 1 || t.nul) && once == 0)
        abort();
    feed(&hc, data, size, &t);
    why = NULL;
    twice = http_head_check_end(&hc, http10, &why);
    if (once != 0 && twice == 0)
        abort();
    return 0;
}
