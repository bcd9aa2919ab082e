# SPDX-License-Identifier: GPL-2.0
"""The overhead section: per-round ratios to base, verdicts, the control band."""

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


# Overhead

class OvhGroup:
    """All repetitions of one bench/case."""

    def __init__(self, unit, line):
        self.unit, self.line = unit, line
        self.lower_better = unit in LOWER
        self.vals = {v: defaultdict(list) for v in ALL_VARIANTS}
        self.failed = dict.fromkeys(ALL_VARIANTS, 0)

    def pooled(self, v):
        return [x for xs in self.vals[v].values() for x in xs]

    def spread(self, v):
        xs = self.pooled(v)
        if len(xs) < 2 or statistics.fmean(xs) == 0:
            return None
        return statistics.stdev(xs) / abs(statistics.fmean(xs)) * 100

    def ratios(self, v):
        """Per-round ratio of medians v/base, rounds holding both only."""
        out = []
        for rnd, xs in sorted(self.vals[v].items()):
            base = self.vals['base'].get(rnd)
            if base and statistics.median(base) != 0:
                out.append(statistics.median(xs) / statistics.median(base))
        return out

    def worse_pct(self, ratio):
        return (ratio - 1) * 100 if self.lower_better else (1 - ratio) * 100

    def verdict(self, v):
        rs, target = self.ratios(v), TARGET_PCT[v]
        if not rs:
            return 'n/a (no paired rounds)'
        noise = self.spread('base')
        if noise is None:
            return 'inconclusive (base n < 2)'
        if noise > target:
            return f'inconclusive (noise {noise:.1f}%)'
        w = self.worse_pct(statistics.median(rs))
        what = f'{abs(w):.2f}% {"worse" if w >= 0 else "better"}'
        if w <= target:
            return f'met ({what})'
        # A difference the control kernel shows too is not the series'.
        if self.in_control_band(v):
            return f'within control ({what}; ctl moves as far)'
        return f'missed ({what})'

    def in_control_band(self, v):
        """v/base median inside the ctl/base, 1.0 and base-spread band."""
        rs, ctl = self.ratios(v), self.ratios(CTL)
        if not rs or not ctl:
            return None
        band = [1.0] + ctl
        noise = self.spread('base')
        if noise is not None:
            band += [1 - noise / 100, 1 + noise / 100]
        return min(band) <= statistics.median(rs) <= max(band)

    def within_control(self):
        """yes/no: off/base median inside the ctl/base, 1.0 and base band."""
        if not self.ratios('off'):
            return 'n/a (no paired rounds)'
        if not self.ratios(CTL):
            return 'n/a (no ctl rounds)'
        return 'yes' if self.in_control_band('off') else 'no'


def has_ctl(groups):
    """True when some overhead group holds ctl rows (ok or failed)."""
    return any(g.vals[CTL] or g.failed[CTL] for g in groups.values())


def overhead_groups(rows):
    groups = {}
    for r in rows:
        if r.kind != 'ovh':
            continue
        g = groups.setdefault((r.bench, r.case), OvhGroup(r.unit, r.line))
        if r.unit != g.unit:
            raise InputError(f'samples.csv:{r.line}: unit {r.unit!r} differs '
                             f'from {g.unit!r} on line {g.line} for '
                             f'{r.bench}/{r.case}')
        if r.status == 'failed':
            g.failed[r.variant] += 1
        else:
            g.vals[r.variant][r.round].append(r.value)
    return dict(sorted(groups.items()))


def ratio_cell(rs):
    return (f'{statistics.median(rs):.4f} [{min(rs):.4f}, {max(rs):.4f}] '
            f'k={len(rs)}' if rs else '-')


def overhead_section(groups, meta=None):
    smp = (meta or {}).get('OVH_SMP')
    out = ['## Overhead' + (f' ({smp} vCPU{"s" if smp != "1" else ""})'
                            if smp else ''), '']
    if smp and smp != '1':
        out += ['Multi-CPU overhead: with more than one vCPU the vCPUs '
                'interleave differently with every change of the '
                'instruction count, so these items resolve a path-length '
                'change only as far as ctl/base shows.', '']
    if not groups:
        return out + ['No overhead samples.', '']
    ctl = has_ctl(groups)
    variants = ALL_VARIANTS if ctl else VARIANTS
    names = '/'.join(('b',) + variants[1:])
    rows = []
    for (bench, case), g in groups.items():
        med = [statistics.median(g.pooled(v)) if g.pooled(v) else None
               for v in variants]
        med = ['-' if x is None else f'{x:.0f}' if abs(x) >= 1000 else
               f'{x:.4g}' for x in med]
        spread = ['-' if g.spread(v) is None else f'{g.spread(v):.2f}'
                  for v in variants]
        rows.append([bench, case, g.unit,
                     'lower' if g.lower_better else 'higher',
                     '/'.join(str(len(g.pooled(v))) for v in variants),
                     '/'.join(str(g.failed[v]) for v in variants),
                     *med, *(ratio_cell(g.ratios(v)) for v in variants[1:]),
                     ' / '.join(spread), g.verdict('off'), g.verdict('on')] +
                    ([g.within_control()] if ctl else []))
    out += md_table(['bench', 'case', 'unit', 'better', f'n {names}',
                     f'failed {names}'] +
                    [f'median {v}' for v in variants] +
                    [f'{v}/base' for v in variants[1:]] +
                    [f'spread % {names}', 'off ≤ 1%', 'on ≤ 2%'] +
                    (['off within control'] if ctl else []), rows)
    if ctl:
        out += ['', 'ctl is the base kernel plus no-op instructions (no '
                'change in behaviour); |ctl/base − 1| shows how far a change '
                'of the instruction count alone moves the item in this run, '
                'so an off/base difference of that size is not attributable '
                'to the series. "off within control" is yes when the off/base '
                'median lies in [lo, hi], lo = min(1, ctl/base min, 1 − s), '
                'hi = max(1, ctl/base max, 1 + s), s = base spread as a '
                'fraction (its terms dropped when base has fewer than 2 '
                'values); ctl has no target.']
    return out + ['']
