#!/usr/bin/env bash
# bench/gpu.sh: on an NVIDIA GPU through Deno's WebGPU (Vulkan), a recipe end to end
# (recipes/drive-full.yaml, the paper-width network, issue 7) and then `deno task bench` beside the
# PyTorch reference on CUDA on the same card, on a machine that has PyTorch with CUDA and an NVIDIA
# driver but no network, no Deno and no Node (this workplace's device machines). Two halves:
#
#   bash bench/gpu.sh prepare   here, with Deno, network and ../shared/data/DRIVE: builds .gpu/
#   bash bench/gpu.sh run       there, in the repository root, with $OUT set: writes into $OUT
#
# then, with the device tool: command `bash bench/gpu.sh run`, carry [".gpu"], timeout_s 590.
#
# prepare fills .gpu/ (git-ignored; about 53 MiB, and the tool carries 64 MiB in all with the
# working tree, so it prints both sizes):
#   deno.xz       the Deno that runs this script ($DENO, else `deno` on PATH), xz-compressed
#   app.tar.xz    app/cli.js, app/bench.js and app/webgpu_overhead.js: `deno bundle` of cli.ts,
#                 bench/bench.ts and bench/webgpu_overhead.ts with
#                 their whole graphs, npm packages (tfjs, tfjs-backend-webgpu, zod, yaml, utif2,
#                 imagescript) inlined; they run on the bare binary with no node_modules, no config
#                 and no network (xz keeps the second copy of tfjs to a few KiB). What esbuild cannot
#                 inline lies beside them: imagescript's native codec (app/bin/x64-linux.node, which
#                 its import require()s from beside the bundle) and its wasm decoders
#                 (app/imagescript/any/*.wasm, read from CommonJS's __dirname, which an ES-module
#                 bundle lacks, so the entry points app/*-main.js define it
#                 first); and app/bcdunet_torch.py, which bench.js runs from beside itself.
#                 (The wasm backend's .wasm files are not shipped: both run on webgpu.)
#   vulkan/*.deb  the Vulkan loader and GLVND (Debian amd64), as .library/device/README.md says;
#                 NVIDIA's Vulkan driver (ICD) comes from the host's driver
#   DRIVE/        all of DRIVE that core/drive reads, the fundus images as PNG (bench/drive_png.ts:
#                 the same pixels in 23 MB where the TIFFs take 29 MB even under xz). Never commit
#                 it: .gpu/ is ignored
#   MANIFEST      the commit and Deno version it was built from
#
# run unpacks into ${TMPDIR:-/tmp}/capillary-gpu (.gpu/work where /tmp is noexec), points the
# carried Vulkan loader at NVIDIA's ICD (VK_DRIVER_FILES; DENO_WEBGPU_BACKEND=vulkan; where no
# adapter shows, it retries with the machine's loader, then unpacks the debs into / as the device
# README does) and prints the card (nvidia-smi, PyTorch, the WebGPU adapter). Then, by $GPU_RUN
# (default "overhead,recipe,bench"), in that order:
#   overhead  bench/webgpu_overhead.ts on the card (what a dispatch and a read cost there, and a
#           step at almost no arithmetic), under 60 s, to $OUT/webgpu-overhead.txt
#   recipe  `run recipes/drive-full.yaml --set backend=webgpu --set inferenceBackend=webgpu`
#           with the bundled CLI (the recipe fits its training into train.maxMinutes 5),
#           under GPU_RECIPE_SECONDS (480: the issue's 8 minutes) or what is
#           left of the deadline; it copies the run's metrics.json, history.jsonl and
#           recipe.resolved.yaml to $OUT, and the rest but the networks (model/, checkpoint*/) as
#           $OUT/run.tar.xz (what a killed run had written too)
#   bench   the bundled bench once per width (--backends webgpu --torch-device cuda --append),
#           each under what is left of the deadline
# so that the whole run ends within GPU_DEADLINE seconds (560). It writes
#   $OUT/gpu-run.log         everything printed
#   $OUT/BENCHMARKS-gpu.md   the sections bench.ts writes (the card's name in the device column)
# Settings (environment of run): GPU_RUN, GPU_DEADLINE, GPU_RECIPE (recipes/drive-full.yaml),
# GPU_RECIPE_SECONDS, GPU_RECIPE_SET (more --set overrides, separated by ';'), GPU_BENCH_WIDTHS
# (64,8,16), GPU_BENCH_STEPS (5), GPU_BENCH_PATCH (48), GPU_BENCH_BATCH (16), GPU_BENCH_WINDOW (96;
# 0 skips inference), GPU_BENCH_TORCH_DEVICE (cuda where PyTorch sees a GPU, else cpu),
# GPU_BENCH_PYTHON (python3 on PATH), and GPU_SMALL=1: a smoke run that also works on a CPU with
# Mesa's lavapipe (the recipe at width 4 on 64 patches of 4 training images and one test image
# without flips; the bench at width 8, one step, no inference). $OUT defaults to .gpu/out.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GPU_DIR=.gpu
MIB=$((1024 * 1024))

die() {
  echo "gpu.sh: $*" >&2
  exit 1
}

# ---- prepare (here) ------------------------------------------------------------------------------
prepare() {
  local deno version imagescript drive size tree
  deno=${DENO:-$(command -v deno || true)}
  [ -n "$deno" ] || die "no deno on PATH (set DENO)"
  version=$("$deno" --version | head -1)
  mkdir -p "$GPU_DIR"

  # Deno, xz-compressed (slow: reused while the version is the same).
  if [ -f "$GPU_DIR/deno.xz" ] && [ "$(cat "$GPU_DIR/deno.version" 2>/dev/null)" = "$version" ]; then
    echo "deno.xz: reusing ($version)"
  else
    echo "deno.xz: compressing $(readlink -f "$deno") ($version) …"
    xz -9 -T0 -c "$(readlink -f "$deno")" >"$GPU_DIR/deno.xz.part"
    mv "$GPU_DIR/deno.xz.part" "$GPU_DIR/deno.xz"
    echo "$version" >"$GPU_DIR/deno.version"
  fi

  # The CLI and the bench, bundled.
  bundle_dir=$(mktemp -d) # global: the EXIT trap removes it
  trap 'rm -rf "$bundle_dir"' EXIT
  mkdir -p "$bundle_dir/app/bin" "$bundle_dir/app/imagescript/any"
  local entry js
  for entry in cli.ts bench/bench.ts bench/webgpu_overhead.ts; do
    js=$bundle_dir/app/$(basename "$entry" .ts).js
    "$deno" bundle --quiet --platform deno --external '*.node' -o "$js" "$entry"
    # Only Node built-ins may stay imports; tfjs's WebGPU backend must be inside.
    if grep -E '^import .* from "' "$js" | grep -v '"node:'; then
      die "the bundle of $entry still imports the modules above"
    fi
    grep -q 'tfjs-backend-webgpu@' "$js" || die "tfjs-backend-webgpu is not in the bundle of $entry"
  done
  imagescript=$(find node_modules/.deno -maxdepth 3 -type d -path '*/imagescript@*/node_modules/imagescript' | head -1)
  [ -n "$imagescript" ] || die "imagescript is not under node_modules/.deno (deno install)"
  cp "$imagescript/codecs/node/bin/x64-linux.node" "$bundle_dir/app/bin/"
  cp "$imagescript"/wasm/any/{gif,png,jpeg,tiff}.wasm "$bundle_dir/app/imagescript/any/"
  cp bench/bcdunet_torch.py "$bundle_dir/app/"
  # Entry points. imagescript's wasm codecs read their files from CommonJS's __dirname, which an
  # ES-module bundle lacks: point it at their copies beside the bundles. cli.js runs its main only
  # as the main module, so cli-main.js calls it.
  cat >"$bundle_dir/app/cli-main.js" <<'EOF'
// Entry point of the bundled CLI (bench/gpu.sh).
globalThis.__dirname = new URL("./imagescript/node", import.meta.url).pathname;
const { main } = await import("./cli.js");
Deno.exit(await main(Deno.args));
EOF
  cat >"$bundle_dir/app/bench-main.js" <<'EOF'
// Entry point of the bundled bench (bench/gpu.sh).
globalThis.__dirname = new URL("./imagescript/node", import.meta.url).pathname;
await import("./bench.js");
EOF
  cat >"$bundle_dir/app/webgpu_overhead-main.js" <<'EOF'
// Entry point of the bundled bench/webgpu_overhead.ts (bench/gpu.sh).
globalThis.__dirname = new URL("./imagescript/node", import.meta.url).pathname;
await import("./webgpu_overhead.js");
EOF
  tar -C "$bundle_dir" -cf - app | xz -9 -T0 >"$GPU_DIR/app.tar.xz"
  echo "app.tar.xz: cli.js $(($(wc -c <"$bundle_dir/app/cli.js") / 1024)) KiB and bench.js" \
    "$(($(wc -c <"$bundle_dir/app/bench.js") / 1024)) KiB bundled," \
    "$(($(wc -c <"$GPU_DIR/app.tar.xz") / 1024)) KiB compressed"

  # The Vulkan loader and GLVND, as the device README says (NVIDIA's ICD comes from the driver).
  if ! ls "$GPU_DIR"/vulkan/libvulkan1_*.deb >/dev/null 2>&1; then
    mkdir -p "$GPU_DIR/vulkan" /tmp/amd64/partial
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${o[@]}" update >/dev/null
    (
      cd "$GPU_DIR/vulkan"
      apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
        2>&1 | grep -v '^W: Download is performed unsandboxed' || true
    )
    ls "$GPU_DIR"/vulkan/libvulkan1_*.deb >/dev/null || die "apt-get download libvulkan1 failed"
  fi
  echo "vulkan: $(cd "$GPU_DIR/vulkan" && echo *.deb)"

  # All of DRIVE that core/drive reads, the images as PNG (checked pixel for pixel).
  drive=${CAPILLARY_DRIVE:-../shared/data/DRIVE}
  [ -d "$drive/training/images" ] || die "no DRIVE at $drive (set CAPILLARY_DRIVE)"
  rm -rf "$GPU_DIR/DRIVE"
  "$deno" run -A bench/drive_png.ts "$drive" "$GPU_DIR/DRIVE"

  {
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "built: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "deno: $version"
  } >"$GPU_DIR/MANIFEST"
  rm -rf "$GPU_DIR/out" "$GPU_DIR/work" "$GPU_DIR/BENCHMARKS-gpu.md"

  size=$(du -sb "$GPU_DIR" | cut -f1)
  tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  du -sh "$GPU_DIR"/deno.xz "$GPU_DIR"/app.tar.xz "$GPU_DIR"/vulkan "$GPU_DIR"/DRIVE
  echo "$GPU_DIR: $((size / 1024)) KiB; with the working tree that travels ($((tree / 1024)) KiB):" \
    "$(((size + tree) / 1024)) KiB of the device tool's 64 MiB"
  [ $((size + tree)) -le $((64 * MIB)) ] || die "over the device tool's 64 MiB"
  echo "next: the device tool's run with command 'bash bench/gpu.sh run', carry [\"$GPU_DIR\"]"
}

# ---- run (on the GPU machine) --------------------------------------------------------------------
unxz() { # file → stdout, with xz or else Python's lzma
  if command -v xz >/dev/null; then
    xz -dc "$1"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}

undeb() { # .deb → its files under a folder, with dpkg or else Python
  if command -v dpkg >/dev/null; then
    dpkg -x "$1" "$2"
  else
    python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
at = 8  # an ar archive: "!<arch>\n", then 60-byte headers, each before its member
while at < len(data):
    name, size = data[at : at + 16].decode().strip().rstrip("/"), int(data[at + 48 : at + 58])
    body, at = data[at + 60 : at + 60 + size], at + 60 + size + size % 2
    if name.startswith("data.tar"):
        extra = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2], **extra)
EOF
  fi
}

probe_adapter() { # prints the WebGPU adapter; fails when there is none
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$DENO_BIN" eval --no-config '
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) {
      console.log("WebGPU adapter: none");
      Deno.exit(1);
    }
    const i = adapter.info, hex = (v) => /^\d+$/.test(v) ? `0x${Number(v).toString(16)}` : v;
    console.log(`WebGPU adapter: ${i.description || "?"} (vendor ${hex(i.vendor)}, device ` +
      `${hex(i.device)}${i.architecture ? `, ${i.architecture}` : ""}), maxBufferSize ` +
      `${(adapter.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, maxStorageBufferBindingSize ` +
      `${(adapter.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);
  '
}

run_main() {
  local start=$SECONDS vklib icd f libs egl python torch_device adapter
  [ -f "$GPU_DIR/deno.xz" ] || die "no $GPU_DIR/deno.xz: run 'bash bench/gpu.sh prepare' first"
  cat "$GPU_DIR/MANIFEST"
  for work in "${TMPDIR:-/tmp}/capillary-gpu" "$PWD/$GPU_DIR/work"; do # the second if /tmp is noexec
    rm -rf "$work"
    mkdir -p "$work"
    unxz "$GPU_DIR/deno.xz" >"$work/deno"
    chmod +x "$work/deno"
    DENO_BIN=$work/deno
    "$DENO_BIN" --version >/dev/null 2>&1 && break
    echo "cannot run $DENO_BIN"
  done
  unxz "$GPU_DIR/app.tar.xz" | tar -x -C "$work"
  export DENO_DIR=$work/deno-dir DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 NO_COLOR=1
  export XDG_RUNTIME_DIR=$work CAPILLARY_DRIVE=$PWD/$GPU_DIR/DRIVE
  export DENO_WEBGPU_BACKEND=${DENO_WEBGPU_BACKEND:-vulkan}
  unset IMAGESCRIPT_WASM_SIMD
  echo "deno: $("$DENO_BIN" --version | head -1) (unpacked in $((SECONDS - start)) s)"

  # Vulkan: the carried loader first, then the driver's libraries; NVIDIA's ICD if there is one.
  for f in "$GPU_DIR"/vulkan/*.deb; do undeb "$f" "$work/vulkan"; done
  vklib=$work/vulkan/usr/lib/x86_64-linux-gnu
  libs=$vklib
  for f in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$f" ] && libs=$libs:$f; done
  export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  icd=${VK_DRIVER_FILES:-}
  if [ -z "$icd" ]; then
    for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
      /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$f" ]; then
        icd=$f
        break
      fi
    done
  fi
  if [ -n "$icd" ]; then
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
    echo "Vulkan ICD: $icd: $(tr -d ' \n' <"${icd%%:*}" 2>/dev/null || true)"
  else
    echo "Vulkan ICD: no nvidia_icd.json; the loader searches its default folders"
  fi
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

  # The card, three ways.
  if command -v nvidia-smi >/dev/null; then nvidia-smi -L || true; fi
  python=${GPU_BENCH_PYTHON:-$(command -v python3 || true)}
  [ -n "$python" ] || die "no python3 on PATH (set GPU_BENCH_PYTHON)"
  torch_device=${GPU_BENCH_TORCH_DEVICE:-}
  if [ -z "$torch_device" ]; then
    if "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      torch_device=cuda
    else
      torch_device=cpu
      echo "PyTorch sees no CUDA device: its reference runs on the CPU"
    fi
  fi
  "$python" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda,
    torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device")' || true
  if adapter=$(probe_adapter); then
    echo "$adapter"
    if grep -Eqi 'llvmpipe|lavapipe|swiftshader' <<<"$adapter" && [ -e /dev/nvidiactl ]; then
      echo "WARNING: a software adapter on a machine with an NVIDIA GPU: NVIDIA's ICD was not used"
    fi
  else
    echo "$adapter"
    # Fall back to the machine's own loader, then to the README's way (unpack into /, ldconfig).
    echo "retrying with the machine's own Vulkan loader"
    export LD_LIBRARY_PATH=${LD_LIBRARY_PATH#"$vklib:"}
    if ! probe_adapter; then
      if [ "$(id -u)" = 0 ] && [ -d /usr/local/nvidia ]; then
        echo "retrying with the carried loader unpacked into / (as .library/device/README.md does)"
        for f in "$GPU_DIR"/vulkan/*.deb; do undeb "$f" /; done
        ldconfig
        probe_adapter || die "no WebGPU adapter"
      else
        die "no WebGPU adapter"
      fi
    fi
  fi

  local part
  IFS=, read -ra parts <<<"${GPU_RUN:-overhead,recipe,bench}"
  for part in "${parts[@]}"; do
    case $part in
    overhead) run_overhead "$start" ;;
    recipe) run_recipe "$start" ;;
    bench) run_bench "$start" "$python" "$torch_device" ;;
    *) die "GPU_RUN: unknown part '$part' (overhead, recipe, bench)" ;;
    esac
  done
  echo "done in $((SECONDS - start)) s"
}

# Seconds left of GPU_DEADLINE since $1 (the start of run_main).
seconds_left() { echo $((${GPU_DEADLINE:-560} - (SECONDS - $1))); }

# What a dispatch, a read and a nearly empty training step cost on the card, under 60 s.
run_overhead() {
  local left rc=0
  left=$(seconds_left "$1")
  [ "$left" -le 60 ] || left=60
  echo "== webgpu overhead ($left s) =="
  timeout -k 5 "$left" "$DENO_BIN" run -A --no-config --no-lock \
    "$work/app/webgpu_overhead-main.js" webgpu 2>&1 | tee "$OUT/webgpu-overhead.txt" || rc=$?
  [ "$rc" = 0 ] || echo "overhead: exited with $rc"
}

# The recipe, through the bundled CLI on webgpu, under its own limit or what is left of the deadline.
run_recipe() {
  local start=$1 recipe left rc folder f
  recipe=${GPU_RECIPE:-recipes/drive-full.yaml}
  left=$(seconds_left "$start")
  [ "$left" -le "${GPU_RECIPE_SECONDS:-480}" ] || left=${GPU_RECIPE_SECONDS:-480}
  local sets=(--set backend=webgpu --set inferenceBackend=webgpu)
  if [ "${GPU_SMALL:-0}" = 1 ]; then
    sets+=(--set model.width=4 --set train.epochs=1 --set train.patches.count=64
      --set load.trainLimit=4 --set load.testLimit=1 --set "evaluate.flips=[]")
  fi
  IFS=';' read -ra more <<<"${GPU_RECIPE_SET:-}"
  for f in "${more[@]}"; do [ -n "$f" ] && sets+=(--set "$f"); done
  echo "== recipe $recipe ($left s) =="
  rm -rf "$work/runs"
  rc=0
  timeout -k 10 "$left" "$DENO_BIN" run -A --no-config --no-lock "$work/app/cli-main.js" run \
    "$recipe" --output "$work/runs" "${sets[@]}" || rc=$?
  [ "$rc" = 0 ] || echo "recipe: exited with $rc$([ "$rc" = 124 ] && echo " (its $left s ran out)")"
  folder=$(find "$work/runs" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | sort | tail -1)
  if [ -z "$folder" ]; then
    echo "recipe: no run folder was written"
    return 0
  fi
  for f in metrics.json history.jsonl recipe.resolved.yaml; do
    [ -f "$folder/$f" ] && cp "$folder/$f" "$OUT/"
  done
  tar -C "$folder" --exclude=./model --exclude='./checkpoint*' -cf - . | xz -6 -T0 >"$OUT/run.tar.xz"
  echo "recipe: $folder → $OUT (metrics.json, history.jsonl, recipe.resolved.yaml, run.tar.xz)"
}

# The bench, one width at a time, each under what is left of the deadline.
run_bench() {
  local start=$1 python=$2 torch_device=$3 widths steps patch batch window md left rc w
  widths=${GPU_BENCH_WIDTHS:-64,8,16} steps=${GPU_BENCH_STEPS:-5} window=${GPU_BENCH_WINDOW:-96}
  if [ "${GPU_SMALL:-0}" = 1 ]; then
    widths=${GPU_BENCH_WIDTHS:-8} steps=${GPU_BENCH_STEPS:-1} window=${GPU_BENCH_WINDOW:-0}
  fi
  patch=${GPU_BENCH_PATCH:-48} batch=${GPU_BENCH_BATCH:-16}
  md=$GPU_DIR/BENCHMARKS-gpu.md
  rm -f "$md"
  IFS=, read -ra ws <<<"$widths"
  for w in "${ws[@]}"; do
    left=$(seconds_left "$start")
    if [ "$left" -lt 30 ]; then
      echo "bench width $w: skipped, $left s left of the ${GPU_DEADLINE:-560}-s deadline"
      continue
    fi
    echo "== bench width $w ($left s left) =="
    local append=()
    [ -f "$md" ] && append=(--append)
    rc=0
    timeout -k 10 "$left" "$DENO_BIN" run -A --no-config --no-lock "$work/app/bench-main.js" \
      --backends webgpu --torch-device "$torch_device" --python "$python" --widths "$w" \
      --patch "$patch" --batch "$batch" --steps "$steps" --window "$window" \
      --output "$md" "${append[@]}" || rc=$?
    [ "$rc" = 0 ] || echo "bench width $w: exited with $rc$([ "$rc" = 124 ] && echo ' (deadline)')"
    [ -f "$md" ] && cp "$md" "$OUT/BENCHMARKS-gpu.md"
  done
  if [ -f "$OUT/BENCHMARKS-gpu.md" ]; then echo "wrote $OUT/BENCHMARKS-gpu.md"; else echo "no benchmark was written"; fi
}

run() {
  OUT=${OUT:-$GPU_DIR/out}
  mkdir -p "$OUT"
  run_main 2>&1 | tee "$OUT/gpu-run.log"
}

case ${1:-} in
prepare) prepare ;;
run) run ;;
*) die "usage: bash bench/gpu.sh prepare|run (see the comment at the top)" ;;
esac
