-- Registry: plans and subscriptions, sites, the device catalogue fields, credentials and activation.
--
-- Plans are global (no tenant_id); a tenant's current plan limits are copied onto its tenants row
-- (device_rate_per_minute is read by ingest, api_rate_per_minute by the API rate limiter) whenever
-- the subscription changes, so hot paths never join plans.

CREATE TABLE plans (
    id                      text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name                    text NOT NULL,
    device_limit            integer NOT NULL CHECK (device_limit > 0),
    device_rate_per_minute  integer NOT NULL CHECK (device_rate_per_minute > 0),
    retention_days          integer NOT NULL CHECK (retention_days > 0),
    api_rate_per_minute     integer NOT NULL CHECK (api_rate_per_minute > 0),
    grace_days              integer NOT NULL DEFAULT 14 CHECK (grace_days >= 0),
    suspension_days         integer NOT NULL DEFAULT 30 CHECK (suspension_days >= 0)
);
INSERT INTO plans VALUES
    ('trial',      'Trial',      50,     60,   30,  600,  7, 14),
    ('standard',   'Standard',   10000,  600,  90,  3000, 14, 30),
    ('enterprise', 'Enterprise', 250000, 1200, 365, 12000, 30, 60);
GRANT SELECT ON plans TO pulse_app, pulse_operator, pulse_ingest;
GRANT INSERT, UPDATE ON plans TO pulse_operator;

ALTER TABLE tenants
    ADD COLUMN device_limit        integer CHECK (device_limit > 0),
    ADD COLUMN api_rate_per_minute integer CHECK (api_rate_per_minute > 0),
    ADD COLUMN retention_days      integer CHECK (retention_days > 0);
GRANT UPDATE (name, updated_at) ON tenants TO pulse_app;

CREATE TABLE subscriptions (
    tenant_id     text PRIMARY KEY REFERENCES tenants (id),
    plan_id       text NOT NULL REFERENCES plans (id),
    status        text NOT NULL CHECK (status IN ('trial', 'active', 'grace', 'suspended', 'expired')),
    is_trial      boolean NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    ends_at       timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_ends_at ON subscriptions (ends_at) WHERE status <> 'expired';

CREATE TABLE subscription_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    plan_id      text NOT NULL,
    ends_at      timestamptz NOT NULL,
    detail       text NOT NULL DEFAULT ''
);
CREATE INDEX subscription_events_tenant ON subscription_events (tenant_id, id DESC);

CREATE TABLE sites (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address     text NOT NULL DEFAULT '',
    lat         double precision CHECK (lat BETWEEN -90 AND 90),
    lng         double precision CHECK (lng BETWEEN -180 AND 180),
    timezone    text NOT NULL DEFAULT 'UTC',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE devices
    ADD COLUMN model             text NOT NULL DEFAULT '',
    ADD COLUMN firmware_version  text NOT NULL DEFAULT '',
    ADD COLUMN tags              jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN attributes        jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN lat               double precision CHECK (lat BETWEEN -90 AND 90),
    ADD COLUMN lng               double precision CHECK (lng BETWEEN -180 AND 180),
    ADD COLUMN version           integer NOT NULL DEFAULT 1,
    ADD COLUMN status_changed_at timestamptz;

-- Fleet listing: one btree per sortable column (tenant first, id as the keyset tie-breaker), a GIN
-- index for tag containment. last_seen_at is deliberately not indexed: ingest updates it on every
-- batch and an index on it would turn those HOT updates into index writes.
CREATE INDEX devices_by_name     ON devices (tenant_id, name, id);
CREATE INDEX devices_by_status   ON devices (tenant_id, status, id);
CREATE INDEX devices_by_site     ON devices (tenant_id, site_id, id);
CREATE INDEX devices_by_model    ON devices (tenant_id, model, id);
CREATE INDEX devices_by_firmware ON devices (tenant_id, firmware_version, id);
CREATE INDEX devices_by_created  ON devices (tenant_id, created_at, id);
CREATE INDEX devices_tags        ON devices USING gin (tags jsonb_path_ops);

DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX devices_text_trgm ON devices USING gin ((name || '' '' || id) gin_trgm_ops)';
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm unavailable: fleet text search scans the tenant''s devices';
END
$$;

-- Certificates of a device: one active, the previous one "retiring" until revoke_after (rotation).
CREATE TABLE device_certificates (
    tenant_id       text NOT NULL,
    device_id       text NOT NULL,
    certificate_id  text NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'retiring', 'revoked')),
    revoke_after    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    PRIMARY KEY (tenant_id, device_id, certificate_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);
CREATE INDEX device_certificates_retiring ON device_certificates (revoke_after) WHERE status = 'retiring';

-- One-time activation codes for field installs; only the SHA-256 of a code is stored.
CREATE TABLE activation_codes (
    code_hash   bytea PRIMARY KEY,
    tenant_id   text NOT NULL,
    device_id   text NOT NULL,
    expires_at  timestamptz NOT NULL,
    claimed_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);

-- A device presenting a code has no tenant yet: this function (owner rights) answers exactly one
-- question, "which unclaimed, unexpired code is this", and nothing else crosses tenants.
CREATE FUNCTION pulse_find_activation_code(hash bytea)
    RETURNS TABLE (tenant_id text, device_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT a.tenant_id, a.device_id FROM activation_codes a
          WHERE a.code_hash = hash AND a.claimed_at IS NULL AND a.expires_at > now() $$;
REVOKE ALL ON FUNCTION pulse_find_activation_code(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pulse_find_activation_code(bytea) TO pulse_app;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['subscriptions', 'subscription_events', 'sites', 'device_certificates',
                             'activation_codes'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;
-- Customers read their subscription; only operators (and the lifecycle job) change it.
GRANT SELECT ON subscriptions, subscription_events TO pulse_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sites, device_certificates, activation_codes TO pulse_app;
