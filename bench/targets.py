"""The benchmarks' verdicts: one line a target, met or missed, with the figure behind it."""


def print_checks(checks):
    """checks: (name, ok, value) triples; prints them and returns the exit code 0 (a missed target is
    a finding, not a failure of the benchmark)."""
    for name, ok, value in checks:
        print(f"  [{'met ' if ok else 'MISS'}] {name}: {value}")
    return 0
