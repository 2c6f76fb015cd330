import { type BcduNetConfig, buildBcduNet } from "./_bcdunet.ts";
import { bcduNetOptions } from "./stages/bcdunet.ts";
import { type Tf, tf } from "../../mod.ts";
import { assertEquals, assertThrows } from "../../tests/assert.ts";

await tf.setBackend("cpu");

const config = (width: number, dense: 1 | 3 = 1, seed = 7): BcduNetConfig => ({
  width,
  dense,
  dropout: 0.5,
  seed,
});

// Parameter count by hand, layer by layer, for width w, one input channel:
//   conv k×k, i→o:            k·k·i·o + o   (kernel + bias)
//   transpose conv 2×2, i→o:  2·2·o·i + o
//   batch norm over c:        4·c           (gamma, beta, moving mean, moving variance)
//   ConvLSTM 3×3, i→h:        4·(3·3·(i + h)·h) + 4·h
// Width 64, dense 1, 64×64×1 input:
//   encoder   conv 1→64 640, 64→64 36,928, 64→128 73,856, 128→128 147,584,
//             128→256 295,168, 256→256 590,080                        = 1,144,256
//   bottleneck conv 256→512 1,180,160, 512→512 2,359,808              = 3,539,968
//   up 1      deconv 512→256 524,544, BN 1,024, ConvLSTM 256→128 1,769,984,
//             conv 128→256 295,168, 256→256 590,080                   = 3,180,800
//   up 2      deconv 256→128 131,200, BN 512, ConvLSTM 128→64 442,624,
//             conv 64→128 73,856, 128→128 147,584                     =   795,776
//   up 3      deconv 128→64 32,832, BN 256, ConvLSTM 64→32 110,720,
//             conv 32→64 18,496, 64→64 36,928                         =   199,232
//   head      conv 64→2 1,154, conv 1×1 2→1 3                         =     1,157
//   total                                                             = 8,861,189 (8.86 M)
// Dense 3 adds block 2 (two 512→512 convs, 4,719,616) and block 3 on the 1,024-channel
// concat (1024→512 4,719,104 and 512→512 2,359,808): 11,798,528 = 45·512² + 4·512.
const conv = (k: number, i: number, o: number) => k * k * i * o + o;
const lstm = (i: number, h: number) => 4 * (3 * 3 * (i + h) * h) + 4 * h;

function handCount(w: number, dense: 1 | 3, channels = 1, skip = "convlstm"): number {
  let n = conv(3, channels, w) + conv(3, w, w) + conv(3, w, 2 * w) + conv(3, 2 * w, 2 * w) +
    conv(3, 2 * w, 4 * w) + conv(3, 4 * w, 4 * w);
  const b = 8 * w;
  n += conv(3, 4 * w, b) + conv(3, b, b);
  if (dense === 3) n += conv(3, b, b) + conv(3, b, b) + conv(3, 2 * b, b) + conv(3, b, b);
  let from = b;
  for (const f of [4 * w, 2 * w, w]) {
    // deconv, batch norm (4 per channel), then the ConvLSTM into f/2, or both maps (2f) concatenated
    n += 2 * 2 * f * from + f + 4 * f + conv(3, f, f) +
      (skip === "convlstm" ? lstm(f, f / 2) + conv(3, f / 2, f) : conv(3, 2 * f, f));
    from = f;
  }
  return n + conv(3, w, 2) + conv(1, 2, 1);
}

/**
 * The shared runtime with a cheap stand-in for the orthogonal initialiser. tfjs builds an
 * orthogonal matrix by a QR decomposition made of tensor ops; for the width-64 network's
 * ConvLSTM recurrent kernels (up to 1,152×512) that takes minutes on the cpu backend (measured
 * here: 3×3×64×256 alone 81 s), and the parameter count does not depend on the values.
 */
const cheapTf = {
  ...tf,
  initializers: { ...tf.initializers, orthogonal: () => tf.initializers.zeros() },
} as unknown as Tf;

Deno.test("buildBcduNet() at width 64, dense 1 for 64×64×1 has 8,861,189 parameters (8.86 M)", () => {
  assertEquals(handCount(64, 1), 8_861_189);
  const model = buildBcduNet(cheapTf, config(64), 64, 1);
  try {
    assertEquals(model.countParams(), 8_861_189);
    assertEquals(Math.round(model.countParams() / 1e4) / 100, 8.86);
    const lstmWeights = model.getLayer("up1_convlstm").getWeights().map((w) => w.shape);
    assertEquals(lstmWeights, [[3, 3, 256, 512], [3, 3, 128, 512], [512]]);
  } finally {
    model.dispose();
  }
});

Deno.test("buildBcduNet() at dense 3 has 45·(8w)² + 4·(8w) more parameters than dense 1", () => {
  const one = buildBcduNet(cheapTf, config(64, 1), 64, 1);
  const three = buildBcduNet(cheapTf, config(64, 3), 64, 1);
  try {
    assertEquals(three.countParams() - one.countParams(), 11_798_528);
    assertEquals(three.countParams(), handCount(64, 3));
  } finally {
    one.dispose();
    three.dispose();
  }
  // And at a tiny width with the real initialisers: b = 16, 45·256 + 64 = 11,584.
  const small1 = buildBcduNet(tf, config(2, 1), 16, 1);
  const small3 = buildBcduNet(tf, config(2, 3), 16, 1);
  try {
    assertEquals(small3.countParams() - small1.countParams(), 11_584);
  } finally {
    small1.dispose();
    small3.dispose();
  }
});

Deno.test("buildBcduNet() matches the hand count at small widths and with 3 input channels", () => {
  for (const [w, channels] of [[2, 1], [4, 1], [2, 3]]) {
    const model = buildBcduNet(tf, config(w), 16, channels);
    try {
      assertEquals(model.countParams(), handCount(w, 1, channels), `width ${w}, ${channels} ch`);
    } finally {
      model.dispose();
    }
  }
});

for (const size of [32, 48]) {
  Deno.test(`buildBcduNet() for ${size}×${size} maps [n, ${size}, ${size}, 1] to probabilities of the same shape`, () => {
    const model = buildBcduNet(tf, config(2), size, 1);
    try {
      assertEquals(model.inputs[0].shape, [null, size, size, 1]);
      assertEquals(model.outputs[0].shape, [null, size, size, 1]);
      const values = tf.tidy(() => {
        const x = tf.randomUniform([2, size, size, 1], 0, 1, "float32", 3);
        const y = model.predict(x) as import("@tensorflow/tfjs").Tensor;
        assertEquals(y.shape, [2, size, size, 1]);
        return y.dataSync() as Float32Array;
      });
      assertEquals(values.length, 2 * size * size);
      assertEquals(values.every((v) => v > 0 && v < 1), true);
    } finally {
      model.dispose();
    }
  });
}

Deno.test("buildBcduNet() throws a RangeError for a side that is not a positive multiple of 8", () => {
  for (const size of [36, 4, 0, -8]) {
    assertThrows(
      () => buildBcduNet(tf, config(2), size, 1),
      RangeError,
      `Cannot build BCDU-Net for ${size}×${size} inputs: the side must be a positive multiple of 8`,
    );
  }
});

Deno.test("buildBcduNet() throws a RangeError for an odd width (the ConvLSTMs take half the filters)", () => {
  assertThrows(() => buildBcduNet(tf, config(3), 16, 1), RangeError, "width 3");
  // The stage's options turn an odd width away before anything is built.
  assertEquals(bcduNetOptions.safeParse({ width: 3 }).success, false);
  assertEquals(bcduNetOptions.safeParse({ width: 1 }).success, false);
  assertEquals(bcduNetOptions.parse({ width: 2 }).width, 2);
});

function weightsOf(model: import("@tensorflow/tfjs").LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

Deno.test("buildBcduNet() gives identical initial weights for one seed and others for another", () => {
  const [a, b, c] = [7, 7, 8].map((seed) => buildBcduNet(tf, config(2, 1, seed), 16, 1));
  try {
    const [wa, wb, wc] = [a, b, c].map(weightsOf);
    assertEquals(wa.length, wb.length);
    const names = a.weights.map((w) => w.name);
    wa.forEach((w, i) => assertEquals(w, wb[i], names[i]));
    const differ = names.filter((_, i) => wa[i].join() !== wc[i].join());
    // Every kernel is random (He-normal, orthogonal, Glorot); biases and batch-norm
    // statistics start constant.
    for (const name of names.filter((n) => /kernel/.test(n))) {
      assertEquals(differ.includes(name), true, `${name} is the same for seeds 7 and 8`);
    }
    assertEquals(differ.every((n) => /kernel/.test(n)), true, differ.join());
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

Deno.test("buildBcduNet() with skip concat has U-Net's concatenations and the hand count", () => {
  const model = buildBcduNet(tf, { ...config(4), skip: "concat" }, 16, 1);
  try {
    assertEquals(model.countParams(), handCount(4, 1, 1, "concat"));
    assertEquals(model.layers.some((l) => l.name.includes("convlstm")), false);
    assertEquals(model.getLayer("up1_skip_concat").outputShape, [null, 4, 4, 32]);
    // The layers both variants share start from the same weights.
    const lstm = buildBcduNet(tf, config(4), 16, 1);
    assertEquals(
      Array.from(model.getLayer("head_sigmoid").getWeights()[0].dataSync()),
      Array.from(lstm.getLayer("head_sigmoid").getWeights()[0].dataSync()),
    );
    lstm.dispose();
  } finally {
    model.dispose();
  }
});

Deno.test("buildBcduNet() with batchNorm puts BN between each 3×3 convolution and its ReLU", () => {
  // Each of the 15 3×3 convolutions (filters 44w + 2 in all) drops its bias (−1 per
  // filter) and gains a batch norm (+4 per filter): 3·(44w + 2) more parameters.
  const w = 4;
  const model = buildBcduNet(tf, { ...config(w), batchNorm: true }, 16, 1);
  try {
    assertEquals(model.countParams(), handCount(w, 1) + 3 * (44 * w + 2));
    const names = model.layers.map((l) => l.name);
    const i = names.indexOf("down1_conv1");
    assertEquals(names.slice(i, i + 3), ["down1_conv1", "down1_conv1_bn", "down1_conv1_relu"]);
    assertEquals(model.getLayer("head_conv_bn").getWeights()[0].shape, [2]);
    const y = tf.tidy(() =>
      (model.predict(tf.randomUniform([2, 16, 16, 1], 0, 1, "float32", 5)) as tf.Tensor)
        .dataSync()
    );
    assertEquals(y.every((v) => v > 0 && v < 1), true);
  } finally {
    model.dispose();
  }
});
