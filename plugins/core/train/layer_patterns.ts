/**
 * Selecting layers by name pattern, as `core/train`'s `freeze`, `unfreeze`
 * and `parameterGroups` options do: `*` matches any run of characters, `?`
 * one character, everything else itself.
 *
 * @module
 */
import { CapillaryError, didYouMean } from "../../../mod.ts";

/**
 * Whether `name` matches `pattern` as a whole.
 *
 * @example Usage
 * ```ts
 * import { matchesPattern } from "./layer_patterns.ts";
 * console.assert(matchesPattern("down*", "down2_conv1"));
 * console.assert(!matchesPattern("down?", "down12"));
 * ```
 */
export function matchesPattern(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${source}$`).test(name);
}

/**
 * The names among `names` that any of `patterns` matches, in `names` order.
 *
 * @param patterns Name patterns.
 * @param names The layers to choose from (those with weights).
 * @param option The option the patterns come from, for the error (e.g. `train.freeze`).
 * @param what What the names name, for the error (default: layers with weights).
 * @returns The matching names.
 * @throws {CapillaryError} `E_LAYER_PATTERN` when a pattern matches no layer, listing the layers.
 *
 * @example Usage
 * ```ts
 * import { selectLayers } from "./layer_patterns.ts";
 * const names = ["down1_conv1", "down1_conv2", "up1_bn", "head_sigmoid"];
 * console.assert(selectLayers(["down1_*", "head*"], names, "freeze").join() ===
 *   "down1_conv1,down1_conv2,head_sigmoid");
 * ```
 */
export function selectLayers(
  patterns: readonly string[],
  names: readonly string[],
  option: string,
  what: { readonly one: string; readonly list: (names: readonly string[]) => string } = {
    one: "layer with weights",
    list: (names) => `layers: ${names.join(", ")}`,
  },
): string[] {
  for (const pattern of patterns) {
    if (!names.some((name) => matchesPattern(pattern, name))) {
      const near = didYouMean(pattern.replace(/[*?]/g, ""), names);
      throw new CapillaryError(
        `Cannot apply ${option}: "${pattern}" matches no ${what.one}` +
          `${near.startsWith("did") ? `; ${near}` : ""} (${what.list(names)})`,
        "E_LAYER_PATTERN",
      );
    }
  }
  return names.filter((name) => patterns.some((pattern) => matchesPattern(pattern, name)));
}

/** The part of a network {@link selectWeights} reads: its layers and their weights. */
export interface LayersWithWeights {
  readonly layers: readonly {
    readonly weights: readonly {
      readonly originalName: string;
      /** The variable (tfjs types it as a plain tensor). */
      read(): unknown;
    }[];
  }[];
}

/**
 * The variables of `model` whose weight names (`layer/weight`, e.g.
 * `down1_conv1/bias`, as `deno task plan` and model files name them) any of
 * `patterns` matches, by `tf.Variable.name` (which tfjs may have suffixed to
 * keep it unique).
 *
 * @param patterns Name patterns, e.g. `["*\/bias", "*\/gamma", "*\/beta"]`.
 * @param model The built network.
 * @param option The option the patterns come from, for the error.
 * @returns The matching variables' names.
 * @throws {CapillaryError} `E_LAYER_PATTERN` when a pattern matches no weight, listing the weights.
 *
 * @example Usage
 * ```ts
 * import { selectWeights } from "./layer_patterns.ts";
 * const weight = (originalName: string) => ({ originalName, read: () => ({ name: `${originalName}_1` }) });
 * const model = { layers: [{ weights: [weight("conv/kernel"), weight("conv/bias")] }] };
 * console.assert([...selectWeights(["*\/bias"], model, "decayExclude")].join() === "conv/bias_1");
 * ```
 */
export function selectWeights(
  patterns: readonly string[],
  model: LayersWithWeights,
  option: string,
): Set<string> {
  const weights = model.layers.flatMap((l) => l.weights);
  const chosen = new Set(selectLayers(patterns, weights.map((w) => w.originalName), option, {
    one: "weight",
    // A network has dozens of weights: their kinds and a few whole names say enough.
    list: (names) =>
      `${names.length} weights, e.g. ${names.slice(0, 3).join(", ")}; kinds after the "/": ${
        [...new Set(names.map((n) => n.slice(n.lastIndexOf("/") + 1)))].join(", ")
      }`,
  }));
  return new Set(
    weights.filter((w) => chosen.has(w.originalName)).map((w) =>
      (w.read() as { name: string }).name
    ),
  );
}
