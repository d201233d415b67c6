/*
 * crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used
 * by iSCSI and ext4. Uses the SSE4.2 crc32 instruction when the CPU has it,
 * a slicing-by-8 table otherwise. crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef USBFARM_CRC32C_H
#define USBFARM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over n bytes. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);
/* The portable table version (for tests: both must agree). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
