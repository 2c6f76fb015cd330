/**
 * What tests of `core/train` run it on: images whose right half is bright
 * foreground, a one-convolution network, and a stage context whose
 * components are registered in code (as the core plugin's are).
 *
 * @module
 */
import { componentCreator } from "../../../pipeline/registry.ts";
import {
  BUILT_IN,
  checkpointStore,
  type ComponentDefinition,
  type ModelSpec,
  Random,
  type Raster,
  RunFolder,
  type SegmentationData,
  type StageContext,
  tf,
} from "../../../mod.ts";
import core from "../mod.ts";
import { coreSchedules } from "./schedules.ts";

/** A `size`×`size` image whose right half is bright foreground, with its exact mask. */
export function halfBright(id: string, size: number): SegmentationData["train"][number] {
  const raster = (f: (x: number) => number): Raster => ({
    width: size,
    height: size,
    channels: 1,
    data: new Float32Array(size * size).map((_, i) => f(i % size)),
  });
  return {
    id,
    image: raster((x) => (x >= size / 2 ? 0.9 : 0.1)),
    mask: raster((x) => (x >= size / 2 ? 1 : 0)),
    roi: raster(() => 1),
  };
}

/** Two training images and one test image of {@link halfBright}. */
export function halfBrightData(size: number): SegmentationData {
  return {
    name: "half-bright",
    train: [halfBright("a", size), halfBright("b", size)],
    test: [halfBright("c", size)],
  };
}

/**
 * One 1×1 sigmoid convolution: enough to learn "bright is foreground";
 * `poison` fills its weights with NaN.
 */
export const tinySpec = (poison = false): ModelSpec => ({
  name: "tiny",
  build(size, channels) {
    const input = tf.input({ shape: [size, size, channels] });
    const output = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: "sigmoid" })
      .apply(input) as import("@tensorflow/tfjs").SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    if (poison) model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, NaN)));
    return model;
  },
});

/**
 * `core/train`'s context writing into `folder`, whose `createComponent` builds
 * the core schedules and `extra` components (`kind:plugin/name` to each), all
 * registered in code, as a resolved recipe would hand them over.
 */
export function trainContext(
  folder: string,
  extra: Readonly<Record<string, ComponentDefinition>> = {},
): StageContext {
  const components = new Map(
    [
      ...coreSchedules.map((c) => [`schedule:core/${c.name}`, c as ComponentDefinition] as const),
      ...Object.entries(extra),
    ].map(([key, component]) => [key, {
      id: key.slice(key.indexOf(":") + 1),
      component,
      plugin: core,
      origin: BUILT_IN,
    }]),
  );
  return {
    stageId: "core/train",
    tf,
    useBackend: () => Promise.resolve("wasm"),
    random: new Random(3),
    run: new RunFolder(folder),
    progress: { info() {}, task: () => ({ update() {}, done() {} }) },
    recipeDir: ".",
    createComponent: componentCreator(components),
    checkpoints: checkpointStore(folder, false),
  };
}
