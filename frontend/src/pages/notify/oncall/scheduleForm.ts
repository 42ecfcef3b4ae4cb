import type { components } from "../../../api/schema";
import { hhmm, type Schedule } from "../shared";

type ScheduleIn = components["schemas"]["OnCallScheduleIn"];
type RotationKind = components["schemas"]["RotationKind"];

export interface RestrictionForm {
  key: string;
  weekdays: string[];
  start: string;
  end: string;
}

export interface LayerForm {
  key: string;
  name: string;
  priority: number | string;
  rotation: { kind: RotationKind; length_days: number | string; handoff_time: string; start_date: string; users: string[] };
  restrictions: RestrictionForm[];
}

export interface ScheduleForm {
  name: string;
  description: string;
  timezone: string;
  alert_on_gaps: boolean;
  layers: LayerForm[];
}

export const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

let nextKey = 0;
const key = (prefix: string) => `${prefix}-${++nextKey}`;

export function newRestriction(): RestrictionForm {
  return { key: key("restriction"), weekdays: ["0", "1", "2", "3", "4"], start: "08:00", end: "18:00" };
}

export function newLayer(priority: number, today: string): LayerForm {
  return {
    key: key("layer"),
    name: priority === 0 ? "Primary" : `Layer ${priority + 1}`,
    priority,
    rotation: { kind: "weekly", length_days: 7, handoff_time: "09:00", start_date: today, users: [] },
    restrictions: [],
  };
}

export function toForm(schedule: Schedule | null, zone: string, today: string): ScheduleForm {
  return {
    name: schedule?.name ?? "",
    description: schedule?.description ?? "",
    timezone: schedule?.timezone ?? zone,
    alert_on_gaps: schedule?.alert_on_gaps ?? true,
    layers: schedule
      ? schedule.layers.map((l) => ({
          key: key("layer"),
          name: l.name,
          priority: l.priority,
          rotation: {
            kind: l.rotation.kind,
            length_days: l.rotation.length_days ?? (l.rotation.kind === "daily" ? 1 : 7),
            handoff_time: hhmm(l.rotation.handoff_time),
            start_date: l.rotation.start_date,
            users: l.rotation.users,
          },
          restrictions: (l.restrictions ?? []).map((r) => ({ key: key("restriction"), weekdays: (r.weekdays ?? []).map(String), start: hhmm(r.start), end: hhmm(r.end) })),
        }))
      : [newLayer(0, today)],
  };
}

export function toBody(v: ScheduleForm): ScheduleIn {
  return {
    name: v.name.trim(),
    description: v.description,
    timezone: v.timezone.trim(),
    alert_on_gaps: v.alert_on_gaps,
    layers: v.layers.map((l) => ({
      name: l.name.trim(),
      priority: Number(l.priority),
      rotation: {
        kind: l.rotation.kind,
        length_days: l.rotation.kind === "custom" ? Number(l.rotation.length_days) : null,
        handoff_time: l.rotation.handoff_time,
        start_date: l.rotation.start_date,
        users: l.rotation.users,
      },
      restrictions: l.restrictions.map((r) => ({ weekdays: r.weekdays.map(Number).sort(), start: r.start, end: r.end })),
    })),
  };
}

/** "layers.0.rotation.users.2" -> the users list; "layers.1.restrictions.0" stays on the restriction. */
export const mapScheduleField = (field: string) => field.replace(/^(layers\.\d+\.rotation\.users)\.\d+$/, "$1").replace(/^(layers\.\d+\.restrictions\.\d+)$/, "$1.start");
