/* postern-nginx-import: nginx's mail {} block as postern.conf and socket
 * units. Every directive postern has is carried over under its nginx
 * name; what is not is listed with its reason, and nothing is guessed. */
#include "nginx_conf.h"
#include "nginx_import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT_MAX (1024 * 1024)

static void usage(FILE *f)
{
	fprintf(f, "usage: postern-nginx-import [-o DIR] NGINX_CONF\n"
	           "Writes postern.conf on standard output, or postern.conf "
	           "and one\npostern-NAME.socket per listen into DIR; lists "
	           "what is not carried\nover, with why, on standard error.\n");
}

static int write_file(const char *dir, const char *name, const char *text,
                      size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "postern-nginx-import: %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct ngx_conf conf;
	static struct import_result r;
	static char text[INPUT_MAX + 1];
	const char *dir = NULL;
	size_t len = 0;
	ssize_t n;
	int c, fd;

	while ((c = getopt(argc, argv, "o:h")) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "postern-nginx-import: %s: %s\n", argv[optind],
		        strerror(errno));
		return 1;
	}
	while ((n = read(fd, text + len, sizeof text - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0 || len > INPUT_MAX) {
		fprintf(stderr, "postern-nginx-import: %s: %s\n", argv[optind],
		        n < 0 ? strerror(errno) : "larger than 1 MiB");
		return 1;
	}
	if (ngx_conf_parse(&conf, text, len) < 0 || nginx_import(&conf, &r) < 0) {
		fprintf(stderr, "postern-nginx-import: %s: %s\n", argv[optind],
		        conf.why[0] ? conf.why : r.why);
		return 1;
	}
	if (!dir) {
		fwrite(r.conf, 1, r.conf_len, stdout);
	} else {
		char name[96];

		if (write_file(dir, "postern.conf", r.conf, r.conf_len) < 0)
			return 1;
		for (int i = 0; i < r.nunits; i++) {
			snprintf(name, sizeof name, "postern-%s.socket", r.units[i].name);
			if (write_file(dir, name, r.units[i].text,
			               strlen(r.units[i].text)) < 0)
				return 1;
		}
	}
	if (r.notes_len)
		fprintf(stderr, "postern-nginx-import: not carried over:\n%.*s",
		        (int)r.notes_len, r.notes);
	fprintf(stderr, "postern-nginx-import: %d server section(s)%s; check "
	        "with postern -t -c FILE\n", r.nunits,
	        dir ? ", socket units written" : "");
	for (int i = 0; dir && i < r.nunits; i++)
		fprintf(stderr, "  ln -s %s /etc/systemd/system/postern-%s@.service\n",
		        r.units[i].tls ? "/lib/systemd/system/postern-tls@.service"
		                       : "/lib/systemd/system/postern@.service",
		        r.units[i].name);
	return 0;
}
