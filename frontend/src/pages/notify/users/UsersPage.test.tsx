import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, problem, renderPage } from "../../../test/render";
import { USERS, page } from "../fixtures";
import { fill, user } from "../testUtils";
import { UsersPage } from "./UsersPage";

const usersApi = (extra = {}) => fakeApi({ "GET /api/v1/users": () => page(USERS), ...extra });

describe("Users page", () => {
  it("lists users linking to each, and invites one with a role", async () => {
    const api = usersApi({ "POST /api/v1/users": () => ({ ...USERS[1], username: "u-cem", email: "cem@example.com", status: "FORCE_CHANGE_PASSWORD" }) });
    renderPage(<UsersPage />, { api });
    expect(await screen.findByRole("link", { name: "alice@example.com" })).toHaveAttribute("href", "/users/u-alice");
    await user.click(screen.getByRole("button", { name: "Invite user" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText(/^Email/), "cem@example.com");
    await user.click(within(dialog).getByRole("textbox", { name: "Role" }));
    await user.click(await screen.findByRole("option", { name: "Admin" }));
    await user.click(within(dialog).getByRole("button", { name: "Invite" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({ email: "cem@example.com", role: "customer_admin" }));
  });

  it("changes a role and shows why disabling the last admin is refused", async () => {
    const api = usersApi({
      "PATCH /api/v1/users/:u": () => ({ ...USERS[1], role: "customer_admin" }),
      "POST /api/v1/users/:u/disable": () => problem(409, "u-alice is the tenant's last enabled customer_admin"),
    });
    renderPage(<UsersPage />, { api });
    await user.click(await screen.findByRole("textbox", { name: "Role of bob@example.com" }));
    await user.click(await screen.findByRole("option", { name: "Admin" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "PATCH")).toMatchObject({ path: "/api/v1/users/u-bob", body: { role: "customer_admin" } }));
    await user.click(screen.getByRole("button", { name: "Disable alice@example.com" }));
    await user.click(await screen.findByRole("button", { name: "Disable" }));
    expect(await screen.findByText("u-alice is the tenant's last enabled customer_admin")).toBeInTheDocument();
  });

  it("shows a viewer only their own notification settings", async () => {
    const api = fakeApi({
      "GET /api/v1/users/me/contact-methods": () => [
        { id: "cm-1", username: "user-1", kind: "email", address: "me@example.com", label: "", enabled: true, version: 1, created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z" },
      ],
      "GET /api/v1/users/me/notification-policy": () => problem(404, "no policy"),
    });
    renderPage(<UsersPage />, { role: "customer_viewer", api });
    expect(await screen.findByText("me@example.com")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Invite user" })).not.toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: /Role of/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Disable|Enable/ })).not.toBeInTheDocument();
    expect(api.calls.some((c) => c.path === "/api/v1/users")).toBe(false);
  });
});
