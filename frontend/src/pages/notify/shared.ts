import { useQuery } from "@tanstack/react-query";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone";
import utc from "dayjs/plugin/utc";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi, useSession } from "../../auth/SessionProvider";
import type { Page } from "../../components/paging";

dayjs.extend(utc);
dayjs.extend(timezone);

export type Channel = components["schemas"]["Channel"];
export type ChannelType = components["schemas"]["ChannelType"];
export type TestResult = components["schemas"]["TestResult"];
export type Route = components["schemas"]["Route"];
export type Delivery = components["schemas"]["Delivery"];
export type DeliveryStatus = components["schemas"]["DeliveryStatus"];
export type Severity = components["schemas"]["Severity"];
export type EscalationPolicy = components["schemas"]["EscalationPolicy"];
export type Schedule = components["schemas"]["OnCallSchedule"];
export type TenantUser = components["schemas"]["TenantUser"];

export const SEVERITIES: Severity[] = ["critical", "major", "minor", "warning", "info"];

/** The If-Match header of a versioned resource (its ETag is the quoted version). */
export const ifMatch = (version: number) => ({ "If-Match": `"${version}"` });

/** Every item of a keyset-paged list (pickers and reorder need the whole set). */
export async function collectAll<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, maxPages = 20): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

export function useAllChannels() {
  const api = useApi();
  return useQuery({
    queryKey: ["channels", "all"],
    queryFn: () => collectAll((cursor) => unwrap(api.GET("/api/v1/channels", { params: { query: { cursor, limit: 500 } } }))),
  });
}

export function useAllSchedules() {
  const api = useApi();
  return useQuery({
    queryKey: ["oncall-schedules", "all"],
    queryFn: () => collectAll((cursor) => unwrap(api.GET("/api/v1/oncall/schedules", { params: { query: { cursor, limit: 500 } } }))),
  });
}

/** The tenant's users (administrators only may list them): pickers and username -> email labels. */
export function useDirectory() {
  const api = useApi();
  const { canWrite } = useSession();
  const query = useQuery({
    queryKey: ["users", "all"],
    queryFn: () => collectAll((cursor) => unwrap(api.GET("/api/v1/users", { params: { query: { cursor, limit: 500 } } }))),
    enabled: canWrite,
    staleTime: 60_000,
  });
  const users = query.data ?? [];
  const byName = new Map(users.map((u) => [u.username, u]));
  return {
    users,
    label: (username: string | null | undefined) => (username ? (byName.get(username)?.email ?? username) : "nobody"),
    options: users.map((u) => ({ value: u.username, label: u.email })),
  };
}

/** Picker options from a list, keeping ids the list does not know (so a saved value still shows). */
export function withUnknown(options: { value: string; label: string }[], values: string[]) {
  const known = new Set(options.map((o) => o.value));
  return [...options, ...values.filter((v) => v && !known.has(v)).map((v) => ({ value: v, label: v }))];
}

export const channelOptions = (channels: Channel[] | undefined) =>
  (channels ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.type})` }));

export function formatIn(value: string, tz: string, format = "ddd YYYY-MM-DD HH:mm"): string {
  return dayjs(value).tz(tz).format(format);
}

/** A datetime-local value ("2026-03-01T09:00") read as wall-clock time in `tz`, as an ISO instant. */
export function wallToIso(local: string, tz: string): string {
  return dayjs.tz(local, tz).toISOString();
}

export function isoToWall(value: string, tz: string): string {
  return dayjs(value).tz(tz).format("YYYY-MM-DDTHH:mm");
}

export { dayjs };

const ZONES: string[] = (() => {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf ? ["UTC", ...intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")] : ["UTC"];
})();

export const timezoneOptions = () => ZONES;

export const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** "09:00:00" (as the API answers a time) -> "09:00" for a time input. */
export const hhmm = (value: string | null | undefined, fallback = "09:00") => (value ? value.slice(0, 5) : fallback);
