// SPDX-License-Identifier: GPL-2.0
/*
 * The deadline bandwidth a root domain accounts (total_bw, admission
 * control's sum) must follow its deadline tasks when cgroup moves them
 * between cpusets.  A base kernel bug the soak ran into: moving a deadline
 * task between two cpusets of one root domain whose CPUs do not intersect
 * reserved its bandwidth again at each move (cpuset_can_attach()), and
 * nothing gave it back (set_cpus_allowed_dl() releases only when the task
 * leaves its root domain).  total_bw grew until CPU offline failed with
 * -EBUSY.  Proxy execution plays no part; the test runs with the flag on
 * and off alike.
 *
 * A child process sleeps as SCHED_DEADLINE (1 ms every 20 ms) and is moved
 * back and forth between two child cpusets, one CPU each, then back to its
 * cgroup.  total_bw (the first CPU's line of /sys/kernel/debug/sched/debug;
 * one root domain here) must be what it was before the moves, and drop by
 * the child's bandwidth when the child exits, which shows that the reading
 * follows the task at all.  It needs root, cgroup v2 with the cpuset
 * controller available to our cgroup, debugfs and two CPUs; nothing else
 * may change deadline tasks or CPU hotplug meanwhile (a CPU going down
 * rebuilds the root domains, which recomputes total_bw).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE		6
#endif

#define SCHED_DEBUG_FILE	"/sys/kernel/debug/sched/debug"
#define CGROUP_ROOT		"/sys/fs/cgroup"
#define MOVES			20
#define DL_RUNTIME_NS		1000000ULL
#define DL_PERIOD_NS		20000000ULL
/* to_ratio(period, runtime) of the kernel: runtime << 20 / period. */
#define DL_BW			((DL_RUNTIME_NS << 20) / DL_PERIOD_NS)

struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/* Why the last dl_total_bw() failed, for the skip message. */
static char bw_why[128];

/* The root domain's total_bw, or -1 (with bw_why set). */
static long long dl_total_bw(void)
{
	int tries, lines;
	char line[256];
	long long bw;
	FILE *f;

	/* A read of the debug file can fail under load; try it thrice. */
	for (tries = 0; tries < 3; tries++) {
		f = fopen(SCHED_DEBUG_FILE, "r");
		if (!f) {
			snprintf(bw_why, sizeof(bw_why), "open %s: %s",
				 SCHED_DEBUG_FILE, strerror(errno));
			continue;
		}
		bw = -1;
		lines = 0;
		errno = 0;
		while (bw < 0 && fgets(line, sizeof(line), f)) {
			lines++;
			if (sscanf(line, " .dl_bw->total_bw : %lld", &bw) != 1)
				bw = -1;
		}
		if (bw < 0)
			snprintf(bw_why, sizeof(bw_why),
				 "no dl_bw->total_bw in %d lines of %s (%s)", lines,
				 SCHED_DEBUG_FILE, errno ? strerror(errno) : "end of file");
		fclose(f);
		if (bw >= 0)
			return bw;
	}
	return -1;
}

static int write_str(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Our own cgroup v2 directory, "" for the root; false without one. */
static bool own_cgroup(char *dir, size_t len)
{
	char line[512];
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(dir, len, "%s%s", CGROUP_ROOT, strcmp(line + 3, "/") ? line + 3 : "");
		found = true;
	}
	fclose(f);
	return found;
}

FIXTURE(dl_cpuset)
{
	char parent[512];
	char child[2][600];
	pid_t pid;
};

FIXTURE_SETUP(dl_cpuset)
{
	char path[700], cpu[16];
	int i, n = 0, cpus[2];
	cpu_set_t set;

	self->pid = 0;
	self->child[0][0] = '\0';
	self->child[1][0] = '\0';
	if (geteuid())
		SKIP(return, "needs root");
	if (dl_total_bw() < 0)
		SKIP(return, "%s (needs CONFIG_SCHED_DEBUG and debugfs)", bw_why);
	if (!own_cgroup(self->parent, sizeof(self->parent)))
		SKIP(return, "no cgroup v2");
	CPU_ZERO(&set);
	ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	if (n < 2)
		SKIP(return, "needs 2 CPUs");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", self->parent);
	if (write_str(path, "+cpuset"))
		SKIP(return, "no cpuset controller for %s", self->parent);
	for (i = 0; i < 2; i++) {
		snprintf(self->child[i], sizeof(self->child[i]), "%s/pe_dl_bw_%c",
			 self->parent, 'a' + i);
		rmdir(self->child[i]);
		ASSERT_EQ(mkdir(self->child[i], 0755), 0)
			TH_LOG("mkdir %s: %s", self->child[i], strerror(errno));
		snprintf(path, sizeof(path), "%s/cpuset.cpus", self->child[i]);
		snprintf(cpu, sizeof(cpu), "%d", cpus[i]);
		ASSERT_EQ(write_str(path, cpu), 0)
			TH_LOG("%s = %s refused", path, cpu);
	}
}

FIXTURE_TEARDOWN(dl_cpuset)
{
	int i;

	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	for (i = 0; i < 2; i++)
		if (self->child[i][0])
			rmdir(self->child[i]);
}

/* Move @pid into cgroup @dir. */
static int move_to(const char *dir, pid_t pid)
{
	char path[700], val[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(val, sizeof(val), "%d", pid);
	return write_str(path, val);
}

TEST_F(dl_cpuset, moves_keep_total_bw)
{
	struct sched_attr_v1 attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = DL_RUNTIME_NS,
		.sched_deadline = DL_PERIOD_NS,
		.sched_period = DL_PERIOD_NS,
	};
	long long bw0, bw1, bw2, bw_idle;
	int i, status, p[2];
	char ok;

	bw_idle = dl_total_bw();
	ASSERT_GE(bw_idle, 0) TH_LOG("%s", bw_why);
	ASSERT_EQ(pipe(p), 0);
	self->pid = fork();
	ASSERT_GE(self->pid, 0);
	if (!self->pid) {
		close(p[0]);
		ok = !syscall(SYS_sched_setattr, 0, &attr, 0);
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &ok, 1), 1);
	close(p[0]);
	if (!ok)
		SKIP(return, "SCHED_DEADLINE refused (admission control, or no root)");

	bw0 = dl_total_bw();
	ASSERT_EQ(bw0 - bw_idle, (long long)DL_BW)
		TH_LOG("total_bw %lld -> %lld at the child's SCHED_DEADLINE, expected +%llu",
		       bw_idle, bw0, DL_BW);
	for (i = 0; i < MOVES; i++)
		ASSERT_EQ(move_to(self->child[i % 2], self->pid), 0)
			TH_LOG("move %d to %s refused", i, self->child[i % 2]);
	ASSERT_EQ(move_to(self->parent, self->pid), 0);
	bw1 = dl_total_bw();
	ASSERT_GE(bw1, 0) TH_LOG("%s", bw_why);
	EXPECT_EQ(bw1, bw0)
		TH_LOG("total_bw %lld after %d cpuset moves, %lld before: %lld tasks' worth leaked",
		       bw1, MOVES, bw0, (bw1 - bw0) / (long long)DL_BW);

	kill(self->pid, SIGKILL);
	ASSERT_EQ(waitpid(self->pid, &status, 0), self->pid);
	self->pid = 0;
	/*
	 * waitpid() can return before the dead child's last context switch,
	 * where the deadline class gives back its bandwidth (task_dead_dl()):
	 * give that switch up to a second.
	 */
	for (i = 0; i < 100; i++) {
		bw2 = dl_total_bw();
		if (bw2 != bw1)
			break;
		usleep(10000);
	}
	EXPECT_EQ(bw1 - bw2, (long long)DL_BW)
		TH_LOG("total_bw %lld -> %lld when the child exited", bw1, bw2);
	TH_LOG("total_bw: idle %lld, with the child %lld, after %d moves %lld, after its exit %lld",
	       bw_idle, bw0, MOVES, bw1, bw2);
}

TEST_HARNESS_MAIN
