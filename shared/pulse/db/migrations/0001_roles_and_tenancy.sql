-- Roles and the tenant/device core that ingest needs (the registry extends these tables).
--
-- Group roles are NOLOGIN; the login user that runs migrations is made a member so that each
-- Lambda can `SET ROLE` to the one it needs. pulse_operator and pulse_ingest cross tenants through
-- explicit policies on every table, so isolation never depends on a role attribute. Where the
-- migrating user may grant BYPASSRLS (a superuser), the two roles also get it: PostgreSQL refuses
-- COPY FROM into a table whose RLS applies to the current role, and ingest's direct binary COPY is
-- its fast path (elsewhere it stages rows in a temporary table; see pulse.stream.writer).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_app') THEN
        CREATE ROLE pulse_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_ingest') THEN
        CREATE ROLE pulse_ingest NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_operator') THEN
        CREATE ROLE pulse_operator NOLOGIN;
    END IF;
END
$$;

DO $$
BEGIN
    ALTER ROLE pulse_ingest BYPASSRLS;
    ALTER ROLE pulse_operator BYPASSRLS;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'BYPASSRLS not grantable here: ingest stages its COPY, operators use their policies';
END
$$;

GRANT pulse_app, pulse_ingest, pulse_operator TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO pulse_app, pulse_ingest, pulse_operator;

-- The tenant the current transaction acts for ('' when none is set).
CREATE FUNCTION pulse_current_tenant() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('app.tenant_id', true), '') $$;

CREATE TABLE tenants (
    id                      text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status                  text NOT NULL DEFAULT 'active'
                            CHECK (status IN ('trial', 'active', 'grace', 'suspended', 'expired')),
    device_rate_per_minute  integer CHECK (device_rate_per_minute > 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    tenant_id             text NOT NULL REFERENCES tenants (id),
    id                    text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    name                  text NOT NULL DEFAULT '',
    status                text NOT NULL DEFAULT 'active'
                          CHECK (status IN ('active', 'revoked', 'decommissioned')),
    thing_name            text UNIQUE,
    certificate_id        text,
    token_hash            bytea,
    site_id               text,
    heartbeat_interval_s  integer NOT NULL DEFAULT 300 CHECK (heartbeat_interval_s > 0),
    last_seen_at          timestamptz,
    last_msg_ts           timestamptz,
    last_metrics          jsonb NOT NULL DEFAULT '{}'::jsonb,
    rate_window           timestamptz,
    rate_count            integer NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
) WITH (fillfactor = 50);  -- ingest updates every active device's row each batch: room for HOT updates

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_self ON tenants TO pulse_app
    USING (id = pulse_current_tenant()) WITH CHECK (id = pulse_current_tenant());
CREATE POLICY operator_all ON tenants TO pulse_operator USING (true) WITH CHECK (true);
CREATE POLICY ingest_read ON tenants FOR SELECT TO pulse_ingest USING (true);

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON devices TO pulse_app
    USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant());
CREATE POLICY operator_all ON devices TO pulse_operator USING (true) WITH CHECK (true);
CREATE POLICY ingest_all ON devices FOR SELECT TO pulse_ingest USING (true);
CREATE POLICY ingest_update ON devices FOR UPDATE TO pulse_ingest USING (true) WITH CHECK (true);

GRANT SELECT ON tenants TO pulse_app, pulse_ingest;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO pulse_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON devices TO pulse_app, pulse_operator;
GRANT SELECT ON devices TO pulse_ingest;
GRANT UPDATE (last_seen_at, last_msg_ts, last_metrics, rate_window, rate_count)
    ON devices TO pulse_ingest;
