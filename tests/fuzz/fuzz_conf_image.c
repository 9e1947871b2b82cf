/* The configuration image's reader. Input: a byte for the number of
 * sections, then their bytes; the target puts this build's header in
 * front, so that the fuzzer spends its time on the sections. What the
 * front relies on: a damaged image is refused without reading outside
 * it, and one that is read means the same when written again. */
#include "conf_image.h"
#include "fuzz.h"
#include "lookup.h"
#include "proto.h"

#include <string.h>

/* Stand-ins: the reader finds protocols and lookups by name only. */
const struct protocol proto_imap = { .name = "imap", .ports = { 143, 0 } };
const struct protocol proto_pop3 = { .name = "pop3", .ports = { 110, 0 } };
const struct protocol proto_smtp = { .name = "smtp", .ports = { 25, 0 } };
const struct protocol *const protocols[] = { &proto_imap, &proto_pop3,
                                              &proto_smtp, NULL };
static const struct lookup http = { .directive = "auth_http" };
static const struct lookup map = { .directive = "auth_map" };
const struct lookup *const lookups[] = { &http, &map, NULL };

#define OUT_MAX (1 << 20)


static size_t header(unsigned char *buf, size_t size)
{
	struct conf none = { 0 };

	return conf_image_encode(&none, buf, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char head[512], *out1, *out2;
	static size_t headlen;
	struct conf c;
	const char *why = NULL;
	unsigned char *buf;
	uint32_t n;
	size_t len1, len2;

	if (size < 1)
		return 0;
	if (!headlen) {
		headlen = header(head, sizeof head);
		out1 = malloc(OUT_MAX);
		out2 = malloc(OUT_MAX);
		FUZZ_ASSERT(headlen >= sizeof n && out1 && out2);
	}
	buf = malloc(headlen + size);
	FUZZ_ASSERT(buf);
	memcpy(buf, head, headlen);
	n = (uint32_t)(data[0] % 4) + 1;
	memcpy(buf + headlen - sizeof n, &n, sizeof n);
	memcpy(buf + headlen, data + 1, size - 1);
	if (conf_image_decode(buf, headlen + size - 1, &c, &why) != 0) {
		FUZZ_ASSERT(why && !c.servers);
		free(buf);
		return 0;
	}
	FUZZ_ASSERT(c.nservers == n);
	len1 = conf_image_encode(&c, out1, OUT_MAX);
	FUZZ_ASSERT(len1 > 0);
	free(c.servers);
	free(buf);
	FUZZ_ASSERT(conf_image_decode(out1, len1, &c, &why) == 0);
	len2 = conf_image_encode(&c, out2, OUT_MAX);
	FUZZ_ASSERT(len2 == len1 && memcmp(out1, out2, len1) == 0);
	free(c.servers);
	return 0;
}
