import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ChromeContext } from "../../layout/chrome";
import { fakeApi, problem, renderPage, type Handler } from "../../test/render";
import { mergeEvents } from "./noc/EventFeed";
import { NocPage } from "./NocPage";

// no pause between keystrokes: the tests stay fast on a busy machine
const user = userEvent.setup({ delay: null });

// ECharts cannot draw in jsdom: show the option each chart was given instead.
vi.mock("echarts-for-react", () => ({
  default: ({ option }: { option: unknown }) => <pre data-testid="echarts-option">{JSON.stringify(option)}</pre>,
}));

const SUMMARY = {
  generated_at: "2026-03-02T10:00:00Z",
  tenant_id: null,
  devices: { total: 200, online: 187, stale: 5, offline: 6, never: 2 },
  online_percent: 93.5,
  ingest_per_second: 41.25,
  open_alerts: { total: 7, critical: 2, major: 1, minor: 3, warning: 1, info: 0 },
  delivery_failures_last_hour: { failed_attempts: 4, dead_letters: 1 },
};
const POINT = { at: "2026-03-02T09:58:00Z", ingest_messages: 120, alerts_opened: 2, deliveries_succeeded: 5, deliveries_failed: 1, dead_letters: 0 };
const SERIES = { tenant_id: null, minutes: 60, bucket_seconds: 60, points: [POINT, { ...POINT, at: "2026-03-02T09:59:00Z", ingest_messages: 180 }] };
const matrix = Array.from({ length: 7 }, () => Array(24).fill(0));
matrix[2][14] = 9; // Wed 14:00
const HEATMAP = { tenant_id: null, days: 7, since: "2026-02-23T10:00:00Z", until: "2026-03-02T10:00:00Z", day_labels: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], matrix, total: 9, max: 9 };
const HEALTH = {
  generated_at: "2026-03-02T10:00:00Z",
  tenant_id: null,
  status: "degraded",
  services: [
    { service: "ingest", status: "ok", measure: 12, unit: "seconds", degraded_at: 300, down_at: 900, detail: "newest message 12 s ago" },
    { service: "outbox", status: "degraded", measure: 150, unit: "seconds", degraded_at: 120, down_at: 600, detail: "oldest unpublished event waited 150 s" },
    { service: "delivery", status: "ok", measure: 0, unit: "count", degraded_at: 1, down_at: 25, detail: "no dead letters" },
  ],
};
const event = (id: string, summary: string, at = "2026-03-02T10:00:00Z") => ({ id, kind: "alert" as const, event: "opened", at, tenant_id: "acme", device_id: "pump-1", severity: "critical", summary, detail: {} });

function api(overrides: Record<string, Handler> = {}) {
  return fakeApi({
    "GET /api/v1/tenants": () => ({ items: [], next_cursor: null }),
    "GET /api/v1/noc/summary": () => SUMMARY,
    "GET /api/v1/noc/health": () => HEALTH,
    "GET /api/v1/noc/timeseries": () => SERIES,
    "GET /api/v1/noc/heatmap": () => HEATMAP,
    "GET /api/v1/noc/events": () => ({ items: [], cursor: "c0", has_more: false }),
    ...overrides,
  });
}

async function optionOf(label: RegExp) {
  const chart = await screen.findByRole("img", { name: label });
  return JSON.parse(within(chart).getByTestId("echarts-option").textContent!);
}

// findBy waits up to 5 s: a loaded 2-core box renders Mantine slowly
configure({ asyncUtilTimeout: 5000 });

describe("NOC page", { timeout: 15_000 }, () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete (document.documentElement as { requestFullscreen?: unknown }).requestFullscreen;
  });

  it("draws gauges, charts, the heatmap and the health strip from the API", async () => {
    renderPage(<NocPage />, { role: "operator", api: api() });
    expect(await screen.findByRole("heading", { name: "NOC" })).toBeInTheDocument();
    const online = await optionOf(/^Fleet online/);
    expect(online.series[0].type).toBe("gauge");
    expect(online.series[0].data[0].value).toBe(93.5);
    expect((await optionOf(/^Ingest:/)).series[0].data[0].value).toBe(41.3);
    expect((await optionOf(/^Open alerts/)).series[0].data[0].value).toBe(7);
    expect((await optionOf(/^Delivery failures/)).series[0].data[0].value).toBe(5);
    expect(screen.getByText(/2 critical · 1 major/)).toBeInTheDocument();
    // 120 and 180 messages in 60-second buckets: 2 and 3 msg/s
    expect((await optionOf(/Ingest messages per second over time/)).series[0].data).toEqual([2, 3]);
    const heatmap = await optionOf(/Alert heatmap/);
    expect(heatmap.series[0].type).toBe("heatmap");
    expect(heatmap.series[0].data).toContainEqual([14, 2, 9]);
    expect(heatmap.yAxis.data[2]).toBe("Wed");
    expect(screen.getByRole("listitem", { name: "Outbox: degraded, 2.5 min" })).toHaveAttribute("data-status", "degraded");
    expect(screen.getByRole("listitem", { name: "Ingest: ok, 12 s" })).toBeInTheDocument();
  });

  it("asks for the chosen time range", async () => {
    const fake = api();
    renderPage(<NocPage />, { role: "operator", api: fake });
    await optionOf(/Ingest messages per second over time/);
    await user.click(screen.getByText("6h"));
    await waitFor(() => expect(fake.calls.some((c) => c.path === "/api/v1/noc/timeseries" && c.search.includes("minutes=360"))).toBe(true));
  });

  it("toggles TV mode with F: full screen (refusal tolerated) and no chrome; Escape leaves it; typing does not", async () => {
    const setHidden = vi.fn();
    const requestFullscreen = vi.fn(() => Promise.reject(new Error("denied")));
    Object.defineProperty(document.documentElement, "requestFullscreen", { value: requestFullscreen, configurable: true });
    const { container } = renderPage(
      <ChromeContext.Provider value={{ hidden: false, setHidden }}>
        <NocPage />
      </ChromeContext.Provider>,
      { role: "operator", api: api() },
    );
    await screen.findByRole("heading", { name: "NOC" });
    await user.type(screen.getByRole("textbox", { name: /Tenant/ }), "f");
    expect(setHidden).not.toHaveBeenCalledWith(true);
    await user.click(screen.getByRole("heading", { name: "NOC" }));
    await user.keyboard("f");
    expect(setHidden).toHaveBeenLastCalledWith(true);
    expect(requestFullscreen).toHaveBeenCalled();
    expect(container.querySelector("[data-tv-mode]")).not.toBeNull();
    expect(screen.getByRole("button", { name: "TV mode (F)" })).toHaveAttribute("aria-pressed", "true");
    await user.keyboard("{Escape}");
    expect(setHidden).toHaveBeenLastCalledWith(false);
    expect(container.querySelector("[data-tv-mode]")).toBeNull();
    await user.click(screen.getByRole("button", { name: "TV mode (F)" }));
    expect(setHidden).toHaveBeenLastCalledWith(true);
  });

  it("polls the event feed with the after cursor and prepends new events", async () => {
    const fake = api({
      "GET /api/v1/noc/events": (request) => {
        const after = new URL(request.url).searchParams.get("after");
        if (!after) return { items: [event("alert:1", "pump pressure high", "2026-03-02T09:59:00Z")], cursor: "c1", has_more: false };
        if (after === "c1") return { items: [event("alert:2", "tank level low")], cursor: "c2", has_more: false };
        return { items: [], cursor: after, has_more: false };
      },
    });
    renderPage(<NocPage feedIntervalMs={20} />, { role: "operator", api: fake });
    const log = await screen.findByRole("log", { name: "Live events" });
    await within(log).findByText(/tank level low/);
    const rows = within(log).getAllByTestId("feed-event");
    expect(rows[0]).toHaveTextContent("tank level low");
    expect(rows[1]).toHaveTextContent("pump pressure high");
    const feedCalls = fake.calls.filter((c) => c.path === "/api/v1/noc/events");
    expect(feedCalls[0].search).not.toContain("after=");
    expect(feedCalls[1].search).toContain("after=c1");
  });

  it("keeps at most 200 events without duplicates", () => {
    const old = Array.from({ length: 200 }, (_, i) => event(`alert:${i}`, `old ${i}`));
    const merged = mergeEvents([event("alert:new", "new"), event("alert:0", "dup")], old);
    expect(merged).toHaveLength(200);
    expect(merged[0].id).toBe("alert:new");
    expect(merged.filter((e) => e.id === "alert:0")).toHaveLength(1);
  });

  it("shows the problem when the summary is refused", async () => {
    renderPage(<NocPage />, { role: "operator", api: api({ "GET /api/v1/noc/summary": () => problem(403, "operators only") }) });
    expect(await screen.findByText("operators only")).toBeInTheDocument();
  });
});
