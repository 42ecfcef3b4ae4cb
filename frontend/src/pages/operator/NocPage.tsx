import { Box, Button, Grid, Stack } from "@mantine/core";
import { IconDeviceTv } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState, type CSSProperties } from "react";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { AlertHeatmap, type HeatmapDays } from "./noc/AlertHeatmap";
import { EventFeed } from "./noc/EventFeed";
import { HealthStrip } from "./noc/HealthStrip";
import { NocCharts, type Minutes } from "./noc/NocCharts";
import { NocGauges } from "./noc/NocGauges";
import { useTvMode } from "./noc/useTvMode";
import { TenantSelect } from "./TenantSelect";

/** TV mode reads from across a room: Mantine's font sizes are variables, overridden for this subtree. */
const TV_STYLE = {
  "--mantine-font-size-xs": "1rem",
  "--mantine-font-size-sm": "1.15rem",
  "--mantine-font-size-md": "1.3rem",
  "--mantine-font-size-lg": "1.5rem",
  "--mantine-font-size-xl": "1.75rem",
  "--mantine-h2-font-size": "2.5rem",
  minHeight: "100vh",
} as CSSProperties;

export function NocPage({ feedIntervalMs }: { feedIntervalMs?: number }) {
  const api = useApi();
  const { tv, toggle } = useTvMode();
  const [tenant, setTenant] = useState<string | null>(null);
  const [minutes, setMinutes] = useState<Minutes>(60);
  const [days, setDays] = useState<HeatmapDays>(7);
  const tenant_id = tenant ?? undefined;
  const live = { refetchInterval: LIVE_REFRESH_MS };

  const summary = useQuery({
    queryKey: ["noc", "summary", tenant],
    queryFn: () => unwrap(api.GET("/api/v1/noc/summary", { params: { query: { tenant_id } } })),
    ...live,
  });
  const health = useQuery({
    queryKey: ["noc", "health", tenant],
    queryFn: () => unwrap(api.GET("/api/v1/noc/health", { params: { query: { tenant_id } } })),
    ...live,
  });
  const series = useQuery({
    queryKey: ["noc", "timeseries", tenant, minutes],
    queryFn: () => unwrap(api.GET("/api/v1/noc/timeseries", { params: { query: { minutes, tenant_id } } })),
    ...live,
  });
  const heatmap = useQuery({
    queryKey: ["noc", "heatmap", tenant, days],
    queryFn: () => unwrap(api.GET("/api/v1/noc/heatmap", { params: { query: { days, tenant_id } } })),
    ...live,
  });

  return (
    <Box
      data-tv-mode={tv || undefined}
      p={tv ? "md" : 0}
      style={tv ? TV_STYLE : undefined}
    >
      <PageHeader
        title="NOC"
        description={tv ? undefined : "The platform at a glance: every tenant, refreshed live. Press F for TV mode."}
        actions={
          <>
            {!tv && <TenantSelect value={tenant} onChange={setTenant} label="Tenant (all when empty)" />}
            <Button variant={tv ? "filled" : "default"} leftSection={<IconDeviceTv size={16} />} onClick={toggle} aria-pressed={tv} style={{ alignSelf: "flex-end" }}>
              TV mode (F)
            </Button>
          </>
        }
      />
      <Stack gap="md">
        <QueryState query={health}>{(h) => <HealthStrip health={h} tv={tv} />}</QueryState>
        <QueryState query={summary}>{(s) => <NocGauges summary={s} tv={tv} />}</QueryState>
        <Grid gutter="md">
          <Grid.Col span={{ base: 12, lg: 8 }}>
            <Stack gap="md">
              <NocCharts query={series} minutes={minutes} onMinutes={setMinutes} tv={tv} />
              <AlertHeatmap query={heatmap} days={days} onDays={setDays} tv={tv} />
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 4 }}>
            <EventFeed tenantId={tenant} tv={tv} intervalMs={feedIntervalMs} />
          </Grid.Col>
        </Grid>
      </Stack>
    </Box>
  );
}
