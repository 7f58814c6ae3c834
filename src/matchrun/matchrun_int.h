/*
 * matchrun internals shared by its files: diagnostics and the store walk.
 */
#ifndef MRD_MATCHRUN_INT_H
#define MRD_MATCHRUN_INT_H

#include "matchrun/matchrun.h"

/* Formats one diagnostic line and hands it to log (NULL-safe). */
void matchrun__say(const struct matchrun_log *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Walks the latest version of every indicator stored at data_dir (all
 * collections, or the one whose id is collection) and calls cb for each,
 * as match_stix_each() does for a file (store.c). */
enum mrd_code matchrun__store_each(const char *data_dir, const char *collection, char *scratch,
                                   match_stix_fn cb, void *ctx, struct mrd_err *err);

#endif
