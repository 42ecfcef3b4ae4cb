import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../../test/render";
import { USERS, WEBHOOK, page } from "../fixtures";
import { fill, requests, user } from "../testUtils";
import { EscalationPage } from "./EscalationPage";

const POLICY = {
  id: "ep-1",
  name: "Plant on-call",
  description: "",
  timezone: "Europe/Berlin",
  steps: [
    { kind: "notify_on_call", schedule_id: "sch-1" },
    { kind: "wait", minutes: 10 },
    { kind: "notify_users", usernames: ["u-alice"] },
  ],
  repeat_count: 1,
  active_window: { days: ["mon", "tue"], start: "08:00:00", end: "18:00:00" },
  reminder: { every_minutes: 30, channel_ids: ["ch-web"] },
  version: 7,
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
};

const escalationApi = (extra = {}) =>
  fakeApi({
    "GET /api/v1/escalation-policies": () => page([POLICY]),
    "GET /api/v1/channels": () => page([WEBHOOK]),
    "GET /api/v1/oncall/schedules": () => page([{ id: "sch-1", name: "Primary" }]),
    "GET /api/v1/users": () => page(USERS),
    ...extra,
  });

describe("Escalation page", () => {
  it("lists policies with their steps, window and reminder in words", async () => {
    renderPage(<EscalationPage />, { api: escalationApi() });
    expect(await screen.findByText("Plant on-call")).toBeInTheDocument();
    expect(await screen.findByText("1. notify on-call of Primary")).toBeInTheDocument();
    expect(screen.getByText("2. wait 10 min")).toBeInTheDocument();
    expect(await screen.findByText("3. notify alice@example.com")).toBeInTheDocument();
    expect(screen.getByText("mon tue 08:00–18:00 Europe/Berlin")).toBeInTheDocument();
    expect(screen.getByText("every 30 min to Ops webhook")).toBeInTheDocument();
  });

  it("reorders and removes steps, saves with If-Match and shows a step's error next to its field", async () => {
    const api = escalationApi({
      "PUT /api/v1/escalation-policies/:id": () =>
        problem(422, "steps.0.wait.minutes: Input should be less than or equal to 1440", [{ field: "steps.0.wait.minutes", message: "Input should be less than or equal to 1440" }]),
    });
    renderPage(<EscalationPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Edit Plant on-call" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getAllByTestId("step-card")).toHaveLength(3);
    await user.click(within(dialog).getByRole("button", { name: "Move step 2 up" }));
    await user.click(within(dialog).getByRole("button", { name: "Remove step 3" }));
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByText("Input should be less than or equal to 1440")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Step 1: wait (minutes)")).toHaveAttribute("aria-invalid", "true");
    const put = api.calls.find((c) => c.method === "PUT")!;
    expect(put.body).toMatchObject({
      steps: [
        { kind: "wait", minutes: 10 },
        { kind: "notify_on_call", schedule_id: "sch-1" },
      ],
      repeat_count: 1,
      active_window: { days: ["mon", "tue"], start: "08:00", end: "18:00" },
      reminder: { every_minutes: 30, channel_ids: ["ch-web"] },
    });
    expect(requests(api.fetch).find((r) => r.method === "PUT")?.headers.get("If-Match")).toBe('"7"');
  });

  it("refuses a policy that only waits before sending it", async () => {
    const api = escalationApi();
    renderPage(<EscalationPage />, { api });
    await user.click(await screen.findByRole("button", { name: "New policy" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText(/^Name/), "Waits only");
    await user.click(within(dialog).getByRole("button", { name: "Remove step 3" }));
    await user.click(within(dialog).getByRole("button", { name: "Remove step 1" }));
    await user.click(within(dialog).getByRole("button", { name: "Create policy" }));
    expect(await within(dialog).findByText("at least one step must do something besides waiting")).toBeInTheDocument();
    await waitFor(() => expect(api.calls.some((c) => c.method === "POST")).toBe(false));
  });

  it("gives a viewer no write controls", async () => {
    renderPage(<EscalationPage />, { role: "customer_viewer", api: escalationApi() });
    expect(await screen.findByText("Plant on-call")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New policy" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Edit|Delete/ })).not.toBeInTheDocument();
  });
});
