import { assertEquals, assertThrows } from "../tests/assert.ts";
import { checkedComponent, type LearningRateSchedule } from "./component.ts";
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
