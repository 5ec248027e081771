"""build(): a raw data set to sharded TFRecords, the caption encoder, skipped.jsonl and manifest.json.

The steps, each safe to interrupt:

1. Check the output folder: a finished build with the same output settings is returned as it is;
   a build with other settings is an error (unless --overwrite); a partial one is resumed.
2. Scan the source once without reading images (scan.py): counts per split, train captions,
   duplicate ids, problems, and a fingerprint of each planned shard's inputs.
3. Train Word2Vec on the train captions (or load --word_vectors) and save the encoder to
   OUT/encoder, before any shard, through a temporary folder.
4. Read the source again, streaming its records in chunks to worker processes (a bounded number in
   flight) that convert images and encode captions; the main process assembles the Examples in
   source order, numbering train classes contiguously, and writes each shard under a temporary
   name, moving it into place when complete. A resumed build keeps, per split, the leading shards
   whose record exists and whose inputs are unchanged, and rebuilds the rest.
5. Write skipped.jsonl, check the skipped fraction per split, then write manifest.json last.
"""

import collections
import concurrent.futures
import dataclasses
import errno
import json
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import pathlib
import sys
import tempfile

import tensorflow as tf
import tqdm

from fusion_tf.data.manifest import DataDirectoryError, read_manifest
from fusion_tf.data.records import SPLITS, Problem
from fusion_tf.data.schema import (
    BUILD_ENCODER_DIR,
    NO_CLASS,
    SKIPPED_FILE,
    make_example,
    shard_name,
)
from fusion_tf.data.sources import open_source
from fusion_tf.text import TextImageEncoder, WordVectors, load_word2vec_format, train_word_vectors
from tfrecords_builder import worker
from tfrecords_builder.build_state import (
    BuildState,
    build_outputs,
    locked,
    remove_build_outputs,
    shard_files,
)
from tfrecords_builder.config import BuildConfig
from tfrecords_builder.errors import BuildError
from tfrecords_builder.manifest import make_manifest, missing_files, write_manifest
from tfrecords_builder.scan import SourceScan, planned_records, problem_message, scan_source
from tfrecords_builder.shard_writer import ShardWriter
from tfrecords_builder.skipped_items import check_skipped_fraction, write_skipped_file

logger = logging.getLogger(__name__)

CHUNK_SIZE = 16  # images a worker converts per task: large enough to amortise the hand-over
CHUNKS_IN_FLIGHT_PER_WORKER = 2  # keeps every worker busy while bounding memory
_START_METHOD = "forkserver"


def _settings_differences(stored: dict, current: dict) -> list[str]:
    return [
        f"{name}={stored.get(name)!r} there, {value!r} now"
        for name, value in current.items()
        if stored.get(name) != value
    ]


def _check_settings(stored: dict, config: BuildConfig, what: str) -> None:
    # A JSON round trip makes the current settings comparable with the stored ones (tuples, keys).
    current = json.loads(json.dumps(config.output_settings()))
    differences = _settings_differences(stored, current)
    if differences:
        raise BuildError(
            f"{config.output_dir} holds {what} made with other settings ({'; '.join(differences)}). "
            "Pass --overwrite to delete it and start over, or choose another --output_dir."
        )


def _start_worker_server() -> None:
    """Starts the fork server that workers come from; it imports their modules in the background.

    Workers are forked from a clean server process rather than from this one, which may run
    TensorFlow threads (unsafe to fork); the server imports TensorFlow once, while Word2Vec
    trains, and each worker then starts in milliseconds.
    """
    multiprocessing.get_context(_START_METHOD).set_forkserver_preload([worker.__name__])
    multiprocessing.forkserver.ensure_running()


def _open_source(config: BuildConfig):
    options = dict(config.source_options)
    if config.dataset == "custom":
        options["allow_outside_folder"] = config.allow_outside_data_dir
    try:
        return open_source(config.dataset, config.data_dir, **options)
    except (FileNotFoundError, ValueError) as error:
        raise BuildError(str(error)) from error


def _word_vectors(config: BuildConfig, scan: SourceScan) -> WordVectors:
    if config.word_vectors is not None:
        path = config.word_vectors
        try:
            if os.path.isdir(path):
                return WordVectors.load(path)
            return load_word2vec_format(path)
        except (OSError, ValueError) as error:
            raise BuildError(f"--word_vectors={path}: {error}") from error
    if not scan.train_captions:
        raise BuildError(
            "no train captions to train Word2Vec on: the source has no usable train images; "
            "pass --word_vectors to use saved vectors"
        )
    logger.info("training Word2Vec on %d train captions", len(scan.train_captions))
    try:
        return train_word_vectors(scan.train_captions, dim=config.word_vector_dim, seed=config.seed)
    except (ValueError, RuntimeError) as error:  # gensim raises RuntimeError on an empty vocabulary
        raise BuildError(f"cannot train Word2Vec on the train captions: {error}") from error


def _prepare_encoder(config: BuildConfig, scan: SourceScan, state: BuildState) -> TextImageEncoder:
    """The encoder saved in OUT/encoder, made (and saved) now unless this build already did.

    Its canvas holds the 99th-percentile train caption (TextImageEncoder.fitted).
    """
    encoder_dir = pathlib.Path(config.output_dir) / BUILD_ENCODER_DIR
    if encoder_dir.is_dir():  # saved by this build before it was interrupted
        return TextImageEncoder.load(encoder_dir)
    vectors = _word_vectors(config, scan)
    try:
        encoder = TextImageEncoder.fitted(vectors, scan.train_captions)
    except ValueError as error:
        raise BuildError(f"cannot encode captions with these word vectors: {error}") from error
    logger.info(
        "caption canvas: %d-d words as %d px superpixels, %d words a canvas",
        vectors.dim,
        encoder.layout.superpixel_size,
        encoder.capacity,
    )
    encoder.save(state.encoder_temporary_dir)
    os.replace(state.encoder_temporary_dir, encoder_dir)
    return encoder


def _shard_names(scan: SourceScan, split: str) -> list[str]:
    count = scan.num_shards(split)
    return [shard_name(split, index, count) for index in range(count)]


def _planned_images(scan: SourceScan, split: str, index: int) -> int:
    return max(0, min(scan.images_per_shard, scan.images[split] - index * scan.images_per_shard))


def _kept_shards(scan: SourceScan, state: BuildState) -> dict[str, list[dict]]:
    """Per split, the records of the leading shards a resumed build keeps; all others are deleted.

    A shard is kept when its record exists, its file has the recorded size and its inputs are
    unchanged, and so is every shard before it: train class numbers continue from earlier shards.
    """
    kept = {}
    for split in SPLITS:
        kept[split] = []
        for index, name in enumerate(_shard_names(scan, split)):
            record = state.shard_record(name)
            path = state.output_dir / name
            if (
                len(kept[split]) != index
                or record is None
                or not path.is_file()
                or path.stat().st_size != record["bytes"]
                or record["inputs_sha256"] != scan.shard_digests.hexdigest(split, index)
            ):
                continue
            kept[split].append(record)
    kept_names = {record["file"] for records in kept.values() for record in records}
    stale = {path.name for path in shard_files(state.output_dir)} | set(state.recorded_shards())
    for name in sorted(stale - kept_names):
        state.forget_shard(name)
    return kept


@dataclasses.dataclass(frozen=True)
class _Route:
    """Where a worker's result goes, and what its Example needs besides it (never the image)."""

    writer: ShardWriter
    image_id: str
    origin: str
    captions: tuple[str, ...]
    where: str  # the image file, for messages


class _ShardAssembler:
    """Receives the workers' results in source order and writes them into their shards."""

    def __init__(self, config: BuildConfig, state: BuildState, first_class: int):
        self.config = config
        self.state = state
        self.next_class = first_class

    def add(self, route: _Route, result: worker.EncodedImage | str) -> None:
        writer = route.writer
        if isinstance(result, str):
            if self.config.on_error == "fail":
                raise BuildError(problem_message(route.where, route.origin, result))
            writer.skip(route.image_id, route.origin, result)
        else:
            class_index = NO_CLASS
            if writer.split == "train":
                class_index, self.next_class = self.next_class, self.next_class + 1
            example = make_example(
                result.jpeg, route.image_id, class_index, list(route.captions), result.caption_pngs
            )
            # Deterministic: map fields in key order, so equal builds give byte-identical shards.
            serialized = example.SerializeToString(deterministic=True)
            writer.write(serialized, len(route.captions), result.statistics)
        if writer.done:
            self.finish(writer)

    def finish(self, writer: ShardWriter) -> None:
        self.state.save_shard_record(writer.finish())


def _write_shards(
    config: BuildConfig,
    source,
    scan: SourceScan,
    state: BuildState,
    kept: dict[str, list[dict]],
) -> None:
    """The second pass: streams the records of every shard not kept to the workers and writes them."""
    first_rebuilt = {split: len(kept[split]) for split in SPLITS}
    total = sum(
        _planned_images(scan, split, index)
        for split in SPLITS
        for index in range(first_rebuilt[split], scan.num_shards(split))
    )
    assembler = _ShardAssembler(
        config, state, first_class=sum(record["images"] for record in kept["train"])
    )
    writers = {}

    def writer_for(split: str, index: int) -> ShardWriter:
        if (split, index) not in writers:
            name = _shard_names(scan, split)[index]
            writers[split, index] = ShardWriter(
                state.temporary_dir / name,
                state.output_dir / name,
                split,
                _planned_images(scan, split, index),
            )
        return writers[split, index]

    settings = worker.ImageSettings(
        config.image_size, config.jpeg_quality, config.max_image_pixels, config.max_image_bytes
    )
    executor = concurrent.futures.ProcessPoolExecutor(
        config.num_workers,
        mp_context=multiprocessing.get_context(_START_METHOD),
        initializer=worker.initialize,
        initargs=(str(state.output_dir / BUILD_ENCODER_DIR), settings),
    )
    progress = tqdm.tqdm(
        total=total, unit=" images", desc=f"writing {config.dataset} shards", file=sys.stderr
    )
    in_flight = collections.deque()
    chunk, routes = [], []

    def collect(future, future_routes) -> None:
        for route, result in zip(future_routes, future.result(), strict=True):
            assembler.add(route, result)
        progress.update(len(future_routes))

    def submit() -> None:
        in_flight.append((executor.submit(worker.encode_chunk, list(chunk)), list(routes)))
        chunk.clear()
        routes.clear()
        if len(in_flight) >= CHUNKS_IN_FLIGHT_PER_WORKER * config.num_workers:
            collect(*in_flight.popleft())

    try:
        positions = dict.fromkeys(SPLITS, 0)
        for record in planned_records(source, scan.duplicates):
            if isinstance(record, Problem):
                continue
            position = positions[record.split]
            positions[record.split] += 1
            if position >= scan.images[record.split]:
                raise BuildError(
                    f"the source yielded more {record.split} images on its second reading than on "
                    f"its first ({scan.images[record.split]}): did its files change during the build?"
                )
            index = scan.shard_of(position)
            if index < first_rebuilt[record.split]:
                continue
            writer = writer_for(record.split, index)
            writer.add_input(record)
            where = record.image_id if isinstance(record.image, bytes) else record.image
            chunk.append((record.image, record.captions))
            routes.append(_Route(writer, record.image_id, record.origin, record.captions, where))
            if len(chunk) == CHUNK_SIZE:
                submit()
        if chunk:
            submit()
        while in_flight:
            collect(*in_flight.popleft())
        for split in SPLITS:
            for index in range(first_rebuilt[split], scan.num_shards(split)):
                writer = writer_for(split, index)
                if not writer.done:
                    raise BuildError(
                        f"the source yielded fewer {split} images on its second reading than on "
                        f"its first ({scan.images[split]}): did its files change during the build?"
                    )
                if writer.expected_images == 0:  # an empty split still gets its one (empty) shard
                    assembler.finish(writer)
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        for writer in writers.values():
            writer.close()
        raise
    finally:
        progress.close()
    executor.shutdown(wait=True)


def build(config: BuildConfig) -> dict:
    """Builds (or finishes, or finds finished) the TFRecords of config.dataset in config.output_dir.

    Returns:
        The manifest (also in OUT/manifest.json).

    Raises:
        BuildError: bad settings; an output folder holding another build; a problem with
            on_error="fail"; more than max_skipped_fraction of a split skipped.
        SourceFormatError: an index file of the source cannot be read (names file and line).
    """
    config = config.resolved()
    output_dir = pathlib.Path(config.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise BuildError(f"--output_dir={output_dir} is a file, not a folder")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        # The lock and the build state are the first writes: fail here, naming the folder.
        with tempfile.TemporaryFile(dir=output_dir):
            pass
    except OSError as error:
        raise BuildError(
            f"--output_dir={output_dir} cannot be written: {error.strerror or error}"
        ) from error
    with locked(output_dir):
        if config.overwrite:
            remove_build_outputs(output_dir)
        try:
            manifest = read_manifest(output_dir)
        except DataDirectoryError:  # none yet: not a finished build
            manifest = None
        if manifest is not None:
            _check_settings(manifest["config"], config, "a finished build")
            missing = missing_files(output_dir)
            if missing:
                raise BuildError(
                    f"{output_dir} holds a finished build whose files are missing or changed "
                    f"({', '.join(missing)}); pass --overwrite to build it again"
                )
            BuildState(output_dir).remove()  # left behind if the build was killed right after
            logger.info("%s already holds this build; nothing to do", output_dir)
            return manifest
        state = BuildState(output_dir)
        stored = state.settings()
        if stored is not None:
            _check_settings(stored, config, "a partial build")
            logger.info("resuming the partial build in %s", output_dir)
        else:
            leftovers = build_outputs(output_dir)
            if leftovers:
                names = ", ".join(path.name for path in leftovers[:5])
                raise BuildError(
                    f"{output_dir} holds build files ({names}{', ...' if len(leftovers) > 5 else ''}) "
                    "but no record of the build that wrote them; pass --overwrite to delete them"
                )
            state.start(config.output_settings())
        try:
            return _build(config, state)
        except (OSError, tf.errors.ResourceExhaustedError) as error:
            if not _is_disk_full(error):
                raise
            raise BuildError(
                f"no space left on the device of --output_dir={output_dir} ({error}); the build "
                "stopped partial, with no manifest.json: free space and run the same command to "
                "resume it"
            ) from error


def _is_disk_full(error: Exception) -> bool:
    """ENOSPC or EDQUOT, raised by Python's file calls or by TensorFlow's record writer."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    # TensorFlow maps the writer's ENOSPC to ResourceExhaustedError, with strerror in the message.
    return os.strerror(errno.ENOSPC) in str(error) or os.strerror(errno.EDQUOT) in str(error)


def _build(config: BuildConfig, state: BuildState) -> dict:
    source = _open_source(config)
    state.clear_temporary()
    scan = scan_source(
        source, config.images_per_shard, state.problems_path, config.on_error == "fail"
    )
    logger.info(
        "%s: %s images, %d problems in the source",
        config.dataset,
        ", ".join(f"{split} {scan.images[split]}" for split in SPLITS),
        scan.num_problems,
    )
    skipped_path = state.output_dir / SKIPPED_FILE
    # Problems of the source alone may already be too many: fail before converting any image.
    skipped = write_skipped_file(skipped_path, state.problems_path, scan.image_splits, [])
    check_skipped_fraction(skipped, scan.images, config.max_skipped_fraction, skipped_path)
    kept = _kept_shards(scan, state)
    if any(len(kept[split]) < scan.num_shards(split) for split in SPLITS):
        _start_worker_server()  # before Word2Vec trains, so that both run at once
    if any(kept.values()):
        logger.info("keeping %d finished shards", sum(len(records) for records in kept.values()))
    encoder = _prepare_encoder(config, scan, state)
    _write_shards(config, source, scan, state, kept)
    shard_records = {
        split: [state.shard_record(name) for name in _shard_names(scan, split)] for split in SPLITS
    }
    skipped = write_skipped_file(
        skipped_path,
        state.problems_path,
        scan.image_splits,
        (record for split in SPLITS for record in shard_records[split]),
    )
    check_skipped_fraction(skipped, scan.images, config.max_skipped_fraction, skipped_path)
    manifest = make_manifest(config, source.describe(), shard_records, encoder, skipped)
    write_manifest(state.output_dir, manifest)
    state.remove()
    return manifest
