/*
 * forget_int.h: what forget.c and request.c share: the walk that collects
 * versions into batches, reports each and erases a batch per transaction.
 */
#ifndef MRD_FORGET_INT_H
#define MRD_FORGET_INT_H

#include <limits.h>

#include <jansson.h>

#include "forget/forget.h"

/* The versions of one transaction, with what the record says of each. */
struct forget__batch {
    int64_t seqs[FORGET_BATCH];
    size_t n;
    json_t *versions; /* [{type, sha256, leaf}] of the versions to erase */
};

/* What is common to a run's or a request's records. */
struct forget__context {
    const char *action; /* "retention" or "erasure" */
    const struct forget_erase_req *req;
    int64_t now;
};

/* One run or erasure: versions are taken one by one (reported, checked
 * against the holds, batched) and erased a batch at a time (flush). */
struct forget__walk {
    struct store *st;
    struct forget__context cx;
    bool dry_run;
    enum mrd_code (*cb)(void *ctx, const struct forget_item *it, struct mrd_err *err);
    void *ctx;
    struct forget_result res;
    struct forget__batch b;
    /* NULL: every version found is taken; else only those allow() says
     * (the others are counted in refused) */
    bool (*allow)(void *actx, const struct store_held *o);
    void *actx;
    size_t refused;
    /* NULL: not tracked; else [[collection, tlp, id], ...] of each version
     * erased (for erasure requests) */
    json_t *gone;
};

void forget__walk_init(struct forget__walk *w, struct store *st, const char *action,
                       const struct forget_erase_req *req, int64_t now, bool dry_run,
                       enum mrd_code (*cb)(void *, const struct forget_item *, struct mrd_err *),
                       void *ctx);
void forget__walk_release(struct forget__walk *w);
enum mrd_code forget__take(struct forget__walk *w, const struct forget_item *it,
                           struct mrd_err *err);
enum mrd_code forget__flush(struct forget__walk *w, struct mrd_err *err);

/* Takes every version of object id (w->allow filtering) and erases them. */
enum mrd_code forget__erase_object(struct forget__walk *w, const char *id, size_t id_len,
                                   struct mrd_err *err);

/* Reads DIR/name into text (its maximum set by the caller); a missing
 * file is MRD_OK with *ret_found false. path gets the file's path. */
enum mrd_code forget__read_optional(const char *dir, const char *name, struct mrd_buf *text,
                                    bool *ret_found, char path[PATH_MAX], struct mrd_err *err);

/* Stores the signed erasure requests for the versions in gone (request.c). */
enum mrd_code forget__publish(struct store *st, struct forget_publish *pub,
                              const struct forget_erase_req *req, const json_t *gone, int64_t now,
                              struct mrd_err *err);

#endif
