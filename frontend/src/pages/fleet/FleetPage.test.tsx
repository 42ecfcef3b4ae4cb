import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { FleetPage } from "./FleetPage";
import { SLOW_MACHINE, fleetReads, makeDevice, page } from "./testData";

const user = userEvent.setup({ delay: null });

function Location() {
  const location = useLocation();
  return <output data-testid="location">{location.search}</output>;
}

const devicesCalls = (api: ReturnType<typeof fakeApi>) => api.calls.filter((c) => c.method === "GET" && c.path === "/api/v1/devices");

describe("Fleet page", SLOW_MACHINE, () => {
  it("lists devices with status, last seen and a link to each device, and counts by status", async () => {
    const api = fakeApi(
      fleetReads({
        "GET /api/v1/devices": () => page([makeDevice("sim-01"), makeDevice("pump-2", { name: "Pump 2", status: "revoked", last_seen_at: null })], "c2"),
      }),
    );
    renderPage(<FleetPage />, { api, path: "/fleet" });
    // Text queries rather than role queries: computing roles over this large page is slow in jsdom.
    expect((await screen.findByText("sim-01")).closest("a")).toHaveAttribute("href", "/devices/sim-01");
    expect(screen.getByText("Pump 2").closest("a")).toHaveAttribute("href", "/devices/pump-2");
    expect(screen.getByText("never")).toBeInTheDocument();
    expect(screen.getAllByText("revoked").length).toBeGreaterThan(0);
    expect(await screen.findByLabelText(/^active: 2 devices/)).toBeInTheDocument();
    expect(screen.getByText("Next").closest("button")).toBeEnabled();
  });

  it("reads the filters from the URL, sends them to the API and debounces the search into the URL", async () => {
    const api = fakeApi(fleetReads({ "GET /api/v1/devices": () => page([makeDevice("sim-01")]) }));
    renderPage(
      <>
        <FleetPage />
        <Location />
      </>,
      { api, path: "/fleet?status=revoked&tag=env:prod&sort=last_seen_at&order=desc" },
    );
    await screen.findByText("sim-01");
    const first = new URLSearchParams(devicesCalls(api)[0].search);
    expect(first.getAll("status")).toEqual(["revoked"]);
    expect(first.getAll("tag")).toEqual(["env:prod"]);
    expect(first.get("sort")).toBe("last_seen_at");
    expect(first.get("order")).toBe("desc");

    await user.type(screen.getByLabelText("Search devices"), "sim");
    await waitFor(() => expect(new URLSearchParams(screen.getByTestId("location").textContent ?? "").get("q")).toBe("sim"));
    await waitFor(() => expect(devicesCalls(api).some((c) => new URLSearchParams(c.search).get("q") === "sim")).toBe(true));
    // One search after typing stopped, not one per key.
    expect(devicesCalls(api).filter((c) => new URLSearchParams(c.search).has("q")).map((c) => new URLSearchParams(c.search).get("q"))).not.toContain("s");
    expect(new URLSearchParams(screen.getByTestId("location").textContent ?? "").getAll("status")).toEqual(["revoked"]);
  });

  it("toggles a status filter from the counts and shows the filtered empty state", async () => {
    const api = fakeApi(fleetReads({ "GET /api/v1/devices": (req) => page(new URL(req.url).searchParams.has("status") ? [] : [makeDevice("sim-01")]) }));
    renderPage(
      <>
        <FleetPage />
        <Location />
      </>,
      { api, path: "/fleet" },
    );
    await user.click(await screen.findByLabelText(/^decommissioned: 0 devices/));
    expect(await screen.findByText("No devices match")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("?status=decommissioned");
  });

  it("shows the API's problem when the list fails, and the empty state when there are no devices", async () => {
    renderPage(<FleetPage />, { api: fakeApi(fleetReads({ "GET /api/v1/devices": () => problem(400, "cursor: malformed") })), path: "/fleet" });
    expect(await screen.findByText("cursor: malformed")).toBeInTheDocument();
    renderPage(<FleetPage />, { api: fakeApi(fleetReads({ "GET /api/v1/devices": () => page([]) })), path: "/fleet" });
    expect(await screen.findByText("No devices yet")).toBeInTheDocument();
  });

  it("selects rows, a whole page at once, and opens Tag selected for them", async () => {
    const api = fakeApi(fleetReads({ "GET /api/v1/devices": () => page([makeDevice("sim-01"), makeDevice("sim-02"), makeDevice("sim-03")]) }));
    renderPage(<FleetPage />, { api, path: "/fleet" });
    await user.click(await screen.findByLabelText("Select page"));
    await user.click(screen.getByLabelText("Select sim-02"));
    expect(screen.getByText("2 selected")).toBeInTheDocument();
    expect(screen.getByLabelText("Select page")).toHaveAttribute("data-indeterminate", "true");
    await user.click(screen.getByText("Tag selected"));
    expect(await screen.findByText("Tag 2 selected devices")).toBeInTheDocument();
  });

  it("gives a viewer no write controls", async () => {
    const api = fakeApi(fleetReads({ "GET /api/v1/devices": () => page([makeDevice("sim-01")]) }));
    renderPage(<FleetPage />, { role: "customer_viewer", api, path: "/fleet" });
    expect((await screen.findByText("sim-01")).closest("a")).toHaveAttribute("href", "/devices/sim-01");
    for (const control of ["Register device", "Import CSV", "Tag selected", "Clear selection"]) expect(screen.queryByText(control)).not.toBeInTheDocument();
    expect(document.querySelector('input[type="checkbox"]')).toBeNull();
  });
});
