import { Button, Group, MultiSelect, SegmentedControl, Select, SimpleGrid, Stack, TagsInput, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconSearch, IconX } from "@tabler/icons-react";
import { memo, useEffect, useRef, useState } from "react";

import { DEVICE_STATUSES, SORT_LABELS, isFiltered, tagFilterError, type FleetFilter, type FleetSort, type SortOrder } from "./fleetFilter";
import { useSiteOptions } from "./shared";

export const SEARCH_DEBOUNCE_MS = 300;

/** Search box: typing is debounced into the URL's q; a q changed from outside (back button) comes back in. */
function SearchBox({ q, onSearch }: { q: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(q);
  const [debounced] = useDebouncedValue(text, SEARCH_DEBOUNCE_MS);
  const pushed = useRef(q);
  useEffect(() => {
    if (debounced.trim() !== pushed.current) {
      pushed.current = debounced.trim();
      onSearch(debounced);
    }
    // onSearch changes with every filter; only a new debounced value is a new search.
  }, [debounced]);
  useEffect(() => {
    if (q !== pushed.current) {
      pushed.current = q;
      setText(q);
    }
  }, [q]);
  return (
    <TextInput
      label="Search devices"
      placeholder="name or id"
      leftSection={<IconSearch size={16} />}
      value={text}
      onChange={(e) => setText(e.currentTarget.value)}
      maxLength={100}
    />
  );
}

export const FleetFilterBar = memo(function FleetFilterBar({ filter, onChange }: { filter: FleetFilter; onChange: (patch: Partial<FleetFilter>) => void }) {
  const sites = useSiteOptions();
  const [tagError, setTagError] = useState<string | null>(null);
  // A site filtered on but not (yet) in the picker's list still shows as selected.
  const siteData = [...sites, ...filter.site_id.filter((id) => !sites.some((s) => s.value === id)).map((id) => ({ value: id, label: id }))];
  return (
    <Stack gap="xs" mb="md">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <SearchBox q={filter.q} onSearch={(q) => onChange({ q })} />
        <MultiSelect label="Status" placeholder={filter.status.length ? undefined : "any"} data={DEVICE_STATUSES} value={filter.status} onChange={(v) => onChange({ status: v as FleetFilter["status"] })} clearable />
        <MultiSelect label="Site" placeholder={filter.site_id.length ? undefined : "any"} data={siteData} value={filter.site_id} onChange={(site_id) => onChange({ site_id })} searchable clearable />
        <TagsInput label="Model" placeholder={filter.model.length ? undefined : "any; Enter after each"} value={filter.model} onChange={(model) => onChange({ model })} clearable />
        <TagsInput
          label="Firmware"
          placeholder={filter.firmware_version.length ? undefined : "any; Enter after each"}
          value={filter.firmware_version}
          onChange={(firmware_version) => onChange({ firmware_version })}
          clearable
        />
        <TagsInput
          label="Tags"
          placeholder={filter.tag.length ? undefined : "key:value, all must match"}
          value={filter.tag}
          error={tagError}
          onChange={(tag) => {
            const error = tagFilterError(tag);
            setTagError(error);
            if (!error) onChange({ tag });
          }}
          clearable
        />
        <Select
          label="Sort by"
          data={Object.entries(SORT_LABELS).map(([value, label]) => ({ value, label }))}
          value={filter.sort}
          onChange={(sort) => onChange({ sort: (sort ?? "name") as FleetSort })}
          allowDeselect={false}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="fleet-order-label">
            Order
          </Text>
          <SegmentedControl
            aria-labelledby="fleet-order-label"
            data={[
              { value: "asc", label: "Ascending" },
              { value: "desc", label: "Descending" },
            ]}
            value={filter.order}
            onChange={(order) => onChange({ order: order as SortOrder })}
          />
        </Stack>
      </SimpleGrid>
      {isFiltered(filter) && (
        <Group>
          <Button
            variant="subtle"
            size="xs"
            leftSection={<IconX size={14} />}
            onClick={() => {
              setTagError(null);
              onChange({ q: "", status: [], site_id: [], model: [], firmware_version: [], tag: [] });
            }}
          >
            Clear filters
          </Button>
        </Group>
      )}
    </Stack>
  );
});
