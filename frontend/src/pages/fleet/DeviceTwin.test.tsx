import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { DeviceTwin } from "./device/DeviceTwin";
import { SLOW_MACHINE, page } from "./testData";

const user = userEvent.setup({ delay: null });

const twin = (version: number, desired: object, reported: object = { mode: "eco", temp: 21 }) => ({
  version,
  timestamp: 1767225600,
  metadata: {},
  state: { desired, reported },
});

const HISTORY = {
  items: [{ version: 4, at: "2026-01-01T00:00:00Z", source: "api", actor: "admin@example.com", client_token: null, request: { state: { desired: { mode: "eco" } } }, document: twin(4, { mode: "eco" }) }],
  next_before_version: null,
};

const setDraft = (text: string) => fireEvent.change(screen.getByLabelText("Desired state (JSON)"), { target: { value: text } });

describe("Device twin tab", SLOW_MACHINE, () => {
  it("shows reported, desired and the version, and saves the edit as a merge patch under If-Match", async () => {
    let current = twin(4, { mode: "eco", fan: 2 });
    const api = fakeApi({
      "GET /api/v1/devices/:id/twin": () => current,
      "GET /api/v1/devices/:id/twin/history": () => HISTORY,
      "PATCH /api/v1/devices/:id/twin": () => (current = twin(5, { mode: "boost" })),
    });
    const patches: (string | null)[] = [];
    const wrapped = { ...api, fetch: ((input: Request) => (input.method === "PATCH" && patches.push(input.headers.get("If-Match")), api.fetch(input))) as typeof fetch };
    renderPage(<DeviceTwin deviceId="sim-02" />, { api: wrapped });
    expect(await screen.findByText("Reported")).toBeInTheDocument();
    expect(screen.getByTestId("twin-version")).toHaveTextContent("4");
    expect(screen.getByTestId("twin-reported")).toHaveTextContent('"temp": 21');
    expect(await screen.findByText("admin@example.com")).toBeInTheDocument();

    setDraft('{"mode": "boost"}');
    await user.click(screen.getByRole("button", { name: "Save desired" }));
    await waitFor(() => expect(screen.getByTestId("twin-version")).toHaveTextContent("5"));
    expect(api.calls.find((c) => c.method === "PATCH")?.body).toEqual({ state: { desired: { mode: "boost", fan: null } } });
    expect(patches).toEqual(['"4"']);
    expect(screen.getByTestId("twin-desired")).toHaveTextContent('"mode": "boost"');
  });

  it("refuses invalid JSON before sending anything", async () => {
    const api = fakeApi({ "GET /api/v1/devices/:id/twin": () => twin(1, {}), "GET /api/v1/devices/:id/twin/history": () => page([]) });
    renderPage(<DeviceTwin deviceId="sim-02" />, { api });
    await screen.findByText("Reported");
    setDraft('{"mode": ');
    expect(screen.getByText(/invalid JSON/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Save desired" })).toBeDisabled();
    setDraft("[1, 2]");
    expect(screen.getByText(/must be a JSON object/)).toBeInTheDocument();
    expect(api.calls.some((c) => c.method === "PATCH")).toBe(false);
  });

  it("on a 409 shows what changed meanwhile and reapplies the edit on the new version", async () => {
    let current = twin(4, { mode: "eco" });
    let attempts = 0;
    const ifMatches: (string | null)[] = [];
    const api = fakeApi({
      "GET /api/v1/devices/:id/twin": () => current,
      "GET /api/v1/devices/:id/twin/history": () => page([]),
      "PATCH /api/v1/devices/:id/twin": (request) => {
        ifMatches.push(request.headers.get("If-Match"));
        if (++attempts === 1) {
          current = twin(6, { mode: "eco", limit: 80 }, { mode: "eco", temp: 25 });
          return problem(409, "the twin changed since you read it (version 6, you sent 4)");
        }
        return (current = twin(7, { mode: "boost", limit: 80 }));
      },
    });
    renderPage(<DeviceTwin deviceId="sim-02" />, { api });
    await screen.findByText("Reported");
    setDraft('{"mode": "boost"}');
    await user.click(screen.getByRole("button", { name: "Save desired" }));
    const conflict = await screen.findByRole("alert", { name: /Version conflict/ });
    expect(within(conflict).getByText(/now version 6/)).toBeInTheDocument();
    expect(within(conflict).getByText("desired.limit")).toBeInTheDocument();
    expect(within(conflict).getByText("reported.temp")).toBeInTheDocument();
    await user.click(within(conflict).getByRole("button", { name: "Reload and reapply" }));
    await waitFor(() => expect(screen.getByTestId("twin-version")).toHaveTextContent("7"));
    expect(ifMatches).toEqual(['"4"', '"6"']);
    expect(api.calls.filter((c) => c.method === "PATCH").map((c) => c.body)).toEqual([{ state: { desired: { mode: "boost" } } }, { state: { desired: { mode: "boost" } } }]);
    expect(screen.queryByRole("alert", { name: /Version conflict/ })).not.toBeInTheDocument();
  });

  it("shows a viewer the twin without the editor", async () => {
    const api = fakeApi({ "GET /api/v1/devices/:id/twin": () => twin(2, { mode: "eco" }), "GET /api/v1/devices/:id/twin/history": () => page([]) });
    renderPage(<DeviceTwin deviceId="sim-02" />, { api, role: "customer_viewer" });
    expect(await screen.findByText("Reported")).toBeInTheDocument();
    expect(screen.queryByLabelText("Desired state (JSON)")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save desired" })).not.toBeInTheDocument();
  });
});
