#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kbuild-selected.py - the build targets a kernel config really builds.

Usage: kbuild-selected.py SRC CONFIG TARGET...

Prints each TARGET that CONFIG builds, one per line: a directory
("kernel/sched/") always, a single object ("kernel/delayacct.o") only if
the obj- line of its directory's Makefile that names it is "obj-y" or
"obj-$(CONFIG_FOO)" with FOO set to y or m.  kbuild compiles a named
object even when the config leaves it out, and such an object need not
compile.  Each object left out is named on stderr, with the reason.
"""
import os
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split('\n\n')[1])
    src, config, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    vals = {}
    with open(config) as f:
        for line in f:
            m = re.match(r'CONFIG_(\w+)=(.*)', line)
            if m:
                vals[m.group(1)] = m.group(2)
    for t in targets:
        if t.endswith('/'):
            print(t)
            continue
        d, obj = os.path.split(t)
        with open(os.path.join(src, d, 'Makefile')) as f:
            text = f.read().replace('\\\n', ' ')
        for line in text.split('\n'):
            m = re.match(r'\s*obj-(y|\$\(CONFIG_(\w+)\))\s*[+:]?=(.*)', line)
            if not m or obj not in m.group(3).split():
                continue
            if m.group(1) == 'y' or vals.get(m.group(2)) in ('y', 'm'):
                print(t)
            else:
                print('left out %s: CONFIG_%s is not set' % (t, m.group(2)),
                      file=sys.stderr)
            break
        else:
            print('left out %s: no obj- line in %s/Makefile names it' % (t, d),
                  file=sys.stderr)


if __name__ == '__main__':
    main()
