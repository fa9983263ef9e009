/* Tries one way into a user namespace and prints how the kernel answered:
 * "ok" or the errno name, then this process's securebits.
 *
 *   userns_probe unshare | clone | clone3 | x32-unshare
 *   userns_probe setns-user NSFILE | setns-any NSFILE | setns-net NSFILE
 *   userns_probe i386-getpid | i386-unshare | i386-clone | i386-clone3
 *   userns_probe i386-setns-any NSFILE
 *
 * The i386 modes (x86_64 only) make the 32-bit system call through
 * `int $0x80`, as a 32-bit program would.
 *
 * Used by crates/mayexec-cli/tests/userns.rs against `mayexec run`'s
 * seccomp filter. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static const char *name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case EUSERS: return "EUSERS";
	case ENOSPC: return "ENOSPC";
	case EACCES: return "EACCES";
	default: return strerror(e);
	}
}

#if defined(__x86_64__)
/* An i386 system call from this 64-bit process: -errno or the result. */
static long int80(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory");
	return ret;
}

static long i386(long nr, long a, long b)
{
	long ret = int80(nr, a, b);
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#endif

/* A child created in a new namespace exits at once; the parent reaps it. */
static long forked(long ret)
{
	if (ret == 0)
		_exit(0);
	if (ret > 0)
		waitpid((pid_t)ret, NULL, 0);
	return ret;
}

int main(int argc, char **argv)
{
	long ret;
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "unshare")) {
		ret = syscall(SYS_unshare, CLONE_NEWUSER);
	} else if (!strcmp(what, "clone")) {
		ret = forked(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
	} else if (!strcmp(what, "clone3")) {
		struct clone_args_v0 args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
		ret = forked(syscall(SYS_clone3, &args, sizeof args));
#if defined(__x86_64__)
	} else if (!strcmp(what, "x32-unshare")) {
		/* unshare is 272 in the x32 table too; bit 30 selects x32. */
		ret = syscall(0x40000000 | 272, CLONE_NEWUSER);
	} else if (!strcmp(what, "i386-getpid")) {
		ret = i386(20, 0, 0);
	} else if (!strcmp(what, "i386-unshare")) {
		ret = i386(310, CLONE_NEWUSER, 0);
	} else if (!strcmp(what, "i386-clone")) {
		/* No new stack: the child returns here, like fork. */
		ret = forked(i386(120, CLONE_NEWUSER | SIGCHLD, 0));
	} else if (!strcmp(what, "i386-clone3")) {
		/* The compat call takes a 32-bit pointer: memory below 2 GiB. */
		struct clone_args_v0 *low = mmap(NULL, sizeof *low, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (low == MAP_FAILED) {
			perror("mmap MAP_32BIT");
			return 2;
		}
		*low = (struct clone_args_v0){ .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
		ret = forked(i386(435, (long)(uintptr_t)low, sizeof *low));
	} else if (argc > 2 && !strcmp(what, "i386-setns-any")) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[2]);
			return 2;
		}
		ret = i386(346, fd, 0);
#endif
	} else if (argc > 2 && !strncmp(what, "setns-", 6)) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[2]);
			return 2;
		}
		int nstype = !strcmp(what, "setns-user") ? CLONE_NEWUSER
			   : !strcmp(what, "setns-net") ? CLONE_NEWNET : 0;
		ret = syscall(SYS_setns, fd, nstype);
	} else {
		fprintf(stderr, "usage: %s unshare|clone|clone3|x32-unshare|setns-{user,any,net} [NSFILE]\n", argv[0]);
		return 2;
	}
	printf("%s: %s\n", what, ret < 0 ? name(errno) : "ok");
	printf("securebits: %#x\n", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	return 0;
}
