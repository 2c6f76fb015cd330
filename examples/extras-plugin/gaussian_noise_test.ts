import { loadRecipe, type PatchBatch, Random } from "@capillary/capillary";
import core from "@capillary/capillary/core";
import { gaussianNoise, gaussianNoiseOptions } from "./gaussian_noise.ts";

function assert(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** `count` patches of side `size`, every image value `value`, masks alternating 0 and 1. */
function batchOf(count: number, size: number, value: number): PatchBatch {
  const n = count * size * size;
  return {
    images: new Float32Array(n).fill(value),
    masks: Float32Array.from({ length: n }, (_, i) => i % 2),
    count,
    size,
    channels: 1,
  };
}

Deno.test("noise with p = 0 or sigma = 0 changes nothing", () => {
  const batch = batchOf(4, 8, 0.25);
  for (const options of [{ p: 0, sigma: 0.5 }, { p: 1, sigma: 0 }]) {
    const out = gaussianNoise(options)(batch, new Random(1));
    assert(out.images.every((v) => v === 0.25), `${JSON.stringify(options)} changed the images`);
  }
});

Deno.test("noise has the asked standard deviation and spares the masks", () => {
  const batch = batchOf(16, 32, 0.5);
  const out = gaussianNoise({ p: 1, sigma: 0.1 })(batch, new Random(7));
  const n = out.images.length;
  const mean = out.images.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(out.images.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  // 16,384 samples: the mean is within 0.005 and the deviation within 5 % of 0.1.
  assert(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert(Math.abs(sd - 0.1) < 0.005, `standard deviation ${sd}`);
  assert(out.masks === batch.masks, "masks were replaced");
});

Deno.test("noise stays inside [0, 1] and repeats with the seed", () => {
  const batch = batchOf(2, 16, 0.95);
  const a = gaussianNoise({ p: 1, sigma: 1 })(batch, new Random(3));
  const b = gaussianNoise({ p: 1, sigma: 1 })(batch, new Random(3));
  assert(a.images.every((v) => v >= 0 && v <= 1), "a value left [0, 1]");
  assert(a.images.some((v) => v === 1) && a.images.some((v) => v === 0), "no value was clipped");
  assert(a.images.every((v, i) => v === b.images[i]), "the same seed gave different noise");
});

Deno.test("the options fill in defaults and reject out-of-range values", () => {
  const filled = gaussianNoiseOptions.parse({});
  assert(filled.p === 0.5 && filled.sigma === 0.03, JSON.stringify(filled));
  assert(!gaussianNoiseOptions.safeParse({ sigma: -1 }).success, "sigma -1 was accepted");
  assert(!gaussianNoiseOptions.safeParse({ sigmaa: 1 }).success, "a typo was accepted");
});

Deno.test("a recipe loads this plugin by path, appends its augmentation, uses its schedule", async () => {
  const { recipe } = await loadRecipe(new URL("./recipe.yaml", import.meta.url).pathname, {
    builtins: [core],
  });
  const augment = recipe.stages.get("augment")!;
  assert(
    augment.map((s) => s.id).join(",") === "core/flip_rotate,extras/gaussian_noise",
    augment.map((s) => s.id).join(","),
  );
  assert(augment[1].registered.plugin.version === "0.1.0", "wrong plugin");
  assert(JSON.stringify(augment[1].options) === '{"p":0.5,"sigma":0.03}', "wrong options");
  const { schedule } = recipe.stages.get("train")![0].options as { schedule: unknown };
  assert(
    JSON.stringify(schedule) ===
      '{"use":"extras/warm_restarts","with":{"period":1,"growth":1,"minLearningRate":0}}',
    JSON.stringify(schedule),
  );
});
