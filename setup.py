"""Installs fusion_tf, the TFRecord builder and the console scripts; experiments/ is not installed."""

import pathlib

from setuptools import find_packages, setup

# Runs exported LiteRT files in Python (fusion_tf.export.tflite.signature_runner); the tests need it.
LITERT = ["ai-edge-litert>=2.0"]

setup(
    name="fusion-tf",
    version="0.1.0",
    description=(
        "Single-network image-text retrieval with captions encoded as images "
        "(Revisiting Cross Modal Retrieval, arXiv 1807.07364) in TensorFlow/Keras."
    ),
    long_description=pathlib.Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["fusion_tf", "fusion_tf.*", "tfrecords_builder"]),
    package_data={"fusion_tf.configs": ["reference_results.json"]},
    install_requires=[
        "tensorflow>=2.16",
        "tensorboard>=2.16",
        "keras>=3.0",
        "gensim>=4.3",
        "numpy>=1.26",
        "absl-py>=2.0",
        "tensorflow-datasets>=4.9",
        "opencv-python-headless>=4.8",
        "regex>=2023.0",
        "faiss-cpu>=1.8",
        "scikit-learn>=1.3",
        "scipy>=1.10",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "starlette>=1.2",  # the first whose TestClient runs on httpx2
        "uvicorn>=0.30",
        "python-multipart>=0.0.18",
    ],
    extras_require={
        "test": [
            "pytest>=8.0",
            "ruff>=0.6",
            "psutil>=5.9",
            "httpx2>=2.0",
            "selenium>=4.20",
            *LITERT,
        ],
        "litert": LITERT,
    },
    entry_points={
        "console_scripts": [
            "fusion-train=fusion_tf.cli.train:run",
            "fusion-evaluate=fusion_tf.cli.evaluate:run",
            "fusion-export=fusion_tf.cli.export:run",
            "fusion-search=fusion_tf.cli.search:run",
            "fusion-serve=fusion_tf.cli.serve:run",
            "fusion-encode-caption=fusion_tf.cli.encode_caption:run",
            "fusion-build-tfrecords=fusion_tf.cli.build_tfrecords:run",
        ],
    },
)
