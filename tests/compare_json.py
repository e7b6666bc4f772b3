#!/usr/bin/env python3
"""Compares two JSON documents: same structure, strings equal, numbers within a relative tolerance.

  compare_json.py A.json B.json TOL [--ignore KEY,KEY...]
--ignore skips the values of those keys wherever they occur (e.g. a memory estimate that counts threads).
"""
import json
import sys


def compare(a, b, tol, path="$", ignore=()):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys differ"
        for k in a:
            if k in ignore:
                continue
            r = compare(a[k], b[k], tol, f"{path}.{k}", ignore)
            if r:
                return r
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = compare(x, y, tol, f"{path}[{i}]", ignore)
            if r:
                return r
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if abs(a - b) <= tol * max(abs(a), abs(b), 1e-300) or abs(a - b) <= 1e-300:
            return None
        return f"{path}: {a!r} != {b!r}"
    return None if a == b else f"{path}: {a!r} != {b!r}"


def main():
    with open(sys.argv[1]) as f:
        text_a = f.read()
    with open(sys.argv[2]) as f:
        text_b = f.read()
    if not text_a.strip() or not text_b.strip():
        print("empty output")
        return 1
    ignore = ()
    if len(sys.argv) > 5 and sys.argv[4] == "--ignore":
        ignore = tuple(sys.argv[5].split(","))
    problem = compare(json.loads(text_a), json.loads(text_b), float(sys.argv[3]), ignore=ignore)
    if problem:
        print(problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
