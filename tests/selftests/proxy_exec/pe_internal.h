/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the inversion engine share and the programs do not:
 * tuning constants, the sched_setattr() ABI, and the helpers one file of
 * the engine calls in another.  pe_engine.h is the programs' interface.
 *
 *   pe_engine.c   scenarios, logging, scheduling attributes, a run's life
 *   pe_cgroup.c   the cgroup v2 children: partitions, weights, cpu.max
 *   pe_locks.c    the lock kinds: the scratch file, the pipe, the renames
 *   pe_threads.c  owner, waiter, hogs, contender and watchdog threads
 *   pe_stats.c    percentiles, the proxy and fair-server counters
 */
#ifndef PE_INTERNAL_H
#define PE_INTERNAL_H

#include "pe_engine.h"
#include "pe_sched_attr.h"

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

/* pe_cgroup.c */
bool cg_join(struct pe_run *run, struct pe_cgroup *cg, const char *who);
int cg_read(const char *dir, const char *name, char *buf, size_t len);
int cg_write(const char *dir, const char *name, const char *val);
/* pe_engine.c */
int pin_self(int cpu);
void __printf(3, 4) run_error(struct pe_run *run, bool skip, const char *fmt, ...);
int set_sched(const struct pe_sched *s);
void sleep_ns(uint64_t ns);
bool stopping(struct pe_run *run);
/* pe_stats.c */
uint64_t median_u64(uint64_t *v, size_t n);
/* pe_threads.c */
int contender_op(struct pe_run *run);

#endif /* PE_INTERNAL_H */
