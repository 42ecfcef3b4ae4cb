import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { DashboardPage } from "./DashboardPage";
import { SLOW_MACHINE } from "./testData";

// ECharts cannot draw in jsdom: show the option each chart was given instead.
vi.mock("echarts-for-react", () => ({
  default: ({ option }: { option: unknown }) => <pre data-testid="echarts-option">{JSON.stringify(option)}</pre>,
}));

const DASHBOARD = {
  tenant_id: "demo",
  generated_at: "2026-01-01T12:00:00Z",
  devices: { total: 25, online: 20, stale: 2, offline: 1, never: 2 },
  open_alerts: { total: 4, critical: 1, major: 0, minor: 3, warning: 0, info: 0 },
  ingest: {
    per_second_now: 4.25,
    bucket_seconds: 60,
    series: [
      { at: "2026-01-01T11:58:00Z", messages: 240 },
      { at: "2026-01-01T11:59:00Z", messages: 255 },
    ],
  },
  recent_events: [
    { id: "alert:9", kind: "alert", event: "acknowledged", at: "2026-01-01T11:59:30Z", tenant_id: "demo", device_id: "sim-02", severity: "critical", summary: "critical alert 'Too hot' on sim-02 acknowledged", detail: { alert_id: "al-9" } },
    { id: "presence:3", kind: "presence", event: "offline", at: "2026-01-01T11:59:00Z", tenant_id: "demo", device_id: "sim-07", severity: null, summary: "sim-07 went offline", detail: {} },
  ],
};

describe("Dashboard", SLOW_MACHINE, () => {
  it("shows devices by connectivity, open alerts by severity, the ingest rate and recent events, linking to the filtered lists", async () => {
    renderPage(<DashboardPage />, { api: fakeApi({ "GET /api/v1/dashboard": () => DASHBOARD }) });
    expect(await screen.findByRole("link", { name: "Online: 20" })).toHaveAttribute("href", "/fleet?status=active&sort=last_seen_at&order=desc");
    expect(screen.getByRole("link", { name: "Active devices: 25" })).toHaveAttribute("href", "/fleet?status=active");
    expect(screen.getByRole("link", { name: "critical: 1" })).toHaveAttribute("href", "/alerts?state=open&state=acknowledged&state=snoozed&severity=critical");
    expect(screen.getByRole("link", { name: "All open: 4" })).toHaveAttribute("href", "/alerts?state=open&state=acknowledged&state=snoozed");
    expect(screen.getByTestId("ingest-now")).toHaveTextContent("4.25");
    const chart = screen.getByRole("img", { name: /Messages received per minute/ });
    expect(JSON.parse(within(chart).getByTestId("echarts-option").textContent!).series[0].data).toEqual([
      ["2026-01-01T11:58:00Z", 240],
      ["2026-01-01T11:59:00Z", 255],
    ]);
    expect(screen.getByRole("link", { name: "critical alert 'Too hot' on sim-02 acknowledged" })).toHaveAttribute("href", "/alerts/al-9");
    expect(screen.getByRole("link", { name: "sim-07" })).toHaveAttribute("href", "/devices/sim-07");
  });

  it("shows the API's problem when the dashboard cannot be read", async () => {
    renderPage(<DashboardPage />, { api: fakeApi({ "GET /api/v1/dashboard": () => problem(403, "subscription inactive") }) });
    expect(await screen.findByText("subscription inactive")).toBeInTheDocument();
  });

  it("says so when nothing happened recently", async () => {
    renderPage(<DashboardPage />, { api: fakeApi({ "GET /api/v1/dashboard": () => ({ ...DASHBOARD, recent_events: [] }) }) });
    expect(await screen.findByText("No recent events")).toBeInTheDocument();
  });
});
