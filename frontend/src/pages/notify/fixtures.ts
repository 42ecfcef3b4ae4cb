/** Shapes the API answers, for this area's component tests. */
const T = "2026-03-02T08:00:00Z";

export const WEBHOOK = {
  id: "ch-web",
  name: "Ops webhook",
  type: "webhook" as const,
  enabled: true,
  config: { url: "https://hooks.example.com/pulse", timeout_s: 10 },
  secret_set: true,
  secret_rotation: { rotating: false, previous_valid_until: null },
  version: 3,
  created_at: T,
  updated_at: T,
};

export const EMAIL = {
  ...WEBHOOK,
  id: "ch-mail",
  name: "Ops mail",
  type: "email" as const,
  config: { to: ["ops@example.com"], subject_prefix: "[Pulse]" },
  secret_set: false,
  version: 1,
};

export const page = <T,>(items: T[], next_cursor: string | null = null) => ({ items, next_cursor });

export function route(id: string, name: string, position: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    name,
    position,
    enabled: true,
    continue: false,
    matchers: { events: ["opened"], severity_at_least: "major", site_ids: [], device_id_prefixes: [], rule_ids: [], tags: {} },
    channel_ids: ["ch-web"],
    escalation_policy_id: null,
    group_by: [],
    group_wait_s: 30,
    group_interval_s: 300,
    repeat_interval_s: 0,
    throttle: null,
    version: 1,
    created_at: T,
    updated_at: T,
    ...extra,
  };
}

export function delivery(id: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    status,
    channel_id: "ch-web",
    event_id: `ev-${id}`,
    event_name: "alert.opened",
    alert_id: "al-1",
    route_id: "r-1",
    notification_id: null,
    execution_id: null,
    reason: "route",
    attempts: 5,
    last_error: status === "dead" ? "HTTP 500 from receiver" : null,
    last_response_code: status === "dead" ? 500 : 200,
    created_at: T,
    send_at: T,
    delivered_at: status === "delivered" ? T : null,
    dead_at: status === "dead" ? T : null,
    ...extra,
  };
}

export const USERS = [
  { username: "u-alice", email: "alice@example.com", role: "customer_admin", enabled: true, status: "CONFIRMED", created_at: T },
  { username: "u-bob", email: "bob@example.com", role: "customer_viewer", enabled: true, status: "CONFIRMED", created_at: T },
];

export const SCHEDULE = {
  id: "sch-1",
  name: "Primary",
  description: "",
  timezone: "America/New_York",
  alert_on_gaps: true,
  layers: [
    { id: "ly-day", name: "Weekdays", priority: 10, rotation: { kind: "weekly", handoff_time: "09:00:00", start_date: "2026-01-05", users: ["u-alice", "u-bob"], length_days: null }, restrictions: [] },
  ],
  created_by: "u-alice",
  version: 2,
  created_at: T,
  updated_at: T,
};
export const segment = (username: string | null, start: string, end: string) => ({ username, start, end, source: username ? "layer" : null, source_id: username ? "ly-day" : null });

