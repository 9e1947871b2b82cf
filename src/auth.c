#include "auth.h"
#include "auth_http.h"
#include "auth_map.h"
#include "conf.h"

#include <string.h>

void auth_reply_init(struct auth_reply *r)
{
	memset(r, 0, sizeof *r);
	r->status = AUTH_STATUS_TEMPFAIL;
}

void auth_reply_clear(struct auth_reply *r)
{
	explicit_bzero(r->pass, sizeof r->pass);
}

void auth_lookup(const struct server_conf *c, const struct auth_request *req,
                 struct auth_reply *rep)
{
	auth_reply_init(rep);
	if (c->auth_http)
		auth_http_query(c, req, rep);
	else
		auth_map_query(c->auth_map, req, rep);
}
