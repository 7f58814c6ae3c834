/* pmatch internals shared by its files; no other module includes this. */
#ifndef MRD_PMATCH_INT_H
#define MRD_PMATCH_INT_H

/* Formats one line (at most 511 bytes) and hands it to log (NULL: none). */
void pmatch__say(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
