import { Badge } from "@mantine/core";

const SEVERITY_COLORS: Record<string, string> = {
  critical: "red",
  major: "orange",
  high: "orange",
  minor: "yellow",
  warning: "yellow",
  medium: "yellow",
  low: "blue",
  info: "gray",
};

const STATUS_COLORS: Record<string, string> = {
  online: "green",
  stale: "yellow",
  offline: "red",
  never: "gray",
  active: "green",
  provisioned: "blue",
  revoked: "red",
  decommissioned: "gray",
  open: "red",
  acknowledged: "yellow",
  snoozed: "grape",
  resolved: "green",
  closed: "gray",
  succeeded: "green",
  delivered: "green",
  failed: "red",
  dead_lettered: "red",
  pending: "blue",
  sent: "blue",
  expired: "gray",
  cancelled: "gray",
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge color={SEVERITY_COLORS[severity.toLowerCase()] ?? "gray"} variant="filled">
      {severity}
    </Badge>
  );
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const value = status ?? "unknown";
  return (
    <Badge color={STATUS_COLORS[value.toLowerCase()] ?? "gray"} variant="light">
      {value.replace(/_/g, " ")}
    </Badge>
  );
}
