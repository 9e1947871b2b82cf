/* The socket-activation variables. Input: three NUL-separated strings
 * (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES) and a last byte for the size
 * of the name buffer. What the front relies on: a count is never more
 * than the variables said, the name is always terminated within its
 * buffer, and a name is given only with a positive count. */
#include "fuzz.h"
#include "listen_fds.h"

#include <string.h>

#define FIELD_MAX 256

static size_t field(const uint8_t **p, size_t *left, char *out)
{
	size_t n = 0;

	while (*left && **p && n < FIELD_MAX - 1) {
		out[n++] = (char)**p;
		(*p)++;
		(*left)--;
	}
	if (*left) {
		(*p)++;
		(*left)--;
	}
	out[n] = 0;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pid[FIELD_MAX], fds[FIELD_MAX], names[FIELD_MAX], name[64];
	size_t cap;
	int n;

	if (size < 1)
		return 0;
	cap = data[size - 1] % (sizeof name + 1);
	size--;
	field(&data, &size, pid);
	field(&data, &size, fds);
	field(&data, &size, names);
	memset(name, 'x', sizeof name);
	/* Bytes left after the third string: LISTEN_FDNAMES unset. */
	n = listen_fds_parse(pid, fds, size ? NULL : names, 4242, name, cap);
	FUZZ_ASSERT(n >= -1);
	if (cap)
		FUZZ_ASSERT(memchr(name, 0, cap) != NULL);
	if (n > 0)
		FUZZ_ASSERT(n <= atoi(fds) || strlen(fds) > 9);
	if (n <= 0 && cap)
		FUZZ_ASSERT(name[0] == 0);
	return 0;
}
