/*
 * cli_backup: the summary line `meridian backup` and `meridian restore`
 * both print.
 */
#ifndef MRD_CLI_BACKUP_H
#define MRD_CLI_BACKUP_H

#include "backup/backup.h"

/* Prints "meridian VERB: WHAT: node ..., N objects, ..." on stderr and the
 * archive's SHA-256 on stdout. */
void cli_backup_print(const char *verb, const char *what, const struct backup_report *r);

#endif
