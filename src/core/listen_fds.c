#include "listen_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A whole decimal number in [1, max], or -1. */
static long number(const char *s, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	return v;
}

int listen_fds_parse(const char *pid, const char *fds, const char *names,
                     long self, char *name, size_t size)
{
	const char *colon;
	long n, owner, count = 1;
	size_t len;

	if (size)
		*name = 0;
	if (!pid || !fds)
		return 0;
	owner = number(pid, LONG_MAX);
	if (owner < 0)
		return -1;
	if (owner != self)
		return 0;
	n = number(fds, INT_MAX - LISTEN_FDS_START);
	if (n < 0)
		return -1;
	if (!names)
		return (int)n;
	for (const char *p = names; *p; p++)
		count += *p == ':';
	if (count != n)
		return -1;
	colon = strchr(names, ':');
	len = colon ? (size_t)(colon - names) : strlen(names);
	if (len >= size)
		return -1;
	memcpy(name, names, len);
	name[len] = 0;
	return (int)n;
}

int listen_fds(char *name, size_t size)
{
	int n = listen_fds_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	                         getenv("LISTEN_FDNAMES"), (long)getpid(),
	                         name, size);

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
			return -1;
	}
	return n;
}

int is_stream_socket(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof type;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return 0;
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return 0;
	return !listening;
}
