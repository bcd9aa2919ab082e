# SPDX-License-Identifier: GPL-2.0
"""Input of the benchmark report: constants, samples.csv and meta.env rows,
and the Markdown helpers every section uses."""

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
