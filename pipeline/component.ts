/**
 * Components: small named parts a stage's options refer to by id, as a
 * recipe refers to stages — `schedule: { use: core/cosine, with: { ... } }`.
 * Plugins register them beside their stages; the recipe is validated against
 * each component's own zod schema, with positions, before anything runs.
 *
 * A component is a factory: `create(options)` gives the object the stage
 * uses (for a learning-rate schedule, a function of training progress), so
 * its options stay plain, serialisable data in the resolved recipe.
 *
 * @module
 */
import { z } from "zod";
import { describeCodeValue } from "./code_value.ts";
import { CapillaryError, describeThrown } from "./errors.ts";
import type { tf as TfNamespace } from "./backend/tfjs.ts";

/** Kinds of component. */
export const COMPONENT_KINDS = ["schedule", "loss", "optimizer"] as const;

/** One of {@link COMPONENT_KINDS}. */
export type ComponentKind = typeof COMPONENT_KINDS[number];

/**
 * The learning rate at `epoch` (fractional; 0 at the start) of `epochs`, from
 * the base rate. A schedule that reacts to validation (reduce on plateau)
 * also has `observe`, which the training loop calls after each epoch with
 * the validation loss, and `state`/`restore` so that checkpoints keep it.
 */
export type LearningRateSchedule = ((epoch: number, base: number, epochs: number) => number) & {
  /** Called after epoch `epoch` (from 1) with its validation loss. */
  observe?(epoch: number, validationLoss: number): void;
  /** JSON state, for checkpoints. */
  state?(): unknown;
  /** Restores what `state` gave. */
  restore?(state: unknown): void;
};

/**
 * A training loss: from the targets (0 or 1) and the predicted probabilities
 * of a batch, both `[batch, height, width, 1]`, a tensor of losses (one per
 * pixel, per patch, or a scalar) that training averages and minimises. It is
 * called inside the gradient computation (and in data-parallel workers), so
 * it must be made of differentiable tfjs ops and read no values back.
 */
export type LossFunction = (
  yTrue: TfNamespace.Tensor,
  yPred: TfNamespace.Tensor,
) => TfNamespace.Tensor;

/**
 * An optimizer factory: a new TensorFlow.js optimizer (`tf.train.sgd(rate)`,
 * a subclass of `tf.Optimizer` of your own) that starts at `learningRate`.
 * `core/train` calls it once per weight it trains (so that each weight's
 * state is its own, whichever weights thaw or join a parameter group), with
 * the base rate of the weight's parameter group, and then:
 *
 * - `applyGradients(gradients)` with the weight's gradient at each step;
 * - before each step, the schedule's rate: through `setLearningRate(rate)`
 *   where the optimizer has it (tfjs's SGD and momentum), else by assigning
 *   its `learningRate` field, which it must read at each update (tfjs's Adam,
 *   RMSProp, Adagrad and Adadelta do);
 * - `getWeights()` when it checkpoints, and `setWeights(weights)` with what
 *   it gave when a run resumes (both async, as tfjs's), so all its state
 *   must be there (tfjs's Adamax has none: it cannot checkpoint).
 *
 * The factory is called outside any `tf.tidy`; state an optimizer makes in
 * `applyGradients` must be kept (`tf.keep`, or variables), as tfjs's are.
 */
export type OptimizerFactory = (learningRate: number) => TfNamespace.Optimizer;

/** What `create` gives, per kind. */
export interface ComponentOutput {
  schedule: LearningRateSchedule;
  loss: LossFunction;
  optimizer: OptimizerFactory;
}

/** What a schedule must return when called, in the words of the errors that check it. */
const RATE = "a finite learning rate >= 0 at every epoch";

/**
 * The function `create` gave, checked at each call, so that a plugin's
 * mistake is said as the schedule's and not the training loop's (a NaN
 * loss, or a negative rate that trains silently). `observe`, `state` and
 * `restore` are the original's.
 */
function checkedSchedule(id: string, made: unknown): LearningRateSchedule {
  const schedule = made as LearningRateSchedule;
  const fix = "fix the function its create(options) returns";
  const checked: LearningRateSchedule = (epoch, base, epochs) => {
    const call = `when called with epoch ${epoch}, base ${base}, epochs ${epochs}`;
    let rate: unknown;
    try {
      rate = schedule(epoch, base, epochs);
    } catch (error) {
      throw new CapillaryError(
        `Schedule "${id}" threw ${call}: ${
          describeThrown(error)
        }; a schedule must return ${RATE}; ${fix}`,
        "E_COMPONENT",
        { cause: error },
      );
    }
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0) {
      throw new CapillaryError(
        `Schedule "${id}" returned ${
          describeCodeValue(rate)
        } ${call}; a schedule must return ${RATE}; ${fix}`,
        "E_COMPONENT",
      );
    }
    return rate;
  };
  for (const key of ["observe", "state", "restore"] as const) {
    const method = schedule[key];
    if (method === undefined) continue;
    if (typeof method !== "function") {
      throw new CapillaryError(
        `Cannot create schedule "${id}": its create(options) returned a schedule whose ${key} ` +
          `is ${
            describeCodeValue(method)
          }; observe, state and restore must be functions where it has them`,
        "E_COMPONENT",
      );
    }
    // Bound: a schedule's methods may keep their state on `this`.
    Object.assign(checked, { [key]: method.bind(schedule) });
  }
  return checked;
}

/** What a loss must return when called, in the words of the errors that check it. */
const LOSSES = "a float32 tensor of losses: one per pixel, one per patch, or a scalar";

/**
 * The loss `create` gave, checked at each call (tensor shapes, not values, so
 * that nothing is read back inside the step): a plugin's mistake is said as
 * the loss's, not as a tfjs error deep in training.
 */
function checkedLoss(id: string, made: unknown): LossFunction {
  const loss = made as LossFunction;
  const fix = "fix the function its create(options) returns";
  return (yTrue, yPred) => {
    const call = `on a batch of shape [${yPred.shape.join(", ")}]`;
    let out: unknown;
    try {
      out = loss(yTrue, yPred);
    } catch (error) {
      throw new CapillaryError(
        `Loss "${id}" threw ${call}: ${
          describeThrown(error)
        }; a loss must return ${LOSSES}; ${fix}`,
        "E_COMPONENT",
        { cause: error },
      );
    }
    const tensor = out as TfNamespace.Tensor;
    const isTensor = typeof out === "object" && out !== null && Array.isArray(tensor.shape) &&
      typeof tensor.dtype === "string" && typeof tensor.dataSync === "function";
    const leading = isTensor && (tensor.rank === 0 || tensor.shape[0] === yPred.shape[0]);
    if (!isTensor || tensor.dtype !== "float32" || !leading) {
      const what = !isTensor
        ? describeCodeValue(out)
        : tensor.dtype !== "float32"
        ? `a ${tensor.dtype} tensor`
        : `a tensor of shape [${tensor.shape.join(", ")}]`;
      throw new CapillaryError(
        `Loss "${id}" returned ${what} ${call}; a loss must return ${LOSSES} (a tensor with ` +
          `the batch's ${yPred.shape[0]} as its first dimension, or of rank 0); ${fix}`,
        "E_COMPONENT",
      );
    }
    return tensor;
  };
}

/** What an optimizer factory must return, in the words of the errors that check it. */
const OPTIMIZER = "a TensorFlow.js optimizer (applyGradients, getWeights and setWeights, and " +
  "setLearningRate(rate) or a numeric learningRate field the schedule sets), e.g. " +
  "capillary.tf.train.sgd(learningRate)";

/**
 * Sets the learning rate of an optimizer an optimizer component made (see
 * {@link OptimizerFactory}): with `setLearningRate` where it has one, else
 * by assigning its `learningRate` field.
 *
 * @param optimizer What the factory gave.
 * @param rate The new rate.
 *
 * @example Usage
 * ```ts
 * import { setOptimizerLearningRate } from "./component.ts";
 * import { tf } from "./backend/tfjs.ts";
 * const adam = tf.train.adam(0.1);
 * setOptimizerLearningRate(adam, 0.05);
 * console.assert((adam as unknown as { learningRate: number }).learningRate === 0.05);
 * ```
 */
export function setOptimizerLearningRate(optimizer: TfNamespace.Optimizer, rate: number): void {
  const settable = optimizer as unknown as {
    setLearningRate?: (rate: number) => void;
    learningRate?: number;
  };
  if (typeof settable.setLearningRate === "function") settable.setLearningRate(rate);
  else settable.learningRate = rate;
}

/**
 * The factory `create` gave, checked at each call: it must return an
 * optimizer with the methods `core/train` calls, so that a plugin's mistake
 * is said as the optimizer's and not as a TypeError in the training loop.
 */
function checkedOptimizer(id: string, made: unknown): OptimizerFactory {
  const factory = made as OptimizerFactory;
  const fix = "fix the function its create(options) returns";
  return (learningRate) => {
    const call = `when called with learning rate ${learningRate}`;
    let out: unknown;
    try {
      out = factory(learningRate);
    } catch (error) {
      throw new CapillaryError(
        `Optimizer "${id}" threw ${call}: ${
          describeThrown(error)
        }; an optimizer factory must return ${OPTIMIZER}; ${fix}`,
        "E_COMPONENT",
        { cause: error },
      );
    }
    const optimizer = out as Record<string, unknown>;
    const isObject = typeof out === "object" && out !== null;
    const missing = isObject
      ? ["applyGradients", "getWeights", "setWeights"].filter((key) =>
        typeof optimizer[key] !== "function"
      )
      : [];
    const rateless = isObject && typeof optimizer.setLearningRate !== "function" &&
      typeof optimizer.learningRate !== "number";
    if (!isObject || missing.length || rateless) {
      // Nothing of an optimizer (a promise from an async factory, say): said as what it is.
      const what = !isObject || missing.length === 3
        ? describeCodeValue(out)
        : missing.length
        ? `an object without ${missing.join(", ")}`
        : "an optimizer with neither setLearningRate(rate) nor a numeric learningRate field " +
          "(the schedule could not change its rate)";
      throw new CapillaryError(
        `Optimizer "${id}" returned ${what} ${call}; an optimizer factory must return ` +
          `${OPTIMIZER}; ${fix}`,
        "E_COMPONENT",
      );
    }
    return withNamedFailures(id, out as TfNamespace.Optimizer);
  };
}

/**
 * The optimizer with its `applyGradients`, `getWeights` and `setWeights`
 * wrapped, so that one that throws (or rejects) is said as the plugin's
 * optimizer's fault, not as a tfjs error inside the training step or a
 * checkpoint.
 */
function withNamedFailures(id: string, optimizer: TfNamespace.Optimizer): TfNamespace.Optimizer {
  const fault = (method: string, error: unknown) =>
    new CapillaryError(
      `Optimizer "${id}"'s ${method} threw: ${describeThrown(error)}; fix the optimizer its ` +
        "factory makes",
      "E_COMPONENT",
      { cause: error },
    );
  const own = optimizer as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ["applyGradients", "getWeights", "setWeights"]) {
    const original = own[method];
    own[method] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = original.apply(optimizer, args);
      } catch (error) {
        throw fault(method, error);
      }
      return result instanceof Promise
        ? result.catch((error: unknown) => {
          throw fault(method, error);
        })
        : result;
    };
  }
  return optimizer;
}

/** Per kind: what `create` must return, in words, and the check that wraps what it gave. */
const CONTRACTS: {
  [K in ComponentKind]: {
    returns: string;
    example: string;
    fits: (made: unknown) => boolean;
    check: (id: string, made: unknown) => ComponentOutput[K];
  };
} = {
  schedule: {
    returns: "a function (epoch, base, epochs) => learning rate",
    example: "create: () => (epoch, base) => base",
    fits: (made) => typeof made === "function",
    check: checkedSchedule,
  },
  loss: {
    returns: "a function (yTrue, yPred) => tensor of losses",
    example: "create: () => (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred)",
    fits: (made) => typeof made === "function",
    check: checkedLoss,
  },
  optimizer: {
    returns: "a function (learningRate) => optimizer",
    example: "create: () => (learningRate) => tf.train.sgd(learningRate)",
    fits: (made) => typeof made === "function",
    check: checkedOptimizer,
  },
};

/**
 * Builds a component with `create` and checks what it gave against its
 * kind's contract ({@link ComponentOutput}), so that a plugin's mistake is
 * an error naming the component rather than a failure later in the stage
 * that uses it. A schedule is wrapped so that each call that throws, or
 * returns anything but a finite number >= 0, is such an error too. The
 * engine's `createComponent` builds every component through it.
 *
 * @param kind The component's kind.
 * @param id The component's id, `plugin/name`, for errors.
 * @param create Calls the component's `create` with its options.
 * @returns What `create` gave, wrapped.
 * @throws {CapillaryError} `E_COMPONENT` when `create` throws or gives the wrong thing.
 *
 * @example Usage
 * ```ts
 * import { checkedComponent } from "./component.ts";
 * const schedule = checkedComponent("schedule", "demo/neg", () => (_e: number, base: number) => -base);
 * let message = "";
 * try {
 *   schedule(0, 0.1, 5);
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * console.assert(message.startsWith('Schedule "demo/neg" returned -0.1 when called with epoch 0'));
 * ```
 */
export function checkedComponent<K extends ComponentKind>(
  kind: K,
  id: string,
  create: () => unknown,
): ComponentOutput[K] {
  const contract = CONTRACTS[kind];
  const head = `Cannot create ${kind} "${id}": its create(options)`;
  let made: unknown;
  try {
    made = create();
  } catch (error) {
    throw new CapillaryError(
      `${head} threw ${describeThrown(error)}; fix it so that it returns ${contract.returns}`,
      "E_COMPONENT",
      { cause: error },
    );
  }
  if (!contract.fits(made)) {
    throw new CapillaryError(
      `${head} returned ${
        describeCodeValue(made)
      }; it must return ${contract.returns}, e.g. ${contract.example}`,
      "E_COMPONENT",
    );
  }
  return contract.check(id, made);
}

/** A component implementation: named, with a zod schema for its options. */
export interface ComponentDefinition<
  K extends ComponentKind = ComponentKind,
  S extends z.ZodType = z.ZodType,
> {
  /** The name within its plugin (recipes write `plugin/name`). */
  readonly name: string;
  /** What it is. */
  readonly kind: K;
  /** One line on what it does. */
  readonly description: string;
  /** Its options' schema: the single source of their types, defaults and docs. */
  readonly options: S;
  /** Builds the component from its validated options. */
  create(options: z.output<S>): ComponentOutput[K];
}

/**
 * Declares a learning-rate schedule.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { defineSchedule } from "./component.ts";
 * const halving = defineSchedule({
 *   name: "halving",
 *   description: "Halves the rate every epoch.",
 *   options: z.object({}).strict(),
 *   create: () => (epoch, base) => base * 0.5 ** Math.floor(epoch),
 * });
 * console.assert(halving.create({})(2.5, 1, 5) === 0.25);
 * ```
 */
export function defineSchedule<S extends z.ZodType>(
  definition: Omit<ComponentDefinition<"schedule", S>, "kind">,
): ComponentDefinition<"schedule", S> {
  return { ...definition, kind: "schedule" };
}

/**
 * Declares a training loss (see {@link LossFunction}); a stage that takes a
 * `loss` option (`core/train`'s) builds it with `context.createComponent`.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { defineLoss } from "./component.ts";
 * import { tf } from "./backend/tfjs.ts";
 * const squared = defineLoss({
 *   name: "squared",
 *   description: "Mean squared error between probability and target.",
 *   options: z.object({}).strict(),
 *   create: () => (yTrue, yPred) => tf.square(tf.sub(yPred, yTrue)),
 * });
 * const loss = squared.create({})(tf.tensor([1, 0]), tf.tensor([0.5, 0.5]));
 * console.assert(loss.dataSync().join() === "0.25,0.25");
 * ```
 */
export function defineLoss<S extends z.ZodType>(
  definition: Omit<ComponentDefinition<"loss", S>, "kind">,
): ComponentDefinition<"loss", S> {
  return { ...definition, kind: "loss" };
}

/**
 * Declares an optimizer (see {@link OptimizerFactory}); `core/train` builds
 * it when its `optimizer` names it (`{ use: plugin/name, with: { ... },
 * learningRate: 0.01 }`), one optimizer per weight from the factory.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { defineOptimizer } from "./component.ts";
 * import { tf } from "./backend/tfjs.ts";
 * const rmsprop = defineOptimizer({
 *   name: "rmsprop",
 *   description: "RMSProp, as TensorFlow.js has it.",
 *   options: z.object({ decay: z.number().min(0).max(1).default(0.9) }).strict(),
 *   create: ({ decay }) => (learningRate) => tf.train.rmsprop(learningRate, decay),
 * });
 * const optimizer = rmsprop.create({ decay: 0.9 })(0.01);
 * console.assert(optimizer instanceof tf.Optimizer);
 * optimizer.dispose();
 * ```
 */
export function defineOptimizer<S extends z.ZodType>(
  definition: Omit<ComponentDefinition<"optimizer", S>, "kind">,
): ComponentDefinition<"optimizer", S> {
  return { ...definition, kind: "optimizer" };
}

/**
 * Where a component that `createComponent` built came from: what another
 * thread needs to build the same component (a data-parallel worker its loss).
 */
export interface ComponentSource {
  /** Its kind. */
  readonly kind: ComponentKind;
  /** `plugin/name`, for errors. */
  readonly id: string;
  /** Its plugin's module, as `import()` takes it. */
  readonly specifier: string;
  /** Its name within the plugin. */
  readonly name: string;
  /** Its validated options. */
  readonly options: Record<string, unknown>;
}

const SOURCES = new WeakMap<object, ComponentSource>();

/**
 * Records where a built component came from (the engine's `createComponent`
 * does, for components of plugins loaded from modules).
 *
 * @param made What `createComponent` gave.
 * @param source Where it came from.
 */
export function recordComponentSource(made: unknown, source: ComponentSource): void {
  if ((typeof made === "object" && made !== null) || typeof made === "function") {
    SOURCES.set(made as object, source);
  }
}

/**
 * Where a component `createComponent` built came from, or `undefined` for a
 * built-in plugin's (which a stage of the same plugin knows how to rebuild).
 *
 * @param made What `createComponent` gave.
 * @returns Its plugin module, name and options.
 *
 * @example Usage
 * ```ts
 * import { componentSource, recordComponentSource } from "./component.ts";
 * const loss = () => {};
 * const source = { kind: "loss", id: "p/l", specifier: "file:///p.ts", name: "l", options: {} } as const;
 * recordComponentSource(loss, source);
 * console.assert(componentSource(loss) === source && componentSource(() => {}) === undefined);
 * ```
 */
export function componentSource(made: unknown): ComponentSource | undefined {
  return (typeof made === "object" && made !== null) || typeof made === "function"
    ? SOURCES.get(made as object)
    : undefined;
}

/** A reference to a component in a stage's options, as a recipe writes it. */
export interface ComponentRef {
  /** `plugin/name`. */
  readonly use: string;
  /** The component's options (validated against its schema when the recipe loads). */
  readonly with: Record<string, unknown>;
}

/**
 * The metadata key that marks a component reference's zod schema (and, since
 * zod copies metadata, its JSON Schema), with its kind as value.
 */
export const COMPONENT_REF_MARK = "capillaryComponent";

/** The keys of a component reference: `use` and `with`. */
function refShape(kind: ComponentKind) {
  return {
    use: z.string().describe(`The ${kind}, as \`plugin/name\`.`),
    with: z.record(z.string(), z.unknown()).nullable().default({})
      .transform((v) => v ?? {})
      .describe(`The ${kind}'s options.`),
  };
}

/**
 * The zod schema of a component reference of `kind` in a stage's options.
 * The engine finds these in a stage's options schema, checks `use` against
 * the registered components of that kind and `with` against the one named.
 *
 * @param kind The component kind.
 * @param fallback The default reference, when the option may be left out.
 */
export function componentRef(kind: ComponentKind, fallback?: ComponentRef) {
  const ref = z.object(refShape(kind)).strict().meta({ [COMPONENT_REF_MARK]: kind });
  return fallback ? ref.default(fallback) : ref;
}

/**
 * A component reference with settings of the stage's own beside `use` and
 * `with` (`core/train`'s optimizer: `{ use, with, learningRate }`). It may be
 * one choice of a union of the option's (beside the stage's own built-in
 * kinds), which the engine finds as it finds a plain {@link componentRef}.
 *
 * @param kind The component kind.
 * @param extra The other keys' schemas.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { componentOptions, componentRefWith } from "./component.ts";
 * const options = z.object({
 *   optimizer: z.union([
 *     z.object({ type: z.literal("sgd") }).strict(),
 *     componentRefWith("optimizer", { learningRate: z.number().positive() }),
 *   ]),
 * });
 * console.assert(componentOptions(options).get("optimizer") === "optimizer");
 * ```
 */
export function componentRefWith<S extends z.core.$ZodShape>(kind: ComponentKind, extra: S) {
  return z.object({ ...refShape(kind), ...extra }).strict().meta({ [COMPONENT_REF_MARK]: kind });
}

/** The kind of the component reference `schema` is, through wrappers and union choices. */
function refKindOf(schema: z.ZodType | undefined, depth = 0): ComponentKind | undefined {
  if (!schema || depth > 6) return undefined;
  const kind = z.globalRegistry.get(schema)?.[COMPONENT_REF_MARK] as ComponentKind | undefined;
  if (kind) return kind;
  const def = (schema as unknown as { def?: { innerType?: z.ZodType; options?: z.ZodType[] } })
    .def;
  // A union's choices: one of them may be a reference (`componentRefWith`).
  for (const option of def?.options ?? []) {
    const found = refKindOf(option, depth + 1);
    if (found) return found;
  }
  // Through .default() / .optional() / .nullable() wrappers.
  return refKindOf(def?.innerType, depth + 1);
}

/**
 * The component references among a stage's top-level options: option name
 * to kind. Only top-level options are searched, through `.default()`,
 * `.optional()` and `.nullable()` wrappers and the choices of a union; the
 * value of an option whose union has other choices is a reference only
 * where it has `use`.
 */
export function componentOptions(options: z.ZodType): Map<string, ComponentKind> {
  const found = new Map<string, ComponentKind>();
  const shape = (options as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape) return found;
  for (const [key, schema] of Object.entries(shape)) {
    const kind = refKindOf(schema);
    if (kind) found.set(key, kind);
  }
  return found;
}
