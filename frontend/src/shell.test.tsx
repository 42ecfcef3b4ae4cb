import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { createApiClient, unwrap } from "./api/client";
import { ApiError } from "./api/errors";
import { ConfigError, parseConfig } from "./config";
import { allRoutes } from "./pages";
import { visibleRoutes } from "./routing";
import { fakeApi, problem, renderPage, TEST_CONFIG } from "./test/render";
import { WriteOnly } from "./components/WriteOnly";

describe("runtime configuration", () => {
  it("names the missing field", () => {
    expect(() => parseConfig({ apiBaseUrl: "/api/v1", auth: { clientId: "x" } })).toThrow(ConfigError);
    expect(() => parseConfig({ apiBaseUrl: "/api/v1", auth: { clientId: "x" } })).toThrow(/auth\.authority/);
  });
  it("defaults scope and token use and trims the API base", () => {
    const config = parseConfig({ ...TEST_CONFIG, apiBaseUrl: "/api/v1/", auth: { ...TEST_CONFIG.auth, scope: "", tokenUse: undefined } });
    expect(config.apiBaseUrl).toBe("/api/v1");
    expect(config.auth.scope).toBe("openid email profile");
    expect(config.auth.tokenUse).toBe("id");
  });
});

describe("API client", () => {
  it("sends the bearer token and turns problem bodies into field errors", async () => {
    const api = fakeApi({
      "POST /api/v1/sites": () => problem(422, "name: too short", [{ field: "name", message: "too short" }]),
    });
    const client = createApiClient(TEST_CONFIG.apiBaseUrl, { token: async () => "tok", onUnauthorized: () => undefined }, api.fetch);
    const error = await unwrap(client.POST("/api/v1/sites", { body: { id: "s", name: "" } as never })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).fieldMap()).toEqual({ name: "too short" });
    const sent = (api.fetch as unknown as { mock: { calls: [Request][] } }).mock.calls[0][0];
    expect(sent.headers.get("Authorization")).toBe("Bearer tok");
  });
  it("reports a 401 so the session can sign in again", async () => {
    let told = 0;
    const api = fakeApi({ "GET /api/v1/me": () => new Response("{}", { status: 401 }) });
    const client = createApiClient(TEST_CONFIG.apiBaseUrl, { token: async () => null, onUnauthorized: () => (told += 1) }, api.fetch);
    await expect(unwrap(client.GET("/api/v1/me"))).rejects.toBeInstanceOf(ApiError);
    expect(told).toBe(1);
  });
});

describe("role-based navigation", () => {
  it("shows customers customer pages and operators operator pages", () => {
    const customer = visibleRoutes(allRoutes, "customer_viewer");
    const operator = visibleRoutes(allRoutes, "operator");
    expect(customer.every((r) => r.audience === "customer")).toBe(true);
    expect(operator.every((r) => r.audience === "operator")).toBe(true);
  });
  it("hides write controls from a viewer", async () => {
    const api = fakeApi({});
    renderPage(<WriteOnly><button>Delete</button></WriteOnly>, { role: "customer_viewer", api });
    await waitFor(() => expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument());
    renderPage(<WriteOnly><button>Delete</button></WriteOnly>, { role: "customer_admin", api });
    expect(await screen.findByRole("button", { name: "Delete" })).toBeInTheDocument();
  });
});
