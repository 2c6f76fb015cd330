/**
 * Analytic operation counts for the core network (`plugins/core/_bcdunet.ts`).
 *
 * Convention: one multiply-add is 2 FLOP; only convolutions, transposed
 * convolutions and the ConvLSTM gate convolutions are counted (activations,
 * pooling, batch norm, dropout and the loss are left out: they are a fraction
 * of a percent). A 3×3 convolution costs `2 · 9 · Cin · Cout` per output
 * pixel; a 2×2 stride-2 transposed convolution `2 · Cin · Cout` per output
 * pixel (each output pixel gets one kernel tap); a ConvLSTM step costs its
 * four gates' input convolution (`Cin → 4·F`) plus, from its second step
 * on, the recurrent convolution (`F → 4·F`): the state starts at zero, so
 * both Capillary's ConvLSTM and the PyTorch reference skip the first step's
 * (issue 3 counted it: 234 GFLOP). One training step is 3 × the forward pass
 * (forward, gradient with respect to inputs, gradient with respect to
 * weights). With width 64, dense 1, batch 16 and 48×48 patches this gives
 * 209.7 GFLOP per training step (64×64: 372.7 GFLOP).
 *
 * @module
 */

/** What shapes the count. */
export interface FlopsConfig {
  /** Filters of the first down block. */
  readonly width: number;
  /** Bottleneck blocks: 1, or 3 densely connected. */
  readonly dense?: 1 | 3;
  /** Input side (a multiple of 8). */
  readonly size: number;
  /** Input channels (default 1). */
  readonly channels?: number;
  /** Batch size (default 1). */
  readonly batch?: number;
  /** The decoder's skip: `convlstm` (default) or `concat`. */
  readonly skip?: "convlstm" | "concat";
}

/** One layer's forward cost. */
export interface LayerFlops {
  /** The tfjs layer name in `buildBcduNet`. */
  readonly name: string;
  /** Forward FLOP for the whole batch (2 per multiply-add). */
  readonly flops: number;
}

/**
 * Lists the forward FLOP of each counted layer.
 *
 * @param config Width, bottleneck, input side, channels and batch.
 * @returns One entry per convolution-like layer, in network order.
 *
 * @example Usage
 * ```ts
 * import { bcduNetLayerFlops } from "./bcdunet_flops.ts";
 * const layers = bcduNetLayerFlops({ width: 8, size: 48 });
 * console.assert(layers[0].name === "down1_conv1" && layers[0].flops === 2 * 9 * 1 * 8 * 48 * 48);
 * ```
 */
export function bcduNetLayerFlops(config: FlopsConfig): LayerFlops[] {
  const { width, size, dense = 1, channels = 1, batch = 1, skip = "convlstm" } = config;
  const layers: LayerFlops[] = [];
  const conv = (name: string, k: number, cin: number, cout: number, side: number) =>
    layers.push({ name, flops: 2 * k * k * cin * cout * side * side * batch });
  let c = channels, side = size;
  for (let level = 1; level <= 3; level++) {
    const f = width * 2 ** (level - 1);
    conv(`down${level}_conv1`, 3, c, f, side);
    conv(`down${level}_conv2`, 3, f, f, side);
    c = f;
    side /= 2;
  }
  const b = width * 8;
  conv("bottleneck1_conv1", 3, c, b, side);
  conv("bottleneck1_conv2", 3, b, b, side);
  if (dense === 3) {
    conv("bottleneck2_conv1", 3, b, b, side);
    conv("bottleneck2_conv2", 3, b, b, side);
    conv("bottleneck3_conv1", 3, 2 * b, b, side);
    conv("bottleneck3_conv2", 3, b, b, side);
  }
  c = b;
  for (let level = 1; level <= 3; level++) {
    const f = width * 2 ** (3 - level);
    side *= 2;
    // Transposed 2×2 stride 2: one tap per output pixel.
    conv(`up${level}_deconv`, 1, c, f, side);
    const h = f / 2, steps = 2;
    if (skip === "convlstm") {
      layers.push({
        name: `up${level}_convlstm`,
        // Every step's input convolution; the recurrent one from the second step
        // on (the state starts at zero, and both implementations skip it then).
        flops: 2 * 9 * (steps * f * 4 * h + (steps - 1) * h * 4 * h) * side * side * batch,
      });
    }
    // The first convolution takes the ConvLSTM's f/2 channels, or both maps (2f).
    conv(`up${level}_conv1`, 3, skip === "convlstm" ? h : 2 * f, f, side);
    conv(`up${level}_conv2`, 3, f, f, side);
    c = f;
  }
  conv("head_conv", 3, c, 2, side);
  conv("head_sigmoid", 1, 2, 1, side);
  return layers;
}

/**
 * Forward FLOP of the whole network for a batch.
 *
 * @param config Width, bottleneck, input side, channels and batch.
 * @returns The sum of {@link bcduNetLayerFlops}.
 */
export function bcduNetForwardFlops(config: FlopsConfig): number {
  return bcduNetLayerFlops(config).reduce((sum, l) => sum + l.flops, 0);
}

/**
 * FLOP of one training step: 3 × forward (see the module note).
 *
 * @param config Width, bottleneck, input side, channels and batch.
 * @returns FLOP per training step on the batch.
 */
export function bcduNetTrainingFlops(config: FlopsConfig): number {
  return 3 * bcduNetForwardFlops(config);
}
