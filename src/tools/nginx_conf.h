/* nginx's configuration syntax, for postern-nginx-import: directives of
 * words ending in ';', blocks in braces, '#' comments, words in single or
 * double quotes with backslash escapes, and include, read where it stands
 * as nginx reads it. Pure and bounded: the whole tree lives in one struct
 * with fixed limits, text past them is an error with its file and line,
 * never a crash; reading an included file is the caller's hook. */
#ifndef POSTERN_NGINX_CONF_H
#define POSTERN_NGINX_CONF_H

#include <stddef.h>

#define NGX_DIRECTIVES_MAX 2048
#define NGX_ARGS_MAX 32
#define NGX_WORDS_BYTES (256 * 1024)
#define NGX_DEPTH_MAX 16
#define NGX_FILES_MAX 64
#define NGX_INCLUDE_DEPTH 8
#define NGX_NAME_MAX 256

struct ngx_directive {
	const char *name;
	const char *args[NGX_ARGS_MAX];
	int nargs;
	int file;              /* index into ngx_conf.files */
	int line;
	int parent;            /* index of the enclosing block, -1 at the top */
	int block;             /* 1 when it opens a block */
};

struct ngx_conf;

/* include: every file the pattern names, in nginx's order, each given to
 * ngx_conf_parse_file with parent. 0, or -1 with c->why set. at is the
 * include directive (its file and line, for the hook's messages). */
typedef int (*ngx_include_fn)(struct ngx_conf *c, const char *pattern,
                              int parent, const struct ngx_directive *at,
                              void *ctx);

struct ngx_conf {
	struct ngx_directive d[NGX_DIRECTIVES_MAX];
	int n;
	char words[NGX_WORDS_BYTES];   /* every word, NUL-terminated */
	size_t used;
	char files[NGX_FILES_MAX][NGX_NAME_MAX];
	int nfiles;
	ngx_include_fn include;        /* NULL: include is an error */
	void *include_ctx;
	int include_depth;
	char why[NGX_NAME_MAX + 256];  /* on failure: "file:line: reason" */
};

/* Empties c; include (may be NULL) reads included files. */
void ngx_conf_init(struct ngx_conf *c, ngx_include_fn include, void *ctx);

/* One file's text into c, its directives under parent (-1 at the top):
 * the main file, or one an include names. 0, or -1 with c->why. */
int ngx_conf_parse_file(struct ngx_conf *c, const char *name,
                        const char *text, size_t len, int parent);

/* "file:line" of a directive, for messages. */
const char *ngx_where(const struct ngx_conf *c, const struct ngx_directive *d,
                      char *buf, size_t size);

#endif
