/* A minimal unit-test harness: CHECK records a failure and goes on;
 * mt_test_done() prints the counts and gives the exit status. */
#ifndef MT_TEST_H
#define MT_TEST_H
#include <stdio.h>
#include <string.h>

static int mt_test_passed, mt_test_failed;

#define CHECK(cond) do { \
	if (cond) mt_test_passed++; \
	else { mt_test_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ && w_ && strcmp(g_, w_) == 0) mt_test_passed++; \
	else { mt_test_failed++; fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
	                                 g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ == w_) mt_test_passed++; \
	else { mt_test_failed++; fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); } \
} while (0)

static inline int mt_test_done(void)
{
	printf("%d passed, %d failed\n", mt_test_passed, mt_test_failed);
	return mt_test_failed ? 1 : 0;
}
#endif
