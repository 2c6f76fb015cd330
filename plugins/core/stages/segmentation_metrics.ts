/**
 * `core/segmentation_metrics`: predicts every test image by sliding windows
 * (overlaps averaged) or whole (`window: image`), optionally also mirrored
 * (`flips`, the predictions mirrored back and averaged), writes each
 * probability map as an 8-bit grey PNG, and scores all test images pooled,
 * counting only pixels inside each image's region of interest:
 *
 * - threshold-free: exact ROC AUC (`auc`) and average precision (`prAuc`,
 *   the step-wise area under the precision-recall curve);
 * - at `threshold`: F1, accuracy, sensitivity, specificity, precision, IoU
 *   (`iou`), the Matthews correlation (`mcc`), and `dice`, the mean over
 *   images of each image's own Dice.
 *
 * Each test image's own scores go to `per_image.csv` in the run folder and to
 * the evaluation's `perImage`. When the training stage held out validation
 * images (`TrainedModel.validationIds`) and `chooseThreshold` is on, those
 * are predicted too, the threshold that maximises their pooled F1 is chosen
 * and the test scores at it are reported beside (`chosenThreshold`): the test
 * images never influence it. Their own scores at `threshold` (every metric,
 * pooled) are reported as `validation`: what a recipe's settings may be
 * chosen on without looking at the test images. A second annotation of the
 * test images (`observer`) is scored as a reference row with every threshold
 * metric (not AUC or PR-AUC: a binary map ranks nothing).
 *
 * With `report` on (the default) it also writes the run report (see
 * `../report/write_report.ts`): `report/roc.png` and `report/pr.png` (the
 * pooled curves with this run's and the references' operating points),
 * `report/training.png` (from the run's `history.jsonl`),
 * `report/overlays/<id>.png` (each test image's true positives, false
 * positives and false negatives at `threshold` in distinct colours) and
 * `report.html`, one self-contained page with all of it beside the metrics
 * tables.
 *
 * @module
 */
import { z } from "zod";
import {
  CapillaryError,
  copyWeightsByLayer,
  defineStage,
  type Evaluation,
  PredictionWorkers,
  safePoint,
  type Sample,
  withCleanup,
} from "../../../mod.ts";
import { encodeGrayPng, encodeRgbPng } from "../../../mod.ts";
import { perImageCsv } from "../metrics/per_image.ts";
import {
  type SegmentationMetrics,
  SegmentationScorer,
  type ThresholdMetrics,
  ThresholdScorer,
} from "../metrics/segmentation_metrics.ts";
import { bestF1Threshold, THRESHOLD_BINS, ThresholdHistogram } from "../metrics/threshold.ts";
import {
  type OperatingPoint,
  sensitivityAtSpecificity,
  specificityAtSensitivity,
} from "../metrics/operating_point.ts";
import {
  flipCombinations,
  predictedWindows,
  predictWindows,
  windowCount,
  windowGeometry,
} from "../patches/predict_windows.ts";
import { segmentationOverlay } from "../report/overlay.ts";
import type { ReportImage } from "../report/report_html.ts";
import { writeReport } from "../report/write_report.ts";

/** Options of `core/segmentation_metrics`. */
export const segmentationMetricsOptions = z.object({
  window: z.union([z.number().int().min(8).multipleOf(8), z.literal("image")]).nullable()
    .default(null).describe(
      'Side of the prediction windows (a multiple of 8; the network is fully convolutional). "image": each image whole, in one window of its larger side rounded up to a multiple of 8. null: the training patch size.',
    ),
  stride: z.number().int().min(1).nullable().default(null)
    .describe("Step between windows; overlaps are averaged. null: half the window."),
  flips: z.array(z.enum(["horizontal", "vertical", "transpose"])).default([]).describe(
    "Test-time flips: each image is also predicted flipped along every combination of these axes (transpose: along the diagonal), each prediction flipped back, and all averaged ([horizontal, vertical]: 4 predictions per image; with transpose too: 8, the square's symmetries). []: none.",
  ),
  batchSize: z.number().int().min(1).default(16).describe("Windows per prediction batch."),
  workers: z.number().int().min(1).max(64).default(1).describe(
    "Threads that predict on the wasm backend: 1, this thread alone; 2 or more, that many " +
      "worker threads, each with a copy of the network, taking batches as they are free (a " +
      "whole image and each of its flips is a batch) while this thread scores. The " +
      "probabilities are the same for any number.",
  ),
  threshold: z.number().gt(0).lt(1).default(0.5).describe(
    "Probability at or above which a pixel counts as foreground, for F1, accuracy, sensitivity, specificity, precision, IoU, MCC and the per-image scores.",
  ),
  chooseThreshold: z.boolean().default(true).describe(
    "When the training stage held out validation images, also predict them, choose the threshold that maximises their pooled F1 (on a 1/4096 grid) and report the test metrics at it beside those at `threshold`. Never uses the test images.",
  ),
  savePredictions: z.boolean().default(true)
    .describe(
      "Write predictions/<id>.png, the probability map of each test image (and of each validation image, under predictions/validation/).",
    ),
  observer: z.string().nullable().default("2nd_manual").describe(
    "An extra annotation of the test samples to score as a reference row (e.g. DRIVE's second observer), with every threshold metric; null for none.",
  ),
  references: z.record(z.string(), z.record(z.string(), z.number())).default({})
    .describe(
      "Published results to print beside ours: row name to metric to value. A row with both `sensitivity` and `specificity` also gets where this run's ROC curve passes its point (`atReferencePoints`).",
    ),
  report: z.boolean().default(true).describe(
    "Write report.html (one self-contained page: metrics beside the references, ROC and precision-recall curves, the training curve, each test image's probability map and error overlay) and its figures under report/.",
  ),
}).strict().superRefine((options, context) => {
  // Known before training, so said before it: the run would otherwise fail at its evaluation.
  if (
    typeof options.window === "number" && options.stride !== null && options.stride > options.window
  ) {
    context.addIssue({
      code: "custom",
      path: ["stride"],
      message:
        `stride ${options.stride} is larger than window ${options.window}, so pixels would be skipped; use at most ${options.window}`,
    });
  }
});

/** The options of `core/segmentation_metrics` after defaults. */
export type SegmentationMetricsOptions = z.output<typeof segmentationMetricsOptions>;

/** The metrics that depend on the threshold, in report order. */
function thresholdMetrics(m: ThresholdMetrics): Record<string, number> {
  return {
    f1: m.f1,
    accuracy: m.accuracy,
    sensitivity: m.sensitivity,
    specificity: m.specificity,
    precision: m.precision,
    iou: m.iou,
    mcc: m.mcc,
    dice: m.dice,
  };
}

/** Every metric of a pooled result, the paper's six first (in its order), then the newer ones. */
function headlineMetrics(result: SegmentationMetrics): Record<string, number> {
  const at = thresholdMetrics(result);
  return {
    auc: result.auc,
    f1: at.f1,
    accuracy: at.accuracy,
    sensitivity: at.sensitivity,
    specificity: at.specificity,
    precision: at.precision,
    prAuc: result.prAuc,
    iou: at.iou,
    mcc: at.mcc,
    dice: at.dice,
  };
}

/** The training samples named by `ids`, in that order, each once. */
function validationSamples(train: readonly Sample[], ids: readonly string[]): Sample[] {
  const byId = new Map(train.map((s) => [s.id, s]));
  return [...new Set(ids)].map((id) => {
    const sample = byId.get(id);
    if (!sample) {
      throw new CapillaryError(
        `Cannot choose a threshold: validation image "${id}" named by the training stage is ` +
          `not a training sample (${byId.size} training samples, e.g. "${train[0]?.id}")`,
      );
    }
    return sample;
  });
}

/** A span of validation probabilities this narrow makes the chosen threshold meaningless. */
const NARROW_SPAN = 0.05;

/** The `core/segmentation_metrics` evaluate stage. */
export const segmentationMetrics = defineStage({
  name: "segmentation_metrics",
  kind: "evaluate",
  description:
    "Sliding-window prediction of the test images; pooled AUC, PR-AUC, F1, Acc, Se, Sp, precision, IoU, MCC and mean Dice inside the ROI, per-image scores, and a threshold chosen on validation images.",
  options: segmentationMetricsOptions,
  plan(options, { data, trained }) {
    const size = data.height && data.width ? { width: data.width, height: data.height } : undefined;
    const flips = flipCombinations(options.flips).length;
    const flipped = flips > 1
      ? `, with test-time flips (${options.flips.join(", ")}: ${flips} predictions averaged)`
      : "";
    // Batches hold windows of one image: a whole image is a batch of one.
    const b = options.window === "image" ? 1 : options.batchSize;
    let how: string;
    if (options.window === "image" && !size) {
      how = `${data.test} test images each whole, padded to a multiple of 8${flipped}`;
    } else {
      const { window, stride } = windowGeometry(
        options.window,
        options.stride,
        trained.patchSize,
        size ? [size] : [],
      );
      const per = size && stride <= window ? windowCount(size, window, stride) : undefined;
      how = options.window === "image"
        ? `${data.test} test images each whole in one ${window}×${window} window${flipped}`
        : `${data.test} test images by ${window}×${window} windows at stride ${stride}` +
          (per === undefined ? "" : ` (${per} per image, overlaps averaged)`) + flipped;
      how +=
        `: input [${b}, ${window}, ${window}, ${trained.channels}] → output [${b}, ${window}, ${window}, 1]`;
    }
    if (options.workers > 1) how += `; on ${options.workers} worker threads`;
    return {
      output: undefined,
      lines: [
        how,
        "AUC and PR-AUC, then F1, accuracy, sensitivity, specificity, precision, IoU, MCC and " +
        `mean per-image Dice at threshold ${options.threshold}, pooled over the pixels inside ` +
        "each image's region of interest; each image's own scores to per_image.csv",
        options.chooseThreshold
          ? "if the training stage holds out validation images: those predicted too, and the " +
            "test scores also at the threshold that maximises their F1"
          : "no threshold chosen on validation images (chooseThreshold: false)",
        options.report
          ? "report.html with report/roc.png, pr.png, training.png and an overlay per test " +
            "image (report/overlays/)"
          : "no report (report: false)",
      ],
    };
  },
  async run(options, { data, trained }, context): Promise<Evaluation> {
    const { tf, progress } = context;
    const validation = options.chooseThreshold && trained.validationIds?.length
      ? validationSamples(data.train, trained.validationIds)
      : [];
    const { window, stride } = windowGeometry(
      options.window,
      options.stride,
      trained.patchSize,
      [...data.test, ...validation].map((s) => s.image),
    );
    if (stride > window) {
      throw new CapillaryError(
        `Cannot evaluate: stride ${stride} is larger than window ${window}, so pixels would be skipped`,
      );
    }
    const flips = flipCombinations(options.flips);
    const geometry = { window, stride, batchSize: options.batchSize, flips };
    const backend = await context.useBackend("inference");
    if (options.workers > 1 && backend !== "wasm") {
      throw new CapillaryError(
        `Cannot evaluate with evaluate.workers ${options.workers} on the ${backend} backend: ` +
          "prediction workers run the wasm backend; set evaluate.workers to 1, or inferenceBackend: " +
          "wasm (--set inferenceBackend=wasm)",
        "E_WORKERS",
      );
    }
    const model = trained.spec.build(window, trained.channels);
    let workers: PredictionWorkers | undefined;
    // withCleanup: after memory ran out, disposing can fail too; the first error is what to show.
    return await withCleanup(async () => {
      // By layer name: a network trained with frozen layers lists its weights in another order.
      copyWeightsByLayer(trained.model, model, "the trained network");
      if (options.workers > 1) {
        workers = await PredictionWorkers.start(
          options.workers,
          model,
          trained.spec.layerModules ?? [],
        );
        progress.info(`prediction on ${workers.count} worker threads`);
      }
      const predictors = workers?.batchPredictors(window, trained.channels) ?? [];
      const windowsOf = (samples: readonly Sample[]) =>
        samples.reduce((n, s) => n + predictedWindows(s.image, geometry), 0);
      const windows = windowsOf(data.test) + windowsOf(validation);
      progress.info(
        `predicting ${data.test.length} test ` +
          (validation.length ? `and ${validation.length} validation ` : "") +
          `images in ${windows} windows of ${window}×${window} (stride ${stride}` +
          (flips.length > 1 ? `, ${flips.length} flips` : "") + `) on ${backend}`,
      );
      const task = progress.task("predict", windows);
      let done = 0;
      const predict = (sample: Sample) =>
        predictWindows(
          tf,
          model,
          sample.image,
          { ...geometry, workers: predictors },
          (n) => task.update(done += n),
        );

      // The threshold, from the validation images alone: before any test image is seen. Their
      // scores at `threshold` are kept too: they are what a recipe's settings may be chosen on.
      let chosen: { threshold: number; f1: number } | undefined;
      const validationScorer = new SegmentationScorer(options.threshold);
      let validationMetrics: Record<string, number> | undefined;
      const validationImages = `${validation.length} validation image${
        validation.length === 1 ? "" : "s"
      }`;
      if (validation.length) {
        // The search over the distinct probabilities, to 1/4096: per-class histograms of 4096
        // bins (two small count arrays, however many pixels) give the exact F1 at every
        // threshold k/4096 in one O(4096) sweep; no probability map is kept.
        const histogram = new ThresholdHistogram(THRESHOLD_BINS);
        for (const sample of validation) {
          await safePoint(context.signal, `evaluating, before image ${sample.id}`);
          const predicted = await predict(sample);
          const probability = predicted.data;
          histogram.add(probability, sample.mask.data, sample.roi.data);
          validationScorer.add(probability, sample.mask.data, sample.roi.data, sample.id);
          // Kept beside the test maps, so that the scores settings were chosen on can be checked.
          if (options.savePredictions) {
            await context.run.write(
              `predictions/validation/${sample.id}.png`,
              encodeGrayPng(predicted),
            );
          }
        }
        if (histogram.positives.some((count) => count > 0)) {
          chosen = bestF1Threshold(histogram.positives, histogram.negatives);
          // AUC needs both classes.
          if (histogram.negatives.some((count) => count > 0)) {
            validationMetrics = headlineMetrics(validationScorer.result());
          }
          progress.info(
            `threshold ${chosen.threshold.toFixed(4)} maximises F1 on ${validationImages} ` +
              `(F1 ${chosen.f1.toFixed(4)} there)`,
          );
          const [low, high] = histogram.span()!;
          if (high - low <= NARROW_SPAN) {
            progress.info(
              `warning: the ${validationImages} got probabilities from ${low.toFixed(3)} to ` +
                `${high.toFixed(3)} only: the network ranks next to nothing (the all-background ` +
                "plateau?), so a threshold chosen among them says little",
            );
          }
        } else {
          progress.info(
            `no threshold chosen: the ${validationImages} hold no foreground pixel inside ` +
              "their region of interest",
          );
        }
      }

      const scorer = new SegmentationScorer(options.threshold);
      const atChosen = chosen ? new ThresholdScorer(chosen.threshold) : undefined;
      const observer = options.observer ? new ThresholdScorer(options.threshold) : undefined;
      let observed = 0;
      // The report's images, as PNGs (tens of kB each): no probability map is kept.
      const reportImages: ReportImage[] = [];
      for (const sample of data.test) {
        await safePoint(context.signal, `evaluating, before image ${sample.id}`);
        const probability = await predict(sample);
        scorer.add(probability.data, sample.mask.data, sample.roi.data, sample.id);
        atChosen?.add(probability.data, sample.mask.data, sample.roi.data);
        const second = options.observer ? sample.extra?.[options.observer] : undefined;
        if (observer && second) {
          observer.add(second.data, sample.mask.data, sample.roi.data);
          observed++;
        }
        const png = options.savePredictions || options.report
          ? encodeGrayPng(probability)
          : undefined;
        if (options.savePredictions) {
          await context.run.write(`predictions/${sample.id}.png`, png!);
        }
        if (options.report) {
          const overlay = segmentationOverlay(
            probability,
            sample.mask,
            sample.roi,
            options.threshold,
          );
          reportImages.push({ id: sample.id, probability: png, overlay: encodeRgbPng(overlay) });
        }
      }
      task.done();

      const metrics = headlineMetrics(scorer.result());
      const references: Record<string, Record<string, number>> = { ...options.references };
      if (observer && observed > 0) {
        // A binary map ranks nothing: no AUC or PR-AUC for it.
        references[options.observer!] = thresholdMetrics(observer.result());
      }
      const perImage = scorer.perImage();
      await context.run.write("per_image.csv", perImageCsv(perImage));
      const atReferencePoints = referencePoints(scorer, options.references);
      const evaluation: Evaluation = {
        metrics,
        references,
        perImage,
        ...(chosen && atChosen
          ? {
            chosenThreshold: {
              threshold: chosen.threshold,
              chosenOn: validationImages,
              metrics: thresholdMetrics(atChosen.result()),
            },
          }
          : {}),
        ...(Object.keys(atReferencePoints).length ? { atReferencePoints } : {}),
        // Both classes present, or AUC is undefined (as when no threshold could be chosen).
        ...(validationMetrics
          ? {
            validation: {
              on: `${validationImages} (${validation.map((s) => s.id).join(", ")})`,
              metrics: validationMetrics,
            },
          }
          : {}),
      };
      if (options.report) {
        // The report only shows what is computed: a failure to draw it loses no metric.
        try {
          const written = await writeReport(context.run, {
            title: `Capillary report: ${data.name}`,
            subtitle: `${context.run.path}: ${data.test.length} test image` +
              `${data.test.length === 1 ? "" : "s"}, ${context.stageId}`,
            evaluation,
            threshold: options.threshold,
            scores: scorer.sortedScores(),
            images: reportImages,
            ...(trained.caveats?.length ? { caveats: trained.caveats } : {}),
          });
          progress.info(
            `report: ${context.run.resolve("report.html")} (${
              written.length - 1
            } images under report/)`,
          );
        } catch (error) {
          progress.info(
            `report not written: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      return evaluation;
    }, async () => {
      await workers?.close();
      model.dispose();
      await context.useBackend("train");
    });
  },
});

/**
 * Where the test scores' ROC curve passes each reference row that gives both
 * a sensitivity and a specificity: threshold-free, unlike the comparison of
 * operating points in the table.
 */
function referencePoints(
  scorer: SegmentationScorer,
  references: Readonly<Record<string, Readonly<Record<string, number>>>>,
): Record<string, { atSpecificity: OperatingPoint; atSensitivity: OperatingPoint }> {
  const rows = Object.entries(references).filter(([, r]) =>
    r.sensitivity !== undefined && r.specificity !== undefined
  );
  if (!rows.length) return {};
  const { positives, negatives } = scorer.sortedScores();
  return Object.fromEntries(rows.map(([name, r]) => [name, {
    atSpecificity: sensitivityAtSpecificity(positives, negatives, r.specificity),
    atSensitivity: specificityAtSensitivity(positives, negatives, r.sensitivity),
  }]));
}
