#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-report.py - turn a benchmark results folder into summary.md and plots.

Usage: scripts/bench-report.py [-h] RESULTS_DIR

Reads RESULTS_DIR/samples.csv (and meta.env) and writes beside them
summary.md, lat-<case>.{dat,gp,png} per latency case and overhead.{dat,gp,png}
(overwritten on each run).

Input: samples.csv
  Line 1 is exactly "round,variant,kind,bench,case,sample,value,unit,status";
  every other non-blank line has those 9 fields (RFC 4180 quoting, blanks
  around fields ignored):
    round    integer >= 1; each round boots base, off and on (and ctl, if
             run) in turn.
    variant  base (unpatched kernel), off (patched, sched_proxy_exec=0),
             on (patched, sched_proxy_exec=1), ctl (optional control: the
             base kernel plus no-op instructions; used for overhead only,
             its lat/cal/stat rows are ignored).
    kind     lat   one waiter wait; unit ns, us, ms or s.
             cal   the owner's uncontended critical section: sample 0 is
                   CPU time, sample 1 wall time; unit ns, us, ms or s.
             stat  sample 0 is the count of proxy runs seen by the kernel
                   during the case (absent for base); any unit.
             ovh   one overhead repetition; sample is the repetition index
                   within the boot.  unit s, ms, us, ns or usec/op (lower
                   is better), ops/s or bogo-ops/s (higher is better).
                   One bench/case keeps one unit.
    bench    latency for lat/cal/stat (another is shown as bench:case).
    case     e.g. nice-fpos-one (<scenario>-<lock>-<placement>).
    sample   integer >= 0; (round,variant,kind,bench,case,sample) is unique.
    value    a finite number (lat, cal: >= 0); ignored (may be empty) when
             status is failed.
    status   ok; timeout (lat only: the wait hit the cap, value is a lower
             bound); failed (a failed repetition: counted and shown, never
             used in statistics).
  Anything else is an error naming the line.

Input: meta.env (optional): shell-style KEY=VALUE lines, all printed in the
  header; QUICK gives quick/full, CMD the command line, ALLOWANCE_US
  (default 20000) the latency allowance, CONTROL the control kernel (listed
  after PE_RELEASE when there are ctl rows).

Statistics
  Percentiles are nearest rank: the p-th percentile of n sorted samples is
  the one at 1-based rank ceil(p/100 * n), always an observed value.  They
  pool every round's waits per variant.  Timeouts count with their capped
  value, and a percentile or max at or above the lowest timeout is printed
  ">= x" (the true value may be higher).  Threshold per case:
  2 * median(cal CPU, all variants and rounds) + ALLOWANCE_US; the target
  is met when the on kernel's max wait is within it.  Overhead ratios are
  per round (median of the variant's repetitions over base's, rounds with
  both only), summarised as median [min, max].  Spread: sample stdev/mean
  of a variant's pooled values.  Targets: off within 1% of base, on within
  2%, in the unit's worse direction; "inconclusive" when base's own spread
  exceeds the target.  With ctl rows the overhead table adds ctl's median,
  ctl/base (as above, no target) and "off within control": yes when the
  off/base median lies in [lo, hi], lo = min(1, ctl/base min, 1 - s/100),
  hi = max(1, ctl/base max, 1 + s/100), s = base spread in % (its terms
  dropped when base has fewer than 2 values).  A verdict that would be
  "missed" is "within control" when the variant's median ratio lies in
  that band: the control kernel moves the item as far, so the run cannot
  attribute the difference to the series.

Exit codes: 0 ok; 1 failure (cannot write, gnuplot failed); 2 bad usage or
bad input (the message names the line); 3 gnuplot (or a PNG terminal) is
missing: summary.md and the .dat/.gp files are still written.
"""

import argparse
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

PROG = 'bench-report.py'
EXIT_FAIL, EXIT_USAGE, EXIT_NOPLOT = 1, 2, 3
COLUMNS = ['round', 'variant', 'kind', 'bench', 'case', 'sample', 'value',
           'unit', 'status']
VARIANTS = ('base', 'off', 'on')
CTL = 'ctl'
ALL_VARIANTS = VARIANTS + (CTL,)
KINDS = ('lat', 'cal', 'stat', 'ovh')
STATUSES = ('ok', 'timeout', 'failed')
TIME_NS = {'ns': 1.0, 'us': 1e3, 'ms': 1e6, 's': 1e9}
LOWER = {'s', 'ms', 'us', 'ns', 'usec/op'}
HIGHER = {'ops/s', 'bogo-ops/s'}
TARGET_PCT = {'off': 1.0, 'on': 2.0}
DEFAULT_ALLOWANCE_US = 20000.0
PERMILLE = ((500, 'p50'), (990, 'p99'), (999, 'p99.9'), (1000, 'max'))
COLOURS = {'base': '#555555', 'off': '#1f77b4', 'on': '#d62728',
           CTL: '#2ca02c'}
META_ORDER = ('DATE', 'COMMIT', 'ROUNDS', 'QUICK', 'ICOUNT', 'BASE_RELEASE',
              'PE_RELEASE', 'HOST', 'GUEST_LATENCY', 'GUEST_OVERHEAD',
              'ALLOWANCE_US')


class InputError(Exception):
    """Bad input: reported on stderr, exit 2."""


def warn(msg):
    print(f'{PROG}: {msg}', file=sys.stderr)


class Row:
    """One parsed samples.csv line; lat/cal values are held in ns."""

    def __init__(self, fields, line):
        f = [x.strip() for x in fields]
        self.line = line
        rnd, self.variant, self.kind, self.bench, self.case = f[:5]
        sample, value, self.unit, self.status = f[5:]
        try:
            self.round, self.sample = int(rnd), int(sample)
        except ValueError:
            self._bad(f'round {rnd!r} or sample {sample!r} is not an integer')
        if self.round < 1:
            self._bad(f'round {rnd} is below 1')
        if self.sample < 0:
            self._bad(f'sample {sample} is below 0')
        for name, val, allowed in (('variant', self.variant, ALL_VARIANTS),
                                   ('kind', self.kind, KINDS),
                                   ('status', self.status, STATUSES)):
            if val not in allowed:
                self._bad(f'{name} {val!r} is not one of {", ".join(allowed)}')
        if not self.bench or not self.case:
            self._bad('empty bench or case')
        if self.status == 'timeout' and self.kind != 'lat':
            self._bad('status timeout is only valid for kind lat')
        if self.kind in ('lat', 'cal') and self.unit not in TIME_NS:
            self._bad(f'unit {self.unit!r} is not a time unit '
                      f'({", ".join(TIME_NS)})')
        if self.kind == 'ovh' and self.unit not in LOWER | HIGHER:
            self._bad(f'unknown unit {self.unit!r}: cannot tell whether '
                      'lower or higher is better')
        self.value = None
        if self.status == 'failed':
            return
        try:
            self.value = float(value)
        except ValueError:
            self.value = math.nan
        timed = self.kind in ('lat', 'cal')
        if not math.isfinite(self.value) or (timed and self.value < 0):
            self._bad(f'value {value!r} is not a finite number' +
                      (' >= 0' if timed else ''))
        if timed:
            self.value *= TIME_NS[self.unit]

    def _bad(self, msg):
        raise InputError(f'samples.csv:{self.line}: {msg}')


def read_samples(path):
    """Parse and validate samples.csv; return the list of Rows."""
    rows, seen = [], {}
    try:
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8-sig')
    except UnicodeDecodeError as e:
        raise InputError(f'samples.csv: not UTF-8 (byte {e.start})') from None
    reader = csv.reader(io.StringIO(text, newline=''))
    try:
        header = [h.strip() for h in next(reader, ['(empty file)'])]
        if header != COLUMNS:
            raise InputError(f'samples.csv:1: header must be '
                             f'"{",".join(COLUMNS)}", got '
                             f'"{",".join(header)}"')
        for fields in reader:
            if not any(x.strip() for x in fields):
                continue
            if len(fields) != len(COLUMNS):
                raise InputError(f'samples.csv:{reader.line_num}: '
                                 f'expected {len(COLUMNS)} fields, got '
                                 f'{len(fields)}')
            row = Row(fields, reader.line_num)
            key = (row.round, row.variant, row.kind, row.bench,
                   row.case, row.sample)
            if key in seen:
                raise InputError(f'samples.csv:{row.line}: duplicate of '
                                 f'line {seen[key]}')
            seen[key] = row.line
            rows.append(row)
    except csv.Error as e:
        raise InputError(f'samples.csv:{reader.line_num}: {e}') from None
    return rows


def read_meta(path):
    """Return meta.env as an ordered dict, or None when there is none."""
    if not os.path.isfile(path):
        return None
    meta = {}
    with open(path, encoding='utf-8', errors='replace') as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith('#'):
                continue
            s = s.removeprefix('export ').lstrip()
            key, sep, val = s.partition('=')
            if not sep or not re.fullmatch(r'[A-Za-z_]\w*', key):
                warn(f'meta.env:{n}: ignored, not KEY=VALUE')
                continue
            try:
                val = ' '.join(shlex.split(val))
            except ValueError:
                pass
            meta[key] = val
    return meta


# Formatting helpers

def fmt_ms(ns, bound=False):
    """ns as ms: 2 decimals from 1 ms up, else 3 significant digits."""
    if ns is None:
        return '-'
    ms, digits = ns / 1e6, 2
    if 0 < abs(ms) < 1:
        digits = 2 - math.floor(math.log10(abs(ms)))
    return ('≥ ' if bound else '') + (f'{ms:.{digits}f}' if ms else '0')


def md_table(header, rows):
    def cell(x):
        return str(x).replace('|', '\\|')
    out = ['| ' + ' | '.join(header) + ' |',
           '|' + '|'.join('---' for _ in header) + '|']
    out += ['| ' + ' | '.join(cell(x) for x in r) + ' |' for r in rows]
    return out


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


# Plots

def write(path, lines):
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(path + '.tmp', path)


def gp_quote(s):
    return "'" + s.replace("'", "''") + "'"


def lat_plot(outdir, name, label, byv, thr, terminal):
    """Write <name>.dat/.gp, a CDF per variant; return False if no data."""
    dat = [f'# Latency CDF of case {label}, waits pooled over rounds.',
           '# wait_ms fraction_le is_timeout; a block (gnuplot index) per '
           'variant.']
    plots = []
    for v in VARIANTS:
        w = sorted(x for x in byv[v].waits if x[0] > 0)
        if not w:
            continue
        dat += ['', '', f'# index {len(plots)}: {v} n={len(w)}',
                f'{w[0][0] / 1e6:.6g} 0 0']
        dat += [f'{x / 1e6:.6g} {(i + 1) / len(w):.6g} {int(t)}'
                for i, (x, t) in enumerate(w)]
        tmo = sum(t for _, t in w)
        title = f'{v} (n={len(w)}' + (f', {tmo} timeouts)' if tmo else ')')
        plots.append(f"'{name}.dat' index {len(plots)} using 1:2 with steps "
                     f"lw 2 lc rgb '{COLOURS[v]}' title {gp_quote(title)}")
    if not plots:
        return False
    gp = [f'# Re-plot with: gnuplot {name}.gp',
          f'set terminal {terminal} size 900,600 noenhanced',
          f"set output '{name}.png'",
          f'set title {gp_quote("Inversion latency CDF: " + label)}',
          'set logscale x', 'set grid', 'set key bottom right',
          "set xlabel 'wait (ms, log scale; all rounds pooled)'",
          "set ylabel 'fraction of waits <= x'", 'set yrange [0:1.05]']
    if thr is not None:
        x = f'{thr / 1e6:.6g}'
        gp += [f"set arrow from {x}, graph 0 to {x}, graph 1 nohead dt 2 "
               "lw 1.5 lc rgb '#2ca02c'",
               f"set label 'threshold {fmt_ms(thr)} ms' at {x}, graph 0.5 "
               "left offset 0.5,0 tc rgb '#2ca02c'"]
    write(os.path.join(outdir, name + '.dat'), dat)
    write(os.path.join(outdir, name + '.gp'),
          gp + ['plot ' + ', \\\n     '.join(plots)])
    return True


def overhead_plot(outdir, groups, terminal):
    """Write overhead.dat/.gp, ratio bars per bench; False if no ratios."""
    ctl = has_ctl(groups)
    variants = ALL_VARIANTS[1:] if ctl else VARIANTS[1:]
    dat = ['# Per-round ratios to base: median, min, max; ? = no paired round',
           '# x label off_med off_min off_max on_med on_min on_max' +
           (' ctl_med ctl_min ctl_max' if ctl else '')]
    vals, have = [1.0], set()
    for x, ((bench, case), g) in enumerate(groups.items()):
        cols = []
        for v in variants:
            rs = g.ratios(v)
            vals += rs
            have.update([v] if rs else [])
            cols += ([f'{statistics.median(rs):.6g}', f'{min(rs):.6g}',
                      f'{max(rs):.6g}'] if rs else ['?'] * 3)
        word = 'lower' if g.lower_better else 'higher'
        label = f'{bench}\\n{case}\\n({word} better)'.replace('"', "'")
        dat.append(f'{x} "{label}" ' + ' '.join(cols))
    if not have:
        return False
    lo, hi, n = min(vals), max(vals), len(groups)
    pad = max((hi - lo) * 0.15, 0.005)
    plots = ["'overhead.dat' using 1:(1/0):xtic(2) notitle"]
    series, w = (('off', '-0.19', 3), ('on', '+0.19', 6)), '0.17'
    if ctl:
        series = ((CTL, '-0.28', 9), ('off', '+0.0', 3), ('on', '+0.28', 6))
        w = '0.12'
    for v, o, m in series:
        if v in have:
            plots += [f"'' using ($1{o}):{m}:($1{o}-{w}):($1{o}+{w}):(1.0):"
                      f"{m} with boxxyerror fs solid 0.5 lc rgb "
                      f"'{COLOURS[v]}' title '{v}/base (median of rounds)'",
                      f"'' using ($1{o}):{m}:{m + 1}:{m + 2} with yerrorbars "
                      f"pt 7 ps 0.6 lc rgb '{COLOURS[v]}' notitle"]
    gp = ['# Re-plot with: gnuplot overhead.gp',
          f'set terminal {terminal} size {max(900, 110 * n)},650 noenhanced',
          "set output 'overhead.png'",
          "set title 'Overhead relative to base (bars: median of per-round "
          "ratios, whiskers: min/max)'",
          "set datafile missing '?'", "set ylabel 'ratio to base'",
          f'set xrange [-0.6:{n - 0.4}]',
          f'set yrange [{lo - pad:.6g}:{hi + pad:.6g}]', 'set grid ytics',
          'set key top left', "set xtics nomirror font ',9'", 'set bmargin 5',
          'set arrow from graph 0, first 1 to graph 1, first 1 nohead '
          "lw 1.5 lc rgb 'black'", 'plot ' + ', \\\n     '.join(plots)]
    write(os.path.join(outdir, 'overhead.dat'), dat)
    write(os.path.join(outdir, 'overhead.gp'), gp)
    return True


def png_terminal():
    """Return 'pngcairo', 'png' or None (no gnuplot or no PNG terminal)."""
    if not shutil.which('gnuplot'):
        return None
    p = subprocess.run(['gnuplot', '-e', 'set terminal'], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, check=False)
    for term in ('pngcairo', 'png'):
        if re.search(rf'^\s*{term}\s', p.stdout + p.stderr, re.M):
            return term
    return None


# Report

def header_section(outdir, meta, rows):
    ctl = any(r.variant == CTL for r in rows)
    order = META_ORDER
    if ctl:
        at = META_ORDER.index('PE_RELEASE') + 1
        order = META_ORDER[:at] + ('CONTROL',) + META_ORDER[at:]
    out = [f'# Benchmark report: {os.path.basename(os.path.abspath(outdir))}',
           '', f'Generated by scripts/bench-report.py from samples.csv '
           f'({len(rows)} rows).', '']
    if meta is None:
        out += ['meta.env: missing.', '']
    else:
        for key in list(order) + sorted(set(meta) - set(order)):
            if key not in meta or key == 'CMD':
                continue
            val = meta[key]
            if key == 'QUICK':
                quick = val.lower() not in ('', '0', 'no', 'false', 'n')
                val = f'{"quick" if quick else "full"} (QUICK={val})'
            out.append(f'- **{key}**: {val}')
        if 'CMD' in meta:
            out.append(f'- **command line**: `` {meta["CMD"]} ``')
        out.append('')
    rounds = sorted({r.round for r in rows})
    if rounds:
        boots = {(r.round, r.variant) for r in rows}
        missing = [f'{v} round {n}' for n in range(1, rounds[-1] + 1)
                   for v in (ALL_VARIANTS if ctl else VARIANTS)
                   if (n, v) not in boots]
        out.append(f'Rounds in the data: {len(rounds)} (highest {rounds[-1]})'
                   f'; missing boots: {", ".join(missing) or "none"}.')
        bad = Counter(r.kind for r in rows
                      if r.status == 'failed' and r.kind in ('cal', 'stat'))
        out += [f'Failed {k} rows (not used): {n}.' for k, n in bad.items()]
        out.append('')
    return out


HOW_TO_READ = """\
## How to read this

Latency percentiles (nearest rank) and max pool the waits of every round
per variant. "≥ x" marks a lower bound: a wait hit the cap (a timeout), so
the true value is at least x; ratios built on one are printed "≥" or "≤".
"> thr" counts waits above the case threshold 2 × cal CPU + allowance, the
longest a waiter should wait when the owner's critical section runs on its
behalf. Ratios base/on above 1 mean proxy execution shortened the wait.
Overhead ratios are variant/base per round (the same round's boots, so drift
cancels), shown as median [min, max] over the k rounds that hold both.
"better" gives the unit's direction; "worse" in a verdict follows it. Spread
is stdev/mean of a variant's values; when base's own spread exceeds the
target the verdict is "inconclusive", since the run cannot resolve it, and
when the control kernel (ctl) moves the item as far as the variant, it is
"within control" rather than "missed".
Failed repetitions are counted in "failed" and left out of all statistics.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG, description='Write summary.md and gnuplot plots for a '
        'benchmark results folder (input format: see the module docstring).',
        epilog='Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 gnuplot '
        'missing (summary.md still written).')
    ap.add_argument('results_dir', metavar='RESULTS_DIR',
                    help='folder holding samples.csv (and meta.env)')
    outdir = ap.parse_args(argv).results_dir
    if not os.path.isdir(outdir):
        ap.error(f'{outdir}: no such folder')
    if not os.path.isfile(os.path.join(outdir, 'samples.csv')):
        ap.error(f'{outdir}: no samples.csv')
    try:
        rows = read_samples(os.path.join(outdir, 'samples.csv'))
        meta = read_meta(os.path.join(outdir, 'meta.env'))
        allowance = (meta or {}).get('ALLOWANCE_US', DEFAULT_ALLOWANCE_US)
        try:
            allowance = float(allowance)
        except ValueError:
            raise InputError(f'meta.env: ALLOWANCE_US {allowance!r} is not '
                             'a number') from None
        groups = overhead_groups(rows)
    except InputError as e:
        warn(os.path.join(outdir, str(e)))
        return EXIT_USAGE
    except OSError as e:
        warn(f'cannot read {outdir}: {e}')
        return EXIT_FAIL
    cases = latency_cases(rows)
    lat_out, thresholds = latency_section(cases, allowance)
    terminal = png_terminal()
    names = []
    try:
        for label, byv in cases.items():
            name = 'lat-' + re.sub(r'[^A-Za-z0-9._-]+', '_', label)
            while name in names:
                name += '_'
            if lat_plot(outdir, name, label, byv, thresholds[label],
                        terminal or 'pngcairo'):
                names.append(name)
        if overhead_plot(outdir, groups, terminal or 'pngcairo'):
            names.append('overhead')
        summary = header_section(outdir, meta, rows) + lat_out
        summary += overhead_section(groups, meta) + ['## Plots', '']
        if terminal is None:
            summary += ['Not rendered (no gnuplot with a PNG terminal); run '
                        '`gnuplot NAME.gp` in this folder for each of:', '']
            summary += [f'- {n}.gp' for n in names]
        else:
            summary += [f'![{n}]({n}.png)' for n in names]
        write(os.path.join(outdir, 'summary.md'),
              summary + ['', HOW_TO_READ.rstrip()])
    except OSError as e:
        warn(f'cannot write into {outdir}: {e}')
        return EXIT_FAIL
    if terminal is None:
        warn('gnuplot with a png or pngcairo terminal not found: plots not '
             'rendered (apt-get install gnuplot-nox); summary.md written')
        return EXIT_NOPLOT
    for n in names:
        p = subprocess.run(['gnuplot', n + '.gp'], cwd=outdir, text=True,
                           capture_output=True, stdin=subprocess.DEVNULL,
                           check=False)
        if p.stderr.strip():
            warn(f'gnuplot {n}.gp: {p.stderr.strip()}')
        if p.returncode:
            return EXIT_FAIL
    return 0


if __name__ == '__main__':
    sys.exit(main())
