# SPDX-License-Identifier: GPL-2.0
"""The latency section: waits per case and variant, thresholds, targets."""

import csv
import io
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from collections import Counter, defaultdict

from benchreport.common import *  # noqa: F401,F403


# Latency

def percentile(sorted_vals, permille):
    """Nearest rank: sorted_vals[ceil(permille/1000 * n) - 1], integer math."""
    n = len(sorted_vals)
    return sorted_vals[max(1, -(-permille * n // 1000)) - 1]


class LatVariant:
    """Pooled waits of one case on one variant."""

    def __init__(self):
        self.waits, self.cal_cpu, self.cal_wall = [], [], []
        self.failed, self.stat = 0, {}

    def stats(self, thr):
        """Return a dict of the table values; 'bound' flags lower bounds."""
        w = sorted(self.waits)
        n = len(w)
        tmo = [v for v, t in w if t]
        tmin = min(tmo) if tmo else math.inf
        d = {'n': n, 'timeouts': len(tmo), 'above': '-'}
        for pm, name in PERMILLE:
            v = percentile(w, pm)[0] if n else None
            d[name] = (v, v is not None and v >= tmin)
        if thr is not None and n:
            d['above'] = (('≥ ' if any(v <= thr for v in tmo) else '') +
                          str(sum(v > thr for v, _ in w)))
        return d


def latency_cases(rows):
    """Group lat/cal/stat rows: {label: {variant: LatVariant}}."""
    cases = defaultdict(lambda: {v: LatVariant() for v in VARIANTS})
    for r in rows:
        if r.kind == 'ovh' or r.variant == CTL:
            continue
        label = r.case if r.bench == 'latency' else f'{r.bench}:{r.case}'
        lv = cases[label][r.variant]
        if r.status == 'failed':
            if r.kind == 'lat':
                lv.failed += 1
            continue
        if r.kind == 'lat':
            lv.waits.append((r.value, r.status == 'timeout'))
        elif r.kind == 'cal' and r.sample in (0, 1):
            (lv.cal_cpu if r.sample == 0 else lv.cal_wall).append(r.value)
        elif r.kind == 'stat' and r.sample == 0:
            lv.stat[r.round] = r.value
    return dict(sorted(cases.items()))


def ratio_text(a, b):
    """a and b are (value, is_lower_bound); return 'a/b' as text."""
    (x, xb), (y, yb) = a, b
    if x is None or y is None or y == 0:
        return 'n/a'
    if xb and yb:
        return 'n/a (both capped)'
    return ('≥ ' if xb else '≤ ' if yb else '') + f'{x / y:.2f}'


def target_text(on, thr):
    mx, bound = on['max']
    if mx is None:
        return 'n/a (no on samples)'
    if thr is None:
        return 'n/a (no cal)'
    if mx > thr:
        return f'missed (by {fmt_ms(mx - thr, bound)} ms)'
    return 'unknown (capped below threshold)' if bound else 'met'


def latency_section(cases, allowance_us):
    out = ['## Inversion latency', '']
    if not cases:
        return out + ['No latency samples.', ''], {}
    rows, per_case, thresholds = [], [], {}
    for label, byv in cases.items():
        cal = [c for v in VARIANTS for c in byv[v].cal_cpu]
        thr = 2 * statistics.median(cal) + allowance_us * 1e3 if cal else None
        st = {v: byv[v].stats(thr) for v in VARIANTS}
        thresholds[label] = thr
        for v in VARIANTS:
            s, lv = st[v], byv[v]
            if not s['n'] and not lv.failed and not lv.cal_cpu:
                continue
            cals = ' / '.join(fmt_ms(statistics.median(c)) if c else '-'
                              for c in (lv.cal_cpu, lv.cal_wall))
            rows.append([label, v, s['n']] +
                        [fmt_ms(*s[name]) for _, name in PERMILLE] +
                        [s['above'], s['timeouts'], lv.failed, cals])
        ratios = [ratio_text(st['base'][k], st['on'][k])
                  for k in ('max', 'p99')]
        target = target_text(st['on'], thr)
        if byv['on'].failed:
            target += f'; {byv["on"].failed} failed not judged'
        proxy = [f'{sum(byv[v].stat.values()):.0f} ({len(byv[v].stat)} rnd)'
                 if byv[v].stat else '-' for v in ('off', 'on')]
        per_case.append([label, fmt_ms(thr), *ratios, fmt_ms(*st['on']['max']),
                         target, *proxy])
    out += ['Waits of all rounds pooled per variant; times in ms. "cal" is '
            'the median uncontended critical section, CPU / wall.', '']
    out += md_table(['case', 'variant', 'n', 'p50', 'p99', 'p99.9', 'max',
                     '> thr', 'timeouts', 'failed', 'cal cpu / wall'], rows)
    out += ['', 'Per case: threshold = 2 × cal CPU (median over all variants '
            f'and rounds) + {allowance_us:g} us; target: max(on) ≤ threshold.',
            '']
    out += md_table(['case', 'threshold (ms)', 'max base/on', 'p99 base/on',
                     'max on (ms)', 'target', 'proxy runs off',
                     'proxy runs on'], per_case)
    return out + [''], thresholds
