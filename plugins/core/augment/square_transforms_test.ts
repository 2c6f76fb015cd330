import { type SquareSymmetry, transformSquare } from "./square_transforms.ts";
import { assertEquals } from "../../../tests/assert.ts";

function apply(
  values: readonly number[],
  size: number,
  channels: number,
  symmetry: SquareSymmetry,
): number[] {
  const out = new Float32Array(values.length);
  transformSquare(new Float32Array(values), out, 0, size, channels, symmetry);
  return Array.from(out);
}

// The 3×3 patch
//   1 2 3
//   4 5 6
//   7 8 9
// and what each symmetry (mirror left-right first, then turn clockwise) makes of it,
// worked out on paper.
const PATCH_3 = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const EXPECTED_3: [SquareSymmetry, number[], string][] = [
  [{ flip: false, turns: 0 }, [1, 2, 3, 4, 5, 6, 7, 8, 9], "leaves a 3×3 patch as it is"],
  [{ flip: false, turns: 1 }, [7, 4, 1, 8, 5, 2, 9, 6, 3], "turns a 3×3 patch clockwise"],
  [{ flip: false, turns: 2 }, [9, 8, 7, 6, 5, 4, 3, 2, 1], "turns a 3×3 patch by half a turn"],
  [{ flip: false, turns: 3 }, [3, 6, 9, 2, 5, 8, 1, 4, 7], "turns a 3×3 patch anticlockwise"],
  [{ flip: true, turns: 0 }, [3, 2, 1, 6, 5, 4, 9, 8, 7], "mirrors a 3×3 patch left-right"],
  [
    { flip: true, turns: 1 },
    [9, 6, 3, 8, 5, 2, 7, 4, 1],
    "transposes a 3×3 patch about its anti-diagonal",
  ],
  [{ flip: true, turns: 2 }, [7, 8, 9, 4, 5, 6, 1, 2, 3], "mirrors a 3×3 patch upside down"],
  [{ flip: true, turns: 3 }, [1, 4, 7, 2, 5, 8, 3, 6, 9], "transposes a 3×3 patch"],
];

for (const [symmetry, expected, what] of EXPECTED_3) {
  Deno.test(`transformSquare() flip=${symmetry.flip} turns=${symmetry.turns} ${what}`, () => {
    assertEquals(apply(PATCH_3, 3, 1, symmetry), expected);
  });
}

Deno.test("transformSquare() gives eight different results on a 3×3 patch", () => {
  const seen = new Set(EXPECTED_3.map(([s]) => apply(PATCH_3, 3, 1, s).join()));
  assertEquals(seen.size, 8);
});

// A 2×2 patch with two channels: pixel a = (1, 10), b = (2, 20), c = (3, 30),
// d = (4, 40) laid out [a b; c d]. The channels of a pixel must move together.
const A = [1, 10], B = [2, 20], C = [3, 30], D = [4, 40];
const PATCH_2 = [...A, ...B, ...C, ...D];
const EXPECTED_2: [SquareSymmetry, number[][]][] = [
  [{ flip: false, turns: 0 }, [A, B, C, D]],
  [{ flip: false, turns: 1 }, [C, A, D, B]],
  [{ flip: false, turns: 2 }, [D, C, B, A]],
  [{ flip: false, turns: 3 }, [B, D, A, C]],
  [{ flip: true, turns: 0 }, [B, A, D, C]],
  [{ flip: true, turns: 1 }, [D, B, C, A]],
  [{ flip: true, turns: 2 }, [C, D, A, B]],
  [{ flip: true, turns: 3 }, [A, C, B, D]],
];

for (const [symmetry, pixels] of EXPECTED_2) {
  Deno.test(`transformSquare() flip=${symmetry.flip} turns=${symmetry.turns} moves both channels of a 2×2 patch together`, () => {
    assertEquals(apply(PATCH_2, 2, 2, symmetry), pixels.flat());
  });
}

Deno.test("transformSquare() reads turns modulo 4, negative ones too", () => {
  assertEquals(apply(PATCH_3, 3, 1, { flip: false, turns: 5 }), [7, 4, 1, 8, 5, 2, 9, 6, 3]);
  assertEquals(apply(PATCH_3, 3, 1, { flip: false, turns: -1 }), [3, 6, 9, 2, 5, 8, 1, 4, 7]);
  assertEquals(apply(PATCH_3, 3, 1, { flip: true, turns: 7 }), [1, 4, 7, 2, 5, 8, 3, 6, 9]);
});

Deno.test("transformSquare() on patch 1 of a 2-patch batch reads and writes patch 1 only", () => {
  // Patch 0 holds 1..4, patch 1 holds 5..8 (both 2×2, one channel).
  const source = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const out = new Float32Array(8).fill(-1);
  transformSquare(source, out, 1, 2, 1, { flip: false, turns: 1 });
  // Patch 1 [5 6; 7 8] turned clockwise is [7 5; 8 6]; patch 0 of `out` is untouched.
  assertEquals(Array.from(out), [-1, -1, -1, -1, 7, 5, 8, 6]);
  assertEquals(Array.from(source), [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("transformSquare() with one clockwise turn applied four times is the identity", () => {
  const size = 4, channels = 3;
  let current = new Float32Array(size * size * channels).map((_, i) => i * 1.5 - 7);
  const start = current.slice();
  const states: string[] = [];
  for (let k = 0; k < 4; k++) {
    const next = new Float32Array(current.length);
    transformSquare(current, next, 0, size, channels, { flip: false, turns: 1 });
    current = next;
    states.push(current.join());
  }
  assertEquals(current, start);
  // And none of the intermediate turns was already the identity.
  assertEquals(states.slice(0, 3).includes(start.join()), false);
});
