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
): string[] {
  for (const pattern of patterns) {
    if (!names.some((name) => matchesPattern(pattern, name))) {
      const near = didYouMean(pattern.replace(/[*?]/g, ""), names);
      throw new CapillaryError(
        `Cannot apply ${option}: "${pattern}" matches no layer with weights` +
          `${near.startsWith("did") ? `; ${near}` : ""} (layers: ${names.join(", ")})`,
        "E_LAYER_PATTERN",
      );
    }
  }
  return names.filter((name) => patterns.some((pattern) => matchesPattern(pattern, name)));
}
