"""Rules: versioned rules (create, read, new version under If-Match, enable/disable, delete), their
backtest over stored telemetry, and the metric catalog with per-model mappings rules are written against.

Custom methods follow ``POST /rules/{id}:enable`` (AIP-136). A refused rule document answers 422
with the field path of every error (``condition.threshold.value``); each write is audited in its
own transaction by the rules service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from pulse.alerts.policy import AlertPolicy
from pulse.api.deps import IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.outbox.after_commit import publish_after_commit
from pulse.registry.errors import NotFound, PreconditionRequired
from pulse.registry.paging import Page, decode_cursor, encode_cursor
from pulse.rules import service
from pulse.rules.backtest import BacktestResult, backtest_read_only
from pulse.rules.model import Rule
from pulse.rules.normalize import CatalogMetric, MetricMapping
from pulse.rules.resources import (
    BacktestRequest,
    CatalogMetricBody,
    MetricMappingBody,
    RuleDraft,
    RuleVersionDraft,
    RuleVersionView,
    RuleView,
)
from pulse.rules.store import RuleRecord

router = APIRouter(tags=["rules"])
BACKTEST_DRAFT_ID = "draft"
_RULE_REFUSALS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such rule"},
    412: {"description": "If-Match is stale"},
    422: {"description": "the rule document is invalid (field named)"},
    428: {"description": "If-Match missing"},
}
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE)]
T = TypeVar("T")


def _validated(build: Callable[[], T], *where: str) -> T:
    """Builds a model from request parts; a refusal becomes the 422 the request validation gives."""
    try:
        return build()
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": (*where, *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None


def _rule(draft: RuleDraft, tenant_id: str, rule_id: str | None = None) -> Rule:
    return _validated(lambda: draft.for_tenant(tenant_id, rule_id), "body")


def _answer(record: RuleRecord, response: Response) -> RuleView:
    response.headers["ETag"] = etag(record.current_version)
    return RuleView.of(record)


# --- rules ----------------------------------------------------------------------------------------


@router.post("/rules", status_code=status.HTTP_201_CREATED, responses={409: {"description": "the id exists"}})
def create_rule(scope: WriterDep, body: RuleDraft, response: Response) -> RuleView:
    rule = _rule(body, scope.tenant_id)
    with scope.transaction() as conn:
        record = service.create_rule(conn, scope.tenant_id, rule, scope.actor)
    return _answer(record, response)


@router.get("/rules")
def list_rules(scope: TenantDep, limit: Limit = 50, cursor: str | None = None) -> Page[RuleView]:
    with scope.transaction() as conn:
        page = service.list_rules(conn, scope.tenant_id, cursor=cursor, limit=limit)
    return Page[RuleView](items=[RuleView.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/rules:backtest", responses={422: {"description": "invalid rule, or over a backtest limit"}})
def backtest_rule(scope: TenantDep, svc: ServicesDep, body: BacktestRequest) -> BacktestResult:
    """What the draft rule would have opened and resolved over [start, end) of stored telemetry.

    Nothing is saved and no alert or rule state changes. The state starts empty at ``start``.
    """
    rule = _validated(lambda: body.rule.for_tenant(scope.tenant_id, BACKTEST_DRAFT_ID), "body", "rule")
    return backtest_read_only(
        scope,
        rule,
        start=body.start,
        end=body.end,
        device_ids=body.device_ids,
        policy=AlertPolicy.from_settings(svc.settings),
    )


@router.get("/rules/{rule_id}", responses={404: {"description": "no such rule"}})
def get_rule(scope: TenantDep, rule_id: str, response: Response) -> RuleView:
    with scope.transaction() as conn:
        record = service.get_rule(conn, scope.tenant_id, rule_id)
    return _answer(record, response)


@router.put("/rules/{rule_id}", responses=_RULE_REFUSALS)
def update_rule(
    scope: WriterDep, svc: ServicesDep, rule_id: str, body: RuleVersionDraft, if_match: IfMatchDep, response: Response
) -> RuleView:
    """Writes the next version; send the rule's ETag (its current version) in If-Match."""
    if if_match is None:
        raise PreconditionRequired("If-Match: send the rule's ETag (its current version) to write the next one")
    rule = _rule(body, scope.tenant_id, rule_id)
    with publish_after_commit(svc.outbox()), scope.transaction() as conn:
        record = service.update_rule(
            conn, scope.tenant_id, rule_id, rule, scope.actor, expected_version=if_match, at=svc.clock()
        )
    return _answer(record, response)


@router.post("/rules/{rule_id}:enable", responses={404: {"description": "no such rule"}})
def enable_rule(scope: WriterDep, rule_id: str, response: Response) -> RuleView:
    with scope.transaction() as conn:
        change = service.set_rule_enabled(conn, scope.tenant_id, rule_id, True, scope.actor)
    return _answer(change.record, response)


@router.post("/rules/{rule_id}:disable", responses={404: {"description": "no such rule"}})
def disable_rule(scope: WriterDep, svc: ServicesDep, rule_id: str, response: Response) -> RuleView:
    """Stops evaluation (the per-device state is dropped; enabling again starts fresh)."""
    # its active alerts resolve in this transaction (reason "rule disabled"); see rules.service
    with publish_after_commit(svc.outbox()), scope.transaction() as conn:
        change = service.set_rule_enabled(conn, scope.tenant_id, rule_id, False, scope.actor, at=svc.clock())
    return _answer(change.record, response)


@router.delete(
    "/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"description": "no such rule"}}
)
def delete_rule(scope: WriterDep, svc: ServicesDep, rule_id: str) -> None:
    """Soft delete: the id stays taken and its versions stay readable for alert history and audit."""
    # its active alerts resolve in this transaction (reason "rule deleted"); see rules.service
    with publish_after_commit(svc.outbox()), scope.transaction() as conn:
        service.delete_rule(conn, scope.tenant_id, rule_id, scope.actor, at=svc.clock())


@router.get("/rules/{rule_id}/versions", responses={404: {"description": "no such rule"}})
def list_versions(
    scope: TenantDep, rule_id: str, limit: Limit = 50, cursor: str | None = None
) -> Page[RuleVersionView]:
    """Newest first; ``next_cursor`` while older versions follow."""
    after = decode_cursor(cursor, "rule_versions")
    before = int(after[0]) if after else None
    with scope.transaction() as conn:
        versions = service.list_versions(conn, scope.tenant_id, rule_id)
    older = [v for v in versions if before is None or v.version < before]
    page = older[:limit]
    next_cursor = encode_cursor("rule_versions", [page[-1].version]) if len(older) > limit else None
    return Page[RuleVersionView](items=[RuleVersionView.of(v) for v in page], next_cursor=next_cursor)


@router.get("/rules/{rule_id}/versions/{version}", responses={404: {"description": "no such rule or version"}})
def get_version(scope: TenantDep, rule_id: str, version: int) -> RuleVersionView:
    with scope.transaction() as conn:
        versions = service.list_versions(conn, scope.tenant_id, rule_id)
    found = next((v for v in versions if v.version == version), None)
    if found is None:
        raise NotFound(f"rule {rule_id!r} has no version {version}")
    return RuleVersionView.of(found)


# --- metric catalog and mappings ------------------------------------------------------------------


@router.get("/metrics", tags=["metrics"])
def list_metrics(scope: TenantDep) -> list[CatalogMetric]:
    """The tenant's metric catalog, by name."""
    with scope.transaction() as conn:
        return service.list_catalog(conn, scope.tenant_id)


@router.get("/metrics/{name}", tags=["metrics"], responses={404: {"description": "not in the catalog"}})
def get_metric(scope: TenantDep, name: str) -> CatalogMetric:
    with scope.transaction() as conn:
        found = next((m for m in service.list_catalog(conn, scope.tenant_id) if m.name == name), None)
    if found is None:
        raise NotFound(f"no metric {name!r} in the catalog")
    return found


@router.put("/metrics/{name}", tags=["metrics"], responses={422: {"description": "invalid name or unit"}})
def put_metric(scope: WriterDep, name: str, body: CatalogMetricBody) -> CatalogMetric:
    """Creates or updates the catalog entry ``name``."""
    metric = _validated(lambda: CatalogMetric(name=name, **body.model_dump()))
    with scope.transaction() as conn:
        return service.put_catalog_metric(conn, scope.tenant_id, metric, scope.actor)


@router.delete(
    "/metrics/{name}",
    tags=["metrics"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "not in the catalog"}, 409: {"description": "a mapping targets it"}},
)
def delete_metric(scope: WriterDep, name: str) -> None:
    with scope.transaction() as conn:
        service.delete_catalog_metric(conn, scope.tenant_id, name, scope.actor)


@router.get("/models/{model}/metric-mappings", tags=["metrics"])
def list_mappings(scope: TenantDep, model: str) -> list[MetricMapping]:
    """How raw metrics of devices of ``model`` map onto the catalog, by raw name."""
    with scope.transaction() as conn:
        return service.list_mappings(conn, scope.tenant_id, model)


@router.put(
    "/models/{model}/metric-mappings/{source}",
    tags=["metrics"],
    responses={400: {"description": "the target is not in the catalog"}, 409: {"description": "target mapped"}},
)
def put_mapping(scope: WriterDep, model: str, source: str, body: MetricMappingBody) -> MetricMapping:
    mapping = _validated(lambda: MetricMapping(model=model, source=source, **body.model_dump()))
    with scope.transaction() as conn:
        return service.put_mapping(conn, scope.tenant_id, mapping, scope.actor)


@router.delete(
    "/models/{model}/metric-mappings/{source}",
    tags=["metrics"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such mapping"}},
)
def delete_mapping(scope: WriterDep, model: str, source: str) -> None:
    with scope.transaction() as conn:
        service.delete_mapping(conn, scope.tenant_id, model, source, scope.actor)
