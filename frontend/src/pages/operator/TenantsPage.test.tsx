import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage, type Handler } from "../../test/render";
import { TenantsPage } from "./TenantsPage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

const health = (id: string, name: string, online: number, critical: number, extra: object = {}) => ({
  tenant_id: id,
  name,
  plan_id: "pro",
  subscription_status: "active",
  subscription_ends_at: "2026-12-31T00:00:00Z",
  devices: 100,
  online,
  open_alerts: { total: critical, critical, major: 0, minor: 0, warning: 0, info: 0 },
  ingest_per_minute_5m: 600,
  ingest_per_minute_60m: 620,
  quarantined_24h: 0,
  ...extra,
});
const ROWS = [health("acme", "Acme", 50, 0), health("globex", "Globex", 99, 3, { quarantined_24h: 250, ingest_per_minute_5m: 100 })];
const PLANS = [{ id: "trial", name: "Trial", device_limit: 10, device_rate_per_minute: 10, retention_days: 7, api_rate_per_minute: 60, grace_days: 0, suspension_days: 0 }];

function api(overrides: Record<string, Handler> = {}) {
  return fakeApi({
    "GET /api/v1/operator/tenants/health": () => ({ items: ROWS, next_cursor: null }),
    "GET /api/v1/plans": () => PLANS,
    ...overrides,
  });
}

const tenantNames = () => screen.getAllByRole("row").slice(1).map((r) => within(r).getAllByRole("cell")[0].textContent);

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Tenants page", { timeout: 15_000 }, () => {
  it("shows the health matrix with threshold colours and sorts by a column", async () => {
    renderPage(<TenantsPage />, { role: "operator", api: api() });
    expect(await screen.findByRole("table", { name: "Tenant health matrix" })).toBeInTheDocument();
    expect(screen.getByLabelText("Acme online")).toHaveAttribute("data-level", "bad");
    expect(screen.getByLabelText("Acme online")).toHaveTextContent("50%");
    expect(screen.getByLabelText("Globex online")).toHaveAttribute("data-level", "ok");
    expect(screen.getByLabelText("Globex critical alerts")).toHaveAttribute("data-level", "bad");
    expect(screen.getByLabelText("Globex quarantined")).toHaveAttribute("data-level", "bad");
    expect(screen.getByLabelText("Globex ingest")).toHaveAttribute("data-level", "warn"); // 100/min now against 620/min over the hour
    expect(tenantNames()).toEqual(["Globexglobex", "Acmeacme"]); // most critical alerts first
    await user.click(screen.getByRole("button", { name: "Sort by Online %" }));
    expect(tenantNames()).toEqual(["Globexglobex", "Acmeacme"]);
    await user.click(screen.getByRole("button", { name: "Sort by Online %" }));
    expect(tenantNames()).toEqual(["Acmeacme", "Globexglobex"]);
  });

  it("gives an operator who is not an administrator no create or edit controls", async () => {
    renderPage(<TenantsPage />, { role: "operator", api: api() });
    await screen.findByRole("table", { name: "Tenant health matrix" });
    expect(screen.queryByRole("button", { name: "New tenant" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit Acme" })).not.toBeInTheDocument();
  });

  it("creates a tenant and shows the API's field error next to the field", async () => {
    const fake = api({ "POST /api/v1/tenants": () => problem(409, "tenant 'acme' exists", [{ field: "id", message: "tenant 'acme' exists" }]) });
    renderPage(<TenantsPage />, { role: "operator_admin", api: fake });
    await user.click(await screen.findByRole("button", { name: "New tenant" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText(/Tenant id/), "acme");
    await user.type(within(dialog).getByLabelText(/^Name/), "A2{Enter}");
    expect(await within(dialog).findByText("tenant 'acme' exists")).toBeInTheDocument();
    expect(fake.calls.find((c) => c.method === "POST")?.body).toEqual({ id: "acme", name: "A2", plan_id: "trial", trial_days: 30 });
  });

  it("renames a tenant as that tenant (X-Pulse-Tenant)", async () => {
    let header: string | null = null;
    const fake = api({
      "PATCH /api/v1/tenant": (request) => {
        header = request.headers.get("X-Pulse-Tenant");
        return { id: "acme", name: "Acme Corp", status: "active", device_limit: 100, device_rate_per_minute: 60, api_rate_per_minute: 600, retention_days: 90, created_at: "2026-01-01T00:00:00Z" };
      },
    });
    renderPage(<TenantsPage />, { role: "operator_admin", api: fake });
    await user.click(await screen.findByRole("button", { name: "Edit Acme" }));
    const dialog = await screen.findByRole("dialog");
    const name = within(dialog).getByLabelText(/^Name/);
    await user.clear(name);
    await user.type(name, "AC");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(header).toBe("acme"));
    expect(fake.calls.find((c) => c.method === "PATCH")?.body).toEqual({ name: "AC" });
  });
});
