/**
 * What the tests that run whole recipes share: a progress that prints
 * nothing, the sanitizer settings such runs need, and `recipes/synthetic.yaml`
 * cut down to seconds.
 *
 * @module
 */
import type { Progress } from "../mod.ts";

/** A progress that swallows every line and bar. */
export const silent: Progress = { info() {}, task: () => ({ update() {}, done() {} }) };

/** Backends hold GPU devices and wasm memory for the life of the process. */
export const sanitizers = { sanitizeOps: false, sanitizeResources: false };

/** `recipes/synthetic.yaml`: generated retinas, no download. */
export const SYNTHETIC = new URL("../recipes/synthetic.yaml", import.meta.url).pathname;

/** drive-sized options cut down to seconds: 64² images, width 4, 16² patches (`--set` overrides). */
export const TINY_SYNTHETIC: readonly string[] = [
  "load.train=2",
  "load.test=1",
  "load.size=64",
  "model.width=4",
  "train.epochs=2",
  "train.batchSize=4",
  "train.patches={size: 16, count: 24}",
  "train.validation.images=0",
  "evaluate.window=32",
  "evaluate.stride=32",
];

/**
 * The smallest recipe that validates (core stages, defaults everywhere), line by line: tests
 * that add a key or a fault put it at a known line and column.
 */
export const MINIMAL_RECIPE: string = [
  "seed: 1", // 1
  "stages:", // 2
  "  load: { use: core/drive }", // 3
  "  model: { use: core/bcdunet }", // 4
  "  train: { use: core/train }", // 5
  "  evaluate: { use: core/segmentation_metrics }", // 6
  "",
].join("\n");
