#include "tls_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tls_expand_path(const char *path, char *buf, size_t size)
{
	static const char var[] = "${CREDENTIALS_DIRECTORY}";
	const char *dir = getenv("CREDENTIALS_DIRECTORY");

	if (!path || strncmp(path, var, sizeof var - 1) != 0 || !dir)
		return path;
	snprintf(buf, size, "%s%s", dir, path + sizeof var - 1);
	return buf;
}
