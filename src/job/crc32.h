/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zlib's
 * crc32() computes and GitLab expects in output.checksum (spec 4.4).
 */
#ifndef CR_CRC32_H
#define CR_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define CRC32_INIT 0U

/*
 * Returns the CRC of the bytes seen so far followed by data.  Start with
 * CRC32_INIT; feeding a stream in pieces gives the same value as one call
 * over the whole (crc32_update(crc32_update(0, a), b) == crc of a + b).
 */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

/* Whether long pieces are folded with carry-less multiplication (x86-64
 * with PCLMULQDQ); zlib's crc32_z() does them otherwise. */
int crc32_folding(void);

/*
 * x^e mod P, bit-reflected over 33 bits (bit j is the coefficient of
 * x^(32 - j)): the keys of the folding code, exposed for its test.
 */
uint64_t crc32_fold_constant(unsigned int e);

#endif
