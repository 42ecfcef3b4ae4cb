import { Card, Group, SegmentedControl, Text } from "@mantine/core";
import type { EChartsOption } from "echarts";

import type { components } from "../../../api/schema";
import { Chart } from "../../../components/Chart";
import { QueryState } from "../../../components/QueryState";

type Heatmap = components["schemas"]["Heatmap"];
export type HeatmapDays = 7 | 28;

const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0"));

/** Alerts opened by weekday (rows, Monday on top) and UTC hour (columns). */
export function heatmapOption(heatmap: Heatmap, fontScale = 1): EChartsOption {
  const data: [number, number, number][] = [];
  heatmap.matrix.forEach((row, day) => row.forEach((count, hour) => data.push([hour, day, count])));
  return {
    tooltip: {
      position: "top",
      formatter: (p: unknown) => {
        const [hour, day, count] = (p as { value: [number, number, number] }).value;
        return `${heatmap.day_labels[day]} ${HOURS[hour]}:00 UTC: ${count} alerts opened`;
      },
    },
    grid: { left: 48, right: 16, top: 8, bottom: 64 },
    xAxis: { type: "category", data: HOURS, splitArea: { show: true }, axisLabel: { fontSize: 10 * fontScale } },
    yAxis: { type: "category", data: heatmap.day_labels, inverse: true, splitArea: { show: true }, axisLabel: { fontSize: 10 * fontScale } },
    visualMap: {
      min: 0,
      max: Math.max(heatmap.max, 1),
      calculable: true,
      orient: "horizontal",
      left: "center",
      bottom: 0,
      itemHeight: 120,
      textStyle: { fontSize: 10 * fontScale },
      inRange: { color: ["#f1f3f5", "#ffd8a8", "#ff922b", "#e03131"] },
    },
    series: [{ name: "Alerts opened", type: "heatmap", data, label: { show: false }, emphasis: { itemStyle: { borderColor: "#343a40", borderWidth: 1 } } }],
  };
}

interface QueryLike {
  data: Heatmap | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

export function AlertHeatmap({ query, days, onDays, tv }: { query: QueryLike; days: HeatmapDays; onDays: (d: HeatmapDays) => void; tv: boolean }) {
  return (
    <Card withBorder padding="sm">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Text fw={600}>
          Alerts opened by weekday and hour (UTC){" "}
          {query.data && (
            <Text span size="xs" c="dimmed">
              ({query.data.total} opened, last {query.data.days} days)
            </Text>
          )}
        </Text>
        <SegmentedControl
          size="xs"
          aria-label="Heatmap window"
          data={[
            { value: "7", label: "7 days" },
            { value: "28", label: "28 days" },
          ]}
          value={String(days)}
          onChange={(v) => onDays(Number(v) as HeatmapDays)}
        />
      </Group>
      <QueryState query={query}>
        {(heatmap) => <Chart option={heatmapOption(heatmap, tv ? 1.4 : 1)} height={tv ? 280 : 260} label={`Alert heatmap: ${heatmap.total} alerts opened in ${heatmap.days} days, at most ${heatmap.max} in one hour`} />}
      </QueryState>
    </Card>
  );
}
