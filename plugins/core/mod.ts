/**
 * The core plugin: the reference method of Capillary (retinal vessel
 * segmentation on DRIVE with an encoder–ConvLSTM–decoder network), built on
 * the public plugin API only.
 *
 * | id | kind |
 * |---|---|
 * | `core/drive` | load |
 * | `core/folder` | load |
 * | `core/stare`, `core/chase_db1` | load |
 * | `core/retina_preprocess` | preprocess |
 * | `core/flip_rotate` | augment |
 * | `core/augment` | augment |
 * | `core/bcdunet` | model |
 * | `core/train` | train |
 * | `core/segmentation_metrics` | evaluate |
 * | `core/constant`, `core/step`, `core/multistep`, `core/exponential`, `core/cosine`, `core/one_cycle`, `core/plateau` | learning-rate schedules (components) |
 *
 * @example Usage
 * ```ts
 * import core from "./mod.ts";
 * console.assert(core.stages.some((s) => s.name === "bcdunet"));
 * ```
 *
 * @module
 */
import { definePlugin } from "../../mod.ts";
import { augmentStage } from "./stages/augment.ts";
import { bcduNet } from "./stages/bcdunet.ts";
import { drive } from "./stages/drive.ts";
import { folder } from "./stages/folder.ts";
import { chaseDb1, stare } from "./stages/retina_sets.ts";
import { flipRotateStage } from "./stages/flip_rotate.ts";
import { retinaPreprocess } from "./stages/retina_preprocess.ts";
import { segmentationMetrics } from "./stages/segmentation_metrics.ts";
import { train } from "./stages/train.ts";
import { coreSchedules } from "./train/schedules.ts";

/** The core plugin. */
const core = definePlugin({
  name: "core",
  version: "0.1.0",
  description:
    "DRIVE loading, retinal preprocessing, BCDU-Net, SGD training and segmentation metrics.",
  stages: [
    drive,
    folder,
    stare,
    chaseDb1,
    retinaPreprocess,
    flipRotateStage,
    augmentStage,
    bcduNet,
    train,
    segmentationMetrics,
  ],
  components: coreSchedules,
});

export default core;
