import { configure, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { DeviceSearchPage } from "./DeviceSearchPage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

const DEVICE = { tenant_id: "acme", id: "pump-1", name: "Pump 1", status: "active", model: "P-100", site_id: "plant-1", firmware_version: "1.2.3", tags: { line: "a" }, last_seen_at: "2026-03-02T09:59:00Z", connectivity: "online" };

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Device search page", { timeout: 15_000 }, () => {
  it("searches across tenants and pages with the cursor", async () => {
    const fake = fakeApi({
      "GET /api/v1/tenants": () => ({ items: [], next_cursor: null }),
      "GET /api/v1/operator/devices": (request) =>
        new URL(request.url).searchParams.get("cursor") === "n2"
          ? { items: [{ ...DEVICE, tenant_id: "globex", id: "fan-7", name: "Fan 7" }], next_cursor: null }
          : { items: [DEVICE], next_cursor: "n2" },
    });
    renderPage(<DeviceSearchPage />, { role: "operator", api: fake });
    expect(await screen.findByText("Pump 1")).toBeInTheDocument();
    expect(screen.getByText("line:a")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Search devices"), "pu");
    await waitFor(() => expect(fake.calls.at(-1)?.search).toContain("q=pu"));
    await user.click(await screen.findByRole("button", { name: "Next" }));
    expect(await screen.findByText("Fan 7")).toBeInTheDocument();
    expect(fake.calls.at(-1)?.search).toContain("cursor=n2");
    expect(fake.calls.at(-1)?.search).toContain("q=pu");
  });

  it("shows the empty state and a refusal", async () => {
    renderPage(<DeviceSearchPage />, { role: "operator", api: fakeApi({ "GET /api/v1/tenants": () => ({ items: [], next_cursor: null }), "GET /api/v1/operator/devices": () => ({ items: [], next_cursor: null }) }) });
    expect(await screen.findByText("No devices found")).toBeInTheDocument();
    renderPage(<DeviceSearchPage />, { role: "operator", api: fakeApi({ "GET /api/v1/tenants": () => ({ items: [], next_cursor: null }), "GET /api/v1/operator/devices": () => problem(404, "no tenant 'nope'") }) });
    expect(await screen.findByText("no tenant 'nope'")).toBeInTheDocument();
  });
});
