/*
 * UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */
#ifndef CR_UTF8_H
#define CR_UTF8_H

#include <stddef.h>

/*
 * The length of the longest prefix of s[0..len) that is valid UTF-8 and
 * ends on a character boundary: len when all of s is valid.
 */
size_t utf8_valid_prefix(const char *s, size_t len);

#endif
