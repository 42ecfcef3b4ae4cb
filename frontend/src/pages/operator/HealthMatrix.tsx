import { ActionIcon, Group, Table, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconArrowDown, IconArrowUp, IconPencil } from "@tabler/icons-react";
import { useState, type ReactNode } from "react";

import type { components } from "../../api/schema";
import { formatNumber } from "../../components/format";
import { WriteOnly } from "../../components/WriteOnly";
import { SubscriptionStatusBadge } from "../account/subscriptionStatus";

type TenantHealth = components["schemas"]["TenantHealth"];
export type Level = "ok" | "warn" | "bad" | "none";

const LEVEL_BG: Record<Level, string | undefined> = {
  ok: "var(--mantine-color-green-light)",
  warn: "var(--mantine-color-yellow-light)",
  bad: "var(--mantine-color-red-light)",
  none: undefined,
};

export const onlinePercent = (t: TenantHealth): number | null => (t.devices > 0 ? (100 * t.online) / t.devices : null);

/** Thresholds of the matrix colours. */
export const levels = {
  online: (t: TenantHealth): Level => {
    const p = onlinePercent(t);
    return p === null ? "none" : p >= 95 ? "ok" : p >= 80 ? "warn" : "bad";
  },
  critical: (n: number): Level => (n > 0 ? "bad" : "ok"),
  major: (n: number): Level => (n > 0 ? "bad" : "ok"),
  minor: (n: number): Level => (n > 0 ? "warn" : "ok"),
  warning: (n: number): Level => (n > 0 ? "warn" : "ok"),
  /** Silence from a fleet that has devices online, or a drop below half of the hour's rate. */
  ingest: (t: TenantHealth): Level => {
    if (t.online > 0 && t.ingest_per_minute_5m === 0) return "bad";
    if (t.ingest_per_minute_60m > 0 && t.ingest_per_minute_5m < t.ingest_per_minute_60m / 2) return "warn";
    return t.devices > 0 ? "ok" : "none";
  },
  quarantined: (n: number): Level => (n >= 100 ? "bad" : n > 0 ? "warn" : "ok"),
};

type Column = { key: string; label: string; short?: string; value: (t: TenantHealth) => number | string; numeric?: boolean };

const COLUMNS: Column[] = [
  { key: "tenant", label: "Tenant", value: (t) => t.name.toLowerCase() },
  { key: "devices", label: "Devices", value: (t) => t.devices, numeric: true },
  { key: "online", label: "Online %", short: "Online", value: (t) => onlinePercent(t) ?? -1, numeric: true },
  { key: "critical", label: "Critical", short: "Crit", value: (t) => t.open_alerts.critical, numeric: true },
  { key: "major", label: "Major", short: "Maj", value: (t) => t.open_alerts.major, numeric: true },
  { key: "minor", label: "Minor", short: "Min", value: (t) => t.open_alerts.minor, numeric: true },
  { key: "warning", label: "Warning", short: "Warn", value: (t) => t.open_alerts.warning, numeric: true },
  { key: "info", label: "Info", value: (t) => t.open_alerts.info, numeric: true },
  { key: "ingest", label: "Msg/min", value: (t) => t.ingest_per_minute_5m, numeric: true },
  { key: "quarantined", label: "Quarantined 24h", short: "Quar. 24h", value: (t) => t.quarantined_24h, numeric: true },
  { key: "plan", label: "Plan / status", value: (t) => `${t.subscription_status} ${t.plan_id ?? ""}` },
];

export function sortHealth(rows: TenantHealth[], key: string, direction: "asc" | "desc"): TenantHealth[] {
  const column = COLUMNS.find((c) => c.key === key) ?? COLUMNS[0];
  const sign = direction === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = column.value(a);
    const vb = column.value(b);
    const cmp = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb));
    return cmp * sign || a.tenant_id.localeCompare(b.tenant_id);
  });
}

function Cell({ level, children, label }: { level: Level; children: ReactNode; label?: string }) {
  return (
    <Table.Td ta="right" bg={LEVEL_BG[level]} data-level={level} aria-label={label}>
      {children}
    </Table.Td>
  );
}

export function HealthMatrix({ rows, onEdit }: { rows: TenantHealth[]; onEdit: (t: { id: string; name: string }) => void }) {
  const [sort, setSort] = useState<{ key: string; direction: "asc" | "desc" }>({ key: "critical", direction: "desc" });
  const sorted = sortHealth(rows, sort.key, sort.direction);
  const header = (c: Column) => {
    const active = sort.key === c.key;
    const Icon = sort.direction === "asc" ? IconArrowUp : IconArrowDown;
    return (
      <Table.Th key={c.key} ta={c.numeric ? "right" : undefined} aria-sort={active ? (sort.direction === "asc" ? "ascending" : "descending") : "none"}>
        <UnstyledButton
          onClick={() =>
            setSort(active ? { key: c.key, direction: sort.direction === "asc" ? "desc" : "asc" } : { key: c.key, direction: c.numeric ? "desc" : "asc" })
          }
          aria-label={`Sort by ${c.label}`}
        >
          <Group gap={4} wrap="nowrap" justify={c.numeric ? "flex-end" : undefined}>
            <Text size="sm" fw={700} title={c.label} style={{ whiteSpace: "nowrap" }}>
              {c.short ?? c.label}
            </Text>
            {active && <Icon size={14} />}
          </Group>
        </UnstyledButton>
      </Table.Th>
    );
  };
  return (
    <Table.ScrollContainer minWidth={960}>
      <Table withColumnBorders horizontalSpacing="xs" aria-label="Tenant health matrix">
        <Table.Thead>
          <Table.Tr>
            {COLUMNS.map(header)}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sorted.map((t) => {
            const online = onlinePercent(t);
            const a = t.open_alerts;
            return (
              <Table.Tr key={t.tenant_id}>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  <Group gap={4} wrap="nowrap" justify="space-between">
                    <div>
                      <Text size="sm" fw={500}>
                        {t.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {t.tenant_id}
                      </Text>
                    </div>
                    <WriteOnly>
                      <ActionIcon variant="subtle" size="sm" aria-label={`Edit ${t.name}`} onClick={() => onEdit({ id: t.tenant_id, name: t.name })}>
                        <IconPencil size={14} />
                      </ActionIcon>
                    </WriteOnly>
                  </Group>
                </Table.Td>
                <Cell level="none">{formatNumber(t.devices)}</Cell>
                <Cell level={levels.online(t)} label={`${t.name} online`}>
                  {online === null ? "—" : `${formatNumber(online, 1)}%`}
                </Cell>
                <Cell level={levels.critical(a.critical)} label={`${t.name} critical alerts`}>{a.critical}</Cell>
                <Cell level={levels.major(a.major)}>{a.major}</Cell>
                <Cell level={levels.minor(a.minor)}>{a.minor}</Cell>
                <Cell level={levels.warning(a.warning)}>{a.warning}</Cell>
                <Cell level="none">{a.info}</Cell>
                <Cell level={levels.ingest(t)} label={`${t.name} ingest`}>
                  <Tooltip label={`last 5 min ${formatNumber(t.ingest_per_minute_5m, 1)} · last 60 min ${formatNumber(t.ingest_per_minute_60m, 1)} msg/min`}>
                    <span>{formatNumber(t.ingest_per_minute_5m, 1)}</span>
                  </Tooltip>
                </Cell>
                <Cell level={levels.quarantined(t.quarantined_24h)} label={`${t.name} quarantined`}>
                  {formatNumber(t.quarantined_24h)}
                </Cell>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  <Group gap={4} wrap="nowrap">
                    <Text size="sm">{t.plan_id ?? "—"}</Text>
                    <SubscriptionStatusBadge status={t.subscription_status} />
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
