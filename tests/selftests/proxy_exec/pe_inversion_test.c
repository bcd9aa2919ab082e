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
 * Between two waits the hogs pause until the owner has started its next
 * write, so that a weak owner does not starve the sampling; during a wait
 * they always run.
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
 * The scheduler shares a CPU in turns of at least one tick (4 ms at
 * HZ=250).  A waiter beside two hogs can wait out two of their turns
 * before its context runs the owner, and two more after the owner has
 * released the lock before it runs itself: 16 ms at HZ=250 on top of the
 * owner's critical section.  The bound's allowance (PE_ALLOWANCE_US,
 * 40 ms) covers that and the noise of a virtual machine; waits without
 * proxy execution are 10 to 100 times longer.
 *
 * An RT waiter cannot preempt a fair owner that the fair server (a
 * SCHED_DEADLINE server, 50 ms per second by default) is running: the owner
 * keeps re-taking the unlocked mutex before the woken waiter gets the CPU,
 * and proxy execution has no say because nothing is blocked on a runnable
 * owner's behalf.  The bound of that variant therefore includes the fair
 * server's runtime.
 *
 * The fifo_contender_first variant adds a contender to it: a nice 0 thread
 * on the same CPU looping on writes of a few bytes to the same file.  It
 * queues on f_pos_lock while the hogs pause between samples and hardly runs
 * against them, so the waiter queues behind it.  The owner's unlock then
 * wakes the contender, not the waiter whose context the owner runs on, and
 * proxy execution must still end the owner's turn on that context rather
 * than let it re-take the lock.  Its bound is that of the FIFO variant.
 *
 * A watchdog thread (highest SCHED_FIFO priority, on another CPU when there
 * is one) pauses the hogs (and the contender) when one wait exceeds a cap,
 * so the owner can finish and the test cannot hang; such a sample is
 * reported as capped.
 *
 * The scenario itself (threads, calibration, partition, watchdog) is
 * pe_engine.c, shared with the pe_latency benchmark; this file holds the
 * variants and the verdict.
 *
 * Environment (all optional):
 *   PE_EXPECT        bounded|inversion: override the state read from
 *                    /sys/kernel/debug/sched/proxy_exec ("1" means bounded;
 *                    "0", or no such file in debugfs's sched directory,
 *                    means inversion; without that directory: SKIP).
 *                    ext: a BPF scheduler (sched_ext) schedules the owner,
 *                    which then never runs on the waiter's context: the
 *                    kernel must count no proxy run and no donor move,
 *                    and the waiter must still get the lock; the waits
 *                    themselves are not judged
 *   PE_ALLOWANCE_US  bound slack: max wait <= 2 * cs / waiter share + this
 *                    (default 40000)
 *   PE_SAMPLES       waits to collect per variant (default 50)
 *   PE_BUDGET_MS     time budget for collecting them (default 12000)
 *   PE_BUDGET_MAX_MS with fewer than PE_MIN_SAMPLES waits at PE_BUDGET_MS,
 *                    go on until there are that many or this much time has
 *                    passed (default 30000)
 *   PE_CAP_MS        per-wait cap enforced by the watchdog (default 3000)
 *   PE_WRITE_KIB     size of one owner write (default 256)
 *   PE_MIN_OVER      inversion: waits above the bound needed (default 2;
 *                    all of them when fewer waits fit in the budget)
 *   PE_MIN_SAMPLES   bounded: waits needed for a verdict (default 4)
 *   PE_CPU           CPU to run on (default: the last CPU in our affinity)
 *   PE_TMPDIR        directory for the scratch file (default: /dev/shm,
 *                    /tmp or /run if tmpfs, else a private tmpfs mount)
 *   PE_TRACE         1: write "pe_wait begin id=N" and "pe_wait end id=N
 *                    wall_us=W" to tracefs's trace_marker around each
 *                    wait, to find a long one in a trace (default 0)
 *   PE_CORE_COOKIE   1: give every thread of the run one core-scheduling
 *                    cookie (prctl(PR_SCHED_CORE)), so that donor and
 *                    owner share it; on a kernel without core scheduling
 *                    the variants fail (default 0)
 *
 * Needs root: SCHED_FIFO, negative nice values and SCHED_DEADLINE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <unistd.h>

/* The 6.12 harness has an unused parameter; keep -Wextra for our code. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "pe_engine.h"

#ifndef DEBUGFS_MAGIC
#define DEBUGFS_MAGIC		0x64626720
#endif

/* Inversion must also be at least this many critical sections long. */
#define INVERSION_CS_FACTOR	20

/* Harness timeout per variant; budget plus cap must fit well inside it. */
#define TEST_TIMEOUT_S		60
#define RUN_SLACK_MS		15000

/* The verdict's knobs; the rest of the PE_* environment is the run's. */
struct pe_limits {
	long allowance_us;
	long min_over;
};

enum pe_mode {
	PE_MODE_BOUNDED,
	PE_MODE_INVERSION,
	PE_MODE_EXT,
};

static const char *const pe_mode_names[] = {
	[PE_MODE_BOUNDED]	= "bounded",
	[PE_MODE_INVERSION]	= "inversion",
	[PE_MODE_EXT]		= "ext",
};

/* Engine diagnostics as TAP comments, like ksft_print_msg(). */
static void ksft_log(const char *fmt, va_list ap)
{
	printf("# ");
	vprintf(fmt, ap);
	fflush(stdout);
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

static bool read_config(struct pe_config *cfg, struct pe_limits *lim)
{
	bool ok = true;

	cfg->samples = env_long("PE_SAMPLES", 50, 1, 100000, &ok);
	cfg->budget_ms = env_long("PE_BUDGET_MS", 12000, 100, 3600000, &ok);
	cfg->budget_max_ms = env_long("PE_BUDGET_MAX_MS", 30000, 100, 3600000, &ok);
	if (cfg->budget_max_ms < cfg->budget_ms)
		cfg->budget_max_ms = cfg->budget_ms;
	cfg->cap_ms = env_long("PE_CAP_MS", 3000, 10, 3600000, &ok);
	lim->allowance_us = env_long("PE_ALLOWANCE_US", 40000, 0, 10000000, &ok);
	cfg->write_kib = env_long("PE_WRITE_KIB", 256, 4, 65536, &ok);
	lim->min_over = env_long("PE_MIN_OVER", 2, 1, 100000, &ok);
	/* The verdict's minimum, and the count the engine samples up to. */
	cfg->min_samples = env_long("PE_MIN_SAMPLES", 4, 1, 100000, &ok);
	cfg->cpu = env_long("PE_CPU", -1, -1, CPU_SETSIZE - 1, &ok);
	cfg->trace = env_long("PE_TRACE", 0, 0, 1, &ok);
	cfg->lock = PE_LOCK_FPOS;
	cfg->place = PE_PLACE_ONE;
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
		else if (!strcmp(env, "ext"))
			*mode = PE_MODE_EXT;
		else {
			snprintf(src, len, "PE_EXPECT='%s' is none of 'bounded', 'inversion' and 'ext'", env);
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

FIXTURE(f_pos_lock) {
	struct pe_run *run;
	struct pe_limits lim;
	enum pe_mode mode;
	char mode_src[192];
};

FIXTURE_VARIANT(f_pos_lock) {
	const char *name;
	enum pe_scenario_id scen;
	/* Pinned to one CPU, or the waiter apart from the owner and hogs. */
	enum pe_placement place;
};

/*
 * One variant: its identifier is also its name in the results
 * (variant->name, which FIXTURE_SETUP and the report print).
 */
#define PE_FPOS_VARIANT(id, scenario, placement)	\
	FIXTURE_VARIANT_ADD(f_pos_lock, id) {		\
		.name = #id,				\
		.scen = scenario,			\
		.place = placement,			\
	}

/*
 * Without PE only the fair server's reserve (or RT throttling) lets the
 * owner run against a FIFO hog, so a wait can approach a second.
 */
PE_FPOS_VARIANT(fifo_waiter_other_owner_fifo_hogs, PE_SCEN_FIFO, PE_PLACE_ONE);

/*
 * The same with a nice 0 contender queued ahead of the waiter: unlocking
 * wakes the contender, and the owner must not keep running on the waiter's
 * context.
 */
PE_FPOS_VARIANT(fifo_contender_first, PE_SCEN_FIFO_CONTENDER, PE_PLACE_ONE);

/* A nice 19 owner gets about 0.7 % of the CPU against two nice 0 hogs. */
PE_FPOS_VARIANT(nice_waiter_nice19_owner_nice0_hogs, PE_SCEN_NICE, PE_PLACE_ONE);

PE_FPOS_VARIANT(idle_owner, PE_SCEN_IDLE, PE_PLACE_ONE);

/* A deadline task has no priority to inherit; only proxy execution lends. */
PE_FPOS_VARIANT(deadline_waiter, PE_SCEN_DEADLINE, PE_PLACE_ONE);

/*
 * The same four inversions with the waiter pinned to another CPU than the
 * owner and its hogs: proxy execution must move the waiter to the owner's
 * CPU to lend its context there, outside the waiter's affinity, and bring
 * it back to run.
 */
PE_FPOS_VARIANT(apart_fifo_waiter_other_owner_fifo_hogs, PE_SCEN_FIFO, PE_PLACE_APART);

PE_FPOS_VARIANT(apart_nice_waiter_nice19_owner_nice0_hogs, PE_SCEN_NICE, PE_PLACE_APART);

PE_FPOS_VARIANT(apart_idle_owner, PE_SCEN_IDLE, PE_PLACE_APART);

/*
 * sched_setattr() refuses SCHED_DEADLINE to a waiter pinned to one CPU of
 * a larger root domain, so this waiter runs unpinned (the test says so):
 * the owner and hogs stay pinned to their CPU.
 */
PE_FPOS_VARIANT(apart_deadline_waiter, PE_SCEN_DEADLINE, PE_PLACE_APART);

FIXTURE_SETUP(f_pos_lock)
{
	const struct pe_scenario *scen = &pe_scenarios[variant->scen];
	struct pe_config cfg;
	struct pe_run *run;
	char where[160], why[2 * PATH_MAX];
	bool ok = true;
	int err;

	pe_log_hook = ksft_log;
	ASSERT_TRUE(read_config(&cfg, &self->lim)) TH_LOG("bad PE_* environment");
	cfg.place = variant->place;
	ASSERT_LE(cfg.budget_max_ms + cfg.cap_ms, TEST_TIMEOUT_S * 1000L - RUN_SLACK_MS)
		TH_LOG("max(PE_BUDGET_MS, PE_BUDGET_MAX_MS) + PE_CAP_MS must stay below %ld ms (harness timeout %d s)",
		       TEST_TIMEOUT_S * 1000L - RUN_SLACK_MS, TEST_TIMEOUT_S);
	run = pe_run_new(&cfg, scen);
	ASSERT_NE(NULL, run);
	self->run = run;
	err = read_mode(&self->mode, self->mode_src, sizeof(self->mode_src));
	if (err && err != -EINVAL)
		SKIP(return, "%s", self->mode_src);
	ASSERT_EQ(0, err) TH_LOG("%s", self->mode_src);

	/* First: a stale partition would narrow the affinity pe_pick_cpus reads. */
	pe_remove_stale_cgroups();
	err = pe_pick_cpus(run);
	if (err == -EXDEV)
		SKIP(return, "the waiter apart from the owner needs two CPUs");
	ASSERT_EQ(0, err) TH_LOG("no usable CPU (PE_CPU=%ld): %s",
				 cfg.cpu, strerror(-err));

	/*
	 * One cookie for the thread group: the threads the run starts
	 * inherit it.  The harness runs each variant in a child of its own.
	 */
	if (env_long("PE_CORE_COOKIE", 0, 0, 1, &ok) == 1) {
		/* Asked for: a kernel that cannot give one fails the run. */
		ASSERT_EQ(0, prctl(PR_SCHED_CORE, PR_SCHED_CORE_CREATE, 0,
				   PR_SCHED_CORE_SCOPE_THREAD_GROUP, 0))
			TH_LOG("PE_CORE_COOKIE=1 but prctl(PR_SCHED_CORE_CREATE): %s (a kernel without CONFIG_SCHED_CORE, or no SMT)",
			       strerror(errno));
		ksft_print_msg("core scheduling: every thread of the run shares one cookie\n");
	}
	ASSERT_TRUE(ok) TH_LOG("bad PE_CORE_COOKIE");

	if (scen->fair_server_window)
		run->fair_server_ns = pe_read_fair_server(run->cpu, run->fair_server_src,
							  sizeof(run->fair_server_src));

	err = pe_lock_open(run, where, sizeof(where));
	if (err)
		SKIP(return, "no tmpfs scratch file: %s", strerror(-err));

	ksft_print_msg("mode=%s (%s)\n", pe_mode_names[self->mode],
		       self->mode_src);
	ksft_print_msg("scratch file on %s; owner writes %ld KiB\n", where,
		       cfg.write_kib);

	/*
	 * Last, so no ASSERT or SKIP above can leave the partition behind:
	 * teardown only runs after a completed setup.  With one CPU, that
	 * CPU is the root domain already.
	 */
	if (!pe_cgroups_setup(run, why, sizeof(why)))
		ksft_print_msg("no cpuset partition for cpu %d (%s): falling back to an unpinned SCHED_DEADLINE waiter\n",
			       run->cpu, why);
}

FIXTURE_TEARDOWN(f_pos_lock)
{
	struct pe_run *run = self->run;
	char why[2 * PATH_MAX] = "";
	int err;

	if (!run)
		return;
	pe_stop_all(run);
	err = pe_cgroups_teardown(run, why, sizeof(why));
	EXPECT_EQ(0, err) TH_LOG("cannot remove the cpuset partition %s", why);
	pe_run_free(run);
	self->run = NULL;
}

/* The harness's setjmp() wrapper trips -Wclobbered on its own locals. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wclobbered"
TEST_F_TIMEOUT(f_pos_lock, wait_bounded_iff_proxy_exec, TEST_TIMEOUT_S)
{
	const struct pe_scenario *scen = &pe_scenarios[variant->scen];
	struct pe_run *run = self->run;
	uint64_t cs_us, bound_us, max_us, p50_us, p99_us, cap_us;
	int share;
	size_t i, over = 0, capped = 0, long_waits = 0, need_long, need_over;
	char ws[SCHED_STR_LEN], os[SCHED_STR_LEN], hs[SCHED_STR_LEN], wplace[160];
	struct pe_proxy_stats ps;
	const char *mode;
	uint64_t *sorted;
	bool started;

	/* Apart, the donor moves are counted on the waiter's CPU. */
	started = pe_run_collect(run, variant->place == PE_PLACE_APART ?
				 PE_ALL_CPUS : run->cpu, &ps);
	if (atomic_load(&run->err_set) && run->err_is_skip)
		SKIP(return, "%s", run->err_msg);
	ASSERT_TRUE(started && !atomic_load(&run->err_set))
		TH_LOG("%s", run->err_msg);

	mode = pe_mode_names[self->mode];
	cs_us = pe_to_us(run->cs_cpu_ns);
	share = scen->donor_share_pct ? scen->donor_share_pct : 100;
	bound_us = 2 * cs_us * 100 / share + (uint64_t)self->lim.allowance_us +
		   pe_to_us(run->fair_server_ns);
	cap_us = (uint64_t)run->cfg.cap_ms * 1000;

	if (!run->waiter_pinned)
		snprintf(wplace, sizeof(wplace), "unpinned (SCHED_DEADLINE needs an affinity spanning the root domain; PE must migrate it to the owner)");
	else if (variant->place == PE_PLACE_APART)
		snprintf(wplace, sizeof(wplace), "pinned apart, to cpu %d: PE must move it to the owner's cpu and back",
			 pe_waiter_cpu(run));
	else
		snprintf(wplace, sizeof(wplace), "pinned too%s", run->part.active ?
			 " (all in a cpuset partition: the cpu is their root domain)" : "");
	ksft_print_msg("waiter %s, owner %s, %d x hog %s; cpu %d, waiter %s\n",
		       pe_sched_str(&scen->waiter, ws, sizeof(ws)),
		       pe_sched_str(&scen->owner, os, sizeof(os)),
		       run->nr_hogs, pe_sched_str(&scen->hog, hs, sizeof(hs)),
		       run->cpu, wplace);
	if (scen->contender)
		ksft_print_msg("a SCHED_OTHER/nice=0 contender loops on small writes to the file: queued on f_pos_lock ahead of the waiter, the owner's unlock wakes it, not the waiter\n");
	ksft_print_msg("owner critical section: %llu us CPU (%llu us wall, uncontended); waiter write %llu us\n",
		       (unsigned long long)cs_us,
		       (unsigned long long)pe_to_us(run->cs_wall_ns),
		       (unsigned long long)pe_to_us(run->waiter_cost_ns));
	ksft_print_msg("the waiter writes once the owner sat in one write for %llu us (preempted holding the lock)\n",
		       (unsigned long long)pe_to_us(run->stuck_ns));
	if (run->fair_server_ns)
		ksft_print_msg("fair server runtime %llu us (%s): it runs the owner above the waiter, so it is part of the bound\n",
			       (unsigned long long)pe_to_us(run->fair_server_ns),
			       run->fair_server_src);
	ksft_print_msg("bound = 2 x cs x 100 / waiter share %d%% + PE_ALLOWANCE_US %ld%s = %llu us; cap %llu us per wait\n",
		       share, self->lim.allowance_us,
		       run->fair_server_ns ? " + fair server runtime" : "",
		       (unsigned long long)bound_us, (unsigned long long)cap_us);

	sorted = malloc((run->n ? run->n : 1) * sizeof(*sorted));
	ASSERT_NE(NULL, sorted);
	for (i = 0; i < run->n; i++) {
		sorted[i] = pe_to_us(run->wait_ns[i]);
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
	qsort(sorted, run->n, sizeof(*sorted), pe_cmp_u64);
	p50_us = pe_percentile(sorted, run->n, 50);
	p99_us = pe_percentile(sorted, run->n, 99);
	max_us = run->n ? sorted[run->n - 1] : 0;
	free(sorted);

	ksft_print_msg("waits: n=%zu in %llu ms, p50 %llu us, p99 %llu us, max %s%llu us, %zu over %llu us, %zu capped\n",
		       run->n, (unsigned long long)(run->sampling_ns / NSEC_PER_MSEC),
		       (unsigned long long)p50_us, (unsigned long long)p99_us,
		       capped ? ">= " : "", (unsigned long long)max_us,
		       over, (unsigned long long)bound_us, capped);
	ksft_print_msg("PE-STAT variant=%s mode=%s cs_us=%llu n=%zu p50_us=%llu p99_us=%llu max_us=%llu over_us=%llu over=%zu capped=%zu waiter_pinned=%d partition=%d proxy_runs=%ld owner_sleeping=%ld owner_remote=%ld chain_broken=%ld returns=%ld migrations=%ld cookie=%ld ext=%ld\n",
		       variant->name, mode, (unsigned long long)cs_us, run->n,
		       (unsigned long long)p50_us, (unsigned long long)p99_us,
		       (unsigned long long)max_us, (unsigned long long)bound_us,
		       over, capped, run->waiter_pinned, run->part.active,
		       ps.valid ? ps.runs : -1, ps.owner_sleeping, ps.owner_remote,
		       ps.chain_broken, ps.returns, ps.migrations, ps.cookie, ps.ext);
	if (!ps.valid)
		ksft_print_msg("no %s: the kernel has no proxy counters to check\n",
			       PE_STATS_FILE);

	if (self->mode == PE_MODE_BOUNDED) {
		EXPECT_EQ((size_t)0, capped)
			TH_LOG("%zu waits hit the %ld ms cap", capped, run->cfg.cap_ms);
		EXPECT_LE(max_us, bound_us)
			TH_LOG("max wait %llu us exceeds the bound %llu us: the inversion was not bounded",
			       (unsigned long long)max_us, (unsigned long long)bound_us);
		EXPECT_GE(run->n, (size_t)run->cfg.min_samples)
			TH_LOG("only %zu waits in %.1f s, PE_MIN_SAMPLES=%ld needed to claim a bound",
			       run->n, run->sampling_ns / 1e9, run->cfg.min_samples);
		need_long = run->n / 10 ? run->n / 10 : 1;
		EXPECT_GE(long_waits, need_long)
			TH_LOG("only %zu waits >= cs/4: the waiter hardly met the lock held, so the run cannot show a bound",
			       long_waits);
		/* The bound must come from proxying, seen by the kernel. */
		if (ps.valid)
			EXPECT_GT(ps.runs, 0)
				TH_LOG("the kernel counted no proxy run on cpu %d", run->cpu);
		/* Apart, by moving the pinned waiter to the owner. */
		if (ps.valid && variant->place == PE_PLACE_APART && run->waiter_pinned)
			EXPECT_GT(ps.migrations, 0)
				TH_LOG("the kernel counted no donor move to cpu %d", run->cpu);
	} else if (self->mode == PE_MODE_EXT) {
		/* A BPF scheduler's task neither lends nor receives. */
		if (ps.valid)
			EXPECT_EQ(0, ps.runs + ps.migrations)
				TH_LOG("the kernel counted %ld proxy runs and %ld donor moves for an owner of the BPF scheduler",
				       ps.runs, ps.migrations);
		EXPECT_GE(run->n, (size_t)1)
			TH_LOG("the waiter never got the lock in %.1f s",
			       run->sampling_ns / 1e9);
	} else {
		/* With the flag off the kernel must not have proxied at all. */
		if (ps.valid)
			EXPECT_EQ(0, ps.runs + ps.migrations)
				TH_LOG("the kernel counted %ld proxy runs and %ld donor moves with proxy execution off",
				       ps.runs, ps.migrations);
		/*
		 * Waits of seconds may leave fewer samples than PE_MIN_OVER
		 * in the budget: then every one of them must be over.
		 */
		need_over = (size_t)self->lim.min_over < run->n ?
			    (size_t)self->lim.min_over : run->n;
		EXPECT_GE(over, need_over ? need_over : 1)
			TH_LOG("inversion not visible: %zu of %zu waits over %llu us, PE_MIN_OVER=%ld needed",
			       over, run->n, (unsigned long long)bound_us, self->lim.min_over);
		EXPECT_GE(max_us, INVERSION_CS_FACTOR * cs_us)
			TH_LOG("max wait %llu us is below %d x the critical section",
			       (unsigned long long)max_us, INVERSION_CS_FACTOR);
	}
	ksft_print_msg("verdict: %s expected, %s\n", mode,
		       _metadata->exit_code == KSFT_PASS ? "observed" : "NOT observed");
}
#pragma GCC diagnostic pop

TEST_HARNESS_MAIN
