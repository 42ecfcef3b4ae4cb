import { describe, expect, it } from "vitest";

import { builderKey, fieldKeys, fromApi, KINDS, newNode, toApi } from "./conditions";
import { fromRule, placeErrors, toDraft } from "./ruleForm";
import { RULE_VIEW } from "./fixtures";
import { shortDuration } from "./model";

const THRESHOLD = { kind: "threshold", metric: "temp", op: ">", value: 80, hysteresis: 1 };

/** One document of every kind, nested the way the API stores them (durations as ISO 8601). */
const EVERY_KIND = {
  kind: "all",
  conditions: [
    THRESHOLD,
    { kind: "window", metric: "temp", op: "between", low: 10, high: { ref: "attributes.max_temp" }, agg: "avg", window: "PT5M" },
    { kind: "absence", metric: null, duration: "PT10M" },
    { kind: "anomaly", metric: "vibration", alpha: 0.2, z: 4, warmup: 50, direction: "up" },
    { kind: "twin", op: "!=", value: { ref: "twin.desired.fw" }, side: "reported", path: "fw" },
    { kind: "twin_not_converged", path: "config.mode" },
    { kind: "for", duration: "PT1H30M", condition: THRESHOLD },
    { kind: "keep_firing_for", duration: "P1D", condition: THRESHOLD },
    { kind: "repeat", count: 3, within: "PT1H", condition: THRESHOLD },
    { kind: "any", conditions: [THRESHOLD, { kind: "not", condition: { kind: "twin", op: "==", value: true, side: "reported", path: "door.open" } }] },
  ],
};

describe("condition documents", () => {
  it("covers every kind of the API's discriminator", () => {
    const kinds = KINDS.map((k) => k.value).sort();
    expect(kinds).toEqual(["absence", "all", "anomaly", "any", "for", "keep_firing_for", "not", "repeat", "threshold", "twin", "twin_not_converged", "window"]);
    for (const kind of kinds) expect(toApi(newNode(kind)).kind).toBe(kind);
  });

  it("reads every kind and writes it back the same (durations in short form)", () => {
    const back = toApi(fromApi(EVERY_KIND)) as unknown as typeof EVERY_KIND;
    expect(back.conditions[0]).toEqual(THRESHOLD);
    expect(back.conditions[1]).toEqual({ ...EVERY_KIND.conditions[1], window: "5m" });
    expect(back.conditions[2]).toEqual({ kind: "absence", metric: null, duration: "10m" });
    expect(back.conditions[3]).toEqual(EVERY_KIND.conditions[3]);
    expect(back.conditions[4]).toEqual(EVERY_KIND.conditions[4]);
    expect(back.conditions[5]).toEqual(EVERY_KIND.conditions[5]);
    expect(back.conditions[6]).toEqual({ kind: "for", duration: "90m", condition: THRESHOLD });
    expect(back.conditions[7]).toEqual({ kind: "keep_firing_for", duration: "1d", condition: THRESHOLD });
    expect(back.conditions[8]).toEqual({ kind: "repeat", count: 3, within: "1h", condition: THRESHOLD });
    expect(back.conditions[9]).toEqual(EVERY_KIND.conditions[9]);
  });

  it("turns ISO durations into the short form the API also accepts", () => {
    expect(shortDuration("PT90S")).toBe("90s");
    expect(shortDuration("PT2H")).toBe("2h");
    expect(shortDuration("P7D")).toBe("7d");
    expect(shortDuration("PT1H0M1S")).toBe("3601s");
  });

  it("maps API error paths onto the builder's inputs", () => {
    const tree = fromApi(EVERY_KIND);
    expect(builderKey("condition.all.conditions.0.threshold.value", "condition", tree)).toBe("condition.conditions.0.value");
    expect(builderKey("condition.all.0.threshold", "condition", tree)).toBe("condition.conditions.0");
    expect(builderKey("condition.all.conditions.1.window.window", "condition", tree)).toBe("condition.conditions.1.window");
    expect(builderKey("condition.all.conditions.6.for.condition.threshold.metric", "condition", tree)).toBe("condition.conditions.6.condition.metric");
    expect(builderKey("condition.all.conditions.9.any.conditions.1.not.condition.twin.path", "condition", tree)).toBe("condition.conditions.9.conditions.1.condition.path");
    expect(builderKey("condition.all.conditions.4.twin.value.ref", "condition", tree)).toBe("condition.conditions.4.value");
    expect(builderKey("name", "condition", tree)).toBeNull();
    const keys = fieldKeys(tree, "condition");
    expect(keys).toContain("condition.conditions.1.low");
    expect(keys).not.toContain("condition.conditions.1.value");
  });

  it("places each error next to its input and keeps the rest for the alert box", () => {
    const state = fromRule(RULE_VIEW.rule);
    const placed = placeErrors(
      [
        { field: "condition.threshold.value", message: "required for op '>'" },
        { field: "scope.device_ids.2", message: "bad id" },
        { field: "name", message: "too long" },
        { field: "condition.window.agg", message: "not here" },
        { field: "body", message: "something about the whole rule" },
      ],
      state,
    );
    expect(placed.fields).toEqual({ "condition.value": "required for op '>'", "scope.device_ids": "bad id", name: "too long" });
    expect(placed.unmatched.map((e) => e.field)).toEqual(["condition.window.agg", "body"]);
    expect(toDraft(state).scope?.tags).toEqual({ zone: "a" });
  });
});
