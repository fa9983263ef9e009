#!/bin/sh
# What the enlightened Wine costs next to Debian's Wine and to the stock
# rebuild of the same ntdll.so: starts of a console hello.exe (driven by a
# loop in /bin/sh), and LoadLibrary + FreeLibrary of DLLs inside one
# program (each load maps and checks a file of its own).
#
#   integrations/wine/bench.sh [ROUNDS] [REPEATS]
#
# ROUNDS defaults to 100 (starts; the DLL loads are 20 times as many).
# The programs are built with Debian's MinGW-w64; they run in a prefix kept
# in target/wine-build/bench (made once by Debian's Wine), with a
# wineserver and a client kept alive for the whole bench, as on a desktop.
# The builds, the options and the output: scripts/lib/bench.sh.

set -eu

rounds=100
. "$(dirname "$0")/../../scripts/lib/bench.sh"

debian=/usr/lib/wine/wine64
WINEPREFIX=$root/target/wine-build/bench/prefix
WINEDEBUG=-all
export WINEPREFIX WINEDEBUG
if [ ! -f "$WINEPREFIX/.complete" ]; then
	rm -rf "$WINEPREFIX"
	mkdir -p "$WINEPREFIX"
	"$debian" wineboot --init </dev/null >/dev/null 2>&1
	/usr/lib/wine/wineserver64 -w
	: >"$WINEPREFIX/.complete"
fi
/usr/lib/wine/wineserver64 -p10 </dev/null >/dev/null 2>&1 &
# A client for the whole bench (see integrations/wine/src/lib.rs): it
# reads a FIFO that nobody writes to until the bench ends.
mkfifo "$dir/keep"
"$debian" cmd <"$dir/keep" >/dev/null 2>&1 &
exec 9>"$dir/keep"

cat >"$dir/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { printf("hello\n"); return 0; }
EOF
cat >"$dir/answer.c" <<'EOF'
__declspec(dllexport) int answer(void) { return 42; }
EOF
# loadmany N DIR: N times LoadLibrary + FreeLibrary of DIR\dllK.dll, K
# from 0 to 19 in turn.
cat >"$dir/loadmany.c" <<'EOF'
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    char path[MAX_PATH];
    int i, n = atoi(argv[1]);
    HMODULE m;

    for (i = 0; i < n; i++)
    {
        snprintf(path, sizeof(path), "%s\\dll%d.dll", argv[2], i % 20);
        if (!(m = LoadLibraryA(path))) { printf("%s: %lu\n", path, GetLastError()); return 1; }
        FreeLibrary(m);
    }
    return 0;
}
EOF
x86_64-w64-mingw32-gcc -O2 -o "$dir/hello.exe" "$dir/hello.c"
x86_64-w64-mingw32-gcc -O2 -o "$dir/loadmany.exe" "$dir/loadmany.c"
x86_64-w64-mingw32-gcc -O2 -shared -o "$dir/answer.dll" "$dir/answer.c"
mkdir "$dir/dlls"
k=0
while [ "$k" -lt 20 ]; do
	cp "$dir/answer.dll" "$dir/dlls/dll$k.dll"
	k=$((k + 1))
done
chmod -R a+rX,a+x "$dir"
dlls="Z:$(printf '%s' "$dir/dlls" | tr / '\\')"

loop='i=0; while [ $i -lt $n ]; do "$wine" "$@" >/dev/null || exit 1; i=$((i + 1)); done'
loads=$((rounds * 20))
for who in debian stock ours; do
	case $who in
	debian) wine=$debian what="Debian's wine" ;;
	stock) wine=$stock what="stock rebuild" ;;
	ours) wine=$ours what="enlightened, no policy" ;;
	esac
	bench_case "hello.exe start: $what" /bin/sh -c "n=$rounds wine=$wine; $loop" loop "$dir/hello.exe"
done
# Under `mayexec run -f` the stock rebuild checks nothing but pays for the
# seccomp filter on every system call: the difference is the checks'.
for who in stock ours; do
	eval "wine=\$$who"
	bench_case "hello.exe start: $who, mayexec run -f" \
		"$mayexec" run -f -- /bin/sh -c "n=$rounds wine=$wine; $loop" loop "$dir/hello.exe"
done
for who in stock ours; do
	case $who in
	stock) wine=$stock what="stock rebuild" ;;
	ours) wine=$ours what="enlightened, no policy" ;;
	esac
	bench_case "DLL load (x20, in one program): $what" "$wine" "$dir/loadmany.exe" "$loads" "$dlls"
done
for who in stock ours; do
	eval "wine=\$$who"
	bench_case "DLL load (x20, in one program): $who, mayexec run -f" \
		"$mayexec" run -f -- "$wine" "$dir/loadmany.exe" "$loads" "$dlls"
done
bench_run
