import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage, type Handler } from "../../test/render";
import { page } from "./fixtures";
import { SilencesPage } from "./SilencesPage";

const HOUR = 3600_000;
const SILENCE = {
  id: "sil-1",
  site_id: "plant-1",
  device_id: null,
  rule_id: null,
  tags: {},
  severities: ["minor"],
  starts_at: new Date(Date.now() - HOUR).toISOString(),
  ends_at: new Date(Date.now() + HOUR).toISOString(),
  reason: "chiller swap",
  created_by: "admin@example.com",
  created_at: new Date(Date.now() - HOUR).toISOString(),
};
const WINDOW = {
  id: "mw-1",
  device_id: "sim-02",
  site_id: null,
  starts_at: new Date(Date.now() - HOUR).toISOString(),
  ends_at: new Date(Date.now() + HOUR).toISOString(),
  reason: "firmware",
  created_by: "admin@example.com",
  created_at: new Date(Date.now() - HOUR).toISOString(),
  ended_by: null,
};

const fill = async (input: HTMLElement, text: string) => {
  await userEvent.click(input);
  await userEvent.paste(text);
};

const api = (routes: Record<string, Handler> = {}) =>
  fakeApi({
    "GET /api/v1/silences": () => page([SILENCE]),
    "GET /api/v1/maintenance": () => page([WINDOW]),
    "GET /api/v1/rules": () => page([]),
    ...routes,
  });

describe("Silences page", { timeout: 15_000 }, () => {
  it("lists active silences and maintenance windows", async () => {
    const fake = api();
    renderPage(<SilencesPage />, { api: fake });
    expect(await screen.findByText("site plant-1 · severity minor")).toBeInTheDocument();
    expect(screen.getByText("chiller swap")).toBeInTheDocument();
    expect(await screen.findByText("device sim-02")).toBeInTheDocument();
    expect(fake.calls.find((c) => c.path === "/api/v1/silences")!.search).toContain("active=true");
  });

  it("creates a silence from matchers and a duration", async () => {
    const fake = api({ "POST /api/v1/silences": () => SILENCE });
    renderPage(<SilencesPage />, { api: fake });
    await userEvent.click(await screen.findByRole("button", { name: "New silence" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText("Site"), "plant-1");
    await fill(within(dialog).getByLabelText("Comment"), "chiller swap");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create silence" }));
    await waitFor(() => expect(fake.calls.find((c) => c.method === "POST")).toBeDefined());
    const body = fake.calls.find((c) => c.method === "POST")!.body as Record<string, unknown>;
    expect(body).toMatchObject({ site_id: "plant-1", device_id: null, rule_id: null, reason: "chiller swap", starts_at: null });
    const lasts = Date.parse(body.ends_at as string) - Date.now();
    expect(lasts).toBeGreaterThan(3.9 * HOUR);
    expect(lasts).toBeLessThan(4.1 * HOUR);
  });

  it("asks for a matcher, and shows the API's error on the whole body above the form", async () => {
    const fake = api({ "POST /api/v1/silences": () => problem(422, "body: Value error, name at least one matcher", [{ field: "body", message: "Value error, name at least one matcher" }]) });
    renderPage(<SilencesPage />, { api: fake });
    await userEvent.click(await screen.findByRole("button", { name: "New silence" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create silence" }));
    expect(await within(dialog).findByText(/name at least one matcher: device, site/)).toBeInTheDocument();
    expect(fake.calls.some((c) => c.method === "POST")).toBe(false);
    await fill(within(dialog).getByLabelText("Device"), "sim-02");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create silence" }));
    expect(await within(dialog).findByText("Value error, name at least one matcher")).toBeInTheDocument();
  });

  it("expires a silence and ends a maintenance window after confirming", async () => {
    const fake = api({ "DELETE /api/v1/silences/:id": () => SILENCE, "POST /api/v1/maintenance/:id/end": () => WINDOW });
    renderPage(<SilencesPage />, { api: fake });
    await userEvent.click(await screen.findByRole("button", { name: "Expire silence site plant-1 · severity minor" }));
    await userEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Expire" }));
    await waitFor(() => expect(fake.calls.some((c) => c.method === "DELETE" && c.path === "/api/v1/silences/sil-1")).toBe(true));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    await userEvent.click(screen.getByRole("button", { name: "End maintenance of device sim-02" }));
    await userEvent.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "End now" }));
    await waitFor(() => expect(fake.calls.some((c) => c.method === "POST" && c.path === "/api/v1/maintenance/mw-1/end")).toBe(true));
  });

  it("starts maintenance for a site with a 404 shown", async () => {
    const fake = api({ "POST /api/v1/maintenance": () => problem(404, "no site 'nowhere'") });
    renderPage(<SilencesPage />, { api: fake });
    await userEvent.click(await screen.findByRole("button", { name: "New maintenance window" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByText("A whole site"));
    await fill(within(dialog).getByLabelText(/Site/), "nowhere");
    await userEvent.click(within(dialog).getByRole("button", { name: "Start maintenance" }));
    expect(await screen.findByText("no site 'nowhere'")).toBeInTheDocument();
    expect(fake.calls.find((c) => c.method === "POST")!.body).toMatchObject({ device_id: null, site_id: "nowhere" });
  });

  it("gives a viewer no write controls", async () => {
    renderPage(<SilencesPage />, { role: "customer_viewer", api: api() });
    expect(await screen.findByText("device sim-02")).toBeInTheDocument();
    for (const name of ["New silence", "New maintenance window", /Expire/, /End maintenance/]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
  });
});
