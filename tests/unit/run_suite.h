/* Every unit test ends the same way: run the suite (CK_ENV lets
 * CK_VERBOSITY and CK_TAP_LOG_FILE_NAME choose the output) and exit. */
#ifndef POSTERN_RUN_SUITE_H
#define POSTERN_RUN_SUITE_H

#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
