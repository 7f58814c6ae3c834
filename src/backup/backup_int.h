/*
 * backup_int: what backup.c (writing) and restore.c (reading) share.
 */
#ifndef MRD_BACKUP_INT_H
#define MRD_BACKUP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "backup/backup.h"

#define BACKUP_IO_CHUNK ((size_t)1024 * 1024) /* bytes per read/write */
#define BACKUP_LEDGER_LOG "ledger/log"
#define BACKUP_LEDGER_CKPT "ledger/checkpoint"

/* A top-level member name: 1..64 chars of [A-Za-z0-9._-], not starting
 * with '.' (no paths, nothing that climbs out of the data directory). */
bool backup__name_ok(const char *name);

/* The size of the file at path; 0 when it cannot be read (the copy then
 * fails with the reason). */
uint64_t backup__file_size(const char *path);

#endif
