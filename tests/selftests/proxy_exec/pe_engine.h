/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The priority inversion scenario shared by pe_inversion_test (kselftest)
 * and pe_latency (benchmark): an owner thread with a weak scheduling
 * context loops on a critical section under a kernel struct mutex, CPU
 * hogs keep it off the CPU, and a waiter with a strong context times one
 * operation on the same mutex once it sees the owner stuck inside its
 * critical section.  A watchdog pauses the hogs when a wait exceeds a cap.
 *
 * The mutexes (lock kinds):
 *   fpos    a shared file's f_pos_lock on tmpfs: the owner rewrites a large
 *           buffer, the waiter writes a few bytes;
 *   pipe    a pipe's pipe->mutex: the owner writes a large buffer into an
 *           enlarged pipe and reads back everything in it, the waiter
 *           writes a few bytes;
 *   rename  the s_vfs_rename_mutex of a private tmpfs: owner and waiter
 *           each move a file between two directories of their own.
 *
 * Scenarios name the waiter, owner and hog contexts; placements pin every
 * task to one CPU ("one"), let them spread over our affinity ("spread"),
 * or pin the waiter to a CPU of its own and the others to one CPU
 * ("apart": the owner is always on another CPU than the waiter).  The fifocontender
 * scenario adds a contender (fpos only): a nice 0 thread looping on writes
 * of a few bytes to the shared file.  It queues on f_pos_lock while the
 * hogs pause between samples and hardly runs against them, so it stays on
 * the wait list ahead of the waiter, and the owner's unlock wakes it rather
 * than the waiter.  The watchdog pauses it with the hogs.
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
 *
 * The engine's files are listed in pe_internal.h.
 */
#ifndef PE_ENGINE_H
#define PE_ENGINE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SCHED_IDLE
#define SCHED_IDLE		5
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE		6
#endif

#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

#define DEBUGFS_DIR		"/sys/kernel/debug"
#define DEBUGFS_SCHED_DIR	DEBUGFS_DIR "/sched"
#define PE_STATE_FILE		DEBUGFS_SCHED_DIR "/proxy_exec"
#define PE_STATS_FILE		DEBUGFS_SCHED_DIR "/proxy_stats"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#ifndef __printf
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn		__attribute__((__noreturn__))
#endif

#define SCHED_STR_LEN		96
/* Proxy counters summed over every CPU. */
#define PE_ALL_CPUS		(-1)

struct pe_sched {
	int policy;
	int nice;
	unsigned int prio;
	uint64_t runtime_ns;
	uint64_t deadline_ns;
	uint64_t period_ns;
};

enum pe_lock_kind {
	PE_LOCK_FPOS,
	PE_LOCK_PIPE,
	PE_LOCK_RENAME,
	PE_NR_LOCKS,
};

enum pe_placement {
	PE_PLACE_ONE,
	PE_PLACE_SPREAD,
	/* Owner, hogs and contender on one CPU, the waiter on another. */
	PE_PLACE_APART,
	PE_NR_PLACEMENTS,
};

/* How the owner is weakened besides its policy. */
enum pe_cg_mode {
	PE_CG_NONE,
	/* Owner in a cgroup of cpu.weight 1, the others in a sibling. */
	PE_CG_WEIGHT,
	/* Owner in a cgroup throttled by a tight cpu.max. */
	PE_CG_MAX,
};

struct pe_scenario {
	const char *name;
	struct pe_sched waiter;
	struct pe_sched owner;
	struct pe_sched hog;
	/* Hogs with placement "one"; "spread" uses one per CPU plus one. */
	int nr_hogs;
	/* Waiter in a class the fair server outranks, owner fair. */
	bool fair_server_window;
	/*
	 * Percentage of the CPU the waiter's context gets against the hogs
	 * (0 means 100).  Under proxy execution the owner runs on that
	 * context, so its critical section stretches by 100 / share.
	 */
	int donor_share_pct;
	enum pe_cg_mode cg_mode;
	/* A contender queued on the lock ahead of the waiter (fpos only). */
	bool contender;
};

enum pe_scenario_id {
	PE_SCEN_NICE,
	PE_SCEN_IDLE,
	PE_SCEN_FIFO,
	PE_SCEN_FIFO_CONTENDER,
	PE_SCEN_DEADLINE,
	PE_SCEN_CGWEIGHT,
	PE_SCEN_CGMAX,
	PE_NR_SCENARIOS,
};

extern const struct pe_scenario pe_scenarios[PE_NR_SCENARIOS];
extern const char * const pe_lock_names[PE_NR_LOCKS];
extern const char * const pe_placement_names[PE_NR_PLACEMENTS];

/*
 * A threaded child of our cgroup v2 cgroup: a cpuset partition holding one
 * CPU (a root domain of its own, for a pinned SCHED_DEADLINE waiter), or a
 * cpu controller group weakening the owner.
 */
struct pe_cgroup {
	bool active;		/* valid; its threads join it */
	bool created;		/* @dir exists and teardown must remove it */
	char parent[PATH_MAX];	/* our cgroup */
	char dir[PATH_MAX];
	char why[2 * PATH_MAX];	/* why there is none */
};

struct pe_config {
	long samples;
	long budget_ms;
	/*
	 * Fewer than @min_samples waits when @budget_ms runs out: go on
	 * sampling until there are that many, or @budget_max_ms has passed.
	 * 0 and 0 (or budget_max_ms <= budget_ms): stop at @budget_ms.
	 */
	long min_samples;
	long budget_max_ms;
	long cap_ms;
	long write_kib;
	long cpu;
	enum pe_lock_kind lock;
	enum pe_placement place;
	/* Mark each wait's start and end in the ftrace buffer. */
	bool trace;
};

/*
 * The kernel's proxy counters (PE_STATS_FILE), of one CPU or summed over
 * all; they count only while schedstats are on.
 */
struct pe_proxy_stats {
	bool valid;		/* false: the kernel has no such counters */
	long runs;		/* find_proxy_task() ran an owner for a donor */
	long owner_sleeping;	/* fallbacks: the owner was asleep, */
	long owner_remote;	/* queued on another CPU, */
	long chain_broken;	/* or the chain was a cycle or too long */
	long returns;		/* woken where they may not run, sent back */
	long migrations;	/* donors moved to the CPU of the owner */
	long cookie;		/* fallbacks: core-scheduling cookie mismatch, */
	long ext;		/* or a BPF scheduler's donor or owner */
};

struct pe_run {
	struct pe_config cfg;
	const struct pe_scenario *scen;
	int nr_hogs;

	/* The lock: fpos file, pipe ends, rename directories. */
	int fd;
	int rfd;
	/* trace_marker when cfg.trace, else -1. */
	int trace_fd;
	int dirfd[4];
	bool owner_flip;
	bool waiter_flip;
	char *owner_buf;
	size_t owner_len;

	int cpu;
	int other_cpu;
	uint64_t fair_server_ns;
	char fair_server_src[160];
	cpu_set_t all_cpus;
	bool waiter_pinned;
	/* The deadline partition, or the owner's and the others' groups. */
	struct pe_cgroup part;
	struct pe_cgroup cg_owner;
	struct pe_cgroup cg_rest;
	char cpu_max[32];

	/* Thread control; all threads only sleep until go is set. */
	atomic_int stop;
	atomic_int go;
	atomic_int hogs_paused;
	atomic_int contender_paused;
	atomic_int owner_ready;
	atomic_int waiter_ready;
	/* The hogs and the contender. */
	atomic_int bg_ready;
	atomic_int wd_ready;
	atomic_int owner_in_op;
	atomic_int contender_in_op;
	atomic_ulong owner_seq;
	atomic_int unthrottled;

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
	pthread_t *hog_t;
	pthread_t contender_t;
	bool owner_started;
	bool waiter_started;
	bool wd_started;
	int hogs_started;
	bool contender_started;
	bool joined;
};

/* Where engine diagnostics go; stderr unless a program sets it. */
extern void (*pe_log_hook)(const char *fmt, va_list ap);
__printf(1, 2) void pe_log(const char *fmt, ...);

uint64_t pe_now_ns(clockid_t clk);
int pe_cmp_u64(const void *a, const void *b);
uint64_t pe_percentile(const uint64_t *sorted, size_t n, unsigned int p);
uint64_t pe_to_us(uint64_t ns);
const char *pe_sched_str(const struct pe_sched *s, char *buf, size_t len);
int pe_lookup(const char *name, const char * const *names, int nr);

struct pe_run *pe_run_new(const struct pe_config *cfg,
			  const struct pe_scenario *scen);
void pe_run_free(struct pe_run *run);
void pe_remove_stale_cgroups(void);
int pe_pick_cpus(struct pe_run *run);
int pe_waiter_cpu(const struct pe_run *run);
uint64_t pe_read_fair_server(int cpu, char *src, size_t len);
int pe_lock_open(struct pe_run *run, char *where, size_t len);
bool pe_cgroups_setup(struct pe_run *run, char *why, size_t len);
int pe_cgroups_teardown(struct pe_run *run, char *why, size_t len);
bool pe_start_threads(struct pe_run *run);
void pe_stop_all(struct pe_run *run);
bool pe_run_collect(struct pe_run *run, int stats_cpu,
		    struct pe_proxy_stats *delta);
bool pe_read_proxy_stats(int cpu, struct pe_proxy_stats *st);
int pe_schedstats_enable(void);
void pe_schedstats_restore(int old);

#endif /* PE_ENGINE_H */
