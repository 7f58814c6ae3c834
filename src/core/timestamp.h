/*
 * timestamp: STIX and TAXII timestamps (RFC 3339, UTC only).
 *
 * STIX 2.1 §3.2: YYYY-MM-DDTHH:MM:SS[.fraction]Z, any number of fraction
 * digits, literal upper-case T and Z, no offsets. TAXII 2.1 §2: exactly six
 * fraction digits. Both reject month 13, Feb 30, hour 24, second 60, and
 * missing seconds. Fractions beyond nanoseconds are accepted and truncated
 * for comparison. Pure and thread-safe.
 */
#ifndef MRD_CORE_TIMESTAMP_H
#define MRD_CORE_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRD_TIME_TAXII_LEN 27   /* 2026-11-29T17:05:56.123456Z */
#define MRD_TIME_STIX_MS_LEN 24 /* 2026-11-29T17:05:56.123Z */

struct mrd_time {
    int64_t sec;         /* seconds since 1970-01-01T00:00:00Z */
    uint32_t nsec;       /* 0 .. 999,999,999 */
    uint8_t frac_digits; /* fraction digits written (capped at 255) */
};

/* Parses a STIX timestamp. Errors give the offset of the first bad byte. */
enum mrd_code mrd_time_parse(const char *s, size_t n, struct mrd_time *ret, struct mrd_err *err);

/* Parses a TAXII timestamp: a STIX timestamp with exactly six fraction
 * digits. */
enum mrd_code mrd_time_parse_taxii(const char *s, size_t n, struct mrd_time *ret,
                                   struct mrd_err *err);

/* <0, 0, >0 like strcmp; precision is ignored (…:00Z equals …:00.000Z). */
int mrd_time_cmp(const struct mrd_time *a, const struct mrd_time *b);

/* Microseconds since the epoch (truncating nanoseconds). */
int64_t mrd_time_to_usec(const struct mrd_time *t);
struct mrd_time mrd_time_from_usec(int64_t usec);

/* Writes the TAXII form (27 chars + NUL). */
void mrd_time_format_taxii(int64_t usec, char out[MRD_TIME_TAXII_LEN + 1]);
/* Writes the STIX millisecond form (24 chars + NUL). */
void mrd_time_format_stix_ms(int64_t usec, char out[MRD_TIME_STIX_MS_LEN + 1]);

/* Days since 1970-01-01 of a proleptic Gregorian date (y, m 1-12, d 1-31;
 * not range-checked), for parsers of other timestamp formats (log lines). */
int64_t mrd_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Wall-clock now, microseconds since the epoch. */
int64_t mrd_time_now_usec(void);

#endif
