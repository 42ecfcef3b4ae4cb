import { Card, Group, SegmentedControl, SimpleGrid, Text } from "@mantine/core";
import type { EChartsOption } from "echarts";
import dayjs from "dayjs";

import type { components } from "../../../api/schema";
import { Chart } from "../../../components/Chart";
import { QueryState } from "../../../components/QueryState";

type NocTimeseries = components["schemas"]["NocTimeseries"];
export type Minutes = 60 | 360 | 1440;

export const RANGES: { value: string; label: string }[] = [
  { value: "60", label: "1h" },
  { value: "360", label: "6h" },
  { value: "1440", label: "24h" },
];

function axisLabels(series: NocTimeseries): string[] {
  return series.points.map((p) => dayjs(p.at).format(series.minutes > 360 ? "ddd HH:mm" : "HH:mm"));
}

function lineOption(series: NocTimeseries, lines: { name: string; values: number[]; color: string; area?: boolean; stack?: string; bar?: boolean }[], fontScale: number): EChartsOption {
  return {
    tooltip: { trigger: "axis" },
    legend: lines.length > 1 ? { top: 0, itemWidth: 10, itemHeight: 8, itemGap: 8, textStyle: { fontSize: 10 * fontScale } } : undefined,
    grid: { left: 40, right: 12, top: lines.length > 1 ? 28 * fontScale : 12, bottom: 28 },
    xAxis: { type: "category", data: axisLabels(series), axisLabel: { fontSize: 10 * fontScale } },
    yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: 10 * fontScale } },
    series: lines.map((l) => ({
      name: l.name,
      type: l.bar ? "bar" : "line",
      stack: l.stack,
      showSymbol: false,
      smooth: !l.bar,
      areaStyle: l.area ? { opacity: 0.15 } : undefined,
      itemStyle: { color: l.color },
      lineStyle: l.bar ? undefined : { color: l.color, width: 2 },
      data: l.values,
    })),
  };
}

export function ingestOption(series: NocTimeseries, fontScale = 1): EChartsOption {
  // Messages per second in each bucket, the gauge's unit, so 1h/6h/24h read the same.
  const perSecond = series.points.map((p) => Number((p.ingest_messages / series.bucket_seconds).toFixed(2)));
  return lineOption(series, [{ name: "msg/s", values: perSecond, color: "#1c7ed6", area: true }], fontScale);
}

export function alertsOption(series: NocTimeseries, fontScale = 1): EChartsOption {
  return lineOption(series, [{ name: "Alerts opened", values: series.points.map((p) => p.alerts_opened), color: "#e8590c", bar: true }], fontScale);
}

export function deliveriesOption(series: NocTimeseries, fontScale = 1): EChartsOption {
  return lineOption(
    series,
    [
      { name: "Delivered", values: series.points.map((p) => p.deliveries_succeeded), color: "#2f9e44", bar: true, stack: "d" },
      { name: "Failed", values: series.points.map((p) => p.deliveries_failed), color: "#f59f00", bar: true, stack: "d" },
      { name: "Dead letters", values: series.points.map((p) => p.dead_letters), color: "#e03131", bar: true, stack: "d" },
    ],
    fontScale,
  );
}

interface QueryLike {
  data: NocTimeseries | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

export function NocCharts({ query, minutes, onMinutes, tv }: { query: QueryLike; minutes: Minutes; onMinutes: (m: Minutes) => void; tv: boolean }) {
  const scale = tv ? 1.4 : 1;
  const height = tv ? 230 : 220;
  const bucket = query.data ? `${query.data.bucket_seconds / 60}-minute buckets` : "";
  return (
    <Card withBorder padding="sm">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Text fw={600}>Activity {bucket && <Text span size="xs" c="dimmed">({bucket})</Text>}</Text>
        <SegmentedControl size="xs" aria-label="Time range" data={RANGES} value={String(minutes)} onChange={(v) => onMinutes(Number(v) as Minutes)} />
      </Group>
      <QueryState query={query}>
        {(series) => (
          <SimpleGrid cols={{ base: 1, lg: 3 }}>
            <div>
              <Text size="sm" fw={500}>
                Ingest (msg/s)
              </Text>
              <Chart option={ingestOption(series, scale)} height={height} label="Ingest messages per second over time" />
            </div>
            <div>
              <Text size="sm" fw={500}>
                Alerts opened
              </Text>
              <Chart option={alertsOption(series, scale)} height={height} label="Alerts opened over time" />
            </div>
            <div>
              <Text size="sm" fw={500}>
                Deliveries
              </Text>
              <Chart option={deliveriesOption(series, scale)} height={height} label="Deliveries delivered and failed over time" />
            </div>
          </SimpleGrid>
        )}
      </QueryState>
    </Card>
  );
}
