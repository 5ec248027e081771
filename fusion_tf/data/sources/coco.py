"""Reads COCO captions in Karpathy's splits: via tensorflow-datasets, or from the official files.

Both give Karpathy and Li's splits: train and restval (joined into train), val and test (5000
images each, drawn from COCO's val2014). The image id is the COCO file name, e.g.
``COCO_val2014_000000391895.jpg``.
"""

import os
from collections.abc import Iterator, Sequence

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.captions import assemble_record
from fusion_tf.data.sources.index_files import load_json
from fusion_tf.data.sources.karpathy import KARPATHY_SPLITS, read_karpathy_entries

TFDS_NAME = "coco_captions"


def read_coco_tfds(
    data_dir: str | os.PathLike | None = None, download: bool = False
) -> Iterator[Record | Problem]:
    """Yields a Record per image of tensorflow-datasets' coco_captions, images as JPEG bytes.

    Args:
        data_dir: the tensorflow-datasets data folder holding ``coco_captions/``. None uses
            tensorflow-datasets' default folder.
        download: whether tensorflow-datasets may download and prepare the data set (about 40
            GB) when it is not there yet. Defaults to False, so nothing is fetched unasked.
    """
    # Imported here: tensorflow-datasets loads TensorFlow, which the other readers never need.
    import tensorflow_datasets as tfds

    first_origins = {}
    for tfds_split, split in KARPATHY_SPLITS.items():
        dataset = tfds.load(
            TFDS_NAME,
            split=tfds_split,
            data_dir=None if data_dir is None else os.fspath(data_dir),
            download=download,
            # The builder re-reads the image bytes; decoding them here would waste time and
            # re-encoding would lose quality.
            decoders={"image": tfds.decode.SkipDecoding()},
        )
        for index, example in enumerate(tfds.as_numpy(dataset)):
            origin = f"{TFDS_NAME}/{tfds_split}[{index}]"
            image_id = example["image/filename"].decode("utf-8")
            if image_id in first_origins:
                yield Problem(
                    image_id, origin, f"duplicate image id, first at {first_origins[image_id]}"
                )
                continue
            first_origins[image_id] = origin
            captions = [
                (text.decode("utf-8"), f"{origin}.captions[{caption_index}]")
                for caption_index, text in enumerate(example["captions"]["text"])
            ]
            yield from assemble_record(image_id, bytes(example["image"]), captions, split, origin)


def _official_captions(
    annotation_path: str | os.PathLike,
) -> Iterator[tuple[str, str, str] | Problem]:
    """Yields (image file name, caption, origin) per annotation of an official captions file."""
    document = load_json(annotation_path)
    if not (
        isinstance(document, dict)
        and isinstance(document.get("images"), list)
        and isinstance(document.get("annotations"), list)
    ):
        raise SourceFormatError(
            annotation_path,
            None,
            'not a COCO captions file: expected {"images": [...], "annotations": [...]} at the top',
        )
    file_name = os.path.basename(annotation_path)
    image_names = {}
    for index, image in enumerate(document["images"]):
        if isinstance(image, dict) and isinstance(image.get("file_name"), str) and "id" in image:
            image_names[image["id"]] = image["file_name"]
        else:
            yield Problem(
                f"images[{index}]",
                f"{file_name}: images[{index}]",
                "image has no 'id' and 'file_name'",
            )
    for index, annotation in enumerate(document["annotations"]):
        origin = f"{file_name}: annotations[{index}]"
        if not isinstance(annotation, dict) or not isinstance(annotation.get("caption"), str):
            yield Problem(f"annotations[{index}]", origin, "annotation has no 'caption' string")
        elif annotation.get("image_id") not in image_names:
            yield Problem(
                f"image_id {annotation.get('image_id')!r}",
                origin,
                "annotation refers to an image id not in 'images'",
            )
        else:
            yield image_names[annotation["image_id"]], annotation["caption"], origin


def read_coco_official(
    annotation_paths: Sequence[str | os.PathLike],
    karpathy_path: str | os.PathLike,
    image_dir: str | os.PathLike,
) -> Iterator[Record | Problem]:
    """Yields a Record per image of the Karpathy split file, with the official COCO captions.

    Args:
        annotation_paths: official caption files, e.g. ``annotations/captions_train2014.json``
            and ``annotations/captions_val2014.json``.
        karpathy_path: ``dataset_coco.json``, which decides the split of each image.
        image_dir: folder holding ``train2014/`` and ``val2014/``.
    """
    captions = {}  # image file name -> list of (caption, origin), in file order
    for annotation_path in annotation_paths:
        for item in _official_captions(annotation_path):
            if isinstance(item, Problem):
                yield item
            else:
                image_name, caption, origin = item
                captions.setdefault(image_name, []).append((caption, origin))
    annotation_names = ", ".join(os.path.basename(path) for path in annotation_paths)
    listed = set()
    for entry in read_karpathy_entries(karpathy_path):
        if isinstance(entry, Problem):
            yield entry
            continue
        listed.add(entry.filename)
        if entry.filename not in captions:
            yield Problem(
                entry.filename, entry.origin, f"image has no captions in {annotation_names}"
            )
            continue
        image_path = os.path.join(image_dir, entry.filepath, entry.filename)
        yield from assemble_record(
            entry.filename, image_path, captions[entry.filename], entry.split, entry.origin
        )
    karpathy_name = os.path.basename(karpathy_path)
    for image_name, image_captions in captions.items():
        if image_name not in listed:
            yield Problem(
                image_name, image_captions[0][1], f"image is in no split of {karpathy_name}"
            )
