import { assertEquals, AssertionError } from "../../tests/assert.ts";
import { random } from "../../tests/random_data.ts";
import { tf } from "./tfjs.ts";
import {
  forceFilterGradientStrategy,
  registerWasmTrainingKernels,
  setChunkElements,
  useHeapSliceCopy,
} from "./wasm_training_kernels.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

await import("@tensorflow/tfjs-backend-wasm");
await tf.setBackend("wasm");
await tf.ready();
registerWasmTrainingKernels();

type Inputs = Record<string, { data: Float32Array; shape: number[] }>;

/** Runs one kernel on a backend and reads the result back. */
async function runOn(
  backend: string,
  kernel: string,
  inputs: Inputs,
  attrs: tf.NamedAttrMap,
): Promise<{ data: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, { data, shape }] of Object.entries(inputs)) {
    tensors[name] = tf.tensor(data, shape);
  }
  const out = tf.engine().runKernel(kernel, tensors, attrs) as tf.Tensor;
  const result = { data: out.dataSync() as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (scale || 1);
}

async function assertMatchesCpu(kernel: string, inputs: Inputs, attrs: tf.NamedAttrMap) {
  const expected = await runOn("cpu", kernel, inputs, attrs);
  const actual = await runOn("wasm", kernel, inputs, attrs);
  assertEquals(actual.shape, expected.shape);
  const error = relativeError(actual.data, expected.data);
  assert(error < 1e-4, `${kernel} ${JSON.stringify(attrs)}: relative error ${error}`);
}

interface Case {
  batch: number;
  size: [number, number];
  kernel: number;
  stride: number | [number, number];
  pad: tf.NamedAttrMap["pad"];
  inChannels: number;
  outChannels: number;
}

/** Pads wider than the kernel, so some outputs see only padding. */
const WIDE_PADS: Case[] = [
  {
    batch: 2,
    size: [5, 5],
    kernel: 2,
    stride: 1,
    pad: [[0, 0], [4, 0], [0, 3], [0, 0]],
    inChannels: 2,
    outChannels: 3,
  },
  {
    batch: 2,
    size: [6, 5],
    kernel: 2,
    stride: 2,
    pad: [[0, 0], [3, 1], [0, 3], [0, 0]],
    inChannels: 2,
    outChannels: 3,
  },
];

const CASES: Case[] = [];
for (const batch of [1, 3]) {
  for (const kernel of [1, 2, 3]) {
    for (const stride of [1, 2]) {
      for (const pad of ["same", "valid"]) {
        CASES.push({ batch, size: [7, 5], kernel, stride, pad, inChannels: 3, outChannels: 5 });
      }
    }
  }
}
CASES.push(
  {
    batch: 2,
    size: [9, 6],
    kernel: 3,
    stride: 1,
    pad: [[0, 0], [2, 0], [1, 3], [0, 0]],
    inChannels: 2,
    outChannels: 4,
  },
  {
    batch: 2,
    size: [9, 8],
    kernel: 3,
    stride: 2,
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
    inChannels: 4,
    outChannels: 3,
  },
  { batch: 1, size: [8, 7], kernel: 4, stride: 2, pad: "same", inChannels: 3, outChannels: 2 },
  { batch: 2, size: [8, 9], kernel: 2, stride: [2, 1], pad: "same", inChannels: 3, outChannels: 4 },
  { batch: 1, size: [10, 7], kernel: 2, stride: 3, pad: "valid", inChannels: 2, outChannels: 3 },
  { batch: 2, size: [12, 12], kernel: 3, stride: 1, pad: "same", inChannels: 16, outChannels: 24 },
  ...WIDE_PADS,
);

function problem(c: Case, seed: number) {
  const strides = typeof c.stride === "number" ? [c.stride, c.stride] : c.stride;
  const xShape = [c.batch, ...c.size, c.inChannels];
  const filterShape = [c.kernel, c.kernel, c.inChannels, c.outChannels];
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides as [number, number],
    1,
    c.pad as "same",
  );
  const dyShape = info.outShape;
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    x: { data: random(size(xShape), seed), shape: xShape },
    dy: { data: random(size(dyShape), seed + 1), shape: dyShape },
    filter: { data: random(size(filterShape), seed + 2), shape: filterShape },
    attrs: { strides, pad: c.pad, dataFormat: "NHWC" },
    xShape,
    filterShape,
  };
}

const label = (c: Case) =>
  `b${c.batch} ${c.size.join("x")} k${c.kernel} s${c.stride} ${
    JSON.stringify(c.pad)
  } ${c.inChannels}->${c.outChannels}`;

Deno.test("Conv2DBackpropFilter matches cpu (every algorithm)", async (t) => {
  for (const strategy of ["conv", "im2col", "simd", "composed"] as const) {
    forceFilterGradientStrategy(strategy);
    try {
      for (const [i, c] of CASES.entries()) {
        await t.step(`${strategy} ${label(c)}`, async () => {
          const p = problem(c, 10 * i + 1);
          await assertMatchesCpu("Conv2DBackpropFilter", { x: p.x, dy: p.dy }, {
            ...p.attrs,
            filterShape: p.filterShape,
          });
        });
      }
    } finally {
      forceFilterGradientStrategy();
    }
  }
});

Deno.test("Conv2DBackpropInput matches cpu", async (t) => {
  for (const [i, c] of CASES.entries()) {
    await t.step(label(c), async () => {
      const p = problem(c, 10 * i + 3);
      await assertMatchesCpu("Conv2DBackpropInput", { dy: p.dy, filter: p.filter }, {
        ...p.attrs,
        inputShape: p.xShape,
      });
    });
  }
});

Deno.test("tiny chunk sizes give the same filter gradient", async (t) => {
  const chunked: Case[] = [
    { batch: 3, size: [9, 7], kernel: 3, stride: 2, pad: "same", inChannels: 3, outChannels: 4 },
    ...WIDE_PADS,
  ];
  for (const [i, c] of chunked.entries()) {
    const p = problem(c, 70 + i);
    const attrs = { ...p.attrs, filterShape: p.filterShape };
    // The first case has 5 × 4 outputs × 27 im2col rows = 540 elements per image.
    for (const elements of [1, 200, 1100]) {
      for (const strategy of ["conv", "im2col"] as const) {
        await t.step(`${label(c)}: ${strategy}, ${elements} elements`, async () => {
          const previous = setChunkElements(elements);
          forceFilterGradientStrategy(strategy);
          try {
            await assertMatchesCpu("Conv2DBackpropFilter", { x: p.x, dy: p.dy }, attrs);
          } finally {
            setChunkElements(previous);
            forceFilterGradientStrategy();
          }
        });
      }
    }
  }
});

for (const heap of [true, false]) {
  Deno.test(`Slice ${heap ? "heap to heap" : "through the stock kernel"}: ranks 1 to 4, int32 and bool, as cpu`, async () => {
    useHeapSliceCopy(heap);
    try {
      const x = { data: random(120, 7), shape: [2, 3, 4, 5] };
      await assertMatchesCpu("Slice", { x }, { begin: [1, 0, 1, 2], size: [1, 3, 2, 3] });
      await assertMatchesCpu("Slice", { x }, { begin: [0, 1, 0, 0], size: [2, 1, 4, 5] });
      await assertMatchesCpu("Slice", { x: { data: x.data, shape: [120] } }, {
        begin: 7,
        size: 50,
      });
      await assertMatchesCpu("Slice", { x: { data: x.data, shape: [8, 15] } }, {
        begin: [2, 3],
        size: [4, 0],
      });
      const read = async (backend: string, dtype: "int32" | "bool") => {
        await tf.setBackend(backend);
        const t = tf.tensor([0, 1, 2, 0, 4, 5, 0, 7, 8], [3, 3], dtype);
        const part = tf.slice(t, [1, 1], [2, 2]);
        const values = [part.dtype, Array.from(part.dataSync())];
        tf.dispose([t, part]);
        return values;
      };
      assertEquals(await read("wasm", "int32"), ["int32", [4, 5, 7, 8]]);
      assertEquals(await read("wasm", "bool"), await read("cpu", "bool"));
    } finally {
      useHeapSliceCopy(true);
      await tf.setBackend("wasm");
    }
  });
}

Deno.test("rank-reducing Slice, SplitV, Transpose, Reverse and Tile match cpu", async () => {
  const shape = [3, 2, 4, 5, 3];
  const x = { data: random(120 * 3, 5), shape };
  await assertMatchesCpu("Slice", { x }, { begin: [1, 1, 0, 0, 0], size: [2, 1, 4, 5, 3] });
  await assertMatchesCpu("Slice", { x }, { begin: [0, 0, 1, 2, 1], size: [3, 2, 2, 3, 2] });
  await assertMatchesCpu("Transpose", { x }, { perm: [1, 0, 2, 3, 4] });
  await assertMatchesCpu("Transpose", { x }, { perm: [4, 2, 3, 0, 1] });
  await assertMatchesCpu("Transpose", { x: { data: x.data, shape: [3, 1, 8, 15] } }, {
    perm: [2, 1, 3, 0],
  });
  await assertMatchesCpu("Reverse", { x }, { dims: [0] });
  await assertMatchesCpu("Reverse", { x }, { dims: [1, 3] });
  await assertMatchesCpu("Reverse", { x }, { dims: [4] });
  await assertMatchesCpu("Tile", { x: { data: random(4, 6), shape: [1, 1, 4] } }, {
    reps: [5, 3, 1],
  });
  await assertMatchesCpu("Tile", { x: { data: random(8, 6), shape: [2, 4] } }, { reps: [2, 3] });
  for (const backend of ["cpu", "wasm"]) await tf.setBackend(backend);
  const parts = async (backend: string) => {
    await tf.setBackend(backend);
    const t = tf.tensor(x.data, shape);
    const out = tf.split(t, [1, 1], 1).map((p) => Array.from(p.dataSync()));
    t.dispose();
    return out;
  };
  assertEquals(await parts("wasm"), await parts("cpu"));
});

/** A small conv net's loss gradients with respect to its variables. */
async function smallNetGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const v = (shape: number[], seed: number) =>
      tf.variable(tf.tensor(random(shape.reduce((a, b) => a * b, 1), seed), shape));
    const w1 = v([3, 3, 2, 4], 101);
    const w2 = v([2, 2, 4, 6], 102);
    const w3 = v([2, 2, 3, 6], 103);
    const w4 = v([1, 1, 3, 2], 104);
    const x = tf.tensor(random(2 * 9 * 7 * 2, 105), [2, 9, 7, 2]) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() => {
      let h = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same"));
      h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 2, "valid"));
      h = tf.conv2dTranspose(h, w3 as tf.Tensor4D, [2, 8, 6, 3], 2, "valid");
      h = tf.conv2d(h, w4 as tf.Tensor4D, 1, "same");
      return tf.mean(tf.square(h)) as tf.Scalar;
    }, [w1, w2, w3, w4]);
    const out = Object.values(grads).map((g) => g.dataSync() as Float32Array);
    tf.dispose([w1, w2, w3, w4]);
    return out;
  });
}

Deno.test("gradients of a small conv net match cpu", async () => {
  const expected = await smallNetGrads("cpu");
  const actual = await smallNetGrads("wasm");
  assertEquals(actual.length, expected.length);
  for (const [i, e] of expected.entries()) {
    const error = relativeError(actual[i], e);
    assert(error < 1e-4, `gradient ${i}: relative error ${error}`);
  }
});

Deno.test("the kernels free their temporaries", async () => {
  await tf.setBackend("wasm");
  const backend = tf.backend();
  const c: Case = {
    batch: 2,
    size: [7, 6],
    kernel: 3,
    stride: 2,
    pad: "same",
    inChannels: 3,
    outChannels: 4,
  };
  const p = problem(c, 91);
  const [x, dy, filter] = [p.x, p.dy, p.filter].map((t) => tf.tensor(t.data, t.shape));
  const before = backend.numDataIds();
  const previous = setChunkElements(50);
  try {
    for (const strategy of ["conv", "im2col", "simd", "composed"] as const) {
      forceFilterGradientStrategy(strategy);
      tf.dispose(
        tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
          ...p.attrs,
          filterShape: p.filterShape,
        }) as tf.Tensor,
      );
    }
    tf.dispose(
      tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, {
        ...p.attrs,
        inputShape: p.xShape,
      }) as tf.Tensor,
    );
    tf.tidy(() => {
      const seq = tf.tensor(random(2 * 3 * 4 * 5 * 2, 92), [2, 3, 4, 5, 2]);
      tf.reverse(seq, 1);
      tf.transpose(seq, [1, 0, 2, 3, 4]);
      tf.split(seq, 3, 1);
      tf.tile(tf.ones([1, 1, 4]), [3, 2, 1]);
      tf.tanh(seq);
    });
  } finally {
    setChunkElements(previous);
    forceFilterGradientStrategy();
  }
  assertEquals(backend.numDataIds(), before);
  tf.dispose([x, dy, filter]);
});

Deno.test("Tanh through the sigmoid matches cpu, saturates, and keeps its gradient", async () => {
  const data = Float32Array.from([...random(200, 7)].map((v, i) => (v - 0.5) * (i % 3 ? 8 : 80)));
  data.set([0, -0, 1e-8, 30, -30, 200, -200], 0);
  const expected = await runOn("cpu", "Tanh", { x: { data, shape: [4, 50] } }, {});
  const actual = await runOn("wasm", "Tanh", { x: { data, shape: [4, 50] } }, {});
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    worst = Math.max(worst, Math.abs(actual.data[i] - expected.data[i]));
  }
  assert(worst < 3e-7, `largest absolute error ${worst}`);
  assertEquals([actual.data[3], actual.data[4], actual.data[5], actual.data[6]], [1, -1, 1, -1]);
  const nan = await runOn("wasm", "Tanh", { x: { data: Float32Array.of(NaN), shape: [1] } }, {});
  assert(Number.isNaN(nan.data[0]), "NaN must stay NaN");
  const slope = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor(data.subarray(0, 50));
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.tanh(v)))(x);
    const out = g.dataSync() as Float32Array;
    tf.dispose([x, g]);
    return out;
  };
  const error = relativeError(await slope("wasm"), await slope("cpu"));
  assert(error < 1e-5, `gradient relative error ${error}`);
});

Deno.test("Identity shares its input's memory, which lives while either tensor does", async () => {
  await tf.setBackend("wasm");
  const backend = tf.backend();
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const before = backend.numDataIds();
  const y = tf.clone(x);
  assertEquals(backend.numDataIds(), before); // the stock kernel allocated a copy
  assertEquals(y.dataId, x.dataId);
  x.dispose();
  assertEquals(Array.from(y.dataSync()), [1, 2, 3, 4]);
  assertEquals(backend.numDataIds(), before);
  y.dispose();
  assertEquals(backend.numDataIds(), before - 1);
});

Deno.test("registration is idempotent", () => {
  assertEquals(registerWasmTrainingKernels(), []);
  assert(tf.getKernel("Conv2DBackpropFilter", "wasm"), "no Conv2DBackpropFilter");
});
