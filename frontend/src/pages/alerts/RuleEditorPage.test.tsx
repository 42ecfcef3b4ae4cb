import { screen, waitFor, within } from "@testing-library/react";
import { PointerEventsCheckLevel, userEvent as base } from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { RULE_VIEW, page } from "./fixtures";
import { RuleEditorPage } from "./RuleEditorPage";

// the pointer-events check walks computed styles up the tree on every click: slow on a page this big
const userEvent = base.setup({ pointerEventsCheck: PointerEventsCheckLevel.Never });

// ECharts cannot draw in jsdom: show the option the chart was given instead.
vi.mock("echarts-for-react", () => ({
  default: ({ option }: { option: unknown }) => <pre data-testid="echarts-option">{JSON.stringify(option)}</pre>,
}));

const METRICS = () => [{ name: "portal_temp", unit: "degC", description: "" }];
const BACKTEST = {
  rule_id: "draft",
  rule_version: 1,
  start: "2026-01-01T00:00:00Z",
  end: "2026-01-08T00:00:00Z",
  devices: 2,
  points: 2016,
  opened: 3,
  resolved: 2,
  alerts: [{ device_id: "sim-02", opened_at: "2026-01-02T10:00:00Z", resolved_at: null, resolve_reason: null, fired: 1, reopened: 0, opened_because: "portal_temp > 80", resolved_because: null }],
  alerts_truncated: false,
  per_device: [
    { device_id: "sim-01", samples: 1008, opened: 0, resolved: 0, suppressed: 0 },
    { device_id: "sim-02", samples: 1008, opened: 3, resolved: 2, suppressed: 1 },
  ],
  per_day: [
    { day: "2026-01-02", opened: 2, resolved: 1 },
    { day: "2026-01-03", opened: 1, resolved: 1 },
  ],
};

const paste = async (input: HTMLElement, text: string) => {
  await userEvent.click(input);
  await userEvent.paste(text);
};

const newRule = (routes: Parameters<typeof fakeApi>[0] = {}) => {
  const api = fakeApi({ "GET /api/v1/metrics": METRICS, ...routes });
  renderPage(<RuleEditorPage />, { api, path: "/rules/new", route: "rules/new" });
  return api;
};

const existing = (role: "customer_admin" | "customer_viewer" = "customer_admin", routes: Parameters<typeof fakeApi>[0] = {}) => {
  const api = fakeApi({
    "GET /api/v1/metrics": METRICS,
    "GET /api/v1/rules/:id": () => RULE_VIEW,
    "GET /api/v1/rules/:id/versions": () =>
      page([
        { version: 2, created_by: "admin", created_at: "2026-01-02T00:00:00Z", rule: RULE_VIEW.rule },
        { version: 1, created_by: "admin", created_at: "2026-01-01T00:00:00Z", rule: { ...RULE_VIEW.rule, version: 1, name: "Warm", condition: { kind: "threshold", metric: "portal_temp", op: ">", value: 60, hysteresis: 0 } } },
      ]),
    ...routes,
  });
  renderPage(<RuleEditorPage />, { api, role, path: "/rules/hot", route: "rules/:ruleId" });
  return api;
};

// a big form: generous under a loaded CI machine, about a second each on an idle one
describe("Rule editor", { timeout: 30_000 }, () => {
  it("creates a rule and puts a 422's field errors next to the builder's inputs", async () => {
    const api = newRule({
      "POST /api/v1/rules": () =>
        problem(422, "condition.threshold.value: Value error, required for op '>'", [
          { field: "condition.threshold.value", message: "Value error, required for op '>'" },
          { field: "body", message: "the rule as a whole is wrong somehow" },
        ]),
    });
    await paste(await screen.findByLabelText(/Rule id/), "hot");
    await paste(screen.getByLabelText(/^Name/), "Too hot");
    await paste(screen.getByLabelText(/Metric/, { selector: "input" }), "portal_temp");
    await userEvent.click(screen.getByRole("button", { name: "Create rule" }));
    const value = screen.getByLabelText("Value");
    await waitFor(() => expect(value).toHaveAccessibleDescription("Value error, required for op '>'"));
    expect(screen.getByText("body: the rule as a whole is wrong somehow")).toBeInTheDocument();
    const sent = api.calls.find((c) => c.method === "POST")!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ id: "hot", name: "Too hot", severity: "major", condition: { kind: "threshold", metric: "portal_temp", op: ">", value: null } });
  });

  it("builds a nested condition and places an error on the second child", async () => {
    const api = newRule({
      "POST /api/v1/rules": () => problem(422, "bad", [{ field: "condition.all.conditions.1.threshold.metric", message: "String should match pattern" }]),
    });
    await paste(await screen.findByLabelText(/Rule id/), "combo");
    await paste(screen.getByLabelText(/^Name/), "Combo");
    await userEvent.click(screen.getByRole("textbox", { name: "Condition type" }));
    await userEvent.click(await screen.findByRole("option", { name: "All of" }));
    await userEvent.click(screen.getByRole("button", { name: "Add condition to Condition" }));
    const second = screen.getByRole("group", { name: "Condition › 2" });
    await paste(within(second).getByRole("textbox", { name: "Value" }), "5");
    await userEvent.click(screen.getByRole("button", { name: "Create rule" }));
    expect(await within(second).findByText("String should match pattern")).toBeInTheDocument();
    expect(within(second).getByLabelText(/Metric/, { selector: "input" })).toHaveAttribute("aria-invalid", "true");
    const sent = api.calls.find((c) => c.method === "POST")!.body as { condition: { kind: string; conditions: { kind: string; value: unknown }[] } };
    expect(sent.condition.kind).toBe("all");
    expect(sent.condition.conditions.map((c) => c.kind)).toEqual(["threshold", "threshold"]);
    expect(sent.condition.conditions[1].value).toBe(5);
  });

  it("backtests the unsaved draft and shows the chart and the per-device table", async () => {
    const api = existing("customer_admin", { "POST /api/v1/rules:backtest": () => BACKTEST });
    await userEvent.click(await screen.findByRole("button", { name: "Run backtest" }));
    const result = await screen.findByRole("table", { name: "Per device" });
    const option = JSON.parse(within(screen.getByTestId("chart")).getByTestId("echarts-option").textContent!);
    expect(option.xAxis.data).toEqual(["2026-01-02", "2026-01-03"]);
    expect(option.series.map((s: { name: string; data: number[] }) => [s.name, s.data])).toEqual([["Opened", [2, 1]], ["Resolved", [1, 1]]]);
    const rows = within(result).getAllByRole("row");
    expect(within(rows[1]).getByText("sim-02")).toBeInTheDocument();
    expect(within(rows[1]).getByText("3")).toBeInTheDocument();
    const sent = api.calls.find((c) => c.path === "/api/v1/rules:backtest")!.body as { rule: { condition: unknown; id: string }; start: string; end: string };
    expect(sent.rule.condition).toMatchObject({ kind: "threshold", metric: "portal_temp", op: ">", value: 80 });
    expect(Date.parse(sent.end) - Date.parse(sent.start)).toBeGreaterThan(6 * 86400_000);
  });

  it("saves a new version under If-Match and shows the version history", async () => {
    const api = existing("customer_admin", { "PUT /api/v1/rules/:id": () => ({ ...RULE_VIEW, current_version: 3 }) });
    const name = await screen.findByLabelText(/^Name/);
    await userEvent.clear(name);
    await userEvent.paste("Very hot");
    await userEvent.click(screen.getByRole("button", { name: "Save new version" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "PUT")).toBeDefined());
    const put = api.calls.find((c) => c.method === "PUT")!;
    expect(put.body).toMatchObject({ name: "Very hot", scope: { site_ids: ["plant-1"], tags: { zone: "a" } } });
    const fetched = (api.fetch as unknown as { mock: { calls: [Request][] } }).mock.calls.map((c) => c[0]).find((r) => r.method === "PUT")!;
    expect(fetched.headers.get("If-Match")).toBe('"2"');

    const history = screen.getByRole("region", { name: "Version history" });
    expect(await within(history).findByText("Warm")).toBeInTheDocument();
  });

  it("shows an old version read only", async () => {
    existing("customer_admin", {
      "GET /api/v1/rules/:id/versions/:v": () => ({ version: 1, created_by: "admin", created_at: "2026-01-01T00:00:00Z", rule: { ...RULE_VIEW.rule, version: 1, name: "Warm", condition: { kind: "threshold", metric: "portal_temp", op: ">", value: 60, hysteresis: 0 } } }),
    });
    const history = await screen.findByRole("region", { name: "Version history" });
    await userEvent.click(await within(history).findByRole("button", { name: "View version 1" }));
    const dialog = await screen.findByRole("dialog");
    expect(await within(dialog).findByText("Warm")).toBeInTheDocument();
    expect(within(dialog).getByRole("textbox", { name: "Value" })).toHaveValue("60");
    expect(within(dialog).getByRole("button", { name: "Load into the editor" })).toBeInTheDocument();
  });

  it("gives a viewer the rule read only, without save or builder buttons", async () => {
    existing("customer_viewer");
    expect(await screen.findByLabelText(/^Name/)).toBeDisabled();
    expect(screen.queryByRole("button", { name: /Save/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Add condition/ })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Run backtest" })).toBeEnabled();
  });
});
