/* nginx's mail {} block as postern.conf: every directive postern has,
 * under its own name, and a note with a reason for each one it does not
 * carry over. Each listen becomes a server section of its own and a
 * systemd socket unit. Pure: text in, text out, in bounded buffers. */
#ifndef POSTERN_NGINX_IMPORT_H
#define POSTERN_NGINX_IMPORT_H

#include "nginx_conf.h"

#include <stddef.h>

#define IMPORT_OUT_MAX (256 * 1024)
#define IMPORT_UNITS_MAX 32

struct import_unit {
	char name[64];         /* the section's name: postern-NAME.socket */
	char text[1024];
	int tls;               /* implicit TLS: its service is postern-tls's */
};

struct import_result {
	char conf[IMPORT_OUT_MAX];
	size_t conf_len;
	char notes[IMPORT_OUT_MAX];   /* one "line N: directive: reason" a line */
	size_t notes_len;
	int nnotes;
	struct import_unit units[IMPORT_UNITS_MAX];
	int nunits;
	char why[160];                /* on failure */
};

/* 0, or -1 with r->why (no mail block, a listen that cannot be read, or
 * output past its bounds). */
int nginx_import(const struct ngx_conf *c, struct import_result *r);

#endif
