"""Finds which reader fits the files under a data folder and opens it as a Source.

Layouts tried, first match wins (text files may also sit in ``Flickr8k_text/`` or ``flickr30k/``):

- flickr8k: ``dataset_flickr8k.json`` (Karpathy), else ``Flickr8k.token.txt`` with the split lists
  ``Flickr_8k.{train,dev,test}Images.txt`` beside it (without them every image is in train).
- flickr30k: ``dataset_flickr30k.json`` (Karpathy), else ``results_20130124.token`` or
  ``results.token`` (every image in train).
- coco: ``dataset_coco.json`` with ``annotations/captions_{train,val}2014.json`` (official
  captions, Karpathy splits), else ``dataset_coco.json`` alone (Karpathy), else a
  tensorflow-datasets folder holding ``coco_captions/`` (or tensorflow-datasets' default folder
  when data_dir is None).
- custom: data_dir is the .csv/.tsv/.jsonl/.ndjson file itself, or a folder holding exactly one.
- shapes: generated, no files (data_dir is ignored).

Images are looked for in ``images/``, the folders the official archives unpack to, and data_dir
itself; pass ``image_dir=`` to name the folder instead.
"""

import dataclasses
import os
from collections.abc import Callable, Iterator

from fusion_tf.data.records import Problem, Record
from fusion_tf.data.sources.coco import TFDS_NAME, read_coco_official, read_coco_tfds
from fusion_tf.data.sources.custom import (
    CSV_SUFFIXES,
    HASH_SPLIT_PERCENTAGES,
    JSON_LINES_SUFFIXES,
    read_custom,
)
from fusion_tf.data.sources.flickr_tokens import read_flickr_tokens
from fusion_tf.data.sources.karpathy import read_karpathy
from fusion_tf.data.sources.shapes import (
    DEFAULT_IMAGE_SIZE,
    DEFAULT_NUM_IMAGES,
    DEFAULT_SEED,
    read_shapes,
)

DATASETS = ("flickr8k", "flickr30k", "coco", "custom", "shapes")
OPTIONS = {
    "flickr8k": ("image_dir",),
    "flickr30k": ("image_dir",),
    "coco": ("image_dir", "download"),
    "custom": ("delimiter", "allow_outside_folder"),
    "shapes": ("seed", "num_train", "num_val", "num_test", "image_size"),
}
TEXT_DIRS = {
    "flickr8k": (".", "Flickr8k_text"),
    "flickr30k": (".", "flickr30k"),
    "coco": (".", "annotations"),
}
KARPATHY_FILES = {
    "flickr8k": "dataset_flickr8k.json",
    "flickr30k": "dataset_flickr30k.json",
    "coco": "dataset_coco.json",
}
TOKEN_FILES = {
    "flickr8k": ("Flickr8k.token.txt",),
    "flickr30k": ("results_20130124.token", "results.token"),
}
FLICKR8K_SPLIT_LISTS = {
    "train": "Flickr_8k.trainImages.txt",
    "val": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
COCO_ANNOTATION_FILES = ("annotations/captions_train2014.json", "annotations/captions_val2014.json")
COCO_IMAGE_SUBDIRS = ("train2014", "val2014")
IMAGE_DIRS = {
    "flickr8k": (
        "images",
        "Flickr8k_Dataset",
        "Flicker8k_Dataset",
        "Flickr8k_Dataset/Flicker8k_Dataset",
        ".",
    ),
    "flickr30k": ("images", "flickr30k-images", "flickr30k_images", "."),
    "coco": ("images", "."),
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclasses.dataclass(frozen=True)
class Source:
    """A data set opened for reading: what was found, and a way to read it (again).

    Args:
        name: str. The data set name, one of DATASETS.
        reader: str. The reader that fits the files found ("karpathy", "flickr_tokens",
            "coco_official", "coco_tfds", "custom", "shapes").
        files: dict of str to str. What was used, by role (e.g. "index", "images"), as absolute
            paths.
        settings: dict. Reader settings and notes worth recording (e.g. how splits were made).
        read: callable returning an iterator of Records and Problems. Called once per pass.
    """

    name: str
    reader: str
    files: dict[str, str]
    settings: dict
    read: Callable[[], Iterator[Record | Problem]] = dataclasses.field(repr=False, compare=False)

    def records(self) -> Iterator[Record | Problem]:
        """A fresh pass over the data set's Records and the Problems found on the way."""
        return self.read()

    def describe(self) -> dict:
        """A JSON-ready summary for the manifest: data set, reader, files and settings."""
        return {
            "dataset": self.name,
            "reader": self.reader,
            "files": dict(self.files),
            "settings": dict(self.settings),
        }


class _Search:
    """Looks for files under data_dir and remembers every path it looked at, for the error."""

    def __init__(self, dataset: str, data_dir: str):
        self.dataset = dataset
        self.data_dir = data_dir
        self.looked_for = []

    def file(self, *relative_paths: str) -> str | None:
        for relative_path in relative_paths:
            path = os.path.normpath(os.path.join(self.data_dir, relative_path))
            self.looked_for.append(path)
            if os.path.isfile(path):
                return path
        return None

    def folder(self, relative_path: str) -> str | None:
        path = os.path.normpath(os.path.join(self.data_dir, relative_path))
        self.looked_for.append(path + os.sep)
        return path if os.path.isdir(path) else None

    def text_file(self, name: str) -> str | None:
        return self.file(*(os.path.join(folder, name) for folder in TEXT_DIRS[self.dataset]))

    def image_dir(self, image_dir: str | os.PathLike | None, subdirs: tuple[str, ...] = ()) -> str:
        """The image folder: `image_dir` if given, else the first candidate holding images."""
        if image_dir is not None:
            if not os.path.isdir(image_dir):
                raise FileNotFoundError(f"image_dir {image_dir} is not a folder")
            return os.path.abspath(image_dir)
        looked_in = []
        for relative_path in IMAGE_DIRS[self.dataset]:
            path = os.path.normpath(os.path.join(self.data_dir, relative_path))
            looked_in.append(path)
            if _holds_images(path, subdirs):
                return path
        wanted = f"the folders {', '.join(subdirs)}" if subdirs else "image files"
        raise FileNotFoundError(
            f"no {self.dataset} image folder under {self.data_dir}: looked for {wanted} in "
            f"{', '.join(looked_in)}; pass image_dir= to name it"
        )

    def not_found(self) -> FileNotFoundError:
        looked_for = "\n  ".join(self.looked_for)
        return FileNotFoundError(
            f"no {self.dataset} data found under {self.data_dir}; looked for:\n  {looked_for}"
        )


def _holds_images(path: str, subdirs: tuple[str, ...]) -> bool:
    if subdirs:
        return any(os.path.isdir(os.path.join(path, subdir)) for subdir in subdirs)
    if not os.path.isdir(path):
        return False
    with os.scandir(path) as entries:
        return any(entry.name.lower().endswith(IMAGE_SUFFIXES) for entry in entries)


def _karpathy_source(dataset: str, index_path: str, image_dir: str) -> Source:
    return Source(
        name=dataset,
        reader="karpathy",
        files={"index": index_path, "images": image_dir},
        settings={},
        read=lambda: read_karpathy(index_path, image_dir),
    )


def _open_flickr(dataset: str, data_dir: str, image_dir: str | os.PathLike | None) -> Source:
    search = _Search(dataset, data_dir)
    karpathy_path = search.text_file(KARPATHY_FILES[dataset])
    if karpathy_path:
        return _karpathy_source(dataset, karpathy_path, search.image_dir(image_dir))
    token_path = next(filter(None, (search.text_file(name) for name in TOKEN_FILES[dataset])), None)
    if token_path is None:
        raise search.not_found()
    split_lists = {}
    if dataset == "flickr8k":
        token_folder = os.path.dirname(token_path)
        for split, name in FLICKR8K_SPLIT_LISTS.items():
            path = os.path.join(token_folder, name)
            if os.path.isfile(path):
                split_lists[split] = path
    folder = search.image_dir(image_dir)
    files = {"index": token_path, "images": folder}
    files.update({f"{split}_list": path for split, path in split_lists.items()})
    settings = {} if split_lists else {"splits": "every image in train: no split lists found"}
    return Source(
        name=dataset,
        reader="flickr_tokens",
        files=files,
        settings=settings,
        read=lambda: read_flickr_tokens(token_path, folder, split_lists),
    )


def _open_coco(data_dir: str | None, image_dir: str | os.PathLike | None, download: bool) -> Source:
    if data_dir is not None:
        search = _Search("coco", data_dir)
        karpathy_path = search.text_file(KARPATHY_FILES["coco"])
        annotation_paths = [
            path for path in (search.file(name) for name in COCO_ANNOTATION_FILES) if path
        ]
        if karpathy_path and annotation_paths:
            folder = search.image_dir(image_dir, COCO_IMAGE_SUBDIRS)
            files = {"index": karpathy_path, "images": folder}
            files.update({os.path.basename(path): path for path in annotation_paths})
            return Source(
                name="coco",
                reader="coco_official",
                files=files,
                settings={},
                read=lambda: read_coco_official(annotation_paths, karpathy_path, folder),
            )
        if karpathy_path:
            return _karpathy_source(
                "coco", karpathy_path, search.image_dir(image_dir, COCO_IMAGE_SUBDIRS)
            )
        if search.folder(TFDS_NAME) is None:
            raise search.not_found()
    return Source(
        name="coco",
        reader="coco_tfds",
        files={"tfds_data_dir": "(tensorflow-datasets default)" if data_dir is None else data_dir},
        settings={"tfds_name": TFDS_NAME, "download": download},
        read=lambda: read_coco_tfds(data_dir, download),
    )


def _open_custom(data_dir: str, delimiter: str, allow_outside_folder: bool) -> Source:
    suffixes = CSV_SUFFIXES + JSON_LINES_SUFFIXES
    path = data_dir
    if os.path.isdir(data_dir):
        with os.scandir(data_dir) as entries:
            found = sorted(
                entry.path
                for entry in entries
                if entry.is_file() and entry.name.lower().endswith(suffixes)
            )
        if not found:
            patterns = ", ".join(os.path.join(data_dir, f"*{suffix}") for suffix in suffixes)
            raise FileNotFoundError(f"no custom caption file found; looked for {patterns}")
        if len(found) > 1:
            raise ValueError(
                f"several caption files in {data_dir} ({', '.join(found)}): "
                "pass the one to use as data_dir"
            )
        path = found[0]
    elif not os.path.isfile(data_dir):
        raise FileNotFoundError(f"no custom caption file or folder at {data_dir}")
    split_rule = "given split, else by hash of the image id: " + ", ".join(
        f"{split} {percentage}%" for split, percentage in HASH_SPLIT_PERCENTAGES
    )
    return Source(
        name="custom",
        reader="custom",
        files={"index": path},
        settings={
            "delimiter": delimiter,
            "splits": split_rule,
            "allow_outside_folder": allow_outside_folder,
        },
        read=lambda: read_custom(path, delimiter, allow_outside_folder),
    )


def open_source(dataset: str, data_dir: str | os.PathLike | None = None, **options) -> Source:
    """Opens a data set by name, finding its layout under data_dir (see the module docstring).

    Args:
        dataset: one of DATASETS.
        data_dir: the folder (for custom also the file) holding the data. Not used by shapes;
            optional for coco, where None means tensorflow-datasets' default folder.
        **options: image_dir (flickr8k, flickr30k, coco); download (coco through
            tensorflow-datasets, default False); delimiter (custom, default "auto");
            allow_outside_folder (custom, default False: images outside its folder are refused); seed,
            num_train, num_val, num_test, image_size (shapes).

    Raises:
        FileNotFoundError: nothing usable under data_dir; the message lists what was looked for.
        ValueError: an unknown data set or option.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: expected one of {', '.join(DATASETS)}")
    unknown = sorted(set(options) - set(OPTIONS[dataset]))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for {dataset}; it accepts: "
            f"{', '.join(OPTIONS[dataset])}"
        )
    if dataset == "shapes":
        settings = {
            "seed": DEFAULT_SEED,
            **{f"num_{split}": count for split, count in DEFAULT_NUM_IMAGES.items()},
            "image_size": DEFAULT_IMAGE_SIZE,
            **options,
        }
        return Source(
            name="shapes",
            reader="shapes",
            files={},
            settings=settings,
            read=lambda: read_shapes(**settings),
        )
    if data_dir is not None:
        data_dir = os.path.abspath(data_dir)
        if not os.path.exists(data_dir):
            raise FileNotFoundError(f"data_dir {data_dir} does not exist")
    if dataset == "coco":
        return _open_coco(data_dir, options.get("image_dir"), options.get("download", False))
    if data_dir is None:
        raise ValueError(f"{dataset} needs data_dir: the folder holding its files")
    if dataset == "custom":
        return _open_custom(
            data_dir, options.get("delimiter", "auto"), options.get("allow_outside_folder", False)
        )
    return _open_flickr(dataset, data_dir, options.get("image_dir"))
