#include "lookup.h"

#include <stddef.h>

/* auth_http first: it has no default, and a section that names an auth
 * server uses it; the map, with its default file, comes last. */
const struct lookup *const lookups[] = {
	&lookup_auth_http,
	&lookup_auth_map,
	NULL,
};
