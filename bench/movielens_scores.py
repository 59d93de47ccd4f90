"""Score MovieLens-100k's genre and release decade through the service's own path (SQL aggregation, scorer).

Run: .venv/bin/python -m bench.movielens_scores
Every rating is a choice event of the rated movie; a movie's genres (multi-valued) and release decade are
its attribute values. Loads into a throwaway SQLite file, scores, prints each decision with its CIs.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recommender.datasets import load_movielens_100k
from service.catalog import service as catalog
from service.catalog.schemas import AttributeKind, AttributePut
from service.config import Settings
from service.db import create_db_engine, session_scope
from service.migrate import upgrade
from service.profiles import service as profiles
from service.tenancy import service as tenancy
from service.workloads.inline import score_now

CHUNK = 10_000


def movie_rows(data: Any) -> list[dict[str, Any]]:
    """Items with genre (all of a movie's genres) and decade."""
    rows = []
    for movie, year, genres in zip(
        data.movie_ids.tolist(), data.release_years.tolist(), data.movie_genres, strict=True
    ):
        attributes: dict[str, Any] = {
            "genre": [g for g in data.genre_names[genres].tolist() if g != "unknown"]
        }
        if year > 0:
            attributes["decade"] = f"{year // 10 * 10}s"
        rows.append({"item_id": str(movie), "attributes": attributes, "active": True})
    return rows


def rating_events(data: Any) -> list[dict[str, Any]]:
    """One choice event per rating."""
    return [
        {
            "event_id": f"r-{n}",
            "customer_id": str(user),
            "type": "rating",
            "item_id": str(item),
            "occurred_at": datetime.fromtimestamp(float(stamp), UTC).isoformat(),
        }
        for n, (user, item, stamp) in enumerate(
            zip(data.user_ids.tolist(), data.item_ids.tolist(), data.timestamps.tolist(), strict=True)
        )
    ]


@contextmanager
def _quiet(_title: str):
    """No progress bar."""
    yield lambda _fraction, _message: None


def _estimate(bounds: Any) -> float:
    """An interval's estimate, NaN when there is none."""
    return float("nan") if bounds is None else float(bounds.estimate)


def main() -> None:
    """Load, score and print."""
    data = load_movielens_100k()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'ml.db'}"
        upgrade(url)
        engine = create_db_engine(Settings(database_url=url))
        with session_scope(engine) as session:
            tenant_id = tenancy.create_tenant(session, "movielens").id or 0
            for name, kind in (("genre", "multi-valued"), ("decade", "categorical")):
                catalog.put_attribute(session, tenant_id, name, AttributePut(kind=AttributeKind(kind)))
            items = movie_rows(data)
            catalog.sync_items(session, tenant_id, enumerate(items, 1), len(items))
        events = rating_events(data)
        for start in range(0, len(events), CHUNK):
            with session_scope(engine) as session:
                profiles.ingest_events(session, tenant_id, events[start : start + CHUNK], CHUNK)
        started = time.perf_counter()
        decisions = score_now(engine, "movielens", None, _quiet)
        seconds = time.perf_counter() - started
        engine.dispose()
    figures = {}
    for d in decisions:
        print(f"\n{d.attribute}: {d.decision} ({d.level})")
        for name in ("phi", "lift", "delta_hit", "segment_lift", "individual_over_segment_lift"):
            bounds = getattr(d, name)
            if bounds is not None:
                print(f"  {name:<30} {bounds.estimate:8.4f}  [{bounds.low:.4f}, {bounds.high:.4f}]")
        print(f"  customers {d.customers}, events {d.events:.0f}, segments {d.n_segments}, k={d.k}")
        print(f"  {d.explanation}")
        figures[d.attribute] = d
    print(f"\nscored in {seconds:.1f} s")
    genre, decade = figures["genre"], figures["decade"]
    print(
        f"RESULT genre_level={genre.level} genre_lift={_estimate(genre.lift):.3f} "
        f"decade_level={decade.level} decade_lift={_estimate(decade.lift):.3f}"
    )


if __name__ == "__main__":
    main()
