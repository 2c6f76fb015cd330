/**
 * Picks patches out of a batch by index, into a new batch: how training
 * makes its shuffled steps and validation its slices.
 *
 * @module
 */
import type { PatchBatch } from "../../../pipeline/stage.ts";

/**
 * The patches of `source` at `indices`, in that order (an index may repeat),
 * copied with their masks and regions of interest.
 *
 * @example Usage
 * ```ts
 * import { gatherPatches } from "./gather_patches.ts";
 * const source = {
 *   images: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), // two 2×2 patches, one channel
 *   masks: Float32Array.of(0, 1, 0, 1, 1, 0, 1, 0),
 *   size: 2,
 *   channels: 1,
 *   count: 2,
 * };
 * const second = gatherPatches(source, [1]);
 * console.assert(second.count === 1 && second.images[0] === 5 && second.masks[0] === 1);
 * ```
 */
export function gatherPatches(source: PatchBatch, indices: readonly number[]): PatchBatch {
  const imageStride = source.size * source.size * source.channels;
  const maskStride = source.size * source.size;
  const images = new Float32Array(indices.length * imageStride);
  const masks = new Float32Array(indices.length * maskStride);
  const rois = source.rois && new Float32Array(indices.length * maskStride);
  indices.forEach((p, i) => {
    images.set(source.images.subarray(p * imageStride, (p + 1) * imageStride), i * imageStride);
    masks.set(source.masks.subarray(p * maskStride, (p + 1) * maskStride), i * maskStride);
    rois?.set(source.rois!.subarray(p * maskStride, (p + 1) * maskStride), i * maskStride);
  });
  return { ...source, images, masks, ...(rois ? { rois } : {}), count: indices.length };
}
