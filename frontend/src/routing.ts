import type { Icon } from "@tabler/icons-react";
import type { ReactElement } from "react";

import type { Role } from "./auth/roles";

export type Audience = "customer" | "operator";

/** One page of the app. Areas (src/pages/<area>/routes.tsx) export their own list; App merges them. */
export interface AppRoute {
  /** react-router path, e.g. "devices/:deviceId" (no leading slash). */
  path: string;
  element: ReactElement;
  audience: Audience;
  /** Present for pages that appear in the navigation. */
  nav?: { label: string; icon: Icon; group: string; order: number };
  /** Roles allowed beyond the audience check (default: every role of the audience). */
  roles?: Role[];
}

export const NAV_GROUPS: Record<Audience, string[]> = {
  customer: ["Monitor", "Respond", "Configure", "Account"],
  operator: ["Operations", "Tenants"],
};

export function audienceOf(role: Role): Audience {
  return role === "operator" || role === "operator_admin" ? "operator" : "customer";
}

export function visibleRoutes(routes: AppRoute[], role: Role): AppRoute[] {
  const audience = audienceOf(role);
  return routes.filter((r) => r.audience === audience && (!r.roles || r.roles.includes(role)));
}
