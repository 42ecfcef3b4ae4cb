-- Connectivity (issue 5): ONLINE / STALE / OFFLINE from last-seen, the heartbeat interval and the
-- IoT Core lifecycle events ($aws/events/presence/connected|disconnected/+), with a history.
--
-- Nothing is added to `devices`: ingest updates every active device's row each batch and relies on
-- HOT updates, so presence and the last computed status live in a row of their own per device.

-- The one definition of the status, used by the scheduled sweep and by each presence event;
-- pulse.connectivity.status.connectivity_status is the same rule in Python (a test holds them equal).
--   heard_at = the later of last_seen_at and, while connected, the connect time
--   OFFLINE  when disconnected and no message came after the disconnect, or never heard from
--   ONLINE   when now - heard_at <= 1.5 x heartbeat interval
--   STALE    when now - heard_at <= 3 x heartbeat interval
--   OFFLINE  after that
-- A single expression without FROM, so the planner inlines it into the sweep (a per-row SQL
-- function call costs ~8 us; 200k devices would spend seconds on calls alone).
CREATE FUNCTION pulse_connectivity_status(
    last_seen_at timestamptz, heartbeat_interval_s integer, connected boolean, presence_at timestamptz,
    at timestamptz
) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN connected IS FALSE AND (last_seen_at IS NULL OR presence_at >= last_seen_at) THEN 'OFFLINE'
        WHEN greatest(last_seen_at, CASE WHEN connected THEN presence_at END) IS NULL THEN 'OFFLINE'
        WHEN at - greatest(last_seen_at, CASE WHEN connected THEN presence_at END)
             <= make_interval(secs => 1.5 * heartbeat_interval_s) THEN 'ONLINE'
        WHEN at - greatest(last_seen_at, CASE WHEN connected THEN presence_at END)
             <= make_interval(secs => 3 * heartbeat_interval_s) THEN 'STALE'
        ELSE 'OFFLINE'
    END
$$;

-- Current state, one row per device that was ever connected or evaluated. The presence columns
-- hold the newest lifecycle event by (presence_at, presence_version, disconnect after connect), so
-- a late, older event never overrides a newer one. status is the sweep's last computed value.
CREATE TABLE device_connectivity (
    tenant_id          text NOT NULL,
    device_id          text NOT NULL,
    connected          boolean,                      -- NULL: no lifecycle event yet
    presence_at        timestamptz,                  -- time of that event (IoT Core's timestamp)
    presence_version   bigint,
    session_id         text,
    client_id          text,
    disconnect_reason  text,                         -- of the last disconnect, kept after a reconnect
    disconnected_at    timestamptz,
    status             text NOT NULL DEFAULT 'OFFLINE' CHECK (status IN ('ONLINE', 'STALE', 'OFFLINE')),
    status_since       timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
    CHECK ((connected IS NULL) = (presence_at IS NULL))
);

-- Append-only history: every lifecycle event as it happened (even one that arrived too late to
-- change the current state) and every change of the computed status.
CREATE TABLE device_connectivity_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text NOT NULL,
    device_id   text NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('connected', 'disconnected', 'status')),
    status      text CHECK (status IN ('ONLINE', 'STALE', 'OFFLINE')),
    reason      text,
    session_id  text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE,
    CHECK ((kind = 'status') = (status IS NOT NULL))
);
CREATE INDEX device_connectivity_events_by_device
    ON device_connectivity_events (tenant_id, device_id, at DESC, id DESC);
-- IoT rules deliver at least once: a redelivered lifecycle event is the same row.
CREATE UNIQUE INDEX device_connectivity_events_once
    ON device_connectivity_events (tenant_id, device_id, kind, session_id, at) WHERE kind <> 'status';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['device_connectivity', 'device_connectivity_events'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;

-- Customers read; presence events and the sweep cross tenants and write as pulse_operator.
GRANT SELECT ON device_connectivity, device_connectivity_events TO pulse_app;
GRANT EXECUTE ON FUNCTION pulse_connectivity_status(timestamptz, integer, boolean, timestamptz, timestamptz)
    TO pulse_app, pulse_operator;
