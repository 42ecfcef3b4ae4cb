"""Normalization: raw metrics of a device model under the tenant's catalog names."""

from __future__ import annotations

import pytest

from pulse.rules.normalize import MetricMapping, normalize_metrics


def test_normalization_scales_mapped_metrics_renames_booleans_and_passes_the_rest_through():
    mappings = {
        "t_f": MetricMapping(model="m", source="t_f", metric="temp_c", multiplier=5 / 9, offset=-160 / 9),
        "dr": MetricMapping(model="m", source="dr", metric="door_open", multiplier=2),
    }
    out = normalize_metrics({"t_f": 212.0, "dr": True, "hum": 40.0, "temp_c": 1.0}, mappings)
    assert out == {"temp_c": pytest.approx(100.0), "door_open": True, "hum": 40.0}
    assert normalize_metrics({"x": 1.0}, {}) == {"x": 1.0}
    with pytest.raises(ValueError, match="multiplier"):
        MetricMapping(model="m", source="a", metric="b", multiplier=0)
