"""Synthetic event logs and the MovieLens-100k loader, for tests and benchmarks."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
_MOVIELENS_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.{}"
_MOVIELENS_CACHE = "ml-100k.npz"
_DAY = 86_400.0


@dataclass(frozen=True)
class EventLog:
    """Choice events on external ids, with item attributes and customer segments."""

    customer_ids: np.ndarray
    item_ids: np.ndarray
    weights: np.ndarray
    times: np.ndarray
    item_features: dict[str, list[str]]
    customer_segments: dict[str, str]


@dataclass(frozen=True)
class MovieLens100k:
    """MovieLens-100k ratings, movies (genres, release year) and users, as parsed arrays."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    movie_ids: np.ndarray
    release_years: np.ndarray
    genre_names: np.ndarray
    movie_genres: np.ndarray
    profile_user_ids: np.ndarray
    ages: np.ndarray
    genders: np.ndarray
    occupations: np.ndarray

    def events(self, min_rating: float = 0.0) -> EventLog:
        """Ratings >= min_rating as unit-weight events, occupation as the customer segment."""
        kept = self.ratings >= min_rating
        return EventLog(
            customer_ids=self.user_ids[kept].astype(str),
            item_ids=self.item_ids[kept].astype(str),
            weights=np.ones(int(kept.sum())),
            times=self.timestamps[kept].astype(float),
            item_features=self.item_features(),
            customer_segments=dict(
                zip(self.profile_user_ids.astype(str).tolist(), self.occupations.tolist(), strict=True)
            ),
        )

    def item_features(self) -> dict[str, list[str]]:
        """Item features as LightFM tokens: genre=<name> and decade=<1990s> when known."""
        features: dict[str, list[str]] = {}
        for movie, year, genres in zip(
            self.movie_ids.tolist(), self.release_years.tolist(), self.movie_genres, strict=True
        ):
            tokens = [
                f"genre={name.lower()}" for name in self.genre_names[genres].tolist() if name != "unknown"
            ]
            if year > 0:
                tokens.append(f"decade={year // 10 * 10}s")
            features[str(movie)] = tokens
        return features


def load_movielens_100k(cache_dir: Path = DEFAULT_CACHE_DIR) -> MovieLens100k:
    """MovieLens-100k from cache_dir, else parsed from a downloaded (never installed) recbole wheel."""
    cached = cache_dir / _MOVIELENS_CACHE
    if not cached.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        movielens = parse_recbole_wheel(_recbole_wheel(cache_dir))
        np.savez(cached, **{f.name: getattr(movielens, f.name) for f in fields(movielens)})
    with np.load(cached, allow_pickle=False) as stored:
        return MovieLens100k(**{f.name: stored[f.name] for f in fields(MovieLens100k)})


def parse_recbole_wheel(wheel: Path) -> MovieLens100k:
    """Parse ml-100k.inter, .item and .user (recbole atomic files) out of a recbole wheel."""
    with zipfile.ZipFile(wheel) as archive:
        inter, item, user = (
            _atomic_columns(archive.read(_MOVIELENS_MEMBER.format(suffix)).decode("utf-8"))
            for suffix in ("inter", "item", "user")
        )
    genre_lists = [value.split() for value in item["class"]]
    genre_names = np.array(sorted({g for genres in genre_lists for g in genres}), dtype=str)
    movie_genres = np.array([np.isin(genre_names, genres) for genres in genre_lists], dtype=bool)
    return MovieLens100k(
        user_ids=np.array(inter["user_id"], dtype=np.int64),
        item_ids=np.array(inter["item_id"], dtype=np.int64),
        ratings=np.array(inter["rating"], dtype=np.float32),
        timestamps=np.array(inter["timestamp"], dtype=float).astype(np.int64),
        movie_ids=np.array(item["item_id"], dtype=np.int64),
        release_years=np.array([int(y) if y.isdigit() else 0 for y in item["release_year"]]),
        genre_names=genre_names,
        movie_genres=movie_genres.reshape(len(genre_lists), genre_names.size),
        profile_user_ids=np.array(user["user_id"], dtype=np.int64),
        ages=np.array(user["age"], dtype=np.int64),
        genders=np.array(user["gender"], dtype=str),
        occupations=np.array(user["occupation"], dtype=str),
    )


def _atomic_columns(text: str) -> dict[str, list[str]]:
    """Columns of a recbole atomic file keyed by field name (header name:type, type dropped)."""
    lines = text.rstrip("\n").split("\n")
    names = [column.split(":")[0] for column in lines[0].rstrip("\r").split("\t")]
    rows = [line.rstrip("\r").split("\t") for line in lines[1:] if line.strip()]
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _recbole_wheel(cache_dir: Path) -> Path:
    """A recbole wheel in cache_dir, downloaded with pip (no dependencies) when missing."""
    wheels = sorted(cache_dir.glob("recbole-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", RECBOLE_REQUIREMENT, "-d", str(cache_dir)],
            check=True,
        )
        wheels = sorted(cache_dir.glob("recbole-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip download left no recbole wheel in {cache_dir}")
    return wheels[-1]


def bookstore_like(
    seed: int = 0,
    customers: int = 200,
    items: int = 300,
    genres: int = 10,
    authors: int = 60,
    events_per_customer: tuple[int, int] = (10, 30),
) -> EventLog:
    """Customers with distinct tastes (a favourite genre and authors) buying distinct books."""
    rng = np.random.default_rng(seed)
    author_genre = rng.integers(genres, size=authors)
    item_author = rng.integers(authors, size=items)
    item_genre = author_genre[item_author]
    base = 1.0 / np.arange(1, items + 1) ** 0.5
    rows = []
    for customer in range(customers):
        favourite_genre = rng.integers(genres)
        in_genre = np.flatnonzero(author_genre == favourite_genre)
        favourite_authors = rng.choice(in_genre, size=min(2, in_genre.size), replace=False)
        appeal = base * np.where(item_genre == favourite_genre, 20.0, 1.0)
        appeal *= np.where(np.isin(item_author, favourite_authors), 10.0, 1.0)
        rows.append(_distinct_choices(rng, customer, appeal, events_per_customer))
    return _event_log(
        rows,
        {f"b{j}": [f"genre=g{item_genre[j]}", f"author=a{item_author[j]}"] for j in range(items)},
        _random_regions(rng, customers),
    )


def petrol_like(
    seed: int = 0,
    customers: int = 300,
    shares: tuple[float, ...] = (0.85, 0.10, 0.05),
    visits_per_customer: tuple[int, int] = (4, 16),
) -> EventLog:
    """Everyone buys the same few fuels in the same shares, visit after visit."""
    rng = np.random.default_rng(seed)
    probabilities = np.asarray(shares) / np.sum(shares)
    rows = []
    for customer in range(customers):
        visits = int(rng.integers(visits_per_customer[0], visits_per_customer[1] + 1))
        chosen = rng.choice(probabilities.size, size=visits, p=probabilities)
        rows.append((np.full(visits, customer), chosen, np.sort(rng.uniform(0, 365, visits))))
    return _event_log(
        rows,
        {f"f{j}": [f"octane=o{j}"] for j in range(probabilities.size)},
        _random_regions(rng, customers),
        item_prefix="f",
    )


def segment_like(
    seed: int = 0,
    customers: int = 300,
    segments: int = 3,
    items_per_segment: int = 20,
    events_per_customer: tuple[int, int] = (8, 16),
) -> EventLog:
    """Two or three homogeneous segments: within a segment everyone shares one taste."""
    rng = np.random.default_rng(seed)
    items = segments * items_per_segment
    item_home = np.repeat(np.arange(segments), items_per_segment)
    base = np.tile(1.0 / np.arange(1, items_per_segment + 1), segments)
    labels = rng.integers(segments, size=customers)
    rows = [
        _distinct_choices(
            rng,
            customer,
            base * np.where(item_home == labels[customer], 30.0, 1.0),
            events_per_customer,
        )
        for customer in range(customers)
    ]
    return _event_log(
        rows,
        {f"b{j}": [f"shelf=s{item_home[j]}"] for j in range(items)},
        {f"c{c}": f"segment-{labels[c]}" for c in range(customers)},
    )


def _distinct_choices(
    rng: np.random.Generator, customer: int, appeal: np.ndarray, span: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One customer's distinct purchases, drawn by appeal, at sorted days of a year."""
    count = min(int(rng.integers(span[0], span[1] + 1)), appeal.size)
    chosen = rng.choice(appeal.size, size=count, replace=False, p=appeal / appeal.sum())
    return np.full(count, customer), chosen, np.sort(rng.uniform(0, 365, count))


def _random_regions(rng: np.random.Generator, customers: int, regions: int = 3) -> dict[str, str]:
    """CRM-style segment labels that say nothing about taste."""
    return {f"c{c}": f"region-{r}" for c, r in enumerate(rng.integers(regions, size=customers))}


def _event_log(
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    item_features: dict[str, list[str]],
    customer_segments: dict[str, str],
    item_prefix: str = "b",
) -> EventLog:
    """Assemble per-customer (customer, item, day) draws into an EventLog."""
    customer_index, item_index, days = (np.concatenate(parts) for parts in zip(*rows, strict=True))
    return EventLog(
        customer_ids=np.char.add("c", customer_index.astype(str)),
        item_ids=np.char.add(item_prefix, item_index.astype(str)),
        weights=np.ones(customer_index.size),
        times=days * _DAY,
        item_features=item_features,
        customer_segments=customer_segments,
    )
