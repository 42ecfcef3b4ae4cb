import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { AlertDetailPage } from "./AlertDetailPage";
import { ALERT, page } from "./fixtures";
import type { AlertDetail } from "./model";

const OPENED = { id: 1, at: "2026-01-01T10:00:00Z", action: "opened", actor: "rules", note: "", detail: { value: 99.5 } as Record<string, unknown> };
const ESCALATION = {
  alert_id: "al-1",
  policy_id: "pol-1",
  policy_name: "Night shift",
  route_id: "r-1",
  episode: 1,
  status: "active",
  phase: "escalating",
  position: 1,
  repeat: 0,
  next_step_due_at: "2026-01-01T10:15:00Z",
  next_due_at: null,
  reminders: 0,
  ended_reason: null,
  started_at: "2026-01-01T10:00:00Z",
  updated_at: "2026-01-01T10:00:00Z",
  steps: [{ kind: "notify_users", usernames: ["ops-1"] }, { kind: "wait", minutes: 15 }, { kind: "notify_on_call", schedule_id: "primary" }],
  done: [{ key: "escalation:al-1:0:0", kind: "step", step: 0, repeat: 0, due_at: "2026-01-01T10:00:00Z", at: "2026-01-01T10:00:05Z", targets: ["ops-1"], deliveries: 1, note: "" }],
};

function alertApi(overrides: Record<string, Parameters<typeof fakeApi>[0][string]> = {}) {
  let alert: AlertDetail = { ...ALERT };
  const timeline = [OPENED];
  const api = fakeApi({
    "GET /api/v1/alerts/:id": () => alert,
    "GET /api/v1/alerts/:id/timeline": () => page(timeline),
    "GET /api/v1/alerts/:id/escalation": () => ESCALATION,
    "POST /api/v1/alerts/:id/acknowledge": () => {
      alert = { ...alert, state: "acknowledged", acknowledged_at: "2026-01-01T10:06:00Z", acknowledged_by: "admin@example.com", version: 5 };
      timeline.push({ id: 2, at: "2026-01-01T10:06:00Z", action: "acknowledged", actor: "admin@example.com", note: "", detail: {} });
      return alert;
    },
    ...overrides,
  });
  return api;
}

const render = (api: ReturnType<typeof fakeApi>, role: "customer_admin" | "customer_viewer" = "customer_admin") =>
  renderPage(<AlertDetailPage />, { api, role, path: "/alerts/al-1", route: "alerts/:alertId" });

describe("Alert detail page", { timeout: 15_000 }, () => {
  it("shows the summary, timeline, escalation and why it fired", async () => {
    render(alertApi());
    expect(await screen.findByRole("heading", { name: "Too hot on sim-02" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "sim-02" })).toHaveAttribute("href", "/devices/sim-02");
    expect(screen.getAllByRole("link", { name: "Too hot" })[0]).toHaveAttribute("href", "/rules/hot");
    const timeline = screen.getByRole("region", { name: "Timeline" });
    expect(await within(timeline).findByText("opened")).toBeInTheDocument();
    const escalation = screen.getByRole("region", { name: "Escalation" });
    expect(await within(escalation).findByText("Night shift")).toBeInTheDocument();
    expect(within(escalation).getByText(/1 of 3: notify ops-1/)).toBeInTheDocument();
    expect(within(escalation).getByText(/wait 15 min —/)).toBeInTheDocument();
    const tree = screen.getByRole("tree", { name: "Condition at firing time" });
    expect(within(tree).getByText("portal_temp > 80 (hysteresis 1)")).toBeInTheDocument();
    expect(within(tree).getByText("(observed 99.5)")).toBeInTheDocument();
    expect(within(tree).getByText("(silent for 60 s)")).toBeInTheDocument();
    expect(within(tree).getAllByRole("treeitem")).toHaveLength(4);
    expect(screen.getByText(/"portal_setpoint": 42/)).toBeInTheDocument();
  });

  it("acknowledges and the timeline refetches", async () => {
    const api = alertApi();
    render(api);
    const ack = await screen.findByRole("button", { name: "Acknowledge" });
    await waitFor(() => expect(ack).toBeEnabled());
    await userEvent.click(ack);
    const timeline = screen.getByRole("region", { name: "Timeline" });
    expect(await within(timeline).findByText("acknowledged")).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/v1/alerts/al-1/acknowledge"]);
    expect(await screen.findByRole("button", { name: "Unacknowledge" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Acknowledge" })).toBeDisabled();
  });

  it("shows the problem when an action is refused", async () => {
    render(alertApi({ "POST /api/v1/alerts/:id/acknowledge": () => problem(409, "alert 'al-1' is resolved; acknowledge needs open or snoozed") }));
    await userEvent.click(await screen.findByRole("button", { name: "Acknowledge" }));
    expect(await screen.findByText("alert 'al-1' is resolved; acknowledge needs open or snoozed", { selector: "[role=alert] *" })).toBeInTheDocument();
  });

  const writes = () =>
    alertApi({
      "POST /api/v1/alerts/:id/comment": () => ALERT,
      "POST /api/v1/alerts/:id/snooze": () => ({ ...ALERT, state: "snoozed" }),
      "POST /api/v1/alerts/:id/assign": () => ({ ...ALERT, assignee: "u-2" }),
      "GET /api/v1/users": () => page([{ username: "u-2", email: "kim@example.com", role: "customer_admin", enabled: true, status: "CONFIRMED" }]),
    });

  it("sends a comment, and refuses an empty one", async () => {
    const api = writes();
    render(api);
    await userEvent.click(await screen.findByRole("button", { name: "Comment" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add comment" }));
    expect(await within(dialog).findByText("write a comment")).toBeInTheDocument();
    await userEvent.type(within(dialog).getByLabelText(/Comment/), "chiller");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add comment" }));
    await waitFor(() => expect(api.calls.find((c) => c.path.endsWith("/comment"))?.body).toEqual({ note: "chiller" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });

  it("snoozes for the chosen duration", async () => {
    const api = writes();
    render(api);
    await userEvent.click(await screen.findByRole("button", { name: "Snooze" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Snooze alert" }));
    await waitFor(() => expect(api.calls.find((c) => c.path.endsWith("/snooze"))).toBeDefined());
    const until = Date.parse((api.calls.find((c) => c.path.endsWith("/snooze"))!.body as { until: string }).until);
    expect(until - Date.now()).toBeGreaterThan(55 * 60_000);
    expect(until - Date.now()).toBeLessThan(61 * 60_000);
  });

  it("assigns a user picked from the tenant's users", async () => {
    const api = writes();
    render(api);
    await userEvent.click(await screen.findByRole("button", { name: "Assign" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("textbox", { name: "Assignee" }));
    await userEvent.click(await screen.findByRole("option", { name: "kim@example.com (u-2)" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save assignee" }));
    await waitFor(() => expect(api.calls.find((c) => c.path.endsWith("/assign"))?.body).toEqual({ assignee: "u-2", note: "" }));
  });

  it("gives a viewer no action buttons", async () => {
    render(alertApi(), "customer_viewer");
    expect(await screen.findByRole("heading", { name: "Too hot on sim-02" })).toBeInTheDocument();
    expect(await within(screen.getByRole("region", { name: "Timeline" })).findByText("opened")).toBeInTheDocument();
    for (const name of ["Acknowledge", "Snooze", "Assign", "Comment", "Resolve", "Close"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
  });

  it("says so when no escalation runs and when the alert does not exist", async () => {
    render(alertApi({ "GET /api/v1/alerts/:id/escalation": () => problem(404, "alert 'al-1' has no escalation") }));
    expect(await screen.findByText("No escalation")).toBeInTheDocument();
    render(fakeApi({ "GET /api/v1/alerts/:id": () => problem(404, "no alert 'al-1'") }));
    expect(await screen.findByText("no alert 'al-1'")).toBeInTheDocument();
  });
});
