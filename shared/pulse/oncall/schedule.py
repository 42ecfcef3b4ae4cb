"""The final schedule (pure): who is on call at every instant of a range, and why.

At each instant, overrides come first (the newest override covering it wins, so a later override
or an accepted swap replaces an earlier one where they overlap); then the layers from the highest
priority down: the first layer with someone on call at that instant decides. Where nobody is, the
segment says so (a coverage gap). The answer is contiguous ``[start, end)`` segments covering the
whole range, adjacent pieces with the same person from the same source merged.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pulse.oncall.models import Gap, Layer, OnCallSchedule, Override, Segment, SegmentSource
from pulse.oncall.rotation import Shift, layer_shifts


@dataclass(frozen=True, slots=True)
class _Cover:
    username: str
    source: SegmentSource
    source_id: str


@dataclass(frozen=True, slots=True)
class _LayerCover:
    """One layer's shifts in the range, sorted and disjoint, with their starts for bisect."""

    layer: Layer
    shifts: list[Shift]
    starts: list[datetime]

    def at(self, instant: datetime) -> _Cover | None:
        i = bisect.bisect_right(self.starts, instant) - 1
        if i >= 0 and self.shifts[i].end > instant:
            return _Cover(self.shifts[i].username, "layer", self.layer.id)
        return None


def _layers(schedule: OnCallSchedule, start: datetime, end: datetime) -> list[_LayerCover]:
    tz = ZoneInfo(schedule.timezone)
    covers = []
    for layer in sorted(schedule.layers, key=lambda candidate: candidate.priority, reverse=True):
        found = layer_shifts(layer.rotation, layer.restrictions, tz, start, end)
        covers.append(_LayerCover(layer, found, [s.start for s in found]))
    return covers


def _override_at(overrides: Sequence[Override], instant: datetime) -> _Cover | None:
    for o in overrides:  # newest first
        if o.starts_at <= instant < o.ends_at:
            return _Cover(o.username, o.source, o.id)
    return None


def final_schedule(
    schedule: OnCallSchedule, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Segment]:
    """Contiguous segments covering ``[start, end)``; empty when the range is."""
    if end <= start:
        return []
    layers = _layers(schedule, start, end)
    relevant = sorted(
        (o for o in overrides if o.starts_at < end and start < o.ends_at),
        key=lambda o: (o.created_at, o.id),
        reverse=True,
    )
    cuts = {start, end}
    for layer in layers:
        for s in layer.shifts:
            cuts.update((s.start, s.end))
    for o in relevant:
        cuts.update((o.starts_at, o.ends_at))
    points = sorted(c for c in cuts if start <= c <= end)
    segments: list[Segment] = []
    for lo, hi in itertools.pairwise(points):
        cover = _override_at(relevant, lo) or next((c for c in (lc.at(lo) for lc in layers) if c), None)
        previous = segments[-1] if segments else None
        if previous is not None and _same(previous, cover):
            segments[-1] = previous.model_copy(update={"end": hi})
            continue
        segments.append(
            Segment(
                start=lo,
                end=hi,
                username=cover.username if cover else None,
                source=cover.source if cover else None,
                source_id=cover.source_id if cover else None,
            )
        )
    return segments


def _same(segment: Segment, cover: _Cover | None) -> bool:
    if cover is None:
        return segment.username is None
    return (segment.username, segment.source, segment.source_id) == (cover.username, cover.source, cover.source_id)


def gaps(segments: Sequence[Segment]) -> list[Gap]:
    """The segments with nobody on call."""
    return [Gap(start=s.start, end=s.end) for s in segments if s.username is None]


def on_call_during(segments: Sequence[Segment], username: str) -> bool:
    """Whether ``username`` is the one on call across every segment given (a swap's whole range)."""
    return bool(segments) and all(s.username == username for s in segments)
