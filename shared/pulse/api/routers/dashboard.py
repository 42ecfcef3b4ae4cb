"""The tenant dashboard: one read for the portal's landing page (viewers included)."""

from __future__ import annotations

from fastapi import APIRouter

from pulse.api.deps import ServicesDep, TenantDep
from pulse.dashboard.models import TenantDashboard
from pulse.dashboard.service import tenant_dashboard

router = APIRouter(tags=["dashboard"])


@router.get("/dashboard")
def get_dashboard(scope: TenantDep, svc: ServicesDep) -> TenantDashboard:
    """Active devices by connectivity now (online, stale, offline, never heard from), open alerts by
    severity, messages received per minute over the last 60 complete minutes with the rate of the last
    60 seconds, and the latest 20 alert lifecycle steps and presence changes, newest first."""
    return tenant_dashboard(scope, svc.clock())
