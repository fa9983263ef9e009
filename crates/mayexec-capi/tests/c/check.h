/* A tiny self-checking harness for the libmayexec C tests: each CHECK_*
 * prints "ok" or "FAIL" with what it saw, and check_summary() prints
 * "N passed, N failed" and returns the exit status. */
#ifndef MAYEXEC_TEST_CHECK_H
#define MAYEXEC_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

__attribute__((unused)) static void check_report(int ok, const char *what, const char *detail)
{
	if (ok)
		check_passed++;
	else
		check_failed++;
	printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail[0] ? ": " : "", detail);
}

/* What errno holds before each call: a successful call must leave it. */
#define CHECK_ERRNO_SENTINEL 4242

/* `ret` must be 0 with errno untouched (or, with want_errno != 0, -1 with
 * errno want_errno). */
__attribute__((unused)) static void check_result(const char *what, int ret, int saved_errno, int want_errno)
{
	char detail[256] = "";
	int ok = want_errno ? (ret == -1 && saved_errno == want_errno) :
			      (ret == 0 && saved_errno == CHECK_ERRNO_SENTINEL);

	if (!ok && want_errno)
		snprintf(detail, sizeof(detail), "got %d (%s), want %s", ret,
			 ret == -1 ? strerror(saved_errno) : "no error", strerror(want_errno));
	else if (!ok)
		snprintf(detail, sizeof(detail), "got %d, errno %d (%s), want 0, errno left at %d",
			 ret, saved_errno, strerror(saved_errno), CHECK_ERRNO_SENTINEL);
	check_report(ok, what, detail);
}

/* A successful call that returns something other than 0 (a descriptor, a
 * string) must leave errno alone too. */
__attribute__((unused)) static void check_errno_kept(const char *what, int saved_errno)
{
	char detail[128] = "";
	int ok = saved_errno == CHECK_ERRNO_SENTINEL;

	if (!ok)
		snprintf(detail, sizeof(detail), "errno %d (%s), want it left at %d", saved_errno,
			 strerror(saved_errno), CHECK_ERRNO_SENTINEL);
	check_report(ok, what, detail);
}

#define CHECK_RESULT(what, call, want_errno)                          \
	do {                                                          \
		int check_ret_;                                       \
		errno = CHECK_ERRNO_SENTINEL;                         \
		check_ret_ = (call);                                  \
		check_result((what), check_ret_, errno, (want_errno)); \
	} while (0)

__attribute__((unused)) static void check_true(const char *what, int ok)
{
	check_report(ok, what, "");
}

__attribute__((unused)) static void check_str(const char *what, const char *got, const char *want)
{
	char detail[512] = "";
	int ok = got && strcmp(got, want) == 0;

	if (!ok)
		snprintf(detail, sizeof(detail), "got \"%s\", want \"%s\"", got ? got : "(null)", want);
	check_report(ok, what, detail);
}

__attribute__((unused)) static int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
