/** RFC 9457 problem bodies from the API, kept typed so forms can put each error next to its field. */
export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  get title(): string {
    return this.problem.title ?? `HTTP ${this.status}`;
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }

  /** Field errors keyed by field path, for Mantine's form.setErrors. */
  fieldMap(prefix = ""): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.fieldErrors) {
      const key = e.field.startsWith(prefix) ? e.field.slice(prefix.length) : e.field;
      out[key] = out[key] ? `${out[key]}; ${e.message}` : e.message;
    }
    return out;
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === "object") return new ApiError(status, body as Problem);
  if (typeof body === "string" && body) return new ApiError(status, { title: `HTTP ${status}`, detail: body });
  return new ApiError(status, { title: `HTTP ${status}`, detail: "the server gave no details" });
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
