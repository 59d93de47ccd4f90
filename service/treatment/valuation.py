"""Customer values for a scoring run: a CRM trait when the tenant provides one, else RFM of purchases.

The tenant provides the trait (the setting `value_trait`, `lifetime_value` by default) when at least one
profiled customer holds a finite number there (a numeric string counts); then every customer is ranked
by it, and one without it ranks last with source `none`. Otherwise every customer is ranked by the RFM
value of their purchase events (see rfm.py). Customers without profiling consent get no value at all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlmodel import Session

from service.db import utcnow
from service.jobs.models import Run
from service.treatment import repository
from service.treatment.models import TreatmentSettings
from service.treatment.rfm import percentile_ranks, rfm


def trait_number(raw: Any) -> float:
    """A trait as a finite number, or NaN (missing, not a number, not finite)."""
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            return math.nan
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return math.nan
    return float(raw)


def value_rows(session: Session, run: Run, settings: TreatmentSettings) -> list[dict[str, Any]]:
    """One row per profiled customer: the value, its source, RFM figures and the percentile rank."""
    customers = repository.profiled_customers(session, run.tenant_id, settings.value_trait)
    ids = np.fromiter((c for c, _ in customers), dtype=np.int64, count=len(customers))
    traits = np.fromiter((trait_number(raw) for _, raw in customers), dtype=np.float64, count=len(customers))
    now = utcnow()
    figures = rfm(
        ids,
        repository.purchases(session, run.tenant_id, settings.purchase_types),
        now.timestamp(),
        settings.recency_half_life_days,
    )
    from_trait = bool(np.isfinite(traits).any())
    values = traits if from_trait else figures.value
    percentiles = percentile_ranks(values)
    return [
        {
            "tenant_id": run.tenant_id,
            "customer_id": int(ids[i]),
            "run_id": run.id,
            "source": ("trait" if math.isfinite(values[i]) else "none") if from_trait else "events",
            "value": float(values[i]) if math.isfinite(values[i]) else None,
            "percentile": float(percentiles[i]),
            "recency_days": None if math.isnan(figures.recency_days[i]) else float(figures.recency_days[i]),
            "frequency": int(figures.frequency[i]),
            "monetary": float(figures.monetary[i]),
            "computed_at": now,
        }
        for i in range(ids.size)
    ]
