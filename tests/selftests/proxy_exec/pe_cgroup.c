// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup v2 children of the inversion engine: the cpuset partition of
 * a pinned SCHED_DEADLINE waiter, and the owner's weight or cpu.max group.
 */
#include "pe_internal.h"

/* Open the cgroup (or any sysfs-like) file @dir/@name; an fd or -errno. */
static int cg_open(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Write @val to the file @dir/@name; 0 or -errno. */
 int cg_write(const char *dir, const char *name, const char *val)
{
	int fd = cg_open(dir, name, O_WRONLY), err = 0;
	size_t len = strlen(val);
	ssize_t w;

	if (fd < 0)
		return fd;
	w = write(fd, val, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}

/* Read the file @dir/@name, without its trailing newline. */
 int cg_read(const char *dir, const char *name, char *buf, size_t len)
{
	int fd = cg_open(dir, name, O_RDONLY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return fd;
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

/**
 * pe_remove_stale_cgroups() - remove the children of killed runs
 *
 * A killed run (the harness kills a test on timeout) leaves its children
 * behind: a partition holds its CPU exclusively, which also takes it out of
 * our affinity.  rmdir() only removes empty cgroups, and only those of dead
 * processes are tried.
 */
void pe_remove_stale_cgroups(void)
{
	const size_t plen = strlen(CGROUP_PREFIX);
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
		if (strncmp(de->d_name, CGROUP_PREFIX, plen))
			continue;
		errno = 0;
		pid = strtol(de->d_name + plen, &end, 10);
		if (errno || (*end && *end != '.') || pid <= 0 || pid > INT_MAX ||
		    !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (!rmdir(path))
			pe_log("removed the stale cgroup %s\n", path);
	}
	closedir(d);
}

/* Write a file of the child; on error say which in cg->why. */
static bool cg_set(struct pe_cgroup *cg, const char *name, const char *val)
{
	int err = cg_write(cg->dir, name, val);

	if (err)
		snprintf(cg->why, sizeof(cg->why), "writing '%s' to %s/%s: %s",
			 val, cg->dir, name, strerror(-err));
	return !err;
}

/*
 * Move whatever threads are left in the child back to its parent and
 * remove it.  pthread_join() returns before a thread has left its cgroup
 * (the kernel's cgroup_exit() comes after the TID is cleared), so EBUSY is
 * retried for a while.  Returns 0 or -errno.
 */
static int cg_destroy(struct pe_cgroup *cg)
{
	uint64_t end = pe_now_ns(CLOCK_MONOTONIC) + CGROUP_RMDIR_NS;
	char tids[4096], *tid, *save;
	int err;

	cg->active = false;
	if (!cg->created)
		return 0;
	for (;;) {
		if (!cg_read(cg->dir, "cgroup.threads", tids, sizeof(tids)))
			for (tid = strtok_r(tids, "\n", &save); tid;
			     tid = strtok_r(NULL, "\n", &save))
				cg_write(cg->parent, "cgroup.threads", tid);
		if (!rmdir(cg->dir) || errno == ENOENT)
			break;
		err = -errno;
		if (err != -EBUSY || pe_now_ns(CLOCK_MONOTONIC) > end)
			return err;
		sleep_ns(CGROUP_RETRY_NS);
	}
	cg->created = false;
	return 0;
}

/*
 * Create <our cgroup>/<prefix><pid>[.@tag] as a threaded cgroup (so single
 * threads can join it), with @ctrl enabled above it.  On failure cg->why
 * says why and nothing is left behind.
 */
static bool cg_create(struct pe_cgroup *cg, const char *tag, const char *ctrl)
{
	char buf[256];
	int err, n;

	if (own_cgroup_dir(cg->parent, sizeof(cg->parent), cg->why, sizeof(cg->why)))
		return false;
	err = cg_read(cg->parent, "cgroup.subtree_control", buf, sizeof(buf));
	if (err || !has_word(buf, ctrl)) {
		snprintf(cg->why, sizeof(cg->why),
			 "the %s controller is not enabled in %s/cgroup.subtree_control%s%s",
			 ctrl, cg->parent, err ? ": " : "", err ? strerror(-err) : "");
		return false;
	}
	n = snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d%s%s",
		     cg->parent, (int)getpid(), tag ? "." : "", tag ? tag : "");
	if (n >= (int)sizeof(cg->dir)) {
		snprintf(cg->why, sizeof(cg->why), "cgroup path too long");
		return false;
	}
	if (mkdir(cg->dir, 0755)) {
		err = errno;
		snprintf(cg->why, sizeof(cg->why), "mkdir %s: %s", cg->dir,
			 strerror(err));
		return false;
	}
	cg->created = true;
	if (cg_set(cg, "cgroup.type", "threaded"))
		return true;
	err = cg_destroy(cg);
	if (err)
		pe_log("cannot remove %s: %s\n", cg->dir, strerror(-err));
	return false;
}

/* Check that a cgroup file reads @want; on error say so in cg->why. */
static bool cg_expect(struct pe_cgroup *cg, const char *name, const char *want)
{
	char buf[256];
	int err;

	err = cg_read(cg->dir, name, buf, sizeof(buf));
	if (!err && !strcmp(buf, want))
		return true;
	snprintf(cg->why, sizeof(cg->why), "%s/%s: %s (want %s)", cg->dir, name,
		 err ? strerror(-err) : buf, want);
	return false;
}

/*
 * Make @cpu a root domain of its own: a threaded child with
 * cpuset.cpus=@cpu as a "root" partition.  An invalid partition is
 * accepted, and reads "root invalid (why)".
 */
static bool partition_create(struct pe_cgroup *p, int cpu)
{
	char cpu_str[16];
	int err;

	if (!cg_create(p, NULL, "cpuset"))
		return false;
	snprintf(cpu_str, sizeof(cpu_str), "%d", cpu);
	if (cg_set(p, "cpuset.cpus", cpu_str) &&
	    cg_set(p, "cpuset.cpus.partition", "root") &&
	    cg_expect(p, "cpuset.cpus.partition", "root") &&
	    cg_expect(p, "cpuset.cpus.effective", cpu_str)) {
		p->active = true;
		return true;
	}
	err = cg_destroy(p);
	if (err)
		pe_log("cannot remove %s: %s\n", p->dir, strerror(-err));
	return false;
}

/* The owner's group and its sibling for the waiter and the hogs. */
static bool cpu_groups_create(struct pe_run *run, char *why, size_t len)
{
	struct pe_cgroup *bad = &run->cg_owner;
	const char *file = "cpu.weight", *val = "1";

	/* The throttle starts with the contention: calibrate unthrottled. */
	if (run->scen->cg_mode == PE_CG_MAX) {
		file = "cpu.max";
		val = CGMAX_UNTHROTTLED;
		atomic_store(&run->unthrottled, 1);
	}
	if (cg_create(&run->cg_owner, "owner", "cpu") &&
	    cg_set(&run->cg_owner, file, val)) {
		bad = &run->cg_rest;
		if (cg_create(&run->cg_rest, "rest", "cpu")) {
			run->cg_owner.active = true;
			run->cg_rest.active = true;
			pe_log("owner in %s (%s %s), waiter and hogs in %s\n",
			       run->cg_owner.dir, file,
			       run->scen->cg_mode == PE_CG_MAX ? run->cpu_max : val,
			       run->cg_rest.dir);
			return true;
		}
	}
	snprintf(why, len, "%s", bad->why);
	cg_destroy(&run->cg_owner);
	return false;
}

/**
 * pe_cgroups_setup() - create the cgroups the run needs
 * @run: the run, after pe_pick_cpus()
 * @why: what failed
 * @len: its size
 *
 * The deadline scenario pinned to one CPU of several gets a partition; the
 * cgroup scenarios get the owner's group and its sibling.  Call it last in
 * the setup, so nothing else can fail and leave them behind.
 *
 * Return: true when nothing was needed or all was created.
 */
bool pe_cgroups_setup(struct pe_run *run, char *why, size_t len)
{
	if (run->scen->cg_mode != PE_CG_NONE)
		return cpu_groups_create(run, why, len);
	if (run->scen->waiter.policy != SCHED_DEADLINE ||
	    run->cfg.place != PE_PLACE_ONE || run->other_cpu < 0)
		return true;
	if (!partition_create(&run->part, run->cpu)) {
		snprintf(why, len, "%s", run->part.why);
		return false;
	}
	pe_log("cpuset partition %s: cpu %d is its own root domain; owner, waiter and hogs run in it\n",
	       run->part.dir, run->cpu);
	return true;
}

/**
 * pe_cgroups_teardown() - remove the cgroups of the run
 * @run: the run, its threads stopped
 * @why: which one could not be removed
 * @len: its size
 *
 * Return: 0 or the first -errno.
 */
int pe_cgroups_teardown(struct pe_run *run, char *why, size_t len)
{
	struct pe_cgroup *cgs[] = { &run->part, &run->cg_owner, &run->cg_rest };
	int err, ret = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cgs); i++) {
		err = cg_destroy(cgs[i]);
		if (err && !ret) {
			ret = err;
			snprintf(why, len, "%s: %s", cgs[i]->dir, strerror(-err));
		}
	}
	return ret;
}

/*
 * Move the calling thread into its cgroup, if it has one.  "0" names the
 * calling thread: moving itself, a thread needs no cgroup_threadgroup_rwsem
 * write, which would wait for every fork and exit in progress and stop new
 * ones meanwhile (finding 10 of docs/dev/soak.md).
 */
 bool cg_join(struct pe_run *run, struct pe_cgroup *cg, const char *who)
{
	int err;

	if (!cg->active && run->part.active)
		cg = &run->part;
	if (!cg->active)
		return true;
	err = cg_write(cg->dir, "cgroup.threads", "0");
	if (err)
		run_error(run, false, "%s: join the cgroup %s: %s", who, cg->dir,
			  strerror(-err));
	return !err;
}
