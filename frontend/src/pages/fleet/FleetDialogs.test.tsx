import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeApi, problem, renderPage } from "../../test/render";
import { BulkTagModal } from "./BulkTag";
import { RegisterDeviceModal } from "./RegisterDevice";
import { SavedFilters } from "./SavedFilters";
import { EMPTY_FILTER } from "./fleetFilter";
import { ImportDevicesModal } from "./ImportDevices";
import { readText } from "./ImportDevices";
import { CREDENTIALS, SLOW_MACHINE, fleetReads, makeDevice, page } from "./testData";

const user = userEvent.setup({ delay: null });

/** A TagsInput entry as a user makes it: type the text, press Enter. */
function addTag(input: HTMLElement, text: string) {
  fireEvent.change(input, { target: { value: text } });
  fireEvent.keyDown(input, { key: "Enter" });
}



describe("Fleet dialogs", SLOW_MACHINE, () => {
  const created: Blob[] = [];
  const downloads: string[] = [];
  beforeEach(() => {
    URL.createObjectURL = vi.fn((blob: Blob) => (created.push(blob), "blob:test"));
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push(this.download);
    });
  });
  afterEach(() => {
    created.length = 0;
    downloads.length = 0;
    vi.restoreAllMocks();
  });

  it("tags the selected devices and reports the counts and unknown ids the API returns", async () => {
    const api = fakeApi(
      fleetReads({
        "POST /api/v1/devices:bulk-tag": () => ({ requested: 3, updated: 2, unchanged: 0, not_found: ["sim-03"], refused: [] }),
      }),
    );
    renderPage(<BulkTagModal deviceIds={["sim-01", "sim-02", "sim-03"]} opened onClose={() => undefined} onApplied={() => undefined} />, { api });
    const dialog = await screen.findByRole("dialog");
    addTag(within(dialog).getByLabelText("Set tags"), "env=lab");
    addTag(within(dialog).getByLabelText("Remove tag keys"), "old");
    await user.click(within(dialog).getByRole("button", { name: "Apply tags" }));
    expect(await within(dialog).findByText("2 updated")).toBeInTheDocument();
    expect(within(dialog).getByText("1 unknown")).toBeInTheDocument();
    expect(within(dialog).getByText("sim-03")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({ device_ids: ["sim-01", "sim-02", "sim-03"], set: { env: "lab" }, remove: ["old"] });
  });

  it("registers a device: a field error lands next to its field, then the credentials are offered once for download", async () => {
    let attempt = 0;
    const api = fakeApi(
      fleetReads({
        "POST /api/v1/devices": () =>
          ++attempt === 1
            ? problem(422, "heartbeat_interval_s: too short", [{ field: "model", message: "unknown model family" }])
            : new Response(JSON.stringify({ device: makeDevice("pump-9"), credentials: CREDENTIALS, http_token: null }), { status: 201, headers: { "Content-Type": "application/json" } }),
      }),
    );
    renderPage(<RegisterDeviceModal opened onClose={() => undefined} />, { api });
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByLabelText(/Device id/), { target: { value: "pump-9" } });
    fireEvent.change(within(dialog).getByLabelText("Model"), { target: { value: "zz" } });
    await user.click(within(dialog).getByRole("button", { name: "Register" }));
    expect(await within(dialog).findByText("unknown model family")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Model")).toHaveAttribute("aria-invalid", "true");
    expect(api.calls.find((c) => c.method === "POST")?.body).toMatchObject({ id: "pump-9", model: "zz", issue_certificate: true });

    await user.click(within(dialog).getByRole("button", { name: "Register" }));
    await user.click(await within(dialog).findByRole("button", { name: "Download private key" }));
    expect(downloads).toEqual(["pump-9.private.key"]);
    expect(await readText(created[0])).toContain("BEGIN PRIVATE KEY");
    expect(within(dialog).getByRole("button", { name: "Download certificate" })).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Download root CA" })).toBeInTheDocument();
  });

  it("imports a CSV and shows the per-row report", async () => {
    const api = fakeApi(
      fleetReads({
        "POST /api/v1/devices/import": () => ({
          dry_run: true,
          total: 2,
          valid: 1,
          invalid: 1,
          created: 0,
          rows: [
            { row: 2, device_id: "a-1", status: "valid", errors: [] },
            { row: 3, device_id: "a-1", status: "invalid", errors: ["id: duplicate in the file"] },
          ],
        }),
      }),
    );
    renderPage(<ImportDevicesModal opened onClose={() => undefined} />, { api });
    const dialog = await screen.findByRole("dialog");
    const csv = "id,name\na-1,A\na-1,B\n";
    await user.upload(dialog.querySelector('input[type="file"]') as HTMLInputElement, new File([csv], "devices.csv", { type: "text/csv" }));
    await user.click(within(dialog).getByRole("button", { name: "Validate (dry run)" }));
    expect(await within(dialog).findByText("id: duplicate in the file")).toBeInTheDocument();
    expect(within(dialog).getByText("1 invalid")).toBeInTheDocument();
    const call = api.calls.find((c) => c.method === "POST")!;
    expect(call.search).toBe("?dry_run=true");
    expect(call.body).toBe(csv);
  });

  it("saves the current filter by name and applies a saved one", async () => {
    const saved = { id: "flt_1", name: "Revoked pumps", scope: "personal", query: { status: ["revoked"], model: ["pump"], sort: "name", order: "asc" }, created_by: "me", created_at: "2026-01-01T00:00:00Z", can_delete: true };
    const api = fakeApi(
      fleetReads({
        "GET /api/v1/saved-filters": () => page([saved]),
        "POST /api/v1/saved-filters": () => new Response(JSON.stringify({ ...saved, id: "flt_2", name: "Lab" }), { status: 201, headers: { "Content-Type": "application/json" } }),
      }),
    );
    const applied: string[] = [];
    renderPage(<SavedFilters filter={{ ...EMPTY_FILTER, tag: ["env:lab"] }} onApply={(params) => applied.push(params.toString())} />, { api });
    await user.click(await screen.findByRole("button", { name: "Save filter" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByLabelText(/Filter name/), { target: { value: "Lab" } });
    await user.click(within(dialog).getByRole("button", { name: "Save filter" }));
    await waitFor(() => expect(api.calls.find((c) => c.method === "POST")?.body).toMatchObject({ name: "Lab", scope: "personal", query: { tag: ["env:lab"], q: null } }));

    await user.click(await screen.findByPlaceholderText("Apply a saved filter"));
    await user.click(await screen.findByRole("option", { name: "Revoked pumps" }));
    await waitFor(() => expect(applied).toEqual(["status=revoked&model=pump"]));
    expect(screen.getByRole("button", { name: "Delete saved filter Revoked pumps" })).toBeInTheDocument();
  });

  it("lets a viewer save a personal filter only, and not delete a shared one", async () => {
    const shared = { id: "flt_9", name: "Team view", scope: "tenant", query: {}, created_by: "admin", created_at: "2026-01-01T00:00:00Z", can_delete: false };
    const api = fakeApi({ "GET /api/v1/saved-filters": () => page([shared]) });
    renderPage(<SavedFilters filter={EMPTY_FILTER} onApply={() => undefined} />, { api, role: "customer_viewer" });
    await user.click(await screen.findByPlaceholderText("Apply a saved filter"));
    await user.click(await screen.findByRole("option", { name: "Team view (shared)" }));
    expect(screen.queryByRole("button", { name: /Delete saved filter/ })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save filter" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).queryByText("Everyone in the tenant")).not.toBeInTheDocument();
  });
});
