/**
 * A convolutional LSTM layer, the same function as `tf.layers.convLstm2d`
 * (3 gates with hard-sigmoid activation, a tanh candidate and output, the
 * forget gate's bias starting at 1, same padding, last state only) with the
 * same weights (`kernel [k, k, C, 4F]`, `recurrent_kernel [k, k, F, 4F]`,
 * `bias [4F]`, gates in the order i, f, c, o), computed in far fewer kernels:
 *
 * - tfjs's cell splits both kernels into the four gates and runs eight
 *   convolutions of `F` output channels per step; this layer runs one input
 *   convolution of `4F` channels for all steps at once (the steps stacked on
 *   the batch axis) and one recurrent convolution per step;
 * - the recurrent convolution of the first step is skipped: the state starts
 *   at zero, so it contributes nothing;
 * - on `wasm` and `cpu` the gates' arithmetic after the convolutions is one
 *   kernel per step (`lstm_cell.ts`), its gradient two.
 *
 * Fewer, larger convolutions suit XNNPACK and split better across threads;
 * BCDU-Net's skips are two-step sequences, where the rewrite halves the
 * layer's kernels and their gradients.
 *
 * @module
 */
import { tf } from "../../../mod.ts";
import { hasLstmCell, lstmCell, registerLstmCellKernels } from "./lstm_cell.ts";

registerLstmCellKernels();

/** Options of {@link ConvLstm2d}. */
export interface ConvLstm2dArgs {
  /** Output channels `F`. */
  readonly filters: number;
  /** Square kernel side (same padding). */
  readonly kernelSize: number;
  /** Process the sequence last step first (Keras' `go_backwards`). */
  readonly goBackwards?: boolean;
  /** Initialises `kernel` (default zeros: weights loaded from a file replace it). */
  readonly kernelInitializer?: Initializer;
  /** Initialises `recurrent_kernel` (default zeros). */
  readonly recurrentInitializer?: Initializer;
  /** The layer's name (prefix of its weights' names). */
  readonly name?: string;
  /**
   * Compute the gates' arithmetic in one kernel where the backend has it
   * (`lstm_cell.ts`; default true). False: always in tensor ops, as a reference.
   */
  readonly fusedCell?: boolean;
}

type Initializer = ReturnType<typeof tf.initializers.zeros>;
type LayerVariable = ReturnType<tf.layers.Layer["addWeight"]>;

/** Keras' hard sigmoid, as tfjs-layers computes it: clip(0.2 x + 0.5, 0, 1). */
function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
}

/**
 * A ConvLSTM2D over `[batch, steps, height, width, channels]` returning the
 * last hidden state `[batch, height, width, filters]`.
 */
export class ConvLstm2d extends tf.layers.Layer {
  /** The name model files use for this layer type. */
  static className = "CapillaryConvLSTM2D";
  readonly filters: number;
  readonly kernelSize: number;
  readonly goBackwards: boolean;
  readonly fusedCell: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly recurrentInitializer: Initializer;
  private kernel?: LayerVariable;
  private recurrentKernel?: LayerVariable;
  private bias?: LayerVariable;

  constructor(args: ConvLstm2dArgs) {
    super({ name: args.name });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.goBackwards = args.goBackwards ?? false;
    this.fusedCell = args.fusedCell ?? true;
    this.kernelInitializer = args.kernelInitializer ?? tf.initializers.zeros();
    this.recurrentInitializer = args.recurrentInitializer ?? tf.initializers.zeros();
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    if (shape.length !== 5 || shape[4] === null) {
      throw new RangeError(
        `${this.name} needs [batch, steps, height, width, channels] inputs with known channels, not [${
          shape.join(", ")
        }]`,
      );
    }
    const [k, f] = [this.kernelSize, this.filters];
    this.kernel = this.addWeight(
      "kernel",
      [k, k, shape[4], 4 * f],
      "float32",
      this.kernelInitializer,
    );
    this.recurrentKernel = this.addWeight(
      "recurrent_kernel",
      [k, k, f, 4 * f],
      "float32",
      this.recurrentInitializer,
    );
    this.bias = this.addWeight("bias", [4 * f], "float32", tf.initializers.zeros());
    // Keras' unit_forget_bias: the forget gate starts open.
    this.bias.write(
      tf.tidy(() => tf.concat([tf.zeros([f]), tf.ones([f]), tf.zeros([2 * f])])),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = inputShape as tf.Shape;
    return [shape[0], shape[2], shape[3], this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const sequence = Array.isArray(inputs) ? inputs[0] : inputs;
      const [batch, steps, height, width, channels] = sequence.shape;
      const f = this.filters;
      // All steps' input convolutions at once: [batch · steps, h, w, 4F].
      const stacked = tf.reshape(sequence, [batch * steps, height, width, channels]);
      const inputGates = tf.reshape(
        tf.add(
          tf.conv2d(stacked as tf.Tensor4D, this.kernel!.read() as tf.Tensor4D, 1, "same"),
          this.bias!.read(),
        ),
        [batch, steps, height, width, 4 * f],
      );
      // Slices, not unstack: its gradient cannot handle a single step.
      const perStep = Array.from(
        { length: steps },
        (_, t) =>
          tf.reshape(
            tf.slice(inputGates, [0, t, 0, 0, 0], [batch, 1, height, width, 4 * f]),
            [batch, height, width, 4 * f],
          ),
      );
      const order = [...perStep.keys()];
      if (this.goBackwards) order.reverse();
      let h: tf.Tensor | undefined;
      let c: tf.Tensor | undefined;
      // The gate arithmetic as one kernel where the backend has it (wasm, cpu, webgpu), else in ops.
      const fused = this.fusedCell && hasLstmCell();
      for (const t of order) {
        const gates = h === undefined ? perStep[t] : tf.add(
          perStep[t],
          tf.conv2d(h as tf.Tensor4D, this.recurrentKernel!.read() as tf.Tensor4D, 1, "same"),
        );
        if (fused) {
          [h, c] = lstmCell(gates, c);
          continue;
        }
        const [zi, zf, zc, zo] = tf.split(gates, 4, 3);
        const candidate = tf.mul(hardSigmoid(zi), tf.tanh(zc));
        c = c === undefined ? candidate : tf.add(tf.mul(hardSigmoid(zf), c), candidate);
        h = tf.mul(hardSigmoid(zo), tf.tanh(c));
      }
      return h!;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      goBackwards: this.goBackwards,
      fusedCell: this.fusedCell,
    };
  }
}

tf.serialization.registerClass(ConvLstm2d);
