-- Notifications (ARCHITECTURE §3 Actions plane): channels, ordered routes, notifications (one or a
-- group of alert events sent together), deliveries (one notification to one channel) with their
-- attempts, and the counters behind route throttles and the per-tenant daily delivery quota.
--
-- The route and deliver Lambdas of the delivery workflow run as pulse_ingest across tenants, like the
-- outbox publisher that feeds them: they read channels (sealed secrets included) and routes, and
-- write notifications, deliveries, attempts and counters. pulse_ingest never changes a channel or a
-- route. Customers manage channels and routes through the API as pulse_app (row-level security on
-- tenant_id); operators see everything.

-- A plan may cap deliveries per tenant and UTC day (NULL: no cap).
ALTER TABLE plans ADD COLUMN deliveries_per_day integer CHECK (deliveries_per_day > 0);
UPDATE plans SET deliveries_per_day = 1000 WHERE id = 'trial';
UPDATE plans SET deliveries_per_day = 50000 WHERE id = 'standard';

CREATE TABLE channels (
    tenant_id               text NOT NULL REFERENCES tenants (id),
    id                      text NOT NULL,
    type                    text NOT NULL CHECK (type ~ '^[a-z][a-z_]{1,31}$'),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    config                  jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'),  -- never secret
    sealed_secret           text,  -- the channel's secrets, sealed (pulse.notify.sealing)
    previous_sealed_secret  text,  -- a rotated-out webhook secret, still signing until previous_valid_until
    previous_valid_until    timestamptz,
    enabled                 boolean NOT NULL DEFAULT true,
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((previous_sealed_secret IS NULL) = (previous_valid_until IS NULL))
);
CREATE UNIQUE INDEX channels_name ON channels (tenant_id, lower(name));

-- Routes are tried in position order; the first that matches stops the walk unless it says continue.
CREATE TABLE notification_routes (
    tenant_id          text NOT NULL REFERENCES tenants (id),
    id                 text NOT NULL,
    position           integer NOT NULL CHECK (position >= 0),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    matchers           jsonb NOT NULL CHECK (jsonb_typeof(matchers) = 'object'),
    channel_ids        text[] NOT NULL,
    continue_matching  boolean NOT NULL DEFAULT false,
    group_by           text[] NOT NULL DEFAULT '{}',
    group_wait_s       integer NOT NULL DEFAULT 30 CHECK (group_wait_s BETWEEN 0 AND 3600),
    group_interval_s   integer NOT NULL DEFAULT 300 CHECK (group_interval_s BETWEEN 0 AND 86400),
    repeat_interval_s  integer NOT NULL DEFAULT 0 CHECK (repeat_interval_s BETWEEN 0 AND 604800),
    throttle_limit     integer CHECK (throttle_limit > 0),
    throttle_window_s  integer CHECK (throttle_window_s BETWEEN 60 AND 86400),
    enabled            boolean NOT NULL DEFAULT true,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((throttle_limit IS NULL) = (throttle_window_s IS NULL))
);
-- Deferred so that a reorder can permute positions inside one transaction.
ALTER TABLE notification_routes
    ADD CONSTRAINT notification_routes_position UNIQUE (tenant_id, position) DEFERRABLE INITIALLY DEFERRED;

-- Every event the router saw, once: a second route_event for the same event returns the first plan.
CREATE TABLE routed_events (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    event_id    text NOT NULL PRIMARY KEY,
    event_name  text NOT NULL,
    alert_id    text,
    routed_at   timestamptz NOT NULL,
    outcome     text NOT NULL,  -- 'planned', or why nothing was: 'not an alert event', 'no route matched', ...
    route_ids   text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX routed_events_by_alert ON routed_events (tenant_id, alert_id);

-- One notification: the events of one route and group sent together (one event when not grouped).
-- Open while events may still join (until send_at, or until a delivery of it starts sending).
CREATE TABLE notifications (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL PRIMARY KEY,
    route_id    text,  -- NULL for a channel test
    group_key   text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('open', 'closed')),
    send_at     timestamptz NOT NULL,
    events      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(events) = 'array'),  -- event details
    event_ids   text[] NOT NULL DEFAULT '{}',
    alert_ids   text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    closed_at   timestamptz
);
CREATE INDEX notifications_by_group ON notifications (tenant_id, route_id, group_key, created_at DESC);
CREATE INDEX notifications_by_alert ON notifications USING gin (alert_ids);
CREATE INDEX notifications_by_event ON notifications USING gin (event_ids);

-- Group state (Alertmanager-like): the group's current notification and when its last one was due.
CREATE TABLE notification_groups (
    tenant_id        text NOT NULL REFERENCES tenants (id),
    route_id         text NOT NULL,
    group_key        text NOT NULL,
    notification_id  text NOT NULL REFERENCES notifications (id),
    last_send_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, route_id, group_key)
);

-- One notification to one channel. (event_id, channel_id) is unique: however often the workflow
-- routes an event, a channel gets it once.
CREATE TABLE deliveries (
    tenant_id           text NOT NULL REFERENCES tenants (id),
    id                  text NOT NULL PRIMARY KEY,
    event_id            text NOT NULL,
    event_name          text NOT NULL,
    alert_id            text,
    channel_id          text NOT NULL,
    route_id            text,
    notification_id     text REFERENCES notifications (id),
    status              text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'dead', 'suppressed',
                                                        'throttled', 'quota_exceeded')),
    reason              text NOT NULL DEFAULT '',  -- why suppressed / throttled / over quota
    send_at             timestamptz NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    claimed_at          timestamptz,
    last_error          text,
    last_response_code  integer,
    execution_id        text,
    created_at          timestamptz NOT NULL,
    delivered_at        timestamptz,
    dead_at             timestamptz,
    UNIQUE (event_id, channel_id)
);
CREATE INDEX deliveries_newest ON deliveries (tenant_id, created_at DESC, id DESC);
CREATE INDEX deliveries_dead ON deliveries (tenant_id, dead_at DESC, id DESC) WHERE status = 'dead';
CREATE INDEX deliveries_by_channel ON deliveries (tenant_id, channel_id, created_at DESC);
CREATE INDEX deliveries_by_alert ON deliveries (tenant_id, alert_id);
CREATE INDEX deliveries_by_notification ON deliveries (notification_id);

CREATE TABLE delivery_attempts (
    tenant_id         text NOT NULL,
    delivery_id       text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt_no        integer NOT NULL CHECK (attempt_no >= 1),  -- counts on across redrives
    workflow_attempt  integer NOT NULL DEFAULT 0,  -- the workflow's retry number for this execution
    execution_id      text,
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    status            text NOT NULL CHECK (status IN ('delivered', 'retryable', 'permanent')),
    response_code     integer,
    latency_ms        integer,
    error             text,
    PRIMARY KEY (delivery_id, attempt_no)
);

-- Route throttle: notifications per route in fixed windows.
CREATE TABLE notification_windows (
    tenant_id     text NOT NULL,
    route_id      text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (tenant_id, route_id, window_start)
);

-- Daily delivery quota: deliveries planned per tenant and UTC day.
CREATE TABLE delivery_quota (
    tenant_id  text NOT NULL,
    day        date NOT NULL,
    count      integer NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['channels', 'notification_routes', 'routed_events', 'notifications',
                             'notification_groups', 'deliveries', 'delivery_attempts',
                             'notification_windows', 'delivery_quota'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pulse_app
                        USING (tenant_id = pulse_current_tenant()) WITH CHECK (tenant_id = pulse_current_tenant())', t);
        EXECUTE format('CREATE POLICY operator_all ON %I TO pulse_operator USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO pulse_operator', t);
    END LOOP;
    -- The workflow (route + deliver Lambdas) crosses tenants; channels and routes only read.
    FOREACH t IN ARRAY ARRAY['routed_events', 'notifications', 'notification_groups', 'deliveries',
                             'delivery_attempts', 'notification_windows', 'delivery_quota'] LOOP
        EXECUTE format('CREATE POLICY ingest_all ON %I TO pulse_ingest USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I TO pulse_ingest', t);
    END LOOP;
END
$$;
CREATE POLICY ingest_read ON channels FOR SELECT TO pulse_ingest USING (true);
CREATE POLICY ingest_read ON notification_routes FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON channels, notification_routes TO pulse_ingest;
-- The router reads the tenant's plan (quota) and a device's tags (route matchers).
CREATE POLICY ingest_read ON subscriptions FOR SELECT TO pulse_ingest USING (true);
GRANT SELECT ON subscriptions TO pulse_ingest;

-- Customers manage channels and routes; a send-test writes its own notification, delivery and attempt;
-- redrive resets dead deliveries. They never write routing state or counters directly.
GRANT SELECT, INSERT, UPDATE, DELETE ON channels, notification_routes TO pulse_app;
GRANT SELECT, INSERT, UPDATE ON notifications, deliveries, delivery_attempts TO pulse_app;
GRANT SELECT ON routed_events, notification_groups, notification_windows, delivery_quota TO pulse_app;
