-- Telemetry store: one row per (message, metric), a message ledger that also deduplicates
-- redeliveries, rollups, quarantine. On plain PostgreSQL the big tables are partitioned by UTC day
-- and maintained by the scheduled maintenance job; with TimescaleDB they become hypertables with
-- compression and retention policies (see pulse_timescale_enabled()).

CREATE FUNCTION pulse_timescale_enabled() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
END
$$;

-- Day-partitioned on plain PostgreSQL; converted to hypertables below when TimescaleDB is present
-- (a hypertable cannot be declared partitioned, so the two shapes are created in one DO block).
DO $$
DECLARE
    part text := CASE WHEN pulse_timescale_enabled() THEN '' ELSE ' PARTITION BY RANGE (ts)' END;
BEGIN
    EXECUTE 'CREATE TABLE telemetry (
        tenant_id  text NOT NULL,
        device_id  text NOT NULL,
        ts         timestamptz NOT NULL,
        metric     text NOT NULL,
        value      double precision NOT NULL
    )' || part;
    EXECUTE 'CREATE TABLE telemetry_messages (
        tenant_id    text NOT NULL,
        device_id    text NOT NULL,
        msg_key      text NOT NULL,
        ts           timestamptz NOT NULL,
        seq          bigint,
        site_id      text,
        lat          double precision,
        lng          double precision,
        metric_count integer NOT NULL,
        source       text NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, device_id, msg_key, ts)
    )' || part;
    IF pulse_timescale_enabled() THEN
        PERFORM create_hypertable('telemetry', 'ts', chunk_time_interval => interval '1 day');
        PERFORM create_hypertable('telemetry_messages', 'ts', chunk_time_interval => interval '1 day');
        EXECUTE 'ALTER TABLE telemetry SET (timescaledb.compress,
                 timescaledb.compress_segmentby = ''tenant_id, device_id, metric'')';
        PERFORM add_compression_policy('telemetry', interval '2 days');
    END IF;
END
$$;

CREATE INDEX telemetry_device_metric_ts ON telemetry (tenant_id, device_id, metric, ts);

-- Rollups keyed by bucket start. Maintained from dirty hours (late data included) on plain
-- PostgreSQL; TimescaleDB installations get the same tables, refreshed by the same job.
CREATE TABLE telemetry_1m (
    tenant_id   text NOT NULL,
    device_id   text NOT NULL,
    metric      text NOT NULL,
    bucket      timestamptz NOT NULL,
    count       bigint NOT NULL,
    sum         double precision NOT NULL,
    min         double precision NOT NULL,
    max         double precision NOT NULL,
    last_ts     timestamptz NOT NULL,
    last_value  double precision NOT NULL,
    PRIMARY KEY (tenant_id, device_id, metric, bucket)
);
CREATE TABLE telemetry_1h (LIKE telemetry_1m INCLUDING ALL);

-- Hours that received data since their rollups were last computed.
CREATE TABLE telemetry_dirty_hours (
    tenant_id  text NOT NULL,
    hour       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, hour)
);

CREATE TABLE quarantine_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    tenant_id    text,
    device_id    text,
    topic        text NOT NULL,
    source       text NOT NULL CHECK (source IN ('mqtt', 'http')),
    reason       text NOT NULL,
    detail       text NOT NULL,
    excerpt      text NOT NULL,
    payload_size integer NOT NULL
);
CREATE INDEX quarantine_events_tenant ON quarantine_events (tenant_id, received_at DESC);
CREATE INDEX quarantine_events_reason ON quarantine_events (reason, received_at DESC);

CREATE TABLE quarantine_counts (
    minute     timestamptz NOT NULL,
    tenant_id  text NOT NULL,          -- '' when the topic named no known tenant
    reason     text NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (minute, tenant_id, reason)
);

-- Creates the UTC-day partition of `parent` holding `day`, if missing. SECURITY DEFINER so that
-- the ingest role can make a partition on demand without owning the table.
CREATE FUNCTION pulse_ensure_day_partition(parent text, day date) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    child text := format('%s_p%s', parent, to_char(day, 'YYYYMMDD'));
BEGIN
    IF parent NOT IN ('telemetry', 'telemetry_messages') THEN
        RAISE EXCEPTION 'not a day-partitioned table: %', parent;
    END IF;
    IF pulse_timescale_enabled() OR to_regclass(child) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   child, parent, day::text || ' 00:00:00+00', (day + 1)::text || ' 00:00:00+00');
END
$$;

-- Drops day partitions whose whole day is older than `keep_days`; returns the names dropped.
CREATE FUNCTION pulse_drop_expired_partitions(parent text, keep_days integer) RETURNS SETOF text
    LANGUAGE plpgsql
    AS $$
DECLARE
    child record;
    cutoff date := (now() AT TIME ZONE 'UTC')::date - keep_days;
BEGIN
    FOR child IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass
          AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', child.relname);
        RETURN NEXT child.relname;
    END LOOP;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['telemetry', 'telemetry_messages', 'telemetry_1m', 'telemetry_1h',
                             'telemetry_dirty_hours', 'quarantine_events', 'quarantine_counts']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant())
                        WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('CREATE POLICY ingest_all ON %I TO pulse_ingest USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT ON %I TO pulse_app', t);
        EXECUTE format('GRANT SELECT, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;

GRANT INSERT, SELECT ON telemetry, telemetry_messages, quarantine_events TO pulse_ingest;
-- Ingest removes the ledger row of a message it refuses after dedup (rate limit) so a retry can land.
GRANT DELETE ON telemetry_messages TO pulse_ingest;
GRANT INSERT, SELECT, UPDATE ON quarantine_counts, telemetry_dirty_hours TO pulse_ingest;
GRANT EXECUTE ON FUNCTION pulse_ensure_day_partition(text, date) TO pulse_ingest;
