/*
 * cli_fed: the federation pieces `meridian serve` runs (defined in
 * cli_sync.c): fed's routes in the node's JSON API, and the background
 * sync runner that logs each peer's round.
 */
#ifndef MRD_CLI_CLI_FED_H
#define MRD_CLI_CLI_FED_H

#include "api/api.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "store/store.h"
#include "taxii/taxii.h"

#define CLI_FED_DEFAULT_INTERVAL_MS 30000u

struct cli_fed;

/* Loads the node key and the peers' keys of data_dir (no threads yet) and
 * fills *ret_ingest with the POST ingest step (sign local objects, verify
 * received ones). Returns CLI_EXIT_OK or prints the error. */
int cli_fed_new(const char *data_dir, struct taxii_ingest *ret_ingest, struct cli_fed **ret);

/* Adds fed's routes to the JSON API (router) and, when interval_ms > 0,
 * starts a sync round per peer every interval_ms. Call after the stop
 * signals are blocked (it starts threads). Returns CLI_EXIT_OK or prints
 * the error. */
int cli_fed_start(struct cli_fed *f, struct store *st, unsigned interval_ms,
                  struct api_router *router);

/* The keys signatures verify against (the node's and the peers'), for the
 * console's object pages; NULL before cli_fed_new succeeded. */
const struct crypto_keyring *cli_fed_keyring(const struct cli_fed *f);

/* The node key and the trusted keys, for other services that sign what
 * the node creates (early warning); NULL before cli_fed_new succeeded. */
const struct fed_trust *cli_fed_trust(const struct cli_fed *f);
/* The outbound privacy policy (privacy.h) loaded with the node's trust,
 * read again when its file changes; NULL before cli_fed_new succeeded. */
struct privacy_live *cli_fed_privacy(const struct cli_fed *f);

/* Stops the runner and frees everything; after the HTTP server is freed
 * and before the store is closed. NULL-safe. */
void cli_fed_stop(struct cli_fed *f);

#endif
