import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { DeviceAlerts } from "./device/DeviceAlerts";
import { DeviceCommands } from "./device/DeviceCommands";
import { DeviceCredentials } from "./device/DeviceCredentials";
import { DeviceTelemetry } from "./device/DeviceTelemetry";
import { CREDENTIALS, SLOW_MACHINE, makeDevice, page } from "./testData";

// ECharts cannot draw in jsdom: show the option each chart was given instead.
vi.mock("echarts-for-react", () => ({
  default: ({ option }: { option: unknown }) => <pre data-testid="echarts-option">{JSON.stringify(option)}</pre>,
}));

const user = userEvent.setup({ delay: null });

const command = (id: string, status: string, extra: object = {}) => ({
  id,
  device_id: "sim-02",
  name: "reboot",
  params: {},
  status,
  created_at: "2026-01-01T00:00:00Z",
  created_by: "admin@example.com",
  expires_at: "2026-01-01T00:05:00Z",
  sent_at: null,
  acked_at: null,
  finished_at: null,
  result: null,
  error: null,
  ...extra,
});

describe("Device tabs", SLOW_MACHINE, () => {
  beforeEach(() => {
    URL.createObjectURL = vi.fn(() => "blob:test");
    URL.revokeObjectURL = vi.fn();
  });

  it("Telemetry: latest values, then the chart from buckets or raw points as chosen", async () => {
    const api = fakeApi({
      "GET /api/v1/telemetry/latest": () => [{ device_id: "sim-02", last_msg_ts: "2026-01-01T00:00:00Z", last_seen_at: null, metrics: { temp_c: 21.5, door_open: false } }],
      "GET /api/v1/devices/:id/telemetry/buckets": () => ({
        bucket: "1m",
        source: "raw",
        stats: [{ metric: "temp_c", bucket: "2026-01-01T00:00:00Z", avg: 0, min: 0, max: 0, count: 1, last: 0, last_ts: "2026-01-01T00:00:10Z" }],
      }),
      "GET /api/v1/devices/:id/telemetry": () => page([{ device_id: "sim-02", metric: "temp_c", ts: "2026-01-01T00:00:10Z", value: 1 }], "more"),
    });
    renderPage(<DeviceTelemetry deviceId="sim-02" />, { api });
    expect(await screen.findByText("21.5")).toBeInTheDocument();
    const option = JSON.parse((await screen.findByTestId("echarts-option")).textContent!);
    expect(option.series.map((s: { name: string }) => s.name)).toEqual(["temp_c avg", "temp_c min", "temp_c max"]);
    const buckets = new URLSearchParams(api.calls.find((c) => c.path.endsWith("/buckets"))!.search);
    expect(buckets.get("bucket")).toBe("1m");
    expect(buckets.getAll("metric")).toEqual(["temp_c"]);
    expect(Date.parse(buckets.get("end")!) - Date.parse(buckets.get("start")!)).toBe(3_600_000);

    await user.click(screen.getByText("raw"));
    expect(await screen.findByText(/Showing the first 5,000 points/)).toBeInTheDocument();
    expect(api.calls.some((c) => c.path === "/api/v1/devices/sim-02/telemetry" && new URLSearchParams(c.search).get("limit") === "5000")).toBe(true);
  });

  it("Commands: sends one, shows status badges, and cancels a pending one after confirming", async () => {
    let items = [command("c-1", "queued"), command("c-2", "succeeded", { result: { uptime: 5 } })];
    const api = fakeApi({
      "GET /api/v1/devices/:id/commands": () => page(items),
      "POST /api/v1/devices/:id/commands": () => new Response(JSON.stringify(command("c-3", "queued", { name: "blink" })), { status: 201, headers: { "Content-Type": "application/json" } }),
      "POST /api/v1/commands/:id/cancel": () => (items = [command("c-1", "cancelled"), items[1]])[0],
    });
    renderPage(<DeviceCommands deviceId="sim-02" />, { api });
    expect(await screen.findByText("succeeded")).toBeInTheDocument();
    expect(screen.getByText('{"uptime":5}')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText(/Command name/), { target: { value: "blink" } });
    fireEvent.change(screen.getByLabelText("Parameters (JSON)"), { target: { value: '{"times": 3}' } });
    await user.click(screen.getByRole("button", { name: "Send command" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({ name: "blink", params: { times: 3 }, ttl_s: 300 }));

    expect(screen.queryByRole("button", { name: /Cancel command reboot \(c-2\)/ })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Cancel command reboot (c-1)" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Cancel command" }));
    expect(await screen.findByText("cancelled")).toBeInTheDocument();
    expect(api.calls.some((c) => c.method === "POST" && c.path === "/api/v1/commands/c-1/cancel")).toBe(true);
  });

  it("Commands: a field error from the API lands next to its field", async () => {
    const api = fakeApi({
      "GET /api/v1/devices/:id/commands": () => page([]),
      "POST /api/v1/devices/:id/commands": () => problem(422, "ttl_s: too long", [{ field: "ttl_s", message: "Input should be less than or equal to 604800" }]),
    });
    renderPage(<DeviceCommands deviceId="sim-02" />, { api });
    fireEvent.change(await screen.findByLabelText(/Command name/), { target: { value: "blink" } });
    await user.click(screen.getByRole("button", { name: "Send command" }));
    expect(await screen.findByText("Input should be less than or equal to 604800")).toBeInTheDocument();
    expect(screen.getByLabelText(/Expires after/)).toHaveAttribute("aria-invalid", "true");
  });

  it("Alerts: this device's alerts, each linking to its alert page", async () => {
    const alert = { id: "al-1", rule_name: "Too hot", severity: "critical", state: "open", opened_at: "2026-01-01T00:00:00Z", last_value: 99.5, count: 2 };
    const api = fakeApi({ "GET /api/v1/alerts": () => page([alert]) });
    renderPage(<DeviceAlerts deviceId="sim-02" />, { api });
    expect(await screen.findByRole("link", { name: "Too hot" })).toHaveAttribute("href", "/alerts/al-1");
    expect(new URLSearchParams(api.calls[0].search).get("device_id")).toBe("sim-02");
  });

  it("Credentials: rotating shows the new bundle once; revoking asks first", async () => {
    const api = fakeApi({
      "POST /api/v1/devices/:id/rotate": () => CREDENTIALS,
      "POST /api/v1/devices/:id/revoke": () => makeDevice("sim-02", { status: "revoked" }),
    });
    renderPage(<DeviceCredentials device={makeDevice("sim-02")} />, { api });
    await user.click(screen.getByRole("button", { name: "Rotate certificate" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Rotate" }));
    expect(await screen.findByRole("button", { name: "Download private key" })).toBeInTheDocument();
    expect(screen.getByText("iot.example.test")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Done" }));

    await user.click(screen.getByRole("button", { name: "Revoke device" }));
    const confirm = await screen.findByRole("dialog", { name: "Revoke sim-02?" });
    expect(api.calls.some((c) => c.path.endsWith("/revoke"))).toBe(false);
    await user.click(within(confirm).getByRole("button", { name: "Revoke" }));
    await waitFor(() => expect(api.calls.some((c) => c.method === "POST" && c.path === "/api/v1/devices/sim-02/revoke")).toBe(true));
  });
});
