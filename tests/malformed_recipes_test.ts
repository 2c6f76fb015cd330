/**
 * Malformed recipes, each loaded from a file the way the CLI loads it: the
 * error class, the position of the first problem and what it says.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import { MINIMAL_RECIPE } from "./tiny_runs.ts";
import {
  CapillaryError,
  formatIssue,
  formatPosition,
  loadRecipe,
  Random,
  RecipeSyntaxError,
  RecipeValidationError,
} from "../mod.ts";
import core from "../plugins/core/mod.ts";

const OK = MINIMAL_RECIPE;

/** `OK` with `core/train` given the options `with` (which start at column 37 of line 5). */
const trainWith = (options: string) =>
  OK.replace("use: core/train }", `use: core/train, with: { ${options} } }`);

/** `OK` with the `loose` plugin, whose options schemas are not strict, and `augment` as given. */
const looseUrl = import.meta.resolve("./fixtures/loose_options_plugin.ts");
const withLoose = (augment: string, recipe = OK) =>
  `${recipe}  augment: ${augment}\nplugins: [${looseUrl}]\n`;

const dir = await Deno.makeTempDir({ prefix: "capillary-malformed-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const flipRotateUrl = import.meta.resolve("../plugins/core/stages/flip_rotate.ts");
const pluginFiles: Record<string, string> = {
  "throws.ts": 'throw new Error("boom at import");\n',
  "nothing.ts": "export const answer = 42;\n",
  "future.ts": 'export default { name: "future", version: "2.0.0", apiVersion: 99, stages: [] };\n',
  "a.ts": 'export default { name: "same", version: "1.0.0", stages: [] };\n',
  "b.ts": 'export default { name: "same", version: "1.0.0", stages: [] };\n',
  "badname.ts": `import { flipRotateStage } from "${flipRotateUrl}";
export default {
  name: "badname",
  version: "1.0.0",
  stages: [{ ...flipRotateStage, name: "Flip Rotate" }],
};
`,
};
for (const [name, text] of Object.entries(pluginFiles)) {
  await Deno.writeTextFile(`${dir}/${name}`, text);
}

interface Case {
  name: string;
  recipe: string;
  error: typeof RecipeValidationError | typeof RecipeSyntaxError;
  /** `line:column` of the first problem. */
  at: string;
  /** Fragments of the first problem's message and hint. */
  says: string[];
}

const CASES: Case[] = [
  {
    name: "a from on a stage other than the model",
    recipe: OK.replace("use: core/train }", "use: core/train, from: runs/x }"),
    error: RecipeValidationError,
    at: "5:29",
    says: ['"from" belongs to the model stage, not train', "write it under stages.model"],
  },
  {
    name: "an SGD option given to Adam",
    recipe: trainWith("optimizer: { type: adam, momentum: 0.9 }"),
    error: RecipeValidationError,
    at: "5:62",
    says: ['unknown option "momentum"', 'expected one of "type", "learningRate", "beta1"'],
  },
  {
    name: "an unfreeze epoch after the last epoch",
    recipe: trainWith("epochs: 2, unfreeze: [{ epoch: 3 }]"),
    error: RecipeValidationError,
    at: "5:68",
    says: ["stages.train.with.unfreeze.0.epoch: epoch 3 is after the last epoch (2)"],
  },
  {
    name: "a value outside a union of literals",
    recipe: OK.replace("use: core/bcdunet }", "use: core/bcdunet, with: { dense: 2 } }"),
    error: RecipeValidationError,
    at: "4:46",
    says: ["stages.model.with.dense: expected one of 1, 3, got 2"],
  },
  {
    name: "an unknown top-level key",
    recipe: OK.replace("seed: 1", "sed: 1"),
    error: RecipeValidationError,
    at: "1:1",
    says: ['unknown option "sed"', 'did you mean "seed"?'],
  },
  {
    name: "a seed of the wrong type",
    recipe: OK.replace("seed: 1", 'seed: "x"'),
    error: RecipeValidationError,
    at: "1:7",
    says: ['seed: expected a number, got "x"'],
  },
  {
    name: "an unknown backend",
    recipe: OK + "backend: webgp\n",
    error: RecipeValidationError,
    at: "7:10",
    says: ['got "webgp"', 'did you mean "webgpu"?'],
  },
  {
    name: "an unknown stage kind",
    recipe: OK + "  trian: { use: core/train }\n",
    error: RecipeValidationError,
    at: "7:3",
    says: ['unknown stage kind "trian"', 'did you mean "train"?'],
  },
  {
    name: "a missing required stage",
    recipe: OK.replace("  evaluate: { use: core/segmentation_metrics }\n", ""),
    error: RecipeValidationError,
    at: "2:1",
    says: ['missing stage "evaluate"', "core/segmentation_metrics"],
  },
  {
    name: "an unknown stage id",
    recipe: OK.replace("use: core/train", "use: core/trian"),
    error: RecipeValidationError,
    at: "5:17",
    says: ['unknown stage "core/trian"', 'did you mean "core/train"'],
  },
  {
    name: "an unscoped stage id",
    recipe: OK.replace("use: core/train", "use: train"),
    error: RecipeValidationError,
    at: "5:17",
    says: ['unknown stage "train"', 'stage ids carry their plugin: did you mean "core/train"?'],
  },
  {
    name: "a stage in the wrong slot",
    recipe: OK.replace("use: core/bcdunet", "use: core/train"),
    error: RecipeValidationError,
    at: "4:17",
    says: ['"core/train" is a train stage and cannot fill the model slot', "core/bcdunet"],
  },
  {
    name: "an unknown option",
    recipe: trainWith("epoch: 3"),
    error: RecipeValidationError,
    at: "5:37",
    says: ['stages.train.with.epoch: unknown option "epoch"', 'did you mean "epochs"?'],
  },
  {
    name: "an unknown nested option",
    recipe: trainWith("optimizer: { momentun: 0.8 }"),
    error: RecipeValidationError,
    at: "5:50",
    says: ['unknown option "momentun"', 'did you mean "momentum"?'],
  },
  {
    name: "an option of the wrong type",
    recipe: trainWith("epochs: ten"),
    error: RecipeValidationError,
    at: "5:45",
    says: ['stages.train.with.epochs: expected a number, got "ten"'],
  },
  {
    name: "an option below its range",
    recipe: trainWith("epochs: 0"),
    error: RecipeValidationError,
    at: "5:45",
    says: ["expected a value >= 1, got 0"],
  },
  {
    name: "an option above its range",
    recipe: trainWith("clipNorm: -1"),
    error: RecipeValidationError,
    at: "5:47",
    says: ["stages.train.with.clipNorm: expected a value > 0, got -1"],
  },
  {
    name: "a patch size that is not a multiple of 8",
    recipe: trainWith("patches: { size: 30 }"),
    error: RecipeValidationError,
    at: "5:54",
    says: ["stages.train.with.patches.size", "multiple of 8", "got 30"],
  },
  {
    name: "an unknown schedule",
    recipe: trainWith("schedule: { use: core/cosin }"),
    error: RecipeValidationError,
    at: "5:54",
    says: [
      'stages.train.with.schedule.use: unknown schedule "core/cosin"',
      'did you mean "core/cosine"?',
    ],
  },
  {
    name: "a schedule option out of range",
    recipe: trainWith("schedule: { use: core/step, with: { factor: 2 } }"),
    error: RecipeValidationError,
    at: "5:81",
    says: ["stages.train.with.schedule.with.factor: expected a value <= 1, got 2"],
  },
  {
    name: "a schedule in the old form",
    recipe: trainWith("schedule: { type: cosine }"),
    error: RecipeValidationError,
    at: "5:47",
    says: ["stages.train.with.schedule.use: missing required option (expected a string)"],
  },
  {
    name: "an unknown optimizer type",
    recipe: trainWith("optimizer: { type: adamm }"),
    error: RecipeValidationError,
    at: "5:56",
    says: [
      'stages.train.with.optimizer.type: unknown type "adamm"; did you mean "adam" or "adamw"? ' +
      '(one of "sgd", "adam", "adamw")',
    ],
  },
  {
    name: "an unknown optimizer type in a block map",
    recipe: OK.replace(
      "  train: { use: core/train }",
      "  train:\n    use: core/train\n    with:\n      optimizer:\n        momentum: 0.5\n" +
        "        type: sgdd",
    ),
    error: RecipeValidationError,
    at: "10:15",
    says: [
      'stages.train.with.optimizer.type: unknown type "sgdd"; did you mean "sgd"? ' +
      '(one of "sgd", "adam", "adamw")',
    ],
  },
  {
    name: "an optimizer option of the wrong type",
    recipe: trainWith("optimizer: { type: adam, beta1: high }"),
    error: RecipeValidationError,
    at: "5:69",
    says: ['stages.train.with.optimizer.beta1: expected a number, got "high"'],
  },
  {
    name: "a list for a kind that takes one stage",
    recipe: OK.replace("model: { use: core/bcdunet }", "model: [ { use: core/bcdunet } ]"),
    error: RecipeValidationError,
    at: "4:10",
    says: ['"model" takes one stage, not a list'],
  },
  {
    name: "a stage entry without use",
    recipe: OK.replace("model: { use: core/bcdunet }", "model: { with: { width: 4 } }"),
    error: RecipeValidationError,
    at: "4:10",
    says: ["stages.model.use: missing required option"],
  },
  {
    name: "a misspelt with",
    recipe: OK.replace("use: core/train }", "use: core/train, wth: {} }"),
    error: RecipeValidationError,
    at: "5:29",
    says: ['unknown option "wth"', 'did you mean "with"?'],
  },
  {
    name: "with given as a string",
    recipe: OK.replace("use: core/train }", "use: core/train, with: fast }"),
    error: RecipeValidationError,
    at: "5:35",
    says: ['stages.train.with: expected a map, got "fast"'],
  },
  {
    name: "stages given as a list",
    recipe: "seed: 1\nstages: [load]\n",
    error: RecipeValidationError,
    at: "2:9",
    says: ["stages: expected a map, got a list"],
  },
  {
    name: "a recipe that is a list",
    recipe: "- use: core/train\n- use: core/drive\n",
    error: RecipeValidationError,
    at: "1:1",
    says: ["a recipe must be a map of keys", "got a list"],
  },
  {
    name: "an empty file",
    recipe: "",
    error: RecipeValidationError,
    at: "1:1",
    says: ["stages: missing required option"],
  },
  {
    name: "a duplicate key",
    recipe: OK + "seed: 2\n",
    error: RecipeSyntaxError,
    at: "7:1",
    says: ['key "seed" appears twice in one map, first at line', "seed: 2"],
  },
  {
    name: "a plugin that does not exist",
    recipe: OK + "plugins: [./nope.ts]\n",
    error: RecipeValidationError,
    at: "7:11",
    says: ['cannot load plugin "./nope.ts": module not found', "nope.ts"],
  },
  {
    name: "a plugin that throws at import",
    recipe: OK + "plugins: [./throws.ts]\n",
    error: RecipeValidationError,
    at: "7:11",
    says: ['plugin "./throws.ts" threw while loading: boom at import'],
  },
  {
    name: "a plugin that exports nothing",
    recipe: OK + "plugins: [./nothing.ts]\n",
    error: RecipeValidationError,
    at: "7:11",
    says: ['plugin "./nothing.ts" exports no plugin', "export default definePlugin"],
  },
  {
    name: "a plugin for another API version",
    recipe: OK + "plugins: [./future.ts]\n",
    error: RecipeValidationError,
    at: "7:11",
    says: ['"future" from "./future.ts"', "needs plugin API 99, this Capillary offers 1"],
  },
  {
    name: "two plugins of the same name",
    recipe: OK + "plugins: [./a.ts, ./b.ts]\n",
    error: RecipeValidationError,
    at: "7:19",
    says: ['plugin "same" from "./b.ts"', '"./a.ts" already registered'],
  },
  {
    name: "a plugin with an invalid stage name",
    recipe: OK + "plugins: [./badname.ts]\n",
    error: RecipeValidationError,
    at: "7:11",
    says: ['"./badname.ts"', "stages.0.name: expected lower case letters"],
  },
  {
    name: "decayExclude without a weight decay to spare weights from",
    recipe: trainWith("optimizer: { decayExclude: ['*/bias'] }"),
    error: RecipeValidationError,
    at: "5:64",
    says: ["optimizer.decayExclude", "set optimizer.weightDecay above 0"],
  },
  {
    name: "a misspelt option of a plugin stage whose options are not strict",
    recipe: withLoose("{ use: loose/noise, with: { pp: 0.3 } }"),
    error: RecipeValidationError,
    at: "7:40",
    says: ['stages.augment.with.pp: unknown option "pp"', 'did you mean "p"?'],
  },
  {
    name: "a misspelt nested option of a plugin stage whose options are not strict",
    recipe: withLoose("[{ use: loose/noise, with: { jitter: { sigm: 1 } } }]"),
    error: RecipeValidationError,
    at: "7:51",
    says: ['stages.augment.0.with.jitter.sigm: unknown option "sigm"', 'did you mean "sigma"?'],
  },
  {
    name: "a misspelt option of a plugin schedule whose options are not strict",
    recipe: withLoose(
      "{ use: loose/anything }",
      trainWith("schedule: { use: loose/flat, with: { flor: 0.5 } }"),
    ),
    error: RecipeValidationError,
    at: "5:74",
    says: ['stages.train.with.schedule.with.flor: unknown option "flor"', 'did you mean "floor"?'],
  },
  {
    name: "an unsupported plugin scheme",
    recipe: OK + "plugins: [ftp://example.com/p.ts]\n",
    error: RecipeValidationError,
    at: "7:11",
    says: ['unsupported scheme "ftp:"'],
  },
];

for (const [i, { name, recipe, error, at, says }] of CASES.entries()) {
  Deno.test(`loadRecipe() rejects ${name}`, async () => {
    const file = `${dir}/case-${i}.yaml`;
    await Deno.writeTextFile(file, recipe);
    const thrown: CapillaryError = await assertRejects<CapillaryError>(
      () => loadRecipe(file, { builtins: [core] }),
      error,
    );
    const [position, text] = thrown instanceof RecipeValidationError
      ? [thrown.issues[0].position, formatIssue(thrown.issues[0])]
      : [(thrown as RecipeSyntaxError).position, thrown.message];
    assertEquals(formatPosition(position), `${file}:${at}`);
    for (const fragment of says) {
      assertEquals(text.includes(fragment), true, `${JSON.stringify(fragment)} in ${text}`);
    }
    assertEquals(thrown.message.includes(`${file}:${at}: `), true, thrown.message);
  });
}

/** A recipe that extends others, or is loaded with `--set` overrides. */
interface ComposedCase {
  name: string;
  /** Files written into the case's folder; the recipe loaded is `main.yaml`. */
  files: Record<string, string>;
  overrides?: string[];
  error: typeof RecipeValidationError | typeof CapillaryError;
  /** Where the first problem is: `file:line:column` with file relative to the case's folder, or an override. */
  at?: string;
  says: string[];
}

const BASE = OK;
/** `BASE` with two flip_rotate stages in augment. */
const TWO_AUGMENTS = `${BASE}  augment: [{ use: core/flip_rotate }, { use: core/flip_rotate }]\n`;
const invertPath = new URL("./fixtures/invert_plugin.ts", import.meta.url).pathname;
/** `BASE` with an augment stage of the `fixture` plugin, which it lists on line 8. */
const WITH_INVERT = `${BASE}  augment: [{ use: fixture/invert }]\nplugins: [${invertPath}]\n`;
const COMPOSED_CASES: ComposedCase[] = [
  {
    name: "extends of a missing file",
    files: { "main.yaml": "extends: nowhere.yaml\nseed: 2\n" },
    error: RecipeValidationError,
    at: "main.yaml:1:10",
    says: ['extends: cannot extend "nowhere.yaml": file not found'],
  },
  {
    name: "extends that is not a path",
    files: { "main.yaml": "extends: [base.yaml, 3]\n", "base.yaml": BASE },
    error: RecipeValidationError,
    at: "main.yaml:1:10",
    says: ["expected a recipe path or a list of recipe paths"],
  },
  {
    name: "a recipe that extends itself",
    files: { "main.yaml": "extends: ./main.yaml\n" },
    error: RecipeValidationError,
    at: "main.yaml:1:10",
    says: ["extends cycle: main.yaml → main.yaml", "remove one of these extends"],
  },
  {
    name: "an extends cycle through two files",
    files: { "main.yaml": "extends: a.yaml\n", "a.yaml": "seed: 3\nextends: [main.yaml]\n" },
    error: RecipeValidationError,
    at: "a.yaml:2:11",
    says: ["extends cycle: main.yaml → a.yaml → main.yaml"],
  },
  {
    name: "a base recipe with a bad value, reported in the base",
    files: {
      "main.yaml": "extends: base.yaml\nseed: 4\n",
      "base.yaml": BASE.replace("use: core/train }", "use: core/train, with: { epochs: -1 } }"),
    },
    error: RecipeValidationError,
    at: "base.yaml:5:45",
    says: ["stages.train.with.epochs: expected a value >= 1, got -1"],
  },
  {
    name: "a null that deletes a required stage",
    files: { "main.yaml": "extends: base.yaml\nstages:\n  model: null\n", "base.yaml": BASE },
    error: RecipeValidationError,
    at: "main.yaml:3:3",
    says: ['missing stage "model"'],
  },
  {
    name: "an unset environment variable",
    files: { "main.yaml": BASE.replace("seed: 1", "seed: ${env:CAPILLARY_TEST_UNSET_SEED}") },
    error: RecipeValidationError,
    at: "main.yaml:1:7",
    says: ["seed: environment variable CAPILLARY_TEST_UNSET_SEED is not set", ":-value}"],
  },
  {
    name: "a ${} reference cycle",
    files: { "main.yaml": `name: \${description}\ndescription: \${name}\n${BASE}` },
    error: RecipeValidationError,
    at: "main.yaml:1:7",
    says: ["name: ${...} cycle: name → description → name"],
  },
  {
    name: "an override of an unknown key",
    files: { "main.yaml": BASE },
    overrides: ["trian.epochs=3"],
    error: CapillaryError,
    says: ['--set trian.epochs=3: unknown key "trian"; did you mean "train"?'],
  },
  {
    name: "an override without =",
    files: { "main.yaml": BASE },
    overrides: ["train.epochs"],
    error: CapillaryError,
    says: ["--set train.epochs: expected key.path=value, e.g. --set train.epochs=3"],
  },
  {
    name: "an override of an unknown option",
    files: { "main.yaml": BASE },
    overrides: ["train.epochz=3"],
    error: RecipeValidationError,
    at: "--set train.epochz=3",
    says: ['stages.train.with.epochz: unknown option "epochz"', 'did you mean "epochs"?'],
  },
  {
    name: "an override of the wrong type",
    files: { "main.yaml": BASE },
    overrides: ["seed=abc"],
    error: RecipeValidationError,
    at: "--set seed=abc",
    says: ['seed: expected a number, got "abc"'],
  },
  {
    name: "an override of the optimizer type",
    files: { "main.yaml": BASE },
    overrides: ["train.optimizer.type=adamm"],
    error: RecipeValidationError,
    at: "--set train.optimizer.type=adamm",
    says: [
      'stages.train.with.optimizer.type: unknown type "adamm"; did you mean "adam" or "adamw"? ' +
      '(one of "sgd", "adam", "adamw")',
    ],
  },
  {
    name: "a null override of an unknown option (it deletes nothing, and is still checked)",
    files: { "main.yaml": BASE },
    overrides: ["train.epoch=null"],
    error: RecipeValidationError,
    at: "--set train.epoch=null",
    says: ['stages.train.with.epoch: unknown option "epoch"', 'did you mean "epochs"?'],
  },
  {
    name: "an override map without spaces after its colons",
    files: { "main.yaml": BASE },
    overrides: ["train.patches={size:8,count:16}"],
    error: RecipeValidationError,
    at: "--set train.patches={size:8,count:16}",
    says: [
      'stages.train.with.patches.size:8: unknown option "size:8"',
      "YAML needs a space after the colon: size: 8",
    ],
  },
  {
    name: "an override of a list item past the end of the list",
    files: { "main.yaml": TWO_AUGMENTS },
    overrides: ["augment.2.flip=1"],
    error: CapillaryError,
    says: [
      "--set augment.2.flip=1: augment has 2 items, numbered 0 to 1; to add one, " +
      "--set 'augment={$append: [...]}', or give the list whole: --set 'augment=[...]'",
    ],
  },
  {
    name: "an override of a list item in a chain slot the recipe leaves out",
    files: { "main.yaml": BASE },
    overrides: ["augment.0.flip=1"],
    error: CapillaryError,
    says: [
      "--set augment.0.flip=1: augment has no items; to add one, give the list whole: " +
      "--set 'augment=[...]'",
    ],
  },
  {
    name: "a null override of a list item",
    files: { "main.yaml": TWO_AUGMENTS },
    overrides: ["augment.1=null"],
    error: CapillaryError,
    says: [
      "--set augment.1=null: an item cannot be deleted from augment; give the list whole " +
      "without it: --set 'augment=[...]'",
    ],
  },
  {
    name: "an override of a list item's option, out of range",
    files: { "main.yaml": TWO_AUGMENTS },
    overrides: ["augment.1.flip=2"],
    error: RecipeValidationError,
    at: "--set augment.1.flip=2",
    says: ["stages.augment.1.with.flip: expected a value <= 1, got 2"],
  },
  {
    name: "a base's plugin lost to a plugins list that replaces the base's",
    files: { "main.yaml": "extends: base.yaml\nplugins: [../a.ts]\n", "base.yaml": WITH_INVERT },
    error: RecipeValidationError,
    at: "base.yaml:7:20",
    says: [
      'stages.augment.0.use: unknown stage "fixture/invert"',
      `no loaded plugin is named "fixture": `,
      `base.yaml:8:10 lists ${invertPath}, but the plugins: at `,
      "main.yaml:2:1 replaces that list; to add to them instead, write " +
      "plugins: { $append: [../a.ts] } there",
    ],
  },
  {
    name: "a base's plugin lost to a --set of the plugins",
    files: { "main.yaml": "extends: base.yaml\nseed: 2\n", "base.yaml": WITH_INVERT },
    overrides: ["plugins=[]"],
    error: RecipeValidationError,
    at: "base.yaml:7:20",
    says: [
      `base.yaml:8:10 lists ${invertPath}, but the plugins: at --set plugins=[] replaces ` +
      "that list; to keep them, leave that --set out",
    ],
  },
  {
    name: "an override out of range",
    files: { "main.yaml": BASE },
    overrides: ["train.batchSize=0"],
    error: RecipeValidationError,
    at: "--set train.batchSize=0",
    says: ["stages.train.with.batchSize: expected a value >= 1, got 0"],
  },
];

for (const [i, { name, files, overrides, error, at, says }] of COMPOSED_CASES.entries()) {
  Deno.test(`loadRecipe() rejects ${name}`, async () => {
    const folder = `${dir}/composed-${i}`;
    await Deno.mkdir(folder, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${folder}/${file}`, text);
    }
    const thrown = await assertRejects<CapillaryError>(
      () => loadRecipe(`${folder}/main.yaml`, { builtins: [core], overrides }),
      error,
    );
    const text = thrown instanceof RecipeValidationError
      ? formatIssue(thrown.issues[0])
      : thrown.message;
    if (at !== undefined) {
      const position = (thrown as RecipeValidationError).issues[0].position;
      const expected = at.startsWith("--set") ? at : `${folder}/${at}`;
      assertEquals(formatPosition(position), expected);
    }
    for (const fragment of says) {
      assertEquals(text.includes(fragment), true, `${JSON.stringify(fragment)} in ${text}`);
    }
  });
}

Deno.test("loadRecipe() reports every problem at once, in source order", async () => {
  const file = `${dir}/three.yaml`;
  await Deno.writeTextFile(
    file,
    trainWith("epochs: 0").replace("seed: 1", "sed: 1").replace("core/bcdunet", "core/bcdunett"),
  );
  const error = await assertRejects(
    () => loadRecipe(file, { builtins: [core] }),
    RecipeValidationError,
    "3 problems",
  );
  assertEquals(error.issues.map((i) => [formatPosition(i.position), i.message]), [
    [`${file}:1:1`, 'unknown option "sed"'],
    [`${file}:4:17`, 'unknown stage "core/bcdunett"'],
    [`${file}:5:45`, "expected a value >= 1, got 0"],
  ]);
});

Deno.test("loadRecipe() leaves out a cross-field check of a value that is already wrong", async () => {
  // core/train's check that batchSize covers the workers would compare a batchSize of 0.
  const file = `${dir}/batch-zero.yaml`;
  await Deno.writeTextFile(file, trainWith("batchSize: 0"));
  const inFile = await assertRejects(
    () => loadRecipe(file, { builtins: [core] }),
    RecipeValidationError,
  );
  assertEquals(inFile.issues.map(formatIssue), [
    `${file}:5:48: stages.train.with.batchSize: expected a value >= 1, got 0`,
  ]);
  await Deno.writeTextFile(file, OK);
  const overridden = await assertRejects(
    () => loadRecipe(file, { builtins: [core], overrides: ["train.batchSize=0"] }),
    RecipeValidationError,
  );
  assertEquals(overridden.issues.map(formatIssue), [
    "--set train.batchSize=0: stages.train.with.batchSize: expected a value >= 1, got 0",
  ]);
  // Once the values it compares are valid, the check speaks.
  await Deno.writeTextFile(file, trainWith("batchSize: 2, workers: 3"));
  const checked = await assertRejects(
    () => loadRecipe(file, { builtins: [core] }),
    RecipeValidationError,
  );
  assertEquals(checked.issues.map(formatIssue), [
    `${file}:5:60: stages.train.with.workers: 3 workers need a batchSize of at least 3, got 3`,
  ]);
});

Deno.test("loadRecipe() reports a missing file without a stack trace", async () => {
  const error = await assertRejects(
    () => loadRecipe(`${dir}/absent.yaml`, { builtins: [core] }),
    CapillaryError,
    `Cannot read recipe "${dir}/absent.yaml": file not found`,
  );
  assertEquals(error.code, "E_RECIPE_READ");
  await assertRejects(() => loadRecipe(dir, { builtins: [core] }), CapillaryError, "folder");
});

/** One random edit of the kinds a hurried hand makes. */
function mutate(text: string, random: Random): string {
  const lines = text.split("\n");
  const at = random.int(text.length + 1);
  switch (random.int(6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1: {
      const i = random.int(lines.length);
      lines.splice(i, 0, lines[i]);
      return lines.join("\n");
    }
    case 2: {
      const i = random.int(lines.length), j = random.int(lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join("\n");
    }
    default:
      return text.slice(0, at) + [":", "-", "["][random.int(3)] + text.slice(at);
  }
}

Deno.test("loadRecipe() fails only with Capillary errors on 200 mutations of drive-smoke", async () => {
  const original = await Deno.readTextFile(new URL("../recipes/drive-smoke.yaml", import.meta.url));
  const random = new Random(20240611);
  const file = `${dir}/mutant.yaml`;
  const outcomes = { loaded: 0, syntax: 0, invalid: 0 };
  for (let n = 0; n < 200; n++) {
    let text = original;
    for (let edits = 1 + random.int(2); edits > 0; edits--) text = mutate(text, random);
    await Deno.writeTextFile(file, text);
    const lineCount = text.split("\n").length;
    try {
      await loadRecipe(file, { builtins: [core] });
      outcomes.loaded++;
    } catch (error) {
      if (!(error instanceof CapillaryError)) {
        throw new Error(`mutation ${n} threw ${error}\n--- recipe:\n${text}`);
      }
      const positions = error instanceof RecipeSyntaxError
        ? [error.position]
        : error instanceof RecipeValidationError
        ? error.issues.map((i) => i.position)
        : [];
      assertEquals(positions.length > 0, true, `mutation ${n}: ${error.message}`);
      for (const p of positions) {
        const inside = p.file === file && p.line >= 1 && p.line <= lineCount && p.column >= 1;
        assertEquals(inside, true, `mutation ${n}: ${formatPosition(p)} outside the file`);
      }
      if (error instanceof RecipeSyntaxError) outcomes.syntax++;
      else outcomes.invalid++;
    }
  }
  // The mutations must exercise all three outcomes, or the test proves little.
  assertEquals(Object.values(outcomes).every((count) => count > 10), true, String(outcomes));
});

Deno.test("loadRecipe() keeps what a plugin's loose options accept, and a valid plain map", async () => {
  const file = `${dir}/loose.yaml`;
  await Deno.writeTextFile(
    file,
    withLoose(
      "[{ use: loose/anything, with: { extra: 1 } }, { use: loose/noise, with: { p: 1 } }]",
    ),
  );
  const { recipe } = await loadRecipe(file, { builtins: [core] });
  assertEquals(recipe.stages.get("augment")!.map((s) => s.options), [
    { p: 0.5, extra: 1 },
    { p: 1, jitter: { sigma: 0.1 } },
  ]);
});

Deno.test("loadRecipe() takes a null override of a known key no layer set as its default", async () => {
  const file = `${dir}/null-default.yaml`;
  // core/train's options are a map below the override, without batchSize.
  await Deno.writeTextFile(file, trainWith("epochs: 1"));
  const { recipe } = await loadRecipe(file, {
    builtins: [core],
    overrides: ["train.batchSize=null"],
  });
  assertEquals((recipe.stages.get("train")![0].options as { batchSize: number }).batchSize, 16);
});
