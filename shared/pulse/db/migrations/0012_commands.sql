-- Commands to devices (ARCHITECTURE §3 State plane): sent on tenant/{t}/device/{d}/commands,
-- acknowledged on commands/{id}/ack, expired by schedule at expires_at (CommandExpired goes into
-- the twin_events outbox, event_key = command id, so it is raised once).

CREATE TABLE commands (
    tenant_id     text NOT NULL,
    id            text NOT NULL,
    device_id     text NOT NULL,
    name          text NOT NULL CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,63}$'),
    params        jsonb NOT NULL DEFAULT '{}',
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'sent', 'accepted', 'succeeded', 'failed', 'expired', 'cancelled')),
    expires_at    timestamptz NOT NULL,
    result        jsonb,
    error         text,
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz,
    acked_at      timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX commands_by_device ON commands (tenant_id, device_id, created_at DESC, id DESC);
CREATE INDEX commands_open_by_expiry ON commands (expires_at) WHERE status IN ('queued', 'sent', 'accepted');

ALTER TABLE commands ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON commands TO pulse_app
    USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant());
CREATE POLICY operator_all ON commands TO pulse_operator USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON commands TO pulse_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON commands TO pulse_operator;
