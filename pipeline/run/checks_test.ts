import { assertEquals, assertThrows } from "../../tests/assert.ts";
import type { Raster, Sample, SegmentationData } from "../data.ts";
import { DataError, StageError } from "../errors.ts";
import {
  checkAugmentedBatch,
  checkBuiltNetwork,
  checkEvaluation,
  checkModelSpec,
  checkSegmentationData,
  checkTrainedModel,
  maskWarnings,
} from "./checks.ts";
import type { Evaluation, ModelSpec, PatchBatch, TrainedModel } from "../stage.ts";
import { assertRejects } from "../../tests/assert.ts";
import { loadBackend } from "../backend/select.ts";
import { tf } from "../backend/tfjs.ts";

await loadBackend("cpu");

function raster(width: number, height: number, values: number[], channels = 1): Raster {
  return { width, height, channels, data: Float32Array.from(values) };
}

/** A 2×2 sample with a valid grey image, mask and region. */
function sample(id: string, change: Partial<Sample> = {}): Sample {
  return {
    id,
    image: raster(2, 2, [0, 0.25, 0.5, 1]),
    mask: raster(2, 2, [0, 1, 1, 0]),
    roi: raster(2, 2, [1, 1, 1, 1]),
    source: `images/${id}.tif`,
    ...change,
  };
}

function data(train: Sample[], test: Sample[] = [sample("t1")]): SegmentationData {
  return { name: "toy", train, test };
}

Deno.test("checkSegmentationData() accepts consistent data", () => {
  const extra = { "2nd_manual": raster(2, 2, [1, 0, 0, 1]) };
  checkSegmentationData(data([sample("a"), sample("b")], [sample("t1", { extra })]), true);
  // Outside [0, 1] is fine before preprocessing.
  checkSegmentationData(data([sample("a", { image: raster(2, 2, [0, 255, 17, 3]) })]), false);
  // RGB images, as long as all agree.
  const rgb = raster(2, 2, Array(12).fill(0.5), 3);
  checkSegmentationData(data([sample("a", { image: rgb })], [sample("t1", { image: rgb })]), true);
  // One id in both splits, from different files: many data sets number each split from 1.
  checkSegmentationData(data([sample("1")], [sample("1", { source: "test/1.tif" })]), true);
  // Grey beside colour, before a preprocessing stage that may convert them (the same data is
  // refused where the network would see it: below).
  checkSegmentationData(data([sample("a")], [sample("t1", { image: rgb })]), false, false);
});

Deno.test("checkSegmentationData() rejects faulty data, naming the sample and the fault", () => {
  const cases: [string, SegmentationData, boolean, string][] = [
    [
      "a mask of another size",
      data([sample("a"), sample("b", { mask: raster(3, 2, [0, 1, 0, 1, 0, 1]) })]),
      false,
      'sample "b" (images/b.tif): mask is 3×2×1 but the image is 2×2',
    ],
    [
      "a region of another size",
      data([sample("a", { roi: raster(2, 1, [1, 1]) })]),
      false,
      'sample "a" (images/a.tif): region is 2×1×1 but the image is 2×2',
    ],
    [
      "a mask with three channels",
      data([sample("a", { mask: raster(2, 2, Array(12).fill(1), 3) })]),
      false,
      'sample "a" (images/a.tif): mask is 2×2×3 but the image is 2×2',
    ],
    [
      "an extra annotation of another size",
      data([sample("a")], [sample("t1", { extra: { second: raster(1, 1, [1]) } })]),
      false,
      'sample "t1" (images/t1.tif): second is 1×1×1 but the image is 2×2',
    ],
    [
      "a mask that is not binary",
      data([sample("a", { mask: raster(2, 2, [0, 1, 0.5, 0]) })]),
      false,
      'sample "a" (images/a.tif): mask must hold only 0 and 1, found 0.5',
    ],
    [
      "a region that is not binary",
      data([sample("a", { roi: raster(2, 2, [1, 1, 255, 1]) })]),
      false,
      'sample "a" (images/a.tif): region must hold only 0 and 1, found 255',
    ],
    [
      "a NaN image value",
      data([sample("a")], [sample("t1", { image: raster(2, 2, [0, NaN, 0, 0]) })]),
      false,
      'sample "t1" (images/t1.tif): image value NaN at index 1 is not finite',
    ],
    [
      "an infinite image value",
      data([sample("a", { image: raster(2, 2, [0, 0, 0, -Infinity]) })]),
      false,
      "image value -Infinity at index 3 is not finite",
    ],
    [
      "a value above 1 when the range must be [0, 1]",
      data([sample("a", { image: raster(2, 2, [0, 0, 1.5, 0]) })]),
      true,
      'sample "a" (images/a.tif): image value 1.5 at index 2 is outside [0, 1]',
    ],
    [
      "a value below 0 when the range must be [0, 1]",
      data([sample("a", { image: raster(2, 2, [-0.25, 0, 0, 0]) })]),
      true,
      "image value -0.25 at index 0 is outside [0, 1]",
    ],
    ["no training samples", data([]), false, 'data set "toy" has no training samples'],
    ["no test samples", data([sample("a")], []), false, 'data set "toy" has no test samples'],
    [
      "one file both a training and a test sample",
      data([sample("a"), sample("b")], [sample("a")]),
      false,
      'data set "toy": images/a.tif is both a training and a test sample; the test images must be others (check the loader\'s test pattern)',
    ],
    [
      "two training samples of one id",
      data([sample("a"), sample("a", { source: "other/a.tif" })]),
      false,
      'data set "toy" has two training samples "a" (images/a.tif and other/a.tif); ids must differ within a split',
    ],
    [
      "an empty region of interest",
      data([sample("a", { roi: raster(2, 2, [0, 0, 0, 0]) })]),
      false,
      'sample "a" (images/a.tif): its region of interest (field of view) is empty: no pixel is inside. Check its FOV mask (white inside the field of view), or let the loader take the whole image or estimate the field of view',
    ],
    [
      "an image whose data does not match its size",
      data([sample("a", { image: raster(2, 2, [0, 0, 0]) })]),
      false,
      'sample "a" (images/a.tif): image has 3 values for 2×2×1',
    ],
    [
      "images with different channel counts",
      data([sample("a")], [sample("t1", { image: raster(2, 2, Array(12).fill(0), 3) })]),
      false,
      'sample "t1" (images/t1.tif): image has 3 channels (colour), earlier images 1 channel (grey); give every image the same kind (a colour file whose pixels all have R = G = B reads as grey)',
    ],
    [
      "a sample without a source",
      data([{ ...sample("a", { mask: raster(2, 2, [2, 0, 0, 0]) }), source: undefined }]),
      false,
      'sample "a": mask must hold only 0 and 1, found 2',
    ],
  ];
  for (const [what, input, unitRange, says] of cases) {
    const error = assertThrows(() => checkSegmentationData(input, unitRange), DataError, says);
    assertEquals(error.code, "E_DATA", what);
  }
});

Deno.test("checkModelSpec() and checkEvaluation() name the stage at fault", () => {
  checkModelSpec({ name: "n", build: () => undefined as never }, "x/net");
  assertThrows(
    () => checkModelSpec({ name: "n" } as unknown as ModelSpec, "x/net"),
    StageError,
    'Stage "x/net" failed: returned no model spec',
  );
  checkEvaluation({ metrics: { auc: 0.9, f1: 0 } }, "x/score");
  for (const value of [NaN, Infinity, "0.9"]) {
    assertThrows(
      () => checkEvaluation({ metrics: { auc: 0.9, f1: value as number } }, "x/score"),
      StageError,
      `Stage "x/score" failed: metric "f1" is ${value}`,
    );
  }
});

Deno.test("checkEvaluation() checks per-image, reference and chosen-threshold numbers too", () => {
  const good: Evaluation = {
    metrics: { auc: 0.9, f1: 0.8 },
    references: { paper: { auc: 0.97 } },
    perImage: [{ id: "01", metrics: { auc: 0.9, dice: 0.8 } }, { id: "02", metrics: { dice: 0 } }],
    chosenThreshold: { threshold: 0.43, chosenOn: "2 validation images", metrics: { f1: 0.81 } },
  };
  checkEvaluation(good, "x/score");
  const cases: [Evaluation, string][] = [
    [{ ...good, references: { paper: { auc: NaN } } }, 'metric "auc" of reference "paper" is NaN'],
    [
      {
        ...good,
        perImage: [{ id: "01", metrics: { dice: 0.8 } }, { id: "02", metrics: { iou: -Infinity } }],
      },
      'metric "iou" of image "02" is -Infinity',
    ],
    [
      { ...good, perImage: [{ id: 7, metrics: {} }] } as unknown as Evaluation,
      "returned a perImage entry without a string id",
    ],
    [
      { ...good, chosenThreshold: { ...good.chosenThreshold!, threshold: NaN } },
      "chosen threshold is NaN",
    ],
    [
      {
        ...good,
        atReferencePoints: {
          paper: {
            atSpecificity: { threshold: 0.6, sensitivity: NaN, specificity: 0.98 },
            atSensitivity: { threshold: 0.4, sensitivity: 0.7, specificity: 0.97 },
          },
        },
      },
      'returned an atSpecificity point of reference "paper" that is not numbers',
    ],
    [
      { ...good, chosenThreshold: { ...good.chosenThreshold!, metrics: { f1: Infinity } } },
      'metric "f1" at the chosen threshold 0.43 is Infinity',
    ],
  ];
  for (const [evaluation, says] of cases) {
    assertThrows(
      () => checkEvaluation(evaluation, "x/score"),
      StageError,
      `"x/score" failed: ${says}`,
    );
  }
});

Deno.test("maskWarnings() names masks that cover most of their region, per split, at most three", () => {
  const inverted = (id: string) => sample(id, { mask: raster(2, 2, [1, 1, 1, 0]) });
  // Half exactly is not more than half; outside the region does not count.
  const half = sample("h", { mask: raster(2, 2, [1, 1, 0, 0]) });
  const outside = sample("o", {
    mask: raster(2, 2, [1, 1, 1, 0]),
    roi: raster(2, 2, [0, 0, 1, 1]),
  });
  assertEquals(maskWarnings(data([half, outside])), []);
  assertEquals(
    maskWarnings(data([sample("a")], ["w", "x", "y", "z"].map(inverted))),
    [
      "test masks covering more than half of their region: 4 of 4 (images/w.tif, images/x.tif, " +
      "images/y.tif, …); masks usually mark the smaller class: are they inverted (white must be " +
      "the object)?",
    ],
  );
});

Deno.test("checkModelSpec() refuses a built network and a spec without a name", () => {
  const built = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  assertThrows(
    () => checkModelSpec(built as unknown as ModelSpec, "x/net"),
    StageError,
    'Stage "x/net" failed: returned a built network, not a model spec; a model stage returns a ' +
      "spec { name, build(size, channels) }",
  );
  built.dispose();
  assertThrows(
    () => checkModelSpec({ build: () => undefined } as unknown as ModelSpec, "x/net"),
    StageError,
    "returned a model spec without a name",
  );
});

/** A one-layer network: `filters` 3×3 convolutions over an 8×8×`channels` input. */
function network(
  options: { filters?: number; padding?: "same" | "valid"; activation?: string; channels?: number },
): tf.LayersModel {
  const { filters = 1, padding = "same", activation = "sigmoid", channels = 1 } = options;
  const input = tf.input({ shape: [8, 8, channels] });
  const output = tf.layers.conv2d({
    filters,
    kernelSize: 3,
    padding,
    activation: activation as "sigmoid",
    name: "head",
  }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

Deno.test("checkBuiltNetwork() accepts one sigmoid map the size of the input", () => {
  checkBuiltNetwork(network({}), 8, 1, "x/net");
  checkBuiltNetwork(network({ activation: "hardSigmoid", channels: 3 }), 8, 3, "x/net");
});

Deno.test("checkBuiltNetwork() names the model stage and what its network gets wrong", () => {
  const cases: [tf.LayersModel | undefined, number, number, string][] = [
    [undefined, 8, 1, "gave no tfjs LayersModel"],
    [network({ filters: 2 }), 8, 1, "mapping [batch, 8, 8, 1] to [batch, 8, 8, 2]"],
    [network({ padding: "valid" }), 8, 1, "mapping [batch, 8, 8, 1] to [batch, 6, 6, 1]"],
    [network({}), 16, 1, "its build(16, 1) gave a network taking [batch, 8, 8, 1]"],
    [network({}), 8, 3, "it must take [batch, 8, 8, 3]"],
    [network({ activation: "linear" }), 8, 1, 'output layer "head" has activation "linear"'],
    [network({ activation: "relu" }), 8, 1, 'end with activation: "sigmoid"'],
  ];
  for (const [built, size, channels, says] of cases) {
    assertThrows(
      () => checkBuiltNetwork(built as tf.LayersModel, size, channels, "x/net"),
      StageError,
      says,
    );
    built?.dispose();
  }
});

/** Two 2×2 one-channel patches, images in [0, 1], binary masks and regions. */
function batch(): PatchBatch {
  return {
    images: Float32Array.of(0, 0.25, 0.5, 1, 1, 0.5, 0.25, 0),
    masks: Float32Array.of(0, 1, 1, 0, 1, 1, 0, 0),
    rois: Float32Array.of(1, 1, 1, 1, 1, 1, 1, 0),
    count: 2,
    size: 2,
    channels: 1,
  };
}

Deno.test("checkAugmentedBatch() refuses non-finite images, and images leaving [0, 1]", () => {
  const input = batch();
  checkAugmentedBatch({ ...input, images: input.images.map((v) => 1 - v) }, input, "x/aug");
  const cases: [number, number, string][] = [
    [5, NaN, "returned images holding NaN (patch 2 of 2); its images must stay finite"],
    [0, -Infinity, "returned images holding -Infinity (patch 1 of 2)"],
    [
      3,
      1.5,
      "returned images holding 1.5 (patch 1 of 2), outside [0, 1] where its input was; clip",
    ],
    [4, -0.1, "returned images holding -0.1 (patch 2 of 2)"],
  ];
  for (const [index, value, says] of cases) {
    const images = Float32Array.from(input.images);
    images[index] = value;
    assertThrows(
      () => checkAugmentedBatch({ ...input, images }, input, "x/aug"),
      StageError,
      `Stage "x/aug" failed: its augmentation ${says}`,
    );
  }
  // An input already outside [0, 1] (no preprocessing) may stay outside; NaN still may not.
  const raw = { ...input, images: input.images.map((v) => v * 255) };
  checkAugmentedBatch({ ...raw, images: raw.images.map((v) => v + 3) }, raw, "x/aug");
});

Deno.test("checkAugmentedBatch() refuses masks and regions that are not 0 and 1", () => {
  const input = batch();
  assertThrows(
    () => checkAugmentedBatch({ ...input, masks: input.masks.map((v) => v * 0.5) }, input, "x/aug"),
    StageError,
    "returned masks holding 0.5 (patch 1 of 2); masks and rois must stay 0 or 1: move them as " +
      "the images, with nearest-pixel sampling",
  );
  const rois = Float32Array.from(input.rois!);
  rois[7] = 0.25; // bilinear resampling at an edge
  assertThrows(
    () => checkAugmentedBatch({ ...input, rois }, input, "x/aug"),
    StageError,
    "returned rois holding 0.25 (patch 2 of 2)",
  );
});

Deno.test("checkSegmentationData() names what a data set of the wrong shape misses", () => {
  const contract = "; a load or preprocess stage returns a data set { name, train, test }: two " +
    "lists of samples { id, image, mask, roi }";
  const cases: [unknown, string][] = [
    [undefined, `returned undefined, not a data set${contract}`],
    [
      { train: [], test: [] },
      `returned a data set whose name is undefined, not a string${contract}`,
    ],
    [{ name: "n", train: [sample("a")] }, `data set "n" has no list \`test\` (it is undefined)`],
    [{ name: "n", train: {}, test: [] }, `data set "n" has no list \`train\` (it is an object)`],
    [data([sample("a")], [null as never]), `data set "toy": test[0] is null${contract}`],
    [
      data([{ ...sample("a"), id: 3 as never }]),
      `data set "toy": train[0] is a sample without a string id${contract}`,
    ],
    [
      data([sample("a", { roi: undefined as never })]),
      `sample "a" (images/a.tif): its region is undefined, not a raster${contract}`,
    ],
    [
      data([sample("a", { mask: { width: 2, height: 2, channels: 1 } as never })]),
      `sample "a" (images/a.tif): its mask's data is undefined, not a list of values${contract}`,
    ],
  ];
  for (const [input, says] of cases) {
    assertThrows(
      () => checkSegmentationData(input as SegmentationData, true),
      DataError,
      says,
    );
  }
});

Deno.test("checkTrainedModel() names what a trained model of the wrong shape misses", async () => {
  const input = tf.input({ shape: [4, 4, 1] });
  const network = tf.model({
    inputs: input,
    outputs: tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: "sigmoid" })
      .apply(input) as import("@tensorflow/tfjs").SymbolicTensor,
  });
  try {
    const spec: ModelSpec = { name: "n", build: () => network };
    const good: TrainedModel = { spec, model: network, patchSize: 4, channels: 1 };
    await checkTrainedModel(good, "x/fit");
    const contract = "; a train stage returns a trained model { spec, model, patchSize, channels }";
    const cases: [unknown, string][] = [
      [undefined, `returned undefined, not a trained model${contract}`],
      [
        { ...good, model: undefined },
        `returned a trained model whose model is undefined${contract}`,
      ],
      [{ ...good, model: {} }, "whose model is not a tfjs LayersModel"],
      [{ ...good, spec: undefined }, "whose spec is undefined"],
      [{ ...good, spec: { name: "n" } }, "whose spec is a spec without a build function"],
      [{ ...good, patchSize: "16" }, "whose patchSize is a string, not a positive whole number"],
      [{ ...good, channels: 0 }, "whose channels is 0, not a positive whole number"],
      [{ ...good, caveats: "shortened" }, "whose caveats is not a list of strings"],
      [{ ...good, validationIds: [1] }, "whose validationIds is not a list of strings"],
    ];
    for (const [trained, says] of cases) {
      await assertRejects(
        () => checkTrainedModel(trained as TrainedModel, "x/fit"),
        StageError,
        says,
      );
    }
  } finally {
    network.dispose();
  }
});

Deno.test("checkEvaluation() refuses no evaluation at all", () => {
  assertThrows(
    () => checkEvaluation(undefined as never, "x/score"),
    StageError,
    'Stage "x/score" failed: returned undefined, not an evaluation; an evaluate stage returns ' +
      "{ metrics }",
  );
});

Deno.test("checkAugmentedBatch() refuses a Promise: augmentations are synchronous", async () => {
  const input = batch();
  const promise = Promise.reject(new Error("async failure"));
  assertThrows(
    () => checkAugmentedBatch(promise as never, input, "x/aug"),
    StageError,
    'Stage "x/aug" failed: its augmentation returned a Promise: augmentations are called ' +
      "synchronously",
  );
  // Its rejection is handled: an unhandled one would fail this test once the tick ends.
  await new Promise((resolve) => setTimeout(resolve, 10));
});
