/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers of the standalone core-scheduling tests
 * (pe_core_sched_test, pe_core_forceidle_test), which do not link the
 * scenario engine: the monotonic clock, small sysfs/debugfs files, and
 * the core scheduling prctl() constants.
 */
#ifndef PE_SMALL_H
#define PE_SMALL_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pe_engine.h"

/* Core scheduling's prctl(), for C libraries older than the kernel's. */
#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE			62
#define PR_SCHED_CORE_GET		0
#define PR_SCHED_CORE_CREATE		1
#define PR_SCHED_CORE_SHARE_FROM	3
#define PR_SCHED_CORE_SCOPE_THREAD	0
#endif

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Read a small file into @buf; -1 if it cannot be read. */
static inline int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Write @s to @path in one write(); -1 if that fails or falls short. */
static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

#endif /* PE_SMALL_H */
