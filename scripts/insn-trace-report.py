#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare two instruction traces from scripts/insn-trace.sh.

Usage: scripts/insn-trace-report.py [-n ROWS] DIR_A DIR_B

Prints, for each trace, the pipe round trips it holds (two pipe_write()
entries each) and the instructions per round trip, then the functions whose
instructions per call differ, largest total difference first:

  function  calls_A  calls_B  insn/call_A  insn/call_B  delta/call

A function's instructions are those whose program counter lies in it
(callees not included); a call is an arrival at its first instruction.
Round trips differ in the paths they take (load-average updates, slice
ends), so the per-call table is the one to read for a code change.

Exit codes: 0 ok, 1 a trace cannot be read, 2 bad usage.
"""

import bisect
import collections
import os
import sys

KERNEL_START = 0xffff800000000000


def load(path):
    """Return (addrs, names, pcs) of one trace folder."""
    addrs, names = [], []
    try:
        with open(os.path.join(path, "syms.txt")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[1] in "tTwW" \
                        and not parts[2].startswith(("__pfx_", "__cfi_")):
                    addrs.append(int(parts[0], 16))
                    names.append(parts[2])
        with open(os.path.join(path, "pcs.txt")) as f:
            pcs = [int(line, 16) for line in f if line.strip()]
    except (OSError, ValueError) as err:
        sys.exit(f"insn-trace-report: error: {path}: {err}")
    if not pcs:
        sys.exit(f"insn-trace-report: error: {path}: empty trace")
    return addrs, names, pcs


def profile(path):
    addrs, names, pcs = load(path)
    first = {}
    for a, n in zip(addrs, names):
        first.setdefault(a, n)
    insns, calls = collections.Counter(), collections.Counter()
    for pc in pcs:
        if pc < KERNEL_START:
            insns["<user>"] += 1
            continue
        i = bisect.bisect_right(addrs, pc) - 1
        name = first[addrs[i]] if i >= 0 else "<unknown>"
        insns[name] += 1
        if i >= 0 and pc == addrs[i]:
            calls[name] += 1
    try:
        pw = addrs[names.index("pipe_write")]
    except ValueError:
        sys.exit(f"insn-trace-report: error: {path}: no pipe_write symbol")
    hits = [i for i, pc in enumerate(pcs) if pc == pw]
    trips = (len(hits) - 1) // 2
    per_trip = (hits[2 * trips] - hits[0]) / trips if trips > 0 else float("nan")
    return insns, calls, trips, per_trip


def main(argv):
    rows = 40
    if len(argv) >= 2 and argv[0] == "-n":
        try:
            rows = int(argv[1])
        except ValueError:
            print(f"insn-trace-report: -n takes a number, not {argv[1]!r}",
                  file=sys.stderr)
            return 2
        argv = argv[2:]
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    a, b = (profile(d) for d in argv)
    for label, d, (_, _, trips, per_trip) in (("A", argv[0], a), ("B", argv[1], b)):
        print(f"{label}: {d}: {trips} round trips, {per_trip:.1f} instructions each")
    ia, ca, _, _ = a
    ib, cb, _, _ = b
    table = []
    for fn in set(ca) | set(cb):
        if ca[fn] < 4 or cb[fn] < 4:
            continue
        pa, pb = ia[fn] / ca[fn], ib[fn] / cb[fn]
        if abs(pb - pa) >= 0.05:
            table.append((abs(pb - pa) * min(ca[fn], cb[fn]), fn, pa, pb))
    table.sort(reverse=True)
    print(f"{'function':40s} {'calls_A':>7s} {'calls_B':>7s} "
          f"{'insn/call_A':>11s} {'insn/call_B':>11s} {'delta':>7s}")
    for _, fn, pa, pb in table[:rows]:
        print(f"{fn:40s} {ca[fn]:7d} {cb[fn]:7d} {pa:11.2f} {pb:11.2f} {pb - pa:+7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
