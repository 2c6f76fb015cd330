/**
 * What the data-parallel benches share: gradient workers for a BCDU-Net
 * trained on plain binary cross-entropy, as core/train starts them.
 *
 * @module
 */
import { GradientWorkers, type tf } from "../mod.ts";
import { BCDUNET_LAYER_MODULES } from "../plugins/core/_bcdunet.ts";

/** Starts `count` gradient workers, each with a replica of `net` and unweighted BCE. */
export function startBcduNetWorkers(net: tf.LayersModel, count = 1): Promise<GradientWorkers> {
  return GradientWorkers.start(count, {
    topology: net.toJSON(null, false),
    layerModules: BCDUNET_LAYER_MODULES,
    loss: {
      module: new URL("../plugins/core/train/weighted_bce.ts", import.meta.url).href,
      factory: "weightedBinaryCrossentropy",
      args: [1],
    },
  });
}
