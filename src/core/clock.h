/* Monotonic milliseconds: every wait in postern is against a deadline. */
#ifndef POSTERN_CLOCK_H
#define POSTERN_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline, never negative; for poll(). */
static inline int clock_left(int64_t deadline)
{
	int64_t left = deadline - clock_ms();

	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

#endif
