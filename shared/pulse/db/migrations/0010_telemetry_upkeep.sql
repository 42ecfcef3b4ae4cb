-- Indexes the maintenance job's range deletes and rollup refreshes need at scale, and the
-- TimescaleDB retention policies that 0002 describes (plain PostgreSQL drops day partitions).
CREATE INDEX telemetry_1m_tenant_bucket ON telemetry_1m (tenant_id, bucket);
CREATE INDEX telemetry_1h_tenant_bucket ON telemetry_1h (tenant_id, bucket);
CREATE INDEX telemetry_1m_bucket_brin ON telemetry_1m USING brin (bucket);
CREATE INDEX telemetry_1h_bucket_brin ON telemetry_1h USING brin (bucket);
CREATE INDEX quarantine_events_received ON quarantine_events (received_at);

DO $$
BEGIN
    IF pulse_timescale_enabled() THEN
        PERFORM add_retention_policy('telemetry', interval '90 days');
        PERFORM add_retention_policy('telemetry_messages', interval '90 days');
    END IF;
END
$$;
