import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage, type Handler } from "../../test/render";
import { SubscriptionsPage } from "./SubscriptionsPage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

const SUB = {
  tenant_id: "acme",
  tenant_name: "Acme",
  plan_id: "pro",
  plan_name: "Professional",
  status: "grace",
  is_trial: false,
  started_at: "2026-01-01T00:00:00Z",
  ends_at: "2026-02-01T00:00:00Z",
  version: 4,
  limits: { device_limit: 100, device_rate_per_minute: 60, api_rate_per_minute: 600, retention_days: 90 },
  devices: 80,
};
const PLANS = [
  { id: "pro", name: "Professional", device_limit: 100, device_rate_per_minute: 60, retention_days: 90, api_rate_per_minute: 600, grace_days: 14, suspension_days: 30 },
  { id: "enterprise", name: "Enterprise", device_limit: 10000, device_rate_per_minute: 120, retention_days: 365, api_rate_per_minute: 6000, grace_days: 30, suspension_days: 60 },
];

function api(overrides: Record<string, Handler> = {}) {
  return fakeApi({
    "GET /api/v1/plans": () => PLANS,
    "GET /api/v1/operator/subscriptions": () => ({ items: [SUB], next_cursor: null }),
    ...overrides,
  });
}

async function changeToEnterprise() {
  await user.click(await screen.findByRole("button", { name: "Change subscription of Acme" }));
  const dialog = await screen.findByRole("dialog");
  await user.click(within(dialog).getByRole("textbox", { name: "Plan" }));
  await user.click(await screen.findByRole("option", { name: "Enterprise" }));
  await user.click(within(dialog).getByRole("button", { name: "Change subscription" }));
  return dialog;
}

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Subscriptions page", { timeout: 15_000 }, () => {
  it("lists every tenant's plan, status and device usage, and gives a plain operator no change control", async () => {
    renderPage(<SubscriptionsPage />, { role: "operator", api: api() });
    expect(await screen.findByText("80 / 100")).toBeInTheDocument();
    expect(within(screen.getByRole("row", { name: /Acme/ })).getByText("Professional")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Acme devices used" })).toHaveAttribute("aria-valuenow", "80");
    expect(within(screen.getByRole("row", { name: /Acme/ })).getByText("grace")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Change subscription of Acme" })).not.toBeInTheDocument();
  });

  it("changes the plan with If-Match of the version read", async () => {
    let ifMatch: string | null = null;
    const fake = api({
      "PUT /api/v1/operator/tenants/:tenantId/subscription": (request) => {
        ifMatch = request.headers.get("If-Match");
        return { ...SUB, plan_id: "enterprise", plan_name: "Enterprise", version: 5 };
      },
    });
    renderPage(<SubscriptionsPage />, { role: "operator_admin", api: fake });
    await changeToEnterprise();
    await waitFor(() => expect(ifMatch).toBe('"4"'));
    const put = fake.calls.find((c) => c.method === "PUT")!;
    expect(put.path).toBe("/api/v1/operator/tenants/acme/subscription");
    expect(put.body).toEqual({ plan_id: "enterprise" });
  });

  it("says when the subscription changed meanwhile (412)", async () => {
    const fake = api({ "PUT /api/v1/operator/tenants/:tenantId/subscription": () => problem(412, "the subscription changed since you read it (version 5, you sent 4)") });
    renderPage(<SubscriptionsPage />, { role: "operator_admin", api: fake });
    const dialog = await changeToEnterprise();
    expect(await within(dialog).findByText(/Someone changed this subscription/)).toBeInTheDocument();
  });

  it("filters by status", async () => {
    const fake = api();
    renderPage(<SubscriptionsPage />, { role: "operator", api: fake });
    await screen.findByText("80 / 100");
    await user.click(screen.getByRole("textbox", { name: "Status" }));
    await user.click(await screen.findByRole("option", { name: "suspended" }));
    await waitFor(() => expect(fake.calls.at(-1)?.search).toContain("status=suspended"));
  });
});
