/*
 * err: the one error type of Meridian.
 *
 * Fallible functions return enum mrd_code and take `struct mrd_err *err`
 * last (NULL allowed). The first message set wins; callers add context with
 * mrd_err_prefix(). Messages are lowercase with no final period; parser
 * errors name the offset and the spec section.
 * Codes are append-only and never renumbered (they reach logs and scripts).
 * Thread-safe: no global state. Never logs.
 */
#ifndef MRD_CORE_ERR_H
#define MRD_CORE_ERR_H

#include <stddef.h>

/* The only X-macro in the tree: code, name. Append only. */
#define MRD_CODE_TABLE(X)                                                                          \
    X(MRD_OK, "ok")                                                                                \
    X(MRD_E_NOMEM, "out of memory")                                                                \
    X(MRD_E_PARSE, "parse error")                                                                  \
    X(MRD_E_TOOBIG, "too big")                                                                     \
    X(MRD_E_INVAL, "invalid argument")                                                             \
    X(MRD_E_IO, "i/o error")                                                                       \
    X(MRD_E_NOTFOUND, "not found")                                                                 \
    X(MRD_E_EXISTS, "already exists")                                                              \
    X(MRD_E_UNSUPP, "not supported")                                                               \
    X(MRD_E_PERM, "permission denied")                                                             \
    X(MRD_E_AUTH, "authentication required")                                                       \
    X(MRD_E_CONFLICT, "conflict")                                                                  \
    X(MRD_E_DB, "database error")                                                                  \
    X(MRD_E_CRYPTO, "cryptographic failure")                                                       \
    X(MRD_E_TIMEOUT, "timed out")                                                                  \
    X(MRD_E_INTERNAL, "internal error")                                                            \
    X(MRD_E_INVALID, "invalid content")                                                            \
    X(MRD_E_UNAVAIL, "unavailable")

enum mrd_code {
#define MRD_X_ENUM(code, name) code,
    MRD_CODE_TABLE(MRD_X_ENUM)
#undef MRD_X_ENUM
};

#define MRD_ERR_MSG_MAX 256

struct mrd_err {
    enum mrd_code code;
    int sys_errno;
    char msg[MRD_ERR_MSG_MAX];
};

/* Records code and a printf-style message unless a message is already set,
 * and returns code, so `return mrd_err_set(err, MRD_E_PARSE, "...")` fails in
 * one line. err may be NULL. */
enum mrd_code mrd_err_set(struct mrd_err *err, enum mrd_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As mrd_err_set, and appends ": strerror(errnum)" and keeps errnum. */
enum mrd_code mrd_err_sys(struct mrd_err *err, enum mrd_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Puts "prefix: " in front of the message already set (truncating). */
void mrd_err_prefix(struct mrd_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forgets any recorded error. */
void mrd_err_clear(struct mrd_err *err);

/* A stable short name for a code ("parse error"); never NULL. */
const char *mrd_code_str(enum mrd_code code);

#endif
