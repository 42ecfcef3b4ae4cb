import { Badge } from "@mantine/core";

import type { components } from "../../api/schema";

export type SubscriptionStatus = components["schemas"]["SubscriptionStatus"];

export const SUBSCRIPTION_STATUSES: SubscriptionStatus[] = ["trial", "active", "grace", "suspended", "expired"];

const COLORS: Record<SubscriptionStatus, string> = {
  trial: "blue",
  active: "green",
  grace: "yellow",
  suspended: "orange",
  expired: "red",
};

/** What each status means for the tenant, as the registry enforces it. */
export const STATUS_MEANING: Record<SubscriptionStatus, string> = {
  trial: "Trial: everything works until the end date.",
  active: "Active: paid until the end date.",
  grace: "The paid period has ended: devices still send data during the grace days, but no new devices can be provisioned.",
  suspended: "Suspended: device messages are refused and no devices can be provisioned.",
  expired: "Expired: device messages are refused and no devices can be provisioned.",
};

export function SubscriptionStatusBadge({ status }: { status: SubscriptionStatus }) {
  return (
    <Badge color={COLORS[status] ?? "gray"} variant="light" style={{ flexShrink: 0, minWidth: "max-content" }}>
      {status}
    </Badge>
  );
}
