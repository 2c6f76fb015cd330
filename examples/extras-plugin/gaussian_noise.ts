/**
 * `extras/gaussian_noise`: adds zero-mean Gaussian noise to the images of a batch of
 * training patches, leaving the masks alone (noise changes intensities, not
 * where the vessels are).
 *
 * @module
 */
import { type Augmentation, defineStage, z } from "@capillary/capillary";

/** Options of `extras/gaussian_noise`: the zod schema is the single source of truth. */
export const gaussianNoiseOptions = z.object({
  p: z.number().min(0).max(1).default(0.5).describe("Probability that a patch gets noise."),
  sigma: z.number().min(0).max(1).default(0.03)
    .describe("Standard deviation of the noise, in intensity units (images are in [0, 1])."),
}).strict();

/** The options after defaults. */
export type GaussianNoiseOptions = z.output<typeof gaussianNoiseOptions>;

/**
 * Builds the augmentation: each patch, with probability `p`, gets noise of
 * standard deviation `sigma` on every value, clipped back into [0, 1].
 */
export function gaussianNoise({ p, sigma }: GaussianNoiseOptions): Augmentation {
  return (batch, random) => {
    const images = batch.images.slice();
    const stride = batch.size * batch.size * batch.channels;
    for (let i = 0; i < batch.count; i++) {
      if (random.next() >= p) continue;
      for (let j = i * stride; j < (i + 1) * stride; j++) {
        images[j] = Math.min(1, Math.max(0, images[j] + sigma * random.normal()));
      }
    }
    return { ...batch, images };
  };
}

/** The `extras/gaussian_noise` stage. */
export const gaussianNoiseStage = defineStage({
  name: "gaussian_noise",
  kind: "augment",
  description: "Zero-mean Gaussian noise on the images (not the masks), clipped to [0, 1].",
  options: gaussianNoiseOptions,
  run: (options) => gaussianNoise(options),
});
