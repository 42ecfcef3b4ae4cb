import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeApi, renderPage } from "../../../test/render";
import { WEBHOOK, delivery, page } from "../fixtures";
import { NotificationsPage } from "../NotificationsPage";
import { user } from "../testUtils";

const DEAD = [delivery("dl-1", "dead"), delivery("dl-2", "dead", { event_name: "alert.resolved", last_error: "timeout after 10 s" })];

describe("Notifications page, delivery log", () => {
  it("filters by status and opens a delivery with its attempts", async () => {
    const api = fakeApi({
      "GET /api/v1/channels": () => page([WEBHOOK]),
      "GET /api/v1/deliveries": (request: Request) => {
        const statuses = new URL(request.url).searchParams.getAll("status");
        return page(statuses.includes("dead") ? DEAD : [delivery("dl-0", "delivered")], "next-1");
      },
      "GET /api/v1/deliveries/:id": (_r: Request, { id }: Record<string, string>) => ({
        ...delivery(id, "dead"),
        events: [{ id: "ev-1", name: "alert.opened" }],
        history: [
          { attempt_no: 1, workflow_attempt: 1, status: "retryable", response_code: 503, latency_ms: 12, error: "HTTP 503", execution_id: null, started_at: "2026-03-02T08:00:00Z", finished_at: "2026-03-02T08:00:01Z" },
          { attempt_no: 2, workflow_attempt: 1, status: "permanent", response_code: 500, latency_ms: 15, error: "HTTP 500 from receiver", execution_id: null, started_at: "2026-03-02T08:01:00Z", finished_at: "2026-03-02T08:01:01Z" },
        ],
      }),
    });
    renderPage(<NotificationsPage />, { api, path: "/?tab=deliveries" });
    expect(within(await screen.findByTestId("delivery-row")).getByText("delivered")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Next" })).toBeEnabled();
    await user.click(screen.getByRole("textbox", { name: "Status" }));
    await user.click(await screen.findByRole("option", { name: "dead" }));
    expect(await screen.findByText("timeout after 10 s")).toBeInTheDocument();
    expect(api.calls.some((c) => c.path === "/api/v1/deliveries" && c.search.includes("status=dead"))).toBe(true);
    await user.click(screen.getByRole("button", { name: "Attempts of delivery dl-1" }));
    const drawer = await screen.findByRole("dialog");
    await waitFor(() => expect(within(drawer).getAllByTestId("attempt-row")).toHaveLength(2));
    expect(within(drawer).getByText("HTTP 503")).toBeInTheDocument();
    expect(within(drawer).getByText("retryable")).toBeInTheDocument();
  });
});

describe("Notifications page, dead letters", () => {
  const deadApi = (extra = {}) =>
    fakeApi({ "GET /api/v1/channels": () => page([WEBHOOK]), "GET /api/v1/dead-letters": () => page(DEAD), ...extra });

  it("redrives the selected dead letters and shows the counts", async () => {
    const api = deadApi({ "POST /api/v1/dead-letters/redrive": () => ({ count: 1, execution_ids: ["ex-1"] }) });
    renderPage(<NotificationsPage />, { api, path: "/?tab=dead-letters" });
    await user.click(await screen.findByRole("checkbox", { name: "Select delivery dl-2" }));
    await user.click(screen.getByRole("button", { name: "Redrive selected (1)" }));
    expect(await screen.findByTestId("redrive-result")).toHaveTextContent("1 dead delivery was reset to pending and started again (1 workflow)");
    expect(api.calls.find((c) => c.path === "/api/v1/dead-letters/redrive")?.body).toEqual({ ids: ["dl-2"] });
  });

  it("shows a viewer the dead letters without selection or redrive", async () => {
    renderPage(<NotificationsPage />, { role: "customer_viewer", api: deadApi(), path: "/?tab=dead-letters" });
    expect(await screen.findByText("timeout after 10 s")).toBeInTheDocument();
    expect(screen.queryByRole("checkbox")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Redrive/ })).not.toBeInTheDocument();
  });
});
