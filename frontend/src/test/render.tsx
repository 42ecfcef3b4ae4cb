import { MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { vi } from "vitest";

import { createApiClient } from "../api/client";
import { canWrite, isOperator, type Principal, type Role } from "../auth/roles";
import { TestSessionProvider, type Session } from "../auth/SessionProvider";
import type { RuntimeConfig } from "../config";

export type Handler = (request: Request, match: Record<string, string>) => unknown | Response | Promise<unknown | Response>;

/** Routes like "GET /api/v1/devices/:deviceId" to handlers; an unrouted call fails the test loudly. */
export interface FakeApi {
  fetch: typeof fetch;
  calls: { method: string; path: string; search: string; body: unknown }[];
}

/** JSON bodies as objects; anything else (a CSV upload) as its text. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function fakeApi(routes: Record<string, Handler>): FakeApi {
  const calls: FakeApi["calls"] = [];
  const compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(" ");
    const names: string[] = [];
    const regex = new RegExp(
      "^" + pattern.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === ":" ? c : `\\${c}`)).replace(/:(\w+)/g, (_, n) => (names.push(n), "([^/]+)")) + "$",
    );
    return { method, regex, names, handler };
  });
  const fetcher = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.clone().text();
    calls.push({ method: request.method, path: url.pathname, search: url.search, body: text ? parseBody(text) : undefined });
    for (const route of compiled) {
      const m = route.method === request.method ? route.regex.exec(url.pathname) : null;
      if (!m) continue;
      const match = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      const result = await route.handler(request, match);
      if (result instanceof Response) return result;
      return new Response(JSON.stringify(result ?? null), { status: 200, headers: { "Content-Type": "application/json" } });
    }
    throw new Error(`unexpected API call ${request.method} ${url.pathname}${url.search}`);
  });
  return { fetch: fetcher as unknown as typeof fetch, calls };
}

export function problem(status: number, detail: string, errors?: { field: string; message: string }[]): Response {
  return new Response(JSON.stringify({ status, title: status === 409 ? "Conflict" : "Invalid request", detail, errors }), {
    status,
    headers: { "Content-Type": "application/problem+json" },
  });
}

export const TEST_CONFIG: RuntimeConfig = {
  stage: "test",
  apiBaseUrl: "http://portal.test/api/v1",
  auth: {
    clientId: "client",
    userPoolId: "pool",
    region: "us-east-1",
    authority: "http://idp.test/pool",
    authorizationEndpoint: "http://idp.test/oauth2/authorize",
    tokenEndpoint: "http://idp.test/oauth2/token",
    userinfoEndpoint: "http://idp.test/oauth2/userInfo",
    logoutEndpoint: "http://idp.test/logout",
    redirectUri: "http://portal.test/auth/callback",
    postLogoutRedirectUri: "http://portal.test/",
    scope: "openid email profile",
    tokenUse: "id",
  },
};

export function testSession(role: Role, api: FakeApi, tenant: string | null = "demo"): Session {
  const principal: Principal = { subject: "sub-1", username: "user-1", email: `${role}@example.com`, role, tenant_id: tenant };
  return {
    config: TEST_CONFIG,
    api: createApiClient(TEST_CONFIG.apiBaseUrl, { token: async () => "test-token", onUnauthorized: () => undefined }, api.fetch),
    principal,
    role,
    canWrite: canWrite(role),
    isOperator: isOperator(role),
    signOut: async () => undefined,
  };
}

/** Render a page as a signed-in user of `role`, at `path` matched by `route` (e.g. "devices/:deviceId"). */
export function renderPage(
  ui: ReactElement,
  { role = "customer_admin", api, path = "/", route = "*" }: { role?: Role; api: FakeApi; path?: string; route?: string },
): RenderResult {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <MantineProvider>
      <Notifications />
      <ModalsProvider>
        <QueryClientProvider client={queryClient}>
          <TestSessionProvider session={testSession(role, api)}>
            <MemoryRouter initialEntries={[path]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
              <Routes>
                <Route path={route} element={ui} />
              </Routes>
            </MemoryRouter>
          </TestSessionProvider>
        </QueryClientProvider>
      </ModalsProvider>
    </MantineProvider>,
  );
}
