// SPDX-License-Identifier: GPL-2.0
/*
 * pe_latency - measure how long a strong waiter waits for a kernel mutex
 * held by a weak owner that CPU hogs keep off the CPU: the priority
 * inversion that proxy execution bounds.  The scenario is pe_engine.c's,
 * the one pe_inversion_test judges; this program only reports numbers, to
 * compare sched_proxy_exec=0 with =1 on the same kernel.
 *
 * Usage: pe_latency -s SCENARIO -l LOCK -p PLACEMENT [-n SAMPLES]
 *                   [-b BUDGET_MS] [-t TIMEOUT_MS] [-k WRITE_KIB] [-c CPU]
 *
 * Records go to stdout, one CSV line each, without a header:
 *   PE-BENCH,<kind>,latency,<scenario>-<lock>-<placement>,<sample>,<value>,<unit>,<status>
 *   cal   sample 0: the owner's critical section, CPU time, uncontended
 *         (median of the calibration runs); sample 1: its wall time
 *   lat   one per wait, in ns; status timeout when the watchdog had to
 *         end it (the value is then the measured wait, at least the cap)
 *   stat  proxies the kernel ran during the run, summed over all CPUs
 *         (proxy_runs of /sys/kernel/debug/sched/proxy_stats; no record
 *         without that file)
 * Diagnostics go to stderr.
 *
 * Exit codes: 0 measured (possibly fewer samples than asked, said on
 * stderr), 1 setup or run failure (not root, no cgroup2, a partition the
 * kernel refuses, ...), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pe_engine.h"

#define CASE_LEN		64

static struct pe_run *cur_run;

static void print_help(FILE *f)
{
	int i;

	fprintf(f,
		"Usage: pe_latency -s SCENARIO -l LOCK -p PLACEMENT [-n SAMPLES] [-b BUDGET_MS]\n"
		"                  [-t TIMEOUT_MS] [-k WRITE_KIB] [-c CPU] [-T]\n"
		"\n"
		"Time a strong waiter on a kernel mutex held by a weak owner under CPU hogs.\n"
		"  -s SCENARIO   waiter/owner/hog contexts:");
	for (i = 0; i < PE_NR_SCENARIOS; i++)
		fprintf(f, " %s", pe_scenarios[i].name);
	fprintf(f, "\n  -l LOCK       the mutex:");
	for (i = 0; i < PE_NR_LOCKS; i++)
		fprintf(f, " %s", pe_lock_names[i]);
	fprintf(f, "\n  -p PLACEMENT  ");
	for (i = 0; i < PE_NR_PLACEMENTS; i++)
		fprintf(f, "%s%s", i ? " " : "", pe_placement_names[i]);
	fprintf(f,
		" (one: all pinned to one CPU; spread: unpinned,\n"
		"                one hog per CPU plus one; apart: as one, but the waiter\n"
		"                pinned to another CPU)\n"
		"  -n SAMPLES    waits to collect (default 40)\n"
		"  -b BUDGET_MS  time budget for collecting them (default 8000)\n"
		"  -t TIMEOUT_MS cap of one wait; the watchdog then pauses the hogs and the\n"
		"                sample is recorded as timeout (default 1000)\n"
		"  -k WRITE_KIB  size of one owner write, fpos and pipe (default 256)\n"
		"  -c CPU        the CPU of placements one and apart (default: the last of\n"
		"                our affinity)\n"
		"  -T            mark each wait in the ftrace buffer (trace_marker:\n"
		"                \"pe_wait begin id=N\", \"pe_wait end id=N wall_us=U\")\n"
		"  -h            show this help\n"
		"\n"
		"Prints PE-BENCH,<kind>,latency,<case>,<sample>,<value>,<unit>,<status> lines.\n"
		"Exit codes: 0 measured, 1 setup or run failure, 2 bad usage.  Needs root.\n");
}

static void __printf(1, 2) __noreturn
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pe_latency: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see pe_latency -h\n");
	exit(2);
}

static long parse_long(char opt, const char *s, long min, long max)
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

/* Look @name up in @names; bad usage listing the choices if absent. */
static int parse_choice(const char *what, const char *name,
			const char * const *names, int nr)
{
	char list[256] = "";
	size_t len = 0;
	int i = pe_lookup(name, names, nr);

	if (i >= 0)
		return i;
	for (i = 0; i < nr && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? ", " : "", names[i]);
	bad_usage("unknown %s '%s'; valid: %s", what, name, list);
}

/* A numeric option: where it goes and its range. */
struct num_opt {
	int opt;
	long *val;
	long min;
	long max;
};

static void parse_args(int argc, char **argv, struct pe_config *cfg, int *scen)
{
	const struct num_opt nums[] = {
		{ 'n', &cfg->samples, 1, 100000 },
		{ 'b', &cfg->budget_ms, 100, 3600000 },
		{ 't', &cfg->cap_ms, 10, 3600000 },
		{ 'k', &cfg->write_kib, 4, 65536 },
		{ 'c', &cfg->cpu, 0, CPU_SETSIZE - 1 },
	};
	const char *scen_names[PE_NR_SCENARIOS];
	bool have_s = false, have_l = false, have_p = false;
	int i, opt;

	for (i = 0; i < PE_NR_SCENARIOS; i++)
		scen_names[i] = pe_scenarios[i].name;
	cfg->samples = 40;
	cfg->budget_ms = 8000;
	cfg->cap_ms = 1000;
	cfg->write_kib = 256;
	cfg->cpu = -1;
	opterr = 0;
	while ((opt = getopt(argc, argv, ":hTs:l:p:n:b:t:k:c:")) != -1) {
		if (opt == 'h') {
			print_help(stdout);
			exit(0);
		} else if (opt == 'T') {
			cfg->trace = true;
		} else if (opt == 's') {
			*scen = parse_choice("scenario", optarg, scen_names,
					     PE_NR_SCENARIOS);
			have_s = true;
		} else if (opt == 'l') {
			cfg->lock = parse_choice("lock", optarg, pe_lock_names,
						 PE_NR_LOCKS);
			have_l = true;
		} else if (opt == 'p') {
			cfg->place = parse_choice("placement", optarg,
						  pe_placement_names,
						  PE_NR_PLACEMENTS);
			have_p = true;
		} else if (opt == ':') {
			bad_usage("-%c needs a value", optopt);
		} else {
			for (i = 0; i < (int)ARRAY_SIZE(nums); i++)
				if (nums[i].opt == opt)
					break;
			if (i == (int)ARRAY_SIZE(nums))
				bad_usage("unknown option -%c", optopt);
			*nums[i].val = parse_long((char)opt, optarg, nums[i].min,
						  nums[i].max);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (!have_s || !have_l || !have_p)
		bad_usage("-s SCENARIO, -l LOCK and -p PLACEMENT are required");
	if (pe_scenarios[*scen].contender && cfg->lock != PE_LOCK_FPOS)
		bad_usage("the %s scenario needs -l %s", pe_scenarios[*scen].name,
			  pe_lock_names[PE_LOCK_FPOS]);
}

/* Interrupted: end the run early; the cgroups are still removed. */
static void on_signal(int sig)
{
	(void)sig;
	if (cur_run)
		atomic_store(&cur_run->stop, 1);
}

/* The proxy exec state for the log: "0", "1" or why it is unknown. */
static void pe_state(char *buf, size_t len)
{
	ssize_t r = -1;
	int fd;

	fd = open(PE_STATE_FILE, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, buf, len - 1);
		close(fd);
	}
	if (r <= 0) {
		snprintf(buf, len, "unknown (no %s)", PE_STATE_FILE);
		return;
	}
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void record(const char *kind, const char *cas, size_t sample,
		   uint64_t value, const char *unit, const char *status)
{
	printf("PE-BENCH,%s,latency,%s,%zu,%llu,%s,%s\n", kind, cas, sample,
	       (unsigned long long)value, unit, status);
}

/* The records, and a summary on stderr. */
static void report(struct pe_run *run, const char *cas,
		   const struct pe_proxy_stats *ps)
{
	uint64_t cap = (uint64_t)run->cfg.cap_ms * NSEC_PER_MSEC, v, *sorted;
	size_t i, timeouts = 0;

	sorted = calloc(run->n ? run->n : 1, sizeof(*sorted));
	record("cal", cas, 0, run->cs_cpu_ns, "ns", "ok");
	record("cal", cas, 1, run->cs_wall_ns, "ns", "ok");
	for (i = 0; i < run->n; i++) {
		v = run->wait_ns[i];
		/* The cap was passed; the waiter's own cost is not a wait. */
		if (run->capped[i] && v < cap)
			v = cap;
		timeouts += run->capped[i];
		if (sorted)
			sorted[i] = v;
		record("lat", cas, i, v, "ns", run->capped[i] ? "timeout" : "ok");
	}
	if (ps->valid)
		record("stat", cas, 0, (uint64_t)ps->runs, "count", "ok");
	fflush(stdout);

	if (sorted)
		qsort(sorted, run->n, sizeof(*sorted), pe_cmp_u64);
	fprintf(stderr,
		"pe_latency: %s: %zu waits in %llu ms: p50 %llu us, p99 %llu us, max %llu us, %zu timeouts; cs %llu us cpu, %llu us wall; waiter op %llu us; proxy_runs %ld, fallbacks: owner_sleeping %ld owner_remote %ld chain_broken %ld\n",
		cas, run->n, (unsigned long long)(run->sampling_ns / NSEC_PER_MSEC),
		(unsigned long long)pe_to_us(sorted ? pe_percentile(sorted, run->n, 50) : 0),
		(unsigned long long)pe_to_us(sorted ? pe_percentile(sorted, run->n, 99) : 0),
		(unsigned long long)pe_to_us(sorted && run->n ? sorted[run->n - 1] : 0),
		timeouts, (unsigned long long)pe_to_us(run->cs_cpu_ns),
		(unsigned long long)pe_to_us(run->cs_wall_ns),
		(unsigned long long)pe_to_us(run->waiter_cost_ns),
		ps->valid ? ps->runs : -1, ps->owner_sleeping, ps->owner_remote,
		ps->chain_broken);
	if (run->n < (size_t)run->cfg.samples)
		fprintf(stderr,
			"pe_latency: %s: only %zu of %ld samples within the %ld ms budget\n",
			cas, run->n, run->cfg.samples, run->cfg.budget_ms);
	free(sorted);
}

/* Set the run up, run it and report; the exit code. */
static int bench(struct pe_run *run, const char *cas)
{
	const struct pe_scenario *scen = run->scen;
	char where[160], state[64], why[2 * PATH_MAX];
	char ws[SCHED_STR_LEN], os[SCHED_STR_LEN], hs[SCHED_STR_LEN];
	struct pe_proxy_stats ps;
	int err;

	pe_remove_stale_cgroups();
	err = pe_pick_cpus(run);
	if (err == -EINVAL) {
		fprintf(stderr, "pe_latency: CPU %ld is not in our affinity\n", run->cfg.cpu);
		return 2;
	}
	if (err == -EXDEV) {
		fprintf(stderr, "pe_latency: placement apart needs two CPUs in our affinity\n");
		return 2;
	}
	if (err) {
		fprintf(stderr, "pe_latency: no usable CPU: %s\n", strerror(-err));
		return 1;
	}
	if (scen->fair_server_window)
		run->fair_server_ns = pe_read_fair_server(run->cpu, run->fair_server_src,
							  sizeof(run->fair_server_src));
	err = pe_lock_open(run, where, sizeof(where));
	if (err) {
		fprintf(stderr, "pe_latency: cannot set up the %s lock: %s\n",
			pe_lock_names[run->cfg.lock], strerror(-err));
		return 1;
	}
	if (!pe_cgroups_setup(run, why, sizeof(why))) {
		fprintf(stderr, "pe_latency: %s needs cgroups: %s\n", scen->name, why);
		return 1;
	}

	pe_state(state, sizeof(state));
	fprintf(stderr,
		"pe_latency: %s: proxy_exec %s; lock on %s; waiter %s, owner %s, %d x hog %s; %s\n",
		cas, state, where, pe_sched_str(&scen->waiter, ws, sizeof(ws)),
		pe_sched_str(&scen->owner, os, sizeof(os)), run->nr_hogs,
		pe_sched_str(&scen->hog, hs, sizeof(hs)),
		run->cfg.place == PE_PLACE_ONE ? "pinned to one cpu" :
		run->cfg.place == PE_PLACE_APART ? "waiter pinned apart from the others" :
		"unpinned");
	if (run->fair_server_ns)
		fprintf(stderr,
			"pe_latency: fair server runtime %llu us (%s) runs the owner above the waiter\n",
			(unsigned long long)pe_to_us(run->fair_server_ns),
			run->fair_server_src);

	if (!pe_run_collect(run, PE_ALL_CPUS, &ps) ||
	    atomic_load(&run->err_set)) {
		fprintf(stderr, "pe_latency: %s: %s\n", cas, run->err_msg);
		return 1;
	}
	report(run, cas, &ps);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	char cas[CASE_LEN], why[2 * PATH_MAX];
	struct pe_config cfg = { 0 };
	struct pe_run *run;
	int scen = 0, rc;

	parse_args(argc, argv, &cfg, &scen);
	snprintf(cas, sizeof(cas), "%s-%s-%s", pe_scenarios[scen].name,
		 pe_lock_names[cfg.lock], pe_placement_names[cfg.place]);
	if (geteuid()) {
		fprintf(stderr,
			"pe_latency: needs root (real-time and deadline policies, cgroups, mounts)\n");
		return 1;
	}
	run = pe_run_new(&cfg, &pe_scenarios[scen]);
	if (!run) {
		fprintf(stderr, "pe_latency: out of memory\n");
		return 1;
	}
	cur_run = run;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = bench(run, cas);
	pe_stop_all(run);
	if (pe_cgroups_teardown(run, why, sizeof(why))) {
		fprintf(stderr, "pe_latency: cannot remove the cgroup %s\n", why);
		rc = rc ? rc : 1;
	}
	cur_run = NULL;
	pe_run_free(run);
	return rc;
}
