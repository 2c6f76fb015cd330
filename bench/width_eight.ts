/**
 * The training step the kernel benchmarks time: drive.yaml's width-8
 * BCDU-Net (batch norm after every convolution) on 8 random patches of 48×48,
 * as each process of its data-parallel step trains them.
 *
 * @module
 */
import { tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";

/**
 * The width-8 network, compiled with `optimizer` and binary cross-entropy.
 *
 * @param optimizer Its optimizer.
 * @param skip ConvLSTM skips (drive.yaml's) or U-Net concatenation.
 * @returns The network.
 */
export function widthEightNet(
  optimizer: tf.Optimizer,
  skip: "convlstm" | "concat" = "convlstm",
): tf.LayersModel {
  const config = { width: 8, dense: 1 as const, dropout: 0.5, seed: 1, batchNorm: true, skip };
  const net = buildBcduNet(tf, config, 48, 1);
  net.compile({ optimizer, loss: "binaryCrossentropy" });
  return net;
}

/**
 * 8 patches of 48×48 and their masks (a tenth of the pixels vessels), the same
 * in every run (seeded).
 *
 * @returns `[patches, vessels]`.
 */
export function widthEightBatch(): [tf.Tensor, tf.Tensor] {
  const patches = tf.randomUniform([8, 48, 48, 1], 0, 1, "float32", 1);
  const vessels = tf.tidy(() =>
    tf.randomUniform([8, 48, 48, 1], 0, 1, "float32", 2).greater(0.9).cast("float32")
  );
  return [patches, vessels];
}
