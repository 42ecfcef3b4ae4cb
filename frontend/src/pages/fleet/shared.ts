import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useApi } from "../../auth/SessionProvider";

export type Device = components["schemas"]["Device"];

/** Every site of the tenant, for pickers (the API's largest page). */
export function useSiteOptions() {
  const api = useApi();
  const sites = useQuery({
    queryKey: ["sites", "options"],
    queryFn: () => unwrap(api.GET("/api/v1/sites", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
  return (sites.data?.items ?? []).map((s) => ({ value: s.id, label: s.name === s.id ? s.id : `${s.name} (${s.id})` }));
}

/** Tags are edited as "key=value" entries (the CSV import's notation). */
export function parseTagPairs(pairs: string[]): { tags: Record<string, string>; error: string | null } {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) return { tags, error: `"${pair}" must be key=value` };
    tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return { tags, error: null };
}

export const tagPairs = (tags: Record<string, string>): string[] => Object.entries(tags).map(([k, v]) => `${k}=${v}`);

/** If-Match for a resource read at `version` (the API's ETag is the quoted version). */
export const ifMatch = (version: number) => ({ "If-Match": `"${version}"` });

/** Field errors like "tags.site" or "remove.0" belong to the form field "tags" / "remove". */
export function topLevelErrors(form: { setErrors(errors: Record<string, string>): void }) {
  return {
    setErrors(errors: Record<string, string>) {
      const out: Record<string, string> = {};
      for (const [field, message] of Object.entries(errors)) {
        const key = field.split(".")[0];
        out[key] = out[key] ? `${out[key]}; ${message}` : message;
      }
      form.setErrors(out);
    },
  };
}
