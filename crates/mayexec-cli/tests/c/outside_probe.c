/* Tries one way for a process of `mayexec run`'s tree to act on a process
 * outside it, or on the terminal it shares with processes outside it, and
 * prints how the kernel answered: "ok" or the errno name.
 *
 *   outside_probe ptrace PID        PTRACE_ATTACH (then detaches)
 *   outside_probe mem PID           open /proc/PID/mem for writing
 *   outside_probe vm PID            process_vm_readv of one byte
 *   outside_probe getfd PID         pidfd_getfd of the target's fd 0
 *   outside_probe tiocsti           TIOCSTI a newline into stdin's terminal
 *   outside_probe i386-tiocsti      the same through the i386 ioctl (x86_64)
 *   outside_probe tiocgwinsz        TIOCGWINSZ: an ioctl that must still work
 *
 * With ptrace or /proc/PID/mem a process can make another one run any
 * code; with TIOCSTI it types commands into the shell that owns the
 * terminal once the tree has ended. Used by
 * crates/mayexec-cli/tests/outside.rs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static const char *name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EIO: return "EIO";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case ESRCH: return "ESRCH";
	default: return strerror(e);
	}
}

static void answer(const char *what, long ret)
{
	printf("%s: %s\n", what, ret < 0 ? name(errno) : "ok");
}

#if defined(__x86_64__)
/* TIOCSTI through the i386 ioctl (54) and `int $0x80`, as a 32-bit program
 * makes it: -1 with errno, or 0. A 32-bit call sees only the low 32 bits of
 * its pointer, so the byte lives below 4 GiB. */
static long i386_tiocsti(void)
{
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long ret;
	if (low == MAP_FAILED)
		return -1;
	*low = '\n';
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(54L), "b"(0L), "c"((long)TIOCSTI), "d"(low)
			 : "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#endif

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	pid_t pid = argc > 2 ? (pid_t)atoi(argv[2]) : 0;
	long ret;
	if (!strcmp(what, "ptrace")) {
		ret = ptrace(PTRACE_ATTACH, pid, 0, 0);
		if (ret == 0) {
			waitpid(pid, NULL, __WALL);
			ptrace(PTRACE_DETACH, pid, 0, 0);
		}
	} else if (!strcmp(what, "mem")) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
		ret = open(path, O_RDWR);
	} else if (!strcmp(what, "vm")) {
		/* Our own address of argv[0] is somewhere readable in the target
		 * too only by chance; EFAULT also means the access was allowed. */
		char byte;
		struct iovec local = { &byte, 1 }, remote = { (void *)argv, 1 };
		ret = syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0);
		if (ret < 0 && errno == EFAULT)
			ret = 0;
	} else if (!strcmp(what, "getfd")) {
		long pidfd = syscall(SYS_pidfd_open, pid, 0);
		ret = pidfd < 0 ? pidfd : syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	} else if (!strcmp(what, "tiocsti")) {
		char c = '\n';
		ret = ioctl(0, TIOCSTI, &c);
#if defined(__x86_64__)
	} else if (!strcmp(what, "i386-tiocsti")) {
		ret = i386_tiocsti();
#endif
	} else if (!strcmp(what, "tiocgwinsz")) {
		struct winsize ws;
		ret = ioctl(0, TIOCGWINSZ, &ws);
	} else {
		fprintf(stderr, "usage: outside_probe ptrace|mem|vm|getfd PID | tiocsti | i386-tiocsti | tiocgwinsz\n");
		return 2;
	}
	answer(what, ret);
	return 0;
}
