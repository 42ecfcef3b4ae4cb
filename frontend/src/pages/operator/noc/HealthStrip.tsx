import { Badge, Group, Paper, Text, Tooltip } from "@mantine/core";

import type { components } from "../../../api/schema";
import { formatNumber } from "../../../components/format";

type NocHealth = components["schemas"]["NocHealth"];
type ServiceHealth = components["schemas"]["ServiceHealth"];

const STATUS_COLOR: Record<string, string> = { ok: "green", degraded: "yellow", down: "red" };

const SERVICE_LABEL: Record<string, string> = {
  ingest: "Ingest",
  evaluator: "Evaluator",
  outbox: "Outbox",
  delivery: "Delivery",
  escalation: "Escalation",
  connectivity_sweep: "Connectivity sweep",
};

export function formatMeasure(s: Pick<ServiceHealth, "measure" | "unit">): string {
  if (s.measure === null || s.measure === undefined) return "idle";
  if (s.unit === "count") return formatNumber(s.measure);
  if (s.measure >= 120) return `${formatNumber(s.measure / 60, 1)} min`;
  return `${formatNumber(s.measure, 1)} s`;
}

/** One coloured pill per service: its status and the measure it was judged by. */
export function HealthStrip({ health, tv }: { health: NocHealth; tv: boolean }) {
  return (
    <Paper withBorder p="xs">
      <Group gap="xs" wrap="wrap" role="list" aria-label="Service health">
        <Group gap={6} mr="xs" wrap="nowrap">
          <Text fw={600} size={tv ? "lg" : "sm"}>
            Services
          </Text>
          <Badge color={STATUS_COLOR[health.status]} variant="filled" aria-label={`All services: ${health.status}`}>
            {health.status}
          </Badge>
        </Group>
        {health.services.map((s) => {
          const at = (measure: number) => formatMeasure({ measure, unit: s.unit });
          return (
            <Tooltip key={s.service} label={`${s.detail} (degraded at ${at(s.degraded_at)}, down at ${at(s.down_at)})`} multiline w={280} withArrow>
              <Badge
                role="listitem"
                size={tv ? "xl" : "lg"}
                radius="xl"
                color={STATUS_COLOR[s.status] ?? "gray"}
                variant={s.status === "ok" ? "light" : "filled"}
                tt="none"
                tabIndex={0}
                aria-label={`${SERVICE_LABEL[s.service] ?? s.service}: ${s.status}, ${formatMeasure(s)}`}
                data-status={s.status}
              >
                {SERVICE_LABEL[s.service] ?? s.service} · {s.status} · {formatMeasure(s)}
              </Badge>
            </Tooltip>
          );
        })}
      </Group>
    </Paper>
  );
}
