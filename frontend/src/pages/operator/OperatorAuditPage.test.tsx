import { configure, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { OperatorAuditPage } from "./OperatorAuditPage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

const ACCESS = { id: 9, tenant_id: "acme", at: "2026-03-01T10:00:00Z", operator: "ops@example.com", role: "operator_admin", method: "PUT", path: "/api/v1/subscription", ip: "10.0.0.1", user_agent: "Mozilla/5.0", request_id: "req-9" };
const TENANTS = { items: [{ id: "acme", name: "Acme", status: "active", device_limit: 10, device_rate_per_minute: 60, api_rate_per_minute: 600, retention_days: 30, created_at: "2026-01-01T00:00:00Z" }], next_cursor: null };

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Operator audit page", { timeout: 15_000 }, () => {
  it("lists operator access and filters by tenant and operator", async () => {
    const api = fakeApi({
      "GET /api/v1/tenants": () => TENANTS,
      "GET /api/v1/operator-audit": () => ({ items: [ACCESS], next_cursor: null }),
    });
    renderPage(<OperatorAuditPage />, { role: "operator", api });
    expect(await screen.findByText("/api/v1/subscription")).toBeInTheDocument();
    expect(screen.getByText("ops@example.com")).toBeInTheDocument();
    await user.click(screen.getByRole("textbox", { name: "Tenant" }));
    await user.click(await screen.findByRole("option", { name: "Acme (acme)" }));
    await waitFor(() => expect(api.calls.at(-1)?.search).toContain("tenant_id=acme"));
    await user.type(screen.getByLabelText("Operator"), "op{Enter}");
    await waitFor(() => expect(api.calls.at(-1)?.search).toContain("operator=op"));
    expect(api.calls.at(-1)?.search).toContain("tenant_id=acme");
  });

  it("shows the empty state and a refusal", async () => {
    renderPage(<OperatorAuditPage />, { role: "operator", api: fakeApi({ "GET /api/v1/tenants": () => TENANTS, "GET /api/v1/operator-audit": () => ({ items: [], next_cursor: null }) }) });
    expect(await screen.findByText("No operator access recorded")).toBeInTheDocument();
    renderPage(<OperatorAuditPage />, { role: "operator", api: fakeApi({ "GET /api/v1/tenants": () => TENANTS, "GET /api/v1/operator-audit": () => problem(403, "operators only") }) });
    expect(await screen.findByText("operators only")).toBeInTheDocument();
  });
});
