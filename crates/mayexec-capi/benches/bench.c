/* What libmayexec costs an interpreter, against the plain calls it wraps,
 * in the same run: `bash crates/mayexec-capi/benches/bench.sh`.
 *
 *   bench FILE   (FILE: a script on an exec mount, mode 0755) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <mayexec.h>

#define ITERATIONS 20000
#define ROUNDS 7

static const char *file;
static int fd;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over ROUNDS of the mean time of one call. */
static void measure(const char *name, int (*op)(void))
{
	double rounds[ROUNDS];
	int r, i;

	for (r = 0; r < ROUNDS; r++) {
		double start = now_ns();

		for (i = 0; i < ITERATIONS; i++)
			if (op() < 0) {
				fprintf(stderr, "%s failed\n", name);
				exit(1);
			}
		rounds[r] = (now_ns() - start) / ITERATIONS;
	}
	qsort(rounds, ROUNDS, sizeof(double), cmp);
	printf("%-52s %9.0f ns\n", name, rounds[ROUNDS / 2]);
}

static int plain_open(void)
{
	int f = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	return f < 0 ? -1 : close(f);
}

static int open_script(void)
{
	int f = mayexec_open_script(file, O_CLOEXEC);

	return f < 0 ? -1 : close(f);
}

static int plain_fstat(void)
{
	struct stat st;

	return fstat(fd, &st);
}

static int check_fd(void)
{
	struct mayexec_verdict v;

	return mayexec_check_fd(fd, &v, sizeof(v));
}

static int plain_faccessat2(void)
{
	return syscall(SYS_faccessat2, AT_FDCWD, file, X_OK, 0);
}

static int interpreted(void)
{
	return mayexec_faccessat2(AT_FDCWD, file, X_OK, MAYEXEC_AT_INTERPRETED);
}

static int interactive(void)
{
	return mayexec_check_interactive(-1);
}

static int enforcement(void)
{
	struct mayexec_enforcement e;

	return mayexec_enforcement(&e, sizeof(e));
}

int main(int argc, char **argv)
{
	struct mayexec_enforcement e;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	file = argv[1];
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || mayexec_enforcement(&e, sizeof(e)) != 0) {
		fprintf(stderr, "setup: %s\n", mayexec_last_error());
		return 1;
	}
	printf("# enforcement: restrict_file=%d deny_interactive=%d audit_only=%d level=%d\n",
	       e.restrict_file, e.deny_interactive, e.audit_only, e.level);
	measure("open + close (baseline)", plain_open);
	measure("mayexec_open_script + close", open_script);
	measure("fstat (baseline)", plain_fstat);
	measure("mayexec_check_fd", check_fd);
	measure("faccessat2 X_OK (baseline)", plain_faccessat2);
	measure("mayexec_faccessat2 X_OK|AT_INTERPRETED", interpreted);
	measure("mayexec_check_interactive(-1)", interactive);
	measure("mayexec_enforcement", enforcement);
	return 0;
}
