/* postern-stats' reading of a log line, on any bytes: the split stays
 * inside the line, every field read is terminated within its buffer, and
 * the counters only add up what was there (each line counts once). */
#include "fuzz.h"
#include "stats.h"
#include "stats_parse.h"

#include <string.h>

static struct stats st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct log_line l;
	char v[8];
	uint64_t lines = st.lines, events = st.events;

	if (lines == 0 || lines > 100000)
		stats_init(&st);
	lines = st.lines;
	events = st.events;
	stats_split_line(line, size, &l);
	FUZZ_ASSERT(l.msg >= line && l.msg + l.msg_len == line + size);
	memset(v, 'x', sizeof v);
	if (stats_field(l.msg, l.msg_len, "event", v, sizeof v))
		FUZZ_ASSERT(memchr(v, 0, sizeof v) != NULL);
	stats_add(&st, l.msg, l.msg_len);
	FUZZ_ASSERT(st.lines == lines + 1);
	FUZZ_ASSERT(st.events <= events + 1);
	FUZZ_ASSERT(st.nclients <= STATS_CLIENTS);
	FUZZ_ASSERT(stats_percentile(&st.lookup, 50) <= STATS_LOOKUP_MS_MAX);
	FUZZ_ASSERT(stats_percentile(&st.resolve, 90) <= STATS_LOOKUP_MS_MAX);
	FUZZ_ASSERT(st.resolve_failures <= st.resolves &&
	            st.resolve.count <= st.resolves);
	(void)stats_parse_time(line, size);
	return 0;
}
