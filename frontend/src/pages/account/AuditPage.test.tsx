import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { changedKeys } from "./AuditDiff";
import { AuditPage } from "./AuditPage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

const ENTRY = {
  id: 41,
  at: "2026-03-01T10:00:00Z",
  actor: "alice@example.com",
  actor_role: "customer_admin",
  action: "site.update",
  entity_type: "site",
  entity_id: "plant-1",
  before: { name: "Plant 1", timezone: "UTC", lat: null },
  after: { name: "Plant One", timezone: "UTC", lat: 52.5 },
  request_id: "req-41",
};

const page = (items: unknown[], next_cursor: string | null = null) => ({ items, next_cursor });

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("Audit log page", { timeout: 15_000 }, () => {
  afterEach(() => vi.restoreAllMocks());

  it("lists entries and expands one into a before/after diff with the changed keys marked", async () => {
    renderPage(<AuditPage />, { role: "customer_viewer", api: fakeApi({ "GET /api/v1/audit": () => page([ENTRY]) }) });
    expect(await screen.findByText("site.update")).toBeInTheDocument();
    expect(screen.getByText("alice@example.com")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Show changes of entry 41" }));
    const before = screen.getByRole("region", { name: "Before" });
    const after = screen.getByRole("region", { name: "After" });
    expect(within(after).getByText(/"name": "Plant One"/)).toHaveAttribute("data-changed", "true");
    expect(within(before).getByText(/"name": "Plant 1"/)).toHaveAttribute("data-changed", "true");
    expect(within(after).getByText(/"timezone": "UTC"/)).not.toHaveAttribute("data-changed");
    expect(screen.getByText("name, lat")).toBeInTheDocument();
  });

  it("compares nested documents regardless of key order", () => {
    expect(changedKeys({ a: { x: 1, y: 2 }, b: 1 }, { a: { y: 2, x: 1 }, c: 1 })).toEqual(["b", "c"]);
    expect(changedKeys(null, { a: 1 })).toEqual(["a"]);
  });

  it("sends the filters and follows the next cursor", async () => {
    const api = fakeApi({
      "GET /api/v1/audit": (request) => {
        const url = new URL(request.url);
        return url.searchParams.get("cursor") === "c2" ? page([{ ...ENTRY, id: 7, action: "rule.create" }]) : page([ENTRY], "c2");
      },
    });
    renderPage(<AuditPage />, { api });
    await screen.findByText("site.update");
    await user.type(screen.getByLabelText("Actor"), "al@x");
    await user.type(screen.getByLabelText("Entity type"), "site{Enter}");
    await waitFor(() => expect(api.calls.at(-1)?.search).toContain("entity_type=site"));
    expect(api.calls.at(-1)?.search).toContain("actor=al%40x");
    await user.click(await screen.findByRole("button", { name: "Next" }));
    expect(await screen.findByText("rule.create")).toBeInTheDocument();
    expect(api.calls.at(-1)?.search).toContain("cursor=c2");
    expect(api.calls.at(-1)?.search).toContain("entity_type=site");
  });

  it("shows the problem detail when the log cannot be read, and the empty state", async () => {
    renderPage(<AuditPage />, { api: fakeApi({ "GET /api/v1/audit": () => problem(422, "since: not a date-time") }) });
    expect(await screen.findByText("since: not a date-time")).toBeInTheDocument();
    renderPage(<AuditPage />, { api: fakeApi({ "GET /api/v1/audit": () => page([]) }) });
    expect(await screen.findByText("No audit entries")).toBeInTheDocument();
  });

  it("exports through an authorised fetch and saves the blob", async () => {
    const createObjectURL = vi.fn(() => "blob:audit");
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    const api = fakeApi({
      "GET /api/v1/audit": () => page([ENTRY]),
      "GET /api/v1/audit/export": () =>
        new Response('{"id":41}\n', { headers: { "Content-Type": "application/x-ndjson", "Content-Disposition": 'attachment; filename="audit-demo.ndjson"' } }),
    });
    renderPage(<AuditPage />, { api });
    await screen.findByText("site.update");
    await user.type(screen.getByLabelText("Action"), "a.b{Enter}");
    await user.click(screen.getByRole("button", { name: "Export" }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const exportCall = api.calls.find((c) => c.path === "/api/v1/audit/export");
    expect(exportCall?.search).toContain("action=a.b");
    const sent = (api.fetch as unknown as { mock: { calls: [Request][] } }).mock.calls.map((c) => c[0]).find((r) => r.url.includes("/export"));
    expect(sent?.headers.get("Authorization")).toBe("Bearer test-token");
    const saved = (createObjectURL.mock.calls[0] as unknown as [Blob])[0];
    expect(saved.type).toBe("application/x-ndjson");
    expect(await saved.text()).toBe('{"id":41}\n');
    const anchor = click.mock.contexts[0] as HTMLAnchorElement;
    expect(anchor.download).toBe("audit-demo.ndjson");
  });
});
