"""The suite's time: `make test` as it stood at a baseline commit against the same tests under today's.

Run: .venv/bin/python -m bench.suite [--baseline ff4fd89] [--rounds 1] [--whole]

The baseline is the commit the house issue was filed on. A git worktree of it is made in a temporary
folder; its tests are collected and run with its own code on the path and this venv's packages, by the
commands its Makefile's `test` target ran (`make -n test`: the linters, then pytest). Today's `make test`
commands are read the same way and run on the tests of the same names (a moved test is found by its
name, in a file of the same name where several match); the conformance file, which the baseline did not
have, is left out, and the coverage floor (set for the whole suite) is not applied to the part. With
`--whole`, today's whole `make test` is timed as well. Rounds alternate the runs, so they share the
machine's load; the figures are medians.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
CONFORMANCE = "tests/service/test_conformance.py"


@dataclass(frozen=True)
class Timed:
    """A run's wall time in seconds, and whether each of its commands succeeded."""

    seconds: float
    failed: tuple[str, ...]


def make_test_commands(tree: Path) -> list[list[str]]:
    """The commands `make test` runs in a tree, from the venv's bin (installs and shell checks left out)."""
    dry = subprocess.run(["make", "-n", "test"], cwd=tree, capture_output=True, text=True, check=True)
    commands = []
    for line in dry.stdout.splitlines():
        if line.startswith(".venv/bin/") and " pip " not in line:
            words = shlex.split(line)
            commands.append([str(BIN / Path(words[0]).name), *words[1:]])
    return commands


def collected(tree: Path, env: dict[str, str]) -> list[str]:
    """The test ids pytest collects in a tree."""
    found = subprocess.run(
        [str(BIN / "pytest"), "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in found.stdout.splitlines() if "::" in line]


def same_tests(baseline: list[str], current: list[str]) -> list[str]:
    """The current ids of the baseline's tests: by name, in a file of the same name where several match."""
    by_name: dict[str, list[str]] = {}
    for test_id in current:
        by_name.setdefault(test_id.split("::", 1)[1], []).append(test_id)
    chosen: set[str] = set()
    for test_id in baseline:
        path, name = test_id.split("::", 1)
        candidates = by_name.get(name, [])
        alike = [c for c in candidates if Path(c.split("::", 1)[0]).name == Path(path).name]
        chosen.update(alike or candidates)
    return sorted(chosen)


def timed(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> Timed:
    """Run the commands one after another (as make does, but on to the end) and time them, mypy cold."""
    failed = []
    with tempfile.TemporaryDirectory(prefix="suite-mypy-") as cache:  # mypy starts cold, as on a clone
        start = time.perf_counter()
        for command in commands:
            done = subprocess.run(
                command,
                cwd=cwd,
                env={**env, "MYPY_CACHE_DIR": cache},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if done.returncode != 0:
                failed.append(f"{Path(command[0]).name} exited {done.returncode}")
        return Timed(time.perf_counter() - start, tuple(failed))


def on_these_tests(commands: list[list[str]], tests: list[str]) -> list[list[str]]:
    """Today's commands with the main pytest run on `tests` only and the conformance run left out."""
    chosen = []
    for command in commands:
        if Path(command[0]).name != "pytest":
            chosen.append(command)
        elif CONFORMANCE not in command:
            chosen.append([*command, "--cov-fail-under=0", *tests])
    return chosen


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A detached git worktree of a commit in a temporary folder, removed after."""
    with tempfile.TemporaryDirectory(prefix="suite-baseline-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), commit], cwd=ROOT, check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def main() -> None:
    """Time the baseline's `make test` and today's on the same tests, alternating, and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="ff4fd89", help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--whole", action="store_true", help="also time today's whole `make test`")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with worktree(args.baseline) as tree:
        old_env = {**env, "PYTHONPATH": str(tree)}
        old_tests, new_tests = collected(tree, old_env), collected(ROOT, env)
        tests = same_tests(old_tests, new_tests)
        now = make_test_commands(ROOT)
        runs = {
            "baseline": (make_test_commands(tree), tree, old_env),
            "same_tests": (on_these_tests(now, tests), ROOT, env),
        }
        if args.whole:
            runs["whole"] = (now, ROOT, env)
        print(
            f"baseline {args.baseline}: {len(old_tests)} tests;"
            f" today: {len(new_tests)}, of them the same {len(tests)}"
        )
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for round_number in range(1, args.rounds + 1):
            for name, (commands, cwd, run_env) in runs.items():
                result = timed(commands, cwd, run_env)
                seconds[name].append(result.seconds)
                failures = f" ({'; '.join(result.failed)})" if result.failed else ""
                print(f"round {round_number} {name}: {result.seconds:.1f} s{failures}", flush=True)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    ratio = median["same_tests"] / median["baseline"]
    whole = f" whole_s={median['whole']:.1f} whole_tests={len(new_tests)}" if args.whole else ""
    print(
        f"RESULT baseline_s={median['baseline']:.1f} same_tests_s={median['same_tests']:.1f}"
        f" ratio={ratio:.2f} tests={len(tests)}{whole}"
    )


if __name__ == "__main__":
    main()
