-- Alerts (ARCHITECTURE §3 Rules plane): the alert lifecycle, its timeline, silences, maintenance
-- windows and the transactional outbox whose rows the publisher moves to the EventBridge bus.
--
-- The ingest Lambda and the scheduled evaluator run as pulse_ingest across tenants: they open,
-- repeat and resolve alerts, append timeline and outbox rows, and read silences and maintenance.
-- The outbox publisher also runs as pulse_ingest (claim, mark published). Customers act through
-- the API as pulse_app (row-level security on tenant_id); operators see everything.

CREATE TABLE alerts (
    tenant_id             text NOT NULL,
    id                    text NOT NULL,
    fingerprint           text NOT NULL,  -- '<rule_id>/<device_id>' ('/' is in neither id)
    rule_id               text NOT NULL,
    rule_version          integer NOT NULL CHECK (rule_version >= 1),
    rule_name             text NOT NULL DEFAULT '',
    device_id             text NOT NULL,
    site_id               text,
    severity              text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
    severity_rank         smallint NOT NULL CHECK (severity_rank BETWEEN 1 AND 5),  -- info 1 .. critical 5
    state                 text NOT NULL DEFAULT 'open'
                          CHECK (state IN ('open', 'acknowledged', 'snoozed', 'resolved', 'closed')),
    source                text NOT NULL CHECK (source IN ('stream', 'schedule', 'backtest')),
    latched               boolean NOT NULL DEFAULT false,
    silenced              boolean NOT NULL DEFAULT false,
    silence_id            text,
    snoozed_until         timestamptz,
    assignee              text,
    count                 integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    first_value           jsonb,
    last_value            jsonb,
    opened_at             timestamptz NOT NULL,
    episode_started_at    timestamptz NOT NULL,  -- opened_at, or the last time it was reopened
    last_fired_at         timestamptz NOT NULL,
    acknowledged_at       timestamptz,
    acknowledged_by       text,
    condition_cleared_at  timestamptz,  -- a latched alert's condition has cleared (evaluator said so)
    resolve_due_at        timestamptz,  -- flap suppression: a deferred resolve takes effect then
    resolved_at           timestamptz,
    resolved_by           text,
    closed_at             timestamptz,
    explanation           jsonb NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL,
    version               integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
-- At most one alert per (tenant, fingerprint) that is still active.
CREATE UNIQUE INDEX alerts_one_active ON alerts (tenant_id, fingerprint)
    WHERE state NOT IN ('resolved', 'closed');
CREATE INDEX alerts_newest ON alerts (tenant_id, opened_at DESC, id DESC);
CREATE INDEX alerts_by_fingerprint ON alerts (tenant_id, fingerprint, resolved_at DESC);
CREATE INDEX alerts_resolve_due ON alerts (resolve_due_at) WHERE resolve_due_at IS NOT NULL;
CREATE INDEX alerts_snooze_due ON alerts (snoozed_until) WHERE state = 'snoozed';

-- Timeline of one alert, append-only: what happened, who did it, an optional note.
CREATE TABLE alert_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  text NOT NULL,
    alert_id   text NOT NULL,
    at         timestamptz NOT NULL,
    action     text NOT NULL,
    actor      text NOT NULL,
    note       text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb,
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX alert_events_by_alert ON alert_events (tenant_id, alert_id, id);

-- Silences: an alert opened while a silence matches is recorded silenced (nobody is notified).
-- Every matcher given must match; tags must all be on the device; severities empty = any.
CREATE TABLE silences (
    tenant_id            text NOT NULL REFERENCES tenants (id),
    id                   text NOT NULL,
    site_id              text,
    device_id            text,
    rule_id              text,
    tags                 jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tags) = 'object'),
    severities           text[] NOT NULL DEFAULT '{}',
    starts_at            timestamptz NOT NULL,
    ends_at              timestamptz NOT NULL,
    reason               text NOT NULL DEFAULT '',
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL,
    expiry_notified_at   timestamptz,  -- the one SilenceExpired event was written then
    PRIMARY KEY (tenant_id, id),
    CHECK (ends_at >= starts_at),  -- equal: ended (cancelled) before it started
    CHECK (site_id IS NOT NULL OR device_id IS NOT NULL OR rule_id IS NOT NULL
           OR tags <> '{}'::jsonb OR cardinality(severities) > 0)
);
CREATE INDEX silences_active ON silences (tenant_id, ends_at);
CREATE INDEX silences_expiry_due ON silences (ends_at) WHERE expiry_notified_at IS NULL;

-- Maintenance: a device or a whole site raises no alerts while a window covers the instant.
CREATE TABLE maintenance_windows (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    device_id   text,
    site_id     text,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    ended_by    text,
    PRIMARY KEY (tenant_id, id),
    CHECK (ends_at >= starts_at),  -- equal: ended (cancelled) before it started
    CHECK ((device_id IS NULL) <> (site_id IS NULL))
);
CREATE INDEX maintenance_by_device ON maintenance_windows (tenant_id, device_id, ends_at) WHERE device_id IS NOT NULL;
CREATE INDEX maintenance_by_site ON maintenance_windows (tenant_id, site_id, ends_at) WHERE site_id IS NOT NULL;

-- Transactional outbox of domain events (Alert*, SilenceExpired). detail is the event's data;
-- the publisher adds the metadata envelope and marks the row published.
CREATE TABLE events_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text NOT NULL,
    event_type      text NOT NULL CHECK (event_type ~ '^[A-Z][A-Za-z]{2,63}$'),
    correlation_id  text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    detail          jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text
);
CREATE INDEX events_outbox_unpublished ON events_outbox (id) WHERE published_at IS NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['alerts', 'alert_events', 'silences', 'maintenance_windows', 'events_outbox'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON alerts, silences, maintenance_windows TO pulse_app;
GRANT SELECT, INSERT ON alert_events, events_outbox TO pulse_app;

-- Ingest and the scheduled evaluator cross tenants; the outbox publisher marks rows published.
CREATE POLICY ingest_all ON alerts TO pulse_ingest USING (true) WITH CHECK (true);
CREATE POLICY ingest_all ON alert_events TO pulse_ingest USING (true) WITH CHECK (true);
CREATE POLICY ingest_all ON events_outbox TO pulse_ingest USING (true) WITH CHECK (true);
CREATE POLICY ingest_read ON silences FOR SELECT TO pulse_ingest USING (true);
CREATE POLICY ingest_expire ON silences FOR UPDATE TO pulse_ingest USING (true) WITH CHECK (true);
CREATE POLICY ingest_read ON maintenance_windows FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT, INSERT, UPDATE ON alerts, events_outbox TO pulse_ingest;
GRANT SELECT, INSERT ON alert_events TO pulse_ingest;
GRANT SELECT ON silences, maintenance_windows TO pulse_ingest;
GRANT UPDATE (expiry_notified_at) ON silences TO pulse_ingest;

-- The explanation of an alert snapshots the device twin at trigger time.
CREATE POLICY ingest_alert_snapshot ON device_twins FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON device_twins TO pulse_ingest;
