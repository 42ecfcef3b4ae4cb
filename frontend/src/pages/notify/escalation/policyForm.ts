import type { components } from "../../../api/schema";
import { hhmm, type EscalationPolicy, type Severity } from "../shared";

type PolicyIn = components["schemas"]["EscalationPolicyIn"];
type Step = PolicyIn["steps"][number];
export type StepKind = Step["kind"] & string;
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

export const STEP_KINDS: { value: StepKind; label: string }[] = [
  { value: "notify_users", label: "Notify users" },
  { value: "notify_on_call", label: "Notify on-call" },
  { value: "notify_channels", label: "Notify channels" },
  { value: "wait", label: "Wait" },
  { value: "raise_severity", label: "Raise severity" },
];
export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** One step as the form holds it: every kind's fields, only the chosen kind's are sent. */
export interface StepForm {
  key: string;
  kind: StepKind;
  minutes: number | string;
  usernames: string[];
  schedule_id: string;
  channel_ids: string[];
  severity: Severity;
}

export interface PolicyForm {
  name: string;
  description: string;
  timezone: string;
  steps: StepForm[];
  repeat_count: number | string;
  window_on: boolean;
  active_window: { days: Weekday[]; start: string; end: string };
  reminder_on: boolean;
  reminder: { every_minutes: number | string; channel_ids: string[] };
}

let nextKey = 0;
export function newStep(kind: StepKind): StepForm {
  nextKey += 1;
  return { key: `step-${nextKey}`, kind, minutes: 5, usernames: [], schedule_id: "", channel_ids: [], severity: "critical" };
}

function stepToForm(step: Step): StepForm {
  const s = newStep(step.kind as StepKind);
  switch (step.kind) {
    case "wait":
      return { ...s, minutes: step.minutes };
    case "notify_users":
      return { ...s, usernames: step.usernames };
    case "notify_on_call":
      return { ...s, schedule_id: step.schedule_id };
    case "notify_channels":
      return { ...s, channel_ids: step.channel_ids };
    default:
      return { ...s, severity: (step as { severity: Severity }).severity };
  }
}

export function toForm(policy: EscalationPolicy | null, zone: string): PolicyForm {
  return {
    name: policy?.name ?? "",
    description: policy?.description ?? "",
    timezone: policy?.timezone ?? zone,
    steps: policy ? policy.steps.map(stepToForm) : [newStep("notify_on_call"), { ...newStep("wait"), minutes: 15 }, newStep("notify_users")],
    repeat_count: policy?.repeat_count ?? 0,
    window_on: !!policy?.active_window,
    active_window: {
      days: (policy?.active_window?.days as Weekday[] | undefined) ?? [...WEEKDAYS],
      start: hhmm(policy?.active_window?.start, "08:00"),
      end: hhmm(policy?.active_window?.end, "18:00"),
    },
    reminder_on: !!policy?.reminder,
    reminder: { every_minutes: policy?.reminder?.every_minutes ?? 30, channel_ids: policy?.reminder?.channel_ids ?? [] },
  };
}

function stepBody(s: StepForm): Step {
  switch (s.kind) {
    case "wait":
      return { kind: "wait", minutes: Number(s.minutes) };
    case "notify_users":
      return { kind: "notify_users", usernames: s.usernames };
    case "notify_on_call":
      return { kind: "notify_on_call", schedule_id: s.schedule_id };
    case "notify_channels":
      return { kind: "notify_channels", channel_ids: s.channel_ids };
    default:
      return { kind: "raise_severity", severity: s.severity };
  }
}

export function toBody(v: PolicyForm): PolicyIn {
  return {
    name: v.name.trim(),
    description: v.description,
    timezone: v.timezone.trim(),
    steps: v.steps.map(stepBody),
    repeat_count: Number(v.repeat_count || 0),
    active_window: v.window_on ? { days: v.active_window.days, start: v.active_window.start, end: v.active_window.end } : null,
    reminder: v.reminder_on ? { every_minutes: Number(v.reminder.every_minutes), channel_ids: v.reminder.channel_ids } : null,
  };
}

/** API error paths name the step's kind ("steps.0.wait.minutes"); the form has no such level. */
export const STEP_TAGS = STEP_KINDS.map((k) => k.value);
export const mapPolicyField = (field: string) => field.replace(/^(steps\.\d+\.(usernames|channel_ids))\.\d+$/, "$1").replace(/^(reminder\.channel_ids)\.\d+$/, "$1");

export function stepSummary(step: Step, names: { user: (u: string) => string; channel: (c: string) => string; schedule: (s: string) => string }): string {
  switch (step.kind) {
    case "wait":
      return `wait ${step.minutes} min`;
    case "notify_users":
      return `notify ${step.usernames.map(names.user).join(", ")}`;
    case "notify_on_call":
      return `notify on-call of ${names.schedule(step.schedule_id)}`;
    case "notify_channels":
      return `notify ${step.channel_ids.map(names.channel).join(", ")}`;
    default:
      return `raise severity to ${(step as { severity: string }).severity}`;
  }
}
