/*
 * log: one-line log records on stderr for cli/ (serve included).
 *
 * Library code never logs; it returns errors. Each record is
 * "2026-11-29T17:05:56.123456Z LEVEL message\n", written with one write(2)
 * so lines from several threads never interleave.
 */
#ifndef MRD_CORE_LOG_H
#define MRD_CORE_LOG_H

enum mrd_log_level { MRD_LOG_DEBUG, MRD_LOG_INFO, MRD_LOG_WARN, MRD_LOG_ERROR };

/* Records below level are dropped (default MRD_LOG_INFO). */
void mrd_log_set_level(enum mrd_log_level level);
void mrd_log(enum mrd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
