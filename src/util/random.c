#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/random.h"
#include "util/banned.h"

uint32_t random_u32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	return (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^
	       (uint32_t)clock();
}
