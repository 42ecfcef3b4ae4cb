"""What the rules API takes and answers: drafts without a tenant, stored rules with their bookkeeping,
and the backtest request.

A draft is the rule document of ``pulse.rules.model`` minus what the platform decides: the tenant
(from the verified token), the version (the store counts) and, on update, the id (from the path).
It is validated by the same model, so a refusal names the field (``condition.threshold.value``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

from pulse.registry.models import DeviceId
from pulse.rules.model import Rule, Scope
from pulse.rules.store import RuleRecord, RuleVersionRecord


class ScopeDraft(Scope):
    """A scope whose tenant is the caller's; a ``tenant_id``, when sent, must be that tenant."""

    tenant_id: str = Field(default="", description="optional: always the caller's tenant")


class RuleDraft(Rule):
    """A rule to create or backtest. ``version`` is ignored (the store numbers versions)."""

    scope: ScopeDraft = Field(default_factory=ScopeDraft)

    def for_tenant(self, tenant_id: str, rule_id: str | None = None) -> Rule:
        """The stored form: the caller's tenant in the scope (unless the draft names another, which the
        service refuses), the path's rule id when the draft leaves it empty."""
        body: dict[str, Any] = self.model_dump(mode="json")
        body["scope"]["tenant_id"] = self.scope.tenant_id or tenant_id
        body["id"] = self.id or rule_id
        return Rule.model_validate(body)


class RuleVersionDraft(RuleDraft):
    """The next version of a rule (``PUT /rules/{id}``); ``id``, when sent, must be the path's."""

    id: str = Field(default="", pattern=r"^([A-Za-z0-9][A-Za-z0-9_.:-]{0,127})?$")


class RuleView(BaseModel):
    """A rule as stored: its current version's document and who made it when."""

    id: str
    current_version: int
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    rule: Rule

    @classmethod
    def of(cls, record: RuleRecord) -> RuleView:
        return cls(
            id=record.rule.id,
            current_version=record.current_version,
            enabled=record.enabled,
            created_by=record.created_by,
            created_at=record.created_at,
            updated_at=record.updated_at,
            rule=record.rule,
        )


class RuleVersionView(BaseModel):
    version: int
    created_by: str
    created_at: datetime
    rule: Rule

    @classmethod
    def of(cls, record: RuleVersionRecord) -> RuleVersionView:
        return cls(version=record.version, created_by=record.created_by, created_at=record.created_at, rule=record.rule)


class BacktestRequest(BaseModel):
    """Replay [start, end) of stored telemetry through ``rule`` (not saved); ``device_ids`` narrows the
    devices its scope matches."""

    rule: RuleVersionDraft = Field(description="the rule to try; its id may be left out")
    start: AwareDatetime
    end: AwareDatetime
    device_ids: Annotated[list[DeviceId], Field(max_length=1000)] = Field(default_factory=list)


class CatalogMetricBody(BaseModel):
    """``PUT /metrics/{name}``: the metric's unit and meaning (the name is the path's)."""

    unit: Annotated[str, Field(max_length=32)] = ""
    description: Annotated[str, Field(max_length=500)] = ""


class MetricMappingBody(BaseModel):
    """``PUT /models/{model}/metric-mappings/{source}``: raw ``source`` is catalog ``metric`` =
    raw * ``multiplier`` + ``offset``."""

    metric: str
    multiplier: float = 1.0
    offset: float = 0.0
    source_unit: Annotated[str, Field(max_length=32)] = ""
