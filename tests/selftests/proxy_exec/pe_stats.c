// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics of the inversion engine: percentiles, and the proxy and
 * fair-server counters the kernel exposes in debugfs.
 */
#include "pe_internal.h"

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

 uint64_t median_u64(uint64_t *v, size_t n)
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
		int n;

		memset(&r, 0, sizeof(r));
		/*
		 * A kernel without donor migration has the first five, one
		 * without core scheduling or sched_ext support the first
		 * seven or eight.
		 */
		n = sscanf(line,
			   "cpu%d runs %ld owner_sleeping %ld owner_remote %ld chain_broken %ld returns %ld migrations %ld cookie %ld ext %ld",
			   &c, &r.runs, &r.owner_sleeping, &r.owner_remote,
			   &r.chain_broken, &r.returns, &r.migrations, &r.cookie,
			   &r.ext);
		if (n != 5 && n < 7)
			continue;
		if (cpu != PE_ALL_CPUS && c != cpu)
			continue;
		st->valid = true;
		st->runs += r.runs;
		st->owner_sleeping += r.owner_sleeping;
		st->owner_remote += r.owner_remote;
		st->chain_broken += r.chain_broken;
		st->returns += r.returns;
		st->migrations += r.migrations;
		st->cookie += r.cookie;
		st->ext += r.ext;
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
		delta->returns = s1.returns - s0.returns;
		delta->migrations = s1.migrations - s0.migrations;
		delta->cookie = s1.cookie - s0.cookie;
		delta->ext = s1.ext - s0.ext;
	}
	return started;
}
