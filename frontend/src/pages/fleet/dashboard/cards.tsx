import { Anchor, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";

import { formatNumber } from "../../../components/format";

export interface Stat {
  key: string;
  label: string;
  value: number | null | undefined;
  color?: string;
  /** Where the card leads: the Fleet or Alerts page filtered to what it counts. */
  to?: string;
}

/** A number that opens the filtered list it counts (a real link, keyboard reachable). */
export function StatCard({ stat }: { stat: Stat }) {
  const body = (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {stat.label}
      </Text>
      <Text fw={700} size="xl" c={stat.value ? stat.color : undefined}>
        {formatNumber(stat.value)}
      </Text>
    </Stack>
  );
  return (
    <Paper withBorder p="sm">
      {stat.to ? (
        <Anchor component={Link} to={stat.to} underline="never" c="inherit" aria-label={`${stat.label}: ${formatNumber(stat.value)}`} display="block">
          {body}
        </Anchor>
      ) : (
        body
      )}
    </Paper>
  );
}

export function StatGroup({ title, stats, extra }: { title: string; stats: Stat[]; extra?: ReactNode }) {
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={4}>{title}</Title>
        {extra}
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: stats.length }}>
        {stats.map((s) => (
          <StatCard key={s.key} stat={s} />
        ))}
      </SimpleGrid>
    </Stack>
  );
}

export const SEVERITIES = ["critical", "major", "minor", "warning", "info"] as const;
export const SEVERITY_COLORS: Record<(typeof SEVERITIES)[number], string> = { critical: "red", major: "orange", minor: "yellow.7", warning: "yellow.7", info: "gray" };
export const OPEN_STATES = ["open", "acknowledged", "snoozed"] as const;

/** The Alerts page filtered to open alerts, optionally of one severity (its filter means "this or worse"). */
export function openAlertsLink(severity?: string): string {
  const params = new URLSearchParams(OPEN_STATES.map((s) => ["state", s]));
  if (severity) params.set("severity", severity);
  return `/alerts?${params}`;
}
