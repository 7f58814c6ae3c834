/* The verbs main.c dispatches to; each is defined in cli/cli_<verb>.c. */
#ifndef MRD_CLI_VERBS_H
#define MRD_CLI_VERBS_H

#include "cli/cli.h"

extern const struct cli_verb cli_verb_asset;
extern const struct cli_verb cli_verb_audit;
extern const struct cli_verb cli_verb_backup;
extern const struct cli_verb cli_verb_bgp;
extern const struct cli_verb cli_verb_dns;
extern const struct cli_verb cli_verb_collection;
extern const struct cli_verb cli_verb_config;
extern const struct cli_verb cli_verb_conflicts;
extern const struct cli_verb cli_verb_contact;
extern const struct cli_verb cli_verb_demo;
extern const struct cli_verb cli_verb_erase;
extern const struct cli_verb cli_verb_evidence;
extern const struct cli_verb cli_verb_export;
extern const struct cli_verb cli_verb_feed;
extern const struct cli_verb cli_verb_grant;
extern const struct cli_verb cli_verb_hold;
extern const struct cli_verb cli_verb_import;
extern const struct cli_verb cli_verb_init;
extern const struct cli_verb cli_verb_key;
extern const struct cli_verb cli_verb_ledger;
extern const struct cli_verb cli_verb_match;
extern const struct cli_verb cli_verb_migrate;
extern const struct cli_verb cli_verb_notify;
extern const struct cli_verb cli_verb_org;
extern const struct cli_verb cli_verb_pattern;
extern const struct cli_verb cli_verb_partner;
extern const struct cli_verb cli_verb_peer;
extern const struct cli_verb cli_verb_privacy;
extern const struct cli_verb cli_verb_search;
extern const struct cli_verb cli_verb_restore;
extern const struct cli_verb cli_verb_retention;
extern const struct cli_verb cli_verb_serve;
extern const struct cli_verb cli_verb_store;
extern const struct cli_verb cli_verb_sync;
extern const struct cli_verb cli_verb_token;
extern const struct cli_verb cli_verb_validate;
extern const struct cli_verb cli_verb_version;

#endif
