import { assert, assertEquals, assertRejects, assertThrows } from "../tests/assert.ts";
import { z } from "zod";
import {
  checkedComponent,
  componentOptions,
  componentRef,
  componentRefWith,
  type LearningRateSchedule,
  setOptimizerLearningRate,
} from "./component.ts";
import { tf } from "./backend/tfjs.ts";
import { CapillaryError } from "./errors.ts";

const HERE = new URL(import.meta.url).pathname;
const CREATE = "it must return a function (epoch, base, epochs) => learning rate, " +
  "e.g. create: () => (epoch, base) => base";
const RATE = "a schedule must return a finite learning rate >= 0 at every epoch; " +
  "fix the function its create(options) returns";

/** The schedule `rate` gives, through the engine's check, as `demo/lr`. */
const scheduleOf = (rate: (epoch: number, base: number, epochs: number) => unknown) =>
  checkedComponent("schedule", "demo/lr", () => rate);

Deno.test("checkedComponent() passes a schedule's finite rates >= 0 through", () => {
  const schedule = scheduleOf((epoch, base, epochs) => base * (1 - epoch / epochs));
  assertEquals(schedule(0, 0.1, 4), 0.1);
  assertEquals(schedule(2, 0.1, 4), 0.05);
  assertEquals(schedule(4, 0.1, 4), 0);
  assertEquals(schedule.observe, undefined);
  assertEquals(schedule.state, undefined);
});

Deno.test("checkedComponent() names the schedule, the call and the value when a rate is wrong", () => {
  const cases: [unknown, string][] = [
    [NaN, "NaN"],
    [-0.05, "-0.05"],
    [Infinity, "Infinity"],
    ["0.1", '"0.1"'],
    [undefined, "undefined"],
    [Promise.resolve(0.1), "a promise"],
  ];
  for (const [value, shown] of cases) {
    const schedule = scheduleOf(() => value);
    const error = assertThrows(() => schedule(0.25, 0.05, 3), CapillaryError);
    assertEquals(
      error.message,
      `Schedule "demo/lr" returned ${shown} when called with epoch 0.25, base 0.05, epochs 3; ${RATE}`,
    );
    assertEquals(error.code, "E_COMPONENT");
  }
});

Deno.test("checkedComponent() says where a schedule threw, and with what call", () => {
  const schedule = scheduleOf((epoch) => {
    if (epoch > 1) throw new RangeError("no rate past epoch 1");
    return 0.1;
  });
  assertEquals(schedule(1, 0.1, 2), 0.1);
  const error = assertThrows(() => schedule(1.5, 0.1, 2), CapillaryError);
  assertEquals(
    error.message.replace(/:\d+:\d+\)/, ":L:C)"),
    'Schedule "demo/lr" threw when called with epoch 1.5, base 0.1, epochs 2: ' +
      `RangeError: no rate past epoch 1 (at ${HERE}:L:C); ${RATE}`,
  );
  assertEquals((error.cause as Error).message, "no rate past epoch 1");
});

Deno.test("checkedComponent() rejects a create that gives no function, or throws", () => {
  const cases: [unknown, string][] = [
    [0.01, "0.01"],
    [undefined, "undefined"],
    [{ rate: 0.01 }, "an object"],
    [Promise.resolve(() => 0.01), "a promise"],
  ];
  for (const [made, shown] of cases) {
    const error = assertThrows(
      () => checkedComponent("schedule", "demo/lr", () => made),
      CapillaryError,
    );
    assertEquals(
      error.message,
      `Cannot create schedule "demo/lr": its create(options) returned ${shown}; ${CREATE}`,
    );
    assertEquals(error.code, "E_COMPONENT");
  }
  const error = assertThrows(
    () =>
      checkedComponent("schedule", "demo/lr", () => {
        throw new TypeError("options.period is undefined");
      }),
    CapillaryError,
  );
  assertEquals(
    error.message.replace(/:\d+:\d+\)/, ":L:C)"),
    'Cannot create schedule "demo/lr": its create(options) threw TypeError: ' +
      `options.period is undefined (at ${HERE}:L:C); fix it so that it returns a function ` +
      "(epoch, base, epochs) => learning rate",
  );
});

Deno.test("checkedComponent() keeps a schedule's observe, state and restore, bound to it", () => {
  // Reduce on plateau kept on `this`: unbound, the methods would lose it.
  const plateau = Object.assign((_epoch: number, base: number) => base * plateau.scale, {
    scale: 1,
    observe(this: { scale: number }, _epoch: number, loss: number) {
      if (loss > 0.5) this.scale /= 2;
    },
    state(this: { scale: number }) {
      return this.scale;
    },
    restore(this: { scale: number }, saved: unknown) {
      this.scale = saved as number;
    },
  });
  const schedule = checkedComponent("schedule", "demo/plateau", () => plateau);
  schedule.observe!(1, 0.9);
  assertEquals(schedule(1, 0.1, 5), 0.05);
  assertEquals(schedule.state!(), 0.5);
  schedule.restore!(0.25);
  assertEquals(schedule(2, 0.1, 5), 0.025);
  assertEquals(plateau.scale, 0.25);

  const broken = Object.assign(() => 0.1, { state: 3 }) as unknown as LearningRateSchedule;
  assertThrows(
    () => checkedComponent("schedule", "demo/lr", () => broken),
    CapillaryError,
    'Cannot create schedule "demo/lr": its create(options) returned a schedule whose state is 3; ' +
      "observe, state and restore must be functions where it has them",
  );
});

/** What an optimizer factory must return, in the check's words. */
const OPTIMIZER = "an optimizer factory must return a TensorFlow.js optimizer (applyGradients, " +
  "getWeights and setWeights, and setLearningRate(rate) or a numeric learningRate field the " +
  "schedule sets), e.g. capillary.tf.train.sgd(learningRate); fix the function its " +
  "create(options) returns";

Deno.test("checkedComponent() passes an optimizer factory's optimizers through, rates settable", () => {
  const factory = checkedComponent(
    "optimizer",
    "demo/opt",
    () => (rate: number) => tf.train.adam(rate),
  );
  const adam = factory(0.1);
  assert(adam instanceof tf.Optimizer);
  // Adam has no setter: its field is set, which it reads at each update.
  setOptimizerLearningRate(adam, 0.05);
  assertEquals((adam as unknown as { learningRate: number }).learningRate, 0.05);
  // SGD's rate is a constant its setter replaces (its field would not count).
  const sgd = checkedComponent("optimizer", "demo/sgd", () => (rate: number) => tf.train.sgd(rate))(
    1,
  );
  const w = tf.variable(tf.scalar(1), true, "demo_optimizer_w");
  setOptimizerLearningRate(sgd, 0.5);
  sgd.applyGradients({ [w.name]: tf.scalar(1) });
  assertEquals(w.dataSync()[0], 0.5);
  adam.dispose();
  sgd.dispose();
  w.dispose();
});

Deno.test("an optimizer whose own methods fail is named as the plugin's", async () => {
  const broken = {
    learningRate: 0.1,
    applyGradients() {
      throw new TypeError("no such variable");
    },
    getWeights: () => Promise.reject(new Error("state lost")),
    setWeights: () => Promise.resolve(),
  };
  const optimizer = checkedComponent("optimizer", "demo/broken", () => () => broken)(0.1);
  const step = assertThrows(() => optimizer.applyGradients({}), CapillaryError);
  assertEquals(
    step.message.replace(/ \(at [^)]*\)/, ""),
    `Optimizer "demo/broken"'s applyGradients threw: TypeError: no such variable; fix the ` +
      "optimizer its factory makes",
  );
  const saved = await assertRejects(() => optimizer.getWeights(), CapillaryError);
  assertEquals(
    saved.message.startsWith(`Optimizer "demo/broken"'s getWeights threw: state lost`),
    true,
  );
  await optimizer.setWeights([]); // a method that works is passed through
});

Deno.test("checkedComponent() names an optimizer whose factory gives no optimizer, or throws", () => {
  const cases: [unknown, string][] = [
    [undefined, "undefined"],
    [0.01, "0.01"],
    [Promise.resolve(tf.train.sgd(0.01)), "a promise"],
    [{ applyGradients() {} }, "an object without getWeights, setWeights"],
    [
      {
        applyGradients() {},
        getWeights: () => Promise.resolve([]),
        setWeights: () => Promise.resolve(),
      },
      "an optimizer with neither setLearningRate(rate) nor a numeric learningRate field (the " +
      "schedule could not change its rate)",
    ],
  ];
  for (const [made, shown] of cases) {
    const factory = checkedComponent("optimizer", "demo/opt", () => () => made);
    const error = assertThrows(() => factory(0.01), CapillaryError);
    assertEquals(
      error.message,
      `Optimizer "demo/opt" returned ${shown} when called with learning rate 0.01; ${OPTIMIZER}`,
    );
    assertEquals(error.code, "E_COMPONENT");
  }
  const throwing = checkedComponent("optimizer", "demo/opt", () => () => {
    throw new RangeError("no rate above 0.001");
  });
  const error = assertThrows(() => throwing(0.01), CapillaryError);
  assertEquals(
    error.message.replace(/:\d+:\d+\)/, ":L:C)"),
    'Optimizer "demo/opt" threw when called with learning rate 0.01: RangeError: no rate above ' +
      `0.001 (at ${HERE}:L:C); ${OPTIMIZER}`,
  );
  // `create` itself must give a function.
  assertThrows(
    () => checkedComponent("optimizer", "demo/opt", () => tf.train.sgd(0.1)),
    CapillaryError,
    'Cannot create optimizer "demo/opt": its create(options) returned ',
  );
});

Deno.test("componentOptions() finds a reference among a union's choices, through wrappers", () => {
  const options = z.object({
    optimizer: z.union([
      z.object({ type: z.literal("sgd").default("sgd") }).strict(),
      componentRefWith("optimizer", { learningRate: z.number() }),
    ]).default({ type: "sgd" }),
    loss: componentRef("loss").nullable().default(null),
    plain: z.union([z.number(), z.string()]),
  });
  assertEquals([...componentOptions(options)], [["optimizer", "optimizer"], ["loss", "loss"]]);
  assertEquals(
    options.parse({ optimizer: { use: "p/o", learningRate: 0.1 }, plain: 1 }).optimizer,
    { use: "p/o", with: {}, learningRate: 0.1 },
  );
});
