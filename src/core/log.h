/*
 * log: one-line log records for cli/ (serve included).
 *
 * Library code never logs; it returns errors. A record goes to one sink:
 * stderr (the default), a file (appended; mrd_log_reopen() after a
 * rotation, which serve calls on SIGHUP) or syslog(3) (journald on a
 * systemd machine). As text a record is
 * "2026-11-29T17:05:56.123456Z LEVEL message\n"; as JSON lines it is
 * {"time":"...","level":"INFO","msg":"..."} or, for mrd_log_kv(),
 * {"time":"...","level":"INFO","event":"access","key":"value",...}.
 * Each record is written with one write(2) (or one syslog call), so lines
 * from several threads never interleave. Values from outside are escaped
 * (mrd_str_escape) by mrd_log_kv; mrd_log's callers escape their own.
 */
#ifndef MRD_CORE_LOG_H
#define MRD_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define MRD_LOG_MAX_LINE 4096 /* one record; longer ones are cut */

enum mrd_log_level { MRD_LOG_DEBUG, MRD_LOG_INFO, MRD_LOG_WARN, MRD_LOG_ERROR };

/* Records below level are dropped (default MRD_LOG_INFO). */
void mrd_log_set_level(enum mrd_log_level level);
void mrd_log(enum mrd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where records go: "stderr", "syslog" or a file path (created mode 0640,
 * appended to). Call before any thread logs. MRD_E_IO when the file cannot
 * be opened; the sink is then unchanged. */
enum mrd_code mrd_log_open(const char *target, struct mrd_err *err);
/* Opens the file sink's path again (after logrotate moved it); the old
 * descriptor is replaced atomically (dup2), so concurrent writers never
 * write to a closed one. No-op for stderr and syslog. */
enum mrd_code mrd_log_reopen(struct mrd_err *err);
/* Closes a file or syslog sink and goes back to stderr. */
void mrd_log_close(void);
/* JSON lines instead of text. */
void mrd_log_set_json(bool json);

/* One field of a structured record: a string (escaped on output; NULL
 * prints as "-" / null) or, when str is NULL and is_num, a number. */
struct mrd_log_kv {
    const char *key;
    const char *str;
    double num;
    bool is_num;
};

/* A structured record: text "event k=v k=v ...", or one JSON object. */
void mrd_log_kv(enum mrd_log_level level, const char *event, const struct mrd_log_kv *kv, size_t n);

#endif
