import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { AlertsPage } from "./AlertsPage";
import { ALERT, RULE_VIEW, page } from "./fixtures";

const { explanation: _, ...LISTED } = ALERT;

function Where() {
  const location = useLocation();
  return <output data-testid="location">{location.search}</output>;
}

const api = (alerts: unknown[] | (() => unknown)) =>
  fakeApi({
    "GET /api/v1/alerts": typeof alerts === "function" ? alerts : () => page(alerts),
    "GET /api/v1/rules": () => page([RULE_VIEW]),
  });

describe("Alerts page", { timeout: 15_000 }, () => {
  it("lists alerts, each linking to its page, and shows the empty state", async () => {
    renderPage(<AlertsPage />, { api: api([LISTED, { ...LISTED, id: "al-2", device_id: "sim-03", severity: "critical", silenced: true }]) });
    const links = await screen.findAllByRole("link", { name: "Too hot" });
    expect(links.map((l) => l.getAttribute("href"))).toEqual(["/alerts/al-1", "/alerts/al-2"]);
    expect(screen.getByRole("link", { name: "sim-03" })).toHaveAttribute("href", "/devices/sim-03");
    expect(screen.getByText("silenced")).toBeInTheDocument();
    expect(screen.getAllByText("99.5", { selector: "td" })).toHaveLength(2);
    renderPage(<AlertsPage />, { api: api([]) });
    expect(await screen.findByText("No alerts")).toBeInTheDocument();
  });

  it("sends the filters in the URL to the API and writes new ones to the URL", async () => {
    const fake = api([LISTED]);
    renderPage(
      <>
        <AlertsPage />
        <Where />
      </>,
      { api: fake, path: "/alerts?state=open&state=acknowledged&severity=major&rule=hot" },
    );
    await screen.findAllByRole("link", { name: "Too hot" });
    const first = fake.calls.find((c) => c.path === "/api/v1/alerts")!;
    expect(new URLSearchParams(first.search).getAll("state")).toEqual(["open", "acknowledged"]);
    expect(new URLSearchParams(first.search).get("severity")).toBe("major");
    expect(new URLSearchParams(first.search).get("rule_id")).toBe("hot");

    await userEvent.click(screen.getByRole("textbox", { name: "Device" }));
    await userEvent.paste("sim-02");
    await waitFor(() => expect(screen.getByTestId("location").textContent).toContain("device=sim-02"));
    await waitFor(() => expect(fake.calls.some((c) => new URLSearchParams(c.search).get("device_id") === "sim-02")).toBe(true));
  });

  it("shows the problem when the list cannot be loaded", async () => {
    renderPage(<AlertsPage />, { api: api(() => problem(422, "state: Input should be 'open', 'acknowledged'")) });
    expect(await screen.findByText("state: Input should be 'open', 'acknowledged'")).toBeInTheDocument();
  });

  it("sorts the page by severity when asked", async () => {
    renderPage(<AlertsPage />, {
      api: api([{ ...LISTED, id: "minor", rule_name: "Minor one", severity: "minor" }, { ...LISTED, id: "crit", rule_name: "Critical one", severity: "critical" }]),
      path: "/alerts?sort=severity",
    });
    await screen.findByRole("link", { name: "Critical one" });
    const names = screen.getAllByRole("link").filter((l) => l.getAttribute("href")?.startsWith("/alerts/")).map((l) => l.textContent);
    expect(names).toEqual(["Critical one", "Minor one"]);
  });
});
