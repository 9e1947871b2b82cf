/* nginx's configuration syntax, for postern-nginx-import: directives of
 * words ending in ';', blocks in braces, '#' comments, words in single or
 * double quotes with backslash escapes. Pure and bounded: the whole tree
 * lives in one struct with fixed limits, and text past them is an error
 * with its line, never a crash. */
#ifndef POSTERN_NGINX_CONF_H
#define POSTERN_NGINX_CONF_H

#include <stddef.h>

#define NGX_DIRECTIVES_MAX 2048
#define NGX_ARGS_MAX 32
#define NGX_WORDS_BYTES (256 * 1024)
#define NGX_DEPTH_MAX 16

struct ngx_directive {
	const char *name;
	const char *args[NGX_ARGS_MAX];
	int nargs;
	int line;
	int parent;            /* index of the enclosing block, -1 at the top */
	int block;             /* 1 when it opens a block */
};

struct ngx_conf {
	struct ngx_directive d[NGX_DIRECTIVES_MAX];
	int n;
	char words[NGX_WORDS_BYTES];   /* every word, NUL-terminated */
	size_t used;
	char why[160];                 /* on failure: "line N: reason" */
};

/* 0, or -1 with c->why. */
int ngx_conf_parse(struct ngx_conf *c, const char *text, size_t len);

#endif
