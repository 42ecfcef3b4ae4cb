import type { components } from "../../api/schema";

export type DeviceStatus = components["schemas"]["DeviceStatus"];
export type FleetSort = components["schemas"]["FleetSort"];
export type SortOrder = "asc" | "desc";

export const DEVICE_STATUSES: DeviceStatus[] = ["active", "revoked", "decommissioned"];

export const SORT_LABELS: Record<FleetSort, string> = {
  name: "Name",
  id: "Id",
  status: "Status",
  model: "Model",
  firmware_version: "Firmware",
  site_id: "Site",
  created_at: "Created",
  last_seen_at: "Last seen",
};

/** The filter of GET /devices under the API's own names, so the URL, the API call and a saved filter agree. */
export interface FleetFilter {
  q: string;
  status: DeviceStatus[];
  site_id: string[];
  model: string[];
  firmware_version: string[];
  tag: string[];
  sort: FleetSort;
  order: SortOrder;
}

export const EMPTY_FILTER: FleetFilter = { q: "", status: [], site_id: [], model: [], firmware_version: [], tag: [], sort: "name", order: "asc" };

const LISTS = ["status", "site_id", "model", "firmware_version", "tag"] as const;

const isSort = (value: string | null): value is FleetSort => value !== null && value in SORT_LABELS;

export function filterFromParams(params: URLSearchParams): FleetFilter {
  const sort = params.get("sort");
  return {
    q: params.get("q") ?? "",
    status: params.getAll("status").filter((s): s is DeviceStatus => (DEVICE_STATUSES as string[]).includes(s)),
    site_id: params.getAll("site_id"),
    model: params.getAll("model"),
    firmware_version: params.getAll("firmware_version"),
    tag: params.getAll("tag"),
    sort: isSort(sort) ? sort : "name",
    order: params.get("order") === "desc" ? "desc" : "asc",
  };
}

/** Query string of a filter; defaults are left out so a plain /fleet stays plain. */
export function filterToParams(filter: Partial<FleetFilter>): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.q?.trim()) params.set("q", filter.q.trim());
  for (const key of LISTS) for (const value of filter[key] ?? []) params.append(key, value);
  if (filter.sort && filter.sort !== "name") params.set("sort", filter.sort);
  if (filter.order === "desc") params.set("order", "desc");
  return params;
}

/** The filter part of GET /devices and GET /devices/counts (empty parts left out). */
export function filterQuery(filter: FleetFilter) {
  return {
    q: filter.q.trim() || undefined,
    status: filter.status.length ? filter.status : undefined,
    site_id: filter.site_id.length ? filter.site_id : undefined,
    model: filter.model.length ? filter.model : undefined,
    firmware_version: filter.firmware_version.length ? filter.firmware_version : undefined,
    tag: filter.tag.length ? filter.tag : undefined,
  };
}

export function isFiltered(filter: FleetFilter): boolean {
  return !!filter.q.trim() || LISTS.some((key) => filter[key].length > 0);
}

/** A tag filter is key:value with a non-empty key, as the API requires. */
export function tagFilterError(values: string[]): string | null {
  const bad = values.find((v) => !/^[^:]+:/.test(v));
  return bad ? `"${bad}" must be key:value` : null;
}
