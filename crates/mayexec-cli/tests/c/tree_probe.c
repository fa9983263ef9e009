/* Tries one way around a tree's exec rules and prints how the kernel
 * answered ("ok" or the errno's name), one line per step; where the way
 * works to the end, it executes what it made.
 *
 *   tree_probe memfd-exec FILE ARG...     FILE copied into a memfd made with
 *                                         no flags, executed (fexecve)
 *   tree_probe memfd-proc FILE ARG...     the same, executed as /proc/self/fd/N
 *   tree_probe memfd-flags none|exec|noexec-seal
 *   tree_probe memfd-sealed FILE ARG...   FILE in an MFD_NOEXEC_SEAL memfd:
 *                                         chmod +x, then fexecve
 *   tree_probe i386-memfd                 memfd_create(name, 0) through int $0x80
 *   tree_probe clone-exec DIR PROG SCRIPT DIR's mount cloned (open_tree), noexec
 *                                         cleared on the clone (mount_setattr),
 *                                         then PROG run on SCRIPT through the clone
 *   tree_probe setattr DIR                noexec cleared on DIR's own mount
 *   tree_probe remount DIR                mount(2) MS_REMOUNT|MS_BIND without noexec
 *   tree_probe fsopen | fspick | fsconfig | fsmount | move-mount
 *
 * Used by crates/mayexec-cli/tests/mounts_and_memfds.rs against `mayexec
 * run`'s seccomp filter and Landlock domain. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif

struct attr {
	uint64_t set, clr, propagation, userns_fd;
};

extern char **environ;

static const char *name(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EBADF: return "EBADF";
	case ENOENT: return "ENOENT";
	default: return strerror(e);
	}
}

/* Prints "STEP: ok" or "STEP: ERRNO" for a system call's result. */
static long step(const char *what, long ret)
{
	printf("%s: %s\n", what, name(ret < 0 ? errno : 0));
	fflush(stdout);
	return ret;
}

/* A memfd made with FLAGS, holding FILE's bytes; -1 when it cannot be. */
static int memfd_copy(const char *file, unsigned flags)
{
	char buf[65536];
	ssize_t n;
	int in, fd;

	fd = step("memfd_create", syscall(SYS_memfd_create, "probe", flags));
	if (fd < 0)
		return -1;
	in = open(file, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		perror(file);
		exit(2);
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(fd, buf, n) != n) {
			perror("write");
			exit(2);
		}
	close(in);
	return fd;
}

static int memfd_flags(const char *which)
{
	unsigned flags = !strcmp(which, "exec") ? MFD_EXEC :
			 !strcmp(which, "noexec-seal") ? MFD_NOEXEC_SEAL : 0;
	return step("memfd_create", syscall(SYS_memfd_create, "probe", flags)) < 0;
}

#if defined(__x86_64__)
static int i386_memfd(void)
{
	static const char label[] = "probe";
	long ret;
	/* i386's memfd_create is 356; the name must lie below 4 GiB. */
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memcpy(low, label, sizeof label);
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(356L), "b"(low), "c"(0L) : "memory");
	printf("memfd_create: %s\n", name(ret < 0 ? (int)-ret : 0));
	return 0;
}
#endif

/* Runs PROG SCRIPT where SCRIPT is reached through DIR's mount, cloned and
 * made exec: the path is /proc/self/fd/N/SCRIPT. */
static int clone_exec(const char *dir, const char *prog, const char *script)
{
	struct attr attr = { .clr = MOUNT_ATTR_NOEXEC };
	char path[4096];
	int tree;

	tree = step("open_tree", syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | AT_RECURSIVE));
	if (tree < 0)
		return 1;
	if (step("mount_setattr", syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr)) < 0)
		return 1;
	snprintf(path, sizeof path, "/proc/self/fd/%d/%s", tree, script);
	execl(prog, prog, path, (char *)NULL);
	step("exec", -1);
	return 1;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "memfd-exec") || !strcmp(what, "memfd-proc") ||
	    !strcmp(what, "memfd-sealed")) {
		int sealed = !strcmp(what, "memfd-sealed");
		int fd;
		if (argc < 3)
			return 2;
		fd = memfd_copy(argv[2], sealed ? MFD_NOEXEC_SEAL : 0);
		if (fd < 0)
			return 1;
		if (sealed)
			step("fchmod", fchmod(fd, 0755));
		if (!strcmp(what, "memfd-proc")) {
			char path[64];
			snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
			execve(path, argv + 2, environ);
		} else {
			fexecve(fd, argv + 2, environ);
		}
		step("exec", -1);
		return 1;
	}
	if (!strcmp(what, "memfd-flags") && argc == 3)
		return memfd_flags(argv[2]);
#if defined(__x86_64__)
	if (!strcmp(what, "i386-memfd"))
		return i386_memfd();
#endif
	if (!strcmp(what, "clone-exec") && argc == 5)
		return clone_exec(argv[2], argv[3], argv[4]);
	if (!strcmp(what, "setattr") && argc == 3) {
		struct attr attr = { .clr = MOUNT_ATTR_NOEXEC };
		int tree = step("open_tree", syscall(SYS_open_tree, AT_FDCWD, argv[2], 0));
		if (tree < 0)
			return 1;
		return step("mount_setattr",
			    syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr)) < 0;
	}
	if (!strcmp(what, "remount") && argc == 3)
		return step("mount", mount(NULL, argv[2], NULL, MS_REMOUNT | MS_BIND, NULL)) < 0;
	/* Outside a filter these fail with the kernel's own errors (EBADF,
	 * EINVAL…) or succeed; the filter answers EPERM before the kernel looks. */
	if (!strcmp(what, "fsopen"))
		return step("fsopen", syscall(SYS_fsopen, "tmpfs", 0)) < 0;
	if (!strcmp(what, "fspick"))
		return step("fspick", syscall(SYS_fspick, AT_FDCWD, "/", 0)) < 0;
	if (!strcmp(what, "fsconfig"))
		return step("fsconfig", syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0)) < 0;
	if (!strcmp(what, "fsmount"))
		return step("fsmount", syscall(SYS_fsmount, -1, 0, 0)) < 0;
	if (!strcmp(what, "move-mount"))
		return step("move_mount", syscall(SYS_move_mount, -1, "", -1, "", 0)) < 0;
	fprintf(stderr, "tree_probe: unknown way %s\n", what);
	return 2;
}
