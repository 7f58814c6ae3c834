/*
 * match_store: active indicators out of the node's store for `meridian
 * match --data DIR`.
 */
#include "cli/match_run.h"

enum mrd_code match_load_store(struct match_set *set, const char *data_dir, const char *collection,
                               int64_t now, uint64_t *active, uint64_t *inactive,
                               uint64_t *unsupported, struct mrd_err *err)
{
    (void)set;
    (void)collection;
    (void)now;
    (void)active;
    (void)inactive;
    (void)unsupported;
    return mrd_err_set(err, MRD_E_UNSUPP,
                       "%s: loading indicators from the store is not supported yet", data_dir);
}
