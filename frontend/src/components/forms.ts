import { notifications } from "@mantine/notifications";

import { ApiError, errorMessage } from "../api/errors";

interface FormLike {
  setErrors(errors: Record<string, string>): void;
}

/** After a failed write: problem-body field errors go next to their fields; the rest is a toast. */
export function showWriteError(error: unknown, form?: FormLike, fieldPrefix = ""): void {
  if (error instanceof ApiError && form && error.fieldErrors.length > 0) {
    form.setErrors(error.fieldMap(fieldPrefix));
    return;
  }
  notifications.show({ color: "red", title: error instanceof ApiError ? error.title : "Failed", message: errorMessage(error) });
}

export function showSaved(message: string): void {
  notifications.show({ color: "green", title: "Saved", message });
}
