/*
 * pace.h: holding a long job (a backup) under a byte rate, so that it
 * leaves the machine to the node it runs beside.
 *
 * The job counts the bytes it moves (mrd_pace_add); whenever it is ahead
 * of rate bytes per second since it started, the call sleeps until it is
 * not. A rate of 0 never sleeps.
 */
#ifndef MERIDIAN_CORE_PACE_H
#define MERIDIAN_CORE_PACE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"

#define MRD_PACE_MIN_RATE ((uint64_t)1024 * 1024) /* below 1 MiB/s is a typo */

struct mrd_pace {
    uint64_t rate; /* bytes per second; 0: unlimited */
    uint64_t bytes;
    struct timespec start; /* CLOCK_MONOTONIC, at the first byte */
    bool started;
};

void mrd_pace_init(struct mrd_pace *p, uint64_t rate);

/* Counts n bytes moved; sleeps while the job is ahead of its rate. */
void mrd_pace_add(struct mrd_pace *p, uint64_t n);

/* Parses a rate: bytes per second, or with a K, M or G suffix (powers of
 * 1024), e.g. "64M". MRD_E_INVAL, naming s, for anything else or below
 * MRD_PACE_MIN_RATE. */
enum mrd_code mrd_pace_parse(const char *s, uint64_t *ret, struct mrd_err *err);

#endif
