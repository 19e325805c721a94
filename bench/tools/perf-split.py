#!/usr/bin/env python3
"""Splits a `perf record -g` profile of a server under the fan-out load into where a delivery's CPU goes.

Usage: perf-split.py perf.data [cpu-seconds deliveries]

Each sample is put in the first category that matches: the kernel's send path (which on loopback also delivers to the
client's socket), the scheduler, then the innermost managed frame that names a stage. With the server's CPU seconds and
the deliveries over the same window, the shares are also printed as microseconds per delivery.
"""
import collections
import subprocess
import sys

KERNEL = [
    ("socket write (send system call, loopback delivery included)", ["__sys_sendto", "__sys_sendmsg"]),
    ("wake-up: scheduler, futex, epoll", ["finish_task_switch", "__schedule", "do_epoll_wait", "futex", "try_to_wake_up"]),
]
MANAGED = [
    ("enqueue: room walk and queue write", ["RoomIndex`1", "BoundedChannelWriter", "g__ReceiveLoopAsync"]),
    ("send loop: WebSocket framing, stream write and flush", ["SendLoopAsync", "ManagedWebSocket", "UpgradedStream"]),
    ("Kestrel output loop (user space)", ["IOQueue", "DoSend"]),
    ("receive and parse", ["ReceiveLoop", "DoReceive", "recvfrom"]),
    ("wake-up: thread-pool dispatch", ["ThreadPoolWorkQueue::Dispatch", "WorkerThread"]),
]


def classify(stack):
    whole = "\n".join(stack)
    for name, keys in KERNEL:
        if any(k in whole for k in keys):
            return name
    for frame in stack:  # innermost first
        for name, keys in MANAGED:
            if any(k in frame for k in keys):
                return name
    return "other (GC, JIT, timers, runtime)"


def main():
    script = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "ip,sym"], capture_output=True, text=True, check=True).stdout
    counts, samples, stack = collections.Counter(), 0, []
    for line in script.split("\n") + [""]:
        if line.strip():
            stack.append(line.strip().split(" ", 1)[-1])
        elif stack:
            counts[classify(stack)] += 1
            samples += 1
            stack = []
    per_delivery = float(sys.argv[2]) * 1e6 / float(sys.argv[3]) if len(sys.argv) == 4 else None
    for name, count in counts.most_common():
        share = count / samples
        extra = f"  {share * per_delivery:5.2f} µs" if per_delivery else ""
        print(f"{100 * share:5.1f} %{extra}  {name}")


main()
