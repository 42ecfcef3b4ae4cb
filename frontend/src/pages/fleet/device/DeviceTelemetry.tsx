import { Alert, Group, MultiSelect, Paper, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { DateTimePicker, type DateValue } from "@mantine/dates";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { EChartsOption } from "echarts";
import { useState } from "react";

import { unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { useApi } from "../../../auth/SessionProvider";
import { Chart } from "../../../components/Chart";
import { formatNumber, formatTime, timeAgo } from "../../../components/format";
import { LIVE_REFRESH_MS } from "../../../components/live";
import { EmptyState, ProblemAlert, QueryState } from "../../../components/QueryState";

type BucketStat = components["schemas"]["BucketStat"];
type RawPoint = components["schemas"]["RawPoint"];

const RANGES = { "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 24 * 3_600_000, "7d": 7 * 24 * 3_600_000 } as const;
type RangeKey = keyof typeof RANGES | "custom";
const BUCKETS = ["raw", "1m", "5m", "1h", "1d"] as const;
type BucketChoice = (typeof BUCKETS)[number];
export const RAW_LIMIT = 5000;

type Series = { kind: "raw"; points: RawPoint[]; truncated: boolean } | { kind: "buckets"; stats: BucketStat[] };

function chartOption(series: Series, metrics: string[]): EChartsOption {
  const lines: NonNullable<EChartsOption["series"]> = [];
  for (const metric of metrics) {
    if (series.kind === "raw") {
      const data = series.points.filter((p) => p.metric === metric).map((p) => [p.ts, p.value]);
      lines.push({ type: "line", name: metric, showSymbol: false, data });
      continue;
    }
    const stats = series.stats.filter((s) => s.metric === metric);
    lines.push({ type: "line", name: `${metric} avg`, showSymbol: false, data: stats.map((s) => [s.bucket, s.avg]) });
    if (metrics.length === 1) {
      lines.push({ type: "line", name: `${metric} min`, showSymbol: false, lineStyle: { type: "dashed", opacity: 0.6 }, data: stats.map((s) => [s.bucket, s.min]) });
      lines.push({ type: "line", name: `${metric} max`, showSymbol: false, lineStyle: { type: "dashed", opacity: 0.6 }, data: stats.map((s) => [s.bucket, s.max]) });
    }
  }
  return {
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 56, right: 16, top: 36, bottom: 32 },
    xAxis: { type: "time" },
    yAxis: { type: "value", scale: true },
    series: lines,
  };
}

function LatestValues({ metrics, at }: { metrics: Record<string, number | boolean>; at: string }) {
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Latest values</Title>
        <Text size="sm" c="dimmed">
          newest message {formatTime(at)} ({timeAgo(at)})
        </Text>
      </Group>
      <Table.ScrollContainer minWidth={320}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Metric</Table.Th>
              <Table.Th>Value</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {Object.entries(metrics)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([metric, value]) => (
                <Table.Tr key={metric}>
                  <Table.Td>{metric}</Table.Td>
                  <Table.Td>{typeof value === "boolean" ? String(value) : formatNumber(value, 3)}</Table.Td>
                </Table.Tr>
              ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

export function DeviceTelemetry({ deviceId }: { deviceId: string }) {
  const api = useApi();
  const [picked, setPicked] = useState<string[] | null>(null);
  const [range, setRange] = useState<RangeKey>("1h");
  const [bucket, setBucket] = useState<BucketChoice>("1m");
  const [from, setFrom] = useState<DateValue>(null);
  const [to, setTo] = useState<DateValue>(null);

  const latest = useQuery({
    queryKey: ["devices", "latest", deviceId],
    queryFn: () => unwrap(api.GET("/api/v1/telemetry/latest", { params: { query: { device_id: [deviceId] } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const current = latest.data?.find((d) => d.device_id === deviceId);
  const known = Object.keys(current?.metrics ?? {}).sort();
  // The first numeric metric the device reports is charted until the user picks metrics.
  const first = known.find((m) => typeof current?.metrics[m] === "number") ?? known[0];
  const metrics = picked ?? (first ? [first] : []);

  const customInvalid = range === "custom" && (!from || !to || from >= to);
  const series = useQuery({
    queryKey: ["devices", "telemetry", deviceId, metrics, range, bucket, from?.toISOString(), to?.toISOString()],
    enabled: metrics.length > 0 && !customInvalid,
    placeholderData: keepPreviousData,
    refetchInterval: range === "custom" ? false : LIVE_REFRESH_MS,
    queryFn: async (): Promise<Series> => {
      const end = range === "custom" ? to!.toISOString() : new Date().toISOString();
      const start = range === "custom" ? from!.toISOString() : new Date(Date.now() - RANGES[range]).toISOString();
      const path = { device_id: deviceId };
      if (bucket === "raw") {
        const page = await unwrap(api.GET("/api/v1/devices/{device_id}/telemetry", { params: { path, query: { metric: metrics, start, end, limit: RAW_LIMIT } } }));
        return { kind: "raw", points: page.items, truncated: !!page.next_cursor };
      }
      const answer = await unwrap(api.GET("/api/v1/devices/{device_id}/telemetry/buckets", { params: { path, query: { metric: metrics, start, end, bucket } } }));
      return { kind: "buckets", stats: answer.stats };
    },
  });

  if (latest.isError) return <ProblemAlert error={latest.error} onRetry={() => void latest.refetch()} />;
  if (latest.isSuccess && !current) return <EmptyState title="No telemetry yet">This device has not sent any telemetry.</EmptyState>;

  return (
    <Stack>
      <Paper withBorder p="sm">
        <Stack gap="sm">
          <Group gap="md" align="flex-end" wrap="wrap">
            <MultiSelect label="Metrics" data={known} value={metrics} onChange={setPicked} searchable w={280} placeholder={metrics.length ? undefined : "pick a metric"} />
            <Stack gap={4}>
              <Text size="sm" fw={500} id="telemetry-range-label">
                Range
              </Text>
              <SegmentedControl aria-labelledby="telemetry-range-label" data={[...Object.keys(RANGES), "custom"]} value={range} onChange={(v) => setRange(v as RangeKey)} />
            </Stack>
            <Stack gap={4}>
              <Text size="sm" fw={500} id="telemetry-bucket-label">
                Bucket
              </Text>
              <SegmentedControl aria-labelledby="telemetry-bucket-label" data={[...BUCKETS]} value={bucket} onChange={(v) => setBucket(v as BucketChoice)} />
            </Stack>
          </Group>
          {range === "custom" && (
            <Group gap="md" wrap="wrap">
              <DateTimePicker label="From" value={from} onChange={setFrom} maxDate={to ?? undefined} clearable w={220} />
              <DateTimePicker label="To" value={to} onChange={setTo} minDate={from ?? undefined} clearable w={220} error={from && to && from >= to ? "must be after From" : undefined} />
            </Group>
          )}
          {customInvalid && (
            <Text size="sm" c="dimmed">
              Pick the start and end of the range.
            </Text>
          )}
          {!customInvalid && metrics.length > 0 && (
            <QueryState
              query={series}
              isEmpty={(s) => (s.kind === "raw" ? s.points.length === 0 : s.stats.length === 0)}
              empty={<EmptyState title="No data in this range">Pick a longer range or another metric.</EmptyState>}
            >
              {(s) => (
                <>
                  {s.kind === "raw" && s.truncated && (
                    <Alert color="yellow">
                      Showing the first {formatNumber(RAW_LIMIT)} points of the range; pick a bucket to see all of it.
                    </Alert>
                  )}
                  <Chart label={`${metrics.join(", ")} over ${range === "custom" ? "the chosen range" : `the last ${range}`}`} option={chartOption(s, metrics)} height={320} />
                </>
              )}
            </QueryState>
          )}
        </Stack>
      </Paper>
      <QueryState query={latest}>{() => (current ? <LatestValues metrics={current.metrics} at={current.last_msg_ts} /> : null)}</QueryState>
    </Stack>
  );
}
