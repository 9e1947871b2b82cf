#include "auth.h"
#include "auth_http.h"
#include "auth_map.h"
#include "conf.h"

#include <string.h>

void auth_lookup(const struct server_conf *c, const struct auth_request *req,
                 struct auth_reply *rep)
{
	auth_reply_init(rep);
	if (c->auth_http)
		auth_http_query(c, req, rep);
	else
		auth_map_query(c->auth_map, req, rep);
}
