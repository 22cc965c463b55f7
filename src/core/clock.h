/*
 * core/clock.h - wall-clock and monotonic time, in named units.
 */
#ifndef SB_CORE_CLOCK_H
#define SB_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_now_ms(void);  /* Unix time, milliseconds */
int64_t clock_mono_us(void); /* monotonic, microseconds, for durations */
/* Formats Unix milliseconds as "2026-11-24T12:00:00.123Z" into out (at least 25 bytes). */
void clock_format_iso(int64_t unix_ms, char *out, size_t out_len);
/* Sleeps for ms milliseconds (restarted on EINTR). */
void clock_sleep_ms(int64_t ms);
void clock_sleep_us(int64_t us);

#endif
