// SPDX-License-Identifier: GPL-2.0
/*
 * The lock kinds of the inversion engine: the shared scratch file (fpos),
 * the enlarged pipe, and the rename directories of a private tmpfs.
 */
#include "pe_internal.h"

static bool is_tmpfs(const char *dir)
{
	struct statfs sfs;

	return !statfs(dir, &sfs) && sfs.f_type == TMPFS_MAGIC;
}

static int open_in(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/pe_inversion.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/*
 * Mount a private tmpfs and return an fd of its root; the mount is
 * detached at once, the fd keeps it alive.  -errno on failure.
 */
static int private_tmpfs(void)
{
	char dir[] = "/tmp/pe_inversion.XXXXXX";
	char rootdir[] = "/pe_inversion.XXXXXX";
	int fd, err = 0;
	char *mnt;

	mnt = mkdtemp(dir);
	if (!mnt)
		mnt = mkdtemp(rootdir);
	if (!mnt)
		return -errno;
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64m,mode=0700")) {
		err = -errno;
		rmdir(mnt);
		return err;
	}
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	return fd < 0 ? err : fd;
}

/*
 * Open an anonymous scratch file on tmpfs, so a write is CPU-bound and
 * holds f_pos_lock for the whole copy.
 */
static int open_scratch(char *where, size_t len)
{
	static const char * const cands[] = { "/dev/shm", "/tmp", "/run", "/" };
	const char *env = getenv("PE_TMPDIR");
	size_t i;
	int fd, root;

	if (env && *env) {
		snprintf(where, len, "%s%s", env, is_tmpfs(env) ? "" : " (not tmpfs)");
		fd = open_in(env);
		return fd < 0 ? -errno : fd;
	}
	for (i = 0; i < ARRAY_SIZE(cands); i++) {
		if (!is_tmpfs(cands[i]))
			continue;
		fd = open_in(cands[i]);
		if (fd >= 0) {
			snprintf(where, len, "%s", cands[i]);
			return fd;
		}
	}
	root = private_tmpfs();
	if (root < 0)
		return root;
	fd = openat(root, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	fd = fd < 0 ? -errno : fd;
	close(root);
	snprintf(where, len, "a private tmpfs");
	return fd;
}

/*
 * A pipe large enough for the owner's write plus the waiter's few bytes;
 * the read end is nonblocking so the owner can drain it.
 */
static int open_pipe(struct pe_run *run, char *where, size_t len)
{
	int fds[2], size;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	run->rfd = fds[0];
	run->fd = fds[1];
	if (fcntl(run->rfd, F_SETFL, O_NONBLOCK))
		return -errno;
	size = fcntl(run->fd, F_SETPIPE_SZ, (int)(2 * run->owner_len));
	if (size < 0)
		return -errno;
	if ((size_t)size < run->owner_len + 4096)
		return -ENOSPC;
	snprintf(where, len, "a pipe of %d KiB", size / 1024);
	return 0;
}

/* Four directories on a private tmpfs, a file in the first and third. */
static int open_rename_dirs(struct pe_run *run, char *where, size_t len)
{
	static const char * const names[] = { "a", "b", "c", "d" };
	int root, i, fd, err = 0;

	root = private_tmpfs();
	if (root < 0)
		return root;
	for (i = 0; i < 4 && !err; i++) {
		if (mkdirat(root, names[i], 0700)) {
			err = -errno;
			break;
		}
		run->dirfd[i] = openat(root, names[i],
				       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (run->dirfd[i] < 0)
			err = -errno;
	}
	for (i = 0; i < 4 && !err; i += 2) {
		fd = openat(run->dirfd[i], i ? RENAME_WAITER_FILE : RENAME_OWNER_FILE,
			    O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			err = -errno;
		else
			close(fd);
	}
	close(root);
	snprintf(where, len, "a private tmpfs (cross-directory renames)");
	return err;
}

/**
 * pe_lock_open() - set up the lock of the run's kind
 * @run: the run
 * @where: what was set up
 * @len: its size
 *
 * Return: 0 or -errno; -EOPNOTSUPP for a contender on a lock other than
 * fpos.
 */
int pe_lock_open(struct pe_run *run, char *where, size_t len)
{
	int fd;

	/* The contender writes to the owner's file; see contender_op(). */
	if (run->scen->contender && run->cfg.lock != PE_LOCK_FPOS)
		return -EOPNOTSUPP;
	switch (run->cfg.lock) {
	case PE_LOCK_PIPE:
		return open_pipe(run, where, len);
	case PE_LOCK_RENAME:
		return open_rename_dirs(run, where, len);
	default:
		fd = open_scratch(where, len);
		if (fd < 0)
			return fd;
		run->fd = fd;
		return 0;
	}
}
