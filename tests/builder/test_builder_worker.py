"""The builder's worker processes encode with NumPy and OpenCV only: no TensorFlow, no gensim."""

import json
import os
import pathlib
import subprocess
import sys

import cv2
import numpy as np

from fusion_tf.text import TextImageEncoder, train_word_vectors

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]

WORKER_SCRIPT = """
import json, sys
from tfrecords_builder import worker
worker.initialize(sys.argv[1], worker.ImageSettings(32, 90, 10**7, 10**7))
encoded = worker.encode_image(sys.argv[2], tuple(sys.argv[3:]))
print(json.dumps({
    "heavy_modules": sorted(m for m in ("tensorflow", "gensim", "keras") if m in sys.modules),
    "pngs": [png.hex() for png in encoded.caption_pngs],
    "jpeg_bytes": len(encoded.jpeg),
}))
"""


def test_worker_encodes_without_tensorflow_or_gensim(tmp_path, tiny_data):
    captions = [caption for index in range(20) for caption in tiny_data.captions(index)]
    encoder = TextImageEncoder(train_word_vectors(captions, dim=6, min_count=1))
    encoder.save(tmp_path / "encoder")
    image_path = tmp_path / "photo.png"
    image_path.write_bytes(tiny_data.png(tiny_data.pixels(0)))

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER_SCRIPT,
            str(tmp_path / "encoder"),
            str(image_path),
            *captions[:2],
        ],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # Each of these would add hundreds of MiB to every worker (TensorFlow alone about 600).
    assert report["heavy_modules"] == []
    assert report["jpeg_bytes"] > 0
    decoded = [
        cv2.cvtColor(
            cv2.imdecode(np.frombuffer(bytes.fromhex(png), np.uint8), 1), cv2.COLOR_BGR2RGB
        )
        for png in report["pngs"]
    ]
    np.testing.assert_array_equal(np.stack(decoded), encoder.encode(captions[:2]))
