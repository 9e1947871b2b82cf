#include "stats_parse.h"

#include <string.h>

/* n decimal digits at s, or -1. */
static int digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t stats_parse_time(const char *s, size_t len)
{
	int y, mo, d, h, mi, sec, ms = 0, zone = 0;
	size_t i = 19;

	if (len < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	if (i < len && s[i] == '.') {
		if (len < i + 4 || (ms = digits(s + i + 1, 3)) < 0)
			return -1;
		i += 4;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int zh, zm;

		if (len != i + 6 || s[i + 3] != ':' ||
		    (zh = digits(s + i + 1, 2)) < 0 ||
		    (zm = digits(s + i + 4, 2)) < 0 || zh > 23 || zm > 59)
			return -1;
		zone = (zh * 60 + zm) * (s[i] == '-' ? -1 : 1);
		i += 6;
	}
	if (i != len)
		return -1;
	return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	         (int64_t)zone * 60) * 1000) + ms;
}

void stats_split_line(const char *line, size_t len, struct log_line *out)
{
	const char *space = memchr(line, ' ', len);
	const char *lt;

	out->time_ms = -1;
	out->msg = line;
	out->msg_len = len;
	if (!space)
		return;
	/* "<stamp> <ident>[<pid>]: <prio> <message>" */
	lt = memchr(space, '<', len - (size_t)(space - line));
	if (!lt || lt - line < 3 || memcmp(lt - 3, "]: ", 3) != 0)
		return;
	{
		const char *gt = memchr(lt, '>', len - (size_t)(lt - line));

		if (!gt || (size_t)(gt - line) + 2 > len || gt[1] != ' ')
			return;
		out->time_ms = stats_parse_time(line, (size_t)(space - line));
		out->msg = gt + 2;
		out->msg_len = len - (size_t)(gt + 2 - line);
	}
}

int stats_field(const char *msg, size_t len, const char *key, char *out,
                size_t size)
{
	size_t klen = strlen(key), i = 0;
	int quoted = 0;

	if (size == 0)
		return 0;
	*out = '\0';
	while (i < len) {
		/* A key starts the message or follows a space, never inside
		 * quotes. */
		if ((i == 0 || (msg[i - 1] == ' ' && !quoted)) &&
		    len - i > klen && memcmp(msg + i, key, klen) == 0 &&
		    msg[i + klen] == '=') {
			const char *v = msg + i + klen + 1, *end = msg + len;
			size_t n = 0;
			int q = v < end && *v == '"';

			v += q;
			while (v + n < end && (q ? v[n] != '"' : v[n] != ' '))
				n++;
			if (n >= size)
				n = size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		if (msg[i] == '"')
			quoted = !quoted;
		i++;
	}
	return 0;
}
