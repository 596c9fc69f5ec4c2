#!/usr/bin/env python3
"""shared_labels.py CTEST BUILD_DIR SHARED_DIR

Every test whose command line or environment names the ../shared folder
(the real tracks, the independent layout checker) carries the label
`shared`, and no other test is told where the real tracks are
(DM_TRACKS_DIR). That is what lets a clone with no ../shared beside it run
only the `shared` tests again (.ci/run): every other test saw no ../shared
in the main suite either.

Reads the tests as ctest lists them (--show-only=json-v1). Fails naming each
test that names ../shared without the label; fails too when no test has it.
"""
import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    ctest, build, shared = sys.argv[1:]
    forms = {shared.rstrip('/'), os.path.normpath(shared), os.path.realpath(shared)}
    out = subprocess.run([ctest, '--test-dir', build, '--show-only=json-v1'], capture_output=True, text=True)
    if out.returncode != 0:
        print('ctest --show-only=json-v1 failed: ' + out.stderr.strip())
        return 1
    tests = json.loads(out.stdout)['tests']
    labelled, wrong = [], []
    for t in tests:
        props = {p['name']: p['value'] for p in t.get('properties', [])}
        labels = props.get('LABELS', [])
        env = props.get('ENVIRONMENT', [])
        words = list(t.get('command', [])) + list(env)
        names_shared = any(f in w for w in words for f in forms) or any(e.startswith('DM_TRACKS_DIR=') for e in env)
        if t['name'] == 'shared_labels':
            continue   # this check itself: it only reads the listing
        if 'shared' in labels:
            labelled.append(t['name'])
        elif names_shared:
            wrong.append(t['name'])
    print('%d tests, %d labelled shared: %s' % (len(tests), len(labelled), ' '.join(labelled)))
    if wrong:
        print('FAIL: these tests name %s but are not labelled shared (tests/CMakeLists.txt, DM_SHARED_TESTS): %s'
              % (shared, ' '.join(wrong)))
        return 1
    if not labelled:
        print('FAIL: no test is labelled shared')
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
