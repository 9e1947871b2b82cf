#include "proto.h"

#include <string.h>

const struct protocol *proto_find(const char *name)
{
	for (int i = 0; protocols[i]; i++)
		if (strcmp(protocols[i]->name, name) == 0)
			return protocols[i];
	return NULL;
}

const struct protocol *proto_by_port(int port)
{
	for (int i = 0; protocols[i]; i++)
		for (const in_port_t *p = protocols[i]->ports; *p; p++)
			if (*p == port)
				return protocols[i];
	return NULL;
}
