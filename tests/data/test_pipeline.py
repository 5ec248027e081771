"""The tf.data pipeline on small shards made here: shapes, labels, modality, order, standardisation."""

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf import data
from fusion_tf.modality import CAPTION, PHOTO


@pytest.fixture(scope="module")
def shards(tmp_path_factory, write_shards):
    directory = tmp_path_factory.mktemp("shards")
    write_shards(directory, caption_counts={("val", 1): 7, ("val", 2): 2})
    return directory


@pytest.mark.parametrize("input_config, samples", [("standard", 6), ("config2", 12)])
def test_training_batches(shards, input_config, samples):
    config = data.PipelineConfig(image_size=80, images_per_batch=4, input_config=input_config)
    batches = list(data.training_dataset(shards, config, seed=0))
    assert len(batches) == 2  # 8 images, 4 a batch
    for batch in batches:
        assert batch["images"].shape == (4 * samples, 80, 80, 3)
        assert batch["images"].dtype == tf.float32
        labels = batch["labels"].numpy().reshape(4, samples)
        modality = batch["modality"].numpy().reshape(4, samples)
        # Every image's samples share its class; photos first, then captions.
        assert (labels == labels[:, :1]).all()
        photos = samples // 6
        assert (modality[:, :photos] == PHOTO).all()
        assert (modality[:, photos:] == CAPTION).all()
        assert np.abs(batch["images"].numpy()).max() <= 1.0
    seen = np.concatenate([batch["labels"].numpy()[::samples] for batch in batches])
    assert sorted(seen) == list(range(8))


def test_fewer_captions_an_image_are_drawn_from_its_own_without_repeats(shards):
    def batch(captions_per_image):
        config = data.PipelineConfig(
            image_size=80, images_per_batch=4, captions_per_image=captions_per_image
        )
        images = next(iter(data.training_dataset(shards, config, seed=3)))["images"].numpy()
        return images.reshape(4, 1 + captions_per_image, 80, 80, 3)

    two, five = batch(2), batch(5)
    # The same seed draws the same order of an image's captions; two takes its first two.
    np.testing.assert_array_equal(two, five[:, :3])
    for image in two:
        assert not np.array_equal(image[1], image[2])


def test_config2_flips_the_photo(shards):
    config = data.PipelineConfig(image_size=80, images_per_batch=1, input_config="config2")
    batch = next(iter(data.training_dataset(shards, config, seed=0)))
    np.testing.assert_allclose(batch["images"][1], tf.image.flip_left_right(batch["images"][0]))


def test_training_pipeline_runs_in_graph(shards):
    config = data.PipelineConfig(image_size=80, images_per_batch=2)
    dataset = data.training_dataset(shards, config, seed=0)

    @tf.function
    def total(dataset):
        result = tf.constant(0.0)
        for batch in dataset:
            result += tf.reduce_sum(tf.cast(batch["labels"], tf.float32))
        return result

    assert total(dataset).numpy() == 6 * sum(range(8))


def test_distributed_input_divides_the_batch(shards):
    config = data.PipelineConfig(image_size=80, images_per_batch=4)
    context = tf.distribute.InputContext(
        num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2
    )
    batches = list(data.training_dataset(shards, config, input_context=context, seed=0))
    assert batches and all(batch["labels"].shape == (2 * 6,) for batch in batches)
    # Pipeline 1 reads only the second of the two train shards: odd image indices.
    assert all(label % 2 == 1 for batch in batches for label in batch["labels"].numpy())


@pytest.mark.parametrize("captions_per_image", [5, 2])
def test_evaluation_order_and_caption_counts(shards, captions_per_image):
    # Training's caption draw does not change what is scored.
    config = data.PipelineConfig(image_size=64, captions_per_image=captions_per_image)
    photos = list(data.evaluation_photos(shards, "val", config, batch_size=2))
    captions = list(data.evaluation_captions(shards, "val", config, batch_size=4))
    image_index = np.concatenate([batch["image_index"].numpy() for batch in photos])
    caption_image = np.concatenate([batch["image_index"].numpy() for batch in captions])
    assert image_index.tolist() == [0, 1, 2]
    # At most 5 captions an image, so the 7-caption image gives 5 and the 2-caption one 2.
    assert caption_image.tolist() == [0] * 5 + [1] * 5 + [2] * 2
    assert photos[0]["images"].shape[1:] == (64, 64, 3)


def test_evaluation_of_a_split_s_first_images(shards):
    config = data.PipelineConfig(image_size=64)
    photos = list(data.evaluation_photos(shards, "val", config, batch_size=2, first_images=2))
    captions = list(data.evaluation_captions(shards, "val", config, batch_size=4, first_images=2))
    assert np.concatenate([batch["image_index"] for batch in photos]).tolist() == [0, 1]
    caption_image = np.concatenate([batch["image_index"] for batch in captions])
    assert caption_image.tolist() == [0] * 5 + [1] * 5  # not the third photo's 2
    # The manifest's count refuses more photos than the split has before anything is read.
    with pytest.raises(ValueError, match="split 'val' has 3 images, fewer than the 10 asked for"):
        data.ordered_records(shards, "val", first_images=10)
    with pytest.raises(ValueError, match="first_images=0"):
        data.ordered_records(shards, "val", first_images=0)


def test_evaluation_captions_match_the_encoder(tmp_path, write_shards):
    encoder = write_shards(tmp_path, {"train": 2, "val": 1})
    config = data.PipelineConfig(image_size=256)
    batch = next(iter(data.evaluation_captions(tmp_path, "val", config)))
    expected = data.standardize(encoder.encode([batch["text"][0].numpy().decode()])[0])
    np.testing.assert_allclose(batch["images"][0], expected, atol=1e-6)


def test_per_image_standardization():
    images = tf.random.uniform([2, 8, 8, 3], 0, 255)
    standardized = data.standardize(images, "per_image").numpy()
    np.testing.assert_allclose(standardized.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    with pytest.raises(ValueError, match="standardization"):
        data.standardize(images, "other")


def test_missing_build_says_what_to_run(tmp_path):
    with pytest.raises(data.DataDirectoryError, match="fusion-build-tfrecords"):
        data.training_dataset(tmp_path, data.PipelineConfig())


def _gradient_photo(height=60, width=90):
    rows, columns = np.mgrid[0:height, 0:width]
    return tf.constant(
        np.stack([rows * 4 % 256, columns * 3 % 256, (rows + columns) % 256], -1), tf.uint8
    )


def test_no_photo_augmentation_is_the_plain_resize():
    photo = _gradient_photo()
    np.testing.assert_array_equal(
        data.pipeline.augment_photo(photo, 32, "none", tf.constant([0, 0])),
        data.pipeline.resize(photo, 32),
    )


@pytest.mark.parametrize("augmentation", ["crop", "crop_color"])
def test_augmented_photo_views_differ_and_stay_in_range(augmentation):
    photo = _gradient_photo()
    views = [
        data.pipeline.augment_photo(photo, 32, augmentation, tf.constant([0, seed])).numpy()
        for seed in range(4)
    ]
    plain = data.pipeline.resize(photo, 32).numpy()
    for view in views:
        assert view.shape == (32, 32, 3)
        assert view.min() >= 0.0 and view.max() <= 255.0
    assert sum(not np.allclose(view, plain) for view in views) >= 3
    assert not np.allclose(views[0], views[1])
    again = data.pipeline.augment_photo(photo, 32, augmentation, tf.constant([0, 1]))
    np.testing.assert_array_equal(again, views[1])  # a seed draws one view


def test_skipped_batches_are_those_an_unbroken_stream_would_give(shards):
    config = data.PipelineConfig(
        image_size=40, images_per_batch=2, input_config="config2", photo_augmentation="crop_color"
    )
    unbroken = data.training_dataset(shards, config, seed=3, repeat=True).take(7)
    resumed = data.training_dataset(shards, config, seed=3, repeat=True, skip_batches=5).take(2)
    for expected, batch in zip(list(unbroken)[5:], resumed, strict=True):
        for key in ("images", "labels", "modality"):
            np.testing.assert_array_equal(batch[key], expected[key])


def test_photo_augmentation_reaches_config2_batches(shards):
    config = data.PipelineConfig(
        image_size=40, images_per_batch=2, input_config="config2", photo_augmentation="crop_color"
    )
    batch = next(iter(data.training_dataset(shards, config, seed=0)))
    assert batch["images"].shape == (24, 40, 40, 3)
    assert np.abs(batch["images"].numpy()).max() <= 1.0


def test_an_unknown_photo_augmentation_names_the_choices():
    with pytest.raises(ValueError, match="crop_color"):
        data.PipelineConfig(photo_augmentation="mixup")


def test_caption_crops_replace_the_plain_captions_and_keep_config2s_own(shards):
    def batch(caption_augmentation):
        config = data.PipelineConfig(
            image_size=80,
            images_per_batch=2,
            input_config="config2",
            caption_augmentation=caption_augmentation,
        )
        images = next(iter(data.training_dataset(shards, config, seed=0)))["images"].numpy()
        return images.reshape(2, 12, 80, 80, 3)

    plain, cropped = batch("none"), batch("crop")
    # Photos and config-2's five crops are drawn as the paper's configuration draws them.
    np.testing.assert_array_equal(cropped[:, :2], plain[:, :2])
    np.testing.assert_array_equal(cropped[:, 7:], plain[:, 7:])
    # The first five are no longer the whole canvases, nor the same crops as the second five.
    for caption in range(2, 7):
        assert not np.array_equal(cropped[:, caption], plain[:, caption])
        assert not np.array_equal(cropped[:, caption], cropped[:, caption + 5])
    with pytest.raises(ValueError, match="crop"):
        data.PipelineConfig(caption_augmentation="shuffle_words")
