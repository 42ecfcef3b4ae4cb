export type Role = "customer_viewer" | "customer_admin" | "operator" | "operator_admin";

export interface Principal {
  subject: string;
  username: string;
  email?: string | null;
  role: Role;
  tenant_id?: string | null;
}

export const isOperator = (role: Role): boolean => role === "operator" || role === "operator_admin";

/** Who may change things: viewers read only; operators act on the platform, not inside a tenant. */
export function canWrite(role: Role): boolean {
  return role === "customer_admin" || role === "operator_admin";
}

export const ROLE_LABELS: Record<Role, string> = {
  customer_viewer: "Viewer",
  customer_admin: "Admin",
  operator: "Operator",
  operator_admin: "Operator admin",
};
