// SPDX-License-Identifier: GPL-2.0
/*
 * Priority inversion through a real kernel struct mutex (a file's
 * f_pos_lock), which proxy execution must bound.
 *
 * Threads of one process share one open file description on tmpfs.  With a
 * shared file table every write() holds the file's f_pos_lock, a struct
 * mutex, for the whole copy.  An owner thread with a weak scheduling context
 * rewrites a few hundred KiB in a loop.  A waiter thread with a strong
 * context writes a few bytes once it sees the owner stuck inside a write
 * (preempted holding the lock), and measures how long its write() took
 * beyond its own uncontended cost: that is the time spent blocked on the
 * mutex.  CPU hogs with a medium context
 * keep the owner off the CPU.  Owner, hogs and waiter are pinned to one CPU.
 *
 * sched_setattr() refuses SCHED_DEADLINE to a task whose affinity does not
 * span its root domain, so a deadline waiter cannot simply be pinned.  For
 * it the test makes the CPU a root domain of its own: a cgroup v2 cpuset
 * partition ("root") holding only that CPU, created as a threaded child of
 * our cgroup, into which owner, waiter and hogs move themselves through
 * cgroup.threads; the main thread and the watchdog stay outside.  Creating
 * and removing a partition resets the affinity of the tasks in its parent
 * cgroup (the kernel does that), so run the test on a test machine.  The
 * partition is removed in teardown, and a stale one left by a killed run is
 * removed by the next run.  Without a partition (no cgroup2 mount, no cpuset
 * controller in our cgroup's cgroup.subtree_control, a partition the kernel
 * refuses) the deadline waiter runs unpinned, which the test says: the
 * contention is then still on one CPU, but proxying has to migrate the
 * waiter to the owner's CPU.
 *
 * Without proxy execution the blocked waiter lends nothing, so it waits
 * until the hogs let the weak owner finish: many critical sections.  With
 * proxy execution the owner runs on the waiter's scheduling context, so a
 * wait is bounded by about one critical section.  The test reads the proxy
 * exec state and asserts the matching outcome, so it fails when the
 * behaviour does not match: a PE kernel that still shows the inversion, or a
 * measurement that cannot see the inversion on a kernel without PE.
 *
 * An RT waiter cannot preempt a fair owner that the fair server (a
 * SCHED_DEADLINE server, 50 ms per second by default) is running: the owner
 * keeps re-taking the unlocked mutex before the woken waiter gets the CPU,
 * and proxy execution has no say because nothing is blocked on a runnable
 * owner's behalf.  The bound of that variant therefore includes the fair
 * server's runtime.
 *
 * A watchdog thread (highest SCHED_FIFO priority, on another CPU when there
 * is one) pauses the hogs when one wait exceeds a cap, so the owner can
 * finish and the test cannot hang; such a sample is reported as capped.
 *
 * Environment (all optional):
 *   PE_EXPECT        bounded|inversion: override the state read from
 *                    /sys/kernel/debug/sched/proxy_exec ("1" means bounded;
 *                    "0", or no such file in debugfs's sched directory,
 *                    means inversion; without that directory: SKIP)
 *   PE_ALLOWANCE_US  bound slack: max wait <= 2 * cs + this (default 20000)
 *   PE_SAMPLES       waits to collect per variant (default 50)
 *   PE_BUDGET_MS     time budget for collecting them (default 6000)
 *   PE_CAP_MS        per-wait cap enforced by the watchdog (default 3000)
 *   PE_WRITE_KIB     size of one owner write (default 256)
 *   PE_MIN_OVER      inversion: waits above the bound needed (default 2)
 *   PE_MIN_SAMPLES   bounded: waits needed for a verdict (default 4)
 *   PE_CPU           CPU to run on (default: the last CPU in our affinity)
 *   PE_TMPDIR        directory for the scratch file (default: /dev/shm,
 *                    /tmp or /run if tmpfs, else a private tmpfs mount)
 *
 * Needs root: SCHED_FIFO, negative nice values and SCHED_DEADLINE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <dirent.h>
#include <mntent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The 6.12 harness has an unused parameter; keep -Wextra for our code. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#ifndef SCHED_IDLE
#define SCHED_IDLE		5
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE		6
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC		0x01021994
#endif
#ifndef DEBUGFS_MAGIC
#define DEBUGFS_MAGIC		0x64626720
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

#define DEBUGFS_DIR		"/sys/kernel/debug"
#define DEBUGFS_SCHED_DIR	DEBUGFS_DIR "/sched"
#define PE_STATE_FILE		DEBUGFS_SCHED_DIR "/proxy_exec"
#define PE_STATS_FILE		DEBUGFS_SCHED_DIR "/proxy_stats"
#define SYSCTL_KERNEL_DIR	"/proc/sys/kernel"
#define FAIR_SERVER_FMT		DEBUGFS_SCHED_DIR "/fair_server/cpu%d/runtime"
/* The fair server's default runtime, used when debugfs does not tell. */
#define FAIR_SERVER_DEFAULT_NS	(50 * NSEC_PER_MSEC)

/* Uncontended writes timed to calibrate the owner and the waiter. */
#define CALIB_WRITES		16
/* How often the waiter looks for the owner inside a write. */
#define POLL_NS			(200 * NSEC_PER_USEC)
/*
 * An owner inside one write for this long (at least STUCK_MIN_NS) was
 * preempted holding the lock: uncontended, a write takes cs_wall.
 */
#define STUCK_CS_FACTOR		4
#define STUCK_MIN_NS		(1 * NSEC_PER_MSEC)
#define WATCHDOG_TICK_NS	(5 * NSEC_PER_MSEC)
#define READY_TIMEOUT_NS	(10 * NSEC_PER_SEC)
#define WAITER_WRITE_LEN	8
#define SCHED_STR_LEN		96
#define MAX_HOGS		4
/* Inversion must also be at least this many critical sections long. */
#define INVERSION_CS_FACTOR	20

/* The cpuset partition of the deadline variant: <our cgroup>/<prefix><pid>. */
#define PARTITION_PREFIX	"pe_inversion."
/* How long teardown retries removing a partition the threads are leaving. */
#define PARTITION_RMDIR_NS	(2 * NSEC_PER_SEC)
#define PARTITION_RETRY_NS	(10 * NSEC_PER_MSEC)

/* Harness timeout per variant; budget plus cap must fit well inside it. */
#define TEST_TIMEOUT_S		60
#define RUN_SLACK_MS		15000

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

struct pe_sched {
	int policy;
	int nice;
	unsigned int prio;
	uint64_t runtime_ns;
	uint64_t deadline_ns;
	uint64_t period_ns;
};

struct pe_config {
	long samples;
	long budget_ms;
	long cap_ms;
	long allowance_us;
	long write_kib;
	long min_over;
	long min_samples;
	long cpu;
};

/*
 * A cgroup v2 cpuset partition holding only the test CPU, so that CPU is a
 * root domain of its own and a SCHED_DEADLINE task pinned to it passes
 * sched_setattr()'s check that its affinity spans the root domain.
 */
struct pe_partition {
	bool active;		/* valid; owner, waiter and hogs join it */
	bool created;		/* @dir exists and teardown must remove it */
	char parent[PATH_MAX];	/* our cgroup, the partition's parent */
	char dir[PATH_MAX];
	char why[2 * PATH_MAX];	/* why there is no partition */
};

enum pe_mode {
	PE_MODE_BOUNDED,
	PE_MODE_INVERSION,
};

struct pe_run {
	struct pe_config cfg;
	enum pe_mode mode;
	char mode_src[192];

	const struct pe_sched *waiter_sched;
	const struct pe_sched *owner_sched;
	const struct pe_sched *hog_sched;
	int nr_hogs;

	int fd;
	int cpu;
	int other_cpu;
	uint64_t fair_server_ns;
	char fair_server_src[160];
	cpu_set_t all_cpus;
	bool waiter_pinned;
	struct pe_partition part;
	char *owner_buf;
	size_t owner_len;

	/* Thread control; all threads only sleep until go is set. */
	atomic_int stop;
	atomic_int go;
	atomic_int hogs_paused;
	atomic_int owner_ready;
	atomic_int waiter_ready;
	atomic_int hogs_ready;
	atomic_int wd_ready;
	atomic_int owner_in_write;
	atomic_ulong owner_seq;

	/* The waiter's current sample, shared with the watchdog. */
	pthread_mutex_t ctl;
	uint64_t cur_id;
	uint64_t cur_start;
	bool cur_active;
	uint64_t capped_id;

	/* First error reported by any thread. */
	atomic_int err_set;
	bool err_is_skip;
	char err_msg[160];

	/* Calibration, in ns. */
	uint64_t cs_cpu_ns;
	uint64_t cs_wall_ns;
	uint64_t waiter_cost_ns;
	uint64_t stuck_ns;

	/* Results. */
	uint64_t *wait_ns;
	bool *capped;
	size_t n;
	uint64_t sampling_ns;

	pthread_t owner_t;
	pthread_t waiter_t;
	pthread_t wd_t;
	pthread_t hog_t[MAX_HOGS];
	bool owner_started;
	bool waiter_started;
	bool wd_started;
	int hogs_started;
	bool joined;
};

static uint64_t now_ns(clockid_t clk)
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned int p)
{
	size_t rank = (n * p + 99) / 100;

	if (!n)
		return 0;
	if (!rank)
		rank = 1;
	return sorted[rank - 1];
}

static uint64_t to_us(uint64_t ns)
{
	return (ns + NSEC_PER_USEC / 2) / NSEC_PER_USEC;
}

/* The first error wins; it also stops every thread. */
static void __attribute__((format(printf, 3, 4)))
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

static const char *sched_str(const struct pe_sched *s, char *buf, size_t len)
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
			 (unsigned long long)to_us(s->runtime_ns),
			 (unsigned long long)to_us(s->deadline_ns),
			 (unsigned long long)to_us(s->period_ns));
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

/* Write @val to the cgroup file @dir/@name; 0 or -errno. */
static int cg_write(const char *dir, const char *name, const char *val)
{
	size_t len = strlen(val);
	char path[PATH_MAX];
	int fd, err = 0;
	ssize_t w;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, val, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}

/* Read the cgroup file @dir/@name, without its trailing newline. */
static int cg_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t n = 0;
	ssize_t r;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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

/*
 * Remove partitions left by runs that were killed (the harness kills a
 * variant on timeout): they hold their CPU exclusively, which also takes it
 * out of our affinity.  rmdir() only removes empty cgroups, and only those
 * of dead processes are tried.
 */
static void remove_stale_partitions(void)
{
	const size_t plen = strlen(PARTITION_PREFIX);
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
		if (strncmp(de->d_name, PARTITION_PREFIX, plen))
			continue;
		errno = 0;
		pid = strtol(de->d_name + plen, &end, 10);
		if (errno || *end || pid <= 0 || pid > INT_MAX ||
		    !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (!rmdir(path))
			ksft_print_msg("removed the stale cpuset partition %s\n", path);
	}
	closedir(d);
}

/* Write a partition file; on error say which in p->why. */
static bool partition_write(struct pe_partition *p, const char *name,
			    const char *val)
{
	int err = cg_write(p->dir, name, val);

	if (err)
		snprintf(p->why, sizeof(p->why), "writing '%s' to %s/%s: %s",
			 val, p->dir, name, strerror(-err));
	return !err;
}

/*
 * Move whatever threads are left in the partition back to its parent and
 * remove it.  pthread_join() returns before a thread has left its cgroup
 * (the kernel's cgroup_exit() comes after the TID is cleared), so EBUSY is
 * retried for a while.  Returns 0 or -errno.
 */
static int partition_destroy(struct pe_partition *p)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + PARTITION_RMDIR_NS;
	char tids[4096], *tid, *save;
	int err;

	p->active = false;
	if (!p->created)
		return 0;
	for (;;) {
		if (!cg_read(p->dir, "cgroup.threads", tids, sizeof(tids)))
			for (tid = strtok_r(tids, "\n", &save); tid;
			     tid = strtok_r(NULL, "\n", &save))
				cg_write(p->parent, "cgroup.threads", tid);
		if (!rmdir(p->dir) || errno == ENOENT)
			break;
		err = -errno;
		if (err != -EBUSY || now_ns(CLOCK_MONOTONIC) > end)
			return err;
		sleep_ns(PARTITION_RETRY_NS);
	}
	p->created = false;
	return 0;
}

/*
 * Make @cpu a root domain of its own: a threaded child of our cgroup (so
 * single threads can join it) with cpuset.cpus=@cpu as a "root" partition.
 * On failure p->why says why and nothing is left behind.
 */
static bool partition_create(struct pe_partition *p, int cpu)
{
	char buf[256], cpu_str[16];
	int err;

	if (own_cgroup_dir(p->parent, sizeof(p->parent), p->why, sizeof(p->why)))
		return false;
	err = cg_read(p->parent, "cgroup.subtree_control", buf, sizeof(buf));
	if (err || !has_word(buf, "cpuset")) {
		snprintf(p->why, sizeof(p->why),
			 "the cpuset controller is not enabled in %s/cgroup.subtree_control%s%s",
			 p->parent, err ? ": " : "", err ? strerror(-err) : "");
		return false;
	}

	if (snprintf(p->dir, sizeof(p->dir), "%s/" PARTITION_PREFIX "%d",
		     p->parent, (int)getpid()) >= (int)sizeof(p->dir)) {
		snprintf(p->why, sizeof(p->why), "cgroup path too long");
		return false;
	}
	if (mkdir(p->dir, 0755)) {
		err = errno;
		snprintf(p->why, sizeof(p->why), "mkdir %s: %s", p->dir,
			 strerror(err));
		return false;
	}
	p->created = true;

	snprintf(cpu_str, sizeof(cpu_str), "%d", cpu);
	if (!partition_write(p, "cgroup.type", "threaded") ||
	    !partition_write(p, "cpuset.cpus", cpu_str) ||
	    !partition_write(p, "cpuset.cpus.partition", "root"))
		goto undo;
	/* An invalid partition is accepted, and reads "root invalid (why)". */
	err = cg_read(p->dir, "cpuset.cpus.partition", buf, sizeof(buf));
	if (err || strcmp(buf, "root")) {
		snprintf(p->why, sizeof(p->why), "%s/cpuset.cpus.partition: %s",
			 p->dir, err ? strerror(-err) : buf);
		goto undo;
	}
	err = cg_read(p->dir, "cpuset.cpus.effective", buf, sizeof(buf));
	if (err || strcmp(buf, cpu_str)) {
		snprintf(p->why, sizeof(p->why),
			 "%s/cpuset.cpus.effective: %s (want %s)", p->dir,
			 err ? strerror(-err) : buf, cpu_str);
		goto undo;
	}
	p->active = true;
	return true;

undo:
	err = partition_destroy(p);
	if (err)
		ksft_print_msg("cannot remove %s: %s\n", p->dir, strerror(-err));
	return false;
}

/* Move the calling thread into the partition, if there is one. */
static bool partition_join(struct pe_run *run, const char *who)
{
	char tid[24];
	int err;

	if (!run->part.active)
		return true;
	snprintf(tid, sizeof(tid), "%ld", (long)syscall(SYS_gettid));
	err = cg_write(run->part.dir, "cgroup.threads", tid);
	if (err)
		run_error(run, false, "%s: join the cpuset partition %s: %s",
			  who, run->part.dir, strerror(-err));
	return !err;
}

/*
 * Set a thread's policy; EPERM (no privilege) and EBUSY (deadline admission)
 * mean the test cannot run here, anything else is a failure.
 */
static bool thread_set_sched(struct pe_run *run, const char *who,
			     const struct pe_sched *s)
{
	char buf[SCHED_STR_LEN];
	int err = set_sched(s);

	if (!err)
		return true;
	run_error(run, err == -EPERM || err == -EBUSY,
		  "%s: sched_setattr(%s): %s", who, sched_str(s, buf, sizeof(buf)),
		  strerror(-err));
	return false;
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

static void *owner_fn(void *arg)
{
	uint64_t cpu_ns[CALIB_WRITES], wall_ns[CALIB_WRITES];
	struct pe_run *run = arg;
	ssize_t w = -1;
	int i, err;

	if (!partition_join(run, "owner"))
		return NULL;
	err = pin_self(run->cpu);
	if (err) {
		run_error(run, false, "owner: pin to cpu %d: %s",
			  run->cpu, strerror(-err));
		return NULL;
	}
	if (!thread_set_sched(run, "owner", run->owner_sched))
		return NULL;

	/* One warm-up write allocates the pages; the rest only copy. */
	for (i = -1; i < CALIB_WRITES; i++) {
		uint64_t c0, t0;

		if (lseek(run->fd, 0, SEEK_SET) < 0)
			goto io_err;
		c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = now_ns(CLOCK_MONOTONIC);
		w = write(run->fd, run->owner_buf, run->owner_len);
		if (w != (ssize_t)run->owner_len)
			goto io_err;
		if (i < 0)
			continue;
		wall_ns[i] = now_ns(CLOCK_MONOTONIC) - t0;
		cpu_ns[i] = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
	run->cs_cpu_ns = median_u64(cpu_ns, CALIB_WRITES);
	run->cs_wall_ns = median_u64(wall_ns, CALIB_WRITES);
	atomic_store(&run->owner_ready, 1);

	if (!wait_go(run))
		return NULL;

	while (!stopping(run)) {
		if (lseek(run->fd, 0, SEEK_SET) < 0)
			goto io_err;
		atomic_fetch_add(&run->owner_seq, 1);
		atomic_store(&run->owner_in_write, 1);
		w = write(run->fd, run->owner_buf, run->owner_len);
		atomic_store(&run->owner_in_write, 0);
		if (w != (ssize_t)run->owner_len)
			goto io_err;
	}
	return NULL;

io_err:
	err = errno;
	run_error(run, false, "owner: I/O on the scratch file failed: %s",
		  w >= 0 ? "short write" : strerror(err));
	return NULL;
}

static void *hog_fn(void *arg)
{
	struct pe_run *run = arg;
	int i, err;

	if (!partition_join(run, "hog"))
		return NULL;
	err = pin_self(run->cpu);
	if (err) {
		run_error(run, false, "hog: pin to cpu %d: %s", run->cpu,
			  strerror(-err));
		return NULL;
	}
	if (!thread_set_sched(run, "hog", run->hog_sched))
		return NULL;
	atomic_fetch_add(&run->hogs_ready, 1);
	if (!wait_go(run))
		return NULL;

	while (!stopping(run)) {
		if (atomic_load_explicit(&run->hogs_paused, memory_order_relaxed)) {
			sleep_ns(NSEC_PER_MSEC);
			continue;
		}
		for (i = 0; i < 1000; i++)
			__asm__ __volatile__("" ::: "memory");
	}
	return NULL;
}

/*
 * The waiter cannot be interrupted inside write(), but the hogs can be
 * stopped: once a wait exceeds the cap, pause them so the owner finishes.
 */
static void *watchdog_fn(void *arg)
{
	struct pe_sched fifo_max = {
		.policy = SCHED_FIFO,
		.prio = (unsigned int)sched_get_priority_max(SCHED_FIFO),
	};
	struct pe_run *run = arg;
	uint64_t cap = (uint64_t)run->cfg.cap_ms * NSEC_PER_MSEC;
	int err;

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
		    now_ns(CLOCK_MONOTONIC) - run->cur_start > cap) {
			run->capped_id = run->cur_id;
			atomic_store(&run->hogs_paused, 1);
		}
		pthread_mutex_unlock(&run->ctl);
	}
	return NULL;
}

/* Wall time of one small write; the same path calibrates and measures. */
static int waiter_write(struct pe_run *run, uint64_t id, uint64_t *ns)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	ssize_t w = write(run->fd, &id, WAITER_WRITE_LEN);

	*ns = now_ns(CLOCK_MONOTONIC) - t0;
	if (w != WAITER_WRITE_LEN)
		return w < 0 ? -errno : -EIO;
	return 0;
}

static bool waiter_setup(struct pe_run *run)
{
	int err;

	/* In the partition, the waiter's CPU is its whole root domain. */
	if (!partition_join(run, "waiter"))
		return false;
	err = pin_self(run->cpu);
	if (err) {
		run_error(run, false, "waiter: pin to cpu %d: %s",
			  run->cpu, strerror(-err));
		return false;
	}
	run->waiter_pinned = true;
	err = set_sched(run->waiter_sched);
	/*
	 * Without a partition, SCHED_DEADLINE refuses an affinity narrower
	 * than the root domain (EPERM).  Then run the waiter with the whole
	 * affinity: the owner and hogs stay pinned, so the contention is
	 * still on one CPU, but proxying has to move the waiter to the
	 * owner's CPU.
	 */
	if (err == -EPERM && run->waiter_sched->policy == SCHED_DEADLINE &&
	    run->other_cpu >= 0 && !run->part.active) {
		if (sched_setaffinity(0, sizeof(run->all_cpus), &run->all_cpus)) {
			err = -errno;
			run_error(run, false, "waiter: unpin: %s",
				  strerror(-err));
			return false;
		}
		run->waiter_pinned = false;
		err = set_sched(run->waiter_sched);
	}
	if (err) {
		char buf[SCHED_STR_LEN];

		run_error(run, err == -EPERM || err == -EBUSY,
			  "waiter: sched_setattr(%s): %s%s",
			  sched_str(run->waiter_sched, buf, sizeof(buf)),
			  strerror(-err),
			  err == -EBUSY ? " (deadline admission control)" :
			  err == -EPERM ? " (needs root; deadline needs an affinity spanning the root domain)" : "");
		return false;
	}
	return true;
}

/*
 * Wait until the owner has sat in one write, not sampled before, for
 * stuck_ns: it was preempted holding the lock, which is the case where
 * inversion happens.  One sample per owner write at most.
 */
static bool wait_owner_stuck(struct pe_run *run, unsigned long last_seq,
			     uint64_t deadline, unsigned long *seq_out)
{
	unsigned long seen_seq = last_seq, seq;
	uint64_t now, seen_at = 0;

	for (;;) {
		now = now_ns(CLOCK_MONOTONIC);
		if (stopping(run) || now >= deadline)
			return false;
		seq = atomic_load(&run->owner_seq);
		if (!atomic_load(&run->owner_in_write) || seq == last_seq) {
			seen_seq = last_seq;
		} else if (seq != seen_seq) {
			seen_seq = seq;
			seen_at = now;
		} else if (now - seen_at >= run->stuck_ns) {
			*seq_out = seq;
			return true;
		}
		sleep_ns(POLL_NS);
	}
}

static void *waiter_fn(void *arg)
{
	struct pe_run *run = arg;
	uint64_t cal[CALIB_WRITES], deadline, start, id = 0;
	unsigned long last_seq;
	int i, err;

	if (!waiter_setup(run))
		return NULL;

	for (i = 0; i < CALIB_WRITES; i++) {
		err = waiter_write(run, ++id, &cal[i]);
		if (err)
			goto io_err;
	}
	run->waiter_cost_ns = median_u64(cal, CALIB_WRITES);
	run->stuck_ns = STUCK_CS_FACTOR * run->cs_wall_ns;
	if (run->stuck_ns < STUCK_MIN_NS)
		run->stuck_ns = STUCK_MIN_NS;
	atomic_store(&run->waiter_ready, 1);
	if (!wait_go(run))
		return NULL;

	start = now_ns(CLOCK_MONOTONIC);
	deadline = start + (uint64_t)run->cfg.budget_ms * NSEC_PER_MSEC;
	last_seq = atomic_load(&run->owner_seq);

	while (run->n < (size_t)run->cfg.samples && !stopping(run)) {
		uint64_t wall, sample_id;
		bool capped;

		if (!wait_owner_stuck(run, last_seq, deadline, &last_seq))
			break;

		pthread_mutex_lock(&run->ctl);
		sample_id = ++run->cur_id;
		run->cur_start = now_ns(CLOCK_MONOTONIC);
		run->cur_active = true;
		pthread_mutex_unlock(&run->ctl);

		err = waiter_write(run, sample_id, &wall);

		pthread_mutex_lock(&run->ctl);
		run->cur_active = false;
		capped = run->capped_id == sample_id;
		atomic_store(&run->hogs_paused, 0);
		pthread_mutex_unlock(&run->ctl);
		if (err)
			goto io_err;

		run->wait_ns[run->n] = wall > run->waiter_cost_ns ?
				       wall - run->waiter_cost_ns : 0;
		run->capped[run->n] = capped;
		run->n++;
		if (now_ns(CLOCK_MONOTONIC) >= deadline)
			break;
	}
	run->sampling_ns = now_ns(CLOCK_MONOTONIC) - start;
	/* The waiter is the strongest thread: let it end the run. */
	atomic_store(&run->stop, 1);
	return NULL;

io_err:
	run_error(run, false, "waiter: write to the scratch file: %s",
		  strerror(-err));
	return NULL;
}

static long env_long(const char *name, long def, long min, long max, bool *ok)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		ksft_print_msg("%s='%s' is invalid; expected an integer in [%ld, %ld]\n",
			       name, s, min, max);
		*ok = false;
		return def;
	}
	return v;
}

static bool read_config(struct pe_config *cfg)
{
	bool ok = true;

	cfg->samples = env_long("PE_SAMPLES", 50, 1, 100000, &ok);
	cfg->budget_ms = env_long("PE_BUDGET_MS", 6000, 100, 3600000, &ok);
	cfg->cap_ms = env_long("PE_CAP_MS", 3000, 10, 3600000, &ok);
	cfg->allowance_us = env_long("PE_ALLOWANCE_US", 20000, 0, 10000000, &ok);
	cfg->write_kib = env_long("PE_WRITE_KIB", 256, 4, 65536, &ok);
	cfg->min_over = env_long("PE_MIN_OVER", 2, 1, 100000, &ok);
	cfg->min_samples = env_long("PE_MIN_SAMPLES", 4, 1, 100000, &ok);
	cfg->cpu = env_long("PE_CPU", -1, -1, CPU_SETSIZE - 1, &ok);
	return ok;
}

/*
 * Returns 0; -EINVAL for a bad PE_EXPECT or state file; another -errno when
 * the state cannot be read.  @src says why.
 */
static int read_mode(enum pe_mode *mode, char *src, size_t len)
{
	const char *env = getenv("PE_EXPECT");
	struct statfs sfs;
	char buf[16] = "";
	ssize_t r;
	int fd;

	if (env && *env) {
		if (!strcmp(env, "bounded"))
			*mode = PE_MODE_BOUNDED;
		else if (!strcmp(env, "inversion"))
			*mode = PE_MODE_INVERSION;
		else {
			snprintf(src, len, "PE_EXPECT='%s' is neither 'bounded' nor 'inversion'", env);
			return -EINVAL;
		}
		snprintf(src, len, "PE_EXPECT=%s", env);
		return 0;
	}

	if (statfs(DEBUGFS_DIR, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
		mount("debugfs", DEBUGFS_DIR, "debugfs", 0, NULL);

	fd = open(PE_STATE_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err != ENOENT && err != ENOTDIR) {
			snprintf(src, len, "cannot read %s: %s; set PE_EXPECT",
				 PE_STATE_FILE, strerror(err));
			return -err;
		}
		/* Not knowing is not the same as "absent": do not guess. */
		if (statfs(DEBUGFS_DIR, &sfs) || sfs.f_type != DEBUGFS_MAGIC) {
			snprintf(src, len, "no debugfs at %s, so the proxy exec state is unknown; set PE_EXPECT",
				 DEBUGFS_DIR);
			return -ENODEV;
		}
		if (access(DEBUGFS_SCHED_DIR, F_OK)) {
			snprintf(src, len, "no %s (CONFIG_SCHED_DEBUG=n?), so the proxy exec state is unknown; set PE_EXPECT",
				 DEBUGFS_SCHED_DIR);
			return -ENODEV;
		}
		/* The sched directory but no state file: a kernel without PE. */
		*mode = PE_MODE_INVERSION;
		snprintf(src, len, "%s absent", PE_STATE_FILE);
		return 0;
	}
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r > 0 && buf[r - 1] == '\n')
		buf[--r] = '\0';
	if (r == 1 && (buf[0] == '0' || buf[0] == '1')) {
		*mode = buf[0] == '1' ? PE_MODE_BOUNDED : PE_MODE_INVERSION;
		snprintf(src, len, "%s=%c", PE_STATE_FILE, buf[0]);
		return 0;
	}
	snprintf(src, len, "%s: unexpected content '%s'", PE_STATE_FILE,
		 r > 0 ? buf : "");
	return -EINVAL;
}

/* Runtime of the fair server on @cpu, in ns; the default if unreadable. */
static uint64_t read_fair_server(int cpu, char *src, size_t len)
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
 * Open an anonymous scratch file on tmpfs, so a write is CPU-bound and
 * holds f_pos_lock for the whole copy.  A private tmpfs mount is detached
 * at once; the open file keeps it alive.
 */
static int open_scratch(char *where, size_t len)
{
	static const char * const cands[] = { "/dev/shm", "/tmp", "/run", "/" };
	const char *env = getenv("PE_TMPDIR");
	char dir[] = "/tmp/pe_inversion.XXXXXX";
	char rootdir[] = "/pe_inversion.XXXXXX";
	char *mnt;
	size_t i;
	int fd;

	if (env && *env) {
		snprintf(where, len, "%s%s", env, is_tmpfs(env) ? "" : " (not tmpfs)");
		return open_in(env);
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
	mnt = mkdtemp(dir);
	if (!mnt)
		mnt = mkdtemp(rootdir);
	if (!mnt)
		return -1;
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64m,mode=0700")) {
		rmdir(mnt);
		return -1;
	}
	fd = open_in(mnt);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	snprintf(where, len, "a private tmpfs");
	return fd;
}

/* Sleep-poll a flag set by a thread; false on error or timeout. */
static bool wait_ready(struct pe_run *run, atomic_int *flag, int want)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + READY_TIMEOUT_NS;

	while (atomic_load(flag) < want) {
		if (atomic_load(&run->err_set))
			return false;
		if (now_ns(CLOCK_MONOTONIC) > end) {
			run_error(run, false,
				  "threads did not get ready within %llu s",
				  READY_TIMEOUT_NS / NSEC_PER_SEC);
			return false;
		}
		sleep_ns(NSEC_PER_MSEC);
	}
	return true;
}

/* Stop and join every thread that was started; safe to call twice. */
static void stop_all(struct pe_run *run)
{
	int i;

	if (run->joined)
		return;
	atomic_store(&run->stop, 1);
	/* Let the owner run so it leaves its write. */
	atomic_store(&run->hogs_paused, 1);
	for (i = 0; i < run->hogs_started; i++)
		pthread_join(run->hog_t[i], NULL);
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

static bool start_threads(struct pe_run *run)
{
	int i;

	if (!start_thread(run, &run->wd_t, &run->wd_started, watchdog_fn,
			  "watchdog") ||
	    !wait_ready(run, &run->wd_ready, 1))
		return false;
	/* Owner, then waiter, calibrate alone: no other writer, no hogs. */
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
	if (!wait_ready(run, &run->hogs_ready, run->nr_hogs))
		return false;
	atomic_store(&run->go, 1);
	return true;
}

/*
 * The kernel's count of proxies run on @cpu (find_proxy_task() ran an
 * owner for a donor), or -1 when the kernel has no such counter.
 */
static long read_proxy_runs(int cpu)
{
	char line[256];
	long runs = -1;
	FILE *f;
	int c;

	f = fopen(PE_STATS_FILE, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long r;

		if (sscanf(line, "cpu%d runs %ld", &c, &r) == 2 && c == cpu) {
			runs = r;
			break;
		}
	}
	fclose(f);
	return runs;
}

/*
 * Schedstats count only while enabled: enable them, return the old value
 * (-1 if unknown).  The cg_*() file helpers serve any sysfs-like file.
 */
static int schedstats_enable(void)
{
	char buf[16];

	if (cg_read(SYSCTL_KERNEL_DIR, "sched_schedstats", buf, sizeof(buf)))
		return -1;
	cg_write(SYSCTL_KERNEL_DIR, "sched_schedstats", "1");
	return atoi(buf);
}

static void schedstats_restore(int old)
{
	char buf[16];

	if (old < 0)
		return;
	snprintf(buf, sizeof(buf), "%d", old);
	cg_write(SYSCTL_KERNEL_DIR, "sched_schedstats", buf);
}

static int pick_cpus(struct pe_run *run, long want)
{
	int i, last = -1, first_other = -1;

	CPU_ZERO(&run->all_cpus);
	if (sched_getaffinity(0, sizeof(run->all_cpus), &run->all_cpus))
		return -errno;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &run->all_cpus))
			last = i;
	if (want >= 0) {
		if (!CPU_ISSET(want, &run->all_cpus))
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
	return last < 0 ? -ENODEV : 0;
}

FIXTURE(f_pos_lock) {
	struct pe_run *run;
};

FIXTURE_VARIANT(f_pos_lock) {
	const char *name;
	struct pe_sched waiter;
	struct pe_sched owner;
	struct pe_sched hog;
	int nr_hogs;
	/* Waiter in a class the fair server outranks, owner fair. */
	bool fair_server_window;
	/*
	 * Percentage of the CPU the waiter's context gets against the hogs
	 * (0 means 100).  Under proxy execution the owner runs on that
	 * context, so its critical section stretches by 100 / share.
	 */
	int donor_share_pct;
};

/*
 * Without PE only the fair server's reserve (or RT throttling) lets the
 * owner run against a FIFO hog, so a wait can approach a second.
 */
FIXTURE_VARIANT_ADD(f_pos_lock, fifo_waiter_other_owner_fifo_hogs) {
	.name = "fifo_waiter_other_owner_fifo_hogs",
	.waiter = { .policy = SCHED_FIFO, .prio = 50 },
	.owner = { .policy = SCHED_OTHER, .nice = 0 },
	.hog = { .policy = SCHED_FIFO, .prio = 10 },
	.nr_hogs = 1,
	.fair_server_window = true,
};

/* A nice 19 owner gets about 0.7 % of the CPU against two nice 0 hogs. */
FIXTURE_VARIANT_ADD(f_pos_lock, nice_waiter_nice19_owner_nice0_hogs) {
	.name = "nice_waiter_nice19_owner_nice0_hogs",
	.waiter = { .policy = SCHED_OTHER, .nice = -20 },
	.owner = { .policy = SCHED_OTHER, .nice = 19 },
	.hog = { .policy = SCHED_OTHER, .nice = 0 },
	.nr_hogs = 2,
	/* Weights 88761 : 88761 + 2 x 1024. */
	.donor_share_pct = 97,
};

FIXTURE_VARIANT_ADD(f_pos_lock, idle_owner) {
	.name = "idle_owner",
	.waiter = { .policy = SCHED_OTHER, .nice = 0 },
	.owner = { .policy = SCHED_IDLE },
	.hog = { .policy = SCHED_OTHER, .nice = 0 },
	.nr_hogs = 2,
	/* Weights 1024 : 1024 + 1024: the waiter's context gets a third. */
	.donor_share_pct = 33,
};

/*
 * A deadline task has no priority to inherit; only proxy execution lends
 * its bandwidth.  3 ms every 10 ms leaves room for a TCG critical section.
 */
FIXTURE_VARIANT_ADD(f_pos_lock, deadline_waiter) {
	.name = "deadline_waiter",
	.waiter = {
		.policy = SCHED_DEADLINE,
		.runtime_ns = 3 * NSEC_PER_MSEC,
		.deadline_ns = 10 * NSEC_PER_MSEC,
		.period_ns = 10 * NSEC_PER_MSEC,
	},
	.owner = { .policy = SCHED_OTHER, .nice = 19 },
	.hog = { .policy = SCHED_OTHER, .nice = 0 },
	.nr_hogs = 2,
	/* 3 ms of runtime every 10 ms. */
	.donor_share_pct = 30,
};

FIXTURE_SETUP(f_pos_lock)
{
	struct pe_run *run;
	char where[160];
	int err;

	run = calloc(1, sizeof(*run));
	ASSERT_NE(NULL, run);
	self->run = run;
	run->fd = -1;
	pthread_mutex_init(&run->ctl, NULL);

	ASSERT_TRUE(read_config(&run->cfg)) TH_LOG("bad PE_* environment");
	ASSERT_LE(variant->nr_hogs, MAX_HOGS);
	ASSERT_LE(run->cfg.budget_ms + run->cfg.cap_ms,
		  TEST_TIMEOUT_S * 1000L - RUN_SLACK_MS)
		TH_LOG("PE_BUDGET_MS + PE_CAP_MS must stay below %ld ms (harness timeout %d s)",
		       TEST_TIMEOUT_S * 1000L - RUN_SLACK_MS, TEST_TIMEOUT_S);
	err = read_mode(&run->mode, run->mode_src, sizeof(run->mode_src));
	if (err && err != -EINVAL)
		SKIP(return, "%s", run->mode_src);
	ASSERT_EQ(0, err) TH_LOG("%s", run->mode_src);

	/* First: a stale partition would narrow the affinity pick_cpus reads. */
	remove_stale_partitions();
	err = pick_cpus(run, run->cfg.cpu);
	ASSERT_EQ(0, err) TH_LOG("no usable CPU (PE_CPU=%ld): %s",
				 run->cfg.cpu, strerror(-err));

	if (variant->fair_server_window)
		run->fair_server_ns = read_fair_server(run->cpu, run->fair_server_src,
						       sizeof(run->fair_server_src));

	run->fd = open_scratch(where, sizeof(where));
	if (run->fd < 0)
		SKIP(return, "no tmpfs scratch file: %s", strerror(errno));

	run->owner_len = (size_t)run->cfg.write_kib * 1024;
	run->owner_buf = malloc(run->owner_len);
	run->wait_ns = calloc((size_t)run->cfg.samples, sizeof(*run->wait_ns));
	run->capped = calloc((size_t)run->cfg.samples, sizeof(*run->capped));
	ASSERT_NE(NULL, run->owner_buf);
	ASSERT_NE(NULL, run->wait_ns);
	ASSERT_NE(NULL, run->capped);
	memset(run->owner_buf, 'o', run->owner_len);

	run->waiter_sched = &variant->waiter;
	run->owner_sched = &variant->owner;
	run->hog_sched = &variant->hog;
	run->nr_hogs = variant->nr_hogs;

	ksft_print_msg("mode=%s (%s)\n",
		       run->mode == PE_MODE_BOUNDED ? "bounded" : "inversion",
		       run->mode_src);
	ksft_print_msg("scratch file on %s; owner writes %ld KiB\n", where,
		       run->cfg.write_kib);

	/*
	 * Last, so no ASSERT or SKIP above can leave the partition behind:
	 * teardown only runs after a completed setup.  With one CPU, that
	 * CPU is the root domain already.
	 */
	if (variant->waiter.policy == SCHED_DEADLINE && run->other_cpu >= 0) {
		if (partition_create(&run->part, run->cpu))
			ksft_print_msg("cpuset partition %s: cpu %d is a root domain of its own; owner, waiter and hogs run in it\n",
				       run->part.dir, run->cpu);
		else
			ksft_print_msg("no cpuset partition for cpu %d (%s): falling back to an unpinned SCHED_DEADLINE waiter\n",
				       run->cpu, run->part.why);
	}
}

FIXTURE_TEARDOWN(f_pos_lock)
{
	struct pe_run *run = self->run;
	int err;

	if (!run)
		return;
	stop_all(run);
	err = partition_destroy(&run->part);
	EXPECT_EQ(0, err) TH_LOG("cannot remove the cpuset partition %s: %s",
				 run->part.dir, strerror(-err));
	if (run->fd >= 0)
		close(run->fd);
	free(run->owner_buf);
	free(run->wait_ns);
	free(run->capped);
	pthread_mutex_destroy(&run->ctl);
	free(run);
	self->run = NULL;
}

/* The harness's setjmp() wrapper trips -Wclobbered on its own locals. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wclobbered"
TEST_F_TIMEOUT(f_pos_lock, wait_bounded_iff_proxy_exec, TEST_TIMEOUT_S)
{
	struct pe_run *run = self->run;
	uint64_t cs_us, bound_us, max_us, p50_us, p99_us, cap_us;
	int share;
	size_t i, over = 0, capped = 0, long_waits = 0, need_long;
	char ws[SCHED_STR_LEN], os[SCHED_STR_LEN], hs[SCHED_STR_LEN];
	long runs0, runs1, proxy_runs = -1;
	int stats_old;
	const char *mode;
	uint64_t *sorted;
	bool started;

	stats_old = schedstats_enable();
	runs0 = read_proxy_runs(run->cpu);
	started = start_threads(run);
	if (started) {
		/* The waiter ends the run after its samples or budget. */
		pthread_join(run->waiter_t, NULL);
		run->waiter_started = false;
	}
	stop_all(run);
	runs1 = read_proxy_runs(run->cpu);
	schedstats_restore(stats_old);
	if (runs0 >= 0 && runs1 >= 0)
		proxy_runs = runs1 - runs0;
	if (atomic_load(&run->err_set) && run->err_is_skip)
		SKIP(return, "%s", run->err_msg);
	ASSERT_TRUE(started && !atomic_load(&run->err_set))
		TH_LOG("%s", run->err_msg);

	mode = run->mode == PE_MODE_BOUNDED ? "bounded" : "inversion";
	cs_us = to_us(run->cs_cpu_ns);
	share = variant->donor_share_pct ? variant->donor_share_pct : 100;
	bound_us = 2 * cs_us * 100 / share + (uint64_t)run->cfg.allowance_us +
		   to_us(run->fair_server_ns);
	cap_us = (uint64_t)run->cfg.cap_ms * 1000;

	ksft_print_msg("waiter %s, owner %s, %d x hog %s; cpu %d, waiter %s\n",
		       sched_str(&variant->waiter, ws, sizeof(ws)),
		       sched_str(&variant->owner, os, sizeof(os)),
		       variant->nr_hogs, sched_str(&variant->hog, hs, sizeof(hs)),
		       run->cpu,
		       !run->waiter_pinned ?
		       "unpinned (SCHED_DEADLINE needs an affinity spanning the root domain; PE must migrate it to the owner)" :
		       run->part.active ?
		       "pinned too (all in a cpuset partition: the cpu is their root domain)" :
		       "pinned too");
	ksft_print_msg("owner critical section: %llu us CPU (%llu us wall, uncontended); waiter write %llu us\n",
		       (unsigned long long)cs_us,
		       (unsigned long long)to_us(run->cs_wall_ns),
		       (unsigned long long)to_us(run->waiter_cost_ns));
	ksft_print_msg("the waiter writes once the owner sat in one write for %llu us (preempted holding the lock)\n",
		       (unsigned long long)to_us(run->stuck_ns));
	if (run->fair_server_ns)
		ksft_print_msg("fair server runtime %llu us (%s): it runs the owner above the waiter, so it is part of the bound\n",
			       (unsigned long long)to_us(run->fair_server_ns),
			       run->fair_server_src);
	ksft_print_msg("bound = 2 x cs x 100 / waiter share %d%% + PE_ALLOWANCE_US %ld%s = %llu us; cap %llu us per wait\n",
		       share, run->cfg.allowance_us,
		       run->fair_server_ns ? " + fair server runtime" : "",
		       (unsigned long long)bound_us, (unsigned long long)cap_us);

	sorted = malloc((run->n ? run->n : 1) * sizeof(*sorted));
	ASSERT_NE(NULL, sorted);
	for (i = 0; i < run->n; i++) {
		sorted[i] = to_us(run->wait_ns[i]);
		if (run->capped[i]) {
			capped++;
			if (sorted[i] < cap_us)
				sorted[i] = cap_us;
		}
		if (sorted[i] > bound_us)
			over++;
		/* Evidence that the waiter really met the lock held. */
		if (sorted[i] * 4 >= cs_us)
			long_waits++;
	}
	qsort(sorted, run->n, sizeof(*sorted), cmp_u64);
	p50_us = percentile(sorted, run->n, 50);
	p99_us = percentile(sorted, run->n, 99);
	max_us = run->n ? sorted[run->n - 1] : 0;
	free(sorted);

	ksft_print_msg("waits: n=%zu in %llu ms, p50 %llu us, p99 %llu us, max %s%llu us, %zu over %llu us, %zu capped\n",
		       run->n, (unsigned long long)(run->sampling_ns / NSEC_PER_MSEC),
		       (unsigned long long)p50_us, (unsigned long long)p99_us,
		       capped ? ">= " : "", (unsigned long long)max_us,
		       over, (unsigned long long)bound_us, capped);
	ksft_print_msg("PE-STAT variant=%s mode=%s cs_us=%llu n=%zu p50_us=%llu p99_us=%llu max_us=%llu over_us=%llu over=%zu capped=%zu waiter_pinned=%d partition=%d proxy_runs=%ld\n",
		       variant->name, mode, (unsigned long long)cs_us, run->n,
		       (unsigned long long)p50_us, (unsigned long long)p99_us,
		       (unsigned long long)max_us, (unsigned long long)bound_us,
		       over, capped, run->waiter_pinned, run->part.active,
		       proxy_runs);
	if (proxy_runs < 0)
		ksft_print_msg("no %s: the kernel has no proxy counters to check\n",
			       PE_STATS_FILE);

	if (run->mode == PE_MODE_BOUNDED) {
		EXPECT_EQ((size_t)0, capped)
			TH_LOG("%zu waits hit the %ld ms cap", capped, run->cfg.cap_ms);
		EXPECT_LE(max_us, bound_us)
			TH_LOG("max wait %llu us exceeds the bound %llu us: the inversion was not bounded",
			       (unsigned long long)max_us, (unsigned long long)bound_us);
		EXPECT_GE(run->n, (size_t)run->cfg.min_samples)
			TH_LOG("only %zu waits in %ld ms, PE_MIN_SAMPLES=%ld needed to claim a bound",
			       run->n, run->cfg.budget_ms, run->cfg.min_samples);
		need_long = run->n / 10 ? run->n / 10 : 1;
		EXPECT_GE(long_waits, need_long)
			TH_LOG("only %zu waits >= cs/4: the waiter hardly met the lock held, so the run cannot show a bound",
			       long_waits);
		/* The bound must come from proxying, seen by the kernel. */
		if (proxy_runs >= 0)
			EXPECT_GT(proxy_runs, 0)
				TH_LOG("the kernel counted no proxy run on cpu %d", run->cpu);
	} else {
		/* With the flag off the kernel must not have proxied at all. */
		if (proxy_runs >= 0)
			EXPECT_EQ(0, proxy_runs)
				TH_LOG("the kernel counted %ld proxy runs with proxy execution off",
				       proxy_runs);
		EXPECT_GE(over, (size_t)run->cfg.min_over)
			TH_LOG("inversion not visible: %zu of %zu waits over %llu us, PE_MIN_OVER=%ld needed",
			       over, run->n, (unsigned long long)bound_us, run->cfg.min_over);
		EXPECT_GE(max_us, INVERSION_CS_FACTOR * cs_us)
			TH_LOG("max wait %llu us is below %d x the critical section",
			       (unsigned long long)max_us, INVERSION_CS_FACTOR);
	}
	ksft_print_msg("verdict: %s expected, %s\n", mode,
		       _metadata->exit_code == KSFT_PASS ? "observed" : "NOT observed");
}
#pragma GCC diagnostic pop

TEST_HARNESS_MAIN
