import { Box, Paper, SimpleGrid, Stack, Text } from "@mantine/core";

type Doc = Record<string, unknown> | null | undefined;

/** JSON with object keys sorted, so equal documents compare equal whatever their key order. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Top-level keys whose value differs between before and after (added and removed keys included). */
export function changedKeys(before: Doc, after: Doc): string[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  return [...keys].filter((k) => {
    const inBefore = !!before && k in before;
    const inAfter = !!after && k in after;
    return inBefore !== inAfter || stable(before?.[k]) !== stable(after?.[k]);
  });
}

function JsonSide({ title, doc, keys, changed, tone }: { title: string; doc: Doc; keys: string[]; changed: Set<string>; tone: "red" | "green" }) {
  return (
    <Paper withBorder p="xs" aria-label={title} role="region">
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" mb={4}>
        {title}
      </Text>
      {doc ? (
        <Box component="pre" ff="monospace" fz="xs" m={0} style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
          {"{\n"}
          {keys
            .filter((k) => k in doc)
            .map((k) => (
              <Box
                component="span"
                key={k}
                display="block"
                data-changed={changed.has(k) || undefined}
                bg={changed.has(k) ? `var(--mantine-color-${tone}-light)` : undefined}
                title={changed.has(k) ? "changed" : undefined}
              >
                {`  ${JSON.stringify(k)}: ${JSON.stringify(doc[k], null, 2).replace(/\n/g, "\n  ")}`}
              </Box>
            ))}
          {"}"}
        </Box>
      ) : (
        <Text size="sm" c="dimmed">
          {title === "Before" ? "nothing (created)" : "nothing (deleted)"}
        </Text>
      )}
    </Paper>
  );
}

/** An audit entry's before and after side by side, with the changed top-level keys highlighted. */
export function AuditDiff({ before, after }: { before: Doc; after: Doc }) {
  const changed = changedKeys(before, after);
  const set = new Set(changed);
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  return (
    <Stack gap="xs">
      <Text size="sm">
        {changed.length > 0 ? (
          <>
            Changed: <b>{changed.join(", ")}</b>
          </>
        ) : (
          "No field changed."
        )}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <JsonSide title="Before" doc={before} keys={keys} changed={set} tone="red" />
        <JsonSide title="After" doc={after} keys={keys} changed={set} tone="green" />
      </SimpleGrid>
    </Stack>
  );
}
