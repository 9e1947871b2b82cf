/* nginx's syntax and the import, on any bytes: the reader keeps to its
 * bounds (every directive's parent comes before it, every word lies in
 * the word store), and an import that succeeds writes no more than its
 * buffers and one unit per section. */
#include "fuzz.h"
#include "nginx_conf.h"
#include "nginx_import.h"

#include <string.h>

static struct ngx_conf conf;
static struct import_result res;

static int inside(const char *w)
{
	return w >= conf.words && w < conf.words + conf.used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ngx_conf_parse(&conf, (const char *)data, size) < 0) {
		FUZZ_ASSERT(strncmp(conf.why, "line ", 5) == 0);
		return 0;
	}
	FUZZ_ASSERT(conf.n <= NGX_DIRECTIVES_MAX && conf.used <= NGX_WORDS_BYTES);
	for (int i = 0; i < conf.n; i++) {
		FUZZ_ASSERT(conf.d[i].parent < i);
		FUZZ_ASSERT(conf.d[i].parent < 0 || conf.d[conf.d[i].parent].block);
		FUZZ_ASSERT(inside(conf.d[i].name));
		for (int a = 0; a < conf.d[i].nargs; a++)
			FUZZ_ASSERT(inside(conf.d[i].args[a]));
	}
	if (nginx_import(&conf, &res) == 0) {
		FUZZ_ASSERT(res.conf_len < sizeof res.conf);
		FUZZ_ASSERT(strlen(res.conf) == res.conf_len);
		FUZZ_ASSERT(res.nunits <= IMPORT_UNITS_MAX);
	} else {
		FUZZ_ASSERT(res.why[0] != '\0');
	}
	return 0;
}
