#include "conf_image.h"

#include "activate.h"
#include "clock.h"
#include "lookup.h"
#include "proto.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The image is read only by the build that wrote it, on the machine that
 * wrote it: native byte order, checked by ORDER. Each section is its
 * fields in the order of the table below, each written by its kind. */
static const char MAGIC[8] = "postern\x01";
/* Said by conf_image_decode for an image of another build; told apart by
 * its address (conf_image_load's CONF_IMAGE_OTHER_BUILD). */
static const char OTHER_BUILD[] = "made by another version of postern";
#define ORDER 0x01020304u
#define NONE 0xffffffffu   /* a NULL string */

enum field_kind {
	F_INT,       /* int, within lo..hi */
	F_I64,       /* int64_t, within lo..hi */
	F_UINT,      /* unsigned */
	F_SIZE,      /* size_t, within lo..hi */
	F_STR,       /* const char *, may be NULL */
	F_BUF,       /* char[hi], NUL-terminated */
	F_STRV,      /* const char *[hi], its count (size_t) at count */
	F_STRV_SAME, /* the same, with the count an earlier F_STRV set */
	F_TARGET,    /* struct auth_http_target */
	F_ADDRV,     /* struct addr[hi] */
	F_CIDRV,     /* struct cidr[hi] */
	F_ACCESSV,   /* struct access_rule[hi] */
	F_PROTO,     /* const struct protocol *, by name */
	F_LOOKUP,    /* const struct lookup *, by directive; may be NULL */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off, count;
	int64_t lo, hi;
};

/* The table, from conf.h's one list of the fields. */
#define AT(f) offsetof(struct server_conf, f)
#define FIELD_S(kind, type, f, lo, hi) { #f, F_##kind, AT(f), 0, lo, hi },
#define FIELD_B(f, size) { #f, F_BUF, AT(f), 0, 0, size },
#define FIELD_V(kind, type, f, max, n) { #f, F_##kind, AT(f), AT(n), 0, max },
#define FIELD_W FIELD_V

static const struct field fields[] = {
	SERVER_CONF_FIELDS(FIELD_S, FIELD_B, FIELD_V, FIELD_W)
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Which table wrote an image: a build whose table differs reads none.
 * Each field's name and place count as well as its kind and limits, so
 * that two fields of one kind that swap places are another table. */
static uint32_t table_print(const struct field *t, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		const uint64_t parts[] = { t[i].kind, t[i].off, t[i].count,
		                           (uint64_t)t[i].lo, (uint64_t)t[i].hi };

		for (const char *c = t[i].name; *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
			h = (h ^ (uint32_t)(parts[k] ^ parts[k] >> 32)) *
			    16777619u;
	}
	return h;
}

static uint32_t fingerprint(void)
{
	return table_print(fields, NFIELDS);
}

uint32_t conf_image_fingerprint_swapped(size_t i, size_t j)
{
	struct field t[NFIELDS];

	memcpy(t, fields, sizeof t);
	if (i < NFIELDS && j < NFIELDS) {
		t[i] = fields[j];
		t[j] = fields[i];
	}
	return table_print(t, NFIELDS);
}

/* ---- writing ---- */

static void put_u32(struct strbuf *o, uint32_t v)
{
	strbuf_put(o, &v, sizeof v);
}

static void put_i64(struct strbuf *o, int64_t v)
{
	strbuf_put(o, &v, sizeof v);
}

static void put_str(struct strbuf *o, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= NONE) {
		o->overflow = 1;
		return;
	}
	put_u32(o, s ? (uint32_t)n : NONE);
	if (s)
		strbuf_put(o, s, n + 1);
}

static void put_addr(struct strbuf *o, const struct addr *a)
{
	put_u32(o, (uint32_t)a->len);
	strbuf_put(o, &a->ss, a->len);
}

static void put_cidr(struct strbuf *o, const struct cidr *c)
{
	put_u32(o, (uint32_t)c->kind);
	strbuf_put(o, c->net, sizeof c->net);
	put_u32(o, c->bits);
}

static void put_field(struct strbuf *o, const struct field *f,
                      const struct server_conf *s)
{
	const char *base = (const char *)s + f->off;
	size_t n = f->count ? *(const size_t *)((const char *)s + f->count) : 0;

	switch (f->kind) {
	case F_INT: put_i64(o, *(const int *)base); break;
	case F_I64: put_i64(o, *(const int64_t *)base); break;
	case F_UINT: put_i64(o, *(const unsigned *)base); break;
	case F_SIZE: put_i64(o, (int64_t)*(const size_t *)base); break;
	case F_STR: put_str(o, *(const char *const *)base); break;
	case F_BUF: put_str(o, base); break;
	case F_PROTO: put_str(o, (*(const struct protocol *const *)base)->name);
		break;
	case F_LOOKUP: {
		const struct lookup *l = *(const struct lookup *const *)base;

		put_str(o, l ? l->directive : NULL);
		break;
	}
	case F_TARGET: {
		const struct auth_http_target *t =
			(const struct auth_http_target *)base;

		put_addr(o, &t->addr);
		put_str(o, t->host);
		put_str(o, t->uri);
		break;
	}
	case F_STRV:
	case F_STRV_SAME:
		put_u32(o, (uint32_t)n);
		for (size_t i = 0; i < n; i++)
			put_str(o, ((const char *const *)base)[i]);
		break;
	case F_ADDRV:
		put_u32(o, (uint32_t)n);
		for (size_t i = 0; i < n; i++)
			put_addr(o, (const struct addr *)base + i);
		break;
	case F_CIDRV:
		put_u32(o, (uint32_t)n);
		for (size_t i = 0; i < n; i++)
			put_cidr(o, (const struct cidr *)base + i);
		break;
	case F_ACCESSV:
		put_u32(o, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			const struct access_rule *r =
				(const struct access_rule *)base + i;

			put_u32(o, (uint32_t)r->allow);
			put_cidr(o, &r->cidr);
		}
		break;
	}
}

static void put_header(struct strbuf *o, size_t nservers)
{
	strbuf_put(o, MAGIC, sizeof MAGIC);
	put_u32(o, ORDER);
	put_u32(o, fingerprint());
	put_str(o, PACKAGE_VERSION);
	put_u32(o, (uint32_t)nservers);
}

size_t conf_image_encode(const struct conf *c, unsigned char *buf,
                         size_t size)
{
	struct strbuf o;

	strbuf_init(&o, buf, size);
	if (c->nservers > CONF_IMAGE_SERVERS_MAX)
		return 0;
	put_header(&o, c->nservers);
	for (size_t i = 0; i < c->nservers; i++)
		for (size_t f = 0; f < NFIELDS; f++)
			put_field(&o, &fields[f], &c->servers[i]);
	return o.overflow ? 0 : o.len;
}

/* ---- reading ---- */

struct in {
	unsigned char *p, *end;
	const char *why;   /* the first fault; reading stops there */
};

static int fail(struct in *in, const char *why)
{
	if (!in->why)
		in->why = why;
	return -1;
}

static int take(struct in *in, void *dst, size_t n)
{
	if (in->why || n > (size_t)(in->end - in->p))
		return fail(in, "truncated");
	memcpy(dst, in->p, n);
	in->p += n;
	return 0;
}

static uint32_t take_u32(struct in *in)
{
	uint32_t v = 0;

	take(in, &v, sizeof v);
	return v;
}

static int64_t take_range(struct in *in, int64_t lo, int64_t hi)
{
	int64_t v = 0;

	if (take(in, &v, sizeof v) == 0 && (v < lo || v > hi))
		fail(in, "a number out of range");
	return v;
}

/* A string stays where it is in the image; NULL for none. */
static char *take_str(struct in *in, int nullable)
{
	uint32_t n = take_u32(in);
	char *s;

	if (in->why)
		return NULL;
	if (n == NONE) {
		if (!nullable)
			fail(in, "a missing string");
		return NULL;
	}
	if (n >= (size_t)(in->end - in->p) || in->p[n] != '\0' ||
	    memchr(in->p, '\0', n))
		return fail(in, "a damaged string"), NULL;
	s = (char *)in->p;
	in->p += n + 1;
	return s;
}

static size_t take_count(struct in *in, int64_t max)
{
	uint32_t n = take_u32(in);

	if (!in->why && n > max)
		fail(in, "too many entries");
	return in->why ? 0 : n;
}

/* Addresses are the kernel's, so the same under any libc; each one is
 * checked as the text's reader would have made it. */
static void take_addr(struct in *in, struct addr *a)
{
	uint32_t n = take_u32(in);
	sa_family_t family;

	memset(a, 0, sizeof *a);
	if (in->why)
		return;
	if (n > sizeof a->ss) {
		fail(in, "a damaged address");
		return;
	}
	if (take(in, &a->ss, n) < 0)
		return;
	a->len = n;
	family = a->ss.ss_family;
	if (n == 0)
		return;
	if (!(family == AF_INET && n == sizeof(struct sockaddr_in)) &&
	    !(family == AF_INET6 && n == sizeof(struct sockaddr_in6)) &&
	    !(family == AF_UNIX && n == sizeof(struct sockaddr_un) &&
	      memchr(((struct sockaddr_un *)&a->ss)->sun_path, '\0',
	             sizeof ((struct sockaddr_un *)0)->sun_path)))
		fail(in, "a damaged address");
}

static void take_cidr(struct in *in, struct cidr *c)
{
	uint32_t kind = take_u32(in);

	take(in, c->net, sizeof c->net);
	c->bits = take_u32(in);
	c->kind = (enum cidr_kind)kind;
	if (!in->why && (kind > CIDR_INET6 || c->bits > 128))
		fail(in, "a damaged network");
}

static const struct protocol *take_proto(struct in *in)
{
	const char *name = take_str(in, 0);
	const struct protocol *p = name ? proto_find(name) : NULL;

	if (!p)
		fail(in, "an unknown protocol");
	return p;
}

static const struct lookup *take_lookup(struct in *in)
{
	const char *name = take_str(in, 1);

	if (in->why || !name)
		return NULL;
	for (const struct lookup *const *l = lookups; *l; l++)
		if (strcmp((*l)->directive, name) == 0)
			return *l;
	fail(in, "an unknown lookup");
	return NULL;
}

static void take_vector(struct in *in, const struct field *f, char *base,
                        size_t *count)
{
	size_t n = take_count(in, f->hi);

	if (f->kind == F_STRV_SAME && n != *count)
		fail(in, "lists of different lengths");
	*count = n;
	for (size_t i = 0; i < n && !in->why; i++) {
		switch (f->kind) {
		case F_STRV:
		case F_STRV_SAME:
			((char **)base)[i] = take_str(in, 0);
			break;
		case F_ADDRV:
			take_addr(in, (struct addr *)base + i);
			break;
		case F_CIDRV:
			take_cidr(in, (struct cidr *)base + i);
			break;
		default: {
			struct access_rule *r = (struct access_rule *)base + i;

			uint32_t allow = take_u32(in);

			r->allow = allow == 1;
			if (allow > 1)
				fail(in, "a damaged rule");
			take_cidr(in, &r->cidr);
		}
		}
	}
}

/* A string copied into a char[size]. */
static void take_buf(struct in *in, char *dst, size_t size)
{
	const char *v = take_str(in, 0);

	if (v && strlen(v) >= size)
		fail(in, "a string too long");
	else if (v)
		memcpy(dst, v, strlen(v) + 1);
}

static void take_field(struct in *in, const struct field *f,
                       struct server_conf *s)
{
	char *base = (char *)s + f->off;

	switch (f->kind) {
	case F_INT: *(int *)base = (int)take_range(in, f->lo, f->hi); break;
	case F_I64: *(int64_t *)base = take_range(in, f->lo, f->hi); break;
	case F_UINT: *(unsigned *)base = (unsigned)take_range(in, 0, UINT_MAX);
		break;
	case F_SIZE: *(size_t *)base = (size_t)take_range(in, f->lo, f->hi);
		break;
	case F_STR: *(char **)base = take_str(in, 1); break;
	case F_BUF: take_buf(in, base, (size_t)f->hi); break;
	case F_PROTO: *(const struct protocol **)base = take_proto(in); break;
	case F_LOOKUP: *(const struct lookup **)base = take_lookup(in); break;
	case F_TARGET: {
		struct auth_http_target *t = (struct auth_http_target *)base;

		take_addr(in, &t->addr);
		take_buf(in, t->host, sizeof t->host);
		take_buf(in, t->uri, sizeof t->uri);
		break;
	}
	default:
		take_vector(in, f, base, (size_t *)((char *)s + f->count));
	}
}

/* A section as the text's reader leaves one: a name, and a lookup
 * wherever the protocol needs one to log in. */
static void check_server(struct in *in, const struct server_conf *s)
{
	if (!in->why && (!s->name || !s->lookup))
		fail(in, "a section without a name or a lookup");
}

static int take_header(struct in *in, size_t *nservers)
{
	char magic[sizeof MAGIC];
	const char *version;
	uint32_t order, print;

	if (take(in, magic, sizeof magic) < 0 ||
	    memcmp(magic, MAGIC, sizeof magic) != 0)
		return fail(in, "not a postern configuration image");
	order = take_u32(in);
	print = take_u32(in);
	version = take_str(in, 0);
	if (in->why)
		return -1;
	/* An upgrade leaves the old build's image until the next -A, which
	 * the package runs; an image is read only by the build that made
	 * it. */
	if (order != ORDER || print != fingerprint() ||
	    strcmp(version, PACKAGE_VERSION) != 0)
		return fail(in, OTHER_BUILD);
	*nservers = take_count(in, CONF_IMAGE_SERVERS_MAX);
	if (in->why)
		return -1;
	if (*nservers == 0)
		return fail(in, "no server section");
	return 0;
}

int conf_image_decode(unsigned char *buf, size_t len, struct conf *c,
                      const char **why)
{
	struct in in = { buf, buf + len, NULL };
	size_t n = 0;

	memset(c, 0, sizeof *c);
	if (take_header(&in, &n) < 0) {
		*why = in.why;
		return -1;
	}
	c->servers = calloc(n, sizeof *c->servers);
	if (!c->servers) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < n && !in.why; i++) {
		for (size_t f = 0; f < NFIELDS && !in.why; f++)
			take_field(&in, &fields[f], &c->servers[i]);
		check_server(&in, &c->servers[i]);
	}
	if (!in.why && in.p != in.end)
		fail(&in, "bytes after the last section");
	if (in.why) {
		free(c->servers);
		memset(c, 0, sizeof *c);
		*why = in.why;
		return -1;
	}
	c->nservers = n;
	return 0;
}

/* ---- files ---- */

static void release(struct conf *c)
{
	free(c->servers);
	free(c->owner);
}

static unsigned char *read_image(const char *path, size_t *len, char *err,
                                 size_t size)
{
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, size, "%s: %s%s", path, strerror(errno),
		         errno == ENOENT ? "; run postern -A" : "");
		return NULL;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > CONF_IMAGE_MAX ||
	    !(buf = malloc((size_t)st.st_size))) {
		snprintf(err, size, "%s: unreadable or too large", path);
		close(fd);
		return NULL;
	}
	got = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		snprintf(err, size, "%s: short read", path);
		free(buf);
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

int conf_image_path(const char *config, char *buf, size_t size)
{
	return snprintf(buf, size, "%s%s", config, CONF_IMAGE_SUFFIX) <
	       (int)size ? 0 : -1;
}

int conf_image_load(const char *path, struct conf *c, char *err, size_t size)
{
	unsigned char *buf;
	const char *why = NULL;
	size_t len = 0;

	memset(c, 0, sizeof *c);
	buf = read_image(path, &len, err, size);
	if (!buf)
		return -1;
	if (conf_image_decode(buf, len, c, &why) < 0) {
		free(buf);
		snprintf(err, size, "%s: %s; run postern -A", path, why);
		return why == OTHER_BUILD ? CONF_IMAGE_OTHER_BUILD : -1;
	}
	c->owner = buf;
	c->release = release;
	return 0;
}

int conf_image_load_waiting(const char *path, struct conf *c, char *err,
                            size_t size, int64_t wait_ms)
{
	int64_t deadline = clock_ms() + wait_ms;
	int rc;

	while ((rc = conf_image_load(path, c, err, size)) ==
	       CONF_IMAGE_OTHER_BUILD && clock_left(deadline) > 0)
		poll(NULL, 0, clock_left(deadline) < 100 ? clock_left(deadline)
		                                         : 100);
	return rc;
}

int conf_image_write(const struct conf *c, const char *path,
                     const struct stat *like, char *why, size_t size)
{
	char staged[PATH_MAX];
	unsigned char *buf;
	size_t len;
	int rc;

	if (!(buf = malloc(CONF_IMAGE_MAX))) {
		snprintf(why, size, "out of memory");
		return -1;
	}
	len = conf_image_encode(c, buf, CONF_IMAGE_MAX);
	if (!len)
		snprintf(why, size, "the configuration is too large for an image");
	rc = len ? activate_stage_bytes(buf, len, like, path, staged,
	                                sizeof staged, why, size)
	         : -1;
	if (rc == 0)
		rc = activate_commit(staged, path, why, size);
	free(buf);
	return rc;
}
