import type { components } from "../../api/schema";
import type { Handler } from "../../test/render";

type Device = components["schemas"]["Device"];

export function makeDevice(id: string, extra: Partial<Device> = {}): Device {
  return {
    id,
    name: id,
    status: "active",
    model: "th-100",
    site_id: "plant-1",
    tags: { env: "prod" },
    attributes: {},
    firmware_version: "1.2.0",
    lat: null,
    lng: null,
    heartbeat_interval_s: 60,
    thing_name: `demo-${id}`,
    certificate_id: "cert-1",
    has_http_token: false,
    last_seen_at: "2026-01-01T00:00:00Z",
    version: 3,
    created_at: "2025-12-01T00:00:00Z",
    updated_at: "2025-12-02T00:00:00Z",
    ...extra,
  };
}

export const page = <T>(items: T[], next_cursor: string | null = null) => ({ items, next_cursor });

export const SITES = page([{ id: "plant-1", name: "Plant 1", address: "", timezone: "UTC", lat: null, lng: null, version: 1, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" }]);

/** What the Fleet page reads besides the device list. */
export function fleetReads(overrides: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    "GET /api/v1/sites": () => SITES,
    "GET /api/v1/devices/counts": () => ({ total: 3, by_status: { active: 2, revoked: 1 }, by_site: { "plant-1": 3 } }),
    "GET /api/v1/saved-filters": () => page([]),
    ...overrides,
  };
}

export const CREDENTIALS = {
  device_id: "pump-9",
  thing_name: "demo-pump-9",
  certificate_id: "cert-9",
  certificate_pem: "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----",
  private_key: "-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----",
  root_ca_pem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----",
  root_ca_url: "https://example.test/ca.pem",
  endpoint: "iot.example.test",
  topics: { telemetry: "tenant/demo/device/pump-9/telemetry" },
};

/** Mantine pages render slowly in jsdom on a loaded CI machine: 5 s per test is too tight there. */
export const SLOW_MACHINE = { timeout: 20_000 };
