import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage, type Handler } from "../../test/render";
import { DevicePage } from "./DevicePage";
import { SITES, SLOW_MACHINE, makeDevice, page } from "./testData";

const user = userEvent.setup({ delay: null });

const CONNECTIVITY = {
  device_id: "sim-02",
  status: "STALE",
  connected: true,
  evaluated_at: "2026-01-01T00:00:00Z",
  heartbeat_interval_s: 60,
  last_seen_at: "2026-01-01T00:00:00Z",
  since: "2025-12-31T23:00:00Z",
  stale_at: "2026-01-01T00:02:00Z",
  offline_at: "2026-01-01T00:05:00Z",
  last_disconnected_at: null,
  last_disconnect_reason: null,
  session_id: "s-1",
};

function deviceApi(overrides: Record<string, Handler> = {}) {
  return fakeApi({
    "GET /api/v1/devices/:id": () => makeDevice("sim-02", { name: "Boiler 2", tags: { env: "prod" } }),
    "GET /api/v1/devices/:id/connectivity": () => CONNECTIVITY,
    "GET /api/v1/devices/:id/connectivity/history": () =>
      page([{ id: 1, at: "2026-01-01T00:00:00Z", kind: "disconnected", reason: "CONNECTION_LOST", session_id: "s-0", status: null, detail: {} }]),
    "GET /api/v1/sites": () => SITES,
    ...overrides,
  });
}

const render = (api: ReturnType<typeof fakeApi>, role: "customer_admin" | "customer_viewer" = "customer_admin", path = "/devices/sim-02") =>
  renderPage(<DevicePage />, { api, role, path, route: "devices/:deviceId" });

describe("Device page", SLOW_MACHINE, () => {
  it("shows the device, its connectivity now and its connectivity history", async () => {
    render(deviceApi());
    expect(await screen.findByRole("heading", { name: "Boiler 2" })).toBeInTheDocument();
    expect(await screen.findByText("CONNECTION_LOST")).toBeInTheDocument();
    expect(within(await screen.findByTestId("connectivity-status")).getByText("STALE")).toBeInTheDocument();
    expect(screen.getByText("env: prod")).toBeInTheDocument();
    for (const tab of ["Overview", "Telemetry", "Twin", "Commands", "Alerts", "Credentials"]) expect(screen.getByRole("tab", { name: tab })).toBeInTheDocument();
  });

  it("shows the problem when the device does not exist", async () => {
    render(deviceApi({ "GET /api/v1/devices/:id": () => problem(404, "no device 'nope'") }), "customer_admin", "/devices/nope");
    expect(await screen.findByText("no device 'nope'")).toBeInTheDocument();
  });

  it("edits under If-Match, and after a 412 keeps the edits and saves over the new version", async () => {
    let current = makeDevice("sim-02", { name: "Boiler 2", version: 3 });
    const ifMatches: (string | null)[] = [];
    const api = deviceApi({
      "GET /api/v1/devices/:id": () => current,
      "PATCH /api/v1/devices/:id": (request) => {
        ifMatches.push(request.headers.get("If-Match"));
        if (ifMatches.length === 1) {
          current = { ...current, version: 4 };
          return problem(412, "the device changed since you read it (version 4, you sent 3)");
        }
        return (current = { ...current, name: "Boiler two", version: 5 });
      },
    });
    render(api);
    await user.click(await screen.findByRole("button", { name: "Edit device" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByLabelText(/^Name/), { target: { value: "Boiler two" } });
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByText(/went from version 3 to 4/)).toBeInTheDocument();
    expect(within(dialog).getByLabelText(/^Name/)).toHaveValue("Boiler two");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(ifMatches).toEqual(['"3"', '"4"']));
    expect(api.calls.find((c) => c.method === "PATCH")?.body).toMatchObject({ name: "Boiler two", site_id: "plant-1", tags: { env: "prod" }, heartbeat_interval_s: 60 });
    expect(await screen.findByRole("heading", { name: "Boiler two" })).toBeInTheDocument();
  });

  it("puts the API's field error next to the field it names", async () => {
    const api = deviceApi({ "PATCH /api/v1/devices/:id": () => problem(422, "site_id: no such site", [{ field: "site_id", message: "no site 'plant-9'" }]) });
    render(api);
    await user.click(await screen.findByRole("button", { name: "Edit device" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByText("no site 'plant-9'")).toBeInTheDocument();
    expect(within(dialog).getByRole("textbox", { name: "Site" })).toHaveAttribute("aria-invalid", "true");
  });

  it("gives a viewer no write controls on the overview, commands and credentials tabs", async () => {
    const api = deviceApi({ "GET /api/v1/devices/:id/commands": () => page([]) });
    render(api, "customer_viewer");
    expect(await screen.findByRole("heading", { name: "Boiler 2" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit device" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("tab", { name: "Commands" }));
    expect(await screen.findByText("No commands sent yet")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Send command" })).not.toBeInTheDocument();
    await user.click(screen.getByRole("tab", { name: "Credentials" }));
    expect(await screen.findByText("cert-1")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Rotate|Revoke|Issue|activation/ })).not.toBeInTheDocument();
  });
});
