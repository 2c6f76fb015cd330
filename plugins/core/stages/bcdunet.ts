/**
 * `core/bcdunet`: the encoder–ConvLSTM–decoder network of the seed paper, in
 * the style of BCDU-Net. See `../_bcdunet.ts` for the architecture.
 *
 * @module
 */
import { z } from "zod";
import { defineStage, type ModelSpec, plannedLayers } from "../../../mod.ts";
import { BCDUNET_LAYER_MODULES, buildBcduNet } from "../_bcdunet.ts";
import { bcduNetForwardFlops } from "../bcdunet_flops.ts";

/** Options of `core/bcdunet`. */
export const bcduNetOptions = z.object({
  width: z.number().int().min(2).max(256).multipleOf(2).default(64).describe(
    "Filters of the first down block (even), doubled at each level. 64 is the paper's; cost grows with its square, so CPU recipes use less.",
  ),
  dense: z.union([z.literal(1), z.literal(3)]).default(1)
    .describe("Bottleneck blocks: 1, or 3 densely connected (BCDU-Net's D3)."),
  dropout: z.number().min(0).max(0.9).default(0.5)
    .describe("Dropout rate on the deepest skip and after each bottleneck block."),
  batchNorm: z.boolean().default(false).describe(
    "Batch-normalise every 3×3 convolution (conv → BN → ReLU). The paper normalises only after " +
      "the transposed convolutions; narrow networks under plain SGD lose many ReLU units without it.",
  ),
  skip: z.enum(["convlstm", "concat"]).default("convlstm").describe(
    "How each decoder level takes its encoder map: `convlstm` (the paper's two-step " +
      "ConvLSTM2D) or `concat` (U-Net's concatenation), for ablations.",
  ),
}).strict();

/** The options of `core/bcdunet` after defaults. */
export type BcduNetOptions = z.output<typeof bcduNetOptions>;

/** The `core/bcdunet` model stage. */
export const bcduNet = defineStage({
  name: "bcdunet",
  kind: "model",
  description: "Encoder–ConvLSTM–decoder (BCDU-Net style) with a sigmoid output.",
  options: bcduNetOptions,
  plan(options, _data, context) {
    // Counting needs shapes, not values: tfjs's orthogonal initialiser runs a QR
    // decomposition that takes minutes at width 64, so the plan builds with zeros there.
    const shapesOnly = {
      ...context.tf,
      initializers: {
        ...context.tf.initializers,
        orthogonal: () => context.tf.initializers.zeros(),
      },
    } as typeof context.tf;
    const layers = (size: number, channels: number) => {
      const model = buildBcduNet(shapesOnly, { ...options, seed: 1 }, size, channels);
      const list = plannedLayers(model);
      model.dispose();
      return list;
    };
    const parameters = (size: number, channels: number) =>
      layers(size, channels).reduce((n, l) => n + l.parameters, 0);
    return {
      output: {
        name: `BCDU-Net (width ${options.width}, dense ${options.dense})`,
        parameters,
        layers,
        forwardFlops: (size: number, channels: number) =>
          bcduNetForwardFlops({
            width: options.width,
            dense: options.dense,
            size,
            channels,
            skip: options.skip,
          }),
      },
      lines: [
        `BCDU-Net: widths ${[1, 2, 4, 8].map((m) => options.width * m).join(", ")}, ` +
        `${
          options.dense === 3 ? "3 densely connected bottleneck blocks" : "1 bottleneck block"
        }, ` +
        `dropout ${options.dropout}, ${
          options.skip === "convlstm" ? "ConvLSTM" : "concatenation"
        } skips${options.batchNorm ? ", batch norm after every convolution" : ""}, sigmoid output`,
      ],
    };
  },
  run(options, _data, context): ModelSpec {
    const seed = context.random.int(2 ** 31);
    return {
      name: `BCDU-Net (width ${options.width}, dense ${options.dense})`,
      build: (size, channels) => buildBcduNet(context.tf, { ...options, seed }, size, channels),
      layerModules: BCDUNET_LAYER_MODULES,
    };
  },
});
