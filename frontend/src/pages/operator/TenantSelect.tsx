import { Select } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionProvider";

/** Every tenant (one page of up to 500, the API's maximum), for filters that name a tenant. */
export function useTenants() {
  const api = useApi();
  return useQuery({
    queryKey: ["operator", "tenants", "all"],
    queryFn: () => unwrap(api.GET("/api/v1/tenants", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
}

export function TenantSelect({ value, onChange, label = "Tenant" }: { value: string | null; onChange: (tenant: string | null) => void; label?: string }) {
  const tenants = useTenants();
  const data = (tenants.data?.items ?? []).map((t) => ({ value: t.id, label: `${t.name} (${t.id})` }));
  if (value && !data.some((d) => d.value === value)) data.unshift({ value, label: value });
  return (
    <Select
      label={label}
      placeholder={tenants.isError ? "tenants could not be loaded" : "All tenants"}
      data={data}
      value={value}
      onChange={onChange}
      searchable
      clearable
      nothingFoundMessage="No such tenant"
    />
  );
}
