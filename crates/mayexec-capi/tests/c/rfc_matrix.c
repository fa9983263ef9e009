/* The RFC's AT_INTERPRETED matrix through mayexec_faccessat2, as an
 * interpreter patched for the RFC calls it.
 *
 *   rfc_matrix LEVEL EXEC_DIR NOEXEC_DIR
 *
 * LEVEL is the interpreted_access of /etc/mayexec.conf (0-3; the caller
 * sets the policy). Each directory is a tmpfs (with and without noexec)
 * holding the files below; the caller is root or nobody (uid 65534).
 * Levels 1-3 follow the RFC's rules: not a regular file, then the noexec
 * mount (bit 0), then execute permission (bit 1), then read permission;
 * level 0 is a plain read check of any file type. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mayexec.h>

#include "check.h"

struct entry {
	const char *name;
	int regular;
	int exec[2]; /* may root / nobody execute it (the mount aside)? */
	int read[2]; /* may root / nobody read it? */
};

/* x500 and r400 belong to nobody; every other file to root. */
static const struct entry files[] = {
	{ "x755", 1, { 1, 1 }, { 1, 1 } },
	{ "r644", 1, { 0, 0 }, { 1, 1 } },
	{ "x500", 1, { 1, 1 }, { 1, 1 } },
	{ "r400", 1, { 0, 0 }, { 1, 1 } },
	{ "x711", 1, { 1, 1 }, { 1, 0 } },
	{ "link", 1, { 1, 1 }, { 1, 1 } }, /* -> target.sh, 0755, followed */
	{ "dir", 0, { 1, 1 }, { 1, 1 } },
	{ "fifo", 0, { 0, 0 }, { 1, 1 } },
	{ "socket", 0, { 0, 0 }, { 1, 1 } },
	{ "null", 0, { 0, 0 }, { 1, 1 } },
	{ "loop", 0, { 0, 0 }, { 1, 1 } },
};

static int level, who;

static int expected(int noexec, const struct entry *e)
{
	if (level == 0)
		return e->read[who] ? 0 : EACCES;
	if (!e->regular)
		return EACCES;
	if ((level & 1) && noexec)
		return EACCES;
	if ((level & 2) && !e->exec[who])
		return EACCES;
	return e->read[who] ? 0 : EACCES;
}

/* Level 0 for a file of a kernel-internal filesystem (readable by us), EACCES otherwise. */
static int special_expected(void)
{
	return level == 0 ? 0 : EACCES;
}

static void check_fd(const char *what, int fd, int want)
{
	CHECK_RESULT(what, mayexec_faccessat2(fd, "", X_OK, AT_EMPTY_PATH | MAYEXEC_AT_INTERPRETED),
		     want);
}

static void matrix(const char *dir, int noexec)
{
	char what[8192], path[4096];
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct entry *e = &files[i];
		int want = expected(noexec, e);
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, e->name);
		snprintf(what, sizeof(what), "%s path", path);
		CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK, MAYEXEC_AT_INTERPRETED), want);
		snprintf(what, sizeof(what), "%s X_OK|R_OK", path);
		CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK | R_OK, MAYEXEC_AT_INTERPRETED),
			     want);
		snprintf(what, sizeof(what), "%s dirfd+name", path);
		CHECK_RESULT(what, mayexec_faccessat2(dirfd, e->name, X_OK, MAYEXEC_AT_INTERPRETED), want);

		/* AT_EMPTY_PATH on an O_PATH descriptor (any type, any permission). */
		fd = open(path, O_PATH | O_CLOEXEC);
		snprintf(what, sizeof(what), "%s AT_EMPTY_PATH O_PATH fd", path);
		check_fd(what, fd, want);
		close(fd);

		/* ... and on a descriptor open for reading, as an interpreter holds it. */
		if (e->read[who] && strcmp(e->name, "socket") != 0 && strcmp(e->name, "loop") != 0) {
			fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			snprintf(what, sizeof(what), "%s AT_EMPTY_PATH O_RDONLY fd", path);
			if (fd < 0)
				check_true(what, 0);
			else
				check_fd(what, fd, want);
			close(fd);
		}
	}

	/* The symlink itself: AT_SYMLINK_NOFOLLOW and an O_PATH|O_NOFOLLOW fd.
	 * A symlink is not a regular file; at level 0 its 0777 mode reads. */
	snprintf(path, sizeof(path), "%s/link", dir);
	snprintf(what, sizeof(what), "%s AT_SYMLINK_NOFOLLOW", path);
	CHECK_RESULT(what,
		     mayexec_faccessat2(AT_FDCWD, path, X_OK,
					AT_SYMLINK_NOFOLLOW | MAYEXEC_AT_INTERPRETED),
		     level == 0 ? 0 : EACCES);
	{
		int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		snprintf(what, sizeof(what), "%s O_PATH|O_NOFOLLOW fd", path);
		check_fd(what, fd, level == 0 ? 0 : EACCES);
		close(fd);
	}

	/* Write permission asked with X_OK: checked too (nobody owns no 0755 file). */
	snprintf(path, sizeof(path), "%s/x755", dir);
	snprintf(what, sizeof(what), "%s X_OK|W_OK", path);
	CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK | W_OK, MAYEXEC_AT_INTERPRETED),
		     who ? EACCES : expected(noexec, &files[0]));

	/* Without AT_INTERPRETED: the plain system call, whatever the level. */
	snprintf(what, sizeof(what), "%s plain X_OK", path);
	CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK, 0), noexec ? EACCES : 0);
	snprintf(path, sizeof(path), "%s/r644", dir);
	snprintf(what, sizeof(what), "%s plain R_OK", path);
	CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, R_OK, 0), 0);
	snprintf(what, sizeof(what), "%s plain X_OK", path);
	CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK, 0), EACCES);

	/* Path resolution errors come first, at every level. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	snprintf(what, sizeof(what), "%s ENOENT", path);
	CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK, MAYEXEC_AT_INTERPRETED), ENOENT);
	snprintf(path, sizeof(path), "%s/x755/below", dir);
	snprintf(what, sizeof(what), "%s ENOTDIR", path);
	CHECK_RESULT(what, mayexec_faccessat2(AT_FDCWD, path, X_OK, MAYEXEC_AT_INTERPRETED), ENOTDIR);
	close(dirfd);
}

/* The RFC's other file kinds: pipefs, memfd, nsfs. */
static void special_files(void)
{
	int pipe_fds[2], memfd, nsfd;

	if (pipe(pipe_fds) != 0) {
		check_true("pipe()", 0);
		return;
	}
	check_fd("pipe read end", pipe_fds[0], special_expected());
	close(pipe_fds[0]);
	close(pipe_fds[1]);

	memfd = memfd_create("rfc-matrix", MFD_CLOEXEC);
	if (memfd < 0 || fchmod(memfd, 0755) != 0 || write(memfd, "+\n", 2) != 2) {
		check_true("memfd_create()", 0);
	} else {
		check_fd("memfd 0755", memfd, special_expected());
	}
	close(memfd);

	nsfd = open("/proc/self/ns/mnt", O_PATH | O_CLOEXEC);
	check_fd("/proc/self/ns/mnt", nsfd, special_expected());
	close(nsfd);
}

/* EINVAL: the RFC's (mode without X_OK) and the C ABI's (NULL, bad fds). */
static void invalid_arguments(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/x755", dir);
	CHECK_RESULT("R_OK without X_OK", mayexec_faccessat2(AT_FDCWD, path, R_OK, MAYEXEC_AT_INTERPRETED),
		     EINVAL);
	CHECK_RESULT("W_OK without X_OK", mayexec_faccessat2(AT_FDCWD, path, W_OK, MAYEXEC_AT_INTERPRETED),
		     EINVAL);
	CHECK_RESULT("F_OK", mayexec_faccessat2(AT_FDCWD, path, F_OK, MAYEXEC_AT_INTERPRETED), EINVAL);
	CHECK_RESULT("unknown mode bit",
		     mayexec_faccessat2(AT_FDCWD, path, X_OK | 0x10, MAYEXEC_AT_INTERPRETED), EINVAL);
	CHECK_RESULT("unknown flag",
		     mayexec_faccessat2(AT_FDCWD, path, X_OK, MAYEXEC_AT_INTERPRETED | AT_NO_AUTOMOUNT),
		     EINVAL);
	CHECK_RESULT("NULL path", mayexec_faccessat2(AT_FDCWD, NULL, X_OK, MAYEXEC_AT_INTERPRETED),
		     EINVAL);
	CHECK_RESULT("NULL path, plain", mayexec_faccessat2(AT_FDCWD, NULL, R_OK, 0), EINVAL);
	CHECK_RESULT("negative dirfd", mayexec_faccessat2(-5, "x755", X_OK, MAYEXEC_AT_INTERPRETED),
		     EINVAL);
	CHECK_RESULT("negative dirfd, plain", mayexec_faccessat2(-5, "x755", R_OK, 0), EINVAL);
	CHECK_RESULT("closed dirfd", mayexec_faccessat2(1000, "x755", X_OK, MAYEXEC_AT_INTERPRETED),
		     EBADF);
}

int main(int argc, char **argv)
{
	if (argc != 4 || argv[1][0] < '0' || argv[1][0] > '3' || argv[1][1]) {
		fprintf(stderr, "usage: %s LEVEL EXEC_DIR NOEXEC_DIR\n", argv[0]);
		return 2;
	}
	level = argv[1][0] - '0';
	who = geteuid() == 0 ? 0 : 1;
	printf("# level %d as %s\n", level, who ? "nobody" : "root");
	matrix(argv[2], 0);
	matrix(argv[3], 1);
	special_files();
	invalid_arguments(argv[2]);
	return check_summary();
}
