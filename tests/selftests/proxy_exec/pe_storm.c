// SPDX-License-Identifier: GPL-2.0
/*
 * pe_storm - change the scheduling state of running tasks at random, for
 * the soak (make soak): while mutex waiters are queued as donors, or
 * parked on another CPU's runqueue, their affinity, cpuset, cgroup and
 * policy change under them, and some of them are killed.
 *
 * Usage: pe_storm -y -d SECS [-i INTERVAL_MS] [-s SEED] [-g CGROUP]
 *                 [-f PRIO] [-t COMM]... [-k COMM]...
 *
 * It changes other tasks' scheduling and kills some: run it in a test
 * guest only.  -y says so; without it, it refuses to run.
 *
 * Every INTERVAL_MS (default 50) one action, chosen at random:
 *   affinity  sched_setaffinity() of a target thread to a random non-empty
 *             set of online CPUs
 *   sched     a random policy for a target thread: SCHED_OTHER at a random
 *             nice, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO or SCHED_RR at a
 *             low priority, SCHED_DEADLINE (1 ms every 20 ms, after an
 *             affinity of every CPU, which it needs)
 *   cgroup    move a target process to one of two child cgroups of CGROUP,
 *             or back to CGROUP
 *   cpuset    write a random CPU list to a child's cpuset.cpus
 *   kill      SIGKILL a process whose comm starts with a -k name (whoever
 *             runs it starts it again)
 *   read      read the proxy execution state and statistics in debugfs
 * With -f it runs at SCHED_FIFO priority PRIO itself, so that a loaded
 * guest does not slow the storm down.
 * Targets are the threads whose comm starts with a -t name (default:
 * lock_torture, pe_latency, pe_rename_mix, stress-ng).  The kernel may
 * refuse an action (a deadline task's affinity, the bandwidth of one more
 * deadline task, a kthread's cgroup, ...): that is counted, not an error.
 *
 * Without -g no cgroup or cpuset action is taken.  With it, the children
 * CGROUP/pe_storm_a and CGROUP/pe_storm_b are made (cpuset enabled) and
 * removed at the end, their tasks moved back to CGROUP first.
 *
 * Prints one line at the end:
 *   PE-SOAK: storms affinity=N sched=N cgroup=N cpuset=N kill=N read=N refused=N untargeted=N held=N
 * (refused: the kernel said no; untargeted: no task to act on; held: a
 * cgroup move not made because only one CPU was online, see do_cgroup()).
 * Exit codes: 0 done, 1 setup failure, 2 bad usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pe_sched_attr.h"

#ifndef SCHED_IDLE
#define SCHED_IDLE		5
#endif

#define MAX_NAMES		16
#define MAX_TASKS		4096
#define MAX_CPUS		1024
#define DEBUGFS_SCHED		"/sys/kernel/debug/sched"

enum action { A_AFFINITY, A_SCHED, A_CGROUP, A_CPUSET, A_KILL, A_READ, A_NR };

static const char * const action_names[A_NR] = {
	"affinity", "sched", "cgroup", "cpuset", "kill", "read",
};

/* How often each action is drawn, out of the sum. */
static const int action_weight[A_NR] = { 6, 5, 3, 2, 1, 2 };

static const char *targets[MAX_NAMES];
static int nr_targets;
static const char *victims[MAX_NAMES];
static int nr_victims;
static const char *cgroup;
static char child[2][PATH_MAX];
static unsigned long done[A_NR], refused, untargeted, held;
static int online[MAX_CPUS], nr_online;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pe_storm -y -d SECS [-i INTERVAL_MS] [-s SEED] [-g CGROUP] [-f PRIO]\n"
		"                [-t COMM]... [-k COMM]...\n"
		"Change affinity, policy, cgroup and cpuset of running tasks at random.\n"
		"  -y              yes: change other tasks' scheduling (a test guest only)\n"
		"  -d SECS         how long (required)\n"
		"  -i INTERVAL_MS  time between two actions (default 50)\n"
		"  -s SEED         random seed (default: the time)\n"
		"  -g CGROUP       a cgroup v2 directory for the cgroup and cpuset actions\n"
		"  -f PRIO         run at SCHED_FIFO priority PRIO\n"
		"  -t COMM         target threads whose comm starts with COMM (repeatable)\n"
		"  -k COMM         processes to SIGKILL, comm prefix (repeatable; default none)\n"
		"Exit codes: 0 done, 1 setup failure, 2 bad usage.\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pe_storm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(2);
}

static long parse_long(const char *s, char opt, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		bad_usage("-%c '%s' is invalid; expected an integer in [%ld, %ld]",
			  opt, s, min, max);
	return v;
}

static int rnd(int n)
{
	return n > 0 ? (int)(random() % n) : 0;
}

/* Write @val to @path; 0 or -errno. */
static int write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static bool read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

static bool name_matches(const char *comm, const char * const *names, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (!strncmp(comm, names[i], strlen(names[i])))
			return true;
	return false;
}

/*
 * The threads (@threads) or processes whose comm starts with one of
 * @names, at most MAX_TASKS.
 */
static int find_tasks(const char * const *names, int nr, bool threads, pid_t *out)
{
	char path[2 * NAME_MAX + 32], comm[64];
	struct dirent *p, *t;
	DIR *proc, *task;
	int n = 0;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (n < MAX_TASKS && (p = readdir(proc))) {
		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		if (!threads) {
			snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
			if (read_first_line(path, comm, sizeof(comm)) &&
			    name_matches(comm, names, nr))
				out[n++] = atoi(p->d_name);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		task = opendir(path);
		if (!task)
			continue;
		while (n < MAX_TASKS && (t = readdir(task))) {
			if (!isdigit((unsigned char)t->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/comm",
				 p->d_name, t->d_name);
			if (read_first_line(path, comm, sizeof(comm)) &&
			    name_matches(comm, names, nr))
				out[n++] = atoi(t->d_name);
		}
		closedir(task);
	}
	closedir(proc);
	return n;
}

static void find_online(void)
{
	cpu_set_t set;
	int cpu;

	/* Our own affinity: every online CPU, as the soak starts us. */
	if (sched_getaffinity(0, sizeof(set), &set))
		CPU_ZERO(&set);
	for (cpu = 0; cpu < CPU_SETSIZE && nr_online < MAX_CPUS; cpu++)
		if (CPU_ISSET(cpu, &set))
			online[nr_online++] = cpu;
}

/* A random non-empty subset of the online CPUs. */
static void random_cpus(cpu_set_t *set)
{
	int i;

	CPU_ZERO(set);
	for (i = 0; i < nr_online; i++)
		if (rnd(2))
			CPU_SET(online[i], set);
	if (!CPU_COUNT(set))
		CPU_SET(online[rnd(nr_online)], set);
}

static void all_cpus(cpu_set_t *set)
{
	int i;

	CPU_ZERO(set);
	for (i = 0; i < nr_online; i++)
		CPU_SET(online[i], set);
}

static bool do_affinity(pid_t tid)
{
	cpu_set_t set;

	random_cpus(&set);
	return !sched_setaffinity(tid, sizeof(set), &set);
}

static bool do_sched(pid_t tid)
{
	struct pe_sched_attr attr = { .size = sizeof(attr) };
	cpu_set_t set;

	switch (rnd(6)) {
	case 0:
		attr.sched_policy = SCHED_OTHER;
		attr.sched_nice = rnd(40) - 20;
		break;
	case 1:
		attr.sched_policy = SCHED_BATCH;
		attr.sched_nice = rnd(40) - 20;
		break;
	case 2:
		attr.sched_policy = SCHED_IDLE;
		break;
	case 3:
		attr.sched_policy = SCHED_FIFO;
		attr.sched_priority = 1 + rnd(40);
		break;
	case 4:
		attr.sched_policy = SCHED_RR;
		attr.sched_priority = 1 + rnd(40);
		break;
	default:
		/* A deadline task's affinity must span its root domain. */
		all_cpus(&set);
		sched_setaffinity(tid, sizeof(set), &set);
		attr.sched_policy = SCHED_DEADLINE;
		attr.sched_runtime = 1000000;
		attr.sched_deadline = 20000000;
		attr.sched_period = 20000000;
		break;
	}
	return !syscall(SYS_sched_setattr, tid, &attr, 0);
}

/* How many CPUs are online now (locktorture's hotplug changes it). */
static int cpus_online_now(void)
{
	char buf[256], *p = buf;
	int n = 0, a, b, len;

	if (!read_first_line("/sys/devices/system/cpu/online", buf, sizeof(buf)))
		return nr_online;
	while (sscanf(p, "%d%n", &a, &len) == 1) {
		p += len;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%d%n", &b, &len) == 1)
			p += 1 + len;
		n += b - a + 1;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

static bool do_cgroup(pid_t pid)
{
	char path[PATH_MAX + 32], val[32];
	int c = rnd(3);

	snprintf(path, sizeof(path), "%s/cgroup.procs", c < 2 ? child[c] : cgroup);
	snprintf(val, sizeof(val), "%d\n", pid);
	return !write_file(path, val);
}

static bool do_cpuset(void)
{
	char path[PATH_MAX + 32], val[8 * MAX_CPUS / 2];
	size_t len = 0;
	cpu_set_t set;
	int i;

	random_cpus(&set);
	for (i = 0; i < nr_online && len + 8 < sizeof(val); i++)
		if (CPU_ISSET(online[i], &set))
			len += snprintf(val + len, sizeof(val) - len, "%s%d",
					len ? "," : "", online[i]);
	snprintf(path, sizeof(path), "%s/cpuset.cpus", child[rnd(2)]);
	return !write_file(path, val);
}

static bool do_read(void)
{
	static const char * const files[] = { "proxy_exec", "proxy_stats" };
	char path[128], buf[4096];
	bool ok = false;
	unsigned int i;
	ssize_t n;
	int fd;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", DEBUGFS_SCHED, files[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		ok |= n == 0;
		close(fd);
	}
	return ok;
}

/*
 * The tasks of one kind, found again once a second at most: a scan of
 * /proc for each action would make the storm too slow under emulation.
 */
struct task_list {
	const char * const *names;
	const int *nr;
	bool threads;
	pid_t tasks[MAX_TASKS];
	int n;
	struct timespec when;
};

static struct task_list target_threads = {
	.names = targets, .nr = &nr_targets, .threads = true,
};
static struct task_list target_procs = { .names = targets, .nr = &nr_targets };
static struct task_list victim_procs = { .names = victims, .nr = &nr_victims };

static pid_t pick(struct task_list *l)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!l->n || now.tv_sec > l->when.tv_sec) {
		l->n = find_tasks(l->names, *l->nr, l->threads, l->tasks);
		l->when = now;
	}
	return l->n ? l->tasks[rnd(l->n)] : 0;
}

static void one_action(void)
{
	int total = 0, r, a;
	bool ok = false;
	pid_t p;

	for (a = 0; a < A_NR; a++)
		total += action_weight[a];
	r = rnd(total);
	for (a = 0; a < A_NR - 1 && r >= action_weight[a]; a++)
		r -= action_weight[a];

	switch (a) {
	case A_AFFINITY:
	case A_SCHED:
		p = pick(&target_threads);
		if (!p)
			goto untargeted;
		ok = a == A_AFFINITY ? do_affinity(p) : do_sched(p);
		break;
	case A_CGROUP:
		if (!cgroup)
			return;
		/*
		 * Moving another process takes the CPU hotplug lock for read
		 * and cgroup_threadgroup_rwsem for write, and waits for every
		 * fork and exit in progress.  With one CPU online and the
		 * storms' nice -20, RT and deadline tasks on it, an exiting
		 * task it waits for can starve for minutes; every fork and
		 * exit then queues behind the write, and the CPU online that
		 * would end it behind the hotplug lock (finding 10 of
		 * docs/dev/soak.md; percpu rwsems have no priority
		 * inheritance, and proxy execution lends only across
		 * mutexes).  Move only while two CPUs are online: once the
		 * move holds the hotplug lock, no CPU goes down under it.
		 */
		if (cpus_online_now() < 2) {
			held++;
			return;
		}
		p = pick(&target_procs);
		if (!p)
			goto untargeted;
		ok = do_cgroup(p);
		break;
	case A_CPUSET:
		if (!cgroup)
			return;
		ok = do_cpuset();
		break;
	case A_KILL:
		if (!nr_victims)
			return;
		p = pick(&victim_procs);
		if (!p)
			goto untargeted;
		ok = !kill(p, SIGKILL);
		break;
	default:
		ok = do_read();
		break;
	}
	if (ok)
		done[a]++;
	else
		refused++;
	return;
untargeted:
	untargeted++;
}

/* Move every task of @from to @to, a few rounds for tasks forked meanwhile. */
static void drain(const char *from, const char *to)
{
	char path[PATH_MAX + 32], line[32];
	int round;
	FILE *f;

	for (round = 0; round < 5; round++) {
		bool any = false;

		snprintf(path, sizeof(path), "%s/cgroup.procs", from);
		f = fopen(path, "re");
		if (!f)
			return;
		snprintf(path, sizeof(path), "%s/cgroup.procs", to);
		while (fgets(line, sizeof(line), f)) {
			write_file(path, line);
			any = true;
		}
		fclose(f);
		if (!any)
			return;
	}
}

static int setup_cgroups(void)
{
	char path[PATH_MAX + 32];
	int i;

	/* cpuset for the children; cpu may already be on. */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cgroup);
	if (write_file(path, "+cpuset")) {
		fprintf(stderr, "pe_storm: cannot enable cpuset in %s: %s\n", cgroup,
			strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		snprintf(child[i], sizeof(child[i]), "%s/pe_storm_%c", cgroup, 'a' + i);
		if (mkdir(child[i], 0755) && errno != EEXIST) {
			fprintf(stderr, "pe_storm: cannot make %s: %s\n", child[i],
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void cleanup_cgroups(void)
{
	int i, tries;

	for (i = 0; i < 2; i++) {
		for (tries = 0; tries < 50; tries++) {
			drain(child[i], cgroup);
			if (!rmdir(child[i]) || errno == ENOENT)
				break;
			usleep(100000);
		}
		if (tries == 50)
			fprintf(stderr, "pe_storm: cannot remove %s: %s\n", child[i],
				strerror(errno));
	}
}

int main(int argc, char **argv)
{
	long secs = -1, interval_ms = 50, seed = time(NULL), fifo = 0;
	struct timespec now, end, gap;
	bool yes = false;
	int opt, a;

	while ((opt = getopt(argc, argv, ":hyd:i:s:g:f:t:k:")) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return 0;
		case 'y':
			yes = true;
			break;
		case 'd':
			secs = parse_long(optarg, opt, 1, 7 * 24 * 3600);
			break;
		case 'i':
			interval_ms = parse_long(optarg, opt, 1, 60000);
			break;
		case 's':
			seed = parse_long(optarg, opt, 0, LONG_MAX);
			break;
		case 'g':
			cgroup = optarg;
			break;
		case 'f':
			fifo = parse_long(optarg, opt, 1, 99);
			break;
		case 't':
			if (nr_targets == MAX_NAMES)
				bad_usage("at most %d -t names", MAX_NAMES);
			targets[nr_targets++] = optarg;
			break;
		case 'k':
			if (nr_victims == MAX_NAMES)
				bad_usage("at most %d -k names", MAX_NAMES);
			victims[nr_victims++] = optarg;
			break;
		case ':':
			bad_usage("-%c needs a value", optopt);
		default:
			bad_usage("unknown option -%c", optopt);
		}
	}
	if (optind != argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (secs < 0)
		bad_usage("-d SECS is required");
	if (!yes)
		bad_usage("it changes other tasks' scheduling: run it in a test guest, with -y");
	if (!nr_targets) {
		targets[nr_targets++] = "lock_torture";
		targets[nr_targets++] = "pe_latency";
		targets[nr_targets++] = "pe_rename_mix";
		targets[nr_targets++] = "stress-ng";
	}
	srandom(seed);
	find_online();
	if (!nr_online) {
		fprintf(stderr, "pe_storm: no CPU in our affinity\n");
		return 1;
	}
	if (fifo) {
		struct sched_param sp = { .sched_priority = fifo };

		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			fprintf(stderr, "pe_storm: SCHED_FIFO %ld: %s\n", fifo, strerror(errno));
			return 1;
		}
	}
	if (cgroup && setup_cgroups())
		return 1;
	fprintf(stderr, "pe_storm: %ld s, an action every %ld ms, seed %ld, %d CPUs%s%s\n",
		secs, interval_ms, seed, nr_online, cgroup ? ", cgroup " : "",
		cgroup ? cgroup : "");

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	gap.tv_sec = interval_ms / 1000;
	gap.tv_nsec = (interval_ms % 1000) * 1000000L;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		one_action();
		nanosleep(&gap, NULL);
	}
	if (cgroup)
		cleanup_cgroups();

	printf("PE-SOAK: storms");
	for (a = 0; a < A_NR; a++)
		printf(" %s=%lu", action_names[a], done[a]);
	printf(" refused=%lu untargeted=%lu held=%lu\n", refused, untargeted, held);
	return 0;
}
