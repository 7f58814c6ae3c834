/*
 * sync: brings the ledger up to date with the store.
 *
 * The store queues what the ledger must record (store.h, "the ledger
 * queue"): every object version it accepts (those above the highest seq
 * the store has a leaf for) and every preservation action (ledger_events
 * rows without a leaf). ledger_sync
 * drains that queue into the ledger in batches (one ledger_append, one
 * store_ledger_mark per batch), so ingest never waits for the ledger and
 * every path that stores objects -- TAXII POST, import, federation pulls,
 * match --report -- is covered by the one queue.
 *
 * Crash safety: the ledger append is durable before the store records the
 * leaves. After a crash between the two, the store's highest recorded
 * leaf is below the ledger's size; the next sync reads those leaves back
 * and, when a pending entry equals one of them (same kind, time and
 * hash), records that leaf instead of appending it again.
 *
 * Not thread-safe for one ledger: one caller at a time (the serve loop, or
 * a CLI verb holding the ledger's writer lock). ledger_sync never logs.
 */
#ifndef MRD_LEDGER_SYNC_H
#define MRD_LEDGER_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "store/store.h"

/* The ledger directory inside a data directory. */
#define LEDGER_DATA_SUBDIR "ledger"
/* Leaves read back after a crash to recognise already-appended entries. */
#define LEDGER_SYNC_MAX_ORPHANS ((uint64_t)4 * LEDGER_MAX_BATCH)

/* Appends every queued entry to log and records its leaf in st.
 * *ret_appended (may be NULL) counts the leaves appended. On a store that
 * several processes share (store_shared), first copies the leaves the
 * database records beyond log's end (another process appended them), and
 * drains the queue only while this process leads the "ledger" role
 * (store_lead); ret_appended counts the copied leaves too. */
enum mrd_code ledger_sync(struct ledger *log, struct store *st, uint64_t *ret_appended,
                          struct mrd_err *err);

/* Checks that log is the ledger of st: it holds every leaf the store
 * records (a ledger behind its store is MRD_E_INVALID, saying what to do)
 * and each recorded leaf's entry is the one the store's row yields (kind,
 * time, SHA-256 of the stored bytes or the event record). The ledger may
 * be ahead of the store (leaves appended before a crash, or after a backup
 * was taken). *ret_checked (may be NULL) counts the leaves compared. O(n):
 * reads every stored object once. */
enum mrd_code ledger_store_check(struct ledger *log, struct store *st, uint64_t *ret_checked,
                                 struct mrd_err *err);

/* The cheap half of ledger_store_check: MRD_E_INVALID when the store
 * records a leaf the ledger does not have. */
enum mrd_code ledger_store_behind(struct ledger *log, struct store *st, struct mrd_err *err);

/* The ledger entry that records an object version stored with date_added
 * (usec) and these bytes. */
void ledger_object_entry(int64_t date_added_usec, const void *body, size_t len,
                         struct ledger_entry *ret);

/* ---- the ledger service of `meridian serve` ---- */

/* A ledger kept in step with a store by a background thread: it syncs
 * every LEDGER_SERVICE_TICK_MS and signs a checkpoint
 * every interval when the tree grew. Its thread logs (core/log.h) a
 * failed round as a warning, and the next success; the queue stays in the
 * store, so nothing is lost while it fails. */
#define LEDGER_SERVICE_TICK_MS 1000
#define LEDGER_CHECKPOINT_INTERVAL_DEFAULT 60 /* seconds */

struct ledger_service;

/* Opens DIR/ledger (creating it) for writing with fast proofs and starts
 * the thread, whose first round (at once) syncs and signs a checkpoint
 * when there is none or the tree grew. signer is copied. interval_s >= 1. */
enum mrd_code ledger_service_start(const char *data_dir, struct store *st,
                                   const struct ckpt_signer *signer, unsigned interval_s,
                                   struct ledger_service **ret, struct mrd_err *err);

/* Stops the thread, runs a last sync and checkpoint, closes the ledger.
 * NULL is a no-op. */
void ledger_service_stop(struct ledger_service *svc);

/* What /metrics and /readyz report, read without waiting for the
 * thread: the tree's size, when the newest checkpoint was signed (usec;
 * 0 when unknown) and whether the last round succeeded. */
struct ledger_service_status {
    uint64_t size;
    int64_t checkpoint_usec;
    bool healthy;
};
void ledger_service_status(struct ledger_service *svc, struct ledger_service_status *ret);

/* The log, for proofs and reads (no lock needed). */
struct ledger *ledger_service_log(struct ledger_service *svc);

/* Syncs, then signs a checkpoint of the current tree now (serialised with
 * the thread) and appends the note to out (may be NULL). */
enum mrd_code ledger_service_checkpoint(struct ledger_service *svc, struct mrd_buf *out,
                                        struct mrd_err *err);

/* Syncs, then runs fn(ctx, log, signer, err) serialised with the thread:
 * for work that signs into this ledger with the node's key while the
 * server runs (the console's evidence export: hold_export_build with
 * writable true). Returns what sync or fn returns. */
enum mrd_code ledger_service_with(struct ledger_service *svc,
                                  enum mrd_code (*fn)(void *ctx, struct ledger *log,
                                                      const struct ckpt_signer *signer,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);

#endif
