/**
 * The synthetic plugin: procedurally generated retinal images with exact
 * vessel masks, so a recipe runs with no download (`recipes/synthetic.yaml`)
 * and networks can be pretrained before fine-tuning on real data
 * (`recipes/drive-finetune.yaml`). Built in, like the core plugin.
 *
 * | id | kind |
 * |---|---|
 * | `synthetic/retinas` | load |
 *
 * @example Usage
 * ```ts
 * import synthetic from "./mod.ts";
 * console.assert(synthetic.stages[0].name === "retinas");
 * ```
 *
 * @module
 */
import { definePlugin } from "../../mod.ts";
import { retinas } from "./stages/retinas.ts";

/** The synthetic plugin. */
const synthetic = definePlugin({
  name: "synthetic",
  version: "0.1.0",
  description: "Generated fundus images with exact vessel masks (no download).",
  stages: [retinas],
});

export default synthetic;
