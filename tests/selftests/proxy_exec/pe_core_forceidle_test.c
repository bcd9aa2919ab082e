// SPDX-License-Identifier: GPL-2.0
/*
 * pe_core_forceidle_test: an idle SMT sibling must not force its core idle.
 *
 * Core scheduling runs on SMT siblings at one time only tasks of one
 * cookie.  The core-wide pick (pick_next_task()) takes each sibling's
 * pick_task(), ranks the picks by __task_prio() and forces idle the
 * siblings whose pick has another cookie than the winner's.  A fair task
 * that runs through the fair deadline server ranks as a deadline task
 * (-1) by task_struct::dl_server, which put_prev_set_next_task() sets on
 * the task it switches to, from rq->dl_server, which the CPU's own
 * pick_task() set.  So a queued fair task still ranks as fair when its
 * server picks it, and if a CPU's own core-wide pick went through its fair
 * server but ends with idle, the idle task gets the pointer.  A base
 * kernel bug, in this sequence (fair_server_race), on siblings C and S:
 *
 *   - on C a SCHED_FIFO hog with a cookie, and a SCHED_OTHER busy thread
 *     sharing it, which only C's fair server runs: C's server restarts
 *     (its debugfs runtime written, FAIR_RUNTIME_C_PCT of the period) at
 *     t0, fires at t0 + period - runtime and runs the busy thread for its
 *     runtime (C's window), so that the busy thread ranks as a deadline
 *     task;
 *   - late in C's window an untagged SCHED_OTHER busy thread goes to S,
 *     where it is forced idle, and S's server restarts with
 *     FAIR_RUNTIME_S_PCT, so it fires soon, with a later deadline than
 *     C's.  S picks: its pick_task() goes through its server to the
 *     untagged thread, which ranks as fair and loses to C's busy thread,
 *     so S is forced idle and S's idle task gets S's server in dl_server;
 *   - the untagged thread moves to another core.  S's server stays queued
 *     until a pick and counts in nr_running, so sched_core_dequeue() does
 *     not reschedule S (and an idle CPU with nothing queued re-picks idle
 *     without a pick anyway): the idle task keeps the pointer;
 *   - at the end of C's window C's server has used its runtime: C picks.
 *     pick_task() of S stops S's server and returns S's idle task, which
 *     ranks -1, above the hog; its cookie is 0, so C is forced idle with
 *     nothing running in the core (core_forceidle_occupation 0: with
 *     schedstats on, __sched_core_account_forceidle() warns), and every
 *     later pick of C ranks S's idle task first, until S schedules.
 *
 * S must not leave idle between its server's start and its firing: the
 * time idle would be charged to the server (dl_server_update_idle_time())
 * and put the firing off.  So the untagged thread joins S only once C's
 * busy thread ranks above it, and S's server restarts with a short
 * deferral.  A task without a cookie running on C (a kernel thread) lets
 * the untagged thread run on S: S's server then restarts if C's window
 * lasts (tries).  A wakeup on S before the measurement ends the
 * starvation early; so the untagged thread joins S only SIBLING_LEAD_NS
 * before C's window ends, and there are RACE_ROUNDS rounds.
 *
 * sibling_moved is the sequence first suggested, as a control: a
 * SCHED_FIFO hog with a cookie on C, an untagged busy thread on S for
 * SIBLING_WAIT_NS (past the fair server's deferral), the untagged thread
 * moved to another core, the hog stopped, a new busy thread with a cookie
 * on C.  It has not starved C on these kernels: S leaves idle before the
 * untagged thread moves, or when the hog exits.
 *
 * Checks: in every round the threads with a cookie on C get at least
 * MIN_SHARE_PCT of C over MEASURE_NS (fair_server_race: from just after
 * C's window); and no WARNING from core_sched.c reaches /dev/kmsg during
 * the test (WARN_ON_ONCE: only the first of a boot shows; the harness's
 * console check sees it too).  After the measurement the untagged thread
 * goes back to S, which makes S pick again and ends a starvation, so that
 * the threads can stop.
 *
 * Schedstats are on during the test (the warning needs them); the fair
 * server runtimes and the schedstats setting are restored at the end.  A
 * thread with a cookie sleeps throughout, so that core scheduling stays
 * enabled between rounds (enabling it again makes every CPU pick).  The
 * test runs on a CPU of another core.  Skips without two SMT siblings and
 * a CPU of another core in our affinity, without core scheduling, or
 * (fair_server_race) without /sys/kernel/debug/sched/fair_server;
 * PE_CORE_REQUIRED=1 turns these skips into failures, as in
 * pe_core_sched_test.  Needs root.  Proxy execution plays no part.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* Constants and paths only: this program does not link the engine. */
#include "pe_engine.h"
#include "pe_small.h"

#define RACE_ROUNDS		12
#define MOVED_ROUNDS		3
#define MEASURE_NS		(1 * NSEC_PER_SEC)
#define MIN_SHARE_PCT		50
#define SIBLING_WAIT_NS		(1200 * NSEC_PER_MSEC)
/* fair_server_race: C's and S's fair server runtimes, % of the period. */
#define FAIR_RUNTIME_C_PCT	50
#define FAIR_RUNTIME_S_PCT	90
/* C's fair thread has run this much: it runs through C's server. */
#define FAIR_STARTED_NS		(5 * NSEC_PER_MSEC)
#define FAIR_START_SLACK_NS	(200 * NSEC_PER_MSEC)
/* From S's server firing to the check that S stayed idle. */
#define FAIR_FIRE_WAIT_NS	(30 * NSEC_PER_MSEC)
/* The untagged thread joins S this long before C's window ends. */
#define SIBLING_LEAD_NS		(250 * NSEC_PER_MSEC)
/* C's window, FAIR_RUNTIME_C_PCT of it, must hold SIBLING_LEAD_NS. */
#define MIN_PERIOD_NS		(600 * NSEC_PER_MSEC)
/* fair_server_race: from the end of C's window to the measurement. */
#define MEASURE_DELAY_NS	(50 * NSEC_PER_MSEC)
#define SETTLE_NS		(200 * NSEC_PER_MSEC)
#define HOG_FIFO_PRIO		10
#define READY_TIMEOUT_NS	(5 * NSEC_PER_SEC)
#define JOIN_TIMEOUT_S		5

#define FAIR_SERVER_DIR		DEBUGFS_SCHED_DIR "/fair_server"
#define SCHEDSTATS_FILE		"/proc/sys/kernel/sched_schedstats"
#define KMSG_FILE		"/dev/kmsg"

enum fi_cookie { FI_UNTAGGED, FI_NEW, FI_SHARE };

/* A busy thread; the test reads its CPU time through its clock. */
struct fi_thread {
	const char *name;
	int cpu;		/* it pins itself there; -1: the test moves it */
	int policy;
	enum fi_cookie cookie;
	pid_t share_from;	/* FI_SHARE: whose cookie */
	pthread_t thr;
	clockid_t clk;
	bool created;
	atomic_int tid;
	atomic_int state;	/* 0 starting, 1 running, -1 failed */
	atomic_int stop;
	char why[160];
};

enum { T_HOG, T_FAIR, T_SIBLING, T_PROBE, T_NR };

/* One round's numbers. */
struct fi_result {
	uint64_t busy_ns;	/* CPU time of the cookie threads on C */
	uint64_t span_ns;	/* over this much wall time */
	uint64_t fair_start_ns;	/* fair_server_race: C's busy thread ran, from t0 */
	uint64_t fair_ns;	/* fair_server_race: the busy thread, before the move */
	uint64_t sibling_ns;	/* the untagged thread on S, before the move */
	int tries;		/* fair_server_race: S's server restarts */
	char why[200];
};

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / NSEC_PER_SEC,
		.tv_nsec = ns % NSEC_PER_SEC,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int pin_tid(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

/* A cpulist ("0-1", "0,4") into @set; -1 if unreadable. */
static int read_cpulist(const char *path, cpu_set_t *set)
{
	char buf[256], *p = buf;

	CPU_ZERO(set);
	if (read_small(path, buf, sizeof(buf)))
		return -1;
	while (*p >= '0' && *p <= '9') {
		long lo = strtol(p, &p, 10), hi = lo;

		if (*p == '-')
			hi = strtol(p + 1, &p, 10);
		for (; lo <= hi && lo < CPU_SETSIZE; lo++)
			CPU_SET(lo, set);
		if (*p == ',')
			p++;
	}
	return 0;
}

static int siblings_of(int cpu, cpu_set_t *set)
{
	char path[96];

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
	return read_cpulist(path, set);
}

/*
 * The first CPU of our affinity with an SMT sibling there too, that
 * sibling, and CPUs of another core: the first for the test, the last for
 * the untagged thread when it leaves S.  0 or -1.
 */
static int find_cpus(int *cpu, int *sibling, int *self_cpu, int *park)
{
	cpu_set_t aff, sib;
	int c, s, o;

	if (sched_getaffinity(0, sizeof(aff), &aff))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &aff) || siblings_of(c, &sib))
			continue;
		for (s = 0; s < CPU_SETSIZE; s++)
			if (s != c && CPU_ISSET(s, &sib) && CPU_ISSET(s, &aff))
				break;
		if (s == CPU_SETSIZE)
			continue;
		*self_cpu = *park = -1;
		for (o = 0; o < CPU_SETSIZE; o++) {
			if (!CPU_ISSET(o, &aff) || CPU_ISSET(o, &sib))
				continue;
			if (*self_cpu < 0)
				*self_cpu = o;
			*park = o;
		}
		if (*self_cpu < 0)
			return -1;
		*cpu = c;
		*sibling = s;
		return 0;
	}
	return -1;
}

static int fair_server_file(char *path, size_t len, int cpu, const char *param)
{
	return snprintf(path, len, FAIR_SERVER_DIR "/cpu%d/%s", cpu, param) < (int)len ? 0 : -1;
}

static int fair_server_get(int cpu, const char *param, uint64_t *val)
{
	char path[128], buf[32];

	if (fair_server_file(path, sizeof(path), cpu, param) ||
	    read_small(path, buf, sizeof(buf)))
		return -1;
	*val = strtoull(buf, NULL, 10);
	return 0;
}

/* Writing the runtime restarts the server: a new period from now. */
static int fair_server_set_runtime(int cpu, uint64_t runtime)
{
	char path[128], buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)runtime);
	if (fair_server_file(path, sizeof(path), cpu, "runtime"))
		return -1;
	return write_str(path, buf);
}

/* /dev/kmsg from its end; -1 if it cannot be read. */
static int kmsg_open(void)
{
	int fd = open(KMSG_FILE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The core_sched.c warnings logged since the last call; the first in @first. */
static int kmsg_scan(int fd, char *first, size_t len)
{
	char rec[2048];
	int found = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	for (;;) {
		char *msg, *nl;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (!strstr(rec, "WARNING:") || !strstr(rec, "core_sched.c"))
			continue;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (!found && !first[0]) {
			size_t l = strnlen(msg, len - 1);

			memcpy(first, msg, l);
			first[l] = '\0';
		}
		found++;
	}
	return found;
}



static void *fi_thread_fn(void *arg)
{
	struct sched_param sp = { .sched_priority = HOG_FIFO_PRIO };
	struct fi_thread *t = arg;
	volatile unsigned long n = 0;
	const char *what = NULL;

	atomic_store(&t->tid, (pid_t)syscall(SYS_gettid));
	if (t->cookie == FI_NEW &&
	    prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0, PR_SCHED_CORE_SCOPE_THREAD, 0))
		what = "PR_SCHED_CORE_CREATE";
	else if (t->cookie == FI_SHARE &&
		 prctl(PR_SCHED_CORE, PR_SCHED_CORE_SHARE_FROM, t->share_from,
		       PR_SCHED_CORE_SCOPE_THREAD, 0))
		what = "PR_SCHED_CORE_SHARE_FROM";
	else if (t->cpu >= 0 && pin_tid(0, t->cpu))
		what = "sched_setaffinity";
	else if (t->policy != SCHED_OTHER && sched_setscheduler(0, t->policy, &sp))
		what = "sched_setscheduler";
	if (what) {
		snprintf(t->why, sizeof(t->why), "%s: %s: %s", t->name, what, strerror(errno));
		atomic_store(&t->state, -1);
		return NULL;
	}
	atomic_store(&t->state, 1);
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed))
		n++;
	return NULL;
}

static void fi_init(struct fi_thread *t, const char *name, int cpu, int policy,
		    enum fi_cookie cookie)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->cpu = cpu;
	t->policy = policy;
	t->cookie = cookie;
}

/* Start @t on @park_cpu and wait until it runs; 0 or -1 with @why. */
static int fi_start(struct fi_thread *t, int park_cpu, char *why, size_t len)
{
	pthread_attr_t attr;
	cpu_set_t set;
	uint64_t t0;
	int err;

	CPU_ZERO(&set);
	CPU_SET(park_cpu, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	err = pthread_create(&t->thr, &attr, fi_thread_fn, t);
	pthread_attr_destroy(&attr);
	if (err) {
		snprintf(why, len, "%s: pthread_create: %s", t->name, strerror(err));
		return -1;
	}
	t->created = true;
	err = pthread_getcpuclockid(t->thr, &t->clk);
	if (err) {
		snprintf(why, len, "%s: pthread_getcpuclockid: %s", t->name, strerror(err));
		return -1;
	}
	t0 = now_ns();
	while (!atomic_load(&t->state)) {
		if (now_ns() - t0 > READY_TIMEOUT_NS) {
			snprintf(why, len, "%s: not running after %llu s", t->name,
				 READY_TIMEOUT_NS / NSEC_PER_SEC);
			return -1;
		}
		usleep(1000);
	}
	if (atomic_load(&t->state) < 0) {
		snprintf(why, len, "%s", t->why);
		return -1;
	}
	return 0;
}

static uint64_t fi_cpu_ns(const struct fi_thread *t)
{
	struct timespec ts;

	if (!t->created || clock_gettime(t->clk, &ts))
		return 0;
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Move @t to @cpu; 0 or -1 with @why. */
static int fi_move(struct fi_thread *t, int cpu, char *why, size_t len)
{
	if (!pin_tid(atomic_load(&t->tid), cpu))
		return 0;
	snprintf(why, len, "%s: sched_setaffinity(cpu %d): %s", t->name, cpu, strerror(errno));
	return -1;
}

static bool fi_join(struct fi_thread *t)
{
	struct timespec ts;

	if (!t->created)
		return true;
	atomic_store(&t->stop, 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += JOIN_TIMEOUT_S;
	if (pthread_timedjoin_np(t->thr, NULL, &ts))
		return false;
	t->created = false;
	return true;
}

static void *keeper_fn(void *arg)
{
	int *fds = arg;
	char c;

	prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0, PR_SCHED_CORE_SCOPE_THREAD, 0);
	while (read(fds[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Skip, or fail with PE_CORE_REQUIRED=1. */
#define FI_SKIP(fmt, ...) do {						\
	const char *req = getenv("PE_CORE_REQUIRED");			\
									\
	if (req && !strcmp(req, "1"))					\
		ASSERT_TRUE(false) TH_LOG(fmt " (PE_CORE_REQUIRED=1)", ##__VA_ARGS__); \
	SKIP(return, fmt, ##__VA_ARGS__);				\
} while (0)

FIXTURE(core_forceidle) {
	int cpu;		/* C */
	int sibling;		/* S */
	int self_cpu;		/* the test, on another core */
	int park;		/* the untagged thread off S, on another core */
	uint64_t period;	/* C's fair server */
	uint64_t runtime[2];	/* C's and S's, to restore */
	bool fair_server;
	char schedstats[16];
	bool schedstats_set;
	int kmsg;
	int keeper_pipe[2];
	pthread_t keeper;
	bool keeper_on;
	bool stuck;		/* a thread did not stop: leave them all */
	struct fi_thread thr[T_NR];
};

FIXTURE_VARIANT(core_forceidle) {
	const char *name;
	bool fair_server_race;
	int rounds;
};

FIXTURE_VARIANT_ADD(core_forceidle, fair_server_race) {
	.name = "fair_server_race",
	.fair_server_race = true,
	.rounds = RACE_ROUNDS,
};

FIXTURE_VARIANT_ADD(core_forceidle, sibling_moved) {
	.name = "sibling_moved",
	.fair_server_race = false,
	.rounds = MOVED_ROUNDS,
};

FIXTURE_SETUP(core_forceidle)
{
	unsigned long long ck = 0;
	uint64_t period_s;

	self->kmsg = -1;
	if (find_cpus(&self->cpu, &self->sibling, &self->self_cpu, &self->park))
		FI_SKIP("no two SMT siblings and a CPU of another core in our affinity (QEMU: -smp 4,threads=2)");
	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, 0, PR_SCHED_CORE_SCOPE_THREAD,
		  (unsigned long)&ck))
		FI_SKIP("no core scheduling: prctl(PR_SCHED_CORE): %s", strerror(errno));
	ASSERT_EQ(0ULL, ck) TH_LOG("the test starts with a cookie already");
	if (variant->fair_server_race) {
		if (access(DEBUGFS_SCHED_DIR, F_OK))
			mount("debugfs", DEBUGFS_DIR, "debugfs", 0, NULL);
		if (fair_server_get(self->cpu, "period", &self->period) ||
		    fair_server_get(self->cpu, "runtime", &self->runtime[0]) ||
		    fair_server_get(self->sibling, "period", &period_s) ||
		    fair_server_get(self->sibling, "runtime", &self->runtime[1]))
			FI_SKIP("no fair server parameters in %s", FAIR_SERVER_DIR);
		ASSERT_EQ(self->period, period_s)
			TH_LOG("the fair servers of cpu %d and %d have different periods",
			       self->cpu, self->sibling);
		if (self->period < MIN_PERIOD_NS)
			FI_SKIP("the fair server period of cpu %d is under %llu ms",
				self->cpu, MIN_PERIOD_NS / NSEC_PER_MSEC);
		self->fair_server = true;
	}

	ASSERT_EQ(0, pin_tid(0, self->self_cpu));
	if (!read_small(SCHEDSTATS_FILE, self->schedstats, sizeof(self->schedstats)) &&
	    !write_str(SCHEDSTATS_FILE, "1"))
		self->schedstats_set = true;
	else
		ksft_print_msg("cannot turn schedstats on (%s): the kernel's warning needs them\n",
			       SCHEDSTATS_FILE);
	self->kmsg = kmsg_open();
	if (self->kmsg < 0)
		ksft_print_msg("cannot read %s: %s; the console check must catch warnings\n",
			       KMSG_FILE, strerror(errno));
	ASSERT_EQ(0, pipe(self->keeper_pipe));
	ASSERT_EQ(0, pthread_create(&self->keeper, NULL, keeper_fn, self->keeper_pipe));
	self->keeper_on = true;
	ksft_print_msg("siblings: cpu %d (threads with a cookie) and cpu %d (untagged); test on cpu %d, untagged thread moves to cpu %d\n",
		       self->cpu, self->sibling, self->self_cpu, self->park);
}

static int fi_stop_all(FIXTURE_DATA(core_forceidle) *self, char *why, size_t len);

FIXTURE_TEARDOWN(core_forceidle)
{
	char why[200];

	/* A failed round may leave its threads, and C starved. */
	if (!self->stuck && fi_stop_all(self, why, sizeof(why)))
		ksft_print_msg("teardown: %s\n", why);
	if (self->keeper_on) {
		close(self->keeper_pipe[1]);
		pthread_join(self->keeper, NULL);
		close(self->keeper_pipe[0]);
	}
	if (self->fair_server) {
		fair_server_set_runtime(self->cpu, self->runtime[0]);
		fair_server_set_runtime(self->sibling, self->runtime[1]);
	}
	if (self->schedstats_set)
		write_str(SCHEDSTATS_FILE, self->schedstats);
	if (self->kmsg >= 0)
		close(self->kmsg);
}

/*
 * Stop every thread; the untagged one first goes back to S (if it is not
 * there), so that S picks again and a starved C runs its threads, which
 * must run to stop.
 */
static int fi_stop_all(FIXTURE_DATA(core_forceidle) *self, char *why, size_t len)
{
	struct fi_thread *sib = &self->thr[T_SIBLING];
	int i;

	/*
	 * Move first: told to stop, the untagged thread may exit before the
	 * move, which then fails with ESRCH (seen once under host load).
	 */
	if (sib->created && fi_move(sib, self->sibling, why, len))
		return -1;
	for (i = 0; i < T_NR; i++)
		atomic_store(&self->thr[i].stop, 1);
	for (i = 0; i < T_NR; i++) {
		if (!fi_join(&self->thr[i])) {
			self->stuck = true;
			snprintf(why, len, "%s did not stop in %d s", self->thr[i].name,
				 JOIN_TIMEOUT_S);
			return -1;
		}
	}
	return 0;
}

/* CPU time of the threads with a cookie on C. */
static uint64_t busy_ns(FIXTURE_DATA(core_forceidle) *self)
{
	return fi_cpu_ns(&self->thr[T_HOG]) + fi_cpu_ns(&self->thr[T_FAIR]) +
	       fi_cpu_ns(&self->thr[T_PROBE]);
}

static void measure(FIXTURE_DATA(core_forceidle) *self, struct fi_result *res)
{
	uint64_t b0 = busy_ns(self), t0 = now_ns();

	sleep_until(t0 + MEASURE_NS);
	res->busy_ns = busy_ns(self) - b0;
	res->span_ns = now_ns() - t0;
}

/* fair_server_race: the sequence at the top. */
static int round_fair_server_race(FIXTURE_DATA(core_forceidle) *self, struct fi_result *res)
{
	struct fi_thread *hog = &self->thr[T_HOG], *fair = &self->thr[T_FAIR];
	struct fi_thread *sib = &self->thr[T_SIBLING];
	uint64_t runtime_c = self->period * FAIR_RUNTIME_C_PCT / 100;
	uint64_t defer_s = self->period - self->period * FAIR_RUNTIME_S_PCT / 100;
	uint64_t t0, end_c, fair0, sib0, before;
	char *why = res->why;
	size_t len = sizeof(res->why);

	fi_init(hog, "hog", self->cpu, SCHED_FIFO, FI_NEW);
	fi_init(fair, "fair", -1, SCHED_OTHER, FI_SHARE);
	fi_init(sib, "untagged", -1, SCHED_OTHER, FI_UNTAGGED);
	if (fi_start(hog, self->park, why, len))
		return -1;
	fair->share_from = atomic_load(&hog->tid);
	if (fi_start(fair, self->park, why, len) || fi_start(sib, self->park, why, len) ||
	    fi_move(fair, self->cpu, why, len))
		return -1;

	if (fair_server_set_runtime(self->cpu, runtime_c)) {
		snprintf(why, len, "cannot write the fair server runtime of cpu %d", self->cpu);
		return -1;
	}
	t0 = now_ns();
	/*
	 * The hog keeps the fair thread off C until C's server fires; from
	 * then on the fair thread runs for C's runtime, until end_c.
	 */
	fair0 = fi_cpu_ns(fair);
	end_c = t0 + self->period + FAIR_START_SLACK_NS;
	while (fi_cpu_ns(fair) - fair0 < FAIR_STARTED_NS && now_ns() < end_c)
		usleep(2000);
	res->fair_start_ns = now_ns() - t0;
	end_c = now_ns() - FAIR_STARTED_NS + runtime_c;

	/*
	 * The untagged thread joins S late in C's window, and S's server
	 * fires defer_s later.  If the untagged thread ran by the check (a
	 * task without a cookie ran on C), S left idle: restart S's server
	 * while C's window lasts.
	 */
	sleep_until(end_c - SIBLING_LEAD_NS);
	if (fi_move(sib, self->sibling, why, len))
		return -1;
	sib0 = fi_cpu_ns(sib);
	do {
		before = fi_cpu_ns(sib);
		if (fair_server_set_runtime(self->sibling,
					    self->period * FAIR_RUNTIME_S_PCT / 100)) {
			snprintf(why, len, "cannot write the fair server runtime of cpu %d",
				 self->sibling);
			return -1;
		}
		res->tries++;
		sleep_until(now_ns() + defer_s + FAIR_FIRE_WAIT_NS);
	} while (fi_cpu_ns(sib) != before && now_ns() + defer_s + 2 * FAIR_FIRE_WAIT_NS < end_c);
	res->sibling_ns = fi_cpu_ns(sib) - sib0;
	res->fair_ns = fi_cpu_ns(fair) - fair0;
	if (fi_move(sib, self->park, why, len))
		return -1;

	sleep_until(end_c + MEASURE_DELAY_NS);
	measure(self, res);
	return fi_stop_all(self, why, len);
}

/*
 * sibling_moved: the untagged thread on S past the fair server's
 * deferral, then moved away; the hog stops, and a new thread with a
 * cookie is measured on C.
 */
static int round_sibling_moved(FIXTURE_DATA(core_forceidle) *self, struct fi_result *res)
{
	struct fi_thread *hog = &self->thr[T_HOG], *sib = &self->thr[T_SIBLING];
	struct fi_thread *probe = &self->thr[T_PROBE];
	char *why = res->why;
	size_t len = sizeof(res->why);
	uint64_t sib0;

	fi_init(hog, "hog", self->cpu, SCHED_FIFO, FI_NEW);
	fi_init(sib, "untagged", -1, SCHED_OTHER, FI_UNTAGGED);
	fi_init(probe, "probe", -1, SCHED_OTHER, FI_NEW);
	if (fi_start(hog, self->park, why, len) || fi_start(sib, self->park, why, len) ||
	    fi_move(sib, self->sibling, why, len))
		return -1;
	sib0 = fi_cpu_ns(sib);
	sleep_until(now_ns() + SIBLING_WAIT_NS);
	res->sibling_ns = fi_cpu_ns(sib) - sib0;
	if (fi_move(sib, self->park, why, len))
		return -1;
	if (!fi_join(hog)) {
		/* C is starved: have S pick, then try again. */
		if (fi_move(sib, self->sibling, why, len) || fi_move(sib, self->park, why, len))
			return -1;
		if (!fi_join(hog)) {
			self->stuck = true;
			snprintf(why, len, "the hog did not stop in %d s", 2 * JOIN_TIMEOUT_S);
			return -1;
		}
	}
	if (fi_start(probe, self->park, why, len) || fi_move(probe, self->cpu, why, len))
		return -1;
	measure(self, res);
	return fi_stop_all(self, why, len);
}

TEST_F_TIMEOUT(core_forceidle, cookie_threads_get_their_cpu, 120)
{
	int round, starved = 0, warnings = 0;
	unsigned int pct, worst = 100;
	char warning[256] = "";

	if (variant->fair_server_race)
		ksft_print_msg("fair servers of cpu %d and %d: runtime %llu and %llu us during the rounds (were %llu and %llu), period %llu us\n",
			       self->cpu, self->sibling,
			       (unsigned long long)(self->period * FAIR_RUNTIME_C_PCT / 100 / NSEC_PER_USEC),
			       (unsigned long long)(self->period * FAIR_RUNTIME_S_PCT / 100 / NSEC_PER_USEC),
			       (unsigned long long)(self->runtime[0] / NSEC_PER_USEC),
			       (unsigned long long)(self->runtime[1] / NSEC_PER_USEC),
			       (unsigned long long)(self->period / NSEC_PER_USEC));
	for (round = 0; round < variant->rounds; round++) {
		struct fi_result res = { 0 };
		int err;

		err = variant->fair_server_race ? round_fair_server_race(self, &res) :
						  round_sibling_moved(self, &res);
		ASSERT_EQ(0, err) TH_LOG("round %d: %s", round, res.why);
		pct = res.span_ns ? res.busy_ns * 100 / res.span_ns : 0;
		if (pct < worst)
			worst = pct;
		if (pct < MIN_SHARE_PCT)
			starved++;
		warnings += kmsg_scan(self->kmsg, warning, sizeof(warning));
		ksft_print_msg("PE-FORCEIDLE variant=%s round=%d share_pct=%u busy_ms=%llu span_ms=%llu fair_start_ms=%llu fair_before_move_ms=%llu untagged_before_move_ms=%llu tries=%d warnings=%d\n",
			       variant->name, round, pct,
			       (unsigned long long)(res.busy_ns / NSEC_PER_MSEC),
			       (unsigned long long)(res.span_ns / NSEC_PER_MSEC),
			       (unsigned long long)(res.fair_start_ns / NSEC_PER_MSEC),
			       (unsigned long long)(res.fair_ns / NSEC_PER_MSEC),
			       (unsigned long long)(res.sibling_ns / NSEC_PER_MSEC), res.tries,
			       warnings);
		sleep_until(now_ns() + SETTLE_NS);
	}
	ksft_print_msg("PE-FORCEIDLE variant=%s rounds=%d starved=%d worst_pct=%u warnings=%d\n",
		       variant->name, variant->rounds, starved, worst, warnings);
	EXPECT_EQ(0, starved)
		TH_LOG("the threads with a cookie got under %d%% of cpu %d in %d of %d rounds (worst %u%%): idle cpu %d forced the core idle",
		       MIN_SHARE_PCT, self->cpu, starved, variant->rounds, worst, self->sibling);
	EXPECT_EQ(0, warnings) TH_LOG("kernel: %s", warning);
}

TEST_HARNESS_MAIN
