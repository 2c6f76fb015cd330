/**
 * `core/segmentation_metrics`: predicts every test image by sliding windows
 * (overlaps averaged), writes each probability map as an 8-bit grey PNG, and
 * scores all test images pooled: exact ROC AUC, and F1, accuracy,
 * sensitivity, specificity and precision at a threshold, counting only
 * pixels inside each image's region of interest.
 *
 * @module
 */
import { z } from "zod";
import { CapillaryError, copyWeightsByLayer, defineStage, type Evaluation } from "../../../mod.ts";
import { encodeGrayPng } from "../../../mod.ts";
import { SegmentationScorer } from "../metrics/segmentation_metrics.ts";
import { slidingWindowPredict, windowOrigins } from "../patches/sliding_window.ts";

/** Options of `core/segmentation_metrics`. */
export const segmentationMetricsOptions = z.object({
  window: z.number().int().min(8).multipleOf(8).nullable().default(null).describe(
    "Side of the prediction windows (a multiple of 8; the network is fully convolutional). null: the training patch size.",
  ),
  stride: z.number().int().min(1).nullable().default(null)
    .describe("Step between windows; overlaps are averaged. null: half the window."),
  batchSize: z.number().int().min(1).default(16).describe("Windows per prediction batch."),
  threshold: z.number().gt(0).lt(1).default(0.5)
    .describe("Probability at or above which a pixel counts as foreground."),
  savePredictions: z.boolean().default(true)
    .describe("Write predictions/<id>.png, the probability map of each test image."),
  observer: z.string().nullable().default("2nd_manual").describe(
    "An extra annotation of the test samples to score as a reference row (e.g. DRIVE's second observer); null for none.",
  ),
  references: z.record(z.string(), z.record(z.string(), z.number())).default({})
    .describe("Published results to print beside ours: row name to metric to value."),
}).strict();

/** The options of `core/segmentation_metrics` after defaults. */
export type SegmentationMetricsOptions = z.output<typeof segmentationMetricsOptions>;

/** The `core/segmentation_metrics` evaluate stage. */
export const segmentationMetrics = defineStage({
  name: "segmentation_metrics",
  kind: "evaluate",
  description:
    "Sliding-window prediction of the test images; pooled AUC, F1, Acc, Se, Sp, precision inside the ROI.",
  options: segmentationMetricsOptions,
  plan(options, { data, trained }) {
    const window = options.window ?? trained.patchSize;
    const stride = options.stride ?? Math.max(1, Math.floor(window / 2));
    const per = data.height && data.width && stride <= window
      ? windowOrigins(data.height, window, stride).length *
        windowOrigins(data.width, window, stride).length
      : undefined;
    const b = options.batchSize;
    return {
      output: undefined,
      lines: [
        `${data.test} test images by ${window}×${window} windows at stride ${stride}` +
        (per === undefined ? "" : ` (${per} per image, overlaps averaged)`) +
        `: input [${b}, ${window}, ${window}, ${trained.channels}] → output [${b}, ${window}, ${window}, 1]`,
        `AUC, F1, accuracy, sensitivity, specificity and precision at threshold ${options.threshold}, ` +
        "pooled over the pixels inside each image's region of interest",
      ],
    };
  },
  async run(options, { data, trained }, context): Promise<Evaluation> {
    const { tf, progress } = context;
    const window = options.window ?? trained.patchSize;
    const stride = options.stride ?? Math.max(1, Math.floor(window / 2));
    if (stride > window) {
      throw new CapillaryError(
        `Cannot evaluate: stride ${stride} is larger than window ${window}, so pixels would be skipped`,
      );
    }
    const backend = await context.useBackend("inference");
    const model = trained.spec.build(window, trained.channels);
    // By layer name: a network trained with frozen layers lists its weights in another order.
    copyWeightsByLayer(trained.model, model, "the trained network");
    const channels = trained.channels;
    const scorer = new SegmentationScorer(options.threshold);
    const observer = options.observer ? new SegmentationScorer(options.threshold) : undefined;
    const windows = data.test.reduce(
      (n, s) =>
        n + windowOrigins(s.image.width, window, stride).length *
          windowOrigins(s.image.height, window, stride).length,
      0,
    );
    progress.info(
      `predicting ${data.test.length} images in ${windows} windows of ${window}×${window} (stride ${stride}) on ${backend}`,
    );
    const task = progress.task("predict", windows);
    let done = 0;
    let observed = 0;
    for (const sample of data.test) {
      const probability = await slidingWindowPredict(
        sample.image,
        window,
        stride,
        async (batch, n) => {
          const x = tf.tensor4d(batch, [n, window, window, channels]);
          const y = model.predict(x) as import("@tensorflow/tfjs").Tensor;
          const values = await y.data() as Float32Array;
          tf.dispose([x, y]);
          done += n;
          task.update(done);
          return values;
        },
        options.batchSize,
      );
      scorer.add(probability.data, sample.mask.data, sample.roi.data);
      const second = options.observer ? sample.extra?.[options.observer] : undefined;
      if (observer && second) {
        observer.add(second.data, sample.mask.data, sample.roi.data);
        observed++;
      }
      if (options.savePredictions) {
        await context.run.write(`predictions/${sample.id}.png`, encodeGrayPng(probability));
      }
    }
    task.done();
    model.dispose();
    await context.useBackend("train");
    const pick = (m: ReturnType<SegmentationScorer["result"]>) => ({
      auc: m.auc,
      f1: m.f1,
      accuracy: m.accuracy,
      sensitivity: m.sensitivity,
      specificity: m.specificity,
      precision: m.precision,
    });
    const references: Record<string, Record<string, number>> = { ...options.references };
    if (observer && observed > 0) {
      const { auc: _binaryAuc, ...rest } = pick(observer.result());
      references[options.observer!] = rest;
    }
    return { metrics: pick(scorer.result()), references };
  },
});
