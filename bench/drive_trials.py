"""Fast validation trials of drive.yaml's training settings, in PyTorch.

The network of bench/bcdunet_torch.py (core/bcdunet layer for layer, Keras's
initialisers) is trained the way core/train does it: patches centred inside
the FOV drawn once, flips and quarter turns (core/flip_rotate), SGD with a
linear warm-up and cosine decay updated every step, binary cross-entropy. It
is scored on the held-out validation images only (whole images, FOV pixels);
bench/drive_trials_data.ts writes no test image. On 2 CPU cores a trial runs
about 4× faster than Capillary's wasm training, which is why settings were
searched here and only the chosen one run in Capillary.

    deno run -A bench/drive_trials_data.ts
    /usr/bin/python3 bench/drive_trials.py --batch-norm --lr 0.15 --momentum 0.9 --epochs 2

Prints one JSON line per epoch: validation BCE, AUC, F1 and accuracy at 0.5,
the best F1 over thresholds 0.10–0.88, and the mean training loss.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bcdunet_torch import BcduNet  # noqa: E402


def keras_init(model):
    """The initialisers core/bcdunet gives tfjs: He normal (fan in) for every
    convolution, zero biases, orthogonal recurrent kernels, Glorot uniform for
    the 1×1 sigmoid head."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    for lstm in model.lstm:
        if not hasattr(lstm, "recurrent_conv"):  # skip "concat": no ConvLSTM
            continue
        w = lstm.recurrent_conv.weight
        nn.init.orthogonal_(w.view(w.shape[0], -1))
    nn.init.xavier_uniform_(model.head[1].weight)


def auc(score, label):
    """Area under the ROC curve by the rank-sum, ties given their mean rank."""
    order = np.argsort(score, kind="mergesort")
    s, positive = score[order], label[order] > 0.5
    _, first, count = np.unique(s, return_index=True, return_counts=True)
    ranks = np.repeat(first + (count + 1) / 2.0, count)
    npos = positive.sum()
    nneg = len(s) - npos
    return (ranks[positive].sum() - npos * (npos + 1) / 2) / (npos * nneg)


def f1_at(p, truth, threshold):
    pred = p >= threshold
    tp = (pred & truth).sum()
    return 2 * tp / (2 * tp + (pred & ~truth).sum() + (~pred & truth).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=".cache/trials")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--batch-norm", action="store_true")
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--count", type=int, default=10500, help="training patches")
    ap.add_argument("--patch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=0.15)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--no-nesterov", action="store_true")
    ap.add_argument("--warmup", type=float, default=0.1, help="epochs of linear warm-up")
    ap.add_argument("--flip", type=float, default=0.5, help="core/flip_rotate flip probability")
    ap.add_argument("--rotate90", type=float, default=0.5, help="core/flip_rotate rotate90 probability")
    ap.add_argument("--skip", choices=["convlstm", "concat"], default="convlstm")
    ap.add_argument("--constant-lr", action="store_true", help="no warm-up or decay (no schedule)")
    ap.add_argument("--positive-weight", type=float, default=1.0, help="core/train positiveWeight: weight of vessel pixels in the BCE")
    ap.add_argument("--shards", type=int, default=1, help="batch norm per shard of the batch, as core/train's workers")
    ap.add_argument("--cycles", type=int, default=1, help="cosine cycles (warm restarts); >1 also scores their end snapshots' averaged predictions")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weight-decay", type=float, default=0.0, help="SGD's L2 penalty, as core/train's optimizer.weightDecay")
    ap.add_argument("--ema", default="", help="comma-separated decays of weight averages kept beside the training, scored at the end")
    ap.add_argument("--drop", default="", help="comma-separated image ids left out of training and not scored")
    ap.add_argument("--validation", default="", help="comma-separated image ids to hold out instead of meta.json's")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    meta = json.load(open(os.path.join(a.data, "meta.json")))
    h, w = meta["height"], meta["width"]
    raw = np.fromfile(os.path.join(a.data, "train.f32"), dtype=np.float32)
    raw = raw.reshape(len(meta["ids"]), 3, h, w)
    images, masks, fovs = raw[:, 0], raw[:, 1], raw[:, 2] > 0.5
    held = [meta["ids"].index(v) for v in (a.validation.split(",") if a.validation else meta["validation"])]
    dropped = [meta["ids"].index(v) for v in a.drop.split(",") if v]
    train = [i for i in range(len(meta["ids"])) if i not in held and i not in dropped]

    # Patches spread evenly over the training images, centred inside the FOV.
    xs, ys = [], []
    for k, i in enumerate(train):
        for _ in range(a.count // len(train) + (k < a.count % len(train))):
            while True:
                y0, x0 = rng.integers(0, h - a.patch + 1), rng.integers(0, w - a.patch + 1)
                if fovs[i, y0 + a.patch // 2, x0 + a.patch // 2]:
                    break
            xs.append(images[i, y0 : y0 + a.patch, x0 : x0 + a.patch])
            ys.append(masks[i, y0 : y0 + a.patch, x0 : x0 + a.patch])
    patches, targets = np.stack(xs)[:, None], np.stack(ys)[:, None]

    model = BcduNet(a.width, dropout=a.dropout, batch_norm=a.batch_norm, skip=a.skip)
    keras_init(model)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=a.lr, momentum=a.momentum, nesterov=not a.no_nesterov,
        weight_decay=a.weight_decay,
    )
    decays = [float(d) for d in a.ema.split(",") if d]
    averages = [{k: v.detach().clone() for k, v in model.state_dict().items()} for _ in decays]
    def loss_fn(p, y):  # core/train's weighted BCE (plain BCE at weight 1)
        if a.positive_weight == 1.0:
            return nn.functional.binary_cross_entropy(p, y)
        q = p.clamp(1e-7, 1 - 1e-7)
        return -(a.positive_weight * y * q.log() + (1 - y) * (1 - q).log()).mean()
    steps = len(patches) // a.batch

    def rate(step):
        if a.constant_lr:
            return a.lr
        epoch = step / steps
        if epoch < a.warmup:
            return a.lr * epoch / a.warmup
        if a.cycles > 1:  # warm restarts: the warm-up, then `cycles` equal cosine decays
            span = (a.epochs - a.warmup) / a.cycles
            t = min(1.0, ((epoch - a.warmup) % span) / span) if epoch < a.epochs else 1.0
            return a.lr * (1 + math.cos(math.pi * t)) / 2
        t = min(1.0, (epoch - a.warmup) / (a.epochs - a.warmup))
        return a.lr * (1 + math.cos(math.pi * t)) / 2

    def predict(flips):
        """Validation FOV probabilities, each image predicted once per flip and averaged."""
        model.eval()
        probs, truth = [], []
        with torch.no_grad():
            for i in held:
                x = torch.from_numpy(images[i])[None, None]
                # Reflect-pad to a multiple of 8 (three poolings), predict whole.
                x = nn.functional.pad(x, (0, (-w) % 8, 0, (-h) % 8), mode="reflect")
                views = []
                for f in flips:  # a tuple of axes, "t" first for a transpose (the dihedral group's other half)
                    axes = tuple(k for k in f if k != "t")
                    v = x.transpose(2, 3) if "t" in f else x
                    y = model(v.flip(axes) if axes else v)
                    y = y.flip(axes) if axes else y
                    views.append((y.transpose(2, 3) if "t" in f else y)[0, 0, :h, :w].numpy())
                p = np.mean(views, axis=0)
                probs.append(p[fovs[i]])
                truth.append(masks[i][fovs[i]] > 0.5)
        model.train()
        return np.concatenate(probs), np.concatenate(truth)

    def scores(p, t):
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return {
            "bce": float(-np.mean(np.where(t, np.log(q), np.log(1 - q)))),
            "auc": float(auc(p, t)),
            "f1": float(f1_at(p, t, 0.5)),
            "best_f1": float(max(f1_at(p, t, th) for th in np.arange(0.1, 0.9, 0.02))),
            "accuracy": float(((p >= 0.5) == t).mean()),
            "sensitivity": float(((p >= 0.5) & t).sum() / t.sum()),
            "specificity": float(((p < 0.5) & ~t).sum() / (~t).sum()),
            "precision": float(((p >= 0.5) & t).sum() / max(1, (p >= 0.5).sum())),
        }

    def validate(flips=((),)):
        """Scores on the validation images, each predicted once per flip (a tuple of axes) and averaged."""
        return scores(*predict(flips))

    flips4 = ((), (3,), (2,), (2, 3))
    cycle_steps = None if a.cycles == 1 else [
        round((a.warmup + (a.epochs - a.warmup) * (c + 1) / a.cycles) * steps) for c in range(a.cycles)
    ]
    snapshots = []
    started, step = time.time(), 0
    for epoch in range(1, a.epochs + 1):
        order, losses = rng.permutation(len(patches)), []
        for b in range(steps):
            ids = order[b * a.batch : (b + 1) * a.batch]
            x, y = torch.from_numpy(patches[ids]), torch.from_numpy(targets[ids])
            for j in range(len(ids)):  # core/flip_rotate: mirror p flip, 1–3 quarter turns p rotate90
                if rng.random() < a.flip:
                    x[j], y[j] = x[j].flip(-1), y[j].flip(-1)
                if rng.random() < a.rotate90:
                    k = int(rng.integers(1, 4))
                    x[j], y[j] = torch.rot90(x[j], k, (1, 2)), torch.rot90(y[j], k, (1, 2))
            for group in optimizer.param_groups:
                group["lr"] = rate(step)
            if a.shards > 1:  # each shard through the network alone (its own batch statistics)
                parts = [(xs, ys) for xs, ys in zip(x.tensor_split(a.shards), y.tensor_split(a.shards))]
                loss = sum(loss_fn(model(xs), ys) * len(xs) for xs, ys in parts) / len(x)
            else:
                loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
            with torch.no_grad():
                for d, avg in zip(decays, averages):
                    for k, v in model.state_dict().items():
                        if v.dtype.is_floating_point:
                            avg[k].mul_(d).add_(v, alpha=1 - d)
                        else:
                            avg[k].copy_(v)
            if cycle_steps and step in cycle_steps:
                snapshots.append(predict(flips4)[0])
                print(json.dumps({"snapshot": len(snapshots), "step": step, **scores(snapshots[-1], predict(((),))[1])}), flush=True)
        row = {"epoch": epoch, "train_loss": float(np.mean(losses)), **validate()}
        row["seconds"] = round(time.time() - started)
        print(json.dumps(row), flush=True)
    # Test-time flips, scored on the same validation images (axes 3: left-right, 2: up-down).
    dihedral8 = flips4 + tuple(("t",) + f for f in flips4)
    for name, flips in (("mirror", ((), (3,))), ("flips4", flips4), ("dihedral8", dihedral8)):
        row = validate(flips)
        print(json.dumps({"tta": name, **{k: row[k] for k in ("auc", "f1", "bce", "accuracy", "sensitivity", "specificity", "precision")}}), flush=True)
    if decays:
        trained = {k: v.clone() for k, v in model.state_dict().items()}
        for d, avg in zip(decays, averages):
            model.load_state_dict(avg)
            for name, flips in (("ema", ((),)), ("ema dihedral8", dihedral8)):
                row = validate(flips)
                print(json.dumps({"tta": f"{name} {d}", **{k: row[k] for k in ("auc", "f1", "bce", "accuracy", "sensitivity", "specificity", "precision")}}), flush=True)
        model.load_state_dict(trained)
    if len(snapshots) > 1:
        truth = predict(((),))[1]
        for k in range(2, len(snapshots) + 1):
            row = scores(np.mean(snapshots[-k:], axis=0), truth)
            print(json.dumps({"tta": f"flips4 x last {k} snapshots", "auc": row["auc"], "f1": row["f1"], "bce": row["bce"]}), flush=True)


if __name__ == "__main__":
    main()
