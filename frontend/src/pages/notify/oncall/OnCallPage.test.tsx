import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../../test/render";
import { SCHEDULE, USERS, page, segment } from "../fixtures";
import { fill, user } from "../testUtils";
import { OnCallPage } from "./OnCallPage";

const NIGHT = { ...SCHEDULE, id: "sch-2", name: "Night", layers: [] };

const listApi = (extra = {}) =>
  fakeApi({
    "GET /api/v1/oncall/schedules": () => page([SCHEDULE, NIGHT]),
    "GET /api/v1/oncall/schedules/:id/now": (_r: Request, { id }: Record<string, string>) =>
      id === "sch-1"
        ? { schedule_id: id, at: "2026-03-02T15:00:00Z", username: "u-alice", segment: segment("u-alice", "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z") }
        : { schedule_id: id, at: "2026-03-02T15:00:00Z", username: null, segment: segment(null, "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z") },
    "GET /api/v1/users": () => page(USERS),
    ...extra,
  });

describe("On-call page", () => {
  it("lists schedules with who is on call now, linking to each schedule", async () => {
    renderPage(<OnCallPage />, { api: listApi() });
    expect(await screen.findByRole("link", { name: "Primary" })).toHaveAttribute("href", "/oncall/sch-1");
    await waitFor(() => expect(screen.getByTestId("on-call-sch-1")).toHaveTextContent("alice@example.com"));
    expect(screen.getByText("until Mon 09:00")).toBeInTheDocument();
    expect(await screen.findByText("nobody on call")).toBeInTheDocument();
  });

  it("creates a schedule with an ordered rotation and shows a layer's field error next to it", async () => {
    const api = listApi({
      "POST /api/v1/oncall/schedules": () =>
        problem(422, "layers.0.rotation.handoff_time: Value error, whole minutes of local time without an offset, e.g. 09:00", [
          { field: "layers.0.rotation.handoff_time", message: "Value error, whole minutes of local time without an offset, e.g. 09:00" },
        ]),
    });
    renderPage(<OnCallPage />, { api });
    await user.click(await screen.findByRole("button", { name: "New schedule" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText(/^Name/), "Support");
    await fill(within(dialog).getByRole("textbox", { name: "Time zone" }), "Europe/Berlin");
    for (const email of ["bob@example.com", "alice@example.com"]) {
      await user.click(within(dialog).getByRole("textbox", { name: "User to add to layer 1" }));
      await user.click(await screen.findByRole("option", { name: email }));
      await user.click(within(dialog).getByRole("button", { name: "Add to rotation" }));
    }
    await user.click(within(dialog).getByRole("button", { name: "Move alice@example.com up in layer 1" }));
    await user.click(within(dialog).getByRole("button", { name: "Create schedule" }));
    expect(await within(dialog).findByText("whole minutes of local time without an offset, e.g. 09:00")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "POST")?.body).toMatchObject({
      name: "Support",
      timezone: "Europe/Berlin",
      layers: [{ name: "Primary", priority: 0, rotation: { kind: "weekly", handoff_time: "09:00", length_days: null, users: ["u-alice", "u-bob"] }, restrictions: [] }],
    });
  });

  it("gives a viewer no way to create a schedule", async () => {
    renderPage(<OnCallPage />, { role: "customer_viewer", api: listApi() });
    expect(await screen.findByRole("link", { name: "Night" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New schedule" })).not.toBeInTheDocument();
  });
});
