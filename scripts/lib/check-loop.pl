# perl check-loop.pl N FILE: the kernel's check alone, for the benches
# (scripts/lib/bench.sh, crates/mayexec-python/bench/bench.sh): N times
# execveat(fd, "", argv, envp, AT_EMPTY_PATH | AT_EXECVE_CHECK) on FILE
# open for reading, as libmayexec makes it. Each check must pass. No
# module is loaded: the perl's own start is part of what a bench of few
# rounds divides. The system call's number is x86_64's (the callers check
# the machine).
my ($n, $file) = @ARGV;
defined $file or die "usage: perl check-loop.pl N FILE\n";
open(my $fh, '<', $file) or die "$file: $!\n";
my ($argv0, $empty) = ("mayexec-check\0", "\0");
my ($argv, $envp) = (pack('p Q', $argv0, 0), pack('Q', 0));
for (1 .. $n) {
	syscall(322, fileno($fh), $empty, $argv, $envp, 0x11000) == 0
		or die "$file: execveat(AT_EXECVE_CHECK): $!\n";
}
