import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { RULE_VIEW, page } from "./fixtures";
import { RulesPage } from "./RulesPage";

const METRICS = [{ name: "portal_temp", unit: "degC", description: "inlet temperature" }];

describe("Rules page", { timeout: 15_000 }, () => {
  it("lists rules with their version and links to the editor; empty state", async () => {
    renderPage(<RulesPage />, { api: fakeApi({ "GET /api/v1/rules": () => page([RULE_VIEW]) }) });
    expect(await screen.findByRole("link", { name: "Too hot" })).toHaveAttribute("href", "/rules/hot");
    expect(screen.getByText("v2")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "New rule" })).toHaveAttribute("href", "/rules/new");
    renderPage(<RulesPage />, { api: fakeApi({ "GET /api/v1/rules": () => page([]) }) });
    expect(await screen.findByText("No rules yet")).toBeInTheDocument();
  });

  it("disables a rule after confirmation", async () => {
    const api = fakeApi({ "GET /api/v1/rules": () => page([RULE_VIEW]), "POST /api/v1/rules/:action": () => ({ ...RULE_VIEW, enabled: false }) });
    renderPage(<RulesPage />, { api });
    await userEvent.click(await screen.findByRole("switch", { name: "Enabled: Too hot" }));
    await userEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Disable" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "POST")?.path).toBe("/api/v1/rules/hot:disable"));
  });

  it("gives a viewer no write controls", async () => {
    renderPage(<RulesPage />, { role: "customer_viewer", api: fakeApi({ "GET /api/v1/rules": () => page([RULE_VIEW]) }) });
    expect(await screen.findByRole("link", { name: "Too hot" })).toBeInTheDocument();
    expect(screen.getByText("enabled")).toBeInTheDocument();
    expect(screen.queryByRole("switch")).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "New rule" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete Too hot" })).not.toBeInTheDocument();
  });

  it("lists the metric catalog and shows a field error when adding a metric", async () => {
    const api = fakeApi({
      "GET /api/v1/metrics": () => METRICS,
      "PUT /api/v1/metrics/:name": () => problem(422, "unit: String should have at most 32 characters", [{ field: "unit", message: "String should have at most 32 characters" }]),
    });
    renderPage(<RulesPage />, { api, path: "/rules?tab=metrics" });
    expect(await screen.findByText("portal_temp")).toBeInTheDocument();
    expect(screen.getByText("inlet temperature")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Add metric" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/Metric name/), "humidity");
    await userEvent.type(within(dialog).getByLabelText("Unit"), "%");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add metric" }));
    expect(await within(dialog).findByText("String should have at most 32 characters")).toBeInTheDocument();
    const put = api.calls.find((c) => c.method === "PUT")!;
    expect(put.path).toBe("/api/v1/metrics/humidity");
    expect(put.body).toEqual({ unit: "%", description: "" });
  });

  it("hides the catalog's write controls from a viewer", async () => {
    renderPage(<RulesPage />, { role: "customer_viewer", api: fakeApi({ "GET /api/v1/metrics": () => METRICS }), path: "/rules?tab=metrics" });
    expect(await screen.findByText("portal_temp")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add metric" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete metric portal_temp" })).not.toBeInTheDocument();
  });
});
