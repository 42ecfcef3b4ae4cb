import { Anchor, Breadcrumbs, Group, Tabs, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams, useSearchParams } from "react-router-dom";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";
import { StatusBadge } from "../../components/badges";
import { timeAgo } from "../../components/format";
import { LIVE_REFRESH_MS } from "../../components/live";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { DeviceAlerts } from "./device/DeviceAlerts";
import { DeviceCommands } from "./device/DeviceCommands";
import { DeviceCredentials } from "./device/DeviceCredentials";
import { DeviceOverview } from "./device/DeviceOverview";
import { DeviceTelemetry } from "./device/DeviceTelemetry";
import { DeviceTwin } from "./device/DeviceTwin";

const TABS = ["overview", "telemetry", "twin", "commands", "alerts", "credentials"] as const;
type Tab = (typeof TABS)[number];
const LABELS: Record<Tab, string> = { overview: "Overview", telemetry: "Telemetry", twin: "Twin", commands: "Commands", alerts: "Alerts", credentials: "Credentials" };

export function DevicePage() {
  const { deviceId = "" } = useParams();
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const requested = params.get("tab");
  const tab: Tab = (TABS as readonly string[]).includes(requested ?? "") ? (requested as Tab) : "overview";
  const device = useQuery({
    queryKey: ["devices", "detail", deviceId],
    queryFn: () => unwrap(api.GET("/api/v1/devices/{device_id}", { params: { path: { device_id: deviceId } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const connectivity = useQuery({
    queryKey: ["devices", "connectivity", deviceId],
    queryFn: () => unwrap(api.GET("/api/v1/devices/{device_id}/connectivity", { params: { path: { device_id: deviceId } } })),
    refetchInterval: LIVE_REFRESH_MS,
    enabled: device.isSuccess,
  });

  return (
    <>
      <Breadcrumbs mb="xs">
        <Anchor component={Link} to="/fleet" size="sm">
          Devices
        </Anchor>
        <Text size="sm">{deviceId}</Text>
      </Breadcrumbs>
      <PageHeader
        title={device.data?.name ?? deviceId}
        description={device.data ? `${device.data.id} · last seen ${timeAgo(device.data.last_seen_at)}` : undefined}
        actions={
          device.data && (
            <Group gap="xs" data-testid="device-status">
              <StatusBadge status={device.data.status} />
              {connectivity.data && <StatusBadge status={connectivity.data.status} />}
            </Group>
          )
        }
      />
      <QueryState query={device}>
        {(current) => (
          <Tabs value={tab} onChange={(next) => setParams(next && next !== "overview" ? { tab: next } : {}, { replace: true })} keepMounted={false}>
            <Tabs.List mb="md">
              {TABS.map((t) => (
                <Tabs.Tab key={t} value={t}>
                  {LABELS[t]}
                </Tabs.Tab>
              ))}
            </Tabs.List>
            <Tabs.Panel value="overview">
              <DeviceOverview device={current} />
            </Tabs.Panel>
            <Tabs.Panel value="telemetry">
              <DeviceTelemetry deviceId={current.id} />
            </Tabs.Panel>
            <Tabs.Panel value="twin">
              <DeviceTwin deviceId={current.id} />
            </Tabs.Panel>
            <Tabs.Panel value="commands">
              <DeviceCommands deviceId={current.id} />
            </Tabs.Panel>
            <Tabs.Panel value="alerts">
              <DeviceAlerts deviceId={current.id} />
            </Tabs.Panel>
            <Tabs.Panel value="credentials">
              <DeviceCredentials device={current} />
            </Tabs.Panel>
          </Tabs>
        )}
      </QueryState>
    </>
  );
}
