#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""soak-report.py - the summary and the throughput plot of a soak run.

Reads a results folder of 'make soak' (console.log, boot.env, results.tsv,
written by boot.sh and judge.sh) and writes into it:
  summary.md      the summary table (also printed on stdout)
  throughput.svg  locktorture write acquisitions per second over time,
                  one series per lock type

Usage: scripts/soak-report.py [-h] [--commit TEXT] DIR
Exit codes: 0 written, 1 the folder is not a soak run, 2 bad usage.
"""

import argparse
import os
import re
import sys

TS = r'^\[\s*([0-9]+\.[0-9]+)\]\s*'
MARK = re.compile(TS + r'.*PE-SOAK-MARK torture ([0-9]+)')
WRITES = re.compile(TS + r'.*Writes:\s+Total:\s+([0-9]+)')
SOAK = re.compile(r'PE-SOAK: (.*)$')
COLOURS = {'mutex_lock': '#1f77b4', 'ww_mutex_lock': '#2ca02c',
           'rtmutex_lock': '#d62728'}


def fields(text):
    """key=value words of a PE-SOAK line."""
    return dict(w.split('=', 1) for w in text.split() if '=' in w)


def parse(console):
    slices = {}     # slice -> PE-SOAK torture fields
    samples = []    # (t, slice, total)
    minutes = []    # PE-SOAK minute fields
    other = {}      # first word -> the rest of the line, last one wins
    mark_t = {}
    cur = None
    for line in console:
        m = MARK.search(line)
        if m:
            cur = int(m.group(2))
            mark_t[cur] = float(m.group(1))
            continue
        m = WRITES.search(line)
        if m and cur is not None:
            samples.append((float(m.group(1)), cur, int(m.group(2))))
            continue
        m = SOAK.search(line)
        if not m:
            continue
        text = m.group(1)
        word = text.split()[0]
        if word == 'torture':
            f = fields(text)
            if 'slice' in f:
                slices[int(f['slice'])] = f
        elif word.startswith('minute='):
            minutes.append(fields(text))
        else:
            other[word] = text
    return slices, samples, minutes, other, mark_t


def rates(slices, samples, mark_t):
    """(minutes since the first slice, type, writes per second) points."""
    if not mark_t:
        return []
    t0 = min(mark_t.values())
    pts = []
    prev = {}
    for t, s, total in samples:
        typ = slices.get(s, {}).get('type', '?')
        last = prev.get(s, (mark_t[s], 0))
        dt = t - last[0]
        if dt > 0 and total >= last[1]:
            pts.append(((t - t0) / 60.0, typ, (total - last[1]) / dt))
        prev[s] = (t, total)
    return pts


def svg(pts, path, title):
    w, h, ml, mr, mt, mb = 760, 360, 70, 150, 30, 45
    xmax = max([p[0] for p in pts] + [1.0])
    ymax = max([p[2] for p in pts] + [1.0]) * 1.1
    def x(v):
        return ml + v / xmax * (w - ml - mr)
    def y(v):
        return h - mb - v / ymax * (h - mt - mb)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">%s</text>' % (ml, title),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
           % (ml, h - mb, w - mr, h - mb),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
           % (ml, mt, ml, h - mb)]
    for i in range(6):
        xv = xmax * i / 5
        yv = ymax * i / 5
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>'
                   % (x(xv), h - mb + 16, xv))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.0f</text>'
                   % (ml - 6, y(yv) + 4, yv))
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                   % (ml, y(yv), w - mr, y(yv)))
    out.append('<text x="%d" y="%d" text-anchor="middle">minutes</text>'
               % ((ml + w - mr) // 2, h - 8))
    out.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" '
               'text-anchor="middle">write acquisitions / s</text>'
               % ((mt + h - mb) // 2, (mt + h - mb) // 2))
    for i, (typ, col) in enumerate(COLOURS.items()):
        for px, pt, pv in pts:
            if pt == typ:
                out.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>'
                           % (x(px), y(pv), col))
        out.append('<circle cx="%d" cy="%d" r="5" fill="%s"/>'
                   % (w - mr + 15, mt + 20 + 20 * i, col))
        out.append('<text x="%d" y="%d">%s</text>'
                   % (w - mr + 25, mt + 24 + 20 * i, typ))
    out.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')


def main():
    ap = argparse.ArgumentParser(description='Summarise a make soak run.')
    ap.add_argument('--commit', default='?', help='the commit the run tested')
    ap.add_argument('dir', help='the results folder')
    a = ap.parse_args()
    con = os.path.join(a.dir, 'console.log')
    if not os.path.isfile(con):
        print('soak-report.py: %s has no console.log' % a.dir, file=sys.stderr)
        return 1
    with open(con, errors='replace') as f:
        console = f.read().splitlines()
    env = {}
    if os.path.isfile(os.path.join(a.dir, 'boot.env')):
        with open(os.path.join(a.dir, 'boot.env')) as f:
            env = dict(l.rstrip('\n').split('=', 1) for l in f if '=' in l)
    results = []
    if os.path.isfile(os.path.join(a.dir, 'results.tsv')):
        with open(os.path.join(a.dir, 'results.tsv')) as f:
            results = [l.rstrip('\n').split('\t') for l in f if l.strip()]
    slices, samples, minutes, other, mark_t = parse(console)
    if not slices and not minutes:
        print('soak-report.py: %s: no PE-SOAK lines: not a soak run, or it '
              'never started' % a.dir, file=sys.stderr)
        return 1

    cmdline = env.get('CMDLINE', '')
    m = re.search(r'pe_soak_min=([0-9]+)', cmdline)
    flag = re.search(r'sched_proxy_exec=([01])', cmdline)
    nfail = sum(1 for r in results if len(r) > 1 and r[1] == 'FAIL')
    npass = sum(1 for r in results if len(r) > 1 and r[1] == 'PASS')
    console_row = [r for r in results if r and r[0] == 'console']
    splats = 0
    if console_row and console_row[0][1] == 'FAIL':
        sp = os.path.join(a.dir, 'splats.txt')
        splats = sum(1 for _ in open(sp)) if os.path.isfile(sp) else 1

    lines = ['# Soak: %s' % ('PASS' if results and nfail == 0 else 'FAIL'), '',
             '| | |', '|---|---|',
             '| date | %s |' % os.path.basename(os.path.normpath(a.dir))[:15],
             '| commit | %s |' % a.commit,
             '| kernel | %s (%s, %s) |' % (env.get('RELEASE', '?'),
                                          env.get('ARCH', '?'),
                                          env.get('FLAVOUR', '?')),
             '| guest | %s CPUs, %s, %s |' % (env.get('SMP', '?'),
                                              env.get('MEM', '?'),
                                              env.get('ACCEL', '?')),
             '| sched_proxy_exec | %s |' % (
                 {'1': 'on', '0': 'off'}.get(flag.group(1)) if flag else '?'),
             '| minutes of load | %s (%d progress lines) |' % (
                 m.group(1) if m else '?', len(minutes)),
             '| wall seconds | %s |' % env.get('SECONDS', '?'),
             '| splats | %d |' % splats,
             '| verdicts | %d passed, %d failed |' % (npass, nfail),
             '']
    lines += ['| torture type | slices | SUCCESS | write acquisitions | CPU offlines |',
              '|---|---|---|---|---|']
    for typ in COLOURS:
        ss = [s for s in slices.values() if s.get('type') == typ]
        lines.append('| %s | %d | %d | %d | %d |' % (
            typ, len(ss), sum(1 for s in ss if s.get('verdict') == 'SUCCESS'),
            sum(int(s.get('writes', 0)) for s in ss),
            sum(int(s.get('offlines', 0)) for s in ss)))
    lines.append('')
    last = minutes[-1] if minutes else {}
    lines += ['| other load | count |', '|---|---|',
              '| test-ww_mutex runs / failed | %s |'
              % last.get('ww_runs/failed', '?'),
              '| pe_latency runs / failed / disturbed | %s |'
              % last.get('latency_runs/failed/disturbed', '?')]
    if 'stress-ng' in other:
        f = fields(other['stress-ng'])
        lines.append('| stress-ng runs (non-zero exits) | %s (%s) |'
                     % (f.get('runs', '?'), f.get('nonzero_exits', '?')))
    if 'storms' in other:
        f = fields(other['storms'])
        lines.append('| storms applied | %s |' % ', '.join(
            '%s %s' % (k, v) for k, v in f.items()))
    lines.append('')
    if 'accounting' in other:
        lines += ['Accounting at the end: %s' % other['accounting'][len('accounting '):], '']
    if other.get('deadline', '').startswith('deadline total_bw before '):
        lines += ['Deadline bandwidth (reported, not judged): %s' % other['deadline'][len('deadline '):], '']
    refused = [l.split('PE-SOAK: ', 1)[1] for l in console if 'PE-SOAK: offline of CPU ' in l]
    if refused:
        lines += ['CPU offlines refused with -EBUSY, and the deadline samples around them:', '']
        lines += ['- %s' % r for r in refused]
        lines.append('')
    why = [l.split('PE-SOAK: latency disturbed ', 1)[1] for l in console
           if 'PE-SOAK: latency disturbed ' in l]
    if why:
        lines += ['pe_latency runs that did not set up (CPU offline, overload):', '']
        lines += ['- %s' % w for w in why]
        lines.append('')
    fails = [r for r in results if len(r) > 1 and r[1] == 'FAIL']
    for r in fails:
        lines.append('- FAIL %s: %s' % (r[0], r[2] if len(r) > 2 else ''))
    text = '\n'.join(lines).rstrip('\n') + '\n'
    with open(os.path.join(a.dir, 'summary.md'), 'w') as f:
        f.write(text)
    pts = rates(slices, samples, mark_t)
    svg(pts, os.path.join(a.dir, 'throughput.svg'),
        'locktorture throughput, %s, %s CPUs' % (env.get('ARCH', '?'), env.get('SMP', '?')))
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
