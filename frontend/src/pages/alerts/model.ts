import type { components } from "../../api/schema";

export type Alert = components["schemas"]["Alert"];
export type AlertDetail = components["schemas"]["AlertDetail"];
export type AlertState = components["schemas"]["AlertState"];
export type Severity = components["schemas"]["Severity"];
export type TimelineEntry = components["schemas"]["TimelineEntry"];
export type AlertEscalation = components["schemas"]["AlertEscalation"];
export type RuleView = components["schemas"]["RuleView"];
export type Silence = components["schemas"]["Silence"];
export type MaintenanceWindow = components["schemas"]["MaintenanceWindow"];
export type CatalogMetric = components["schemas"]["CatalogMetric"];

export const SEVERITIES: Severity[] = ["critical", "major", "minor", "warning", "info"];
export const ALERT_STATES: AlertState[] = ["open", "acknowledged", "snoozed", "resolved", "closed"];

/** Which action each alert state allows (pulse.alerts.actions.ALLOWED). */
export type AlertAction = "acknowledge" | "unacknowledge" | "snooze" | "assign" | "comment" | "resolve" | "close" | "reopen";
const ACTIVE: AlertState[] = ["open", "acknowledged", "snoozed"];
export const ALLOWED: Record<AlertAction, AlertState[]> = {
  acknowledge: ["open", "snoozed"],
  unacknowledge: ["acknowledged"],
  snooze: ["open", "acknowledged"],
  assign: [...ACTIVE, "resolved"],
  comment: [...ALERT_STATES],
  resolve: ACTIVE,
  close: [...ACTIVE, "resolved"],
  reopen: ["resolved", "closed"],
};

export const allows = (state: AlertState, action: AlertAction): boolean => ALLOWED[action].includes(state);

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/\.?0+$/, "");
  return String(value);
}

/** "PT1H30M" / "P1D" / "PT90S" (how the API writes durations) -> "90m", "1d", "90s"; anything else as is. */
export function shortDuration(iso: string | null | undefined): string {
  if (!iso) return "";
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m) return iso;
  const seconds = Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  if (!Number.isInteger(seconds) || seconds <= 0) return iso;
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const s = Math.round(value);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** A datetime-local input's value ("2026-01-01T10:00") as an ISO instant, or null when empty. */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An instant as a datetime-local input value in the browser's zone. */
export function isoToLocal(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
