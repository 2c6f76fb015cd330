/**
 * The reference network: an encoder–ConvLSTM–decoder in the style of
 * BCDU-Net (Azad et al. 2019), as used by the seed paper.
 *
 * Three down blocks (two 3×3 conv + ReLU, 2×2 max-pool); a bottleneck of one
 * or three "densely connected" blocks of two 3×3 convs with dropout; three up
 * blocks of Conv2DTranspose(2, stride 2) + BatchNorm + ReLU whose output and
 * the matching encoder map form a two-step sequence [encoder, decoder] fed to
 * a ConvLSTM2D (same padding, go backwards, last state only; `layers/conv_lstm_2d.ts`,
 * tfjs's function in fewer kernels), then two convs;
 * batch norm is tfjs-layers' own, its training pass in fewer kernels (`layers/batch_norm.ts`);
 * a head of Conv(2, 3×3, ReLU) and Conv(1, 1×1, sigmoid).
 *
 * @module
 */
import type { Tf } from "../../mod.ts";
import { Random } from "../../mod.ts";
import { BatchNormalization } from "./layers/batch_norm.ts";
import { ConvLstm2d } from "./layers/conv_lstm_2d.ts";

/** What shapes the network. */
export interface BcduNetConfig {
  /** Filters of the first down block; each level doubles it (the paper: 64). */
  readonly width: number;
  /** Bottleneck blocks: 1, or 3 densely connected. */
  readonly dense: 1 | 3;
  /** Dropout rate on the third encoder map's skip and after each bottleneck block. */
  readonly dropout: number;
  /** Seeds the weight initialisers and dropout masks. */
  readonly seed: number;
  /**
   * How a decoder level takes its encoder map: `convlstm` (the paper's: the
   * two maps as a two-step sequence into a ConvLSTM2D) or `concat` (U-Net's
   * channel concatenation), for the ablation. Default `convlstm`.
   */
  readonly skip?: "convlstm" | "concat";
  /**
   * Batch-normalise every 3×3 convolution (conv → BN → ReLU, the convolution
   * without bias). The paper normalises only after the transposed
   * convolutions. Default false.
   */
  readonly batchNorm?: boolean;
}

type Sym = import("@tensorflow/tfjs").SymbolicTensor;

/**
 * The modules that register the network's own layer classes, for a process
 * that rebuilds it from its topology (`ModelSpec.layerModules`).
 */
export const BCDUNET_LAYER_MODULES: readonly string[] = [
  new URL("./layers/conv_lstm_2d.ts", import.meta.url).href,
  new URL("./layers/batch_norm.ts", import.meta.url).href,
];

/**
 * Builds the network for `size × size × channels` inputs. `size` must be a
 * multiple of 8 (three 2× poolings).
 *
 * @param tf The shared TensorFlow.js runtime.
 * @param config Width, bottleneck, dropout and seed.
 * @param size Input side.
 * @param channels Input channels.
 * @returns An uncompiled layers model with one sigmoid output channel.
 * @throws {RangeError} When `size` is not a multiple of 8, or `width` is not even.
 */
export function buildBcduNet(
  tf: Tf,
  config: BcduNetConfig,
  size: number,
  channels: number,
): import("@tensorflow/tfjs").LayersModel {
  // tfjs-layers warns on each orthogonal initialisation of more than 2000
  // values; that is a one-off QR at build time, so the warning is noise.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith("Orthogonal initializer")) warn(...args);
  };
  try {
    return build(tf, config, size, channels);
  } finally {
    console.warn = warn;
  }
}

function build(
  tf: Tf,
  config: BcduNetConfig,
  size: number,
  channels: number,
): import("@tensorflow/tfjs").LayersModel {
  if (size % 8 !== 0 || size <= 0) {
    throw new RangeError(
      `Cannot build BCDU-Net for ${size}×${size} inputs: the side must be a positive multiple of 8`,
    );
  }
  if (!Number.isInteger(config.width) || config.width < 2 || config.width % 2 !== 0) {
    throw new RangeError(
      `Cannot build BCDU-Net with width ${config.width}: it must be an even number of at least 2 (the last ConvLSTM has width / 2 filters)`,
    );
  }
  const random = new Random(config.seed);
  const seed = () => random.int(2 ** 31);
  const L = tf.layers;
  const apply = (layer: { apply(x: Sym | Sym[]): unknown }, x: Sym | Sym[]) =>
    layer.apply(x) as Sym;
  /** A 3×3 convolution with ReLU, batch-normalised in between when asked. */
  const conv = (filters: number, name: string) => (from: Sym) => {
    const convolved = apply(
      L.conv2d({
        filters,
        kernelSize: 3,
        padding: "same",
        activation: config.batchNorm ? "linear" : "relu",
        useBias: !config.batchNorm,
        kernelInitializer: tf.initializers.heNormal({ seed: seed() }),
        name,
      }),
      from,
    );
    if (!config.batchNorm) return convolved;
    const normalised = apply(new BatchNormalization({ axis: 3, name: `${name}_bn` }), convolved);
    return apply(L.activation({ activation: "relu", name: `${name}_relu` }), normalised);
  };

  const input = tf.input({ shape: [size, size, channels], name: "image" });
  let x: Sym = input;
  const skips: { map: Sym; side: number; filters: number }[] = [];
  let side = size;
  for (let level = 1; level <= 3; level++) {
    const filters = config.width * 2 ** (level - 1);
    x = conv(filters, `down${level}_conv1`)(x);
    x = conv(filters, `down${level}_conv2`)(x);
    // The deepest encoder map is dropped out only on its way to the skip.
    const skip = level === 3
      ? apply(L.dropout({ rate: config.dropout, seed: seed(), name: "down3_skip_dropout" }), x)
      : x;
    skips.push({ map: skip, side, filters });
    x = apply(L.maxPooling2d({ poolSize: 2, name: `down${level}_pool` }), x);
    side /= 2;
  }

  const bottleneckFilters = config.width * 8;
  const block = (from: Sym, k: number) => {
    let y = conv(bottleneckFilters, `bottleneck${k}_conv1`)(from);
    y = conv(bottleneckFilters, `bottleneck${k}_conv2`)(y);
    return apply(
      L.dropout({ rate: config.dropout, seed: seed(), name: `bottleneck${k}_dropout` }),
      y,
    );
  };
  const first = block(x, 1);
  x = first;
  if (config.dense === 3) {
    const second = block(first, 2);
    x = block(apply(L.concatenate({ name: "bottleneck_concat" }), [second, first]), 3);
  }

  for (let level = 1; level <= 3; level++) {
    const { map, side: s, filters } = skips[3 - level];
    x = apply(
      L.conv2dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: "same",
        kernelInitializer: tf.initializers.heNormal({ seed: seed() }),
        name: `up${level}_deconv`,
      }),
      x,
    );
    x = apply(new BatchNormalization({ axis: 3, name: `up${level}_bn` }), x);
    x = apply(L.activation({ activation: "relu", name: `up${level}_relu` }), x);
    if (config.skip === "concat") {
      seed(), seed(); // the ConvLSTM's two seeds, so every other layer starts as with it
      x = apply(L.concatenate({ axis: 3, name: `up${level}_skip_concat` }), [map, x]);
    } else {
      const asStep = (t: Sym, name: string) =>
        apply(L.reshape({ targetShape: [1, s, s, filters], name }), t);
      const sequence = apply(L.concatenate({ axis: 1, name: `up${level}_sequence` }), [
        asStep(map, `up${level}_encoder_step`),
        asStep(x, `up${level}_decoder_step`),
      ]);
      x = apply(
        new ConvLstm2d({
          filters: filters / 2,
          kernelSize: 3,
          goBackwards: true,
          kernelInitializer: tf.initializers.heNormal({ seed: seed() }),
          recurrentInitializer: tf.initializers.orthogonal({ seed: seed() }),
          name: `up${level}_convlstm`,
        }),
        sequence,
      );
    }
    x = conv(filters, `up${level}_conv1`)(x);
    x = conv(filters, `up${level}_conv2`)(x);
  }
  x = conv(2, "head_conv")(x);
  const output = apply(
    L.conv2d({
      filters: 1,
      kernelSize: 1,
      activation: "sigmoid",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed() }),
      name: "head_sigmoid",
    }),
    x,
  );
  return tf.model({ inputs: input, outputs: output, name: "bcdunet" });
}
