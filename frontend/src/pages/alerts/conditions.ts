/** The rule condition tree as the editor holds it, and its conversion to and from the API's documents.
 *
 * Kinds come from the discriminator of RuleDraft.condition in the OpenAPI (pulse.rules.model.Condition):
 * leaves read telemetry or the twin, composites combine, temporal nodes add time. */
import type { components } from "../../api/schema";
import { shortDuration } from "./model";

export type ApiCondition = components["schemas"]["RuleVersionDraft"]["condition"];
type Ref = components["schemas"]["Ref"];

export type Kind =
  | "threshold"
  | "window"
  | "absence"
  | "anomaly"
  | "twin"
  | "twin_not_converged"
  | "for"
  | "keep_firing_for"
  | "repeat"
  | "all"
  | "any"
  | "not";

export const KINDS: { value: Kind; label: string; group: string }[] = [
  { value: "threshold", label: "Threshold (latest value)", group: "Telemetry" },
  { value: "window", label: "Window aggregate", group: "Telemetry" },
  { value: "absence", label: "Absence (no data)", group: "Telemetry" },
  { value: "anomaly", label: "Anomaly (z-score)", group: "Telemetry" },
  { value: "twin", label: "Twin value", group: "Twin" },
  { value: "twin_not_converged", label: "Twin not converged", group: "Twin" },
  { value: "for", label: "For (true for a duration)", group: "Time" },
  { value: "keep_firing_for", label: "Keep firing for", group: "Time" },
  { value: "repeat", label: "Repeat (N times within)", group: "Time" },
  { value: "all", label: "All of", group: "Combine" },
  { value: "any", label: "Any of", group: "Combine" },
  { value: "not", label: "Not", group: "Combine" },
];

export const OPS = [">", ">=", "<", "<=", "==", "!=", "between", "outside"] as const;
export const RANGE_OPS = ["between", "outside"];
export const AGGREGATES = ["avg", "min", "max", "sum", "count", "rate"] as const;
export const COMPARING: Kind[] = ["threshold", "window", "twin"];
export const WRAPPING: Kind[] = ["for", "keep_firing_for", "repeat", "not"];
export const LISTING: Kind[] = ["all", "any"];

/** An operand as typed: a number, text, yes/no or a reference (attributes.x, twin.reported.x, twin.desired.x). */
export interface Operand {
  type: "number" | "text" | "bool" | "ref";
  text: string;
}

export interface EditorNode {
  kind: Kind;
  metric: string;
  op: string;
  value: Operand;
  low: Operand;
  high: Operand;
  hysteresis: string;
  agg: string;
  window: string;
  duration: string;
  alpha: string;
  z: string;
  warmup: string;
  direction: string;
  side: string;
  path: string;
  count: string;
  within: string;
  condition: EditorNode | null;
  conditions: EditorNode[];
}

const EMPTY_OPERAND: Operand = { type: "number", text: "" };

export function newNode(kind: Kind, keep?: EditorNode): EditorNode {
  const base: EditorNode = {
    kind,
    metric: keep?.metric ?? "",
    op: keep?.op ?? ">",
    value: keep?.value ?? EMPTY_OPERAND,
    low: keep?.low ?? EMPTY_OPERAND,
    high: keep?.high ?? EMPTY_OPERAND,
    hysteresis: keep?.hysteresis ?? "",
    agg: keep?.agg ?? "avg",
    window: keep?.window ?? "5m",
    duration: keep?.duration ?? "5m",
    alpha: "0.1",
    z: "3",
    warmup: "30",
    direction: "both",
    side: "reported",
    path: "",
    count: "3",
    within: "1h",
    condition: null,
    conditions: [],
  };
  // a composite made from a leaf keeps that leaf inside it
  const inner = () => (keep && keep.kind !== kind ? keep : newNode("threshold"));
  if (WRAPPING.includes(kind)) base.condition = keep?.condition ?? inner();
  if (LISTING.includes(kind)) base.conditions = keep?.conditions.length ? keep.conditions : [inner()];
  return base;
}

function toOperand(value: unknown): Operand {
  if (value === null || value === undefined) return EMPTY_OPERAND;
  if (typeof value === "object" && "ref" in (value as Ref)) return { type: "ref", text: (value as Ref).ref };
  if (typeof value === "boolean") return { type: "bool", text: value ? "true" : "false" };
  if (typeof value === "number") return { type: "number", text: String(value) };
  return { type: "text", text: String(value) };
}

type Loose = Record<string, unknown>;
const str = (v: unknown, fallback = ""): string => (v === null || v === undefined ? fallback : String(v));

/** An API condition (as GET /rules answers it) as an editor node. */
export function fromApi(doc: unknown): EditorNode {
  const c = (doc ?? {}) as Loose;
  const kind = (c.kind as Kind) ?? "threshold";
  const node = newNode(kind);
  return {
    ...node,
    metric: str(c.metric),
    op: str(c.op, ">"),
    value: toOperand(c.value),
    low: toOperand(c.low),
    high: toOperand(c.high),
    hysteresis: c.hysteresis ? String(c.hysteresis) : "",
    agg: str(c.agg, "avg"),
    window: shortDuration(c.window as string),
    duration: shortDuration(c.duration as string),
    alpha: str(c.alpha, "0.1"),
    z: str(c.z, "3"),
    warmup: str(c.warmup, "30"),
    direction: str(c.direction, "both"),
    side: str(c.side, "reported"),
    path: str(c.path),
    count: str(c.count, "3"),
    within: shortDuration(c.within as string),
    condition: c.condition ? fromApi(c.condition) : null,
    conditions: Array.isArray(c.conditions) ? c.conditions.map(fromApi) : [],
  };
}

/** A number where one was typed, else the text itself so the API names what is wrong with it. */
function num(text: string): number | string {
  const t = text.trim();
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
}

function operand(o: Operand): unknown {
  if (o.text.trim() === "") return null;
  if (o.type === "ref") return { ref: o.text.trim() };
  if (o.type === "bool") return o.text === "true";
  if (o.type === "number") return num(o.text);
  return o.text;
}

/** An editor node as the API's condition document (only the fields of its kind). */
export function toApi(n: EditorNode): ApiCondition {
  const out: Loose = { kind: n.kind };
  if (COMPARING.includes(n.kind)) {
    out.op = n.op;
    if (RANGE_OPS.includes(n.op)) {
      out.low = operand(n.low);
      out.high = operand(n.high);
    } else out.value = operand(n.value);
    if (n.hysteresis.trim()) out.hysteresis = num(n.hysteresis);
  }
  if (n.kind === "threshold" || n.kind === "window" || n.kind === "anomaly") out.metric = n.metric.trim();
  if (n.kind === "window") {
    out.agg = n.agg;
    out.window = n.window.trim();
  }
  if (n.kind === "absence") {
    out.metric = n.metric.trim() || null;
    out.duration = n.duration.trim();
  }
  if (n.kind === "anomaly") Object.assign(out, { alpha: num(n.alpha), z: num(n.z), warmup: num(n.warmup), direction: n.direction });
  if (n.kind === "twin") Object.assign(out, { side: n.side, path: n.path.trim() });
  if (n.kind === "twin_not_converged") out.path = n.path.trim() || null;
  if (n.kind === "for" || n.kind === "keep_firing_for") out.duration = n.duration.trim();
  if (n.kind === "repeat") Object.assign(out, { count: num(n.count), within: n.within.trim() });
  if (WRAPPING.includes(n.kind)) out.condition = n.condition ? toApi(n.condition) : null;
  if (LISTING.includes(n.kind)) out.conditions = n.conditions.map(toApi);
  return out as unknown as ApiCondition;
}

/** The inputs the builder shows for a node at `path` (error keys), so an API error can land next to one. */
export function fieldKeys(n: EditorNode, path: string): string[] {
  const keys = [path, `${path}.kind`];
  const add = (...names: string[]) => keys.push(...names.map((f) => `${path}.${f}`));
  if (COMPARING.includes(n.kind)) add("op", ...(RANGE_OPS.includes(n.op) ? ["low", "high"] : ["value"]), "hysteresis");
  if (n.kind === "threshold" || n.kind === "window" || n.kind === "anomaly" || n.kind === "absence") add("metric");
  if (n.kind === "window") add("agg", "window");
  if (n.kind === "absence" || n.kind === "for" || n.kind === "keep_firing_for") add("duration");
  if (n.kind === "anomaly") add("alpha", "z", "warmup", "direction");
  if (n.kind === "twin") add("side", "path");
  if (n.kind === "twin_not_converged") add("path");
  if (n.kind === "repeat") add("count", "within");
  if (WRAPPING.includes(n.kind) && n.condition) keys.push(...fieldKeys(n.condition, `${path}.condition`));
  if (LISTING.includes(n.kind)) {
    add("conditions");
    n.conditions.forEach((child, i) => keys.push(...fieldKeys(child, `${path}.conditions.${i}`)));
  }
  return keys;
}

const KIND_NAMES = new Set<string>(KINDS.map((k) => k.value));

/** An API error path (``condition.all.conditions.0.threshold.value`` or ``condition.all.0.threshold``) as the
 * builder's key for the same input (``condition.conditions.0.value``); null when it is not under `root`. */
export function builderKey(field: string, root: "condition" | "clear", tree: EditorNode | null): string | null {
  const parts = field.split(".");
  if (parts[0] !== root) return null;
  const out: string[] = [root];
  let node = tree;
  let i = 1;
  let tagNext = true; // pydantic names the discriminator tag right after each node's location
  while (i < parts.length) {
    const t = parts[i];
    if (tagNext && KIND_NAMES.has(t)) {
      tagNext = false;
      i += 1;
      continue;
    }
    tagNext = false;
    if (node && LISTING.includes(node.kind) && (t === "conditions" || /^\d+$/.test(t))) {
      const index = t === "conditions" ? parts[i + 1] : t;
      if (index === undefined || !/^\d+$/.test(index)) {
        out.push("conditions");
        break;
      }
      out.push("conditions", index);
      node = node.conditions[Number(index)] ?? null;
      i += t === "conditions" ? 2 : 1;
      tagNext = true;
      continue;
    }
    if (node && WRAPPING.includes(node.kind) && t === "condition") {
      out.push("condition");
      node = node.condition;
      i += 1;
      tagNext = true;
      continue;
    }
    out.push(t); // a field of the node; anything deeper (value.ref) belongs to that input
    break;
  }
  return out.join(".");
}
