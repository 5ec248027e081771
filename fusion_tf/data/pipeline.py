"""The tf.data pipeline: shards to training batches (config-standard or config-2) and evaluation sets.

Training: one image becomes several samples of one class: config-standard gives the image and its
5 encoded captions (6 samples); config-2 adds the flipped image and 5 random 227 x 227 crops of the
encoded captions brought back to the input size (12 samples). `images_per_batch` images make a batch
of 45 x 6 or 45 x 12 samples, with labels and a modality flag (0 photo, 1 encoded caption).
Evaluation: photos and captions are read in file order with no augmentation, keeping each caption's
image index for Recall@K. The same standardisation serves training, evaluation and export, and
caption canvases are resized, whole or cropped, through their runs of one colour (canvas_resize.py:
the antialiased resize's result for a fraction of its cost).

Training's random choices (caption order, crops, colour) are stateless, keyed on the seed and the
image's position in the shuffled stream: a resumed run skips the images it consumed, undecoded,
and then sees the same views an unbroken run would, however many threads decode them.
"""

import dataclasses
import os
import random

import tensorflow as tf

from fusion_tf.config_fields import choice, choice_problems
from fusion_tf.data import manifest as manifest_lib
from fusion_tf.data import schema
from fusion_tf.data.canvas_resize import CanvasResizer
from fusion_tf.modality import CAPTION, PHOTO
from fusion_tf.text.encoder import TextImageEncoder

# The paper's input configurations: how many times each modality appears per image.
INPUT_CONFIGS = {"standard": 1, "config2": 2}
# Captions scored for each image, the first ones: the Flickr30K and COCO protocols score five (a
# COCO image may have up to seven). Fixed, so that a training setting cannot change the protocol.
EVALUATION_CAPTIONS_PER_IMAGE = 5
STANDARDIZATIONS = ("fixed", "per_image")
# "none": the paper's photos (config-2 adds their flip); "crop": a random resized crop of each
# photo view; "crop_color": that and colour jitter (SimCLR's, milder).
PHOTO_AUGMENTATIONS = ("none", "crop", "crop_color")
# "none": the paper's captions (config-2 adds crops of them); "crop": every caption view is a
# random crop, so no caption looks the same at two epochs.
CAPTION_AUGMENTATIONS = ("none", "crop")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """How shards become model inputs.

    Args:
        image_size: int. Side of the model's square input. Defaults to 160.
        images_per_batch: int. Images (classes) per global batch; the paper uses 45.
        captions_per_image: int. Captions drawn for each training image, cycled when it has
            fewer. Defaults to 5. Evaluation scores EVALUATION_CAPTIONS_PER_IMAGE whatever it is.
        input_config: str. The paper's input configuration: "standard" (image + 5 captions) or
            "config2" (+ flipped image and 5 caption crops). Defaults to "standard".
        standardization: str. "fixed", (x - 127.5) / 128, or facenet's "per_image" mean and
            variance. Defaults to "fixed", which keeps a word's colour the same in every caption.
        crop_size: int. Side of config-2's random caption crops, on the 256 canvas. Defaults to 227.
        shuffle_buffer: int. Images in the shuffle buffer. Defaults to 2048.
        photo_augmentation: str. One of PHOTO_AUGMENTATIONS, for training photos only.
            Defaults to "none" (the paper).
        caption_augmentation: str. One of CAPTION_AUGMENTATIONS, for training captions only.
            Defaults to "none" (the paper).
    """

    image_size: int = 160
    images_per_batch: int = 45
    captions_per_image: int = 5
    input_config: str = choice("standard", INPUT_CONFIGS)
    standardization: str = choice("fixed", STANDARDIZATIONS)
    crop_size: int = 227
    shuffle_buffer: int = 2048
    photo_augmentation: str = choice("none", PHOTO_AUGMENTATIONS)
    caption_augmentation: str = choice("none", CAPTION_AUGMENTATIONS)

    def __post_init__(self):
        problems = choice_problems(self)
        if self.images_per_batch < 1 or self.captions_per_image < 1:
            problems.append("images_per_batch and captions_per_image must be at least 1")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def samples_per_image(self) -> int:
        return INPUT_CONFIGS[self.input_config] * (1 + self.captions_per_image)


def standardize(images: tf.Tensor, method: str = "fixed") -> tf.Tensor:
    """uint8 or float pixels in 0..255 to the network's input scale."""
    images = tf.cast(images, tf.float32)
    if method == "fixed":
        return (images - 127.5) / 128.0
    if method == "per_image":
        return tf.image.per_image_standardization(images)
    raise ValueError(f"standardization={method!r}: use one of {STANDARDIZATIONS}")


def _decode(encoded: tf.Tensor) -> tf.Tensor:
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def decode_image(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
    """JPEG or PNG bytes to a (size, size, 3) float image in 0..255, resized like the builder."""
    return resize(_decode(encoded), image_size)


def augment_photo(
    image: tf.Tensor, image_size: int, augmentation: str, seed: tf.Tensor
) -> tf.Tensor:
    """A decoded photo to one (size, size, 3) training view drawn by `seed` (shape [2]), 0..255."""
    if augmentation == "none":
        return resize(image, image_size)
    seeds = tf.random.experimental.stateless_split(seed, num=5)
    # Inception-style random resized crop, milder in area than ImageNet's 8% since a caption
    # usually describes most of the photo.
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image),
        bounding_boxes=tf.zeros([1, 0, 4]),
        seed=seeds[0],
        min_object_covered=0.0,
        aspect_ratio_range=(3 / 4, 4 / 3),
        area_range=(0.35, 1.0),
        max_attempts=10,
        use_image_if_no_bounding_boxes=True,
    )
    view = resize(tf.slice(image, begin, size), image_size)
    if augmentation == "crop_color":
        view = view / 255.0
        view = tf.image.stateless_random_brightness(view, 0.15, seeds[1])
        view = tf.image.stateless_random_contrast(view, 0.7, 1.3, seeds[2])
        view = tf.image.stateless_random_saturation(view, 0.7, 1.3, seeds[3])
        view = tf.image.stateless_random_hue(view, 0.05, seeds[4])
        view = 255.0 * tf.clip_by_value(view, 0.0, 1.0)
    return view


def resize(images: tf.Tensor, image_size: int) -> tf.Tensor:
    """Resizes (with antialiasing when shrinking) to a square of `image_size`; float 0..255."""
    images = tf.cast(images, tf.float32)
    return tf.image.resize(images, [image_size, image_size], antialias=True)


def _select_captions(captions: tf.Tensor, count: int, seed: tf.Tensor) -> tf.Tensor:
    """`count` captions in an order drawn by `seed`, cycled when too few."""
    captions = tf.gather(
        captions, tf.argsort(tf.random.stateless_uniform(tf.shape(captions), seed))
    )
    indices = tf.range(count) % tf.shape(captions)[0]
    return tf.gather(captions, indices)


def _decode_captions(pngs: tf.Tensor) -> tf.Tensor:
    """PNG-encoded caption canvases (all the same size) to a uint8 batch."""
    return tf.map_fn(
        lambda png: tf.io.decode_png(png, channels=3),
        pngs,
        fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    )


def canvas_resizer(data_dir: str | os.PathLike, config: PipelineConfig) -> CanvasResizer:
    """Resizes the caption canvases of these shards, by the layout their build saved."""
    layout = TextImageEncoder.load_layout(manifest_lib.encoder_dir(data_dir))
    crops = config.input_config == "config2" or config.caption_augmentation == "crop"
    return CanvasResizer(layout, config.image_size, config.crop_size if crops else None)


def training_sample(
    serialized: tf.Tensor, config: PipelineConfig, seed: tf.Tensor, canvases: CanvasResizer
) -> dict[str, tf.Tensor]:
    """One training image as its samples: (k, size, size, 3) standardised pixels, labels, modality.

    `seed` (shape [2]) draws every random choice, so an image at one place in the stream gets
    the same views in every run; `canvases` resizes its caption canvases.
    """
    example = schema.parse_example(serialized)
    size = config.image_size
    seeds = tf.random.experimental.stateless_split(seed, num=4)
    photo = _decode(example[schema.IMAGE])
    captions = canvases.grid(
        _decode_captions(
            _select_captions(example[schema.CAPTION_IMAGE], config.captions_per_image, seeds[0])
        )
    )
    first = augment_photo(photo, size, config.photo_augmentation, seeds[1])
    photos = [first[tf.newaxis]]

    if config.caption_augmentation == "crop":
        # Folded from config-2's crop seed, which keeps the paper's own draws as they were.
        fold = tf.random.experimental.stateless_fold_in(seeds[3], 1)
        caption_views = [canvases.resize(captions, fold)]
    else:
        caption_views = [canvases.resize(captions)]
    if config.input_config == "config2":
        # Its own random view when augmenting, so the two photos of an image differ in more than
        # the flip.
        second = first
        if config.photo_augmentation != "none":
            second = augment_photo(photo, size, config.photo_augmentation, seeds[2])
        photos.append(tf.image.flip_left_right(second)[tf.newaxis])
        caption_views.append(canvases.resize(captions, seeds[3]))
    pixels = tf.concat(photos + caption_views, axis=0)
    photo_count = len(photos)
    modality = tf.concat(
        [
            tf.fill([photo_count], PHOTO),
            tf.fill([photo_count * config.captions_per_image], CAPTION),
        ],
        axis=0,
    )
    label = tf.cast(example[schema.CLASS], tf.int32)
    return {
        "images": standardize(pixels, config.standardization),
        "labels": tf.fill([config.samples_per_image], label),
        "modality": modality,
    }


def _flatten_batch(batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """(images, samples, ...) to (images * samples, ...): one batch of samples of many classes."""
    return {
        key: tf.reshape(value, tf.concat([[-1], tf.shape(value)[2:]], 0))
        for key, value in batch.items()
    }


def training_dataset(
    data_dir: str | os.PathLike,
    config: PipelineConfig,
    input_context: tf.distribute.InputContext | None = None,
    split: str = "train",
    seed: int | None = None,
    repeat: bool = False,
    skip_batches: int = 0,
) -> tf.data.Dataset:
    """One epoch of shuffled training batches; under tf.distribute, this pipeline's share of them.

    `skip_batches` drops the first batches of the stream, as a resumed run that consumed them
    must: their records are read and shuffled again, not decoded, and the batches after them are
    those an unbroken run with the same seed would see.

    With `repeat`, batches never end: the training loop counts steps, so workers whose file
    shares differ in size still take the same number of steps (a collective would hang otherwise).

    With an `input_context` (from `strategy.distribute_datasets_from_function`), shard files are
    divided between input pipelines when there are enough of them, records otherwise, and the
    batch is the per-replica share of `images_per_batch`.
    """
    files = manifest_lib.split_files(data_dir, split)
    images_per_batch = config.images_per_batch
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if input_context is not None and input_context.num_input_pipelines > 1:
        images_per_batch = input_context.get_per_replica_batch_size(config.images_per_batch)
        if len(files) >= input_context.num_input_pipelines:
            dataset = dataset.shard(
                input_context.num_input_pipelines, input_context.input_pipeline_id
            )
    dataset = dataset.shuffle(len(files), seed=seed)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), 8),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=seed is not None,
    )
    if input_context is not None and input_context.num_input_pipelines > len(files):
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.shuffle(config.shuffle_buffer, seed=seed)
    # An image's place in this pipeline's stream, with the seed, keys its random views.
    view_seed = tf.constant(random.getrandbits(31) if seed is None else seed, tf.int64)
    canvases = canvas_resizer(data_dir, config)

    def sample_at(position, serialized):
        return training_sample(serialized, config, tf.stack([view_seed, position]), canvases)

    dataset = dataset.enumerate().skip(skip_batches * images_per_batch)
    dataset = dataset.map(
        sample_at,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=seed is not None,
    )
    dataset = dataset.batch(images_per_batch, drop_remainder=True)
    return dataset.map(_flatten_batch).prefetch(tf.data.AUTOTUNE)


def ordered_records(
    data_dir: str | os.PathLike, split: str, first_images: int | None = None
) -> tf.data.Dataset:
    """The split's parsed records in file order (photo i is record i), only the first if asked.

    The manifest's count of the split's photos refuses more than it has before anything is read.
    """
    manifest = manifest_lib.read_manifest(data_dir)
    records = tf.data.TFRecordDataset(manifest_lib.split_files(data_dir, split, manifest))
    if first_images is not None:
        if first_images < 1:
            raise ValueError(f"first_images={first_images}: expected a positive number, or None")
        available = manifest["splits"][split]["images"]
        if first_images > available:
            raise ValueError(
                f"split {split!r} has {available} images, fewer than the {first_images} asked for"
            )
        records = records.take(first_images)
    return records.map(schema.parse_example, num_parallel_calls=tf.data.AUTOTUNE)


def evaluation_photos(
    data_dir: str | os.PathLike,
    split: str,
    config: PipelineConfig,
    batch_size: int = 128,
    first_images: int | None = None,
) -> tf.data.Dataset:
    """Batches of {"images", "image_index"}: every photo of the split in file order, unaugmented.

    With `first_images`, only that many of the split's first photos.
    """

    def prepare(index, example):
        photo = decode_image(example[schema.IMAGE], config.image_size)
        return {"images": standardize(photo, config.standardization), "image_index": index}

    records = ordered_records(data_dir, split, first_images).enumerate()
    return (
        records.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def evaluation_captions(
    data_dir: str | os.PathLike,
    split: str,
    config: PipelineConfig,
    batch_size: int = 128,
    first_images: int | None = None,
) -> tf.data.Dataset:
    """Batches of {"images", "image_index", "text"}: each photo's first captions, in file order.

    The first EVALUATION_CAPTIONS_PER_IMAGE of each photo, whatever `config.captions_per_image`
    draws in training; with `first_images`, of that many of the split's first photos only.
    """

    def captions_of(index, example):
        count = tf.minimum(tf.shape(example[schema.CAPTION_TEXT])[0], EVALUATION_CAPTIONS_PER_IMAGE)
        return tf.data.Dataset.from_tensor_slices(
            {
                "png": example[schema.CAPTION_IMAGE][:count],
                "text": example[schema.CAPTION_TEXT][:count],
                "image_index": tf.fill([count], index),
            }
        )

    canvases = canvas_resizer(data_dir, config)

    def prepare(caption):
        canvas = canvases.whole(tf.io.decode_png(caption["png"], channels=3)[tf.newaxis])[0]
        return {
            "images": standardize(canvas, config.standardization),
            "image_index": caption["image_index"],
            "text": caption["text"],
        }

    records = ordered_records(data_dir, split, first_images).enumerate()
    return (
        records.flat_map(captions_of)
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
