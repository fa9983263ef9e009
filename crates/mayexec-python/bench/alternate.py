"""Times commands side by side, alternating them run by run.

    python3 alternate.py --runs N --warmup W --out PREFIX 'NAME=COMMAND ...' ...

hyperfine runs all of one command's runs before the next command's: on a
machine shared with other work, a change of load between the two blocks
shows up as a difference between the commands. For differences of a few
per cent, this runner alternates them instead (A B C, C B A, A B C …), so
every command sees the same load on average, and records for each run the
wall time and the CPU time the command used (user + system, from wait4,
which a loaded machine disturbs less). COMMAND is split on white space, as
`hyperfine -N` splits it; its standard output goes to /dev/null, and a run
that fails stops the bench.

Writes PREFIX.json (hyperfine's shape: results with command, mean, stddev,
median, min, max, in seconds; plus cpu_median and cpu_min) and PREFIX.md.
"""

import argparse
import json
import os
import statistics
import sys
import time


def run(argv):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"alternate.py: {' '.join(argv)}: exit status {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--out", required=True)
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()
    commands = []
    for spec in args.commands:
        name, _, command = spec.partition("=")
        commands.append((name, command.split()))
    for _ in range(args.warmup):
        for _, argv in commands:
            run(argv)
    walls = {name: [] for name, _ in commands}
    cpus = {name: [] for name, _ in commands}
    for i in range(args.runs):
        order = commands if i % 2 == 0 else commands[::-1]
        for name, argv in order:
            wall, cpu = run(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    results = []
    for name, _ in commands:
        w, c = walls[name], cpus[name]
        results.append({
            "command": name,
            "mean": statistics.mean(w),
            "stddev": statistics.stdev(w) if len(w) > 1 else 0.0,
            "median": statistics.median(w),
            "min": min(w),
            "max": max(w),
            "cpu_median": statistics.median(c),
            "cpu_min": min(c),
            "times": w,
            "cpu_times": c,
        })
    with open(args.out + ".json", "w") as f:
        json.dump({"results": results}, f, indent=1)
    base = results[0]
    lines = [
        f"Alternated, {args.runs} runs each after {args.warmup} warm-ups; load average at the end "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()) + ".",
        "",
        "| Command | wall median [ms] | wall min [ms] | CPU median [ms] | CPU min [ms] "
        "| wall median / first | wall min / first | CPU median / first | CPU min / first |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r['command']}` | {r['median'] * 1e3:.1f} | {r['min'] * 1e3:.1f} "
            f"| {r['cpu_median'] * 1e3:.1f} | {r['cpu_min'] * 1e3:.1f} "
            f"| {r['median'] / base['median']:.3f} | {r['min'] / base['min']:.3f} "
            f"| {r['cpu_median'] / base['cpu_median']:.3f} | {r['cpu_min'] / base['cpu_min']:.3f} |"
        )
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    main()
