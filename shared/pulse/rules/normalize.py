"""The tenant's metric catalog and how raw device metrics are mapped onto it.

Rules are written against catalog names (``temp_c``), devices report whatever their model calls
a value (``t_f`` in Fahrenheit on one model, ``temperature`` on another). A mapping of a device
model turns one raw metric into one catalog metric: ``value * multiplier + offset``. Evaluation
sees the normalized names; a raw metric without a mapping passes through under its own name, so a
fleet of one model needs no catalog at all. Booleans are renamed but never scaled. Telemetry is
stored raw; every evaluation path (ingest, scheduled catch-up, backtest) normalizes the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pulse.connect.envelope import MetricName

Unit = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class CatalogMetric(BaseModel):
    """A metric name rules may use, with its unit (``degC``, ``%``, ``V``) and what it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: MetricName
    unit: Unit = ""
    description: Annotated[str, StringConstraints(max_length=500)] = ""


class MetricMapping(BaseModel):
    """Raw ``source`` of a device ``model`` is catalog ``metric`` = raw * ``multiplier`` + ``offset``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelName
    source: MetricName
    metric: MetricName
    multiplier: Finite = 1.0
    offset: Finite = 0.0
    source_unit: Unit = ""

    @model_validator(mode="after")
    def _invertible(self) -> MetricMapping:
        if self.multiplier == 0:
            raise ValueError("multiplier must not be zero (the mapping would lose every value)")
        return self


ModelMappings = Mapping[str, MetricMapping]  # raw metric name -> its mapping, for one device model


def normalize_metrics(metrics: Mapping[str, float | bool], mappings: ModelMappings) -> dict[str, float | bool]:
    """``metrics`` of one message under catalog names; unmapped names pass through unchanged.

    When a mapped metric and an unmapped raw metric land on the same name, the mapped value wins
    (the mapping is the tenant's explicit statement of what that name means for this model).
    """
    if not mappings:
        return dict(metrics)
    out: dict[str, float | bool] = {}
    mapped: dict[str, float | bool] = {}
    for name, value in metrics.items():
        mapping = mappings.get(name)
        if mapping is None:
            out[name] = value
        elif isinstance(value, bool):
            mapped[mapping.metric] = value
        else:
            mapped[mapping.metric] = float(value) * mapping.multiplier + mapping.offset
    out.update(mapped)
    return out
