/* What a configuration offers whichever reader made it, libconfuse or
 * the image: finding a section, and freeing it the way it was made. */
#include "conf.h"
#include "proto.h"

#include <string.h>

void conf_free(struct conf *conf)
{
	if (conf->release)
		conf->release(conf);
	memset(conf, 0, sizeof *conf);
}

const struct server_conf *conf_by_name(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (strcmp(c->servers[i].name, name) == 0)
			return &c->servers[i];
	return NULL;
}

/* A section's own listen port first; then, for sections without listen,
 * the well-known ports of their protocol. */
const struct server_conf *conf_by_port(const struct conf *c, int port)
{
	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].listen_port == port)
			return &c->servers[i];
	for (size_t i = 0; i < c->nservers; i++) {
		const in_port_t *p = c->servers[i].protocol->ports;

		if (c->servers[i].listen_port)
			continue;
		for (; *p; p++)
			if (*p == port)
				return &c->servers[i];
	}
	return NULL;
}
