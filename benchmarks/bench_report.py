"""Report speed on a 1.5 MB global state with one changed key (issue: reports at a glance).

Prints the median time to build the report next to the time to parse the two documents in
the same run, and the time plain DeepDiff takes on the same pair for comparison.

    python3 benchmarks/bench_report.py [--repeat 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codexsnap.report import diff_file
from tests.homebuilder import global_state


def big_state(target_bytes: int) -> dict[str, Any]:
    """A realistic global state grown with composer drafts to about ``target_bytes``."""
    drafts = 10
    while True:
        state = global_state(drafts=drafts)
        size = len(json.dumps(state, separators=(",", ":")))
        if size >= target_bytes:
            return state
        drafts = int(drafts * target_bytes / size) + 10


def median_seconds(action: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=1_500_000, help="global state bytes")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--skip-plain", action="store_true", help="skip plain DeepDiff")
    args = parser.parse_args()

    state = big_state(args.size)
    old = json.dumps(state, separators=(",", ":")).encode()
    changed = dict(state)
    changed["settings"] = {**state["settings"], "theme": "dark"}
    new = json.dumps(changed, separators=(",", ":")).encode()

    parse = median_seconds(lambda: (json.loads(old), json.loads(new)), args.repeat)
    report = median_seconds(lambda: diff_file(".codex-global-state.json", old, new), args.repeat)
    result = diff_file(".codex-global-state.json", old, new)
    assert [c.path for c in result.changes] == [("settings", "theme")], result.changes
    results: dict[str, Any] = {
        "machine": f"{platform.system()} {platform.machine()}, {platform.python_version()}",
        "global_state_bytes": len(old),
        "parse_both_s": round(parse, 4),
        "report_s": round(report, 4),
        "report_over_parse": round(report / parse, 2),
    }
    if not args.skip_plain:
        from deepdiff import DeepDiff  # noqa: TID251 (the plain-DeepDiff comparison)

        a, b = json.loads(old), json.loads(new)
        results["plain_deepdiff_s"] = round(
            median_seconds(lambda: DeepDiff(a, b, threshold_to_diff_deeper=0), 1), 3
        )
    for key, value in results.items():
        print(f"{key:>22}: {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
