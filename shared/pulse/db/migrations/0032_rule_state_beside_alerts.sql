-- Alert actions and twin changes evaluate rules in the tenant's own transaction (pulse_app):
-- acknowledging a latched alert releases the latch in its rule state, and a twin update
-- re-evaluates the device's twin rules (a state may start there). Row-level security keeps both
-- to the tenant (policy tenant_isolation of 0030).
GRANT INSERT, UPDATE ON rule_state TO pulse_app;

-- twin_not_converged conditions read which desired leaves outlived the tenant's convergence
-- deadline (rows the convergence check marked notified); the evaluators run as pulse_ingest.
CREATE POLICY ingest_read ON twin_pending_desired FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON twin_pending_desired TO pulse_ingest;

-- Disabling or deleting a rule resolves its active alerts.
CREATE INDEX alerts_active_by_rule ON alerts (tenant_id, rule_id) WHERE state IN ('open', 'acknowledged', 'snoozed');
