/* A small stand-in for libFuzzer, so make check can fuzz with gcc: it
 * runs the seed files, then a fixed number of mutations of them (bit
 * flips, byte changes, insertions, cuts, splices), all from a fixed seed
 * so a failure is repeatable. Prints TAP. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS "."
#endif
#define INPUT_MAX 4096
#define SEEDS_MAX 64

static uint8_t seeds[SEEDS_MAX][INPUT_MAX];
static size_t seed_len[SEEDS_MAX], nseeds;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void load(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];

	while (d && (e = readdir(d)) && nseeds < SEEDS_MAX) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		seed_len[nseeds] = fread(seeds[nseeds], 1, INPUT_MAX, f);
		fclose(f);
		nseeds++;
	}
	if (d)
		closedir(d);
	if (nseeds == 0)
		seed_len[nseeds++] = 0;
}

static size_t mutate(uint8_t *buf, size_t len)
{
	int rounds = 1 + (int)(next() % 4);

	while (rounds-- > 0) {
		size_t at = len ? next() % len : 0;
		const uint8_t *other = seeds[next() % nseeds];

		switch (next() % 6) {
		case 0:
			if (len)
				buf[at] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1:
			if (len)
				buf[at] = (uint8_t)next();
			break;
		case 2:
			if (len < INPUT_MAX) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = "\r\n {}()\"\\*0:+-=<>"[next() % 18];
				len++;
			}
			break;
		case 3:
			len = at;
			break;
		case 4:
			if (len) {
				size_t n = next() % (len - at + 1);
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
			}
			break;
		default:
			for (size_t i = 0; i < 16 && at < INPUT_MAX; i++, at++)
				buf[at] = other[(i + at) % INPUT_MAX];
			len = at > len ? at : len;
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t buf[INPUT_MAX];
	long runs = argc > 2 ? atol(argv[2]) : 20000;

	load(argc > 1 ? argv[1] : FUZZ_CORPUS);
	for (size_t i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
	for (long r = 0; r < runs; r++) {
		size_t s = next() % nseeds, len = seed_len[s];

		memcpy(buf, seeds[s], len);
		len = mutate(buf, len);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("1..1\nok 1 - %zu seeds and %ld mutations\n", nseeds, runs);
	return 0;
}
