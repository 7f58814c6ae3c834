/*
 * tar: strict POSIX ustar headers, shared by the archive writers and
 * readers (evidence packages, node backups).
 *
 * Writers produce one kind of header only: a regular file ('0') with a
 * name of at most MRD_TAR_NAME_MAX bytes, owner 0, no time (so an
 * archive's bytes depend on its content only) and user/group "meridian".
 * The parser accepts exactly that shape and refuses anything else (bad
 * checksum, other types, long-name prefixes, data in unused fields), so no
 * byte of an archive goes unchecked. Sizes up to 8 GiB - 1 use the octal
 * field; larger ones the base-256 form GNU tar and bsdtar read.
 * Pure: no I/O, no allocation. Thread-safe.
 */
#ifndef MRD_CORE_TAR_H
#define MRD_CORE_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRD_TAR_BLOCK 512
#define MRD_TAR_NAME_MAX 99

/* Fills h with the header of a regular file: name (1..MRD_TAR_NAME_MAX
 * bytes), size bytes, mode (e.g. 0644). MRD_E_INVAL for a bad name. */
enum mrd_code mrd_tar_header(uint8_t h[MRD_TAR_BLOCK], const char *name, uint64_t size,
                             unsigned mode, struct mrd_err *err);

/* Parses a header written by mrd_tar_header (or by another ustar writer
 * with the same shape): the name (NUL-terminated), the size and the mode.
 * MRD_E_PARSE, naming what is wrong, otherwise. */
enum mrd_code mrd_tar_header_parse(const uint8_t h[MRD_TAR_BLOCK],
                                   char ret_name[MRD_TAR_NAME_MAX + 1], uint64_t *ret_size,
                                   unsigned *ret_mode, struct mrd_err *err);

/* Zero bytes that follow a member of size bytes to the next block. */
size_t mrd_tar_padding(uint64_t size);

/* True when the n bytes at p are all zero (end-of-archive blocks, padding). */
bool mrd_tar_zero(const uint8_t *p, size_t n);

#endif
