#include "quantity.h"

#include <ctype.h>
#include <string.h>

struct unit {
	const char *suffix;
	int64_t scale;
};

/* Longest suffix first so that "ms" is not read as "m" then "s". */
static const struct unit time_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 86400 * 1000LL },
	{ "w", 7 * 86400 * 1000LL },
	{ "M", 30 * 86400 * 1000LL },
	{ "y", 365 * 86400 * 1000LL },
	{ NULL, 0 },
};

static const struct unit *match_unit(const char **p)
{
	const struct unit *u;

	for (u = time_units; u->suffix; u++) {
		size_t n = strlen(u->suffix);

		if (strncmp(*p, u->suffix, n) == 0) {
			*p += n;
			return u;
		}
	}
	return NULL;
}

static int read_number(const char **p, int64_t *out)
{
	int64_t v = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p)) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int parse_duration_ms(const char *text, int64_t *ms)
{
	const char *p = text;
	int64_t total = 0;
	int parts = 0;

	for (;;) {
		int64_t v, scale = 1000;
		const struct unit *u;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (read_number(&p, &v) < 0)
			return -1;
		u = match_unit(&p);
		if (u)
			scale = u->scale;
		else if (*p != '\0' && *p != ' ')
			return -1;
		if (v > (INT64_MAX - total) / scale)
			return -1;
		total += v * scale;
		parts++;
	}
	if (parts == 0)
		return -1;
	*ms = total;
	return 0;
}

int parse_size(const char *text, size_t *bytes)
{
	const char *p = text;
	int64_t v, scale = 1;

	if (read_number(&p, &v) < 0)
		return -1;
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		scale = 1024;
		p++;
		break;
	case 'm':
	case 'M':
		scale = 1024 * 1024;
		p++;
		break;
	case 'g':
	case 'G':
		scale = 1024 * 1024 * 1024;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || v > INT64_MAX / scale || (uint64_t)(v * scale) > SIZE_MAX)
		return -1;
	*bytes = (size_t)(v * scale);
	return 0;
}
