-- Escalation (ARCHITECTURE §1 Actions plane): people's contact methods and personal notification
-- policies, escalation policies, which policy a notification route starts, and the escalation state
-- of each alert the engine walks.
--
-- A contact method IS a channel owned by a person (channels.owner = the username): delivery, retries,
-- dead letters and the delivery log stay the one notification pipeline. The escalation Lambda runs as
-- pulse_ingest across tenants (like the rules evaluator): it reads policies, personal policies,
-- channels and on-call schedules, writes escalation state, deliveries and notifications, and changes
-- alerts (severity) with their timeline and outbox rows. Customers manage everything through the API
-- as pulse_app (row-level security on tenant_id); operators see everything.

-- A person's channel (email, sms, slack with a member id); NULL: a team channel.
ALTER TABLE channels ADD COLUMN owner text CHECK (owner IS NULL OR length(owner) BETWEEN 1 AND 200);
CREATE INDEX channels_by_owner ON channels (tenant_id, owner) WHERE owner IS NOT NULL;

-- How a person wants to be paged: ordered contact methods with waits, a second list for critical alerts.
CREATE TABLE notification_policies (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    username        text NOT NULL CHECK (length(username) BETWEEN 1 AND 200),
    default_rules   jsonb NOT NULL CHECK (jsonb_typeof(default_rules) = 'array'),   -- [{contact_method_id, wait_minutes}]
    critical_rules  jsonb CHECK (critical_rules IS NULL OR jsonb_typeof(critical_rules) = 'array'),  -- NULL: default
    version         integer NOT NULL DEFAULT 1,
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, username)
);

CREATE TABLE escalation_policies (
    tenant_id      text NOT NULL REFERENCES tenants (id),
    id             text NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description    text NOT NULL DEFAULT '',
    timezone       text NOT NULL,
    steps          jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
    repeat_count   integer NOT NULL DEFAULT 0 CHECK (repeat_count BETWEEN 0 AND 10),
    active_window  jsonb CHECK (active_window IS NULL OR jsonb_typeof(active_window) = 'object'),
    reminder       jsonb CHECK (reminder IS NULL OR jsonb_typeof(reminder) = 'object'),
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX escalation_policies_name ON escalation_policies (tenant_id, lower(name));

-- A route that takes an AlertOpened (or AlertReopened) starts its policy for the alert.
ALTER TABLE notification_routes ADD COLUMN escalation_policy_id text;
ALTER TABLE notification_routes ADD CONSTRAINT notification_routes_escalation_policy
    FOREIGN KEY (tenant_id, escalation_policy_id) REFERENCES escalation_policies (tenant_id, id);

-- One alert's walk through its policy: a cursor (step, repeat, when the next step is due), the
-- reminders sent while acknowledged, the alert version the engine last looked at (a change wakes it
-- up at once) and what was done, oldest first.
CREATE TABLE alert_escalations (
    tenant_id         text NOT NULL,
    alert_id          text NOT NULL,
    policy_id         text NOT NULL,
    route_id          text,
    episode           integer NOT NULL DEFAULT 1 CHECK (episode >= 1),  -- 2.. after a reopen
    status            text NOT NULL CHECK (status IN ('active', 'done')),
    position          integer NOT NULL DEFAULT 0 CHECK (position >= 0),
    repeat            integer NOT NULL DEFAULT 0 CHECK (repeat >= 0),
    step_due_at       timestamptz,  -- NULL: every step (and repeat) is done
    reminders         integer NOT NULL DEFAULT 0,
    last_reminder_at  timestamptz,
    alert_version     integer NOT NULL DEFAULT 0,
    next_due_at       timestamptz,  -- NULL: nothing is due until the alert changes
    done              jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(done) = 'array'),
    ended_reason      text,
    started_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, alert_id),
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX alert_escalations_active ON alert_escalations (next_due_at) WHERE status = 'active';

-- Escalation deliveries are created by the engine and started by it once due (after it re-checked
-- the alert under lock); this finds the ones due later, or whose start was lost, not tried yet.
CREATE INDEX deliveries_escalation_unstarted ON deliveries (send_at)
    WHERE status = 'pending' AND attempts = 0 AND execution_id IS NULL AND event_id LIKE 'escalation:%';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['notification_policies', 'escalation_policies', 'alert_escalations'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_policies, escalation_policies TO pulse_app;
GRANT SELECT ON alert_escalations TO pulse_app;

-- The router (pulse_ingest) starts escalations; the engine (pulse_ingest) walks them.
CREATE POLICY ingest_read ON notification_policies FOR SELECT TO pulse_ingest USING (true);
CREATE POLICY ingest_read ON escalation_policies FOR SELECT TO pulse_ingest USING (true);
CREATE POLICY ingest_all ON alert_escalations TO pulse_ingest USING (true) WITH CHECK (true);
GRANT SELECT ON notification_policies, escalation_policies TO pulse_ingest;
GRANT SELECT, INSERT, UPDATE ON alert_escalations TO pulse_ingest;
