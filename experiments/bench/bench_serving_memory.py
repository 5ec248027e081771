"""Serving memory: peak resident memory of embed_image and embed_text on worst-case input.

    python -m experiments.bench.bench_serving_memory [--cases=single,batch,captions,soak]
        [--soak_requests=2000]

A tiny model (preset "tiny", 75 px, untrained: memory does not depend on the weights) is
exported once with the default ServingLimits; each case then runs in a fresh process
(`--child_case=NAME`) that loads the SavedModel, warms both signatures up on one small photo
and one caption ("loaded"), and runs the case. Figures come from /proc/self/status: VmHWM (the
kernel's peak resident memory) and VmRSS. Targets (issue 11):

* single: each worst-case input of at most 10 MB, alone, adds at most 300 MB to the peak.
* batch: 64 worst-case images in one request peak at most 2 GB.
* captions: 10,000 captions in one call peak at most 1 GB above the loaded model.
* soak: 2,000 requests mixing good and hostile input leave VmRSS within 10% of where it was
  after the first 100.

Each figure is printed with PASS or FAIL against its target; the command exits 1 if any fails.
"""

import io
import json
import pathlib
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

from fusion_tf import machine

FLAGS = flags.FLAGS
flags.DEFINE_list("cases", ["single", "batch", "captions", "soak"], "Cases to run.")
flags.DEFINE_integer("soak_requests", 2000, "Requests of the soak case.")
flags.DEFINE_string("export_dir", None, "An export of export_tiny_model to reuse; else made now.")
flags.DEFINE_string("only", None, "single case: only the inputs whose name contains this.")
flags.DEFINE_string("child_case", None, "Internal: run this case here and print its figures.")
flags.DEFINE_string("child_export", None, "Internal: the exported SavedModel.")
flags.DEFINE_string("child_input", None, "Internal: the worst-case input of a single case.")

MB = 1 << 20
WORDS = ["a", "dog", "cat", "runs", "on", "the", "grass", "beach", "man", "red"]


def export_tiny_model(export_dir: str) -> str:
    """Exports the untrained tiny model (75 px) with a 10-word caption encoder; returns the folder."""
    from fusion_tf.export import export_model
    from fusion_tf.models.fusion_model import FusionModel
    from fusion_tf.text import TextImageEncoder, WordVectors

    model = FusionModel(num_classes=3, image_size=75, preset="tiny")
    vectors = np.random.default_rng(0).normal(size=(len(WORDS), 24))
    return str(export_model(model, TextImageEncoder(WordVectors(WORDS, vectors)), export_dir))


def _status(field: str) -> int:
    """A /proc/self/status figure (VmHWM, VmRSS) in bytes."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _photo(
    extension: str, height: int, width: int, seed: int = 0, depth=np.uint8, parameters=()
) -> bytes:
    import cv2

    small = np.random.default_rng(seed).integers(0, 256, (8, 8, 3)).astype(depth)
    if depth == np.uint16:
        small *= 257
    # Flat 8 x 8 blocks (nearest): large sides stay within 10 MB encoded in every format.
    blocks = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    return cv2.imencode(extension, blocks, list(parameters))[1].tobytes()


def _animated_gif(frames: int, side: int) -> bytes:
    """frames full-screen frames of alternating flat colours (palette images, made one at a time)."""
    from PIL import Image

    def frame(index):
        return Image.new("P", (side, side), index % 2)

    buffer = io.BytesIO()
    palette = [0, 0, 0, 255, 255, 255] + [0] * 762
    first = frame(0)
    first.putpalette(palette)
    first.save(buffer, "GIF", save_all=True, append_images=(frame(i) for i in range(1, frames)))
    return buffer.getvalue()


def _gif_larger_than_screen(side: int) -> bytes:
    """A 16 x 16 logical screen holding one flat side x side image (LZW packs it 1,000-fold)."""
    from PIL import Image

    image = Image.new("P", (side, side), 1)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "GIF")
    return buffer.getvalue()[:6] + struct.pack("<HH", 16, 16) + buffer.getvalue()[10:]


def _png_declaring(side: int) -> bytes:
    """A well-formed PNG whose pixels compress to almost nothing: side x side 8-bit RGB zeros."""
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" * (1 + 3 * side)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def worst_case_inputs() -> dict[str, bytes]:
    """Hostile or heavy inputs of at most 10 MB each, one per way memory could grow."""
    import cv2

    # Progressive with full-resolution colour: the most DCT coefficients libjpeg keeps a pixel.
    progressive = [
        cv2.IMWRITE_JPEG_PROGRESSIVE,
        1,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    ]
    small_jpeg = _photo(".jpg", 16, 16)
    frame = small_jpeg.index(b"\xff\xc0")
    header_bomb = (
        small_jpeg[: frame + 5] + struct.pack(">HH", 10000, 10000) + small_jpeg[frame + 9 :]
    )
    inputs = {
        "jpeg 10000x10000 (scaled 1/4)": _photo(".jpg", 10000, 10000),
        "jpeg 4000x4000 (at the decode limit)": _photo(".jpg", 4000, 4000),
        "jpeg header 10000x10000, 10 KB": header_bomb,
        "jpeg progressive 4:4:4 10000x10000": _photo(".jpg", 10000, 10000, parameters=progressive),
        "jpeg progressive 4:4:4 4000x4000": _photo(".jpg", 4000, 4000, parameters=progressive),
        "png 10000x10000 zeros (refused)": _png_declaring(10000),
        "png 4000x4000 16-bit": _photo(".png", 4000, 4000, depth=np.uint16),
        "gif 60 frames 2000x2000": _animated_gif(60, 2000),
        "gif 16x16 screen, 16000x16000 image": _gif_larger_than_screen(16000),
        "bmp 1800x1800": _photo(".bmp", 1800, 1800),
        "webp 4000x4000": _photo(".webp", 4000, 4000),
    }
    for name, data in inputs.items():
        assert len(data) <= 10 * MB, f"{name}: {len(data) / MB:.1f} MB"
    return inputs


def _child(case: str) -> dict:
    import tensorflow as tf

    served = tf.saved_model.load(FLAGS.child_export)
    embed_image, embed_text = served.signatures["embed_image"], served.signatures["embed_text"]
    embed_image(images=tf.constant([_photo(".jpg", 300, 400)]))
    embed_text(captions=tf.constant(["a dog runs on the grass"]))
    loaded = _status("VmHWM")
    figures = {"loaded_mb": loaded / MB}
    start = time.perf_counter()
    if case == "single":
        data = pathlib.Path(FLAGS.child_input).read_bytes()
        valid = embed_image(images=tf.constant([data]))["valid"].numpy()
        figures["valid"] = bool(valid[0])
    elif case == "batch":
        inputs = list(worst_case_inputs().values())
        batch = [inputs[index % len(inputs)] for index in range(64)]
        figures["valid"] = int(embed_image(images=tf.constant(batch))["valid"].numpy().sum())
    elif case == "captions":
        rng = np.random.default_rng(0)
        captions = [" ".join(rng.choice(WORDS, rng.integers(3, 40))) for _ in range(10_000)]
        figures["captions"] = len(embed_text(captions=tf.constant(captions))["embeddings"])
    elif case == "soak":
        good = _photo(".jpg", 300, 400)
        hostile = [
            _photo(".jpg", 2000, 2000),
            b"not an image at all",
            good[: len(good) // 2],
            _png_declaring(20000)[:200],
            _animated_gif(20, 300),
            _gif_larger_than_screen(4000),
            _photo(".jpg", 16, 16)[:300],
        ]
        for request in range(FLAGS.soak_requests):
            if request == 100:
                figures["rss_after_100_mb"] = _status("VmRSS") / MB
            if request % 3 == 0:
                embed_text(captions=tf.constant(["a red dog", "\x00" * 10, "cat " * 500]))
            else:
                embed_image(images=tf.constant([good, hostile[request % len(hostile)]]))
        figures["rss_end_mb"] = _status("VmRSS") / MB
    figures["seconds"] = time.perf_counter() - start
    figures["peak_mb"] = _status("VmHWM") / MB
    figures["added_mb"] = figures["peak_mb"] - figures["loaded_mb"]
    return figures


def _run_child(export_dir: str, case: str, input_path: str | None = None) -> dict:
    command = [sys.executable, "-m", "experiments.bench.bench_serving_memory"]
    command += [f"--child_case={case}", f"--child_export={export_dir}"]
    if input_path:
        command.append(f"--child_input={input_path}")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _verdict(met: bool, verdicts: list[bool]) -> str:
    verdicts.append(met)
    return "PASS" if met else "FAIL"


def main(argv):
    del argv
    if FLAGS.child_case:
        print(json.dumps(_child(FLAGS.child_case)))
        return
    print(machine.describe())
    verdicts = []
    with tempfile.TemporaryDirectory() as scratch:
        export_dir = FLAGS.export_dir or export_tiny_model(str(pathlib.Path(scratch) / "export"))
        if "single" in FLAGS.cases:
            print("single inputs (target: at most +300 MB each)")
            for name, data in worst_case_inputs().items():
                if FLAGS.only and FLAGS.only not in name:
                    continue
                path = pathlib.Path(scratch) / "input.bin"
                path.write_bytes(data)
                figures = _run_child(export_dir, "single", str(path))
                print(
                    f"  {_verdict(figures['added_mb'] <= 300, verdicts)}  {name:40s} "
                    f"{len(data) / MB:5.2f} MB  valid={figures['valid']!s:5s}  "
                    f"+{figures['added_mb']:6.0f} MB  ({figures['seconds']:.1f} s)",
                    flush=True,
                )
        if "batch" in FLAGS.cases:
            figures = _run_child(export_dir, "batch")
            print(
                f"{_verdict(figures['peak_mb'] <= 2048, verdicts)}  batch of 64 worst-case "
                f"images: peak {figures['peak_mb']:.0f} MB (loaded {figures['loaded_mb']:.0f} MB), "
                f"{figures['valid']} valid, {figures['seconds']:.1f} s (target: at most 2048 MB)",
                flush=True,
            )
        if "captions" in FLAGS.cases:
            figures = _run_child(export_dir, "captions")
            print(
                f"{_verdict(figures['added_mb'] <= 1024, verdicts)}  10,000 captions in one call: "
                f"+{figures['added_mb']:.0f} MB above the loaded model "
                f"({figures['loaded_mb']:.0f} MB), {figures['seconds']:.1f} s "
                "(target: at most +1024 MB)",
                flush=True,
            )
        if "soak" in FLAGS.cases:
            figures = _run_child(export_dir, "soak")
            growth = figures["rss_end_mb"] / figures["rss_after_100_mb"] - 1
            print(
                f"{_verdict(abs(growth) <= 0.10, verdicts)}  soak of {FLAGS.soak_requests} mixed "
                f"requests: RSS {figures['rss_after_100_mb']:.0f} MB after 100, "
                f"{figures['rss_end_mb']:.0f} MB at the end ({growth:+.1%}), "
                f"{figures['seconds']:.0f} s (target: within 10%)",
                flush=True,
            )
    print(f"{verdicts.count(True)} of {len(verdicts)} targets met")
    if not all(verdicts):
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
