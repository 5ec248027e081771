"""Load test of fusion-serve: concurrent clients on loopback mixing text queries, uploads and bad requests.

    python -m experiments.bench.bench_serve_load
    python -m experiments.bench.bench_serve_load --saved_model=runs/x/export --clients=8 --seconds=60
    python -m experiments.bench.bench_serve_load --gallery_size=500 --seconds=10  # quick check

Writes --gallery_size small synthetic JPEGs (random colour blocks) to a temporary folder, then
starts `fusion-serve` in its own process over them (the gallery indexed once, at start) and
--clients asyncio clients that each send one request after another for --seconds: text queries,
photo uploads and bad requests (an empty query, a text file as a photo, an upload over the limit)
in the proportions of --mix. Without --saved_model the export is an untrained FusionModel of
--preset at --image_size with a random 24-d vocabulary: latency depends on the network's size,
not its weights. Prints requests/s, p50/p99 latency per kind, failures (a good request not
answered 200, a bad one not answered 4xx, or no answer) and the server's resident memory after a
warm-up and at the end, then PASS or FAIL against issue 12's targets (no failed good request,
memory within 10%, p99 of a text query under 200 ms); exits 1 on any failure or missed target.
"""

import asyncio
import collections
import logging
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import cv2
import httpx2 as httpx
import numpy as np
import psutil
from absl import app, flags
from absl import logging as absl_logging

from fusion_tf import machine

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "Export to serve (default: an untrained one, see above).")
flags.DEFINE_string("preset", "tiny", "Backbone of the untrained export: tiny or facenet.")
flags.DEFINE_integer("image_size", 75, "Input size of the untrained export.")
flags.DEFINE_integer("gallery_size", 10_000, "Synthetic photos in the gallery.")
flags.DEFINE_integer("clients", 8, "Concurrent clients.")
flags.DEFINE_float("seconds", 60.0, "How long the clients send requests.")
flags.DEFINE_list("mix", ["text:6", "upload:2", "bad:2"], "kind:weight of each request kind.")
flags.DEFINE_float("max_upload_mb", 1.0, "The server's upload limit; bad uploads exceed it.")
flags.DEFINE_integer("seed", 0, "Random seed for photos and the request sequence.")

WORDS = [
    "a",
    "dog",
    "cat",
    "man",
    "woman",
    "child",
    "boy",
    "girl",
    "runs",
    "jumps",
    "sits",
    "stands",
    "on",
    "in",
    "the",
    "grass",
    "water",
    "beach",
    "snow",
    "street",
    "red",
    "blue",
    "green",
    "black",
    "white",
    "brown",
    "ball",
    "bike",
    "car",
    "with",
    "two",
    "small",
    "big",
]


def write_gallery(folder: pathlib.Path, count: int, random: np.random.Generator) -> None:
    """count 64 x 64 JPEGs of 4 x 4 random colour blocks (about 1 KB each)."""
    for index in range(count):
        blocks = random.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        photo = cv2.resize(blocks, (64, 64), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(folder / f"photo_{index:05d}.jpg"), photo)


def untrained_export(export_dir: pathlib.Path, preset: str, image_size: int) -> None:
    """An untrained FusionModel with a random vocabulary of WORDS, exported like a trained one."""
    from fusion_tf.export import export_model
    from fusion_tf.models.fusion_model import FusionModel
    from fusion_tf.text import TextImageEncoder, WordVectors

    model = FusionModel(num_classes=10, image_size=image_size, preset=preset)
    vectors = np.random.default_rng(0).normal(size=(len(WORDS), 24))
    export_model(model, TextImageEncoder(WordVectors(list(WORDS), vectors)), export_dir)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def busy_cpu_seconds(*processes: psutil.Process) -> tuple[float, ...]:
    """CPU seconds the machine has been busy, then each process's."""
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system + times.irq + times.softirq
    return (busy, *(sum(process.cpu_times()[:2]) for process in processes))


def percentile(values: list[float], fraction: float) -> float:
    return float(np.percentile(values, fraction * 100)) if values else float("nan")


class Load:
    """The requests of one kind: a builder of (method, path, keyword arguments, good?)."""

    def __init__(self, photos: list[bytes], max_upload_bytes: int, random: np.random.Generator):
        self.photos = photos
        self.oversized = b"\xff" * (max_upload_bytes + 1)
        self.random = random

    def request(self, kind: str) -> tuple[str, str, dict, bool]:
        if kind == "text":
            words = self.random.choice(WORDS, self.random.integers(3, 12))
            return "GET", "/api/search/text", {"params": {"q": " ".join(words)}}, True
        if kind == "upload":
            photo = self.photos[self.random.integers(len(self.photos))]
            return "POST", "/api/search/image", {"files": {"photo": ("p.jpg", photo)}}, True
        bad = self.random.integers(3)
        if bad == 0:
            return "GET", "/api/search/text", {"params": {"q": "  "}}, False
        upload = ("notes.txt", b"not a photo") if bad == 1 else ("big.jpg", self.oversized)
        return "POST", "/api/search/image", {"files": {"photo": upload}}, False


async def client_loop(base_url, load, kinds, weights, deadline, latencies, failures):
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while time.perf_counter() < deadline:
            kind = load.random.choice(kinds, p=weights)
            method, path, arguments, good = load.request(kind)
            start = time.perf_counter()
            try:
                response = await client.request(method, path, **arguments)
                ok = response.status_code == 200 if good else 400 <= response.status_code < 500
                if not ok:
                    failures[kind].append(f"{response.status_code} {response.text[:120]}")
            except httpx.HTTPError as error:
                failures[kind].append(f"{type(error).__name__}: {error}")
            latencies[kind].append(time.perf_counter() - start)


async def run_clients(base_url, load, mix, seconds, clients):
    kinds = [kind for kind, _ in mix]
    weights = np.array([weight for _, weight in mix], float)
    weights /= weights.sum()
    latencies, failures = collections.defaultdict(list), collections.defaultdict(list)
    deadline = time.perf_counter() + seconds
    await asyncio.gather(
        *(
            client_loop(base_url, load, kinds, weights, deadline, latencies, failures)
            for _ in range(clients)
        )
    )
    return latencies, failures


def main(argv):
    del argv
    print(machine.describe())
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per request otherwise
    absl_logging.set_verbosity(absl_logging.WARNING)  # TensorFlow's export chatter
    mix = [(kind, float(weight)) for kind, weight in (item.split(":") for item in FLAGS.mix)]
    random = np.random.default_rng(FLAGS.seed)
    with tempfile.TemporaryDirectory(prefix="bench_serve_") as root:
        root = pathlib.Path(root)
        gallery = root / "gallery"
        gallery.mkdir()
        start = time.perf_counter()
        write_gallery(gallery, FLAGS.gallery_size, random)
        print(
            f"{FLAGS.gallery_size} synthetic JPEGs written in {time.perf_counter() - start:.0f} s"
        )
        export_dir = FLAGS.saved_model
        if export_dir is None:
            export_dir = root / "export"
            untrained_export(export_dir, FLAGS.preset, FLAGS.image_size)
            print(f"untrained {FLAGS.preset} export at {FLAGS.image_size} px")
        captions = root / "captions.txt"
        captions.write_text(
            "\n".join(" ".join(random.choice(WORDS, 8)) for _ in range(1000)), encoding="utf-8"
        )
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "fusion_tf.cli.serve",
            f"--saved_model={export_dir}",
            f"--gallery={gallery}",
            f"--captions={captions}",
            f"--port={port}",
            f"--max_upload_mb={FLAGS.max_upload_mb}",
        ]
        start = time.perf_counter()
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(
                        f"fusion-serve exited: {server.stdout.read().decode()[-2000:]}"
                    )
                try:
                    health = httpx.get(f"{base_url}/api/health", timeout=5).json()
                    break
                except httpx.HTTPError:
                    time.sleep(1)
            print(f"server up in {time.perf_counter() - start:.0f} s (indexing included): {health}")
            process = psutil.Process(server.pid)
            photos = [path.read_bytes() for path in sorted(gallery.glob("*.jpg"))[:200]]
            load = Load(photos, int(FLAGS.max_upload_mb * 2**20), random)
            asyncio.run(run_clients(base_url, load, mix, min(5.0, FLAGS.seconds), FLAGS.clients))
            rss_start = process.memory_info().rss
            cpu_start = busy_cpu_seconds(process, psutil.Process())
            start = time.perf_counter()
            latencies, failures = asyncio.run(
                run_clients(base_url, load, mix, FLAGS.seconds, FLAGS.clients)
            )
            elapsed = time.perf_counter() - start
            rss_end = process.memory_info().rss
            machine_cpu, server_cpu, clients_cpu = (
                now - then
                for now, then in zip(
                    busy_cpu_seconds(process, psutil.Process()), cpu_start, strict=True
                )
            )
        finally:
            server.terminate()
            server.wait(30)
    total = sum(len(values) for values in latencies.values())
    print(
        f"\n{FLAGS.clients} clients for {elapsed:.0f} s on a {health['gallery_images']}-photo "
        f"gallery, {health['captions']} captions: {total / elapsed:.1f} requests/s"
    )
    print(f"{'kind':<8} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for kind, _ in mix:
        values = latencies[kind]
        print(
            f"{kind:<8} {len(values):>8} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f} {len(failures[kind]):>7}"
        )
        for failure in failures[kind][:3]:
            print(f"  e.g. {failure}")
    change = (rss_end - rss_start) / rss_start * 100
    print(
        f"server RSS after warm-up {rss_start / 2**20:.0f} MiB, at the end {rss_end / 2**20:.0f} MiB "
        f"({change:+.1f}%)\n"
        f"cores used: server {server_cpu / elapsed:.2f}, clients {clients_cpu / elapsed:.2f}, "
        f"other processes {max(0.0, machine_cpu - server_cpu - clients_cpu) / elapsed:.2f} "
        f"of {psutil.cpu_count()}"
    )
    good_failures = sum(len(failures[kind]) for kind in ("text", "upload"))
    text_p99_ms = percentile(latencies["text"], 0.99) * 1000
    verdicts = [
        (f"failed good requests: {good_failures} (target 0)", good_failures == 0),
        (f"server RSS change: {change:+.1f}% (target within 10%)", abs(change) <= 10),
        (f"text query p99: {text_p99_ms:.0f} ms (target under 200 ms)", text_p99_ms < 200),
    ]
    for line, met in verdicts:
        print(f"{'PASS' if met else 'FAIL'}  {line}")
    if any(failures.values()) or not all(met for _, met in verdicts):
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
