/** The rule editor's form values, the draft they become, and where an API error on a draft belongs. */
import type { components } from "../../api/schema";
import type { FieldError } from "../../api/errors";
import { builderKey, fieldKeys, fromApi, newNode, toApi, type EditorNode } from "./conditions";
import type { Severity } from "./model";

export type RuleDoc = components["schemas"]["Rule"];
export type RuleVersionDraft = components["schemas"]["RuleVersionDraft"];
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
type Weekday = (typeof WEEKDAYS)[number];

export interface RuleFormValues {
  id: string;
  name: string;
  description: string;
  severity: Severity;
  enabled: boolean;
  latch: boolean;
  scope: { device_ids: string[]; site_ids: string[]; models: string[]; tags: string[] };
  useSchedule: boolean;
  schedule: { weekdays: string[]; start: string; end: string; timezone: string };
  useClear: boolean;
}

export interface RuleEditorState {
  values: RuleFormValues;
  condition: EditorNode;
  clear: EditorNode;
}

export function emptyRule(): RuleEditorState {
  return {
    values: {
      id: "",
      name: "",
      description: "",
      severity: "major",
      enabled: true,
      latch: false,
      scope: { device_ids: [], site_ids: [], models: [], tags: [] },
      useSchedule: false,
      schedule: { weekdays: ["mon", "tue", "wed", "thu", "fri"], start: "08:00", end: "18:00", timezone: "" },
      useClear: false,
    },
    condition: newNode("threshold"),
    clear: newNode("threshold"),
  };
}

const hhmm = (time: string) => time.slice(0, 5);

/** A stored rule version as the editor's state. */
export function fromRule(rule: RuleDoc, enabled = rule.enabled ?? true): RuleEditorState {
  const base = emptyRule();
  return {
    values: {
      id: rule.id,
      name: rule.name,
      description: rule.description ?? "",
      severity: rule.severity,
      enabled,
      latch: rule.latch ?? false,
      scope: {
        device_ids: rule.scope.device_ids ?? [],
        site_ids: rule.scope.site_ids ?? [],
        models: rule.scope.models ?? [],
        tags: Object.entries(rule.scope.tags ?? {}).map(([k, v]) => `${k}=${v}`),
      },
      useSchedule: !!rule.schedule,
      schedule: rule.schedule
        ? { weekdays: rule.schedule.weekdays, start: hhmm(rule.schedule.start), end: hhmm(rule.schedule.end), timezone: rule.schedule.timezone ?? "" }
        : base.values.schedule,
      useClear: !!rule.clear,
    },
    condition: fromApi(rule.condition),
    clear: rule.clear ? fromApi(rule.clear) : base.clear,
  };
}

const withSeconds = (time: string) => (/^\d\d:\d\d$/.test(time) ? `${time}:00` : time);

/** The editor's state as the document PUT /rules/{id} and POST /rules:backtest take. */
export function toDraft(state: RuleEditorState): RuleVersionDraft {
  const v = state.values;
  const tags = Object.fromEntries(
    v.scope.tags.map((t) => {
      const at = t.indexOf("=");
      return at < 0 ? [t.trim(), ""] : [t.slice(0, at).trim(), t.slice(at + 1).trim()];
    }),
  );
  return {
    schema_version: 1,
    version: 1, // ignored: the store numbers versions
    id: v.id.trim(),
    name: v.name.trim(),
    description: v.description,
    severity: v.severity,
    enabled: v.enabled,
    latch: v.latch,
    scope: { tenant_id: "", device_ids: v.scope.device_ids, site_ids: v.scope.site_ids, models: v.scope.models, tags },
    schedule: v.useSchedule
      ? { weekdays: v.schedule.weekdays as Weekday[], start: withSeconds(v.schedule.start), end: withSeconds(v.schedule.end), timezone: v.schedule.timezone.trim() || null }
      : null,
    condition: toApi(state.condition),
    clear: v.useClear ? toApi(state.clear) : null,
  };
}

const FORM_KEYS = [
  "id",
  "name",
  "description",
  "severity",
  "enabled",
  "latch",
  "scope.device_ids",
  "scope.site_ids",
  "scope.models",
  "scope.tags",
  "scope",
  "schedule.weekdays",
  "schedule.start",
  "schedule.end",
  "schedule.timezone",
  "schedule",
];

/** Each API field error next to its input (form key -> message); those with no input stay unmatched. */
export function placeErrors(errors: FieldError[], state: RuleEditorState, prefix = ""): { fields: Record<string, string>; unmatched: FieldError[] } {
  const fields: Record<string, string> = {};
  const unmatched: FieldError[] = [];
  const trees = {
    condition: { node: state.condition, keys: new Set(fieldKeys(state.condition, "condition")) },
    clear: { node: state.values.useClear ? state.clear : null, keys: new Set(state.values.useClear ? fieldKeys(state.clear, "clear") : []) },
  };
  for (const error of errors) {
    if (prefix && !error.field.startsWith(prefix)) {
      unmatched.push(error);
      continue;
    }
    const field = error.field.slice(prefix.length);
    let key: string | null = null;
    for (const root of ["condition", "clear"] as const) {
      const candidate = builderKey(field, root, trees[root].node);
      if (candidate && trees[root].keys.has(candidate)) key = candidate;
    }
    if (!key) key = FORM_KEYS.find((k) => field === k || field.startsWith(`${k}.`)) ?? null;
    if (key) fields[key] = fields[key] ? `${fields[key]}; ${error.message}` : error.message;
    else unmatched.push(error);
  }
  return { fields, unmatched };
}
