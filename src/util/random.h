/* Random numbers for jitter and identifiers that need not be secret. */
#ifndef CR_RANDOM_H
#define CR_RANDOM_H

#include <stdint.h>

/*
 * 32 random bits from getrandom(); without it (an old kernel, a seccomp
 * filter), a mix of the time, the pid and the clock: jitter does not need
 * to be unpredictable, only spread.
 */
uint32_t random_u32(void);

#endif
