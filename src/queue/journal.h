/*
 * queue/journal.h - an append-only intake log in front of the job table.
 *
 * Owns: segment files under <data_dir>/journal: each writing thread appends framed records
 * ([u32 length][u32 crc32c][bytes]) to a segment of its own, so an append is one write(2)
 * under an uncontended per-segment lock, with no hand-off to another thread. A reader (the
 * queue's loader) takes the records in order per segment and moves them into the database,
 * remembering how far it got in the same transaction, so each record is loaded exactly
 * once, across crashes too.
 * Durability: a record is in the kernel when journal_append() returns, so it survives the
 * process being killed; with sync_full it is also fdatasync'ed (survives power loss).
 * Threads: journal_append() from any number of threads; the reading calls from one thread.
 */
#ifndef SB_QUEUE_JOURNAL_H
#define SB_QUEUE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct journal;

#define JOURNAL_RECORD_MAX (64u << 20)

MUST_USE enum err journal_open(const char *dir, bool sync_full, struct journal **out);
void journal_close(struct journal *j);

/* Appends one record from the calling thread. ERR_TOO_LARGE past JOURNAL_RECORD_MAX,
 * ERR_IO when the disk refuses (nothing was acknowledged then). */
MUST_USE enum err journal_append(struct journal *j, const void *rec, size_t len);

/* Called for each record, in order within a segment. Returning an error stops the scan. */
typedef enum err journal_record_fn(void *ctx, const void *rec, size_t len);

struct journal_segment {
    char name[64];   /* file name inside the journal folder, e.g. "1732460000123456-3.seg" */
    uint64_t offset; /* bytes already consumed */
    bool sealed;     /* no writer will append to it again */
};

/* The segments on disk, oldest first (at most max). offset is 0 here; the caller fills in
 * what it remembers. */
MUST_USE enum err journal_segments(struct journal *j, struct journal_segment *out, size_t max,
                                   size_t *n);
/* Reads complete records of one segment from seg->offset, at most max_records, calling fn
 * for each; *next_offset receives the offset after the last record read, *at_end whether
 * nothing more is readable now. A torn or corrupt record ends a sealed segment: *corrupt is
 * set and *at_end too (nothing after it can be trusted). */
MUST_USE enum err journal_read(struct journal *j, const struct journal_segment *seg,
                               size_t max_records, journal_record_fn *fn, void *ctx,
                               uint64_t *next_offset, bool *at_end, bool *corrupt);
/* Deletes a sealed segment that has been consumed. */
void journal_remove(struct journal *j, const char *name);
/* Seals every open segment (writers start new ones on their next append): used at shutdown
 * so the reader can finish and remove them. */
void journal_seal_all(struct journal *j);
/* Blocks until a record may have been appended or timeout_ms passes. */
void journal_wait(struct journal *j, int64_t timeout_ms);
/* Wakes journal_wait(). */
void journal_wake(struct journal *j);

#endif
