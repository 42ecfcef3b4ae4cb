import { configure, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { SubscriptionPage, usageColor } from "./SubscriptionPage";

const SUB = { tenant_id: "demo", plan_id: "pro", status: "grace", is_trial: false, started_at: "2026-01-01T00:00:00Z", ends_at: "2026-02-01T00:00:00Z", version: 3 };
const TENANT = { id: "demo", name: "Demo GmbH", status: "grace", device_limit: 100, device_rate_per_minute: 60, api_rate_per_minute: 600, retention_days: 90, created_at: "2026-01-01T00:00:00Z" };
const PLANS = [
  { id: "trial", name: "Trial", device_limit: 10, device_rate_per_minute: 10, retention_days: 7, api_rate_per_minute: 60, grace_days: 0, suspension_days: 0 },
  { id: "pro", name: "Professional", device_limit: 100, device_rate_per_minute: 60, retention_days: 90, api_rate_per_minute: 600, grace_days: 14, suspension_days: 30 },
];
const EVENT = { id: 5, at: "2026-02-01T00:00:00Z", actor: "system", action: "status_changed", from_status: "active", to_status: "grace", plan_id: "pro", ends_at: "2026-02-01T00:00:00Z", detail: "paid period ended" };

function routes(overrides: Record<string, () => unknown> = {}) {
  return fakeApi({
    "GET /api/v1/subscription": () => SUB,
    "GET /api/v1/tenant": () => TENANT,
    "GET /api/v1/plans": () => PLANS,
    "GET /api/v1/devices/counts": () => ({ total: 92, by_status: { active: 90, revoked: 2 }, by_site: {} }),
    "GET /api/v1/subscription/events": () => ({ items: [EVENT], next_cursor: null }),
    ...overrides,
  });
}

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Subscription page", { timeout: 15_000 }, () => {
  it("shows plan, status, device usage against the limit and the history", async () => {
    const api = routes();
    renderPage(<SubscriptionPage />, { role: "customer_viewer", api });
    expect(await screen.findByRole("heading", { name: "Professional" })).toBeInTheDocument();
    expect(screen.getByText(/devices still send data during the grace days/)).toBeInTheDocument();
    expect(screen.getByText(/14 grace days, then 30 days suspended/)).toBeInTheDocument();
    const bar = await screen.findByRole("progressbar", { name: "Devices usage" });
    expect(bar).toHaveAttribute("aria-valuenow", "92");
    expect(screen.getByText("92 of 100 (92%)")).toBeInTheDocument();
    expect(screen.getByText("600 req/min")).toBeInTheDocument();
    expect(await screen.findByText("paid period ended")).toBeInTheDocument();
    const counts = api.calls.find((c) => c.path === "/api/v1/devices/counts");
    expect(counts?.search).toBe("?status=active&status=revoked");
    const current = screen.getByText("current").closest("tr")!;
    expect(within(current).getByText(/Professional/)).toBeInTheDocument();
  });

  it("offers no plan change to a customer (only operator administrators may PUT /subscription)", async () => {
    const api = routes();
    renderPage(<SubscriptionPage />, { role: "customer_admin", api });
    await screen.findByRole("heading", { name: "Professional" });
    expect(screen.queryByRole("button", { name: /change plan/i })).not.toBeInTheDocument();
    expect(api.calls.some((c) => c.method !== "GET")).toBe(false);
  });

  it("shows the problem when the subscription cannot be read", async () => {
    renderPage(<SubscriptionPage />, { api: routes({ "GET /api/v1/subscription": () => problem(404, "no subscription for tenant demo") }) });
    expect(await screen.findByText("no subscription for tenant demo")).toBeInTheDocument();
  });

  it("warns as the limit comes near", () => {
    expect(usageColor(50)).toBe("blue");
    expect(usageColor(80)).toBe("yellow");
    expect(usageColor(95)).toBe("red");
  });
});
