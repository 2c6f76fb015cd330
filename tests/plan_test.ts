/**
 * `deno task plan`: the stage graph of a recipe without training, checked
 * against numbers worked out by hand from the recipe and DRIVE.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import {
  CapillaryError,
  DataError,
  formatPlan,
  loadRecipe,
  planRecipe,
  StageError,
  tf,
} from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { bcduNetForwardFlops } from "../plugins/core/bcdunet_flops.ts";
import core from "../plugins/core/mod.ts";

const SMOKE = new URL("../recipes/drive-smoke.yaml", import.meta.url).pathname;
const WITH_PLUGIN = new URL("./fixtures/recipes/with_plugin.yaml", import.meta.url).pathname;

Deno.test("plan describes each stage of drive-smoke with hand-checked shapes and counts", async () => {
  const { recipe } = await loadRecipe(SMOKE, { builtins: [core] });
  const planned = await planRecipe(recipe);
  assertEquals(planned.map((p) => p.stage.id), [
    "core/drive",
    "core/retina_preprocess",
    "core/flip_rotate",
    "core/bcdunet",
    "core/train",
    "core/segmentation_metrics",
  ]);
  const text = formatPlan(recipe, planned);
  const params = buildBcduNet(tf, { width: 4, dense: 1, dropout: 0.5, seed: 1 }, 32, 1)
    .countParams();
  const mflop = (bcduNetForwardFlops({ width: 4, size: 32 }) / 1e6).toFixed(1);
  for (
    const expected of [
      "2 training and 2 test images", // trainLimit 2, testLimit 2
      "→ images 565×584×3", // DRIVE's TIFFs
      "→ images 565×584×1 in [0, 1]", // grey
      // 2 training images: 1 held out (8 patches), 40 patches from the other; batch 8: 5 steps.
      "40 to train from 1 image; 8 to validate from 1 held-out image (split by image)",
      "batch 8: input [8, 32, 32, 1] → output [8, 32, 32, 1]; 5 steps per epoch × 2 epochs = 10 steps",
      `${params.toLocaleString("en")} parameters; ${mflop} MFLOP forward per patch`,
      // step schedule, every 1 epoch × 0.5 from 0.05: epoch 1 at 0.05, epoch 2 at 0.025.
      "1: 0.0500 → 0.0500, 2: 0.0250 → 0.0250",
      // 584 rows: windows at 0, 96, 192, 288, 384, 456; 565 columns: 0, ..., 384, 437: 6 × 6.
      "2 test images by 128×128 windows at stride 96 (36 per image, overlaps averaged)",
    ]
  ) {
    assertEquals(text.includes(expected), true, `${expected}\n--- in ---\n${text}`);
  }
});

Deno.test("plan describes whole-image prediction with test-time flips", async () => {
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ["evaluate.window=image", "evaluate.flips=[horizontal, vertical]"],
  });
  const text = formatPlan(recipe, await planRecipe(recipe));
  // 565 × 584: the larger side, 584, is already a multiple of 8.
  const expected = "2 test images each whole in one 584×584 window, with test-time flips " +
    "(horizontal, vertical: 4 predictions averaged): input [1, 584, 584, 1]";
  assertEquals(text.includes(expected), true, `${expected}\n--- in ---\n${text}`);
});

Deno.test("plan names the foreground weight of the loss when it is not 1", async () => {
  for (
    const [weight, expected] of [[1, "loss: binary cross-entropy; "], [
      0.8,
      "loss: binary cross-entropy with foreground pixels weighted 0.8; ",
    ]] as const
  ) {
    const { recipe } = await loadRecipe(SMOKE, {
      builtins: [core],
      overrides: [`train.positiveWeight=${weight}`],
    });
    const text = formatPlan(recipe, await planRecipe(recipe));
    assertEquals(text.includes(expected), true, `${expected}\n--- in ---\n${text}`);
  }
});

Deno.test("plan names the optimizer's weight decay when there is one", async () => {
  for (
    const [optimizer, expected] of [
      ["{type: sgd, learningRate: 0.3, momentum: 0.9, nesterov: true}", "(Nesterov), schedule"],
      [
        "{type: sgd, learningRate: 0.3, momentum: 0.9, nesterov: true, weightDecay: 5.0e-4}",
        "SGD, learning rate 0.3, momentum 0.9 (Nesterov), weight decay 0.0005 (L2, in the gradient)",
      ],
      [
        "{type: sgd, learningRate: 0.3, weightDecay: 5.0e-4, decayExclude: ['*/bias', '*_bn/*']}",
        "weight decay 0.0005 (L2, in the gradient) except on */bias, *_bn/*",
      ],
      [
        "{type: adamw, learningRate: 0.001, weightDecay: 0.01}",
        "AdamW, learning rate 0.001, betas 0.9/0.999, weight decay 0.01 (decoupled)",
      ],
    ] as const
  ) {
    const { recipe } = await loadRecipe(SMOKE, {
      builtins: [core],
      overrides: [`train.optimizer=${optimizer}`],
    });
    const text = formatPlan(recipe, await planRecipe(recipe));
    assertEquals(text.includes(expected), true, `${expected}\n--- in ---\n${text}`);
  }
});

Deno.test("plan lists a plugin stage without a plan hook with its options only", async () => {
  const { recipe } = await loadRecipe(WITH_PLUGIN, { builtins: [core] });
  const planned = await planRecipe(recipe);
  const invert = planned.find((p) => p.stage.id === "fixture/invert")!;
  assertEquals(invert.lines, ["(no plan hook)"]);
  const text = formatPlan(recipe, planned);
  assertEquals(
    text.includes("4. augment: fixture/invert (plugin fixture 0.0.1)\n   with { p: 1 }"),
    true,
    text,
  );
});

Deno.test("plan names the model stage without a plan hook that leaves training undescribed", async () => {
  const wrong = new URL("./fixtures/faulty_outputs_plugin.ts", import.meta.url).href;
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: [`plugins=[${wrong}]`, "stages.model={use: wrong/net, with: {fault: none}}"],
  });
  const lines = Object.fromEntries((await planRecipe(recipe)).map((p) => [p.stage.id, p.lines]));
  assertEquals(lines["wrong/net"], ["(no plan hook)"]);
  const undescribed = "(not described: wrong/net has no plan hook to say what it passes on)";
  assertEquals(lines["core/train"], [undescribed]);
  assertEquals(lines["core/segmentation_metrics"], [undescribed]);
});

Deno.test("plan fails like run when the data is missing", async () => {
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ["load.root=/nonexistent/DRIVE"],
  });
  await assertRejects(() => planRecipe(recipe), DataError, "/nonexistent/DRIVE");
});

Deno.test("plan checks freeze, unfreeze and parameter groups against the network's layers", async () => {
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: [
      'train.freeze=["down*", "bottleneck*"]',
      "train.unfreeze=[{epoch: 2, layers: [down3*]}]",
      "train.parameterGroups=[{layers: [head*, up*], learningRate: 0.1}]",
    ],
  });
  const text = formatPlan(recipe, await planRecipe(recipe));
  const model = buildBcduNet(tf, { width: 4, dense: 1, dropout: 0.5, seed: 1 }, 32, 1);
  const count = (prefix: RegExp) => {
    const layers = model.layers.filter((l) => l.weights.length && prefix.test(l.name));
    return `${layers.length} layers, ${
      layers.reduce((n, l) => n + l.countParams(), 0).toLocaleString("en")
    } parameters`;
  };
  for (
    const expected of [
      `frozen at the start: ${count(/^(down|bottleneck)/)} (down1_conv1, down1_conv2,`,
      `thawed at epoch 2: ${count(/^down3/)}`,
      `learning rate 0.1: ${count(/^(head|up)/)}`,
    ]
  ) {
    assertEquals(text.includes(expected), true, `${expected}\n--- in ---\n${text}`);
  }
  model.dispose();
  const { recipe: typo } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ["train.freeze=[donw*]"],
  });
  const error = await assertRejects(() => planRecipe(typo));
  assertEquals(error.message.includes('train.freeze: "donw*" matches no layer'), true);
  // Everything frozen: the run would refuse it before its first step, and so does the plan.
  const { recipe: all } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ['train.freeze=["*"]', "train.unfreeze=[{epoch: 2}]"],
  });
  await assertRejects(
    () => planRecipe(all),
    CapillaryError,
    "Cannot train: train.freeze freezes every layer",
  );
});

Deno.test("plan warns of freeze, unfreeze and group settings that change nothing", async () => {
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: [
      'train.freeze=["down1*"]',
      "train.unfreeze=[{epoch: 2, layers: [up*]}, {epoch: 1, layers: [down1*]}]",
      "train.parameterGroups=[{layers: ['*'], learningRate: 0.01}, " +
      "{layers: [head*], learningRate: 0.1}]",
    ],
  });
  const text = formatPlan(recipe, await planRecipe(recipe));
  for (
    const expected of [
      // down1 at width 4 on grey: 3·3·1·4 + 4 = 40 and 3·3·4·4 + 4 = 148 weights.
      "thawed at epoch 1: 2 layers, 188 parameters (warning: train.unfreeze[1] thaws at epoch 1, " +
      "before any training, so their freeze does nothing)",
      "thawed at epoch 2: 0 layers, 0 parameters (warning: train.unfreeze[0] thaws nothing: " +
      "none of its layers is frozen then)",
      "learning rate 0.1: 0 layers, 0 parameters (warning: train.parameterGroups[1] is empty",
    ]
  ) {
    assertEquals(text.includes(expected), true, `${expected}\n--- in ---\n${text}`);
  }
});

Deno.test("plan refuses patches larger than the images, as the run would", async () => {
  // DRIVE's images are 565 wide: a 576² patch cannot be cut.
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ["train.patches.size=576"],
  });
  await assertRejects(
    () => planRecipe(recipe),
    CapillaryError,
    "Cannot cut patches of 576×576 from images of 565×584: set train.patches.size to at most 565 (a multiple of 8: 560)",
  );
});

Deno.test("plan refuses holding out every training image, in the run's words", async () => {
  // drive-smoke loads 2 training images: holding 2 out leaves none (the plan used to print
  // "40 to train from 0 images"; the run refused in train.ts's splitByImage).
  const { recipe } = await loadRecipe(SMOKE, {
    builtins: [core],
    overrides: ["train.validation.images=2"],
  });
  await assertRejects(
    () => planRecipe(recipe),
    CapillaryError,
    "Cannot hold out 2 validation images of 2: none would be left to train on; lower " +
      "train.validation.images",
  );
});

Deno.test("plan names the stage and the plugin's line of a plan hook that throws or returns no lines", async () => {
  await withTempDir(async (dir) => {
    const plugin = `${dir}/planning.ts`;
    await Deno.writeTextFile(
      plugin,
      [
        `import { definePlugin, defineStage, z } from "${
          new URL("../mod.ts", import.meta.url).href
        }";`,
        "const stage = (name: string, plan: unknown) => defineStage({",
        '  name, kind: "augment", description: "plans wrong", options: z.object({}).strict(),',
        "  plan, run: () => (batch: unknown) => batch,",
        "} as never);",
        'export default definePlugin({ name: "planning", version: "0.0.1", stages: [',
        '  stage("throws", () => { throw new Error("plan exploded"); }),',
        '  stage("no_lines", () => ({ output: undefined, lines: "not an array" })),',
        "] });",
        "",
      ].join("\n"),
    );
    const says = {
      throws: 'Stage "planning/throws" failed: its plan failed: plan exploded ' +
        `(at ${plugin}:7:33)`,
      no_lines: 'Stage "planning/no_lines" failed: its plan returned lines that are a string, ' +
        "not a list; a plan hook returns { output, lines }",
    };
    for (const [name, message] of Object.entries(says)) {
      const { recipe } = await loadRecipe(SMOKE, {
        builtins: [core],
        overrides: [`plugins=[${plugin}]`, `augment=[{use: planning/${name}}]`],
      });
      const error = await assertRejects(() => planRecipe(recipe), StageError);
      assertEquals(error.message.startsWith(message), true, error.message);
    }
  });
});

/** Runs `body` with a fresh temporary folder, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capillary-plan-plugin-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
