import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../../test/render";
import { USERS } from "../fixtures";
import { requests, user } from "../testUtils";
import { UserPage } from "./UserPage";

const T = "2026-03-01T00:00:00Z";
const EMAIL = { id: "cm-mail", username: "u-bob", kind: "email", address: "bob@example.com", label: "work", enabled: true, version: 2, created_at: T, updated_at: T };
const SLACK = { id: "cm-slack", username: "u-bob", kind: "slack", address: "U0123456", label: "", enabled: true, version: 5, created_at: T, updated_at: T };
const POLICY = { username: "u-bob", default: [{ contact_method_id: "cm-slack", wait_minutes: 0 }, { contact_method_id: "cm-mail", wait_minutes: 5 }], critical: null, version: 4, updated_by: "u-alice", updated_at: T };

const userApi = (extra = {}) =>
  fakeApi({
    "GET /api/v1/users/:u": () => USERS[1],
    "GET /api/v1/users/:u/contact-methods": () => [EMAIL, SLACK],
    "GET /api/v1/users/:u/notification-policy": () => POLICY,
    ...extra,
  });
const at = { path: "/users/u-bob", route: "users/:username" };

describe("User page", () => {
  it("tests a contact method and shows the result", async () => {
    const api = userApi({ "POST /api/v1/users/:u/contact-methods/:m/test": () => ({ delivery_id: "dl-1", status: "delivered", response_code: 200, latency_ms: 80, error: null }) });
    renderPage(<UserPage />, { api, ...at });
    await user.click(await screen.findByRole("button", { name: "Test bob@example.com" }));
    expect(await screen.findByTestId("test-result")).toHaveTextContent("Test of bob@example.com: delivered");
    expect(api.calls.some((c) => c.method === "POST" && c.path === "/api/v1/users/u-bob/contact-methods/cm-mail/test")).toBe(true);
  });

  it("never prefills the Slack webhook and keeps it when left blank", async () => {
    const api = userApi({ "PUT /api/v1/users/:u/contact-methods/:m": () => SLACK });
    renderPage(<UserPage />, { api, ...at });
    await user.click(await screen.findByRole("button", { name: "Edit U0123456" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByLabelText(/Slack incoming webhook URL/)).toHaveValue("");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "PUT")?.body).toEqual({ kind: "slack", address: "U0123456", label: "", enabled: true }));
    expect(requests(api.fetch).find((r) => r.method === "PUT")?.headers.get("If-Match")).toBe('"5"');
  });

  it("edits the personal policy with a separate critical list and shows a rule's field error", async () => {
    const api = userApi({
      "PUT /api/v1/users/:u/notification-policy": () =>
        problem(422, "critical.0.wait_minutes: Input should be less than or equal to 1440", [{ field: "critical.0.wait_minutes", message: "Input should be less than or equal to 1440" }]),
    });
    renderPage(<UserPage />, { api, ...at });
    await waitFor(() => expect(screen.getAllByTestId("default-rule")).toHaveLength(2));
    await user.click(screen.getByRole("button", { name: "Move rule 2 up" }));
    await user.click(screen.getByLabelText("A separate list for critical alerts"));
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    expect(await screen.findByText("Input should be less than or equal to 1440")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "PUT")?.body).toEqual({
      default: [
        { contact_method_id: "cm-mail", wait_minutes: 5 },
        { contact_method_id: "cm-slack", wait_minutes: 0 },
      ],
      critical: [{ contact_method_id: "cm-mail", wait_minutes: 0 }],
    });
    expect(requests(api.fetch).find((r) => r.method === "PUT")?.headers.get("If-Match")).toBe('"4"');
  });

  it("creates the first policy without If-Match when there is none", async () => {
    const api = userApi({
      "GET /api/v1/users/:u/notification-policy": () => problem(404, "u-bob has no notification policy"),
      "PUT /api/v1/users/:u/notification-policy": () => ({ ...POLICY, default: [{ contact_method_id: "cm-mail", wait_minutes: 0 }], version: 1 }),
    });
    renderPage(<UserPage />, { api, ...at });
    expect(await screen.findByText("No policy yet: every contact method is paged at once.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "PUT")?.body).toEqual({ default: [{ contact_method_id: "cm-mail", wait_minutes: 0 }], critical: null }));
    expect(requests(api.fetch).find((r) => r.method === "PUT")?.headers.get("If-Match")).toBeNull();
  });
});
