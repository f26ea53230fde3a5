/* A minimal unit-test harness: CHECK records a failure and goes on;
 * mt_test_done() prints the counts and gives the exit status. */
#ifndef MT_TEST_H
#define MT_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

/*
 * The directory of the shared test vectors: $MT_VECTORS_DIR, else fallback
 * (the build's ../shared/vectors).  NULL, after a SKIP line saying why,
 * when there is none: a user's clone has no ../shared.
 */
static inline const char *mt_test_vectors_dir(const char *fallback)
{
	const char *dir = getenv("MT_VECTORS_DIR");
	struct stat st;
	if (!dir || !*dir)
		dir = fallback;
	if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("SKIP vector tests: no vectors directory at %s (set MT_VECTORS_DIR)\n",
		       dir ? dir : "(none)");
		return NULL;
	}
	return dir;
}

/*
 * A counter of `nsd-control stats_noreset` ("num.queries") of the NSD that
 * tests/integration/run_nsd.sh started (MT_NSD_CONTROL, MT_NSD_CONF), or -1.
 */
static inline long mt_test_nsd_stat(const char *key)
{
	const char *control = getenv("MT_NSD_CONTROL"), *conf = getenv("MT_NSD_CONF");
	char cmd[1024], line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *p;
	if (!control || !conf)
		return -1;
	snprintf(cmd, sizeof cmd, "'%s' -c '%s' stats_noreset", control, conf);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof line, p))
		if (strncmp(line, key, klen) == 0 && line[klen] == '=')
			val = strtol(line + klen + 1, NULL, 10);
	pclose(p);
	return val;
}

/* A UDP socket on 127.0.0.1 that reads questions and never answers (a
 * silent server): its descriptor, with its port in *port; -1 on failure. */
static inline int mt_test_silent_udp(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static inline int mt_test_done(void)
{
	printf("%d passed, %d failed\n", mt_test_passed, mt_test_failed);
	return mt_test_failed ? 1 : 0;
}
#endif
