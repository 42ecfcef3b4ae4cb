import { Card, SimpleGrid, Text } from "@mantine/core";
import type { EChartsOption } from "echarts";

import type { components } from "../../../api/schema";
import { Chart } from "../../../components/Chart";
import { formatNumber } from "../../../components/format";

type NocSummary = components["schemas"]["NocSummary"];

const COLOR = { green: "#2f9e44", yellow: "#f59f00", red: "#e03131", blue: "#1c7ed6", gray: "#868e96" };

/** A round ceiling for a gauge's scale: 37 -> 50, 420 -> 500, never below `floor`. */
export function niceMax(value: number, floor = 10): number {
  const target = Math.max(value * 1.25, floor);
  const magnitude = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= target) return step * magnitude;
  }
  return 10 * magnitude;
}

export function gaugeOption(name: string, value: number | null, max: number, color: string, unit: string, fontScale = 1): EChartsOption {
  return {
    grid: undefined,
    series: [
      {
        type: "gauge",
        name,
        min: 0,
        max,
        startAngle: 210,
        endAngle: -30,
        radius: "95%",
        center: ["50%", "58%"],
        progress: { show: true, width: 16, roundCap: true, itemStyle: { color } },
        axisLine: { roundCap: true, lineStyle: { width: 16 } },
        axisTick: { show: false },
        splitLine: { show: false },
        axisLabel: { show: false },
        pointer: { show: false },
        anchor: { show: false },
        title: { show: false },
        detail: {
          valueAnimation: false,
          offsetCenter: [0, "0%"],
          formatter: value === null ? "{value|—}" : unit === "%" ? "{value|{value}%}" : unit ? `{value|{value}}\n{unit|${unit}}` : "{value|{value}}",
          rich: {
            value: { fontSize: 28 * fontScale, fontWeight: "bold", color, lineHeight: 34 * fontScale },
            unit: { fontSize: 12 * fontScale, color: "#868e96" },
          },
        },
        data: [{ value: value ?? 0, name }],
      },
    ],
  };
}

function Gauge({ title, option, caption, label, height }: { title: string; option: EChartsOption; caption: string; label: string; height: number }) {
  return (
    <Card withBorder padding="sm">
      <Text fw={600} size="sm" ta="center">
        {title}
      </Text>
      <Chart option={option} height={height} label={label} />
      <Text size="xs" c="dimmed" ta="center">
        {caption}
      </Text>
    </Card>
  );
}

/** The four headline numbers of the platform (or one tenant), as gauges. */
export function NocGauges({ summary, tv }: { summary: NocSummary; tv: boolean }) {
  const scale = tv ? 1.4 : 1;
  const height = tv ? 200 : 180;
  const online = summary.online_percent;
  const onlineColor = online === null ? COLOR.gray : online >= 95 ? COLOR.green : online >= 80 ? COLOR.yellow : COLOR.red;
  const alerts = summary.open_alerts;
  const alertColor = alerts.critical > 0 ? COLOR.red : alerts.total > 0 ? COLOR.yellow : COLOR.green;
  const failures = summary.delivery_failures_last_hour;
  const failed = failures.failed_attempts + failures.dead_letters;
  const failColor = failures.dead_letters > 0 ? COLOR.red : failures.failed_attempts > 0 ? COLOR.yellow : COLOR.green;
  const ingest = summary.ingest_per_second;
  const d = summary.devices;
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
      <Gauge
        title="Fleet online"
        label={`Fleet online: ${online === null ? "no devices" : `${formatNumber(online, 1)}%`}`}
        option={gaugeOption("Fleet online", online, 100, onlineColor, "%", scale)}
        caption={`${formatNumber(d.online)} of ${formatNumber(d.total)} online · ${formatNumber(d.stale)} stale · ${formatNumber(d.offline)} offline · ${formatNumber(d.never)} never`}
        height={height}
      />
      <Gauge
        title="Ingest"
        label={`Ingest: ${formatNumber(ingest, 1)} messages per second`}
        option={gaugeOption("Ingest", Number(ingest.toFixed(1)), niceMax(ingest), COLOR.blue, "msg/s", scale)}
        caption="messages per second over the last minute"
        height={height}
      />
      <Gauge
        title="Open alerts"
        label={`Open alerts: ${alerts.total}`}
        option={gaugeOption("Open alerts", alerts.total, niceMax(alerts.total), alertColor, "", scale)}
        caption={`${alerts.critical} critical · ${alerts.major} major · ${alerts.minor} minor · ${alerts.warning} warning · ${alerts.info} info`}
        height={height}
      />
      <Gauge
        title="Delivery failures"
        label={`Delivery failures in the last hour: ${failed}`}
        option={gaugeOption("Delivery failures", failed, niceMax(failed), failColor, "", scale)}
        caption={`last hour: ${failures.failed_attempts} failed attempts · ${failures.dead_letters} dead letters`}
        height={height}
      />
    </SimpleGrid>
  );
}
