#!/usr/bin/python3
"""Where each thread of a command spends its wall time (README.md, branch imp).

    bench/interop/threads.py [--hz N] -- COMMAND [ARGS...]

Runs COMMAND and samples /proc/PID/task/*/{stat,syscall} N times a second
(default 200): each thread's state (running or runnable, disk wait, asleep)
and, when it is in a system call, which one. At the end, per thread (the
main thread first, then by CPU time): its CPU time (user + sys, from its
last sample), its samples by state, and its blocked samples by system call
(fsync, fdatasync, pread64, pwrite64, futex: waiting for another thread),
and how long it was runnable but waited for a CPU (schedstat).
An off-CPU profile of the command, next to `perf record`'s on-CPU one.
"""
import collections
import os
import subprocess
import sys
import time

SYSCALLS = {0: "read", 1: "write", 3: "close", 7: "poll", 17: "pread64", 18: "pwrite64",
            23: "select", 35: "nanosleep", 61: "wait4", 74: "fsync", 75: "fdatasync",
            202: "futex", 230: "clock_nanosleep", 232: "epoll_wait", 257: "openat", 262: "newfstatat"}


def main():
    args = sys.argv[1:]
    hz = 200.0
    if args[:1] == ["--hz"]:
        hz = float(args[1])
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    tick = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    p = subprocess.Popen(args)
    states = collections.defaultdict(collections.Counter)
    calls = collections.defaultdict(collections.Counter)
    cpu = {}
    waited = {}  # seconds runnable but waiting for a CPU (schedstat)
    names = {}
    n = 0
    while True:
        try:
            if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                break
        except ChildProcessError:
            break
        try:
            tids = os.listdir("/proc/%d/task" % p.pid)
        except OSError:
            break
        for tid in tids:
            base = "/proc/%d/task/%s/" % (p.pid, tid)
            try:
                with open(base + "stat") as f:
                    st = f.read()
                with open(base + "syscall") as f:
                    sc = f.read().split()
                with open(base + "schedstat") as f:
                    sched = f.read().split()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            rest = st[st.rindex(")") + 2:].split()
            state = rest[0]
            key = int(tid)
            names[key] = comm
            cpu[key] = (int(rest[11]) / tick, int(rest[12]) / tick)
            waited[key] = int(sched[1]) / 1e9 if len(sched) > 1 else 0.0
            states[key][state] += 1
            if state != "R" and sc and sc[0] not in ("running", "-1"):
                nr = int(sc[0])
                calls[key][SYSCALLS.get(nr, "syscall %d" % nr)] += 1
        n += 1
        time.sleep(1.0 / hz)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    print("threads.py: %.1f s wall, %.2f s CPU (%.2f user + %.2f sys), %d MB peak RSS,"
          " %d samples (%.0f/s), exit %d, load %s"
          % (wall, ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime, ru.ru_maxrss // 1024, n,
             n / wall, rc, " ".join("%.1f" % x for x in os.getloadavg())),
          file=sys.stderr)
    order = sorted(cpu, key=lambda k: (k != p.pid, -(cpu[k][0] + cpu[k][1])))
    other = [0.0, 0.0, 0]
    for k in order:
        u, s = cpu[k]
        if k != p.pid and u + s < 0.5:
            other[0] += u
            other[1] += s
            other[2] += 1
            continue
        tot = sum(states[k].values())
        st = ", ".join("%s %.0f%%" % (x, 100.0 * c / tot) for x, c in states[k].most_common())
        sc = ", ".join("%s %.0f%%" % (x, 100.0 * c / tot) for x, c in calls[k].most_common(6))
        print("  %-6s %-16s cpu %6.2f s (%.2f user + %.2f sys), waited for a CPU %.1f s,"
              " alive %.1f s: %s; blocked in: %s"
              % ("main" if k == p.pid else k, names[k], u + s, u, s, waited[k], tot / (n / wall),
                 st, sc), file=sys.stderr)
    if other[2]:
        print("  %d more threads: cpu %.2f s (%.2f user + %.2f sys)"
              % (other[2], other[0] + other[1], other[0], other[1]), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
