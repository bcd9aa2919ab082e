// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-directory rename throughput: a contended kernel mutex benchmark.
 *
 * Every rename() between two directories of one filesystem takes the
 * superblock's s_vfs_rename_mutex (lock_rename()), a struct mutex shared by
 * all renamers on that filesystem.  N threads each move a file of their own
 * back and forth between two directories on a tmpfs for D seconds, and the
 * program prints the total number of renames per second:
 *
 *   ops=<total> secs=<elapsed> ops_per_sec=<rate>
 *
 * Used by 'make bench' (guest/pe/bench.sh); not a kselftest.
 *
 * Usage: pe_rename_mix [-t THREADS] [-d SECONDS] [-p DIR]
 *   -t  threads (default: 2 per online CPU)
 *   -d  run time in seconds (default 5)
 *   -p  tmpfs directory to work in (default /dev/shm)
 * Exit: 0 ok, 1 a rename or setup failed, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#define MAX_THREADS	256

struct renamer {
	pthread_t thread;
	char from[PATH_MAX];
	char to[PATH_MAX];
	unsigned long long ops;
	int err;
};

static atomic_bool stop;
static atomic_bool go;

static void *renamer_fn(void *arg)
{
	struct renamer *r = arg;
	bool there = false;

	while (!atomic_load(&go))
		;
	while (!atomic_load(&stop)) {
		if (rename(there ? r->to : r->from, there ? r->from : r->to)) {
			r->err = errno;
			break;
		}
		there = !there;
		r->ops++;
	}
	return NULL;
}

/* mkpath: DST = PARENT/NAME; false (with a message) when it does not fit. */
static bool mkpath(char *dst, const char *parent, const char *name)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", parent, name);

	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "pe_rename_mix: path %s/%s too long\n",
			parent, name);
		return false;
	}
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long parse(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "pe_rename_mix: bad %s '%s' (%ld..%ld)\n",
			what, s, min, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long nthreads = 2 * sysconf(_SC_NPROCESSORS_ONLN), secs = 5, i;
	const char *parent = "/dev/shm";
	static struct renamer r[MAX_THREADS];
	char top[PATH_MAX], a[PATH_MAX], b[PATH_MAX], name[32];
	unsigned long long total = 0;
	double t0, t1;
	int opt, ret = 0;

	while ((opt = getopt(argc, argv, "ht:d:p:")) != -1) {
		switch (opt) {
		case 't':
			nthreads = parse(optarg, 1, MAX_THREADS, "thread count");
			break;
		case 'd':
			secs = parse(optarg, 1, 3600, "duration");
			break;
		case 'p':
			parent = optarg;
			break;
		case 'h':
			printf("Usage: pe_rename_mix [-t THREADS] [-d SECONDS] [-p DIR]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;

	snprintf(name, sizeof(name), "pe_rename_mix.%d", getpid());
	if (!mkpath(top, parent, name) || !mkpath(a, top, "a") ||
	    !mkpath(b, top, "b"))
		return 1;
	if (mkdir(top, 0700) || mkdir(a, 0700) || mkdir(b, 0700)) {
		fprintf(stderr, "pe_rename_mix: mkdir under %s: %s\n",
			parent, strerror(errno));
		return 1;
	}
	for (i = 0; i < nthreads; i++) {
		int fd;

		snprintf(name, sizeof(name), "f%ld", i);
		fd = -1;
		if (mkpath(r[i].from, a, name) && mkpath(r[i].to, b, name))
			fd = open(r[i].from, O_CREAT | O_WRONLY | O_EXCL, 0600);
		if (fd < 0) {
			fprintf(stderr, "pe_rename_mix: create %s: %s\n",
				r[i].from, strerror(errno));
			ret = 1;
			nthreads = i;
			goto cleanup;
		}
		close(fd);
	}
	for (i = 0; i < nthreads; i++) {
		int err = pthread_create(&r[i].thread, NULL, renamer_fn, &r[i]);

		if (err) {
			fprintf(stderr, "pe_rename_mix: thread: %s\n", strerror(err));
			atomic_store(&stop, true);
			atomic_store(&go, true);
			nthreads = i;
			ret = 1;
			break;
		}
	}
	t0 = now_s();
	atomic_store(&go, true);
	if (!ret)
		sleep(secs);
	atomic_store(&stop, true);
	for (i = 0; i < nthreads; i++) {
		pthread_join(r[i].thread, NULL);
		total += r[i].ops;
		if (r[i].err) {
			fprintf(stderr, "pe_rename_mix: rename: %s\n",
				strerror(r[i].err));
			ret = 1;
		}
	}
	t1 = now_s();
	if (!ret)
		printf("ops=%llu secs=%.3f ops_per_sec=%.1f\n",
		       total, t1 - t0, total / (t1 - t0));
cleanup:
	for (i = 0; i < nthreads; i++) {
		unlink(r[i].from);
		unlink(r[i].to);
	}
	rmdir(a);
	rmdir(b);
	rmdir(top);
	return ret;
}
