/*
 * fuzz_conf: config files (conf_load_buf over the serve key table). Never
 * crashes; every error names a line ("fuzz:N: ..."); no error message (they
 * quote names and values from the file) holds a raw control character or
 * invalid UTF-8, nor does the escaped input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
    if (!mrd_utf8_valid(s, n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c;
    char esc[512];
    size_t n;

    if (conf_init(&c, conf_serve_keys, CONF_SERVE__COUNT, NULL) != MRD_OK)
        return 0;
    (void)conf_load_buf(&c, "fuzz", (const char *)data, size, NULL);
    for (size_t i = 0; i < c.nerrors && i < CONF_MAX_ERRORS; i++) {
        const char *e = c.errors[i];
        if (strncmp(e, "fuzz:", 5) != 0 || e[5] < '1' || e[5] > '9')
            abort();
        printable(e, strlen(e));
    }
    conf_release(&c);
    n = strlen(mrd_str_escape(esc, sizeof(esc), (const char *)data, size));
    if (n >= sizeof(esc))
        abort();
    printable(esc, n);
    return 0;
}
