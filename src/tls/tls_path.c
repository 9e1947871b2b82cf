#include "tls_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char var[] = "${CREDENTIALS_DIRECTORY}";

static int names_credentials(const char *path)
{
	return path && strncmp(path, var, sizeof var - 1) == 0;
}

const char *tls_expand_path(const char *path, char *buf, size_t size)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");

	if (!names_credentials(path) || !dir)
		return path;
	snprintf(buf, size, "%s%s", dir, path + sizeof var - 1);
	return buf;
}

int tls_path_deferred(const char *path)
{
	return names_credentials(path) && !getenv("CREDENTIALS_DIRECTORY");
}
