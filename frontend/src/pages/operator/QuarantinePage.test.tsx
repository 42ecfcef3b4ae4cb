import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage, type Handler } from "../../test/render";
import { QuarantinePage } from "./QuarantinePage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

const MESSAGE = {
  id: 31,
  received_at: "2026-03-02T09:30:00Z",
  reason: "schema_violation",
  detail: "metrics.temp: not a number",
  tenant_id: "acme",
  device_id: "pump-1",
  topic: "pulse/acme/pump-1/telemetry",
  source: "mqtt",
  payload_size: 2048,
  payload_excerpt: '{"metrics":{"temp":"hot"}',
  excerpt_truncated: true,
};
const REASONS = {
  since: "2026-03-01T10:00:00Z",
  until: "2026-03-02T10:00:00Z",
  total: 12,
  reasons: [
    { reason: "schema_violation", count: 9 },
    { reason: "bad_token", count: 3 },
    { reason: "malformed_json", count: 0 },
  ],
};

function api(overrides: Record<string, Handler> = {}) {
  return fakeApi({
    "GET /api/v1/tenants": () => ({ items: [], next_cursor: null }),
    "GET /api/v1/operator/quarantine/reasons": () => REASONS,
    "GET /api/v1/operator/quarantine": () => ({ items: [MESSAGE], next_cursor: null }),
    ...overrides,
  });
}

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Quarantine page", { timeout: 15_000 }, () => {
  it("counts by reason, filters by a clicked reason and shows a row's payload excerpt", async () => {
    const fake = api();
    renderPage(<QuarantinePage />, { role: "operator", api: fake });
    expect(await screen.findByRole("heading", { name: "Quarantine" })).toBeInTheDocument();
    const chips = await screen.findByRole("group", { name: "Filter by reason" });
    expect(within(chips).getByRole("button", { name: "All reasons · 12" })).toHaveAttribute("aria-pressed", "true");
    await user.click(within(chips).getByRole("button", { name: "bad token · 3" }));
    await waitFor(() => expect(fake.calls.some((c) => c.path === "/api/v1/operator/quarantine" && c.search.includes("reason=bad_token"))).toBe(true));
    expect(within(chips).getByRole("button", { name: "bad token · 3" })).toHaveAttribute("aria-pressed", "true");
    const listCall = fake.calls.find((c) => c.path === "/api/v1/operator/quarantine")!;
    expect(listCall.search).toContain("since=");

    await user.click(await screen.findByRole("button", { name: "Show payload of message 31" }));
    const excerpt = screen.getByLabelText("Payload excerpt of message 31");
    expect(excerpt.tagName).toBe("PRE");
    expect(excerpt).toHaveTextContent('{"metrics":{"temp":"hot"}…');
    expect(screen.getByText("metrics.temp: not a number")).toBeInTheDocument();
    expect(screen.getByText(/excerpt shows the first bytes only/)).toBeInTheDocument();
  });

  it("filters by the typed device id", async () => {
    const fake = api();
    renderPage(<QuarantinePage />, { role: "operator", api: fake });
    await screen.findByText("pulse/acme/pump-1/telemetry");
    await user.type(screen.getByLabelText("Device id"), "pump-9");
    await waitFor(() => expect(fake.calls.at(-1)?.search ?? "").toMatch(/device_id=pump-9/));
  });

  it("shows the empty state and a refusal", async () => {
    renderPage(<QuarantinePage />, { role: "operator", api: api({ "GET /api/v1/operator/quarantine": () => ({ items: [], next_cursor: null }) }) });
    expect(await screen.findByText("No quarantined messages")).toBeInTheDocument();
    renderPage(<QuarantinePage />, { role: "operator", api: api({ "GET /api/v1/operator/quarantine": () => problem(422, "reason: not a quarantine reason") }) });
    expect(await screen.findByText("reason: not a quarantine reason")).toBeInTheDocument();
  });
});
