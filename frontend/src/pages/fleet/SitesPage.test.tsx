import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { SitesPage } from "./SitesPage";
import { SLOW_MACHINE } from "./testData";

const SITE = { id: "plant-1", name: "Plant 1", address: "Main St 1", timezone: "Europe/Berlin", lat: null, lng: null, version: 1, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };

describe("Sites page", SLOW_MACHINE, () => {
  it("lists sites and shows the empty state when there are none", async () => {
    renderPage(<SitesPage />, { api: fakeApi({ "GET /api/v1/sites": () => ({ items: [SITE], next_cursor: null }) }) });
    expect(await screen.findByText("Plant 1")).toBeInTheDocument();
    renderPage(<SitesPage />, { api: fakeApi({ "GET /api/v1/sites": () => ({ items: [], next_cursor: null }) }) });
    expect(await screen.findByText("No sites yet")).toBeInTheDocument();
  });

  it("shows the API's field error next to the field", async () => {
    const api = fakeApi({
      "GET /api/v1/sites": () => ({ items: [], next_cursor: null }),
      "POST /api/v1/sites": () => problem(422, "timezone: unknown time zone", [{ field: "timezone", message: "unknown time zone 'Mars/Base'" }]),
    });
    renderPage(<SitesPage />, { api });
    await userEvent.click(await screen.findByRole("button", { name: "New site" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/Site id/), "s-1");
    await userEvent.type(within(dialog).getByLabelText(/^Name/), "North");
    const tz = within(dialog).getByLabelText(/Time zone/);
    await userEvent.clear(tz);
    await userEvent.type(tz, "Mars/Base");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create site" }));
    expect(await within(dialog).findByText("unknown time zone 'Mars/Base'")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "POST")?.body).toMatchObject({ id: "s-1", name: "North", timezone: "Mars/Base" });
  });

  it("saves an edit under If-Match with the version it read", async () => {
    const ifMatches: (string | null)[] = [];
    const api = fakeApi({
      "GET /api/v1/sites": () => ({ items: [SITE], next_cursor: null }),
      "PATCH /api/v1/sites/:id": (request) => (ifMatches.push(request.headers.get("If-Match")), { ...SITE, name: "Plant One", version: 2 }),
    });
    renderPage(<SitesPage />, { api });
    await userEvent.click(await screen.findByLabelText("Edit Plant 1"));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(ifMatches).toEqual(['"1"']));
  });

  it("gives a viewer no write controls", async () => {
    renderPage(<SitesPage />, { role: "customer_viewer", api: fakeApi({ "GET /api/v1/sites": () => ({ items: [SITE], next_cursor: null }) }) });
    expect(await screen.findByText("Plant 1")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole("button", { name: "New site" })).not.toBeInTheDocument());
    expect(screen.queryByLabelText("Delete Plant 1")).not.toBeInTheDocument();
  });
});
