// SPDX-License-Identifier: GPL-2.0
/*
 * The priority inversion engine of pe_inversion_test and pe_latency; see
 * pe_engine.h for the scenario.
 *
 * The waiter samples only when the owner has sat inside one critical
 * section, not sampled before, for a while: it was preempted (or throttled)
 * holding the lock, which is the case where inversion happens.  Each
 * sample's wait is the wall time of the waiter's operation beyond its own
 * uncontended cost.
 *
 * A pinned SCHED_DEADLINE waiter needs its CPU to be a root domain of its
 * own (sched_setattr() refuses an affinity narrower than the root domain):
 * a cgroup v2 cpuset partition holding only that CPU, a threaded child of
 * our cgroup, into which owner, waiter and hogs move themselves through
 * cgroup.threads.  Creating and removing a partition resets the affinity of
 * the tasks in its parent cgroup (the kernel does that), so run this on a
 * test machine.  The cgroup scenarios use threaded children the same way:
 * the owner in one with a cpu.weight of 1 or a tight cpu.max, the waiter
 * and the hogs in a sibling.  Every child is removed at the end, and stale
 * ones left by a killed run are removed by the next run.
 *
 * A watchdog thread (highest SCHED_FIFO priority, on another CPU when the
 * tasks are pinned and there is one) pauses the hogs and the contender,
 * and lifts the owner's cpu.max, when one wait exceeds the cap, so the
 * owner can finish.
 *
 * Environment: PE_TMPDIR, the directory for the fpos scratch file
 * (default: /dev/shm, /tmp or /run if tmpfs, else a private tmpfs mount).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pe_engine.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC		0x01021994
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif
#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ		1031
#endif
#ifndef __maybe_unused
#define __maybe_unused		__attribute__((__unused__))
#endif

/* The plain fair context of most tasks. */
#define NICE_0			{ .policy = SCHED_OTHER, .nice = 0 }
#define CG_SCENARIO(n, mode) {						\
	.name = (n), .waiter = NICE_0, .owner = NICE_0, .hog = NICE_0,	\
	.nr_hogs = 2, .donor_share_pct = 33, .cg_mode = (mode),		\
}
#define FIFO_SCENARIO(n, with_contender) {				\
	.name = (n), .waiter = { .policy = SCHED_FIFO, .prio = 50 },	\
	.owner = NICE_0, .hog = { .policy = SCHED_FIFO, .prio = 10 },	\
	.nr_hogs = 1, .fair_server_window = true,			\
	.contender = (with_contender),					\
}

#define SYSCTL_KERNEL_DIR	"/proc/sys/kernel"
#define FAIR_SERVER_FMT		DEBUGFS_SCHED_DIR "/fair_server/cpu%d/runtime"
/* The fair server's default runtime, used when debugfs does not tell. */
#define FAIR_SERVER_DEFAULT_NS	(50 * NSEC_PER_MSEC)

/* Uncontended operations timed to calibrate the owner and the waiter. */
#define CALIB_OPS		16
/* How often the waiter looks for the owner inside its critical section. */
#define POLL_NS			(200 * NSEC_PER_USEC)
/*
 * An owner inside one critical section for this long (at least
 * STUCK_MIN_NS) was preempted holding the lock: uncontended, it takes
 * cs_wall.
 */
#define STUCK_CS_FACTOR		4
#define STUCK_MIN_NS		(1 * NSEC_PER_MSEC)
#define WATCHDOG_TICK_NS	(5 * NSEC_PER_MSEC)
#define READY_TIMEOUT_NS	(10 * NSEC_PER_SEC)
#define WAITER_WRITE_LEN	8

/* Our children: <our cgroup>/<prefix><pid>[.<tag>]. */
#define CGROUP_PREFIX		"pe_engine."
/* How long teardown retries removing a cgroup the threads are leaving. */
#define CGROUP_RMDIR_NS		(2 * NSEC_PER_SEC)
#define CGROUP_RETRY_NS		(10 * NSEC_PER_MSEC)
/* The throttled lock holder: 2 ms every 100 ms. */
#define CGMAX_THROTTLED		"2000 100000"
#define CGMAX_UNTHROTTLED	"max 100000"

/* The cross-directory renames: the owner's a <-> b, the waiter's c <-> d. */
#define RENAME_OWNER_FILE	"o"
#define RENAME_WAITER_FILE	"w"

struct pe_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

const struct pe_scenario pe_scenarios[PE_NR_SCENARIOS] = {
	/* A nice 19 owner gets about 0.7 % of the CPU against two nice 0 hogs. */
	[PE_SCEN_NICE] = {
		.name = "nice",
		.waiter = { .policy = SCHED_OTHER, .nice = -20 },
		.owner = { .policy = SCHED_OTHER, .nice = 19 },
		.hog = NICE_0,
		.nr_hogs = 2,
		/* Weights 88761 : 88761 + 2 x 1024. */
		.donor_share_pct = 97,
	},
	[PE_SCEN_IDLE] = {
		.name = "idle",
		.waiter = NICE_0,
		.owner = { .policy = SCHED_IDLE },
		.hog = NICE_0,
		.nr_hogs = 2,
		/* Weights 1024 : 1024 + 1024: the waiter's context gets a third. */
		.donor_share_pct = 33,
	},
	/*
	 * Without PE only the fair server's reserve (or RT throttling) lets
	 * the owner run against a FIFO hog, so a wait can approach a second.
	 * An RT waiter cannot preempt a fair owner that the fair server (a
	 * SCHED_DEADLINE server, 50 ms per second by default) is running: the
	 * owner keeps re-taking the unlocked mutex before the woken waiter
	 * gets the CPU, and proxy execution has no say because nothing is
	 * blocked on a runnable owner's behalf.  A bound for this scenario
	 * therefore includes the fair server's runtime.
	 */
	[PE_SCEN_FIFO] = FIFO_SCENARIO("fifo", false),
	/*
	 * The same with a contender ahead of the waiter on the wait list:
	 * the owner's unlock wakes the contender, not the waiter whose
	 * context the owner runs on, and proxy execution must still end
	 * that turn rather than let the owner re-take the lock on it.
	 */
	[PE_SCEN_FIFO_CONTENDER] = FIFO_SCENARIO("fifocontender", true),
	/*
	 * A deadline task has no priority to inherit; only proxy execution
	 * lends its bandwidth.  3 ms every 10 ms leaves room for a TCG
	 * critical section.
	 */
	[PE_SCEN_DEADLINE] = {
		.name = "deadline",
		.waiter = {
			.policy = SCHED_DEADLINE,
			.runtime_ns = 3 * NSEC_PER_MSEC,
			.deadline_ns = 10 * NSEC_PER_MSEC,
			.period_ns = 10 * NSEC_PER_MSEC,
		},
		.owner = { .policy = SCHED_OTHER, .nice = 19 },
		.hog = NICE_0,
		.nr_hogs = 2,
		/* 3 ms of runtime every 10 ms. */
		.donor_share_pct = 30,
	},
	/*
	 * All nice 0; the owner is weakened by its group: weights 1 : 100, or
	 * the throttled lock holder, whose group may run 2 ms per 100 ms.
	 * Inside the sibling, the waiter gets a third of the CPU.
	 */
	[PE_SCEN_CGWEIGHT] = CG_SCENARIO("cgweight", PE_CG_WEIGHT),
	[PE_SCEN_CGMAX] = CG_SCENARIO("cgmax", PE_CG_MAX),
};

const char * const pe_lock_names[PE_NR_LOCKS] = {
	[PE_LOCK_FPOS] = "fpos",
	[PE_LOCK_PIPE] = "pipe",
	[PE_LOCK_RENAME] = "rename",
};

const char * const pe_placement_names[PE_NR_PLACEMENTS] = {
	[PE_PLACE_ONE] = "one",
	[PE_PLACE_SPREAD] = "spread",
};

static void pe_log_stderr(const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
}

void (*pe_log_hook)(const char *fmt, va_list ap) = pe_log_stderr;

/**
 * pe_log() - print an engine diagnostic through pe_log_hook
 * @fmt: printf format, ending in a newline
 */
void pe_log(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	pe_log_hook(fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * pe_now_ns() - read a clock
 * @clk: the clock
 *
 * Return: its time in ns.
 */
uint64_t pe_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/**
 * pe_cmp_u64() - qsort() comparator for uint64_t
 * @a: first value
 * @b: second value
 *
 * Return: -1, 0 or 1.
 */
int pe_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), pe_cmp_u64);
	return v[n / 2];
}

/**
 * pe_percentile() - nearest-rank percentile
 * @sorted: values in ascending order
 * @n: how many
 * @p: the percentile, 0 to 100
 *
 * Return: the value, 0 when @n is 0.
 */
uint64_t pe_percentile(const uint64_t *sorted, size_t n, unsigned int p)
{
	size_t rank = (n * p + 99) / 100;

	if (!n)
		return 0;
	if (!rank)
		rank = 1;
	return sorted[rank - 1];
}

/**
 * pe_to_us() - round ns to us
 * @ns: nanoseconds
 *
 * Return: microseconds.
 */
uint64_t pe_to_us(uint64_t ns)
{
	return (ns + NSEC_PER_USEC / 2) / NSEC_PER_USEC;
}

/**
 * pe_lookup() - index of a name in a table
 * @name: the name
 * @names: the table
 * @nr: its length
 *
 * Return: the index, or -1.
 */
int pe_lookup(const char *name, const char * const *names, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (names[i] && !strcmp(name, names[i]))
			return i;
	return -1;
}

/* The first error wins; it also stops every thread. */
static void __printf(3, 4)
run_error(struct pe_run *run, bool skip, const char *fmt, ...)
{
	int expected = 0;
	va_list ap;

	if (atomic_compare_exchange_strong(&run->err_set, &expected, 1)) {
		run->err_is_skip = skip;
		va_start(ap, fmt);
		vsnprintf(run->err_msg, sizeof(run->err_msg), fmt, ap);
		va_end(ap);
	}
	atomic_store(&run->stop, 1);
}

static bool stopping(struct pe_run *run)
{
	return atomic_load_explicit(&run->stop, memory_order_relaxed);
}

static int set_sched(const struct pe_sched *s)
{
	struct pe_sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = (uint32_t)s->policy,
		.sched_nice = s->nice,
		.sched_priority = s->prio,
		.sched_runtime = s->runtime_ns,
		.sched_deadline = s->deadline_ns,
		.sched_period = s->period_ns,
	};

	if (syscall(SYS_sched_setattr, 0, &attr, 0))
		return -errno;
	return 0;
}

/**
 * pe_sched_str() - describe a scheduling context
 * @s: the context
 * @buf: output
 * @len: its size
 *
 * Return: @buf.
 */
const char *pe_sched_str(const struct pe_sched *s, char *buf, size_t len)
{
	switch (s->policy) {
	case SCHED_FIFO:
		snprintf(buf, len, "SCHED_FIFO/%u", s->prio);
		break;
	case SCHED_OTHER:
		snprintf(buf, len, "SCHED_OTHER/nice=%d", s->nice);
		break;
	case SCHED_IDLE:
		snprintf(buf, len, "SCHED_IDLE");
		break;
	case SCHED_DEADLINE:
		snprintf(buf, len, "SCHED_DEADLINE/%llu/%llu/%lluus",
			 (unsigned long long)pe_to_us(s->runtime_ns),
			 (unsigned long long)pe_to_us(s->deadline_ns),
			 (unsigned long long)pe_to_us(s->period_ns));
		break;
	default:
		snprintf(buf, len, "policy-%d", s->policy);
	}
	return buf;
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}

/* Open the cgroup (or any sysfs-like) file @dir/@name; an fd or -errno. */
static int cg_open(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Write @val to the file @dir/@name; 0 or -errno. */
static int cg_write(const char *dir, const char *name, const char *val)
{
	int fd = cg_open(dir, name, O_WRONLY), err = 0;
	size_t len = strlen(val);
	ssize_t w;

	if (fd < 0)
		return fd;
	w = write(fd, val, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}

/* Read the file @dir/@name, without its trailing newline. */
static int cg_read(const char *dir, const char *name, char *buf, size_t len)
{
	int fd = cg_open(dir, name, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return fd;
	while (n < len - 1) {
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0) {
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

/* Whether the space-separated list @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (!p[len] || p[len] == ' '))
			return true;
		p += len;
	}
	return false;
}

/* Our cgroup v2 directory: the cgroup2 mount plus /proc/self/cgroup's path. */
static int own_cgroup_dir(char *dir, size_t len, char *why, size_t why_len)
{
	char line[PATH_MAX + 8], mnt[PATH_MAX] = "";
	struct mntent *me;
	struct statfs sfs;
	FILE *f;
	int n;

	f = setmntent("/proc/self/mounts", "r");
	if (f) {
		while ((me = getmntent(f)))
			if (!strcmp(me->mnt_type, "cgroup2")) {
				snprintf(mnt, sizeof(mnt), "%s", me->mnt_dir);
				break;
			}
		endmntent(f);
	}
	if (!*mnt || statfs(mnt, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(why, why_len, "no cgroup2 mount");
		return -ENOENT;
	}

	f = fopen("/proc/self/cgroup", "re");
	if (!f) {
		n = errno;
		snprintf(why, why_len, "/proc/self/cgroup: %s", strerror(n));
		return -n;
	}
	n = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::/", 4))
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* The root cgroup is "/": use the mount point itself. */
		n = snprintf(dir, len, "%s%s", mnt, line[4] ? line + 3 : "");
		n = n >= (int)len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	if (n)
		snprintf(why, why_len, "no cgroup2 path in /proc/self/cgroup: %s",
			 strerror(-n));
	return n;
}

/**
 * pe_remove_stale_cgroups() - remove the children of killed runs
 *
 * A killed run (the harness kills a test on timeout) leaves its children
 * behind: a partition holds its CPU exclusively, which also takes it out of
 * our affinity.  rmdir() only removes empty cgroups, and only those of dead
 * processes are tried.
 */
void pe_remove_stale_cgroups(void)
{
	const size_t plen = strlen(CGROUP_PREFIX);
	char parent[PATH_MAX], path[PATH_MAX], why[64];
	struct dirent *de;
	char *end;
	DIR *d;
	long pid;

	if (own_cgroup_dir(parent, sizeof(parent), why, sizeof(why)))
		return;
	d = opendir(parent);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, CGROUP_PREFIX, plen))
			continue;
		errno = 0;
		pid = strtol(de->d_name + plen, &end, 10);
		if (errno || (*end && *end != '.') || pid <= 0 || pid > INT_MAX ||
		    !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (!rmdir(path))
			pe_log("removed the stale cgroup %s\n", path);
	}
	closedir(d);
}

/* Write a file of the child; on error say which in cg->why. */
static bool cg_set(struct pe_cgroup *cg, const char *name, const char *val)
{
	int err = cg_write(cg->dir, name, val);

	if (err)
		snprintf(cg->why, sizeof(cg->why), "writing '%s' to %s/%s: %s",
			 val, cg->dir, name, strerror(-err));
	return !err;
}

/*
 * Move whatever threads are left in the child back to its parent and
 * remove it.  pthread_join() returns before a thread has left its cgroup
 * (the kernel's cgroup_exit() comes after the TID is cleared), so EBUSY is
 * retried for a while.  Returns 0 or -errno.
 */
static int cg_destroy(struct pe_cgroup *cg)
{
	uint64_t end = pe_now_ns(CLOCK_MONOTONIC) + CGROUP_RMDIR_NS;
	char tids[4096], *tid, *save;
	int err;

	cg->active = false;
	if (!cg->created)
		return 0;
	for (;;) {
		if (!cg_read(cg->dir, "cgroup.threads", tids, sizeof(tids)))
			for (tid = strtok_r(tids, "\n", &save); tid;
			     tid = strtok_r(NULL, "\n", &save))
				cg_write(cg->parent, "cgroup.threads", tid);
		if (!rmdir(cg->dir) || errno == ENOENT)
			break;
		err = -errno;
		if (err != -EBUSY || pe_now_ns(CLOCK_MONOTONIC) > end)
			return err;
		sleep_ns(CGROUP_RETRY_NS);
	}
	cg->created = false;
	return 0;
}

/*
 * Create <our cgroup>/<prefix><pid>[.@tag] as a threaded cgroup (so single
 * threads can join it), with @ctrl enabled above it.  On failure cg->why
 * says why and nothing is left behind.
 */
static bool cg_create(struct pe_cgroup *cg, const char *tag, const char *ctrl)
{
	char buf[256];
	int err, n;

	if (own_cgroup_dir(cg->parent, sizeof(cg->parent), cg->why, sizeof(cg->why)))
		return false;
	err = cg_read(cg->parent, "cgroup.subtree_control", buf, sizeof(buf));
	if (err || !has_word(buf, ctrl)) {
		snprintf(cg->why, sizeof(cg->why),
			 "the %s controller is not enabled in %s/cgroup.subtree_control%s%s",
			 ctrl, cg->parent, err ? ": " : "", err ? strerror(-err) : "");
		return false;
	}
	n = snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d%s%s",
		     cg->parent, (int)getpid(), tag ? "." : "", tag ? tag : "");
	if (n >= (int)sizeof(cg->dir)) {
		snprintf(cg->why, sizeof(cg->why), "cgroup path too long");
		return false;
	}
	if (mkdir(cg->dir, 0755)) {
		err = errno;
		snprintf(cg->why, sizeof(cg->why), "mkdir %s: %s", cg->dir,
			 strerror(err));
		return false;
	}
	cg->created = true;
	if (cg_set(cg, "cgroup.type", "threaded"))
		return true;
	err = cg_destroy(cg);
	if (err)
		pe_log("cannot remove %s: %s\n", cg->dir, strerror(-err));
	return false;
}

/* Check that a cgroup file reads @want; on error say so in cg->why. */
static bool cg_expect(struct pe_cgroup *cg, const char *name, const char *want)
{
	char buf[256];
	int err;

	err = cg_read(cg->dir, name, buf, sizeof(buf));
	if (!err && !strcmp(buf, want))
		return true;
	snprintf(cg->why, sizeof(cg->why), "%s/%s: %s (want %s)", cg->dir, name,
		 err ? strerror(-err) : buf, want);
	return false;
}

/*
 * Make @cpu a root domain of its own: a threaded child with
 * cpuset.cpus=@cpu as a "root" partition.  An invalid partition is
 * accepted, and reads "root invalid (why)".
 */
static bool partition_create(struct pe_cgroup *p, int cpu)
{
	char cpu_str[16];
	int err;

	if (!cg_create(p, NULL, "cpuset"))
		return false;
	snprintf(cpu_str, sizeof(cpu_str), "%d", cpu);
	if (cg_set(p, "cpuset.cpus", cpu_str) &&
	    cg_set(p, "cpuset.cpus.partition", "root") &&
	    cg_expect(p, "cpuset.cpus.partition", "root") &&
	    cg_expect(p, "cpuset.cpus.effective", cpu_str)) {
		p->active = true;
		return true;
	}
	err = cg_destroy(p);
	if (err)
		pe_log("cannot remove %s: %s\n", p->dir, strerror(-err));
	return false;
}

/* The owner's group and its sibling for the waiter and the hogs. */
static bool cpu_groups_create(struct pe_run *run, char *why, size_t len)
{
	struct pe_cgroup *bad = &run->cg_owner;
	const char *file = "cpu.weight", *val = "1";

	/* The throttle starts with the contention: calibrate unthrottled. */
	if (run->scen->cg_mode == PE_CG_MAX) {
		file = "cpu.max";
		val = CGMAX_UNTHROTTLED;
		atomic_store(&run->unthrottled, 1);
	}
	if (cg_create(&run->cg_owner, "owner", "cpu") &&
	    cg_set(&run->cg_owner, file, val)) {
		bad = &run->cg_rest;
		if (cg_create(&run->cg_rest, "rest", "cpu")) {
			run->cg_owner.active = true;
			run->cg_rest.active = true;
			pe_log("owner in %s (%s %s), waiter and hogs in %s\n",
			       run->cg_owner.dir, file,
			       run->scen->cg_mode == PE_CG_MAX ? run->cpu_max : val,
			       run->cg_rest.dir);
			return true;
		}
	}
	snprintf(why, len, "%s", bad->why);
	cg_destroy(&run->cg_owner);
	return false;
}

/**
 * pe_cgroups_setup() - create the cgroups the run needs
 * @run: the run, after pe_pick_cpus()
 * @why: what failed
 * @len: its size
 *
 * The deadline scenario pinned to one CPU of several gets a partition; the
 * cgroup scenarios get the owner's group and its sibling.  Call it last in
 * the setup, so nothing else can fail and leave them behind.
 *
 * Return: true when nothing was needed or all was created.
 */
bool pe_cgroups_setup(struct pe_run *run, char *why, size_t len)
{
	if (run->scen->cg_mode != PE_CG_NONE)
		return cpu_groups_create(run, why, len);
	if (run->scen->waiter.policy != SCHED_DEADLINE ||
	    run->cfg.place != PE_PLACE_ONE || run->other_cpu < 0)
		return true;
	if (!partition_create(&run->part, run->cpu)) {
		snprintf(why, len, "%s", run->part.why);
		return false;
	}
	pe_log("cpuset partition %s: cpu %d is its own root domain; owner, waiter and hogs run in it\n",
	       run->part.dir, run->cpu);
	return true;
}

/**
 * pe_cgroups_teardown() - remove the cgroups of the run
 * @run: the run, its threads stopped
 * @why: which one could not be removed
 * @len: its size
 *
 * Return: 0 or the first -errno.
 */
int pe_cgroups_teardown(struct pe_run *run, char *why, size_t len)
{
	struct pe_cgroup *cgs[] = { &run->part, &run->cg_owner, &run->cg_rest };
	int err, ret = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cgs); i++) {
		err = cg_destroy(cgs[i]);
		if (err && !ret) {
			ret = err;
			snprintf(why, len, "%s: %s", cgs[i]->dir, strerror(-err));
		}
	}
	return ret;
}

/* Move the calling thread into its cgroup, if it has one. */
static bool cg_join(struct pe_run *run, struct pe_cgroup *cg, const char *who)
{
	char tid[24];
	int err;

	if (!cg->active && run->part.active)
		cg = &run->part;
	if (!cg->active)
		return true;
	snprintf(tid, sizeof(tid), "%ld", (long)syscall(SYS_gettid));
	err = cg_write(cg->dir, "cgroup.threads", tid);
	if (err)
		run_error(run, false, "%s: join the cgroup %s: %s", who, cg->dir,
			  strerror(-err));
	return !err;
}

/*
 * Set a thread's policy; EPERM (no privilege) and EBUSY (deadline admission)
 * mean the scenario cannot run here, anything else is a failure.
 */
static bool thread_set_sched(struct pe_run *run, const char *who,
			     const struct pe_sched *s)
{
	char buf[SCHED_STR_LEN];
	int err = set_sched(s);

	if (!err)
		return true;
	run_error(run, err == -EPERM || err == -EBUSY,
		  "%s: sched_setattr(%s): %s", who, pe_sched_str(s, buf, sizeof(buf)),
		  strerror(-err));
	return false;
}

/* Join the cgroup, pin (placement "one") and set the policy of a thread. */
static bool thread_setup(struct pe_run *run, const char *who,
			 struct pe_cgroup *cg, const struct pe_sched *s)
{
	int err;

	if (!cg_join(run, cg, who))
		return false;
	if (run->cfg.place == PE_PLACE_ONE) {
		err = pin_self(run->cpu);
		if (err) {
			run_error(run, false, "%s: pin to cpu %d: %s", who,
				  run->cpu, strerror(-err));
			return false;
		}
	}
	return !s || thread_set_sched(run, who, s);
}

static bool wait_go(struct pe_run *run)
{
	while (!atomic_load(&run->go)) {
		if (stopping(run))
			return false;
		sleep_ns(NSEC_PER_MSEC);
	}
	return !stopping(run);
}

/* Empty the pipe (nonblocking read end): what the owner and waiter wrote. */
static int pipe_drain(struct pe_run *run)
{
	ssize_t r;

	for (;;) {
		r = read(run->rfd, run->owner_buf, run->owner_len);
		if (r > 0)
			continue;
		if (!r)
			return -EPIPE;
		return errno == EAGAIN ? 0 : -errno;
	}
}

/* One critical section of the owner; 0 or -errno. */
static int owner_op(struct pe_run *run)
{
	int from = run->owner_flip;
	ssize_t w;

	switch (run->cfg.lock) {
	case PE_LOCK_FPOS:
		if (lseek(run->fd, 0, SEEK_SET) < 0)
			return -errno;
		break;
	case PE_LOCK_RENAME:
		if (renameat(run->dirfd[from], RENAME_OWNER_FILE,
			     run->dirfd[!from], RENAME_OWNER_FILE))
			return -errno;
		run->owner_flip = !from;
		return 0;
	default:
		break;
	}
	w = write(run->fd, run->owner_buf, run->owner_len);
	if (w != (ssize_t)run->owner_len)
		return w < 0 ? -errno : -EIO;
	return run->cfg.lock == PE_LOCK_PIPE ? pipe_drain(run) : 0;
}

/* The waiter's operation, timed; the same path calibrates and measures. */
static int waiter_op(struct pe_run *run, uint64_t id, uint64_t *ns)
{
	int from = 2 + run->waiter_flip;
	uint64_t t0 = pe_now_ns(CLOCK_MONOTONIC);
	int err = 0;
	ssize_t w;

	if (run->cfg.lock == PE_LOCK_RENAME) {
		if (renameat(run->dirfd[from], RENAME_WAITER_FILE,
			     run->dirfd[5 - from], RENAME_WAITER_FILE))
			err = -errno;
		else
			run->waiter_flip = !run->waiter_flip;
	} else {
		w = write(run->fd, &id, WAITER_WRITE_LEN);
		if (w != WAITER_WRITE_LEN)
			err = w < 0 ? -errno : -EIO;
	}
	*ns = pe_now_ns(CLOCK_MONOTONIC) - t0;
	return err;
}

/* tracefs's trace_marker, at either of its usual places; -1 if none. */
static int open_trace_marker(void)
{
	static const char * const paths[] = {
		"/sys/kernel/tracing/trace_marker",
		"/sys/kernel/debug/tracing/trace_marker",
	};
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		fd = open(paths[i], O_WRONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/*
 * With cfg.trace, write one line to the ftrace buffer, so that a long wait
 * can be found in a trace of the scheduler's events.
 */
static void __printf(2, 3) trace_mark(struct pe_run *run, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int len;

	if (run->trace_fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len > 0 && write(run->trace_fd, buf,
			     (size_t)len < sizeof(buf) ? (size_t)len : sizeof(buf) - 1) < 0) {
		/* Tracing went away: stop marking.  Only the waiter marks. */
		close(run->trace_fd);
		run->trace_fd = -1;
	}
}

static void *owner_fn(void *arg)
{
	uint64_t cpu_ns[CALIB_OPS], wall_ns[CALIB_OPS];
	struct pe_run *run = arg;
	int i, err;

	if (!thread_setup(run, "owner", &run->cg_owner, &run->scen->owner))
		return NULL;

	/* One warm-up op allocates the pages; the rest only copy. */
	for (i = -1; i < CALIB_OPS; i++) {
		uint64_t c0 = pe_now_ns(CLOCK_THREAD_CPUTIME_ID);
		uint64_t t0 = pe_now_ns(CLOCK_MONOTONIC);

		err = owner_op(run);
		if (err)
			goto io_err;
		if (i < 0)
			continue;
		wall_ns[i] = pe_now_ns(CLOCK_MONOTONIC) - t0;
		cpu_ns[i] = pe_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
	run->cs_cpu_ns = median_u64(cpu_ns, CALIB_OPS);
	run->cs_wall_ns = median_u64(wall_ns, CALIB_OPS);
	atomic_store(&run->owner_ready, 1);

	if (!wait_go(run))
		return NULL;

	while (!stopping(run)) {
		atomic_fetch_add(&run->owner_seq, 1);
		atomic_store(&run->owner_in_op, 1);
		err = owner_op(run);
		atomic_store(&run->owner_in_op, 0);
		if (err)
			goto io_err;
	}
	return NULL;

io_err:
	run_error(run, false, "owner: %s critical section failed: %s",
		  pe_lock_names[run->cfg.lock], strerror(-err));
	return NULL;
}

/*
 * The life of a background thread, a hog or the contender: set up in the
 * others' cgroup with context @s, count itself ready, then repeat @op until
 * the run stops, sleeping while @paused is set.
 */
static void *background_loop(struct pe_run *run, const char *who,
			     const struct pe_sched *s, atomic_int *paused,
			     int (*op)(struct pe_run *run))
{
	int err;

	if (!thread_setup(run, who, &run->cg_rest, s))
		return NULL;
	atomic_fetch_add(&run->bg_ready, 1);
	if (!wait_go(run))
		return NULL;

	while (!stopping(run)) {
		if (atomic_load_explicit(paused, memory_order_relaxed)) {
			sleep_ns(NSEC_PER_MSEC);
			continue;
		}
		err = op(run);
		if (err) {
			run_error(run, false, "%s: %s", who, strerror(-err));
			return NULL;
		}
	}
	return NULL;
}

/* A stretch of a hog's busy loop. */
static int hog_op(struct pe_run *run __maybe_unused)
{
	int i;

	for (i = 0; i < 1000; i++)
		__asm__ __volatile__("" ::: "memory");
	return 0;
}

static void *hog_fn(void *arg)
{
	struct pe_run *run = arg;

	return background_loop(run, "hog", &run->scen->hog, &run->hogs_paused,
			       hog_op);
}

/*
 * One write of the contender: as few bytes as the waiter's, at the shared
 * position (the owner's rewind keeps the file small), so under the owner's
 * f_pos_lock but with a critical section too short to matter.  While
 * contender_in_op is set, the contender is queued on the lock (woken or
 * not) or holds it.
 */
static int contender_op(struct pe_run *run)
{
	ssize_t w;

	atomic_store(&run->contender_in_op, 1);
	w = write(run->fd, run->owner_buf, WAITER_WRITE_LEN);
	atomic_store(&run->contender_in_op, 0);
	if (w != WAITER_WRITE_LEN)
		return w < 0 ? -errno : -EIO;
	return 0;
}

/*
 * The contender loops on its write from the start of the contention; once
 * the hogs run, it hardly gets the CPU, so it stays queued on the lock
 * ahead of the waiter.  Only the watchdog and the end of the run pause it,
 * not the re-arming between samples: that is when it queues again.
 */
static void *contender_fn(void *arg)
{
	static const struct pe_sched nice_0 = NICE_0;
	struct pe_run *run = arg;

	return background_loop(run, "contender", &nice_0,
			       &run->contender_paused, contender_op);
}

/* Lift or restore a throttled owner's cpu.max; called under run->ctl. */
static void owner_throttle(struct pe_run *run, bool on)
{
	int err;

	if (run->scen->cg_mode != PE_CG_MAX || !run->cg_owner.active ||
	    atomic_load(&run->unthrottled) == !on)
		return;
	err = cg_write(run->cg_owner.dir, "cpu.max",
		       on ? run->cpu_max : CGMAX_UNTHROTTLED);
	if (err)
		run_error(run, false, "%s/cpu.max: %s", run->cg_owner.dir,
			  strerror(-err));
	atomic_store(&run->unthrottled, !on);
}

/*
 * The waiter cannot be interrupted inside its operation, but the hogs and
 * the contender can be stopped, and a throttled owner unthrottled: once a
 * wait exceeds the cap, do that so the owner finishes and the waiter gets
 * to the head of the wait list.
 */
static void *watchdog_fn(void *arg)
{
	struct pe_sched fifo_max = {
		.policy = SCHED_FIFO,
		.prio = (unsigned int)sched_get_priority_max(SCHED_FIFO),
	};
	struct pe_run *run = arg;
	uint64_t cap = (uint64_t)run->cfg.cap_ms * NSEC_PER_MSEC;
	int err = 0;

	if (run->cfg.place == PE_PLACE_ONE)
		err = pin_self(run->other_cpu >= 0 ? run->other_cpu : run->cpu);
	if (err) {
		run_error(run, false, "watchdog: pin: %s", strerror(-err));
		return NULL;
	}
	if (!thread_set_sched(run, "watchdog", &fifo_max))
		return NULL;
	atomic_store(&run->wd_ready, 1);

	while (!stopping(run)) {
		sleep_ns(WATCHDOG_TICK_NS);
		pthread_mutex_lock(&run->ctl);
		if (run->cur_active && run->capped_id != run->cur_id &&
		    pe_now_ns(CLOCK_MONOTONIC) - run->cur_start > cap) {
			run->capped_id = run->cur_id;
			atomic_store(&run->hogs_paused, 1);
			atomic_store(&run->contender_paused, 1);
			owner_throttle(run, false);
		}
		pthread_mutex_unlock(&run->ctl);
	}
	return NULL;
}

static bool waiter_setup(struct pe_run *run)
{
	const struct pe_sched *s = &run->scen->waiter;
	char buf[SCHED_STR_LEN];
	int err;

	/* In the partition, the waiter's CPU is its whole root domain. */
	if (!thread_setup(run, "waiter", &run->cg_rest, NULL))
		return false;
	run->waiter_pinned = run->cfg.place == PE_PLACE_ONE;
	err = set_sched(s);
	/*
	 * Without a partition, SCHED_DEADLINE refuses an affinity narrower
	 * than the root domain (EPERM).  Then run the waiter with the whole
	 * affinity: the owner and hogs stay pinned, so the contention is
	 * still on one CPU, but proxying has to move the waiter to the
	 * owner's CPU.
	 */
	if (err == -EPERM && s->policy == SCHED_DEADLINE && run->waiter_pinned &&
	    run->other_cpu >= 0 && !run->part.active) {
		if (sched_setaffinity(0, sizeof(run->all_cpus), &run->all_cpus)) {
			err = -errno;
			run_error(run, false, "waiter: unpin: %s", strerror(-err));
			return false;
		}
		run->waiter_pinned = false;
		err = set_sched(s);
	}
	if (!err)
		return true;
	run_error(run, err == -EPERM || err == -EBUSY,
		  "waiter: sched_setattr(%s): %s%s",
		  pe_sched_str(s, buf, sizeof(buf)), strerror(-err),
		  err == -EBUSY ? " (deadline admission control)" :
		  err == -EPERM ?
		  " (needs root; deadline needs an affinity spanning the root domain)" :
		  "");
	return false;
}

/* Whether a contender, if there is one, is queued on the lock or holds it. */
static bool contender_queued(struct pe_run *run)
{
	return !run->scen->contender || atomic_load(&run->contender_in_op);
}

/*
 * Wait until the owner has sat in one critical section, not sampled
 * before, for stuck_ns: it was preempted holding the lock, which is the
 * case where inversion happens.  With a contender, wait too until it is
 * inside its write, so the waiter queues behind it.  One sample per owner
 * op at most.
 */
static bool wait_owner_stuck(struct pe_run *run, unsigned long last_seq,
			     uint64_t deadline, unsigned long *seq_out)
{
	unsigned long seen_seq = last_seq, seq;
	uint64_t now, seen_at = 0;

	for (;;) {
		now = pe_now_ns(CLOCK_MONOTONIC);
		if (stopping(run) || now >= deadline)
			return false;
		seq = atomic_load(&run->owner_seq);
		if (!atomic_load(&run->owner_in_op) || seq == last_seq) {
			seen_seq = last_seq;
		} else if (seq != seen_seq) {
			seen_seq = seq;
			seen_at = now;
		} else if (now - seen_at >= run->stuck_ns &&
			   contender_queued(run)) {
			*seq_out = seq;
			return true;
		}
		sleep_ns(POLL_NS);
	}
}

/*
 * Between samples, pause the hogs until the owner has started a critical
 * section not sampled yet, then let them compete again.  A weak owner
 * (SCHED_IDLE, nice 19, a fair task under a FIFO hog) otherwise gets the
 * CPU so rarely that a budget fits only a few samples, fewer still on a
 * slow machine.  Never during a sample: a measured wait always sees the
 * hogs.  The contender is left running: it queues on the lock again now,
 * while it can get the CPU.  False when the run stops or @deadline passes
 * first.
 */
static bool rearm_owner(struct pe_run *run, unsigned long last_seq,
			uint64_t deadline)
{
	bool ok = false;

	atomic_store(&run->hogs_paused, 1);
	while (!stopping(run) && pe_now_ns(CLOCK_MONOTONIC) < deadline) {
		if (atomic_load(&run->owner_seq) != last_seq &&
		    atomic_load(&run->owner_in_op)) {
			ok = true;
			break;
		}
		sleep_ns(POLL_NS);
	}
	atomic_store(&run->hogs_paused, 0);
	return ok;
}

static void *waiter_fn(void *arg)
{
	struct pe_run *run = arg;
	uint64_t cal[CALIB_OPS], deadline, hard_deadline, start, now, id = 0;
	unsigned long last_seq;
	int i, err;

	if (!waiter_setup(run))
		return NULL;

	for (i = 0; i < CALIB_OPS; i++) {
		err = waiter_op(run, ++id, &cal[i]);
		if (err)
			goto io_err;
	}
	run->waiter_cost_ns = median_u64(cal, CALIB_OPS);
	run->stuck_ns = STUCK_CS_FACTOR * run->cs_wall_ns;
	if (run->stuck_ns < STUCK_MIN_NS)
		run->stuck_ns = STUCK_MIN_NS;
	atomic_store(&run->waiter_ready, 1);
	if (!wait_go(run))
		return NULL;

	start = pe_now_ns(CLOCK_MONOTONIC);
	deadline = start + (uint64_t)run->cfg.budget_ms * NSEC_PER_MSEC;
	hard_deadline = start + (uint64_t)run->cfg.budget_max_ms * NSEC_PER_MSEC;
	if (hard_deadline < deadline)
		hard_deadline = deadline;
	last_seq = atomic_load(&run->owner_seq);

	while (run->n < (size_t)run->cfg.samples && !stopping(run)) {
		bool short_of = run->n < (size_t)run->cfg.min_samples;
		uint64_t wall, sample_id;
		bool capped;

		if (!rearm_owner(run, last_seq,
				 short_of ? hard_deadline : deadline) ||
		    !wait_owner_stuck(run, last_seq,
				      short_of ? hard_deadline : deadline,
				      &last_seq))
			break;

		pthread_mutex_lock(&run->ctl);
		sample_id = ++run->cur_id;
		run->cur_start = pe_now_ns(CLOCK_MONOTONIC);
		run->cur_active = true;
		pthread_mutex_unlock(&run->ctl);

		trace_mark(run, "pe_wait begin id=%llu\n",
			   (unsigned long long)sample_id);
		err = waiter_op(run, sample_id, &wall);
		trace_mark(run, "pe_wait end id=%llu wall_us=%llu\n",
			   (unsigned long long)sample_id,
			   (unsigned long long)pe_to_us(wall));

		pthread_mutex_lock(&run->ctl);
		run->cur_active = false;
		capped = run->capped_id == sample_id;
		atomic_store(&run->hogs_paused, 0);
		atomic_store(&run->contender_paused, 0);
		owner_throttle(run, true);
		pthread_mutex_unlock(&run->ctl);
		if (err)
			goto io_err;

		run->wait_ns[run->n] = wall > run->waiter_cost_ns ?
				       wall - run->waiter_cost_ns : 0;
		run->capped[run->n] = capped;
		run->n++;
		now = pe_now_ns(CLOCK_MONOTONIC);
		if (now >= hard_deadline ||
		    (now >= deadline && run->n >= (size_t)run->cfg.min_samples))
			break;
	}
	run->sampling_ns = pe_now_ns(CLOCK_MONOTONIC) - start;
	/* The waiter is the strongest thread: let it end the run. */
	atomic_store(&run->stop, 1);
	return NULL;

io_err:
	run_error(run, false, "waiter: %s operation failed: %s",
		  pe_lock_names[run->cfg.lock], strerror(-err));
	return NULL;
}

/**
 * pe_read_fair_server() - runtime of the fair server on a CPU
 * @cpu: the CPU
 * @src: where the value came from
 * @len: its size
 *
 * Return: the runtime in ns; the default if unreadable.
 */
uint64_t pe_read_fair_server(int cpu, char *src, size_t len)
{
	char path[128], buf[32] = "";
	unsigned long long v;
	ssize_t r = -1;
	char *end;
	int fd;

	snprintf(path, sizeof(path), FAIR_SERVER_FMT, cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (r > 0) {
		buf[r] = '\0';
		errno = 0;
		v = strtoull(buf, &end, 10);
		if (!errno && end != buf && (*end == '\n' || !*end)) {
			snprintf(src, len, "%s", path);
			return v;
		}
	}
	snprintf(src, len, "default; %s unreadable", path);
	return FAIR_SERVER_DEFAULT_NS;
}

static bool is_tmpfs(const char *dir)
{
	struct statfs sfs;

	return !statfs(dir, &sfs) && sfs.f_type == TMPFS_MAGIC;
}

static int open_in(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/pe_inversion.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/*
 * Mount a private tmpfs and return an fd of its root; the mount is
 * detached at once, the fd keeps it alive.  -errno on failure.
 */
static int private_tmpfs(void)
{
	char dir[] = "/tmp/pe_inversion.XXXXXX";
	char rootdir[] = "/pe_inversion.XXXXXX";
	int fd, err = 0;
	char *mnt;

	mnt = mkdtemp(dir);
	if (!mnt)
		mnt = mkdtemp(rootdir);
	if (!mnt)
		return -errno;
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64m,mode=0700")) {
		err = -errno;
		rmdir(mnt);
		return err;
	}
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	return fd < 0 ? err : fd;
}

/*
 * Open an anonymous scratch file on tmpfs, so a write is CPU-bound and
 * holds f_pos_lock for the whole copy.
 */
static int open_scratch(char *where, size_t len)
{
	static const char * const cands[] = { "/dev/shm", "/tmp", "/run", "/" };
	const char *env = getenv("PE_TMPDIR");
	size_t i;
	int fd, root;

	if (env && *env) {
		snprintf(where, len, "%s%s", env, is_tmpfs(env) ? "" : " (not tmpfs)");
		fd = open_in(env);
		return fd < 0 ? -errno : fd;
	}
	for (i = 0; i < ARRAY_SIZE(cands); i++) {
		if (!is_tmpfs(cands[i]))
			continue;
		fd = open_in(cands[i]);
		if (fd >= 0) {
			snprintf(where, len, "%s", cands[i]);
			return fd;
		}
	}
	root = private_tmpfs();
	if (root < 0)
		return root;
	fd = openat(root, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	fd = fd < 0 ? -errno : fd;
	close(root);
	snprintf(where, len, "a private tmpfs");
	return fd;
}

/*
 * A pipe large enough for the owner's write plus the waiter's few bytes;
 * the read end is nonblocking so the owner can drain it.
 */
static int open_pipe(struct pe_run *run, char *where, size_t len)
{
	int fds[2], size;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	run->rfd = fds[0];
	run->fd = fds[1];
	if (fcntl(run->rfd, F_SETFL, O_NONBLOCK))
		return -errno;
	size = fcntl(run->fd, F_SETPIPE_SZ, (int)(2 * run->owner_len));
	if (size < 0)
		return -errno;
	if ((size_t)size < run->owner_len + 4096)
		return -ENOSPC;
	snprintf(where, len, "a pipe of %d KiB", size / 1024);
	return 0;
}

/* Four directories on a private tmpfs, a file in the first and third. */
static int open_rename_dirs(struct pe_run *run, char *where, size_t len)
{
	static const char * const names[] = { "a", "b", "c", "d" };
	int root, i, fd, err = 0;

	root = private_tmpfs();
	if (root < 0)
		return root;
	for (i = 0; i < 4 && !err; i++) {
		if (mkdirat(root, names[i], 0700)) {
			err = -errno;
			break;
		}
		run->dirfd[i] = openat(root, names[i],
				       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (run->dirfd[i] < 0)
			err = -errno;
	}
	for (i = 0; i < 4 && !err; i += 2) {
		fd = openat(run->dirfd[i], i ? RENAME_WAITER_FILE : RENAME_OWNER_FILE,
			    O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			err = -errno;
		else
			close(fd);
	}
	close(root);
	snprintf(where, len, "a private tmpfs (cross-directory renames)");
	return err;
}

/**
 * pe_lock_open() - set up the lock of the run's kind
 * @run: the run
 * @where: what was set up
 * @len: its size
 *
 * Return: 0 or -errno; -EOPNOTSUPP for a contender on a lock other than
 * fpos.
 */
int pe_lock_open(struct pe_run *run, char *where, size_t len)
{
	int fd;

	/* The contender writes to the owner's file; see contender_op(). */
	if (run->scen->contender && run->cfg.lock != PE_LOCK_FPOS)
		return -EOPNOTSUPP;
	switch (run->cfg.lock) {
	case PE_LOCK_PIPE:
		return open_pipe(run, where, len);
	case PE_LOCK_RENAME:
		return open_rename_dirs(run, where, len);
	default:
		fd = open_scratch(where, len);
		if (fd < 0)
			return fd;
		run->fd = fd;
		return 0;
	}
}

/**
 * pe_run_new() - allocate a run
 * @cfg: its configuration, copied
 * @scen: its scenario
 *
 * Return: the run, or NULL without memory.
 */
struct pe_run *pe_run_new(const struct pe_config *cfg,
			  const struct pe_scenario *scen)
{
	struct pe_run *run = calloc(1, sizeof(*run));
	size_t i;

	if (!run)
		return NULL;
	run->cfg = *cfg;
	run->scen = scen;
	run->fd = -1;
	run->rfd = -1;
	run->trace_fd = -1;
	for (i = 0; i < ARRAY_SIZE(run->dirfd); i++)
		run->dirfd[i] = -1;
	snprintf(run->cpu_max, sizeof(run->cpu_max), "%s", CGMAX_THROTTLED);
	pthread_mutex_init(&run->ctl, NULL);
	run->owner_len = (size_t)cfg->write_kib * 1024;
	run->owner_buf = malloc(run->owner_len);
	run->wait_ns = calloc((size_t)cfg->samples, sizeof(*run->wait_ns));
	run->capped = calloc((size_t)cfg->samples, sizeof(*run->capped));
	if (!run->owner_buf || !run->wait_ns || !run->capped) {
		pe_run_free(run);
		return NULL;
	}
	memset(run->owner_buf, 'o', run->owner_len);
	return run;
}

/**
 * pe_run_free() - stop the threads of a run and free it
 * @run: the run, its cgroups already removed with pe_cgroups_teardown()
 */
void pe_run_free(struct pe_run *run)
{
	size_t i;

	pe_stop_all(run);
	if (run->fd >= 0)
		close(run->fd);
	if (run->rfd >= 0)
		close(run->rfd);
	if (run->trace_fd >= 0)
		close(run->trace_fd);
	for (i = 0; i < ARRAY_SIZE(run->dirfd); i++)
		if (run->dirfd[i] >= 0)
			close(run->dirfd[i]);
	free(run->owner_buf);
	free(run->wait_ns);
	free(run->capped);
	free(run->hog_t);
	pthread_mutex_destroy(&run->ctl);
	free(run);
}

/* Sleep-poll a flag set by a thread; false on error or timeout. */
static bool wait_ready(struct pe_run *run, atomic_int *flag, int want)
{
	uint64_t end = pe_now_ns(CLOCK_MONOTONIC) + READY_TIMEOUT_NS;

	while (atomic_load(flag) < want) {
		if (atomic_load(&run->err_set))
			return false;
		if (pe_now_ns(CLOCK_MONOTONIC) > end) {
			run_error(run, false,
				  "threads did not get ready within %llu s",
				  READY_TIMEOUT_NS / NSEC_PER_SEC);
			return false;
		}
		sleep_ns(NSEC_PER_MSEC);
	}
	return true;
}

/**
 * pe_stop_all() - stop and join every thread that was started
 * @run: the run; safe to call twice
 */
void pe_stop_all(struct pe_run *run)
{
	int i;

	if (run->joined)
		return;
	atomic_store(&run->stop, 1);
	/* Let the owner run so it leaves its critical section. */
	atomic_store(&run->hogs_paused, 1);
	atomic_store(&run->contender_paused, 1);
	pthread_mutex_lock(&run->ctl);
	owner_throttle(run, false);
	pthread_mutex_unlock(&run->ctl);
	for (i = 0; i < run->hogs_started; i++)
		pthread_join(run->hog_t[i], NULL);
	if (run->contender_started)
		pthread_join(run->contender_t, NULL);
	if (run->waiter_started)
		pthread_join(run->waiter_t, NULL);
	if (run->owner_started)
		pthread_join(run->owner_t, NULL);
	if (run->wd_started)
		pthread_join(run->wd_t, NULL);
	run->joined = true;
}

static bool start_thread(struct pe_run *run, pthread_t *t, bool *started,
			 void *(*fn)(void *), const char *who)
{
	int err = pthread_create(t, NULL, fn, run);

	if (err) {
		run_error(run, false, "pthread_create(%s): %s", who,
			  strerror(err));
		return false;
	}
	*started = true;
	return true;
}

/**
 * pe_start_threads() - calibrate, then start the contention
 * @run: the run, set up
 *
 * Return: false on error (see run->err_msg).
 */
bool pe_start_threads(struct pe_run *run)
{
	int i;

	run->hog_t = calloc((size_t)run->nr_hogs, sizeof(*run->hog_t));
	if (!run->hog_t) {
		run_error(run, false, "no memory for %d hogs", run->nr_hogs);
		return false;
	}
	if (!start_thread(run, &run->wd_t, &run->wd_started, watchdog_fn,
			  "watchdog") ||
	    !wait_ready(run, &run->wd_ready, 1))
		return false;
	/* Owner, then waiter, calibrate alone: no other thread, no hogs. */
	if (!start_thread(run, &run->owner_t, &run->owner_started, owner_fn,
			  "owner") ||
	    !wait_ready(run, &run->owner_ready, 1))
		return false;
	if (!start_thread(run, &run->waiter_t, &run->waiter_started,
			  waiter_fn, "waiter") ||
	    !wait_ready(run, &run->waiter_ready, 1))
		return false;
	for (i = 0; i < run->nr_hogs; i++) {
		bool started = false;

		if (!start_thread(run, &run->hog_t[i], &started, hog_fn, "hog"))
			return false;
		run->hogs_started = i + 1;
	}
	if (run->scen->contender &&
	    !start_thread(run, &run->contender_t, &run->contender_started,
			  contender_fn, "contender"))
		return false;
	if (!wait_ready(run, &run->bg_ready,
			run->nr_hogs + (run->contender_started ? 1 : 0)))
		return false;
	pthread_mutex_lock(&run->ctl);
	owner_throttle(run, true);
	pthread_mutex_unlock(&run->ctl);
	if (atomic_load(&run->err_set))
		return false;
	if (run->cfg.trace) {
		run->trace_fd = open_trace_marker();
		if (run->trace_fd < 0)
			pe_log("PE_TRACE: no trace_marker in tracefs; waits are not marked\n");
		trace_mark(run, "pe_run start scenario=%s cpu=%d\n",
			   run->scen->name, run->cpu);
	}
	atomic_store(&run->go, 1);
	return true;
}

/**
 * pe_read_proxy_stats() - the kernel's proxy counters
 * @cpu: a CPU, or PE_ALL_CPUS for the sum over all
 * @st: filled in; st->valid is false when the kernel has no counters
 *
 * Return: st->valid.
 */
bool pe_read_proxy_stats(int cpu, struct pe_proxy_stats *st)
{
	struct pe_proxy_stats r;
	char line[256];
	FILE *f;
	int c;

	memset(st, 0, sizeof(*st));
	f = fopen(PE_STATS_FILE, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line,
			   "cpu%d runs %ld owner_sleeping %ld owner_remote %ld chain_broken %ld",
			   &c, &r.runs, &r.owner_sleeping, &r.owner_remote,
			   &r.chain_broken) != 5)
			continue;
		if (cpu != PE_ALL_CPUS && c != cpu)
			continue;
		st->valid = true;
		st->runs += r.runs;
		st->owner_sleeping += r.owner_sleeping;
		st->owner_remote += r.owner_remote;
		st->chain_broken += r.chain_broken;
	}
	fclose(f);
	return st->valid;
}

/**
 * pe_schedstats_enable() - turn schedstats on
 *
 * Schedstats count only while enabled.  The file helpers serve any
 * sysfs-like file.
 *
 * Return: the old value, -1 if unknown.
 */
int pe_schedstats_enable(void)
{
	char buf[16];

	if (cg_read(SYSCTL_KERNEL_DIR, "sched_schedstats", buf, sizeof(buf)))
		return -1;
	/* Already on (schedstats=enable): leave the static key alone. */
	if (atoi(buf) != 1)
		cg_write(SYSCTL_KERNEL_DIR, "sched_schedstats", "1");
	return atoi(buf);
}

/**
 * pe_schedstats_restore() - restore schedstats
 * @old: what pe_schedstats_enable() returned
 */
void pe_schedstats_restore(int old)
{
	char buf[16];

	if (old < 0 || old == 1)
		return;
	snprintf(buf, sizeof(buf), "%d", old);
	cg_write(SYSCTL_KERNEL_DIR, "sched_schedstats", buf);
}

/**
 * pe_pick_cpus() - choose the CPUs and the number of hogs
 * @run: the run; cfg.cpu is the wanted CPU or -1 for the last one of our
 *       affinity
 *
 * Return: 0, -EINVAL for a CPU outside our affinity, or -errno.
 */
int pe_pick_cpus(struct pe_run *run)
{
	int i, last = -1, first_other = -1;
	long want = run->cfg.cpu;

	CPU_ZERO(&run->all_cpus);
	if (sched_getaffinity(0, sizeof(run->all_cpus), &run->all_cpus))
		return -errno;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &run->all_cpus))
			last = i;
	if (want >= 0) {
		if (want >= CPU_SETSIZE || !CPU_ISSET(want, &run->all_cpus))
			return -EINVAL;
		last = (int)want;
	}
	for (i = 0; i < CPU_SETSIZE; i++)
		if (i != last && CPU_ISSET(i, &run->all_cpus)) {
			first_other = i;
			break;
		}
	run->cpu = last;
	run->other_cpu = first_other;
	/* Spread: keep every CPU busy, with one hog more than CPUs. */
	run->nr_hogs = run->cfg.place == PE_PLACE_SPREAD ?
		       CPU_COUNT(&run->all_cpus) + 1 : run->scen->nr_hogs;
	return last < 0 ? -ENODEV : 0;
}

/**
 * pe_run_collect() - run the scenario until the waiter is done
 * @run: the run, set up
 * @stats_cpu: the CPU whose proxy counters to read, or PE_ALL_CPUS
 * @delta: what the counters counted meanwhile; delta->valid is false
 *         when the kernel has no counters
 *
 * Schedstats are on for the run and restored after it.
 *
 * Return: whether the threads started; errors are in run->err_msg.
 */
bool pe_run_collect(struct pe_run *run, int stats_cpu,
		    struct pe_proxy_stats *delta)
{
	int stats_old = pe_schedstats_enable();
	struct pe_proxy_stats s0, s1;
	bool started;

	pe_read_proxy_stats(stats_cpu, &s0);
	started = pe_start_threads(run);
	if (started) {
		/* The waiter ends the run after its samples or budget. */
		pthread_join(run->waiter_t, NULL);
		run->waiter_started = false;
	}
	pe_stop_all(run);
	pe_read_proxy_stats(stats_cpu, &s1);
	pe_schedstats_restore(stats_old);
	memset(delta, 0, sizeof(*delta));
	delta->valid = s0.valid && s1.valid;
	if (delta->valid) {
		delta->runs = s1.runs - s0.runs;
		delta->owner_sleeping = s1.owner_sleeping - s0.owner_sleeping;
		delta->owner_remote = s1.owner_remote - s0.owner_remote;
		delta->chain_broken = s1.chain_broken - s0.chain_broken;
	}
	return started;
}
