#!/bin/sh
# What the enlightened Java costs next to Debian's Java and to the stock
# relink of the same image: starts of `java -version` and of a hello world
# (driven by a loop in /bin/sh), and of a program whose class path holds
# 200 jars, one class loaded from each (each jar is opened and checked
# once), without a policy and under `mayexec run -f`. Then the largest
# resident set of each hello world (the median of 20 runs).
#
#   integrations/java/bench.sh [ROUNDS] [REPEATS]
#
# ROUNDS defaults to 20 starts. The builds, the options and the output:
# scripts/lib/bench.sh.

set -eu

rounds=20
. "$(dirname "$0")/../../scripts/lib/bench.sh"

debian=/usr/lib/jvm/java-17-openjdk-amd64/bin/java

# Hello, and Many: C0.v() + … + C199.v(), each Ck in jars/ck.jar.
mkdir "$dir/classes" "$dir/many" "$dir/jars"
cat >"$dir/classes/Hello.java" <<'JAVA'
public class Hello {
    public static void main(String[] args) {
        System.out.println("hello");
    }
}
JAVA
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
calls = " + ".join(f"C{k}.v()" for k in range(200))
with open(f"{d}/many/Many.java", "w") as f:
    f.write("public class Many {\n    public static void main(String[] args) {\n"
            f"        System.out.println({calls});\n    }}\n}}\n")
for k in range(200):
    with open(f"{d}/many/C{k}.java", "w") as f:
        f.write(f"public class C{k} {{ public static int v() {{ return {k}; }} }}\n")
PY
"${debian%/java}/javac" -d "$dir/classes" "$dir/classes/Hello.java"
"${debian%/java}/javac" -d "$dir/many/out" "$dir/many"/*.java
python3 - "$dir" <<'PY'
import sys, zipfile
d = sys.argv[1]
for k in range(200):
    with zipfile.ZipFile(f"{d}/jars/c{k}.jar", "w") as z:
        z.write(f"{d}/many/out/C{k}.class", f"C{k}.class")
PY
cp "$dir/many/out/Many.class" "$dir/classes/"
chmod -R a+rX,a+x "$dir"
jars=$(for k in $(seq 0 199); do printf '%s:' "$dir/jars/c$k.jar"; done)
many="$dir/classes:${jars%:}"

loop='i=0; while [ $i -lt $n ]; do "$java" "$@" >/dev/null 2>&1 || exit 1; i=$((i + 1)); done'
for who in debian stock ours; do
	case $who in
	debian) java=$debian what="Debian's java" ;;
	stock) java=$stock what="stock relink" ;;
	ours) java=$ours what="enlightened, no policy" ;;
	esac
	bench_case "java -version: $what" /bin/sh -c "n=$rounds java=$java; $loop" loop -version
	bench_case "hello world: $what" /bin/sh -c "n=$rounds java=$java; $loop" loop -cp "$dir/classes" Hello
done
for who in stock ours; do
	case $who in
	stock) java=$stock what="stock relink" ;;
	ours) java=$ours what="enlightened" ;;
	esac
	bench_case "200 jars: $what, no policy" /bin/sh -c "n=$rounds java=$java; $loop" loop -cp "$many" Many
	bench_case "200 jars: $what, mayexec run -f" \
		"$mayexec" run -f -- /bin/sh -c "n=$rounds java=$java; $loop" loop -cp "$many" Many
done
bench_run

# rss JAVA [ARGS…]: the median of 20 runs' largest resident set, in KiB.
rss() {
	for _i in $(seq 20); do
		/usr/bin/time -f %M "$@" -cp "$dir/classes" Hello 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n 10p
}
echo "largest resident set, hello world (median of 20, KiB):"
echo "  Debian's java: $(rss "$debian")"
echo "  stock relink: $(rss "$stock")"
echo "  enlightened, no policy: $(rss "$ours")"
echo "  stock relink, mayexec run -f: $(rss "$mayexec" run -f -- "$stock")"
echo "  enlightened, mayexec run -f: $(rss "$mayexec" run -f -- "$ours")"
