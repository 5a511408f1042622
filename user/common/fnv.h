/* FNV-1a, 64 bits: a byte string's fingerprint, built a byte at a time so
 * that text can be hashed while it is decoded (JSON escapes, shell quotes).
 * Not keyed: for comparing two decodings of one text, never for tables a
 * user fills. */
#ifndef AGENTPERF_FNV_H
#define AGENTPERF_FNV_H

#include <stdint.h>

#define FNV64_INIT UINT64_C(0xcbf29ce484222325)

static inline uint64_t fnv64_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * UINT64_C(0x100000001b3);
}

#endif
