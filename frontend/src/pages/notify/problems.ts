import { notifications } from "@mantine/notifications";

import { ApiError, type FieldError } from "../../api/errors";
import { showWriteError } from "../../components/forms";

interface FormLike {
  getValues(): unknown;
  setErrors(errors: Record<string, string>): void;
}

const FIELD_PREFIX = /^([A-Za-z_][\w]*(?:\.[\w]+)*): (.+)$/s;

/** Field errors of a problem body. Some refusals carry the field only in `detail` ("config.url: ...;
 * secrets.x: ...") or in a model-level message ("Value error, length_days: ..."): those become fields too. */
export function problemFields(error: ApiError, dropSegments: string[] = []): FieldError[] {
  let raw: FieldError[] = error.fieldErrors;
  if (raw.length === 0 && (error.status === 400 || error.status === 422) && error.problem.detail) {
    raw = error.problem.detail
      .split("; ")
      .map((part) => FIELD_PREFIX.exec(part))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => ({ field: m[1], message: m[2] }));
  }
  return raw.map(({ field, message }) => {
    let path = field === "body" ? [] : field.split(".");
    let text = message.replace(/^Value error, /, "");
    const inner = FIELD_PREFIX.exec(text);
    if (inner) {
      const sub = inner[1].split(".");
      if (path.length && path[path.length - 1] === sub[0]) sub.shift();
      path = [...path, ...sub];
      text = inner[2];
    }
    return { field: path.filter((p) => !dropSegments.includes(p)).join("."), message: text };
  });
}

function hasPath(values: unknown, path: string): boolean {
  if (!path) return false;
  let node: unknown = values;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object" || !(part in (node as Record<string, unknown>))) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

/** After a failed write: every error whose field is in the form goes next to it, the rest in a toast. */
export function showFormError(
  error: unknown,
  form: FormLike,
  options: { dropSegments?: string[]; mapField?: (field: string) => string } = {},
): void {
  if (!(error instanceof ApiError)) return showWriteError(error);
  const fields = problemFields(error, options.dropSegments).map((e) => ({ ...e, field: options.mapField?.(e.field) ?? e.field }));
  const values = form.getValues();
  const placed: Record<string, string> = {};
  const rest: string[] = [];
  for (const e of fields) {
    if (hasPath(values, e.field)) placed[e.field] = placed[e.field] ? `${placed[e.field]}; ${e.message}` : e.message;
    else rest.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  if (Object.keys(placed).length === 0) return showWriteError(error);
  form.setErrors(placed);
  if (rest.length) notifications.show({ color: "red", title: error.title, message: rest.join("; ") });
}
