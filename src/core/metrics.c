/*
 * core/metrics.c - a fixed-size registry of metrics and the text exposition format.
 */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#define METRICS_MAX        128
#define METRICS_BOUNDS_MAX 16

enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM };

struct metric {
    const char *name, *help, *labels;
    enum mtype type;
    _Atomic uint64_t value;
    metrics_gauge_fn *fn;
    void *ctx;
    double bounds[METRICS_BOUNDS_MAX];
    int n_bounds;
    _Atomic uint64_t buckets[METRICS_BOUNDS_MAX + 1];
    _Atomic uint64_t sum_micro; /* sum of observations, in millionths */
};

static struct metric g_metrics[METRICS_MAX];
static int g_n;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static struct metric *add(const char *name, const char *help, const char *labels, enum mtype t)
{
    pthread_mutex_lock(&g_lock);
    struct metric *m = NULL;
    for (int i = 0; i < g_n && !m; i++)
        if (strcmp(g_metrics[i].name, name) == 0 &&
            strcmp(g_metrics[i].labels ? g_metrics[i].labels : "", labels ? labels : "") == 0)
            m = &g_metrics[i];
    if (!m && g_n < METRICS_MAX) {
        m = &g_metrics[g_n++];
        m->name = name;
        m->help = help;
        m->labels = labels;
        m->type = t;
    }
    pthread_mutex_unlock(&g_lock);
    return m; /* NULL only past METRICS_MAX, a programming error caught by tests */
}

struct metric *metrics_counter(const char *name, const char *help, const char *labels)
{
    return add(name, help, labels, M_COUNTER);
}

struct metric *metrics_histogram(const char *name, const char *help, const double *bounds,
                                 int n_bounds)
{
    struct metric *m = add(name, help, NULL, M_HISTOGRAM);
    if (m && !m->n_bounds) {
        m->n_bounds = n_bounds > METRICS_BOUNDS_MAX ? METRICS_BOUNDS_MAX : n_bounds;
        memcpy(m->bounds, bounds, sizeof(double) * (size_t)m->n_bounds);
    }
    return m;
}

void metrics_gauge(const char *name, const char *help, const char *labels, metrics_gauge_fn *fn,
                   void *ctx)
{
    struct metric *m = add(name, help, labels, M_GAUGE);
    if (m) {
        m->fn = fn;
        m->ctx = ctx;
    }
}

void metrics_inc(struct metric *m, uint64_t n)
{
    atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
}

uint64_t metrics_value(const struct metric *m)
{
    return atomic_load_explicit(&m->value, memory_order_relaxed);
}

void metrics_observe(struct metric *m, double v)
{
    int i = 0;
    while (i < m->n_bounds && v > m->bounds[i])
        i++;
    atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
    if (v > 0 && isfinite(v))
        atomic_fetch_add_explicit(&m->sum_micro, (uint64_t)(v * 1e6), memory_order_relaxed);
}

static const char *type_name(enum mtype t)
{
    return t == M_COUNTER ? "counter" : t == M_GAUGE ? "gauge" : "histogram";
}

static enum err render_histogram(struct buf *out, struct metric *m)
{
    enum err rc = ERR_OK;
    uint64_t cum = 0;
    for (int i = 0; i <= m->n_bounds && rc == ERR_OK; i++) {
        cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        if (i < m->n_bounds)
            rc = buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", m->name, m->bounds[i],
                            (unsigned long long)cum);
        else
            rc = buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", m->name, (unsigned long long)cum);
    }
    if (rc == ERR_OK)
        rc = buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", m->name,
                        (double)atomic_load(&m->sum_micro) / 1e6, m->name, (unsigned long long)cum);
    return rc;
}

static enum err render_one(struct buf *out, struct metric *m)
{
    const char *lb = m->labels ? "{" : "", *le = m->labels ? "}" : "";
    const char *labels = m->labels ? m->labels : "";
    switch (m->type) {
    case M_COUNTER:
        return buf_printf(out, "%s%s%s%s %llu\n", m->name, lb, labels, le,
                          (unsigned long long)metrics_value(m));
    case M_GAUGE:
        return buf_printf(out, "%s%s%s%s %.17g\n", m->name, lb, labels, le, m->fn(m->ctx));
    case M_HISTOGRAM:
        return render_histogram(out, m);
    }
    return ERR_OK;
}

enum err metrics_render(struct buf *out)
{
    pthread_mutex_lock(&g_lock);
    int n = g_n;
    pthread_mutex_unlock(&g_lock);
    enum err rc = ERR_OK;
    for (int i = 0; i < n && rc == ERR_OK; i++) {
        struct metric *m = &g_metrics[i];
        bool first = true;
        for (int j = 0; j < i && first; j++)
            first = strcmp(g_metrics[j].name, m->name) != 0;
        if (!first) /* already rendered with its family */
            continue;
        rc = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                        type_name(m->type));
        for (int j = i; j < n && rc == ERR_OK; j++)
            if (strcmp(g_metrics[j].name, m->name) == 0)
                rc = render_one(out, &g_metrics[j]);
    }
    return rc;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&g_lock);
    memset(g_metrics, 0, sizeof g_metrics);
    g_n = 0;
    pthread_mutex_unlock(&g_lock);
}
