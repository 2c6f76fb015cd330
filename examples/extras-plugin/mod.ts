/**
 * An example Capillary plugin package: a Gaussian-noise augmentation
 * (`extras/gaussian_noise`), a learning-rate schedule with warm restarts
 * (`extras/warm_restarts`) and a soft Dice + cross-entropy loss
 * (`extras/dice_bce`), which a recipe names after listing this module under
 * `plugins:` (by path, `npm:` or `https:`).
 *
 * ```yaml
 * plugins: [../examples/extras-plugin/mod.ts]
 * stages:
 *   augment: [{ use: extras/gaussian_noise, with: { p: 0.5, sigma: 0.03 } }]
 *   train:
 *     use: core/train
 *     with: { schedule: { use: extras/warm_restarts }, loss: { use: extras/dice_bce } }
 * ```
 *
 * @module
 */
import { definePlugin, PLUGIN_API_VERSION } from "@capillary/capillary";
import { gaussianNoiseStage } from "./gaussian_noise.ts";
import { warmRestarts } from "./warm_restarts.ts";
import { diceBce } from "./dice_bce.ts";

export { gaussianNoise, gaussianNoiseOptions, gaussianNoiseStage } from "./gaussian_noise.ts";
export { cycleAt, warmRestarts, warmRestartsOptions } from "./warm_restarts.ts";
export { diceBce, diceBceOptions } from "./dice_bce.ts";

/** The plugin: its name is the scope of its ids (`extras/...`). */
export default definePlugin({
  name: "extras",
  version: "0.1.0",
  apiVersion: PLUGIN_API_VERSION,
  description:
    "Example extras for Capillary: Gaussian noise, warm-restart learning rates, Dice + BCE loss.",
  stages: [gaussianNoiseStage],
  components: [warmRestarts, diceBce],
});
