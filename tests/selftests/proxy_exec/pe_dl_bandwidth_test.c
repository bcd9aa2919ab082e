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
 *
 * dl_partition/sleeper_charged_where_it_may_run is the second order: a
 * deadline task asleep on the CPU that becomes a partition (see there).
 * It needs the root cgroup.
 *
 * dl_partition/fair_servers_kept_at_a_rebuild: a CPU going offline keeps
 * the partition's root domain, whose total must keep its fair server.
 * dl_cpuset/leaving_deadline_asleep_gives_bw_back: a deadline task asleep past its
 * 0-lag time that becomes SCHED_OTHER gives its bandwidth back.
 *
 * All four fail on the 6.12.117 base kernel ("sched/deadline: Take a
 * task's bandwidth off where it was added" fixes them).
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
#include "pe_sched_attr.h"

#define SCHED_DEBUG_FILE	"/sys/kernel/debug/sched/debug"
#define CGROUP_ROOT		"/sys/fs/cgroup"
#define MOVES			20
#define DL_RUNTIME_NS		1000000ULL
#define DL_PERIOD_NS		20000000ULL
/* to_ratio(period, runtime) of the kernel: runtime << 20 / period. */
#define DL_BW			((DL_RUNTIME_NS << 20) / DL_PERIOD_NS)

/* Why the last dl_total_bw() failed, for the skip message. */
static char bw_why[128];

/*
 * total_bw of the root domain of @cpu (its dl_rq[@cpu] block), or of the
 * first CPU listed for @cpu < 0; -1 with bw_why set if there is none.
 * total_bw is signed here: an accounting gone below zero reads negative.
 */
static bool dl_total_bw_cpu(int cpu, long long *bw)
{
	int tries, lines, rq = -1;
	char line[256];
	bool found;
	FILE *f;

	/* A read of the debug file can fail under load; try it thrice. */
	for (tries = 0; tries < 3; tries++) {
		f = fopen(SCHED_DEBUG_FILE, "r");
		if (!f) {
			snprintf(bw_why, sizeof(bw_why), "open %s: %s",
				 SCHED_DEBUG_FILE, strerror(errno));
			continue;
		}
		found = false;
		lines = 0;
		errno = 0;
		while (!found && fgets(line, sizeof(line), f)) {
			lines++;
			if (sscanf(line, "dl_rq[%d]:", &rq) == 1)
				continue;
			if (cpu >= 0 && rq != cpu)
				continue;
			found = sscanf(line, " .dl_bw->total_bw : %lld", bw) == 1;
		}
		if (!found)
			snprintf(bw_why, sizeof(bw_why),
				 "no dl_bw->total_bw for cpu %d in %d lines of %s (%s)",
				 cpu, lines, SCHED_DEBUG_FILE,
				 errno ? strerror(errno) : "end of file");
		fclose(f);
		if (found)
			return true;
	}
	return false;
}

/* The root domain's total_bw, or -1 (with bw_why set). */
static long long dl_total_bw(void)
{
	long long bw;

	return dl_total_bw_cpu(-1, &bw) && bw >= 0 ? bw : -1;
}

/*
 * total_bw of @cpu's root domain (see dl_total_bw_cpu()) once it differs
 * from @was, or after a second.  A dead task gives its bandwidth back at
 * its last context switch, which may come after waitpid(); a task that
 * leaves SCHED_DEADLINE may give it at its 0-lag time.  false if a read
 * failed (bw_why says why).
 */
static bool dl_total_bw_change(int cpu, long long was, long long *bw)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (!dl_total_bw_cpu(cpu, bw))
			return false;
		if (*bw != was)
			break;
		usleep(10000);
	}
	return true;
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
	char line[496];
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

/*
 * What both fixtures need: root, total_bw in debugfs, and a cgroup v2
 * directory of ours (into @parent).  NULL if all is there, else why not.
 */
static const char *dl_setup_missing(char *parent, size_t len)
{
	static char why[sizeof(bw_why) + 48];

	if (geteuid())
		return "needs root";
	if (dl_total_bw() < 0) {
		snprintf(why, sizeof(why), "%s (needs CONFIG_SCHED_DEBUG and debugfs)", bw_why);
		return why;
	}
	if (!own_cgroup(parent, len))
		return "no cgroup v2";
	return NULL;
}

/*
 * Fork a child that becomes SCHED_DEADLINE (1 ms every 20 ms) and sleeps in
 * pause().  With @cpu >= 0 it first runs on @cpu and then allows @all
 * again (deadline admission wants the whole root domain allowed), so it
 * sleeps with @cpu as its last CPU.  Returns the child, or -1; *@ok says
 * whether the child got there.
 */
static pid_t dl_sleeper(int cpu, const cpu_set_t *all, char *ok)
{
	struct pe_sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = DL_RUNTIME_NS,
		.sched_deadline = DL_PERIOD_NS,
		.sched_period = DL_PERIOD_NS,
	};
	cpu_set_t one;
	int p[2];
	pid_t pid;

	*ok = 0;
	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		close(p[0]);
		*ok = 1;
		if (cpu < 0) {
			*ok = !syscall(SYS_sched_setattr, 0, &attr, 0);
		} else {
			/*
			 * Once all CPUs are allowed again, the task may move
			 * before it sleeps (becoming deadline can push it):
			 * start over, as SCHED_OTHER, until it is still on
			 * @cpu as a deadline task.
			 */
			struct pe_sched_attr other = { .size = sizeof(other) };
			int tries;

			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			for (tries = 0; tries < 20; tries++) {
				*ok = !sched_setaffinity(0, sizeof(one), &one);
				while (*ok && sched_getcpu() != cpu)
					sched_yield();
				*ok = *ok && !sched_setaffinity(0, sizeof(*all), all);
				*ok = *ok && !syscall(SYS_sched_setattr, 0, &attr, 0);
				if (!*ok || sched_getcpu() == cpu)
					break;
				syscall(SYS_sched_setattr, 0, &other, 0);
			}
		}
		if (write(p[1], ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], ok, 1) != 1)
		*ok = 0;
	close(p[0]);
	return pid;
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
	const char *missing;
	int i, n = 0, cpus[2];
	cpu_set_t set;

	self->pid = 0;
	self->child[0][0] = '\0';
	self->child[1][0] = '\0';
	missing = dl_setup_missing(self->parent, sizeof(self->parent));
	if (missing)
		SKIP(return, "%s", missing);
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
	long long bw0, bw1, bw2, bw_idle;
	int i, status;
	char ok;

	bw_idle = dl_total_bw();
	ASSERT_GE(bw_idle, 0) TH_LOG("%s", bw_why);
	self->pid = dl_sleeper(-1, NULL, &ok);
	ASSERT_GE(self->pid, 0);
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
	ASSERT_TRUE(dl_total_bw_change(-1, bw1, &bw2)) TH_LOG("%s", bw_why);
	EXPECT_EQ(bw1 - bw2, (long long)DL_BW)
		TH_LOG("total_bw %lld -> %lld when the child exited", bw1, bw2);
	TH_LOG("total_bw: idle %lld, with the child %lld, after %d moves %lld, after its exit %lld",
	       bw_idle, bw0, MOVES, bw1, bw2);
}

/*
 * The second order: a deadline task asleep on a CPU that then becomes a
 * cpuset partition of its own.  The partition takes the CPU out of the
 * task's cpuset, so the task may no longer run there, and its bandwidth
 * belongs to the root domain of the CPUs it may run on.  The root domain
 * rebuild recounts every deadline task where its runqueue is
 * (dl_add_task_root_domain()), and a sleeping task's runqueue is still
 * that of the CPU it last ran on: the partition's.  When the task wakes
 * and exits on the other CPUs, their root domain gives back bandwidth it
 * never had.  Finding 12 of docs/dev/soak.md: a base kernel bug, read from
 * the code, that this test shows.
 */
FIXTURE(dl_partition)
{
	char parent[512];
	char part[600];
	int cpu, other;
	cpu_set_t all;
	pid_t pid;
};

static int part_set(const char *dir, const char *state)
{
	char path[700], got[32] = "";
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/cpuset.cpus.partition", dir);
	err = write_str(path, state);
	if (err)
		return err;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	got[strcspn(got, "\n")] = '\0';
	/* An invalid partition reads "root invalid (...)". */
	return strcmp(got, state) ? -EINVAL : 0;
}

FIXTURE_SETUP(dl_partition)
{
	char path[700], cpu[16];
	const char *missing;
	int i;

	self->pid = 0;
	self->part[0] = '\0';
	missing = dl_setup_missing(self->parent, sizeof(self->parent));
	if (missing)
		SKIP(return, "%s", missing);
	/* A partition's parent must be a partition root: the cgroup root is. */
	if (strcmp(self->parent, CGROUP_ROOT))
		SKIP(return, "runs in %s, not in the root cgroup", self->parent);
	CPU_ZERO(&self->all);
	ASSERT_EQ(sched_getaffinity(0, sizeof(self->all), &self->all), 0);
	self->cpu = self->other = -1;
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &self->all))
			continue;
		if (self->other < 0)
			self->other = i;
		self->cpu = i;
	}
	if (self->cpu == self->other)
		SKIP(return, "needs 2 CPUs");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", self->parent);
	if (write_str(path, "+cpuset"))
		SKIP(return, "no cpuset controller for %s", self->parent);
	snprintf(self->part, sizeof(self->part), "%s/pe_dl_part", self->parent);
	part_set(self->part, "member");
	rmdir(self->part);
	ASSERT_EQ(mkdir(self->part, 0755), 0)
		TH_LOG("mkdir %s: %s", self->part, strerror(errno));
	snprintf(path, sizeof(path), "%s/cpuset.cpus", self->part);
	snprintf(cpu, sizeof(cpu), "%d", self->cpu);
	ASSERT_EQ(write_str(path, cpu), 0) TH_LOG("%s = %s refused", path, cpu);
}

FIXTURE_TEARDOWN(dl_partition)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->part[0]) {
		part_set(self->part, "member");
		rmdir(self->part);
	}
}

/* The CPU @pid last ran on (field 39 of /proc/<pid>/stat), or -1. */
static int task_cpu_of(pid_t pid, char *state)
{
	char path[64], buf[1024], *p;
	int i, cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c", state) != 1)
		return -1;
	/* p ends field 2 (comm); each space found starts the next field. */
	for (i = 2; p && i < 39; i++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%d", &cpu);
	return cpu;
}

TEST_F(dl_partition, sleeper_charged_where_it_may_run)
{
	long long a_rest, a_part, b_rest, b_part, c_rest, c_part;
	int i, tries, status, cpu = -1;
	char ok, state = '?';

	/* The two root domains' totals with the partition and no task. */
	ASSERT_EQ(part_set(self->part, "root"), 0)
		TH_LOG("%s did not become a valid partition", self->part);
	ASSERT_TRUE(dl_total_bw_cpu(self->other, &a_rest)) TH_LOG("%s", bw_why);
	ASSERT_TRUE(dl_total_bw_cpu(self->cpu, &a_part)) TH_LOG("%s", bw_why);
	ASSERT_EQ(part_set(self->part, "member"), 0);

	/*
	 * Asleep, and last on the partition's CPU.  The child checks its CPU
	 * before it tells us and goes to sleep, and may be moved in between:
	 * then start a new child (a dead one's bandwidth is off at once).
	 */
	for (tries = 0; tries < 5; tries++) {
		self->pid = dl_sleeper(self->cpu, &self->all, &ok);
		ASSERT_GE(self->pid, 0);
		if (!ok)
			SKIP(return, "SCHED_DEADLINE or affinity refused");
		for (i = 0; i < 100; i++) {
			cpu = task_cpu_of(self->pid, &state);
			if (state == 'S')
				break;
			usleep(10000);
		}
		ASSERT_EQ(state, 'S') TH_LOG("the deadline child is in state %c, not asleep", state);
		if (cpu == self->cpu)
			break;
		ksft_print_msg("the deadline child sleeps on cpu %d, not %d: again\n", cpu, self->cpu);
		kill(self->pid, SIGKILL);
		ASSERT_EQ(waitpid(self->pid, &status, 0), self->pid);
		self->pid = 0;
	}
	ASSERT_EQ(cpu, self->cpu) TH_LOG("the deadline child sleeps on cpu %d, not %d, %d times", cpu, self->cpu, tries);

	ASSERT_EQ(part_set(self->part, "root"), 0);
	ASSERT_TRUE(dl_total_bw_cpu(self->other, &b_rest)) TH_LOG("%s", bw_why);
	ASSERT_TRUE(dl_total_bw_cpu(self->cpu, &b_part)) TH_LOG("%s", bw_why);
	EXPECT_EQ(b_rest - a_rest, (long long)DL_BW)
		TH_LOG("cpu %d's root domain: total_bw %lld without the task, %lld with it asleep; expected +%llu",
		       self->other, a_rest, b_rest, DL_BW);
	EXPECT_EQ(b_part, a_part)
		TH_LOG("the partition (cpu %d): total_bw %lld without the task, %lld with it, which may not run there",
		       self->cpu, a_part, b_part);

	kill(self->pid, SIGKILL);
	ASSERT_EQ(waitpid(self->pid, &status, 0), self->pid);
	self->pid = 0;
	ASSERT_TRUE(dl_total_bw_change(self->other, b_rest, &c_rest)) TH_LOG("%s", bw_why);
	ASSERT_TRUE(dl_total_bw_cpu(self->cpu, &c_part)) TH_LOG("%s", bw_why);
	EXPECT_EQ(c_rest, a_rest)
		TH_LOG("cpu %d's root domain: total_bw %lld after the task exited, %lld before it existed",
		       self->other, c_rest, a_rest);
	EXPECT_EQ(c_part, a_part)
		TH_LOG("the partition: total_bw %lld after the task exited, %lld before it existed",
		       c_part, a_part);
	TH_LOG("total_bw rest/partition: no task %lld/%lld, task asleep %lld/%lld, task gone %lld/%lld",
	       a_rest, a_part, b_rest, b_part, c_rest, c_part);
}

/*
 * A root domain that survives a rebuild has its total cleared and its
 * deadline tasks counted again; its CPUs' fair servers (50 ms a second
 * each, in total_bw since boot) are not tasks, and the base kernel lost
 * them there.  Taking another CPU offline rebuilds the root domains and
 * keeps the partition's.
 */
static bool cpu_set_online(int cpu, bool on)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	return !write_str(path, on ? "1" : "0");
}

TEST_F(dl_partition, fair_servers_kept_at_a_rebuild)
{
	long long part0, part1, part2;
	int i, victim = -1;
	char path[96];

	/* A CPU other than the first, which may not go down, and the partition's. */
	for (i = self->other + 1; i < self->cpu; i++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", i);
		if (CPU_ISSET(i, &self->all) && !access(path, W_OK)) {
			victim = i;
			break;
		}
	}
	if (victim < 0)
		SKIP(return, "needs a third CPU that can go offline");
	ASSERT_EQ(part_set(self->part, "root"), 0)
		TH_LOG("%s did not become a valid partition", self->part);
	ASSERT_TRUE(dl_total_bw_cpu(self->cpu, &part0)) TH_LOG("%s", bw_why);
	ASSERT_TRUE(cpu_set_online(victim, false)) TH_LOG("cpu %d would not go offline", victim);
	ASSERT_TRUE(dl_total_bw_cpu(self->cpu, &part1)) TH_LOG("%s", bw_why);
	ASSERT_TRUE(cpu_set_online(victim, true)) TH_LOG("cpu %d would not come back", victim);
	ASSERT_TRUE(dl_total_bw_cpu(self->cpu, &part2)) TH_LOG("%s", bw_why);
	/* One fair server: the partition's CPU. */
	EXPECT_GT(part0, 0) TH_LOG("the partition holds no fair server's bandwidth");
	EXPECT_EQ(part1, part0)
		TH_LOG("the partition (cpu %d): total_bw %lld, then %lld with cpu %d offline",
		       self->cpu, part0, part1, victim);
	EXPECT_EQ(part2, part0)
		TH_LOG("the partition (cpu %d): total_bw %lld, then %lld with cpu %d back",
		       self->cpu, part0, part2, victim);
	TH_LOG("partition total_bw: %lld, cpu %d offline %lld, back %lld",
	       part0, victim, part1, part2);
}

/*
 * A deadline task that sleeps past its 0-lag time has no inactive timer
 * armed.  When it then leaves SCHED_DEADLINE, its bandwidth must go at
 * once: the base kernel left it in total_bw for good (until a rebuild).
 */
TEST_F(dl_cpuset, leaving_deadline_asleep_gives_bw_back)
{
	struct pe_sched_attr other = { .size = sizeof(other) };
	long long idle, with, after = -1;
	char ok;

	idle = dl_total_bw();
	ASSERT_GE(idle, 0) TH_LOG("%s", bw_why);
	self->pid = dl_sleeper(-1, NULL, &ok);
	ASSERT_GE(self->pid, 0);
	if (!ok)
		SKIP(return, "SCHED_DEADLINE refused (admission control, or no root)");
	with = dl_total_bw();
	/* Ten periods: well past the 0-lag time of a 1 ms / 20 ms task. */
	usleep(10 * DL_PERIOD_NS / 1000);
	ASSERT_EQ(syscall(SYS_sched_setattr, self->pid, &other, 0), 0)
		TH_LOG("sched_setattr(SCHED_OTHER): %s", strerror(errno));
	ASSERT_TRUE(dl_total_bw_change(-1, with, &after)) TH_LOG("%s", bw_why);
	EXPECT_EQ(with - idle, (long long)DL_BW)
		TH_LOG("total_bw %lld -> %lld at SCHED_DEADLINE", idle, with);
	EXPECT_EQ(after, idle)
		TH_LOG("total_bw %lld idle, %lld as SCHED_DEADLINE, %lld a second after SCHED_OTHER",
		       idle, with, after);
	TH_LOG("total_bw: idle %lld, deadline %lld, after SCHED_OTHER %lld", idle, with, after);
}

TEST_HARNESS_MAIN
