// SPDX-License-Identifier: GPL-2.0
/*
 * The inversion engine: the scenarios, logging, scheduling attributes and
 * the life of a run.  The scenario is described in pe_engine.h.
 */
#include "pe_internal.h"

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
	[PE_PLACE_APART] = "apart",
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

 void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
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
 void __printf(3, 4)
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

 bool stopping(struct pe_run *run)
{
	return atomic_load_explicit(&run->stop, memory_order_relaxed);
}

 int set_sched(const struct pe_sched *s)
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

 int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
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

/**
 * pe_pick_cpus() - choose the CPUs and the number of hogs
 * @run: the run; cfg.cpu is the wanted CPU or -1 for the last one of our
 *       affinity
 *
 * Return: 0, -EINVAL for a CPU outside our affinity, -EXDEV for placement
 * "apart" with a single CPU, or -errno.
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
	if (run->cfg.place == PE_PLACE_APART && first_other < 0)
		return -EXDEV;
	/* Spread: keep every CPU busy, with one hog more than CPUs. */
	run->nr_hogs = run->cfg.place == PE_PLACE_SPREAD ?
		       CPU_COUNT(&run->all_cpus) + 1 : run->scen->nr_hogs;
	return last < 0 ? -ENODEV : 0;
}

/**
 * pe_waiter_cpu() - the CPU the waiter is pinned to
 * @run: the run, after pe_pick_cpus()
 *
 * Return: the other CPU for placement "apart", else the run's CPU.
 */
int pe_waiter_cpu(const struct pe_run *run)
{
	return run->cfg.place == PE_PLACE_APART ? run->other_cpu : run->cpu;
}
