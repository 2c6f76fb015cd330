/**
 * An example Capillary plugin package: a Gaussian-noise augmentation a
 * recipe names as `noise/gaussian` after listing this module under
 * `plugins:` (by path, `npm:` or `https:`).
 *
 * ```yaml
 * plugins: [../examples/noise-plugin/mod.ts]
 * stages:
 *   augment: [{ use: noise/gaussian, with: { p: 0.5, sigma: 0.03 } }]
 * ```
 *
 * @module
 */
import { definePlugin, PLUGIN_API_VERSION } from "@capillary/capillary";
import { gaussianNoiseStage } from "./gaussian_noise.ts";

export { gaussianNoise, gaussianNoiseOptions, gaussianNoiseStage } from "./gaussian_noise.ts";

/** The plugin: its name is the scope of its stage ids (`noise/...`). */
export default definePlugin({
  name: "noise",
  version: "0.1.0",
  apiVersion: PLUGIN_API_VERSION,
  description: "Noise augmentations for Capillary.",
  stages: [gaussianNoiseStage],
});
