-- Audit of every write, the operator access log and the per-tenant API rate window.

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    actor_role   text NOT NULL,
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    before       jsonb,
    after        jsonb,
    request_id   text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_entity ON audit_log (tenant_id, entity_type, entity_id, id DESC);

-- Every request an operator makes on a tenant's data (reads included), append-only.
CREATE TABLE operator_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    operator     text NOT NULL,
    role         text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT ''
);
CREATE INDEX operator_audit_tenant ON operator_audit (tenant_id, id DESC);
CREATE INDEX operator_audit_at ON operator_audit (id DESC);

-- Fixed one-minute window per tenant, counted in one UPSERT so it holds across API Lambdas.
CREATE TABLE api_rate_windows (
    tenant_id     text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['audit_log', 'operator_audit', 'api_rate_windows'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;
CREATE POLICY tenant_isolation ON audit_log TO pulse_app
    USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant());
-- Customers may see who of the operators looked at their data; they never write these rows.
CREATE POLICY tenant_isolation ON operator_audit FOR SELECT TO pulse_app
    USING (tenant_id = pulse_current_tenant());
CREATE POLICY tenant_isolation ON api_rate_windows TO pulse_app
    USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant());

-- Append-only: no UPDATE or DELETE on the audit tables for anyone but the owner.
GRANT SELECT, INSERT ON audit_log TO pulse_app, pulse_operator;
GRANT SELECT ON operator_audit TO pulse_app;
GRANT SELECT, INSERT ON operator_audit TO pulse_operator;
GRANT SELECT, INSERT, UPDATE ON api_rate_windows TO pulse_app, pulse_operator;
