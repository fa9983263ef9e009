/* The libmayexec errno and message contract, step by step.
 *
 *   contract STEP ARGS... [STEP ARGS...]...
 *
 * Steps (each checks its own expectations):
 *   basics DIR BACKEND          no policy: layout, names, EINVAL, ETXTBSY, fds,
 *                               struct sizes (older, newer, too small, too big)
 *   enforcement RF DI AUDIT LEVEL
 *                               mayexec_enforcement() gives these four values
 *   open PATH ok|REASON         mayexec_open_script() allows, or denies for REASON
 *   interactive -1|stdin ok|REASON
 *                               mayexec_check_interactive() on -c or on fd 0
 *   label LABEL ok|REASON       mayexec_check_interactive_label(-1, LABEL)
 *   check PATH ok|REASON        mayexec_check_fd() on PATH opened read-only
 *   script PATH ok|REASON       mayexec_check_script() on PATH opened read-only,
 *                               labelled "label:PATH"
 *   broken-policy               everything fails closed with EACCES, naming
 *                               /etc/mayexec.conf; plain faccessat2 still works */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mayexec.h>

#include "check.h"

/* The contract's numbers and layout, checked by the compiler. */
_Static_assert(MAYEXEC_AT_INTERPRETED == 0x400, "AT_INTERPRETED");
_Static_assert(MAYEXEC_REASON_NONE == 0 && MAYEXEC_REASON_NOEXEC_MOUNT == 1 &&
		       MAYEXEC_REASON_NOT_EXECUTABLE == 2 && MAYEXEC_REASON_NOT_REGULAR_FILE == 3 &&
		       MAYEXEC_REASON_SPECIAL_FILESYSTEM == 4 && MAYEXEC_REASON_UNREADABLE == 5 &&
		       MAYEXEC_REASON_WRITE_BUSY == 6 && MAYEXEC_REASON_KERNEL_POLICY == 7 &&
		       MAYEXEC_REASON_KERNEL_ERROR == 8 && MAYEXEC_REASON_INTERACTIVE == 9 &&
		       MAYEXEC_REASON_UNTRUSTED_CONTENT == 10 && MAYEXEC_REASON_TRUST_UNAVAILABLE == 11,
	       "reason numbers");
_Static_assert(MAYEXEC_BACKEND_KERNEL == 1 && MAYEXEC_BACKEND_EMULATED == 2, "backend numbers");
_Static_assert(offsetof(struct mayexec_verdict, allowed) == 0 &&
		       offsetof(struct mayexec_verdict, reason) == sizeof(int) &&
		       offsetof(struct mayexec_verdict, reason_name) >= 2 * sizeof(int) &&
		       offsetof(struct mayexec_verdict, backend) ==
			       offsetof(struct mayexec_verdict, reason_name) + sizeof(const char *) &&
		       offsetof(struct mayexec_verdict, error) ==
			       offsetof(struct mayexec_verdict, backend) + sizeof(int),
	       "struct mayexec_verdict layout");
_Static_assert(sizeof(struct mayexec_enforcement) == 4 * sizeof(int) &&
		       offsetof(struct mayexec_enforcement, deny_interactive) == sizeof(int) &&
		       offsetof(struct mayexec_enforcement, audit_only) == 2 * sizeof(int) &&
		       offsetof(struct mayexec_enforcement, level) == 3 * sizeof(int),
	       "struct mayexec_enforcement layout");

/* The caller-sized structs (docs/capi.md, "Caller-sized structs"). */
_Static_assert(MAYEXEC_VERDICT_SIZE_VER0 <= sizeof(struct mayexec_verdict) &&
		       MAYEXEC_ENFORCEMENT_SIZE_VER0 <= sizeof(struct mayexec_enforcement),
	       "a struct only grows");

/* struct mayexec_verdict as the first header declared it: a program built
 * against that header. */
struct verdict_ver0 {
	int allowed;
	enum mayexec_reason reason;
	const char *reason_name;
	enum mayexec_backend backend;
	int error;
};
_Static_assert(sizeof(struct verdict_ver0) == MAYEXEC_VERDICT_SIZE_VER0, "verdict VER0");

struct enforcement_ver0 {
	int restrict_file;
	int deny_interactive;
	int audit_only;
	int level;
};
_Static_assert(sizeof(struct enforcement_ver0) == MAYEXEC_ENFORCEMENT_SIZE_VER0,
	       "enforcement VER0");

static const char *const names[] = {
	"", "noexec-mount", "not-executable", "not-regular-file", "special-filesystem",
	"unreadable", "write-busy", "kernel-policy", "kernel-error", "interactive",
	"untrusted-content", "trust-unavailable",
};

static char what[4096];

#define WHAT(...) (snprintf(what, sizeof(what), __VA_ARGS__), what)

static void write_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, "+\n", 2) != 2 || fchmod(fd, mode) != 0)
		check_true(WHAT("create %s", path), 0);
	close(fd);
}

/* The verdict a denial left: reason REASON, errno of that reason. */
static void check_last_verdict(const char *label, const char *reason)
{
	struct mayexec_verdict v;
	int want_errno = strcmp(reason, "write-busy") == 0 ? ETXTBSY : EACCES;

	memset(&v, 0xff, sizeof(v));
	CHECK_RESULT(WHAT("%s: mayexec_last_verdict", label), mayexec_last_verdict(&v, sizeof(v)), 0);
	check_true(WHAT("%s: verdict denies", label), v.allowed == 0);
	check_str(WHAT("%s: verdict reason_name", label), v.reason_name, reason);
	check_str(WHAT("%s: reason number names it", label), mayexec_reason_name(v.reason), reason);
	check_true(WHAT("%s: verdict error %d", label, v.error), v.error == want_errno);
}

/* Bytes [from, to) of p all equal byte. */
static int all_bytes(const void *p, size_t from, size_t to, unsigned char byte)
{
	const unsigned char *bytes = p;
	size_t i;

	for (i = from; i < to; i++)
		if (bytes[i] != byte)
			return 0;
	return 1;
}

/*
 * The caller sizes the output structs: a program built against an older
 * header (a VER0 struct) gets exactly its fields and nothing written past
 * them; one built against a newer header than the library (a larger
 * struct) gets the fields the library knows and zeros in the rest; a size
 * below VER0 is EINVAL and a huge one E2BIG, with nothing written. `fd`
 * is an executable file that is allowed; a denial happened before, so
 * mayexec_last_verdict has a verdict to give.
 */
static void sizes(int fd, enum mayexec_backend want_backend)
{
	struct {
		struct verdict_ver0 v;
		unsigned char after[32];
	} old_v;
	struct {
		struct enforcement_ver0 e;
		unsigned char after[32];
	} old_e;
	struct {
		struct mayexec_verdict v;
		int appended_int;
		const char *appended_ptr;
		char appended_bytes[13];
	} new_v;
	struct {
		struct mayexec_enforcement e;
		long long appended[3];
	} new_e;
	struct mayexec_verdict last;
	char detail[256];

	/* An older caller. */
	memset(&old_v, 0xaa, sizeof(old_v));
	CHECK_RESULT("VER0-sized verdict: mayexec_check_fd",
		     mayexec_check_fd(fd, (struct mayexec_verdict *)&old_v.v, sizeof(old_v.v)), 0);
	check_true("... its fields are the verdict",
		   old_v.v.allowed == 1 && old_v.v.reason == MAYEXEC_REASON_NONE &&
			   old_v.v.error == 0 && old_v.v.backend == want_backend &&
			   old_v.v.reason_name && old_v.v.reason_name[0] == '\0');
	check_true("... nothing written past its size",
		   all_bytes(&old_v, sizeof(old_v.v), sizeof(old_v), 0xaa));

	memset(&old_e, 0xaa, sizeof(old_e));
	CHECK_RESULT("VER0-sized enforcement: mayexec_enforcement",
		     mayexec_enforcement((struct mayexec_enforcement *)&old_e.e, sizeof(old_e.e)), 0);
	check_true("... its fields are the enforcement",
		   old_e.e.restrict_file == 0 && old_e.e.deny_interactive == 0 &&
			   old_e.e.audit_only == 0 && old_e.e.level == 3);
	check_true("... nothing written past its size",
		   all_bytes(&old_e, sizeof(old_e.e), sizeof(old_e), 0xaa));

	memset(&old_v, 0xaa, sizeof(old_v));
	CHECK_RESULT("VER0-sized verdict: mayexec_last_verdict",
		     mayexec_last_verdict((struct mayexec_verdict *)&old_v.v, sizeof(old_v.v)), 0);
	check_true("... a denial", old_v.v.allowed == 0 && old_v.v.error != 0);
	check_true("... nothing written past its size",
		   all_bytes(&old_v, sizeof(old_v.v), sizeof(old_v), 0xaa));

	/* A caller built against a newer header than this library. */
	memset(&new_v, 0xaa, sizeof(new_v));
	CHECK_RESULT("larger verdict: mayexec_check_fd", mayexec_check_fd(fd, &new_v.v, sizeof(new_v)),
		     0);
	check_true("... the fields the library knows",
		   new_v.v.allowed == 1 && new_v.v.reason == MAYEXEC_REASON_NONE &&
			   new_v.v.error == 0 && new_v.v.backend == want_backend);
	snprintf(detail, sizeof(detail), "... bytes %zu..%zu zeroed",
		 sizeof(struct mayexec_verdict), sizeof(new_v));
	check_true(detail, all_bytes(&new_v, sizeof(struct mayexec_verdict), sizeof(new_v), 0) &&
				   new_v.appended_int == 0 && new_v.appended_ptr == NULL);

	memset(&new_v, 0xaa, sizeof(new_v));
	CHECK_RESULT("larger verdict: mayexec_last_verdict",
		     mayexec_last_verdict(&new_v.v, sizeof(new_v)), 0);
	check_true("... a denial", new_v.v.allowed == 0 && new_v.v.error != 0);
	check_true("... the rest zeroed",
		   all_bytes(&new_v, sizeof(struct mayexec_verdict), sizeof(new_v), 0));

	memset(&new_e, 0xaa, sizeof(new_e));
	CHECK_RESULT("larger enforcement: mayexec_enforcement",
		     mayexec_enforcement(&new_e.e, sizeof(new_e)), 0);
	check_true("... the fields the library knows",
		   new_e.e.restrict_file == 0 && new_e.e.level == 3);
	check_true("... the rest zeroed",
		   all_bytes(&new_e, sizeof(struct mayexec_enforcement), sizeof(new_e), 0));

	/* Smaller than any published struct: refused, nothing written. */
	memset(&new_v, 0xaa, sizeof(new_v));
	CHECK_RESULT("too small: mayexec_check_fd",
		     mayexec_check_fd(fd, &new_v.v, MAYEXEC_VERDICT_SIZE_VER0 - 1), EINVAL);
	check_true(WHAT("... says why: %s", mayexec_last_error()),
		   strstr(mayexec_last_error(), "MAYEXEC_VERDICT_SIZE_VER0") != NULL);
	check_true("... nothing written", all_bytes(&new_v, 0, sizeof(new_v), 0xaa));
	CHECK_RESULT("size 0: mayexec_check_fd", mayexec_check_fd(fd, &new_v.v, 0), EINVAL);
	CHECK_RESULT("too small: mayexec_last_verdict",
		     mayexec_last_verdict(&new_v.v, MAYEXEC_VERDICT_SIZE_VER0 - 1), EINVAL);
	check_true("... nothing written", all_bytes(&new_v, 0, sizeof(new_v), 0xaa));
	memset(&new_e, 0xaa, sizeof(new_e));
	CHECK_RESULT("too small: mayexec_enforcement",
		     mayexec_enforcement(&new_e.e, MAYEXEC_ENFORCEMENT_SIZE_VER0 - 1), EINVAL);
	check_true(WHAT("... says why: %s", mayexec_last_error()),
		   strstr(mayexec_last_error(), "MAYEXEC_ENFORCEMENT_SIZE_VER0") != NULL);
	check_true("... nothing written", all_bytes(&new_e, 0, sizeof(new_e), 0xaa));

	/* A size no struct has: refused before anything is written. */
	CHECK_RESULT("huge size: mayexec_check_fd", mayexec_check_fd(fd, &last, (size_t)-1), E2BIG);
	CHECK_RESULT("huge size: mayexec_enforcement",
		     mayexec_enforcement(&new_e.e, (size_t)1 << 20), E2BIG);
	CHECK_RESULT("huge size: mayexec_last_verdict", mayexec_last_verdict(&last, 4097), E2BIG);
	check_true("... nothing written", all_bytes(&new_e, 0, sizeof(new_e), 0xaa));

	/* With no struct, check_fd ignores the size. */
	CHECK_RESULT("mayexec_check_fd(fd, NULL, 1)", mayexec_check_fd(fd, NULL, 1), 0);
}

static void basics(const char *dir, const char *backend)
{
	enum mayexec_backend want_backend =
		strcmp(backend, "kernel") == 0 ? MAYEXEC_BACKEND_KERNEL : MAYEXEC_BACKEND_EMULATED;
	struct mayexec_enforcement e;
	struct mayexec_verdict v;
	char ok_path[4096], busy_path[4096], fifo_path[4096], missing[4096], message[8192];
	int i, fd, busy_writer, pipe_fds[2];

	for (i = 0; i <= 11; i++) {
		errno = CHECK_ERRNO_SENTINEL;
		check_str(WHAT("mayexec_reason_name(%d)", i), mayexec_reason_name(i), names[i]);
		check_errno_kept(WHAT("mayexec_reason_name(%d) leaves errno", i), errno);
	}
	check_true("mayexec_reason_name(12) is NULL", mayexec_reason_name(12) == NULL);
	check_true("mayexec_reason_name(-1) is NULL", mayexec_reason_name(-1) == NULL);

	errno = CHECK_ERRNO_SENTINEL;
	check_str("no error yet", mayexec_last_error(), "");
	check_errno_kept("mayexec_last_error leaves errno", errno);
	CHECK_RESULT("no denial yet: mayexec_last_verdict", mayexec_last_verdict(&v, sizeof(v)), ENOENT);
	CHECK_RESULT("mayexec_last_verdict(NULL)",
		     mayexec_last_verdict(NULL, sizeof(struct mayexec_verdict)), EINVAL);

	CHECK_RESULT("mayexec_enforcement(NULL)",
		     mayexec_enforcement(NULL, sizeof(struct mayexec_enforcement)), EINVAL);
	check_str("its message", mayexec_last_error(), "mayexec_enforcement: out is NULL");
	CHECK_RESULT("mayexec_enforcement", mayexec_enforcement(&e, sizeof(e)), 0);
	check_true("no policy: nothing enforced, checked at level 3",
		   e.restrict_file == 0 && e.deny_interactive == 0 && e.audit_only == 0 && e.level == 3);
	check_str("success leaves the last message", mayexec_last_error(),
		  "mayexec_enforcement: out is NULL");

	/* mayexec_check_fd */
	CHECK_RESULT("mayexec_check_fd(-1)", mayexec_check_fd(-1, &v, sizeof(v)), EINVAL);
	check_true("... fills a denial with EINVAL", v.allowed == 0 && v.error == EINVAL &&
							     v.reason == MAYEXEC_REASON_NONE);
	CHECK_RESULT("mayexec_check_fd(closed fd)", mayexec_check_fd(1000, &v, sizeof(v)), EBADF);
	check_true("... is a kernel-error denial",
		   v.allowed == 0 && v.reason == MAYEXEC_REASON_KERNEL_ERROR && v.error == EBADF);

	snprintf(ok_path, sizeof(ok_path), "%s/ok.sh", dir);
	write_file(ok_path, 0755);
	fd = open(ok_path, O_RDONLY | O_CLOEXEC);
	CHECK_RESULT("mayexec_check_fd(executable file)", mayexec_check_fd(fd, &v, sizeof(v)), 0);
	check_true("... allowed, no reason, no error",
		   v.allowed == 1 && v.reason == MAYEXEC_REASON_NONE && v.error == 0);
	check_str("... reason_name", v.reason_name, "");
	check_true(WHAT("... backend %s", backend), v.backend == want_backend);
	CHECK_RESULT("mayexec_check_fd(fd, NULL)", mayexec_check_fd(fd, NULL, 0), 0);
	close(fd);

	if (pipe(pipe_fds) == 0) {
		CHECK_RESULT("mayexec_check_fd(pipe)", mayexec_check_fd(pipe_fds[0], &v, sizeof(v)), EACCES);
		check_str("... not-regular-file", v.reason_name, "not-regular-file");
		CHECK_RESULT("mayexec_check_interactive(pipe), nothing enforced",
			     mayexec_check_interactive(pipe_fds[0]), 0);
		close(pipe_fds[0]);
		close(pipe_fds[1]);
	}

	/* A file open for writing is write-busy for the kernel check. */
	snprintf(busy_path, sizeof(busy_path), "%s/busy.sh", dir);
	write_file(busy_path, 0755);
	busy_writer = open(busy_path, O_WRONLY | O_CLOEXEC);
	fd = open(busy_path, O_RDONLY | O_CLOEXEC);
	if (want_backend == MAYEXEC_BACKEND_KERNEL) {
		CHECK_RESULT("mayexec_check_fd(file open for writing)", mayexec_check_fd(fd, &v, sizeof(v)),
			     ETXTBSY);
		check_true("... write-busy, ETXTBSY",
			   v.reason == MAYEXEC_REASON_WRITE_BUSY && v.error == ETXTBSY);
		check_str("... reason_name", v.reason_name, "write-busy");
	}
	close(fd);
	close(busy_writer);

	/* mayexec_check_script */
	CHECK_RESULT("mayexec_check_script(-1)", mayexec_check_script(-1, "x"), EINVAL);
	fd = open(ok_path, O_RDONLY | O_CLOEXEC);
	CHECK_RESULT("mayexec_check_script(NULL label)", mayexec_check_script(fd, NULL), EINVAL);
	CHECK_RESULT("mayexec_check_script, no policy", mayexec_check_script(fd, "x"), 0);
	close(fd);

	/* mayexec_open_script */
	CHECK_RESULT("mayexec_open_script(NULL)", mayexec_open_script(NULL, 0), EINVAL);
	CHECK_RESULT("mayexec_open_script(O_RDWR)", mayexec_open_script(ok_path, O_RDWR), EINVAL);
	CHECK_RESULT("mayexec_open_script(O_NONBLOCK)", mayexec_open_script(ok_path, O_NONBLOCK),
		     EINVAL);
	snprintf(missing, sizeof(missing), "%s/missing.sh", dir);
	CHECK_RESULT("mayexec_open_script(missing)", mayexec_open_script(missing, 0), ENOENT);
	snprintf(message, sizeof(message), "%s: No such file or directory", missing);
	check_str("... its message", mayexec_last_error(), message);
	CHECK_RESULT("mayexec_open_script(\"\")", mayexec_open_script("", 0), ENOENT);
	check_str("... its message names it", mayexec_last_error(),
		  "(empty path): No such file or directory");

	errno = CHECK_ERRNO_SENTINEL;
	fd = mayexec_open_script(ok_path, 0);
	check_true("mayexec_open_script(flags 0) opens", fd >= 0);
	check_errno_kept("... and leaves errno", errno);
	if (fd >= 0) {
		char buf[8] = "";

		check_true("... not close-on-exec", (fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);
		check_true("... read-only, blocking",
			   (fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDONLY);
		check_true("... the script's text", read(fd, buf, sizeof(buf)) == 2 &&
							     memcmp(buf, "+\n", 2) == 0);
		close(fd);
	}
	errno = CHECK_ERRNO_SENTINEL;
	fd = mayexec_open_script(ok_path, O_CLOEXEC);
	check_errno_kept("mayexec_open_script(O_CLOEXEC) leaves errno", errno);
	check_true("mayexec_open_script(O_CLOEXEC) is close-on-exec",
		   fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);

	snprintf(fifo_path, sizeof(fifo_path), "%s/fifo", dir);
	if (mkfifo(fifo_path, 0644) == 0) {
		/* Nothing enforced: the FIFO will be interpreted, so the call waits
		 * for its writer as open(2) does, and reads what it wrote (not an
		 * early end of file). */
		pid_t writer = fork();
		if (writer == 0) {
			int w;
			usleep(200 * 1000);
			w = open(fifo_path, O_WRONLY);
			_exit(w >= 0 && write(w, "+\n", 2) == 2 ? 0 : 1);
		}
		char text[8] = { 0 };
		int status = -1;
		errno = CHECK_ERRNO_SENTINEL;
		fd = mayexec_open_script(fifo_path, O_CLOEXEC);
		check_true("mayexec_open_script(FIFO), nothing enforced, opens", fd >= 0);
		check_errno_kept("… and leaves errno", errno);
		check_true("… and reads what the writer wrote",
			   fd >= 0 && read(fd, text, sizeof(text) - 1) == 2 && strcmp(text, "+\n") == 0);
		check_true("… from a writer that was waited for",
			   waitpid(writer, &status, 0) == writer && WIFEXITED(status) &&
				   WEXITSTATUS(status) == 0);
		close(fd);
	}

	CHECK_RESULT("mayexec_check_interactive(-2)", mayexec_check_interactive(-2), EINVAL);
	CHECK_RESULT("mayexec_check_interactive(-1), nothing enforced", mayexec_check_interactive(-1),
		     0);
	CHECK_RESULT("mayexec_check_interactive_label(-1, NULL)",
		     mayexec_check_interactive_label(-1, NULL), EINVAL);
	CHECK_RESULT("mayexec_check_interactive_label(-2, \"PS4\")",
		     mayexec_check_interactive_label(-2, "PS4"), EINVAL);
	CHECK_RESULT("mayexec_check_interactive_label(-1, \"PS4\"), nothing enforced",
		     mayexec_check_interactive_label(-1, "PS4"), 0);
	CHECK_RESULT("mayexec_faccessat2(NULL)", mayexec_faccessat2(AT_FDCWD, NULL, X_OK, 0), EINVAL);
	check_true("mayexec_last_error is never NULL", mayexec_last_error() != NULL);
	/* mayexec_check_fd denials leave their verdict too: the last was write-busy. */
	check_last_verdict("last check_fd denial", want_backend == MAYEXEC_BACKEND_KERNEL ?
								   "write-busy" :
								   "not-regular-file");

	fd = open(ok_path, O_RDONLY | O_CLOEXEC);
	sizes(fd, want_backend);
	close(fd);
}

static void enforcement(char **argv)
{
	struct mayexec_enforcement e;

	CHECK_RESULT("mayexec_enforcement", mayexec_enforcement(&e, sizeof(e)), 0);
	check_true(WHAT("enforcement {%d, %d, %d, %d}, want {%s, %s, %s, %s}", e.restrict_file,
			e.deny_interactive, e.audit_only, e.level, argv[0], argv[1], argv[2], argv[3]),
		   e.restrict_file == atoi(argv[0]) && e.deny_interactive == atoi(argv[1]) &&
			   e.audit_only == atoi(argv[2]) && e.level == atoi(argv[3]));
}

static void open_script(const char *path, const char *want)
{
	int fd, saved;
	char message[8192];

	errno = CHECK_ERRNO_SENTINEL;
	fd = mayexec_open_script(path, O_CLOEXEC);
	saved = errno;
	if (strcmp(want, "ok") == 0) {
		check_true(WHAT("open %s: allowed (%s)", path, fd < 0 ? mayexec_last_error() : "fd"),
			   fd >= 0);
		check_errno_kept(WHAT("open %s: errno left alone", path), saved);
		close(fd);
		return;
	}
	check_result(WHAT("open %s: denied", path), fd, saved,
		     strcmp(want, "write-busy") == 0 ? ETXTBSY : EACCES);
	snprintf(message, sizeof(message), "%s: script execution denied (%s)", path, want);
	check_str(WHAT("open %s: message", path), mayexec_last_error(), message);
	check_last_verdict(path, want);
}

static void interactive(const char *input, const char *want)
{
	int from_c = strcmp(input, "-1") == 0;
	int ret, saved;
	const char *label = from_c ? "-c" : "<stdin>";
	char message[256];

	errno = CHECK_ERRNO_SENTINEL;
	ret = mayexec_check_interactive(from_c ? -1 : 0);
	saved = errno;
	if (strcmp(want, "ok") == 0) {
		check_result(WHAT("interactive %s: allowed", label), ret, saved, 0);
		return;
	}
	check_result(WHAT("interactive %s: denied", label), ret, saved, EACCES);
	snprintf(message, sizeof(message), "%s: script execution denied (%s)", label, want);
	check_str(WHAT("interactive %s: message", label), mayexec_last_error(), message);
	check_last_verdict(label, want);
}

static void label(const char *name, const char *want)
{
	char message[256];

	CHECK_RESULT(WHAT("label %s", name), mayexec_check_interactive_label(-1, name),
		     strcmp(want, "ok") == 0 ? 0 : EACCES);
	if (strcmp(want, "ok") == 0)
		return;
	snprintf(message, sizeof(message), "%s: script execution denied (%s)", name, want);
	check_str(WHAT("label %s: message", name), mayexec_last_error(), message);
	check_last_verdict(name, want);
}

static void check(const char *path, const char *want)
{
	struct mayexec_verdict v;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int ok = strcmp(want, "ok") == 0;

	CHECK_RESULT(WHAT("check %s", path), mayexec_check_fd(fd, &v, sizeof(v)),
		     ok ? 0 : strcmp(want, "write-busy") == 0 ? ETXTBSY : EACCES);
	check_str(WHAT("check %s: reason", path), v.reason_name, ok ? "" : want);
	close(fd);
}

static void check_script(const char *path, const char *want)
{
	char label[4096], message[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int rc, saved;

	snprintf(label, sizeof(label), "label:%s", path);
	errno = CHECK_ERRNO_SENTINEL;
	rc = mayexec_check_script(fd, label);
	saved = errno;
	if (strcmp(want, "ok") == 0) {
		check_true(WHAT("script %s: allowed (%s)", path, rc < 0 ? mayexec_last_error() : "0"),
			   rc == 0);
		check_errno_kept(WHAT("script %s: errno left alone", path), saved);
	} else {
		check_result(WHAT("script %s: denied", path), rc, saved,
			     strcmp(want, "write-busy") == 0 ? ETXTBSY : EACCES);
		snprintf(message, sizeof(message), "%s: script execution denied (%s)", label, want);
		check_str(WHAT("script %s: message", path), mayexec_last_error(), message);
		check_last_verdict(label, want);
	}
	close(fd);
}

static void broken_policy(void)
{
	struct mayexec_enforcement e;
	struct mayexec_verdict v;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	CHECK_RESULT("broken policy: mayexec_enforcement", mayexec_enforcement(&e, sizeof(e)), EACCES);
	check_true(WHAT("... names the file: %s", mayexec_last_error()),
		   strstr(mayexec_last_error(), "/etc/mayexec.conf") != NULL);
	CHECK_RESULT("broken policy: mayexec_open_script", mayexec_open_script("/proc/self/exe", 0),
		     EACCES);
	check_true("... names the file", strstr(mayexec_last_error(), "/etc/mayexec.conf") != NULL);
	CHECK_RESULT("broken policy: mayexec_check_script", mayexec_check_script(fd, "exe"), EACCES);
	check_true("... names the file", strstr(mayexec_last_error(), "/etc/mayexec.conf") != NULL);
	CHECK_RESULT("broken policy: mayexec_check_interactive(-1)", mayexec_check_interactive(-1),
		     EACCES);
	CHECK_RESULT("broken policy: mayexec_check_interactive_label",
		     mayexec_check_interactive_label(-1, "PS4"), EACCES);
	CHECK_RESULT("broken policy: mayexec_check_fd", mayexec_check_fd(fd, &v, sizeof(v)), EACCES);
	check_true("... fills a denial", v.allowed == 0 && v.error == EACCES);
	CHECK_RESULT("broken policy: AT_INTERPRETED",
		     mayexec_faccessat2(AT_FDCWD, "/proc/self/exe", X_OK, MAYEXEC_AT_INTERPRETED),
		     EACCES);
	CHECK_RESULT("broken policy: plain faccessat2 still works",
		     mayexec_faccessat2(AT_FDCWD, "/", R_OK, 0), 0);
	close(fd);
}

/*
 * A policy file that cannot be read for a passing reason (no descriptor
 * left) fails the call, and the next call, once descriptors are free
 * again, reads the file: the failure is not remembered.
 */
static void transient_policy_error(const char *level)
{
	struct mayexec_enforcement e;
	struct rlimit saved, none_left;
	int lowest = dup(0);

	close(lowest);
	getrlimit(RLIMIT_NOFILE, &saved);
	none_left = saved;
	none_left.rlim_cur = (rlim_t)lowest;
	setrlimit(RLIMIT_NOFILE, &none_left);
	CHECK_RESULT("no descriptor left: mayexec_enforcement", mayexec_enforcement(&e, sizeof(e)),
		     EACCES);
	check_true(WHAT("... says why: %s", mayexec_last_error()),
		   strstr(mayexec_last_error(), "/etc/mayexec.conf") != NULL);
	setrlimit(RLIMIT_NOFILE, &saved);
	CHECK_RESULT("descriptors free again: mayexec_enforcement", mayexec_enforcement(&e, sizeof(e)), 0);
	check_true(WHAT("... the policy's level %d, want %s", e.level, level),
		   e.level == atoi(level));
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc) {
		const char *step = argv[i];
		int left = argc - i - 1;

		if (strcmp(step, "basics") == 0 && left >= 2) {
			basics(argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (strcmp(step, "enforcement") == 0 && left >= 4) {
			enforcement(&argv[i + 1]);
			i += 5;
		} else if (strcmp(step, "open") == 0 && left >= 2) {
			open_script(argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (strcmp(step, "interactive") == 0 && left >= 2) {
			interactive(argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (strcmp(step, "label") == 0 && left >= 2) {
			label(argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (strcmp(step, "script") == 0 && left >= 2) {
			check_script(argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (strcmp(step, "check") == 0 && left >= 2) {
			check(argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (strcmp(step, "transient-policy-error") == 0 && left >= 1) {
			transient_policy_error(argv[i + 1]);
			i += 2;
		} else if (strcmp(step, "broken-policy") == 0) {
			broken_policy();
			i += 1;
		} else {
			fprintf(stderr, "contract: bad step at \"%s\"\n", step);
			return 2;
		}
	}
	return check_summary();
}
