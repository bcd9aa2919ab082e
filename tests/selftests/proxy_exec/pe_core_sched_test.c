// SPDX-License-Identifier: GPL-2.0
/*
 * pe_core_sched_test: proxy execution must not break core scheduling.
 *
 * Core scheduling lets SMT siblings run at the same time only tasks with
 * the same cookie.  It chooses among the tasks it picks; with proxy
 * execution the task picked (the donor) may hand the CPU to the owner of
 * the mutex it waits for, which may have another cookie.  The kernel
 * must then not run the owner: the donor sleeps, as without proxy
 * execution, and the owner runs on its own turn.
 *
 * On two SMT siblings C and S:
 *   owner    on C, SCHED_OTHER, cookie A: rewrites a large buffer to a
 *            shared tmpfs file, holding its f_pos_lock (a struct mutex)
 *            for milliseconds at a time;
 *   waiter   on C, SCHED_FIFO, cookie B: every WAITER_PERIOD_NS writes a
 *            few bytes to the same file.  It wakes, preempts the owner,
 *            which usually holds the lock, and blocks on it;
 *   spinner  on S, SCHED_OTHER, cookie B: a busy loop, so that a core
 *            whose cookie is B has a B task to run on S.
 * sched_switch on C and S is traced, and the time during which the owner
 * runs on C while the spinner runs on S is summed.  The base kernel lets
 * that happen only until the sibling takes its reschedule IPI; a proxy
 * run of the owner on the waiter's context lasts the rest of the
 * owner's critical section, every time the waiter blocks.
 *
 * Checks, with proxy execution on and off:
 *   - the waiter gets the lock (its writes complete);
 *   - no sched_proxy_run event has the waiter as donor and the owner as
 *     the task run;
 *   - owner-with-spinner time is under CORUN_MAX_PCT of the traced time;
 *   - with proxy execution on, the kernel did meet the case: at least
 *     one sched_proxy_fallback event for the waiter has reason=cookie.
 *     Without one the run would prove nothing.
 *
 * Skips without two SMT siblings in our affinity (boot QEMU with
 * threads=2), without core scheduling (CONFIG_SCHED_CORE), or without
 * tracefs and the sched_switch event.  Needs root.
 *
 * Environment: PE_EXPECT (bounded|inversion) overrides the proxy state
 * read from debugfs, as in pe_inversion_test; PE_CORE_REQUIRED=1 turns
 * those skips into failures (the coresched guest test sets it: its boot
 * is meant to have all three).
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* Constants and paths only: this program does not link the engine. */
#include "pe_engine.h"
#include "pe_small.h"

#define RUN_NS			(4 * NSEC_PER_SEC)
#define WAITER_PERIOD_NS	(40 * NSEC_PER_MSEC)
#define OWNER_WRITE_BYTES	(4 << 20)
#define WAITER_FIFO_PRIO	50
/* The least the waiter must complete, and the most the owner may share. */
#define WAITER_MIN_WRITES	10
#define CORUN_MAX_PCT		5
#define READY_TIMEOUT_NS	(10 * NSEC_PER_SEC)

#define TRACEFS			"/sys/kernel/tracing"
#define TRACE_BUF_KB		"8192"

enum { T_OWNER, T_WAITER, T_SPINNER, T_NR };

struct cs_run {
	int cpu;		/* C: owner and waiter */
	int sibling;		/* S: spinner */
	int fd;			/* the shared file */
	char *buf;
	atomic_int stop;
	atomic_int go;
	atomic_int ready;
	atomic_int failed;
	char why[200];
	pid_t tid[T_NR];
	unsigned long long cookie[T_NR];
	atomic_long waiter_writes;
	atomic_long owner_writes;
	pthread_t thr[T_NR];
	int started;
};

static void cs_fail(struct cs_run *r, const char *what)
{
	int err = errno;

	if (!atomic_exchange(&r->failed, 1))
		snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(err));
	atomic_store(&r->stop, 1);
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The first CPU of our affinity with an SMT sibling there too: 0 or -1. */
static int find_siblings(int *cpu, int *sibling)
{
	cpu_set_t aff;
	char path[96], buf[64];
	int c, s;

	if (sched_getaffinity(0, sizeof(aff), &aff))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &aff))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", c);
		if (read_small(path, buf, sizeof(buf)))
			continue;
		/* "0-1" or "0,4": the other number is the sibling. */
		for (char *p = buf; *p; ) {
			s = strtol(p, &p, 10);
			if (s != c && s >= 0 && s < CPU_SETSIZE && CPU_ISSET(s, &aff)) {
				*cpu = c;
				*sibling = s;
				return 0;
			}
			while (*p && (*p < '0' || *p > '9'))
				p++;
		}
	}
	return -1;
}

/* The cookie of thread @tid, or 0 on error. */
static unsigned long long cookie_of(pid_t tid)
{
	unsigned long long ck = 0;

	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, tid,
		  PR_SCHED_CORE_SCOPE_THREAD, (unsigned long)&ck))
		return 0;
	return ck;
}

/*
 * Every thread: take a cookie of its own, or @cookie_from's, then publish
 * its tid (so a thread that shares its cookie finds it made) and wait for
 * go.
 */
static bool thread_start(struct cs_run *r, int id, int cpu, pid_t cookie_from)
{
	uint64_t t0 = now_ns();

	if (prctl(PR_SCHED_CORE, cookie_from ? PR_SCHED_CORE_SHARE_FROM : PR_SCHED_CORE_CREATE,
		  cookie_from, PR_SCHED_CORE_SCOPE_THREAD, 0)) {
		static const char * const what[T_NR][2] = {
			[T_OWNER] = { "owner: PR_SCHED_CORE_CREATE" },
			[T_WAITER] = { "waiter: PR_SCHED_CORE_CREATE" },
			[T_SPINNER] = { "spinner: PR_SCHED_CORE_CREATE",
					"spinner: PR_SCHED_CORE_SHARE_FROM the waiter" },
		};

		cs_fail(r, what[id][!!cookie_from]);
		return false;
	}
	__atomic_store_n(&r->tid[id], (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (pin(cpu)) {
		cs_fail(r, "pin");
		return false;
	}
	atomic_fetch_add(&r->ready, 1);
	while (!atomic_load(&r->go) && !atomic_load(&r->stop)) {
		if (now_ns() - t0 > READY_TIMEOUT_NS) {
			errno = ETIMEDOUT;
			cs_fail(r, "threads not ready");
			return false;
		}
		usleep(1000);
	}
	return !atomic_load(&r->stop);
}

static void *owner_fn(void *arg)
{
	struct cs_run *r = arg;

	if (!thread_start(r, T_OWNER, r->cpu, 0))
		return NULL;
	while (!atomic_load(&r->stop)) {
		/* write() of a shared file holds its f_pos_lock throughout. */
		if (write(r->fd, r->buf, OWNER_WRITE_BYTES) < 0 ||
		    lseek(r->fd, 0, SEEK_SET) < 0) {
			cs_fail(r, "owner: write");
			break;
		}
		atomic_fetch_add(&r->owner_writes, 1);
	}
	return NULL;
}

static void *waiter_fn(void *arg)
{
	struct sched_param sp = { .sched_priority = WAITER_FIFO_PRIO };
	struct cs_run *r = arg;
	struct timespec next;

	if (!thread_start(r, T_WAITER, r->cpu, 0))
		return NULL;
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		cs_fail(r, "waiter: SCHED_FIFO");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&r->stop)) {
		next.tv_nsec += WAITER_PERIOD_NS;
		while (next.tv_nsec >= (long)NSEC_PER_SEC) {
			next.tv_nsec -= NSEC_PER_SEC;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (write(r->fd, "waiter\n", 7) != 7) {
			cs_fail(r, "waiter: write");
			break;
		}
		atomic_fetch_add(&r->waiter_writes, 1);
	}
	return NULL;
}

static void *spinner_fn(void *arg)
{
	struct cs_run *r = arg;
	volatile unsigned long n = 0;

	pid_t waiter;

	/* The waiter's cookie: it made it before it published its tid. */
	while (!(waiter = __atomic_load_n(&r->tid[T_WAITER], __ATOMIC_ACQUIRE)) &&
	       !atomic_load(&r->stop))
		usleep(1000);
	if (!waiter || !thread_start(r, T_SPINNER, r->sibling, waiter))
		return NULL;
	while (!atomic_load(&r->stop))
		n++;
	return NULL;
}

/*
 * The trace of C and S, parsed.  corun_ns: owner on C with the spinner on
 * S; span_ns: time with both CPUs' tasks known; the proxy events of the
 * waiter.
 */
struct cs_trace {
	uint64_t span_ns;
	uint64_t corun_ns;
	uint64_t corun_max_ns;
	long switches;
	long proxy_runs;	/* waiter's context, owner run */
	long cookie_fallbacks;	/* waiter put to sleep for the cookie */
	long in_buffer;
	long written;
};

static bool field_pid(const char *line, const char *key, pid_t *pid)
{
	const char *p = strstr(line, key);

	if (!p)
		return false;
	*pid = strtol(p + strlen(key), NULL, 10);
	return true;
}

/* "comm/pid" after @key. */
static bool field_comm_pid(const char *line, const char *key, pid_t *pid)
{
	const char *p = strstr(line, key), *end;

	if (!p)
		return false;
	end = strchr(p, ' ');
	if (!end)
		end = p + strlen(p);
	while (end > p && end[-1] != '/')
		end--;
	if (end == p)
		return false;
	*pid = strtol(end, NULL, 10);
	return true;
}

static void parse_trace(FILE *f, const struct cs_run *r, struct cs_trace *t)
{
	/* The task running on C and on S; -1: not known yet. */
	pid_t cur[2] = { -1, -1 };
	uint64_t last = 0, run = 0;
	char line[512];

	memset(t, 0, sizeof(*t));
	t->in_buffer = t->written = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long sec, usec;
		const char *p, *ev;
		pid_t pid, owner;
		uint64_t ts;
		int cpu, side;

		if (line[0] == '#') {
			sscanf(line, "# entries-in-buffer/entries-written: %ld/%ld",
			       &t->in_buffer, &t->written);
			continue;
		}
		p = strchr(line, '[');
		if (!p)
			continue;
		cpu = strtol(p + 1, NULL, 10);
		/* "] flags  123.456789: event:" */
		ev = strstr(p, ": sched_");
		if (!ev)
			continue;
		p = ev;
		while (p > line && p[-1] != ' ')
			p--;
		if (sscanf(p, "%lu.%lu", &sec, &usec) != 2)
			continue;
		ts = sec * NSEC_PER_SEC + usec * 1000;

		if (!strncmp(ev, ": sched_proxy_run:", 18)) {
			if (field_comm_pid(ev, "donor=", &pid) && pid == r->tid[T_WAITER] &&
			    field_comm_pid(ev, "owner=", &owner) && owner == r->tid[T_OWNER])
				t->proxy_runs++;
			continue;
		}
		if (!strncmp(ev, ": sched_proxy_fallback:", 23)) {
			if (field_comm_pid(ev, "donor=", &pid) && pid == r->tid[T_WAITER] &&
			    strstr(ev, "reason=cookie"))
				t->cookie_fallbacks++;
			continue;
		}
		if (strncmp(ev, ": sched_switch:", 15) || !field_pid(ev, "next_pid=", &pid))
			continue;
		if (cpu == r->cpu)
			side = 0;
		else if (cpu == r->sibling)
			side = 1;
		else
			continue;
		t->switches++;
		if (cur[0] >= 0 && cur[1] >= 0 && ts > last) {
			t->span_ns += ts - last;
			if (cur[0] == r->tid[T_OWNER] && cur[1] == r->tid[T_SPINNER]) {
				t->corun_ns += ts - last;
				run += ts - last;
				if (run > t->corun_max_ns)
					t->corun_max_ns = run;
			}
		}
		cur[side] = pid;
		if (!(cur[0] == r->tid[T_OWNER] && cur[1] == r->tid[T_SPINNER]))
			run = 0;
		last = ts;
	}
}

/* The proxy execution state: 1 on, 0 off or absent; -1 unknown. */
static int proxy_state(void)
{
	const char *env = getenv("PE_EXPECT");
	char buf[8];

	if (env && !strcmp(env, "bounded"))
		return 1;
	if (env && !strcmp(env, "inversion"))
		return 0;
	if (read_small(PE_STATE_FILE, buf, sizeof(buf)))
		return access(DEBUGFS_SCHED_DIR, F_OK) ? -1 : 0;
	return buf[0] == '1';
}

FIXTURE(core_cookie) {
	struct cs_run *run;
	char tracing_cpumask[64];
	char buffer_size_kb[32];
	bool tracing;
	int state;
};

static const char * const trace_events[] = {
	TRACEFS "/events/sched/sched_switch/enable",
	TRACEFS "/events/sched/sched_proxy_run/enable",
	TRACEFS "/events/sched/sched_proxy_fallback/enable",
};

static void tracing_off(void)
{
	size_t i;

	write_str(TRACEFS "/tracing_on", "0");
	for (i = 0; i < ARRAY_SIZE(trace_events); i++)
		write_str(trace_events[i], "0");
}

/* Skip, or fail with PE_CORE_REQUIRED=1. */
#define CS_SKIP(fmt, ...) do {						\
	const char *req = getenv("PE_CORE_REQUIRED");			\
									\
	if (req && !strcmp(req, "1"))					\
		ASSERT_TRUE(false) TH_LOG(fmt " (PE_CORE_REQUIRED=1)", ##__VA_ARGS__); \
	SKIP(return, fmt, ##__VA_ARGS__);				\
} while (0)

FIXTURE_SETUP(core_cookie)
{
	char tmpl[] = "/dev/shm/pe_core_sched.XXXXXX", mask[32];
	struct cs_run *r;
	int c, s;

	self->state = proxy_state();
	ASSERT_LE(0, self->state) TH_LOG("the proxy execution state is unknown: set PE_EXPECT");
	if (find_siblings(&c, &s))
		CS_SKIP("no two SMT siblings in our affinity (QEMU: -smp N,threads=2)");
	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, 0, PR_SCHED_CORE_SCOPE_THREAD,
		  (unsigned long)&(unsigned long long){ 0 }))
		CS_SKIP("no core scheduling: prctl(PR_SCHED_CORE): %s", strerror(errno));
	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(trace_events[0], W_OK))
		CS_SKIP("no %s", trace_events[0]);

	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	self->run = r;
	r->cpu = c;
	r->sibling = s;
	r->buf = malloc(OWNER_WRITE_BYTES);
	ASSERT_NE(NULL, r->buf);
	memset(r->buf, 'o', OWNER_WRITE_BYTES);
	r->fd = mkostemp(tmpl, O_CLOEXEC);
	if (r->fd < 0)
		SKIP(return, "no scratch file in /dev/shm: %s", strerror(errno));
	unlink(tmpl);

	ASSERT_EQ(0, read_small(TRACEFS "/tracing_cpumask", self->tracing_cpumask,
				sizeof(self->tracing_cpumask)));
	ASSERT_EQ(0, read_small(TRACEFS "/buffer_size_kb", self->buffer_size_kb,
				sizeof(self->buffer_size_kb)));
	self->tracing = true;
	tracing_off();
	snprintf(mask, sizeof(mask), "%llx", (1ULL << c) | (1ULL << s));
	ASSERT_EQ(0, write_str(TRACEFS "/tracing_cpumask", mask));
	ASSERT_EQ(0, write_str(TRACEFS "/buffer_size_kb", TRACE_BUF_KB));
	ASSERT_EQ(0, write_str(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_str(trace_events[0], "1"));
	/* Absent on a kernel without proxy execution: nothing to count. */
	write_str(trace_events[1], "1");
	write_str(trace_events[2], "1");
	ksft_print_msg("siblings: cpu %d (owner, waiter) and cpu %d (spinner); proxy execution %s\n",
		       c, s, self->state ? "on" : "off");
}

FIXTURE_TEARDOWN(core_cookie)
{
	struct cs_run *r = self->run;
	int i;

	if (r) {
		atomic_store(&r->stop, 1);
		for (i = 0; i < r->started; i++)
			pthread_join(r->thr[i], NULL);
		if (r->fd > 0)
			close(r->fd);
		free(r->buf);
		free(r);
	}
	if (self->tracing) {
		tracing_off();
		write_str(TRACEFS "/tracing_cpumask", self->tracing_cpumask);
		write_str(TRACEFS "/trace", "");
		write_str(TRACEFS "/buffer_size_kb", self->buffer_size_kb);
	}
}

TEST_F_TIMEOUT(core_cookie, owner_never_runs_beside_other_cookie, 60)
{
	void *(*fns[T_NR])(void *) = { owner_fn, waiter_fn, spinner_fn };
	struct cs_run *r = self->run;
	struct cs_trace t;
	uint64_t t0;
	FILE *f;
	int i;

	for (i = 0; i < T_NR; i++) {
		ASSERT_EQ(0, pthread_create(&r->thr[i], NULL, fns[i], r));
		r->started++;
	}
	t0 = now_ns();
	while (atomic_load(&r->ready) < T_NR && !atomic_load(&r->failed) &&
	       now_ns() - t0 < READY_TIMEOUT_NS)
		usleep(1000);
	ASSERT_FALSE(atomic_load(&r->failed)) TH_LOG("%s", r->why);
	ASSERT_EQ(T_NR, atomic_load(&r->ready)) TH_LOG("threads not ready in time");
	for (i = 0; i < T_NR; i++)
		r->cookie[i] = cookie_of(r->tid[i]);
	ksft_print_msg("cookies: owner %#llx, waiter %#llx, spinner %#llx\n",
		       r->cookie[T_OWNER], r->cookie[T_WAITER], r->cookie[T_SPINNER]);
	ASSERT_NE(0ULL, r->cookie[T_OWNER]);
	ASSERT_NE(0ULL, r->cookie[T_WAITER]);
	ASSERT_NE(r->cookie[T_OWNER], r->cookie[T_WAITER]);
	ASSERT_EQ(r->cookie[T_WAITER], r->cookie[T_SPINNER]);

	ASSERT_EQ(0, write_str(TRACEFS "/tracing_on", "1"));
	atomic_store(&r->go, 1);
	usleep(RUN_NS / 1000);
	write_str(TRACEFS "/tracing_on", "0");
	atomic_store(&r->stop, 1);
	for (i = 0; i < r->started; i++)
		pthread_join(r->thr[i], NULL);
	r->started = 0;
	ASSERT_FALSE(atomic_load(&r->failed)) TH_LOG("%s", r->why);

	f = fopen(TRACEFS "/trace", "r");
	ASSERT_NE(NULL, f);
	parse_trace(f, r, &t);
	fclose(f);

	ksft_print_msg("PE-CORESCHED proxy=%d waiter_writes=%ld owner_writes=%ld traced_ms=%llu switches=%ld corun_ms=%llu corun_max_ms=%llu proxy_runs=%ld cookie_fallbacks=%ld trace_entries=%ld/%ld\n",
		       self->state, atomic_load(&r->waiter_writes),
		       atomic_load(&r->owner_writes),
		       (unsigned long long)(t.span_ns / NSEC_PER_MSEC), t.switches,
		       (unsigned long long)(t.corun_ns / NSEC_PER_MSEC),
		       (unsigned long long)(t.corun_max_ns / NSEC_PER_MSEC),
		       t.proxy_runs, t.cookie_fallbacks, t.in_buffer, t.written);

	ASSERT_EQ(t.in_buffer, t.written)
		TH_LOG("the trace lost events: %ld of %ld kept", t.in_buffer, t.written);
	ASSERT_GT(t.span_ns, RUN_NS / 2)
		TH_LOG("the trace covers only %llu ms of the run",
		       (unsigned long long)(t.span_ns / NSEC_PER_MSEC));
	EXPECT_GE(atomic_load(&r->waiter_writes), WAITER_MIN_WRITES)
		TH_LOG("the waiter completed only %ld writes: it did not get the lock",
		       atomic_load(&r->waiter_writes));
	EXPECT_EQ(0, t.proxy_runs)
		TH_LOG("the owner (cookie %#llx) ran %ld times on the waiter's context (cookie %#llx)",
		       r->cookie[T_OWNER], t.proxy_runs, r->cookie[T_WAITER]);
	EXPECT_LE(t.corun_ns * 100, t.span_ns * CORUN_MAX_PCT)
		TH_LOG("the owner ran beside the spinner, whose cookie differs, for %llu of %llu ms (over %d%%)",
		       (unsigned long long)(t.corun_ns / NSEC_PER_MSEC),
		       (unsigned long long)(t.span_ns / NSEC_PER_MSEC), CORUN_MAX_PCT);
	if (self->state) {
		EXPECT_GT(t.cookie_fallbacks, 0)
			TH_LOG("no cookie fallback for the waiter: it never blocked as a donor, so the run shows nothing");
	} else {
		EXPECT_EQ(0, t.cookie_fallbacks + t.proxy_runs);
	}
}

TEST_HARNESS_MAIN
