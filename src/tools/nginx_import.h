/* nginx's mail {} block as postern.conf: every directive postern has,
 * under its own name, and a note with a reason for each one it does not
 * carry over; a configuration nginx -t refuses, or one postern cannot
 * serve as nginx did, is refused with its file, line and reason. Each
 * server's listens on one port become a server section of their own and
 * a systemd socket unit (Accept=no) for a shipped spawner service. Pure:
 * text in, text out, in bounded buffers. */
#ifndef POSTERN_NGINX_IMPORT_H
#define POSTERN_NGINX_IMPORT_H

#include "nginx_conf.h"

#include <stddef.h>

#define IMPORT_OUT_MAX (256 * 1024)
#define IMPORT_UNITS_MAX 32
#define IMPORT_WHY_MAX (NGX_NAME_MAX + 512)
/* The shipped spawner services' limits (units/postern-spawn.service.in),
 * which the imported sockets hand their ports to. */
#define SPAWN_SESSIONS_MAX 512
#define SPAWN_SESSIONS_PER_SOURCE 128

struct import_options {
	/* nginx's configuration directory, which it reads relative paths
	 * (include, certificates, keys) from: -c's directory, /etc/nginx/
	 * for Debian's nginx. */
	const char *prefix;
};

struct import_unit {
	char name[64];         /* the section's name: postern-NAME.socket */
	char service[64];      /* its spawner: the shipped postern-SERVICE.service */
	char text[4096];
	int tls;               /* implicit TLS: the service starts postern-tls */
	int port;              /* the section's listen port */
	int nkeys;             /* Key=Value lines in text, for the fuzz oracle */
};

struct import_result {
	char conf[IMPORT_OUT_MAX];
	size_t conf_len;
	int ndirectives;       /* directive lines in conf, for the fuzz oracle */
	char notes[IMPORT_OUT_MAX];   /* one "file:line: directive: reason" a line */
	size_t notes_len;
	int nnotes;
	struct import_unit units[IMPORT_UNITS_MAX];
	int nunits;
	char why[IMPORT_WHY_MAX];     /* on refusal: "file:line: reason" */
};

/* 0, or -1 with r->why: no mail block, a value that is not what its
 * directive takes, what nginx -t refuses, or output past its bounds. */
int nginx_import(const struct ngx_conf *c, const struct import_options *o,
                 struct import_result *r);

#endif
