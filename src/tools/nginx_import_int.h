/* What the importer's files share: the writers over strbuf, notes and
 * refusals with their file and line (nginx_import_out.c), the sections
 * (nginx_import_listen.c) and the TLS priority (nginx_import_tls.c), all
 * called from nginx_import.c. Not for use outside src/tools/. */
#ifndef POSTERN_NGINX_IMPORT_INT_H
#define POSTERN_NGINX_IMPORT_INT_H

#include "nginx_import.h"
#include "strbuf.h"

/* A word inside "...", as libconfuse reads it back: \" and \\. The
 * caller has refused control characters. */
void out_quoted(struct strbuf *o, const char *w);
/* Text from the input (a file name) in a comment: control characters
 * become '?', so that no line can be added. */
void out_comment_text(struct strbuf *o, const char *w);

struct importer {
	const struct ngx_conf *c;
	const struct import_options *opt;
	struct import_result *r;
	struct strbuf conf, notes;
	int refused;
	/* A server block's own directives, into the section being written:
	 * nginx_import.c's, for im_sections to call, so that the files below
	 * it never call back up into it by name. 0 or -1. */
	int (*server_body)(struct importer *im, int server);
};

/* A note: what is not carried over, or how, and why; once per text. */
void im_note(struct importer *im, const struct ngx_directive *d,
             const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The refusal (the first one counts); returns -1. */
int im_refuse(struct importer *im, const struct ngx_directive *d,
              const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "indent name = " and one more directive counted. */
void im_directive(struct importer *im, const char *indent, const char *name);

/* The server sections and their units (nginx_import_listen.c); calls
 * im->server_body for each. 0 or -1. */
int im_sections(struct importer *im, int mail);

/* ssl_protocols, ssl_ciphers and ssl_prefer_server_ciphers of one scope
 * (each NULL when nginx's default holds), as one GnuTLS priority
 * (nginx_import_tls.c). dhparam: nginx offers DHE only with ssl_dhparam.
 * server: where notes about nginx's defaults stand. 0, or -1 refused. */
int im_priority(struct importer *im, const struct ngx_directive *protocols,
                const struct ngx_directive *ciphers,
                const struct ngx_directive *prefer, int dhparam,
                const struct ngx_directive *server, char *out, size_t size);

#endif
