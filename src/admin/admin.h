/*
 * admin: the administrative changes of a node (orgs, tokens, grants,
 * collections, peers, partners) and their audit trail (docs/admin.md,
 * "Audit trail").
 *
 * Every change made through this module is an audit record: an RFC 8785
 * JSON object saying who (the local user and uid for the CLI, the token
 * and its org over HTTP), what (object, action, target), when, and the
 * state before and after (never a token secret). The record is queued as
 * a ledger leaf of kind LEDGER_KIND_ADMIN (hash = SHA-256 of the record)
 * like hold actions are, and handed to the caller's log callback as one
 * line. `meridian audit` lists the records with their leaves; a record's
 * inclusion in the ledger is proved like any leaf's.
 *
 * A change in the store and its record are one transaction
 * (store_write_begin): both commit or neither does, so a crash never
 * leaves a change without its record, and a change that fails or is
 * rolled back leaves no record. Peers live in fed.db, a database of its
 * own: their record is queued in the store transaction first, then the
 * fed.db change is committed, then the record; a failed peer change
 * leaves no record, and only a crash between those two commits (a window
 * of one fsync) could leave a peer change unrecorded. A store backend
 * without write transactions (store_write_begin: MRD_E_UNSUPP) commits
 * the change and then its record, each on its own, as before.
 *
 * Other modules that make administrative changes in the store (feeds,
 * the console) call admin_apply() with their own object and action
 * names: one call, the change and its record in one transaction.
 *
 * Not here: argument parsing and printing (cli/), the checks of each
 * change (store.h, fed.h). Never logs itself: see struct admin.log.
 * Threading: a struct admin is used by one thread at a time.
 */
#ifndef MRD_ADMIN_ADMIN_H
#define MRD_ADMIN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "fed/fed.h"
#include "store/store.h"

#define ADMIN_RECORD_TYPE "meridian-admin-action"
#define ADMIN_LINE_MAX 512 /* one log line */
#define ADMIN_ACTOR_MAX 160
#define ADMIN_TARGET_MAX 160
#define ADMIN_PENDING_MAX 8 /* audit records one change may make */

/* Who makes a change. */
struct admin_actor {
    char via[8];                /* "cli" or "http" */
    char name[ADMIN_ACTOR_MAX]; /* "alice" (uid 1000), or the token name */
    char org[STORE_NAME_MAX + 1];
    long uid; /* cli: the real uid; -1 over http */
};

/* The local user running this process (its real uid, the user name from
 * the password database, and SUDO_USER when run through sudo). */
void admin_actor_cli(struct admin_actor *ret);
/* The holder of an API token, for changes made over HTTP. */
void admin_actor_token(const struct store_token *t, struct admin_actor *ret);

struct admin {
    struct store *st;
    const char *data_dir; /* where fed.db is (peers) */
    struct admin_actor who;
    /* Receives each audit record's log line ("audit: ..."); may be NULL. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    /* Private to admin.c: the change being made and the log lines of its
     * records, written once it has committed (zeroed by the caller). */
    unsigned depth;
    bool no_tx; /* the store backend has no write transactions (store_write_begin) */
    size_t n_pending;
    char pending[ADMIN_PENDING_MAX][ADMIN_LINE_MAX];
};

/* What a change made through admin_apply says about itself, for its
 * record: the target (its name) and the state before and after. */
struct admin_change {
    char target[ADMIN_TARGET_MAX];
    json_t *before, *after; /* owned (admin_apply drops them); NULL = none */
};

/* Makes one administrative change and its audit record in one store
 * transaction: change(ctx, st, rec, err) makes its store calls (they all
 * join the transaction) and fills rec; the record -- object ("feed",
 * ...), action ("add", "remove", ...), rec -- is then queued in the same
 * transaction, and both commit, or neither when change or the record
 * fails. The record's log line is written after the commit. */
enum mrd_code admin_apply(struct admin *a, const char *object, const char *action,
                          enum mrd_code (*change)(void *ctx, struct store *st,
                                                  struct admin_change *rec, struct mrd_err *err),
                          void *ctx, struct mrd_err *err);

/* Queues one audit record: object ("org", "token", "grant", "collection",
 * "peer", "partner", "feed", ...), action ("create", "disable", ...),
 * target (its name), before and after (JSON, borrowed, NULL = none).
 * Inside a change (admin_apply and the calls below) it joins the change's
 * transaction; alone, it is a transaction of its own. *ret_ev (may be
 * NULL) is the record's event number. */
enum mrd_code admin_audit(struct admin *a, const char *object, const char *action,
                          const char *target, json_t *before, json_t *after, int64_t *ret_ev,
                          struct mrd_err *err);

/* ---- orgs ---- */

enum mrd_code admin_org_create(struct admin *a, const char *name, enum policy_relation rel,
                               struct store_org *ret, struct mrd_err *err);

/* What an org or partner change did, for the caller to report. */
struct admin_report {
    struct store_org_change org;
    unsigned sessions_ended;
    bool peer_found;   /* a peer of the same name */
    bool peer_changed; /* it was disabled, enabled or removed */
};

/* Disable: the org's tokens and client certificates are refused (401)
 * until enabled; its console sessions end; the peer of the same name (if
 * any) is disabled. Grants, tokens and objects stay. The own org cannot be
 * disabled (MRD_E_PERM). */
enum mrd_code admin_org_disable(struct admin *a, const char *name, struct admin_report *ret,
                                struct mrd_err *err);
/* Enable: tokens that are neither revoked nor expired work again; the
 * peer of the same name is enabled. */
enum mrd_code admin_org_enable(struct admin *a, const char *name, struct admin_report *ret,
                               struct mrd_err *err);
/* Delete: tokens revoked, grants removed, sessions ended, the peer of the
 * same name removed (its cursors with it). The org stays as a tombstone:
 * objects it wrote stay with everyone who may read them (deleting an org
 * never deletes intelligence others received), and its name is never
 * reused. Not the own org (MRD_E_PERM). */
enum mrd_code admin_org_delete(struct admin *a, const char *name, struct admin_report *ret,
                               struct mrd_err *err);

/* Partner revoke: every token of org name revoked, every grant removed,
 * its sessions ended, the org disabled, and the peer of the same name
 * disabled (kept, with its cursors, for the record). One audit record
 * lists what was done. At least the org or the peer must exist
 * (MRD_E_NOTFOUND); never the own org (MRD_E_PERM). */
enum mrd_code admin_partner_revoke(struct admin *a, const char *name, struct admin_report *ret,
                                   struct mrd_err *err);

/* ---- tokens ---- */

enum mrd_code admin_token_create(struct admin *a, const char *org, const char *name,
                                 int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                 struct store_token *ret, struct mrd_err *err);
/* Revokes, and ends the token's console sessions. */
enum mrd_code admin_token_revoke(struct admin *a, const char *name_or_prefix,
                                 struct store_token *ret, struct mrd_err *err);
enum mrd_code admin_token_rotate(struct admin *a, const char *name, int64_t overlap_usec,
                                 char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                 struct mrd_err *err);

/* ---- grants and collections ---- */

enum mrd_code admin_grant_set(struct admin *a, const struct store_org *org,
                              const struct store_collection *c, struct store_grant g,
                              struct mrd_err *err);
enum mrd_code admin_collection_create(struct admin *a, struct store_collection *c,
                                      struct mrd_err *err);

/* ---- peers (fed.db) ---- */

enum mrd_code admin_peer_add(struct admin *a, const struct fed_peer *p, struct mrd_err *err);
/* Replaces p->name's configuration; its cursors stay. */
enum mrd_code admin_peer_update(struct admin *a, const struct fed_peer *p, struct mrd_err *err);
enum mrd_code admin_peer_remove(struct admin *a, const char *name, struct mrd_err *err);
enum mrd_code admin_peer_set_enabled(struct admin *a, const char *name, bool enabled,
                                     struct mrd_err *err);

/* ---- rule files (admin_rules.c) ---- */

/* A rule file of the data directory: a JSON object whose "rules" array is
 * changed one rule at a time, each change checked by the parser the node
 * reads the file with, written atomically and audited (object: its
 * `object` name, action "add-rule" or "remove-rule"). */
struct admin_rules_file {
    const char *name;   /* in the data directory */
    const char *object; /* the audit record's object */
    size_t max_bytes;
    size_t max_rules;
    /* the whole candidate file: MRD_E_PARSE (or another code) naming the member */
    enum mrd_code (*check)(struct store *st, const char *text, size_t len, struct mrd_err *err);
    const char *secret; /* a rule member never shown nor recorded ("key"), or NULL */
};
extern const struct admin_rules_file admin_privacy_rules;   /* privacy-policy.json */
extern const struct admin_rules_file admin_retention_rules; /* retention.json */

/* The file as a JSON object with a "rules" array ({"rules": []} when
 * absent); MRD_E_PARSE when it is not one. */
enum mrd_code admin_rules_read(const char *dir, const struct admin_rules_file *f, json_t **ret,
                               struct mrd_err *err);
/* A copy of rules with the secret member of each rule replaced. */
json_t *admin_rules_redacted(const struct admin_rules_file *f, const json_t *rules);
/* Appends rule (checked with the whole file); uses a->data_dir. */
enum mrd_code admin_rule_add(struct admin *a, const struct admin_rules_file *f, const json_t *rule,
                             struct mrd_err *err);
/* Removes rule n (1-based, as listed); MRD_E_NOTFOUND past the last. */
enum mrd_code admin_rule_remove(struct admin *a, const struct admin_rules_file *f, size_t n,
                                struct mrd_err *err);

/* ---- the trail ---- */

/* One audit trail entry: a ledger event (hold or administrative action). */
struct admin_event {
    int64_t ev;
    const char *kind; /* "admin", "hold-create", ... */
    int64_t time_usec;
    int64_t leaf; /* -1 until the ledger records it */
    const char *record;
    size_t record_len;
    const uint8_t *hash; /* SHA-256 of record: the leaf's hash */
};

/* Calls cb for each event queued at or after since_usec (STORE_TIME_NONE:
 * all), oldest first. */
enum mrd_code admin_audit_list(struct store *st, int64_t since_usec,
                               enum mrd_code (*cb)(void *ctx, const struct admin_event *e,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);

#endif
