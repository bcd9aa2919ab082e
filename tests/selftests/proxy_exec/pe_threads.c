// SPDX-License-Identifier: GPL-2.0
/*
 * The threads of the inversion engine: owner, waiter, hogs, contender and
 * the watchdog, and how they are started and stopped.
 */
#include "pe_internal.h"

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

/*
 * Join the cgroup, pin and set the policy of a thread.  Placements "one"
 * and "apart" pin it to @cpu, "spread" does not pin.
 */
static bool thread_setup(struct pe_run *run, const char *who, int cpu,
			 struct pe_cgroup *cg, const struct pe_sched *s)
{
	int err;

	if (!cg_join(run, cg, who))
		return false;
	if (run->cfg.place != PE_PLACE_SPREAD) {
		err = pin_self(cpu);
		if (err) {
			run_error(run, false, "%s: pin to cpu %d: %s", who,
				  cpu, strerror(-err));
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

	if (!thread_setup(run, "owner", run->cpu, &run->cg_owner, &run->scen->owner))
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

	if (!thread_setup(run, who, run->cpu, &run->cg_rest, s))
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
 int contender_op(struct pe_run *run)
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

	if (run->cfg.place != PE_PLACE_SPREAD)
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
	if (!thread_setup(run, "waiter", pe_waiter_cpu(run), &run->cg_rest, NULL))
		return false;
	run->waiter_pinned = run->cfg.place != PE_PLACE_SPREAD;
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
