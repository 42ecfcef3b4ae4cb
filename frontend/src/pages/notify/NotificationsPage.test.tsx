import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { EMAIL, WEBHOOK, page } from "./fixtures";
import { NotificationsPage } from "./NotificationsPage";
import { fill, requests, user } from "./testUtils";

const channelsApi = (extra = {}) =>
  fakeApi({
    "GET /api/v1/channels": () => page([WEBHOOK, EMAIL]),
    ...extra,
  });

describe("Notifications page, channels", () => {
  it("lists channels and shows the receiver's verdict after Send test", async () => {
    const api = channelsApi({
      "POST /api/v1/channels/:id/test": () => ({ delivery_id: "dl-9", status: "permanent", response_code: 410, latency_ms: 42, error: "HTTP 410 Gone" }),
    });
    renderPage(<NotificationsPage />, { api });
    expect(await screen.findByText("Ops mail")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Send test to Ops webhook" }));
    const result = await screen.findByTestId("test-result");
    expect(result).toHaveTextContent("Test of Ops webhook: permanent");
    expect(result).toHaveTextContent("Response code: 410");
    expect(result).toHaveTextContent("Latency: 42 ms");
    expect(result).toHaveTextContent("HTTP 410 Gone");
    expect(api.calls.some((c) => c.method === "POST" && c.path === "/api/v1/channels/ch-web/test")).toBe(true);
  });

  it("never prefills a secret, keeps it when left blank, and sends If-Match", async () => {
    const api = channelsApi({ "PUT /api/v1/channels/:id": () => ({ ...WEBHOOK, version: 4 }) });
    renderPage(<NotificationsPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Edit Ops webhook" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByLabelText(/^URL/)).toHaveValue("https://hooks.example.com/pulse");
    expect(within(dialog).getByLabelText("Signing secret")).toHaveValue("");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "PUT")).toBeDefined());
    const put = api.calls.find((c) => c.method === "PUT")!;
    expect(put.body).toEqual({ name: "Ops webhook", type: "webhook", enabled: true, config: { url: "https://hooks.example.com/pulse", timeout_s: 10 } });
    const request = requests(api.fetch).find((r) => r.method === "PUT")!;
    expect(request.headers.get("If-Match")).toBe('"3"');
  });

  it("creates an SNMP v3 channel with its USM secrets and puts a refused field's message next to it", async () => {
    const api = channelsApi({
      "POST /api/v1/channels": () => problem(422, "config.host: Value error, 'bad host!' is not a host name or IP address"),
    });
    renderPage(<NotificationsPage />, { api });
    await user.click(await screen.findByRole("button", { name: "New channel" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText(/^Name/), "NMS");
    await user.click(within(dialog).getByRole("textbox", { name: "Type" }));
    await user.click(await screen.findByRole("option", { name: "SNMP trap (v2c / v3)" }));
    await fill(within(dialog).getByLabelText(/Trap receiver host/), "bad host!");
    await fill(within(dialog).getByLabelText(/USM user/), "pulse");
    await fill(within(dialog).getByLabelText(/^Auth key/), "authpass1");
    await fill(within(dialog).getByLabelText(/^Privacy key/), "privpass1");
    await user.click(within(dialog).getByRole("button", { name: "Create channel" }));
    expect(await within(dialog).findByText("'bad host!' is not a host name or IP address")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({
      name: "NMS",
      type: "snmp",
      enabled: true,
      config: { host: "bad host!", port: 162, version: "v3", notification: "trap", timeout_s: 3, user: "pulse", security_level: "authPriv", auth_protocol: "SHA-256", priv_protocol: "AES-128" },
      secrets: { auth_key: "authpass1", priv_key: "privpass1" },
    });
  });

  it("shows the problem when channels cannot be listed", async () => {
    renderPage(<NotificationsPage />, { api: fakeApi({ "GET /api/v1/channels": () => problem(503, "database unavailable") }) });
    expect(await screen.findByText("database unavailable")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });

  it("gives a viewer no write controls", async () => {
    renderPage(<NotificationsPage />, { role: "customer_viewer", api: channelsApi() });
    expect(await screen.findByText("Ops webhook")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New channel" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Send test/ })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Delete Ops webhook")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Rotate secret of Ops webhook")).not.toBeInTheDocument();
  });
});
