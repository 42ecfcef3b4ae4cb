import { ActionIcon, Autocomplete, Button, Group, NumberInput, Paper, Select, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { memo, type ReactNode } from "react";

import { AGGREGATES, COMPARING, KINDS, LISTING, OPS, RANGE_OPS, WRAPPING, newNode, type EditorNode, type Kind, type Operand } from "./conditions";

export interface BuilderContext {
  errors: Record<string, ReactNode>;
  clearError: (key: string) => void;
  metrics: string[];
  readOnly?: boolean;
}

const KIND_GROUPS = ["Telemetry", "Twin", "Time", "Combine"].map((group) => ({
  group,
  items: KINDS.filter((k) => k.group === group).map(({ value, label }) => ({ value, label })),
}));
const DURATION_HINT = "e.g. 90s, 5m, 2h, 1d (at most 7 days)";

const isLeaf = (kind: Kind) => !WRAPPING.includes(kind) && !LISTING.includes(kind);

function firstLeaf(node: EditorNode): EditorNode | null {
  if (isLeaf(node.kind)) return node;
  const inner = node.condition ?? node.conditions[0];
  return inner ? firstLeaf(inner) : null;
}

/** Switching kind keeps what can be kept: a leaf goes inside a new composite, a composite gives up its first leaf. */
function changeKind(node: EditorNode, kind: Kind): EditorNode {
  if (isLeaf(kind) && !isLeaf(node.kind)) {
    const leaf = firstLeaf(node);
    return leaf ? { ...newNode(kind, leaf), kind } : newNode(kind);
  }
  if (!isLeaf(kind) && !isLeaf(node.kind)) {
    const children = node.condition ? [node.condition] : node.conditions;
    const next = newNode(kind);
    if (WRAPPING.includes(kind)) next.condition = children[0] ?? next.condition;
    else next.conditions = children.length ? children : next.conditions;
    return next;
  }
  return newNode(kind, node);
}

function OperandInput({ label, value, onChange, error, readOnly, numeric }: { label: string; value: Operand; onChange: (o: Operand) => void; error?: ReactNode; readOnly?: boolean; numeric?: boolean }) {
  const types = numeric
    ? [
        { value: "number", label: "Number" },
        { value: "ref", label: "Reference" },
      ]
    : [
        { value: "number", label: "Number" },
        { value: "text", label: "Text" },
        { value: "bool", label: "Yes/No" },
        { value: "ref", label: "Reference" },
      ];
  return (
    <Group gap={4} align="flex-start" wrap="nowrap">
      <Select aria-label={`${label} type`} data={types} value={value.type} allowDeselect={false} w={120} mt={24} disabled={readOnly}
        onChange={(t) => onChange({ type: (t as Operand["type"]) ?? "number", text: t === "bool" ? "true" : value.type === "bool" ? "" : value.text })} />
      {value.type === "bool" ? (
        <Select label={label} data={["true", "false"]} value={value.text || "true"} allowDeselect={false} onChange={(t) => onChange({ ...value, text: t ?? "true" })} error={error} w={120} disabled={readOnly} />
      ) : (
        <TextInput
          label={label}
          value={value.text}
          placeholder={value.type === "ref" ? "attributes.max_temp" : value.type === "number" ? "80" : ""}
          description={value.type === "ref" ? "attributes.…, twin.reported.… or twin.desired.…" : undefined}
          onChange={(e) => onChange({ ...value, text: e.currentTarget.value })}
          error={error}
          w={value.type === "ref" ? 240 : 140}
          readOnly={readOnly}
        />
      )}
    </Group>
  );
}

interface BuilderProps {
  node: EditorNode;
  path: string;
  onChange: (n: EditorNode) => void;
  ctx: BuilderContext;
  onRemove?: () => void;
  label?: string;
}

/** One node of the condition tree and, nested, its children. Error keys are `${path}.${field}`. */
export const ConditionBuilder = memo(function ConditionBuilder({ node, path, onChange, ctx, onRemove, label }: BuilderProps) {
  const err = (field: string) => ctx.errors[`${path}.${field}`];
  const set = <K extends keyof EditorNode>(field: K, value: EditorNode[K]) => {
    ctx.clearError(`${path}.${String(field)}`);
    ctx.clearError(path);
    onChange({ ...node, [field]: value });
  };
  const text = (field: "metric" | "hysteresis" | "window" | "duration" | "alpha" | "z" | "warmup" | "path" | "count" | "within", fieldLabel: string, extra: { description?: string; placeholder?: string; w?: number; required?: boolean } = {}) => (
    <TextInput label={fieldLabel} value={node[field]} onChange={(e) => set(field, e.currentTarget.value)} error={err(field)} w={extra.w ?? 160} readOnly={ctx.readOnly} {...extra} />
  );
  const range = RANGE_OPS.includes(node.op);

  return (
    <Paper withBorder p="sm" radius="sm" role="group" aria-label={label ?? `Condition ${path}`} bg={LISTING.includes(node.kind) || WRAPPING.includes(node.kind) ? "gray.0" : undefined}>
      <Stack gap="xs">
        <Group gap="xs" align="flex-end" wrap="wrap">
          <Select label="Condition type" data={KIND_GROUPS} value={node.kind} allowDeselect={false} onChange={(k) => k && onChange(changeKind(node, k as Kind))} error={err("kind")} w={230} disabled={ctx.readOnly} />
          {(node.kind === "threshold" || node.kind === "window" || node.kind === "anomaly" || node.kind === "absence") && (
            <Autocomplete
              label="Metric"
              placeholder={node.kind === "absence" ? "any message" : "temperature"}
              data={ctx.metrics}
              value={node.metric}
              onChange={(v) => set("metric", v)}
              error={err("metric")}
              w={200}
              readOnly={ctx.readOnly}
              withAsterisk={node.kind !== "absence"}
            />
          )}
          {node.kind === "window" && (
            <>
              <Select label="Aggregate" data={[...AGGREGATES]} value={node.agg} allowDeselect={false} onChange={(v) => set("agg", v ?? "avg")} error={err("agg")} w={110} disabled={ctx.readOnly} />
              {text("window", "Over the last", { description: DURATION_HINT, w: 150 })}
            </>
          )}
          {node.kind === "twin" && (
            <>
              <Select label="Side" data={["reported", "desired"]} value={node.side} allowDeselect={false} onChange={(v) => set("side", v ?? "reported")} error={err("side")} w={120} disabled={ctx.readOnly} />
              {text("path", "Twin path", { placeholder: "fw.version", w: 200 })}
            </>
          )}
          {node.kind === "twin_not_converged" && text("path", "Twin path", { placeholder: "any path", w: 200, description: "empty: anywhere in desired" })}
          {(node.kind === "absence" || node.kind === "for" || node.kind === "keep_firing_for") && text("duration", "Duration", { description: DURATION_HINT, w: 150 })}
          {node.kind === "repeat" && (
            <>
              <NumberInput label="Times" min={1} max={1000} value={node.count} onChange={(v) => set("count", String(v))} error={err("count")} w={100} readOnly={ctx.readOnly} />
              {text("within", "Within", { description: DURATION_HINT, w: 150 })}
            </>
          )}
          {node.kind === "anomaly" && (
            <>
              {text("z", "z-score at least", { w: 120 })}
              <Select label="Direction" data={["both", "up", "down"]} value={node.direction} allowDeselect={false} onChange={(v) => set("direction", v ?? "both")} error={err("direction")} w={110} disabled={ctx.readOnly} />
              {text("alpha", "Alpha (EWMA)", { w: 110 })}
              {text("warmup", "Warm-up samples", { w: 130 })}
            </>
          )}
          {onRemove && !ctx.readOnly && (
            <Tooltip label="Remove this condition">
              <ActionIcon variant="subtle" color="red" aria-label={`Remove ${label ?? "condition"}`} onClick={onRemove} mb={4}>
                <IconTrash size={16} />
              </ActionIcon>
            </Tooltip>
          )}
        </Group>
        {COMPARING.includes(node.kind) && (
          <Group gap="xs" align="flex-start" wrap="wrap">
            <Select label="Operator" data={[...OPS]} value={node.op} allowDeselect={false} onChange={(v) => set("op", v ?? ">")} error={err("op")} w={110} disabled={ctx.readOnly} />
            {range ? (
              <>
                <OperandInput label="Low" value={node.low} onChange={(o) => set("low", o)} error={err("low")} readOnly={ctx.readOnly} numeric />
                <OperandInput label="High" value={node.high} onChange={(o) => set("high", o)} error={err("high")} readOnly={ctx.readOnly} numeric />
              </>
            ) : (
              <OperandInput label="Value" value={node.value} onChange={(o) => set("value", o)} error={err("value")} readOnly={ctx.readOnly} />
            )}
            {text("hysteresis", "Hysteresis", { w: 110, placeholder: "0" })}
          </Group>
        )}
        {ctx.errors[path] && (
          <Text size="sm" c="red" role="alert">
            {ctx.errors[path]}
          </Text>
        )}
        {WRAPPING.includes(node.kind) && node.condition && (
          <ConditionBuilder node={node.condition} path={`${path}.condition`} onChange={(c) => set("condition", c)} ctx={ctx} label={`${label ?? "Condition"} › inner`} />
        )}
        {LISTING.includes(node.kind) && (
          <Stack gap="xs">
            {node.conditions.map((child, i) => (
              <ConditionBuilder
                key={i}
                node={child}
                path={`${path}.conditions.${i}`}
                ctx={ctx}
                label={`${label ?? "Condition"} › ${i + 1}`}
                onChange={(c) => set("conditions", node.conditions.map((x, j) => (j === i ? c : x)))}
                onRemove={node.conditions.length > 1 ? () => set("conditions", node.conditions.filter((_, j) => j !== i)) : undefined}
              />
            ))}
            {err("conditions") && (
              <Text size="sm" c="red">
                {err("conditions")}
              </Text>
            )}
            {!ctx.readOnly && node.conditions.length < 32 && (
              <Group>
                <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} onClick={() => set("conditions", [...node.conditions, newNode("threshold")])}>
                  Add condition to {label ?? "condition"}
                </Button>
              </Group>
            )}
          </Stack>
        )}
      </Stack>
    </Paper>
  );
});
