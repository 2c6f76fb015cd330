import { readImage } from "../../plugins/core/image/read_image.ts";
import { toGray } from "../../plugins/core/image/to_gray.ts";
import { meanStd, minMaxScale, zScore } from "../../plugins/core/image/normalize.ts";
import { clahe } from "../../plugins/core/image/clahe.ts";
const D = "/work/shared/data/DRIVE/";
let t = performance.now();
const a = toGray(await readImage(D + "training/images/21_training.tif"));
const b = toGray(await readImage(D + "training/images/22_training.tif"));
const c = toGray(await readImage(D + "test/images/01_test.tif"));
console.log("read", performance.now() - t);
const tr = meanStd([a, b]);
const te = meanStd([c]);
console.log(tr, te);
const x = minMaxScale(zScore(c, tr.mean, tr.std), 0, 255);
const y = minMaxScale(zScore(c, te.mean, te.std), 0, 255);
let diff = 0, maxd = 0;
for (let i = 0; i < x.data.length; i++) {
  if (x.data[i] !== y.data[i]) {
    diff++;
    maxd = Math.max(maxd, Math.abs(x.data[i] - y.data[i]));
  }
}
console.log("minmax differs", diff, maxd);
t = performance.now();
const cx = clahe(x, { clipLimit: 2, tiles: 8 }), cy = clahe(y, { clipLimit: 2, tiles: 8 });
console.log("clahe", performance.now() - t);
diff = 0;
for (let i = 0; i < x.data.length; i++) if (cx.data[i] !== cy.data[i]) diff++;
console.log("clahe differs", diff);
// min/max pixel of c
let mi = 0, ma = 0;
for (let i = 0; i < c.data.length; i++) {
  if (c.data[i] < c.data[mi]) mi = i;
  if (c.data[i] > c.data[ma]) ma = i;
}
console.log(mi, c.data[mi], ma, c.data[ma]);
