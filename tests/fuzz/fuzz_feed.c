/* libFuzzer target for what a feed round reads from the network: a fetched
 * body through the import pipeline (feed_import_buffer) into a real store,
 * as a text list, a CSV list or JSON (STIX, MISP), chosen by the first
 * byte. The store lives in a directory under $TMPDIR made at the first
 * input and removed at exit.
 *
 * Properties checked besides "no crash, no leak, no UB": the counts add
 * up (added + already present + invalid + conflicts never exceed what was
 * read, and nothing is invalid unless something was read), and the verdict
 * is FEED_INVALID whenever an entry was invalid. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static struct store *st;
static struct store_org org;
static struct store_collection coll;

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void cleanup(void)
{
    store_close(st);
    if (dir[0] != '\0' && nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "fuzz_feed: could not remove %s\n", dir);
}

static void setup(void)
{
    struct store_open_opts opts = {.create = true, .max_conn = 2};
    struct store_api_root root = {
        .name = "fz", .title = "fuzz", .max_content_length = STORE_DEFAULT_MAX_CONTENT};
    const char *tmp = getenv("TMPDIR");
    struct mrd_err err = {0};

    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";

    (void)snprintf(dir, sizeof(dir), "%s/mrd-fuzz-feed-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL || store_open(dir, &opts, &st, &err) != MRD_OK ||
        store_org_create(st, "own", POLICY_REL_OWN, &org, &err) != MRD_OK ||
        store_api_root_put(st, &root, NULL, &err) != MRD_OK)
        abort();
    (void)snprintf(coll.api_root, sizeof(coll.api_root), "fz");
    (void)snprintf(coll.title, sizeof(coll.title), "fuzz");
    coll.default_tlp = POLICY_TLP_GREEN;
    if (store_collection_create(st, &coll, &err) != MRD_OK)
        abort();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed_import_opts io;
    struct feed_importer *im = NULL;
    struct feed_counts c = {0};
    enum feed_verdict v;

    if (st == NULL)
        setup();
    if (size == 0)
        return 0;
    memset(&io, 0, sizeof(io));
    feed_list_opts_init(&io.list);
    io.list.text = data[0] % 3 == 0;
    io.list.csv = data[0] % 3 == 1;
    io.repair = (data[0] & 0x80) != 0;
    (void)snprintf(io.list.valid_from, sizeof(io.list.valid_from), "2026-01-01T00:00:00.000Z");
    if (feed_importer_new(st, &coll, &org, NULL, &io, NULL, &im, NULL) != MRD_OK)
        abort();
    v = feed_import_buffer(im, "fuzz", (const char *)data + 1, size - 1, &c);
    if (c.added + c.duplicates + c.invalid > c.objects + c.conflicts)
        abort();
    if (c.invalid > 0 && v == FEED_OK)
        abort();
    feed_importer_free(im);
    return 0;
}
