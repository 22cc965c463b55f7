/*
 * queue/crc32c.h - CRC-32C (Castagnoli), the journal's record checksum.
 */
#ifndef SB_QUEUE_CRC32C_H
#define SB_QUEUE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(const void *data, size_t len);
/* The table version, whatever the CPU (tests compare the two). */
uint32_t crc32c_portable(const void *data, size_t len);

#endif
