"""PyTorch reference for `deno task bench`: the core network of
plugins/core/_bcdunet.ts (BCDU-Net style encoder, ConvLSTM skips, decoder),
layer for layer, timed for training steps on the CPU (or on a CUDA GPU with
--device cuda).

    /usr/bin/python3 bench/bcdunet_torch.py --width 8 --patch 48 --batch 16 \
        --steps 3 --threads 2 [--device cpu|cuda] [--data patches.f32] [--batch-norm]

Prints one JSON object: parameter counts, seconds per training step (mean
after one warm-up step) split into forward (network + loss), backward
(loss.backward) and optimizer update (zero_grad + SGD step), and peak RSS.
With --device cuda the model and batches live on the GPU, every timestamp is
taken after torch.cuda.synchronize(), `device_name` names the card and
`peak_cuda_bytes` is torch.cuda.max_memory_allocated(); PyTorch's defaults
are kept (cuDNN's autotuner off, TF32 convolutions on).

`params` counts what tfjs's countParams() counts: the trainable weights plus
BatchNorm's running mean and variance (tfjs holds those as non-trainable
weights); `trainable` is PyTorch's own parameter count.

--data names a float32 file of N·P·P image values followed by N·P·P mask
values (NHWC with one channel, which is also NCHW); batches cycle through it.
Without it the batches are uniform noise with a 12 % vessel mask.
"""

import argparse
import json
import os
import resource
import time

import torch
from torch import nn


def conv(cin, cout, batch_norm=False):
    """3×3 same convolution and ReLU; with batch_norm, conv (no bias) → BN → ReLU
    as core/bcdunet's `batchNorm` option builds it."""
    if not batch_norm:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01),
        nn.ReLU(),
    )


def hard_sigmoid(x):
    # Keras / tfjs ConvLSTM2D's default recurrent activation.
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


class ConvLSTM(nn.Module):
    """Keras-style ConvLSTM2D: same padding, 3×3, gates i, f, c, o; the input
    convolution has a bias, the recurrent one not; go_backwards; returns the
    last hidden state."""

    def __init__(self, cin, filters):
        super().__init__()
        self.filters = filters
        self.input_conv = nn.Conv2d(cin, 4 * filters, 3, padding=1)
        self.recurrent_conv = nn.Conv2d(filters, 4 * filters, 3, padding=1, bias=False)

    def forward(self, steps):
        # The state starts at zero, so the first step has no recurrent
        # convolution and no forget term (plugins/core/layers/conv_lstm_2d.ts
        # does the same work).
        h = c = None
        for x in reversed(steps):  # go backwards: decoder step, then encoder step
            gates = self.input_conv(x)
            if h is not None:
                gates = gates + self.recurrent_conv(h)
            i, f, g, o = torch.chunk(gates, 4, dim=1)
            candidate = hard_sigmoid(i) * torch.tanh(g)
            c = candidate if c is None else hard_sigmoid(f) * c + candidate
            h = hard_sigmoid(o) * torch.tanh(c)
        return h


class BcduNet(nn.Module):
    def __init__(self, width, channels=1, dropout=0.5, batch_norm=False, skip="convlstm"):
        super().__init__()
        w = width
        bn = batch_norm
        self.skip = skip
        self.down = nn.ModuleList()
        c = channels
        for level in range(3):
            f = w * 2**level
            self.down.append(nn.Sequential(conv(c, f, bn), conv(f, f, bn)))
            c = f
        self.pool = nn.MaxPool2d(2)
        self.skip_dropout = nn.Dropout(dropout)
        self.bottleneck = nn.Sequential(conv(c, 8 * w, bn), conv(8 * w, 8 * w, bn), nn.Dropout(dropout))
        c = 8 * w
        self.deconv, self.lstm, self.up = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for level in range(3):
            f = w * 2 ** (2 - level)
            # tfjs BatchNormalization: epsilon 1e-3, momentum 0.99 (PyTorch: 0.01).
            self.deconv.append(
                nn.Sequential(
                    nn.ConvTranspose2d(c, f, 2, stride=2),
                    nn.BatchNorm2d(f, eps=1e-3, momentum=0.01),
                    nn.ReLU(),
                )
            )
            # core/bcdunet's skip "concat": U-Net's channel concatenation in place of the ConvLSTM.
            self.lstm.append(ConvLSTM(f, f // 2) if skip == "convlstm" else nn.Identity())
            into = f // 2 if skip == "convlstm" else 2 * f
            self.up.append(nn.Sequential(conv(into, f, bn), conv(f, f, bn)))
            c = f
        self.head = nn.Sequential(conv(c, 2, bn), nn.Conv2d(2, 1, 1), nn.Sigmoid())

    def forward(self, x):
        skips = []
        for level, block in enumerate(self.down):
            x = block(x)
            skips.append(self.skip_dropout(x) if level == 2 else x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for level in range(3):
            x = self.deconv[level](x)
            if self.skip == "convlstm":
                x = self.lstm[level]([skips[2 - level], x])  # the sequence [encoder, decoder]
            else:
                x = torch.cat([skips[2 - level], x], 1)
            x = self.up[level](x)
        return self.head(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--patch", type=int, default=48)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--batch-norm", action="store_true", help="BN after every 3×3 conv")
    args = parser.parse_args()

    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda: this PyTorch sees no CUDA device")
    device = torch.device(args.device)
    # Waits for the GPU's queued work, so that each timestamp covers the work before it.
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = BcduNet(args.width, batch_norm=args.batch_norm).to(device)
    model.train()
    trainable = sum(p.numel() for p in model.parameters())
    bn_stats = sum(
        m.running_mean.numel() + m.running_var.numel()
        for m in model.modules()
        if isinstance(m, nn.BatchNorm2d)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.BCELoss()

    p, b = args.patch, args.batch
    if args.data:
        n = os.path.getsize(args.data) // 4
        raw = torch.from_file(args.data, shared=False, size=n, dtype=torch.float32)
        count = n // (2 * p * p)
        images = raw[: count * p * p].reshape(count, 1, p, p)
        masks = raw[count * p * p :].reshape(count, 1, p, p)
        batches = [
            (images[i : i + b].contiguous(), masks[i : i + b].contiguous())
            for i in range(0, count - b + 1, b)
        ]
    else:
        batches = [(torch.rand(b, 1, p, p), (torch.rand(b, 1, p, p) > 0.88).float())]
    batches = [(x.to(device), y.to(device)) for x, y in batches]

    forward, backward, update = [], [], []
    for step in range(args.steps + 1):
        x, y = batches[step % len(batches)]
        sync()
        t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        sync()
        t1 = time.perf_counter()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        t3 = time.perf_counter()
        if step > 0:  # step 0 warms up allocators and kernels
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            update.append(t3 - t2)

    mean = lambda v: sum(v) / len(v)  # noqa: E731
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "device": args.device,
                "device_name": torch.cuda.get_device_name(device) if cuda else "cpu",
                "width": args.width,
                "patch": p,
                "batch": b,
                "steps": args.steps,
                "real_data": bool(args.data),
                "params": trainable + bn_stats,
                "trainable": trainable,
                "forward_s": mean(forward),
                "backward_s": mean(backward),
                "update_s": mean(update),
                "step_s": mean(forward) + mean(backward) + mean(update),
                "last_loss": float(loss),
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "peak_cuda_bytes": torch.cuda.max_memory_allocated(device) if cuda else None,
            }
        )
    )


if __name__ == "__main__":
    main()
