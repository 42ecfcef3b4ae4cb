import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../../test/render";
import { WEBHOOK, page, route } from "../fixtures";
import { NotificationsPage } from "../NotificationsPage";
import { fill, requests, user } from "../testUtils";

const ROUTES = [route("r-2", "Critical to pager", 1, { continue: true }), route("r-1", "Everything to ops", 0), route("r-3", "Night shift", 2)];

const routesApi = (extra = {}) =>
  fakeApi({
    "GET /api/v1/notification-routes": () => page(ROUTES),
    "GET /api/v1/channels": () => page([WEBHOOK]),
    "GET /api/v1/escalation-policies": () => page([]),
    "GET /api/v1/sites": () => page([]),
    "GET /api/v1/rules": () => page([]),
    ...extra,
  });

describe("Notifications page, routes", () => {
  it("shows routes in evaluation order with matchers and channel names", async () => {
    renderPage(<NotificationsPage />, { api: routesApi(), path: "/?tab=routes" });
    await screen.findByText("Everything to ops");
    const rows = screen.getAllByTestId("route-row");
    expect(rows.map((r) => within(r).getByText(/Everything|Critical|Night/).textContent)).toEqual(["Everything to ops", "Critical to pager", "Night shift"]);
    expect(within(rows[0]).getByText("severity ≥ major")).toBeInTheDocument();
    expect(within(rows[0]).getByText("Ops webhook")).toBeInTheDocument();
    expect(within(rows[1]).getByText("continue")).toBeInTheDocument();
  });

  it("moves a route down by sending every id in the new order", async () => {
    const api = routesApi({
      "POST /api/v1/notification-routes:reorder": async (request: Request) => {
        const { route_ids } = (await request.json()) as { route_ids: string[] };
        return route_ids.map((id, position) => ({ ...ROUTES.find((r) => r.id === id)!, position }));
      },
    });
    renderPage(<NotificationsPage />, { api, path: "/?tab=routes" });
    const down = await screen.findByRole("button", { name: "Move Everything to ops down" });
    expect(screen.getByRole("button", { name: "Move Everything to ops up" })).toBeDisabled();
    await user.click(down);
    await waitFor(() => expect(api.calls.find((c) => c.path.endsWith(":reorder"))?.body).toEqual({ route_ids: ["r-2", "r-1", "r-3"] }));
    await waitFor(() => expect(within(screen.getAllByTestId("route-row")[0]).getByText("Critical to pager")).toBeInTheDocument());
  });

  it("creates a route with throttle and puts the API's field error next to the field", async () => {
    const api = routesApi({
      "POST /api/v1/notification-routes": () => problem(400, "channel_ids: no channel 'ch-web'", [{ field: "channel_ids", message: "no channel 'ch-web'" }]),
    });
    renderPage(<NotificationsPage />, { api, path: "/?tab=routes" });
    await user.click(await screen.findByRole("button", { name: "New route" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText(/^Name/), "Burst guard");
    await user.click(within(dialog).getByLabelText("Continue: also try the routes after this one"));
    await user.click(within(dialog).getByLabelText("Throttle"));
    await fill(within(dialog).getByLabelText("Per window (s)"), "7200");
    await user.click(within(dialog).getByRole("button", { name: "Create route" }));
    // No channel and no policy: refused before sending.
    expect(await within(dialog).findByText("pick channels, an escalation policy, or both")).toBeInTheDocument();
    expect(api.calls.some((c) => c.method === "POST")).toBe(false);
    await user.click(within(dialog).getByRole("textbox", { name: "Channels" }));
    await user.click(await screen.findByRole("option", { name: "Ops webhook (webhook)" }));
    await user.click(within(dialog).getByRole("button", { name: "Create route" }));
    expect(await within(dialog).findByText("no channel 'ch-web'")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "POST")?.body).toMatchObject({
      name: "Burst guard",
      continue: true,
      channel_ids: ["ch-web"],
      escalation_policy_id: null,
      throttle: { limit: 10, window_s: 7200 },
    });
  });

  it("deletes a route after confirmation, sending its If-Match", async () => {
    const api = routesApi({ "DELETE /api/v1/notification-routes/:id": () => new Response(null, { status: 204 }) });
    renderPage(<NotificationsPage />, { api, path: "/?tab=routes" });
    await user.click(await screen.findByRole("button", { name: "Delete Night shift" }));
    await user.click(await screen.findByRole("button", { name: "Delete" }));
    await waitFor(() => expect(requests(api.fetch).find((r) => r.method === "DELETE")?.headers.get("If-Match")).toBe('"1"'));
  });

  it("gives a viewer neither reorder nor edit controls", async () => {
    renderPage(<NotificationsPage />, { role: "customer_viewer", api: routesApi(), path: "/?tab=routes" });
    expect(await screen.findByText("Night shift")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New route" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Move .* (up|down)/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Edit|Delete/ })).not.toBeInTheDocument();
  });
});
