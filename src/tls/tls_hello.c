#include "tls_hello.h"

#define EXT_SESSION_TICKET 35
#define EXT_PRE_SHARED_KEY 41

struct reader {
	const unsigned char *p;
	size_t left;
};

static int take(struct reader *r, size_t n, const unsigned char **out)
{
	if (r->left < n)
		return -1;
	if (out)
		*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int number(struct reader *r, size_t bytes, size_t *out)
{
	const unsigned char *b;

	if (take(r, bytes, &b) < 0)
		return -1;
	*out = 0;
	for (size_t i = 0; i < bytes; i++)
		*out = *out << 8 | b[i];
	return 0;
}

/* A vector: its length in bytes, then that many bytes. */
static int vector(struct reader *r, size_t len_bytes, struct reader *inner)
{
	size_t n;

	if (number(r, len_bytes, &n) < 0 || take(r, n, &inner->p) < 0)
		return -1;
	inner->left = n;
	return 0;
}

static int first_identity(struct reader ext, const unsigned char **ticket,
                          size_t *len)
{
	struct reader ids, id;

	if (vector(&ext, 2, &ids) < 0 || vector(&ids, 2, &id) < 0 ||
	    id.left == 0)
		return -1;
	*ticket = id.p;
	*len = id.left;
	return 0;
}

int tls_hello_ticket(const unsigned char *msg, size_t len,
                     const unsigned char **ticket, size_t *ticket_len)
{
	struct reader r = { msg, len }, skip, exts, ext;
	size_t type;

	/* A handshake header: type 1 and a length that covers the rest. */
	if (len >= 4 && msg[0] == 1 &&
	    ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]) == len - 4)
		take(&r, 4, NULL);
	if (take(&r, 2 + 32, NULL) < 0 || vector(&r, 1, &skip) < 0 ||
	    vector(&r, 2, &skip) < 0 || vector(&r, 1, &skip) < 0 ||
	    vector(&r, 2, &exts) < 0)
		return -1;
	while (exts.left > 0) {
		if (number(&exts, 2, &type) < 0 || vector(&exts, 2, &ext) < 0)
			return -1;
		if (type == EXT_SESSION_TICKET && ext.left > 0) {
			*ticket = ext.p;
			*ticket_len = ext.left;
			return 0;
		}
		if (type == EXT_PRE_SHARED_KEY)
			return first_identity(ext, ticket, ticket_len);
	}
	return -1;
}
