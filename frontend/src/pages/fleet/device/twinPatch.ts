/** Desired-state edits as the twin API takes them: a partial deep merge where null deletes a key. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The merge patch that turns `before` into `after`: changed keys set, removed keys null. */
export function mergePatch(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (isObject(value) && isObject(old)) {
      const nested = mergePatch(old, value);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else if (!(key in before) || !jsonEqual(old, value)) {
      patch[key] = value;
    }
  }
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}

/** `target` with `patch` merged in (what the twin does with a desired update). */
export function applyPatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = applyPatch(out[key] as JsonObject, value);
    else out[key] = value;
  }
  return out;
}

export interface Change {
  path: string;
  before: Json | undefined;
  after: Json | undefined;
}

/** Leaf-level differences between two documents, by dotted path. */
export function describeChanges(before: JsonObject, after: JsonObject, prefix = ""): Change[] {
  const changes: Change[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const path = prefix ? `${prefix}.${key}` : key;
    const a = before[key];
    const b = after[key];
    if (isObject(a) && isObject(b)) changes.push(...describeChanges(a, b, path));
    else if (!jsonEqual(a, b)) changes.push({ path, before: a, after: b });
  }
  return changes;
}

/** Parse the editor's text: a JSON object, or the reason it is not one. */
export function parseDesired(text: string, what = "the desired state"): { value: JsonObject | null; error: string | null } {
  if (!text.trim()) return { value: {}, error: null };
  try {
    const value: unknown = JSON.parse(text);
    if (!isObject(value)) return { value: null, error: `${what} must be a JSON object, e.g. {"mode": "eco"}` };
    return { value, error: null };
  } catch (error) {
    return { value: null, error: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export const pretty = (value: unknown): string => JSON.stringify(value ?? {}, null, 2);
export const showValue = (value: Json | undefined): string => (value === undefined ? "(absent)" : JSON.stringify(value));
