/*
 * cli_forget: what `meridian retention` and `meridian erase` share: the
 * line (or JSON element) printed for each version erased or kept, and the
 * summary.
 */
#ifndef MRD_CLI_FORGET_H
#define MRD_CLI_FORGET_H

#include <stdbool.h>

#include <jansson.h>

#include "forget/forget.h"
#include "store/store.h"

struct cli_forget_out {
    bool dry_run;
    json_t *all; /* --json: the versions; NULL: text lines */
};

/* forget.h's callback: one line "ACTION TYPE ID VERSION [rule N]" on
 * stdout, or one element appended to o->all. */
enum mrd_code cli_forget_item(void *ctx, const struct forget_item *it, struct mrd_err *err);

/* The end of a run or an erasure whose call returned rc: prints its error
 * (exit 1 for MRD_E_NOTFOUND, else 2), or records what was erased in the
 * ledger (when no server holds it), prints the JSON document (when o->all)
 * and the summary on stderr. Consumes o->all. Returns the exit code. */
int cli_forget_done(const char *verb, enum mrd_code rc, const struct mrd_err *err, struct store *st,
                    const char *data, struct cli_forget_out *o, const struct forget_result *r);

#endif
