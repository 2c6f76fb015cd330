import { assertEquals } from "../../tests/assert.ts";
import { consoleProgress, formatDuration, progressBar } from "./progress.ts";

Deno.test("formatDuration() rounds to seconds and shows two units at most", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [0.4, "0s"],
    [42, "42s"],
    [59.4, "59s"],
    [59.5, "1m00s"],
    [60, "1m00s"],
    [185, "3m05s"],
    [3599, "59m59s"],
    [3599.6, "1h00m"],
    [3725, "1h02m"],
    [90061, "25h01m"],
    [-5, "0s"],
    [NaN, "?"],
    [Infinity, "?"],
    [-Infinity, "?"],
  ];
  for (const [seconds, expected] of cases) {
    assertEquals(formatDuration(seconds), expected, String(seconds));
  }
});

/** A progress writing into an array, with a clock the test moves. */
function recorder(isTerminal: boolean) {
  const written: string[] = [];
  const clock = { t: 100 };
  const progress = consoleProgress((text) => written.push(text), isTerminal, () => clock.t);
  return { written, clock, progress };
}

Deno.test("consoleProgress() off a terminal prints a line at most every 5 s, and the last", () => {
  const { written, clock, progress } = recorder(false);
  progress.info("hello");
  const task = progress.task("epoch 1/2", 10);
  const steps: [number, number, Record<string, number | string>][] = [
    [102, 1, { loss: 0.5, lr: 1e-4 }],
    [104, 2, {}],
    [106.9, 3, {}],
    [107, 4, { loss: 0.25, optimizer: "sgd" }],
    [111, 9, {}],
    [111.5, 10, { loss: 0 }],
  ];
  for (const [t, done, fields] of steps) {
    clock.t = t;
    task.update(done, fields);
  }
  clock.t = 112;
  task.done("loss 0.1");
  assertEquals(written, [
    "hello\n",
    "epoch 1/2 1/10 10% 2s elapsed, ETA 18s loss=0.5000 lr=1.00e-4\n",
    "epoch 1/2 4/10 40% 7s elapsed, ETA 11s loss=0.2500 optimizer=sgd\n",
    "epoch 1/2 10/10 100% 12s elapsed, ETA 0s loss=0.0000\n",
    "epoch 1/2 done in 12s: loss 0.1\n",
  ]);
});

Deno.test("consoleProgress() on a terminal redraws the line at every update", () => {
  const { written, clock, progress } = recorder(true);
  const task = progress.task("predict", 4);
  task.update(0);
  clock.t = 101;
  task.update(1, { auc: -0.5 });
  clock.t = 101.2;
  task.update(2);
  clock.t = 103;
  task.done();
  // A bar of 20 cells on a terminal: 25 % is 5 full cells.
  assertEquals(written, [
    `\r\x1b[2Kpredict ▕${" ".repeat(20)}▏ 0/4 0% 0s elapsed, ETA ?`,
    `\r\x1b[2Kpredict ▕${"█".repeat(5)}${" ".repeat(15)}▏ 1/4 25% 1s elapsed, ETA 3s auc=-0.5000`,
    `\r\x1b[2Kpredict ▕${"█".repeat(10)}${" ".repeat(10)}▏ 2/4 50% 1s elapsed, ETA 1s`,
    "\r\x1b[2Kpredict done in 3s\n",
  ]);
});

Deno.test("consoleProgress() shows an empty task as complete", () => {
  const { written, progress } = recorder(false);
  progress.task("nothing", 0).update(0);
  assertEquals(written, ["nothing 0/0 100% 0s elapsed, ETA ?\n"]);
});

Deno.test("progressBar() fills cells in eighths", () => {
  assertEquals(progressBar(0), " ".repeat(20));
  assertEquals(progressBar(1), "█".repeat(20));
  assertEquals(progressBar(1 / 160), "▏" + " ".repeat(19)); // one eighth of a cell
  assertEquals(progressBar(0.5 + 4 / 160), "█".repeat(10) + "▌" + " ".repeat(9));
});

Deno.test("consoleProgress() counts against a total changed mid-task", () => {
  const { written, clock, progress } = recorder(false);
  const task = progress.task("epoch 1/5", 312);
  clock.t = 150;
  task.update(100);
  task.setTotal?.(190); // shortened to fit a time budget
  clock.t = 160;
  task.update(190);
  assertEquals(written, [
    "epoch 1/5 100/312 32% 50s elapsed, ETA 1m46s\n",
    "epoch 1/5 190/190 100% 1m00s elapsed, ETA 0s\n",
  ]);
});
