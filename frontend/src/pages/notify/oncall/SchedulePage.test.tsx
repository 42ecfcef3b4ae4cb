import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, renderPage } from "../../../test/render";
import { SCHEDULE, USERS, page, segment } from "../fixtures";
import { fill, user } from "../testUtils";
import { SchedulePage } from "./SchedulePage";

const SWAP = {
  id: "sw-1",
  schedule_id: "sch-1",
  from_user: "u-alice",
  to_user: "user-1",
  requested_by: "u-alice",
  starts_at: "2026-03-04T14:00:00Z",
  ends_at: "2026-03-05T14:00:00Z",
  note: "dentist",
  state: "requested",
  override_id: null,
  decided_by: null,
  decided_at: null,
  created_at: "2026-03-01T00:00:00Z",
};

const FINAL = [
  segment("u-alice", "2026-03-02T05:00:00Z", "2026-03-03T14:00:00Z"),
  { username: "u-bob", start: "2026-03-03T14:00:00Z", end: "2026-03-04T02:00:00Z", source: "override", source_id: "ov-1" },
  segment(null, "2026-03-04T02:00:00Z", "2026-03-04T10:00:00Z"),
  segment("u-alice", "2026-03-04T10:00:00Z", "2026-03-09T04:00:00Z"),
];

function scheduleApi(extra = {}) {
  return fakeApi({
    "GET /api/v1/oncall/schedules/:id": () => SCHEDULE,
    "GET /api/v1/oncall/schedules/:id/now": () => ({ schedule_id: "sch-1", at: "2026-03-02T15:00:00Z", username: "u-alice", segment: FINAL[0] }),
    "GET /api/v1/oncall/schedules/:id/final": () => ({ schedule_id: "sch-1", timezone: SCHEDULE.timezone, start: "2026-03-02T05:00:00Z", end: "2026-03-09T04:00:00Z", segments: FINAL }),
    "GET /api/v1/oncall/schedules/:id/gaps": () => ({ schedule_id: "sch-1", start: "2026-03-02T15:00:00Z", end: "2026-03-16T15:00:00Z", gaps: [{ start: "2026-03-04T02:00:00Z", end: "2026-03-04T10:00:00Z" }] }),
    "GET /api/v1/oncall/schedules/:id/overrides": () => [
      { id: "ov-1", schedule_id: "sch-1", username: "u-bob", starts_at: "2026-03-03T14:00:00Z", ends_at: "2026-03-04T02:00:00Z", note: "covering", source: "override", swap_id: null, created_by: "u-alice", created_at: "2026-03-01T00:00:00Z" },
    ],
    "GET /api/v1/oncall/schedules/:id/swaps": () => page([SWAP]),
    "GET /api/v1/users": () => page(USERS),
    ...extra,
  });
}

const at = { path: "/oncall/sch-1?from=2026-03-02", route: "oncall/:scheduleId" };

describe("On-call schedule page", () => {
  it("draws the final schedule from /final in the schedule's time zone, lane by lane", async () => {
    const api = scheduleApi();
    renderPage(<SchedulePage />, { api, ...at });
    const final = await screen.findByTestId("lane-final");
    await waitFor(() => expect(within(final).getAllByTestId("segment")).toHaveLength(4));
    // Midnight in New York, seven local days (the DST change on 8 March makes the last day 23 hours).
    const call = api.calls.find((c) => c.path.endsWith("/final"))!;
    expect(new URLSearchParams(call.search).get("start")).toBe("2026-03-02T05:00:00.000Z");
    expect(new URLSearchParams(call.search).get("end")).toBe("2026-03-09T04:00:00.000Z");
    expect(within(final).getByLabelText("nobody Tue 03-03 21:00 – Wed 03-04 05:00")).toBeInTheDocument();
    const layer = screen.getByTestId("lane-ly-day");
    await waitFor(() => expect(within(layer).getAllByRole("img", { name: /^alice@example.com Mon 03-02 00:00 – Tue 03-03 09:00/ })).toHaveLength(1));
    expect(within(screen.getByTestId("lane-overrides")).getByRole("img", { name: /bob@example.com Tue 03-03 09:00 – Tue 03-03 21:00 \(override\)/ })).toBeInTheDocument();
    expect(screen.getByTestId("calendar-range")).toHaveTextContent("Mon 2 Mar – Sun 8 Mar 2026 (America/New_York)");
    await user.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(api.calls.some((c) => c.path.endsWith("/final") && c.search.includes("start=2026-03-09T04%3A00%3A00.000Z"))).toBe(true));
  });

  it("highlights coverage gaps and lists overrides in the schedule's zone", async () => {
    renderPage(<SchedulePage />, { api: scheduleApi(), ...at });
    expect(await screen.findByTestId("gap")).toHaveTextContent("Tue 2026-03-03 21:00 → Wed 2026-03-04 05:00 (8 h)");
    expect(screen.getByText("1 gap: nobody is on call")).toBeInTheDocument();
    const row = await screen.findByTestId("override-row");
    expect(row).toHaveTextContent("Tue 2026-03-03 09:00");
    expect(row).toHaveTextContent("covering");
  });

  it("creates an override for a wall-clock range in the schedule's zone", async () => {
    const api = scheduleApi({
      "POST /api/v1/oncall/schedules/:id/overrides": () => ({ id: "ov-2", schedule_id: "sch-1", username: "u-bob", starts_at: "", ends_at: "", note: "", source: "override", swap_id: null, created_by: "user-1", created_at: "", overlaps: [] }),
    });
    renderPage(<SchedulePage />, { api, ...at });
    await user.click(await screen.findByRole("button", { name: "New override" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("textbox", { name: "Who is on call" }));
    await user.click(await screen.findByRole("option", { name: "bob@example.com" }));
    await fill(within(dialog).getByLabelText(/^From/), "2026-03-10T18:00");
    await fill(within(dialog).getByLabelText(/^Until/), "2026-03-11T08:00");
    await user.click(within(dialog).getByRole("button", { name: "Create override" }));
    await waitFor(() =>
      expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({ username: "u-bob", starts_at: "2026-03-10T22:00:00.000Z", ends_at: "2026-03-11T12:00:00.000Z", note: "" }),
    );
  });

  it("shows a new iCal feed URL once, with a copy button", async () => {
    const api = scheduleApi({ "POST /api/v1/oncall/schedules/:id/ical-token": () => ({ schedule_id: "sch-1", token: "s3cr3t", path: "/api/v1/oncall/ical/s3cr3t.ics" }) });
    renderPage(<SchedulePage />, { api, ...at });
    await user.click(await screen.findByRole("button", { name: "Calendar link (iCal)" }));
    await user.click(await screen.findByRole("button", { name: "Create link" }));
    expect(await screen.findByLabelText("iCal feed URL")).toHaveValue("http://portal.test/api/v1/oncall/ical/s3cr3t.ics");
    expect(screen.getByRole("button", { name: "Copy iCal URL" })).toBeInTheDocument();
  });

  it("lets a viewer accept a swap asked of them but shows no schedule write controls", async () => {
    const api = scheduleApi({ "POST /api/v1/oncall/schedules/:id/swaps/:swap/accept": () => ({ ...SWAP, state: "accepted" }) });
    renderPage(<SchedulePage />, { role: "customer_viewer", api, ...at });
    const row = await screen.findByTestId("swap-row");
    expect(row).toHaveTextContent("dentist");
    await user.click(within(row).getByRole("button", { name: "Accept" }));
    await waitFor(() => expect(api.calls.some((c) => c.method === "POST" && c.path === "/api/v1/oncall/schedules/sch-1/swaps/sw-1/accept")).toBe(true));
    expect(screen.queryByRole("button", { name: /Edit layers|Delete|New override|Calendar link/ })).not.toBeInTheDocument();
    expect(api.calls.some((c) => c.path === "/api/v1/users")).toBe(false);
  });
});
