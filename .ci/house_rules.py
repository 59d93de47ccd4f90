"""House rules the linters cannot see: module size, and SQL only in repositories."""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAX_LINES = 400
SQL = re.compile(r"sa\.text\(|\bselect\(|\.exec\(|session\.execute\(|sa\.(update|delete|insert)\(|\bCOPY \w")
# Modules that talk SQL without being a domain's repository, each for one reason.
SQL_ALLOWED = {
    "service/db.py": "the engine, sessions and dialect fast paths",
    "service/health.py": "the readiness probe's SELECT 1",
    "service/own_writes.py": "the marker notification a write transaction commits for its own worker",
    "service/serving/change_listener.py": "LISTEN and the delivery probe of change notifications",
}


def is_repository(path: Path) -> bool:
    """A module whose name says it holds queries (or tables, whose indexes may carry a predicate)."""
    return path.stem == "repository" or path.stem.endswith("_repository") or path.stem == "models"


def problems(root: Path) -> list[str]:
    """Every broken rule, one line each."""
    found = []
    for path in sorted([*root.glob("service/**/*.py"), *root.glob("recommender/**/*.py")]):
        relative = path.relative_to(root).as_posix()
        lines = path.read_text().splitlines()
        if len(lines) > MAX_LINES:
            found.append(f"{relative}: {len(lines)} lines, more than {MAX_LINES}: split it by purpose")
        if relative.startswith("service/") and not is_repository(path) and relative not in SQL_ALLOWED:
            for number, line in enumerate(lines, 1):
                if SQL.search(line) and not line.lstrip().startswith(("#", '"""')):
                    found.append(f"{relative}:{number}: SQL outside a repository: {line.strip()[:60]}")
    return found


if __name__ == "__main__":
    broken = problems(Path(__file__).resolve().parent.parent)
    print("\n".join(broken) or f"House rules kept: modules under {MAX_LINES} lines, SQL in repositories.")
    sys.exit(1 if broken else 0)
