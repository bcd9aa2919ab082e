# SPDX-License-Identifier: GPL-2.0
"""The gnuplot plots: latency CDFs per case and the overhead bars."""

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
from benchreport.overhead import has_ctl  # noqa: F401


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
