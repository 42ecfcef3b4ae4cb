import { Alert, List } from "@mantine/core";

import { ApiError, type FieldError } from "../../api/errors";
import { showWriteError } from "../../components/forms";

/** A failed write on a form: each field error next to its input (``tags.site`` -> ``tags``); errors of no input
 * (the body as a whole, e.g. "name at least one matcher") are returned for an alert box above the form. */
export function placeWriteError(error: unknown, form: { setErrors(errors: Record<string, string>): void }, keys: string[]): FieldError[] {
  if (!(error instanceof ApiError) || error.fieldErrors.length === 0) {
    showWriteError(error);
    return [];
  }
  const fields: Record<string, string> = {};
  const unmatched: FieldError[] = [];
  for (const e of error.fieldErrors) {
    const key = keys.find((k) => e.field === k || e.field.startsWith(`${k}.`));
    if (key) fields[key] = fields[key] ? `${fields[key]}; ${e.message}` : e.message;
    else unmatched.push(e);
  }
  form.setErrors(fields);
  return unmatched;
}

export function UnmatchedErrors({ errors, title }: { errors: FieldError[]; title: string }) {
  if (errors.length === 0) return null;
  return (
    <Alert color="red" title={title} role="alert">
      <List size="sm">
        {errors.map((e, i) => (
          <List.Item key={i}>{e.field === "body" ? e.message : `${e.field}: ${e.message}`}</List.Item>
        ))}
      </List>
    </Alert>
  );
}
