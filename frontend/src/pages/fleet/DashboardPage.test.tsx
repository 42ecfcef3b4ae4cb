import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { DashboardPage } from "./DashboardPage";
import { page } from "./testData";

const alert = (id: string, severity: string, updated_at: string) => ({ id, severity, state: "open", rule_name: `Rule ${id}`, device_id: "sim-01", updated_at });

describe("Dashboard", () => {
  it("counts devices by status and open alerts by severity, each card linking to the filtered list", async () => {
    const api = fakeApi({
      "GET /api/v1/devices/counts": () => ({ total: 7, by_status: { active: 5, revoked: 2 }, by_site: {} }),
      "GET /api/v1/alerts": () => page([alert("a1", "critical", "2026-01-01T00:00:00Z"), alert("a2", "critical", "2026-01-02T00:00:00Z"), alert("a3", "minor", "2026-01-03T00:00:00Z")]),
    });
    renderPage(<DashboardPage />, { api });
    expect(await screen.findByRole("link", { name: "All devices: 7" })).toHaveAttribute("href", "/fleet");
    expect(screen.getByRole("link", { name: "revoked: 2" })).toHaveAttribute("href", "/fleet?status=revoked");
    expect(await screen.findByRole("link", { name: "critical: 2" })).toHaveAttribute("href", "/alerts?state=open&state=acknowledged&state=snoozed&severity=critical");
    expect(screen.getByRole("link", { name: "All open: 3" })).toBeInTheDocument();
    const rules = screen.getAllByRole("link", { name: /^Rule / }).map((l) => l.textContent);
    expect(rules).toEqual(["Rule a3", "Rule a2", "Rule a1"]);
    expect(new URLSearchParams(api.calls.find((c) => c.path === "/api/v1/alerts")!.search).getAll("state")).toEqual(["open", "acknowledged", "snoozed"]);
  });

  it("shows the API's problem when a read fails", async () => {
    const api = fakeApi({
      "GET /api/v1/devices/counts": () => problem(403, "subscription inactive"),
      "GET /api/v1/alerts": () => page([]),
    });
    renderPage(<DashboardPage />, { api });
    expect(await screen.findByText("subscription inactive")).toBeInTheDocument();
    expect(await screen.findByText("No open alerts")).toBeInTheDocument();
  });
});
