"""Reads Flickr token files (``IMAGE.jpg#N<TAB>caption``) with the optional Flickr8k split lists.

``Flickr8k.token.txt`` and Flickr30K's ``results_20130124.token`` share the format. Split lists
(``Flickr_8k.trainImages.txt``, ``Flickr_8k.devImages.txt``, ``Flickr_8k.testImages.txt``) name
one image per line; the dev list is the val split. With split lists, an image they do not name is
reported as a Problem (the real Flickr8k token file has such entries, e.g.
``2258277193_586949ec62.jpg.1``); without them every image is in train.
"""

import os
from collections.abc import Iterator, Mapping

from fusion_tf.data.records import SPLITS, Problem, Record, SourceFormatError
from fusion_tf.data.sources.captions import assemble_record
from fusion_tf.data.sources.index_files import read_lines


def read_split_lists(
    split_lists: Mapping[str, str | os.PathLike],
) -> Iterator[tuple[str, str, str] | Problem]:
    """Yields (image name, split, origin) per listed image, and a Problem per repeated image."""
    first_origins = {}
    for split, list_path in split_lists.items():
        if split not in SPLITS:
            raise ValueError(f"split list {list_path} is for unknown split {split!r}: use {SPLITS}")
        list_name = os.path.basename(list_path)
        for number, line in read_lines(list_path):
            image_name = line.strip()
            if not image_name:
                continue
            origin = f"{list_name}:{number}"
            if image_name in first_origins:
                yield Problem(
                    image_name, origin, f"image listed again, first at {first_origins[image_name]}"
                )
            else:
                first_origins[image_name] = origin
                yield image_name, split, origin


def read_flickr_tokens(
    token_path: str | os.PathLike,
    image_dir: str | os.PathLike,
    split_lists: Mapping[str, str | os.PathLike] | None = None,
) -> Iterator[Record | Problem]:
    """Yields a Record per image of a token file, in order of first appearance.

    Args:
        token_path: the token file.
        image_dir: folder holding the images named in the token file.
        split_lists: maps "train", "val", "test" to the file listing that split's images. None or
            empty puts every image in train.
    """
    token_name = os.path.basename(token_path)
    captions = {}  # image name -> list of (caption number, caption, origin)
    first_origins = {}  # image name -> origin of its first line
    key_lines = {}  # "IMAGE#N" -> line number, to report repeated caption keys
    for number, line in read_lines(token_path):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        key, tab, caption = text.partition("\t")
        if not tab:
            raise SourceFormatError(
                token_path, number, "expected 'IMAGE#N<TAB>caption' but the line has no tab"
            )
        key = key.strip()
        image_name, hash_sign, caption_number = key.rpartition("#")
        if not hash_sign or not image_name or not caption_number.isdigit():
            raise SourceFormatError(
                token_path, number, f"expected 'IMAGE#N' before the tab, got {key!r}"
            )
        origin = f"{token_name}:{number}"
        if key in key_lines:
            yield Problem(
                image_name, origin, f"caption {key} repeated, first at line {key_lines[key]}"
            )
            continue
        key_lines[key] = number
        first_origins.setdefault(image_name, origin)
        captions.setdefault(image_name, []).append((int(caption_number), caption, origin))

    splits = {image_name: ("train", origin) for image_name, origin in first_origins.items()}
    if split_lists:
        splits = {}
        for listed in read_split_lists(split_lists):
            if isinstance(listed, Problem):
                yield listed
            else:
                image_name, split, origin = listed
                splits[image_name] = (split, origin)
        list_names = ", ".join(os.path.basename(path) for path in split_lists.values())
        for image_name, origin in first_origins.items():
            if image_name not in splits:
                yield Problem(image_name, origin, f"image is in no split list ({list_names})")

    for image_name, (split, origin) in splits.items():
        if image_name not in captions:
            yield Problem(image_name, origin, f"image has no captions in {token_name}")
            continue
        ordered = [
            (caption, caption_origin) for _, caption, caption_origin in sorted(captions[image_name])
        ]
        yield from assemble_record(
            image_name,
            os.path.join(image_dir, image_name),
            ordered,
            split,
            first_origins[image_name],
        )
