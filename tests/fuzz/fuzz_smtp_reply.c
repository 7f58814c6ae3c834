/* libFuzzer target for the SMTP reply parser (deliver.h,
 * notify_smtp_reply_parse): what a relay, or anyone posing as one, sends.
 *
 * Input: the bytes a relay sent, parsed reply after reply as the client
 * does. Properties checked besides "no crash, no leak, no UB": a complete
 * reply takes at least one byte and no more than given, its code is
 * 200..599, its text is NUL-terminated within NOTIFY_SMTP_REPLY_MAX and
 * holds no control character but the '\n' joining its lines; an
 * incomplete one takes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/deliver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct notify_smtp_reply *r = malloc(sizeof(*r));

    if (r == NULL)
        return 0;
    while (size > 0) {
        struct mrd_err err = {0};
        size_t used = 0;
        if (notify_smtp_reply_parse(p, size, r, &used, &err) != MRD_OK) {
            if (err.msg[0] == '\0')
                abort(); /* an error always says what */
            break;
        }
        if (used == 0)
            break; /* incomplete: the client would read more */
        if (used > size || r->code < 200 || r->code > 599 ||
            strlen(r->text) > NOTIFY_SMTP_REPLY_MAX)
            abort();
        for (const char *t = r->text; *t != '\0'; t++)
            if ((*t > 0 && *t < ' ' && *t != '\n') || *t == 0x7f)
                abort();
        p += used;
        size -= used;
    }
    free(r);
    return 0;
}
