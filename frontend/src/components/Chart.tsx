import type { EChartsOption } from "echarts";
import ReactECharts from "echarts-for-react";

/** Every chart in the portal goes through ECharts with the same defaults. */
export function Chart({ option, height = 260, label }: { option: EChartsOption; height?: number; label: string }) {
  return (
    <div role="img" aria-label={label} data-testid="chart">
      <ReactECharts
        option={{ animation: false, grid: { left: 48, right: 16, top: 24, bottom: 32 }, ...option }}
        style={{ height, width: "100%" }}
        notMerge
        lazyUpdate
      />
    </div>
  );
}
