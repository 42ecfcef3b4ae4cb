import type { Channel, ChannelType } from "../shared";

export const CHANNEL_TYPES: { value: ChannelType; label: string }[] = [
  { value: "webhook", label: "Webhook (HMAC-signed)" },
  { value: "email", label: "Email" },
  { value: "snmp", label: "SNMP trap (v2c / v3)" },
  { value: "mqtt", label: "MQTT" },
  { value: "slack", label: "Slack" },
  { value: "pagerduty", label: "PagerDuty" },
  { value: "teams", label: "Microsoft Teams" },
  { value: "sms", label: "SMS" },
];

/** Every non-secret setting any type has, as form strings; only the type's own keys are sent. */
export interface ConfigForm {
  url: string;
  timeout_s: number | string;
  to: string[];
  subject_prefix: string;
  host: string;
  port: number | string;
  version: "v2c" | "v3";
  notification: "trap" | "inform";
  user: string;
  auth_protocol: "SHA" | "SHA-256";
  priv_protocol: "AES-128";
  engine_id: string;
  topic: string;
  qos: "0" | "1";
  mention: "" | "here" | "channel";
  member_id: string;
  events_url: string;
  phone_number: string;
}

/** Write-only: always empty in the form; blank on an edit means "keep the stored secrets". */
export interface SecretsForm {
  signing_secret: string;
  community: string;
  auth_key: string;
  priv_key: string;
  webhook_url: string;
  routing_key: string;
}

export interface ChannelForm {
  name: string;
  type: ChannelType;
  enabled: boolean;
  config: ConfigForm;
  secrets: SecretsForm;
}

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export const EMPTY_SECRETS: SecretsForm = { signing_secret: "", community: "", auth_key: "", priv_key: "", webhook_url: "", routing_key: "" };

export function defaultConfig(tenantId: string | null | undefined): ConfigForm {
  return {
    url: "",
    timeout_s: 10,
    to: [],
    subject_prefix: "[Pulse]",
    host: "",
    port: 162,
    version: "v3",
    notification: "trap",
    user: "",
    auth_protocol: "SHA-256",
    priv_protocol: "AES-128",
    engine_id: "",
    topic: `tenant/${tenantId ?? "TENANT"}/out/alerts`,
    qos: "1",
    mention: "",
    member_id: "",
    events_url: PAGERDUTY_EVENTS_URL,
    phone_number: "",
  };
}

const str = (v: unknown, fallback = "") => (typeof v === "string" ? v : v === null || v === undefined ? fallback : String(v));

/** The stored channel's config read into the form (secrets are never read: the API does not return them). */
export function configFromChannel(channel: Channel, tenantId: string | null | undefined): ConfigForm {
  const c = channel.config as Record<string, unknown>;
  const base = defaultConfig(tenantId);
  const timeout = typeof c.timeout_s === "number" ? c.timeout_s : channel.type === "snmp" ? 3 : base.timeout_s;
  return {
    ...base,
    url: str(c.url),
    timeout_s: timeout,
    to: Array.isArray(c.to) ? (c.to as string[]) : [],
    subject_prefix: str(c.subject_prefix, base.subject_prefix),
    host: str(c.host),
    port: typeof c.port === "number" ? c.port : base.port,
    version: c.version === "v2c" ? "v2c" : "v3",
    notification: c.notification === "inform" ? "inform" : "trap",
    user: str(c.user),
    auth_protocol: c.auth_protocol === "SHA" ? "SHA" : "SHA-256",
    engine_id: str(c.engine_id),
    topic: str(c.topic, base.topic),
    qos: c.qos === 0 ? "0" : "1",
    mention: c.mention === "here" || c.mention === "channel" ? c.mention : "",
    member_id: str(c.member_id),
    events_url: str(c.events_url, base.events_url),
    phone_number: str(c.phone_number),
  };
}

const num = (v: number | string) => (v === "" ? undefined : Number(v));
const opt = (v: string) => (v.trim() ? v.trim() : undefined);

/** The `config` object the API validates for `type`: only that type's keys. */
export function configBody(type: ChannelType, c: ConfigForm): Record<string, unknown> {
  switch (type) {
    case "webhook":
      return { url: c.url.trim(), timeout_s: num(c.timeout_s) };
    case "email":
      return { to: c.to, subject_prefix: c.subject_prefix };
    case "snmp":
      return {
        host: c.host.trim(),
        port: num(c.port),
        version: c.version,
        notification: c.notification,
        timeout_s: num(c.timeout_s),
        ...(c.version === "v3"
          ? { user: c.user.trim(), security_level: "authPriv", auth_protocol: c.auth_protocol, priv_protocol: c.priv_protocol, engine_id: opt(c.engine_id) }
          : {}),
      };
    case "mqtt":
      return { topic: c.topic.trim(), qos: Number(c.qos) };
    case "slack":
      return { mention: c.mention || null, member_id: opt(c.member_id) ?? null };
    case "pagerduty":
      return { events_url: c.events_url.trim() };
    case "sms":
      return { phone_number: c.phone_number.trim() };
    case "teams":
      return {};
  }
}

/** Which secrets a type has (SNMP's depend on the version). */
export function secretKeys(type: ChannelType, version: ConfigForm["version"]): (keyof SecretsForm)[] {
  switch (type) {
    case "webhook":
      return ["signing_secret"];
    case "snmp":
      return version === "v2c" ? ["community"] : ["auth_key", "priv_key"];
    case "slack":
    case "teams":
      return ["webhook_url"];
    case "pagerduty":
      return ["routing_key"];
    default:
      return [];
  }
}

/** The `secrets` object to send: the filled write-only fields; undefined keeps the stored ones on an edit. */
export function secretsBody(type: ChannelType, form: ChannelForm, editing: boolean): Record<string, string> | undefined {
  const keys = secretKeys(type, form.config.version);
  const given = Object.fromEntries(keys.filter((k) => form.secrets[k] !== "").map((k) => [k, form.secrets[k]]));
  if (Object.keys(given).length === 0) return editing ? undefined : keys.length ? {} : undefined;
  return given;
}

export const SECRET_LABELS: Record<keyof SecretsForm, { label: string; description: string }> = {
  signing_secret: { label: "Signing secret", description: "HMAC key receivers verify the X-Pulse-Signature with (16+ characters)" },
  community: { label: "Community", description: "SNMP v2c community string" },
  auth_key: { label: "Auth key", description: "USM authentication pass phrase (8+ characters)" },
  priv_key: { label: "Privacy key", description: "USM privacy (AES) pass phrase (8+ characters)" },
  webhook_url: { label: "Incoming webhook URL", description: "the URL is the credential" },
  routing_key: { label: "Routing key", description: "Events API v2 integration key" },
};
