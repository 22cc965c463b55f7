/*
 * core/metrics.h - counters, gauges and histograms, rendered in Prometheus text format.
 *
 * Metrics are registered at start-up (main thread, before serving) and updated from any
 * thread with relaxed atomics. Names start with "switchboard_".
 */
#ifndef SB_CORE_METRICS_H
#define SB_CORE_METRICS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct metric;

/* labels: preformatted, e.g. "result=\"accepted\"", or NULL. name/help/labels are borrowed
 * and must be static. Registering the same name+labels twice returns the first one. */
struct metric *metrics_counter(const char *name, const char *help, const char *labels);
struct metric *metrics_histogram(const char *name, const char *help, const double *bounds,
                                 int n_bounds);
typedef double metrics_gauge_fn(void *ctx);
/* fn is called at render time, on the rendering thread. */
void metrics_gauge(const char *name, const char *help, const char *labels, metrics_gauge_fn *fn,
                   void *ctx);

void metrics_inc(struct metric *m, uint64_t n);
void metrics_observe(struct metric *m, double value);
uint64_t metrics_value(const struct metric *m); /* a counter's value (tests, logs) */

MUST_USE enum err metrics_render(struct buf *out);
/* Forgets every metric (tests only). */
void metrics_reset(void);

#endif
