-- Indexes for the portal dashboard, the operator console and the NOC (pulse.dashboard, pulse.noc).
--
-- Every one serves a read that crosses time, not a device: the newest events of one tenant, alerts
-- opened and delivery attempts finished in a time range across tenants, recent dead letters, the
-- messages received in the last minutes. Nothing is added to devices, and on telemetry_messages
-- (ingest's hot path, ARCHITECTURE §8) only a BRIN index: a row written into a block range that
-- vacuum has not summarized yet (the table's tail, where ingest appends) costs the insert nothing;
-- vacuum summarizes the range later.

-- Ingest rates count messages by receive time. The table is partitioned by the device's timestamp
-- and rows are appended in receive order, so the newest block ranges hold the last minutes.
CREATE INDEX telemetry_messages_received ON telemetry_messages USING brin (received_at);

-- A tenant's newest alert timeline entries, presence changes and quarantined messages (dashboard,
-- NOC feed with a tenant filter): the tables' own ids are the feed's order.
CREATE INDEX alert_events_tenant_newest ON alert_events (tenant_id, id);
CREATE INDEX device_connectivity_events_tenant_newest ON device_connectivity_events (tenant_id, id);
CREATE INDEX quarantine_events_tenant_newest ON quarantine_events (tenant_id, id);

-- Alerts opened per bucket and the day-of-week x hour heatmap, across tenants.
CREATE INDEX alerts_opened ON alerts (opened_at);

-- Delivery outcomes per bucket (attempts) and recent dead letters, across tenants.
CREATE INDEX delivery_attempts_finished ON delivery_attempts (finished_at);
CREATE INDEX deliveries_dead_recent ON deliveries (dead_at, id) WHERE status = 'dead';
