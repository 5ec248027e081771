"""The caption-to-image mapping shared by the metrics: validation, grouping by image, texts per row."""

from collections.abc import Sequence

import numpy as np


def check_caption_to_image(
    caption_to_image: np.ndarray, num_images: int, num_captions: int
) -> np.ndarray:
    """Returns caption_to_image as int64 after checking length, range and that every image has a caption."""
    caption_to_image = np.asarray(caption_to_image)
    if caption_to_image.ndim != 1 or len(caption_to_image) != num_captions:
        raise ValueError(
            f"caption_to_image must be 1-D with one entry per caption ({num_captions}), "
            f"got shape {caption_to_image.shape}"
        )
    if not np.issubdtype(caption_to_image.dtype, np.integer):
        raise ValueError(f"caption_to_image must hold integers, got dtype {caption_to_image.dtype}")
    caption_to_image = caption_to_image.astype(np.int64, copy=False)
    out_of_range = (caption_to_image < 0) | (caption_to_image >= num_images)
    if out_of_range.any():
        caption = int(np.argmax(out_of_range))
        raise ValueError(
            f"caption {caption} points to image {caption_to_image[caption]}, "
            f"but there are {num_images} images"
        )
    captions_per_image = np.bincount(caption_to_image, minlength=num_images)
    if (captions_per_image == 0).any():
        raise ValueError(
            f"image {int(np.argmin(captions_per_image))} has no caption: "
            "image-to-text retrieval is undefined for it"
        )
    return caption_to_image


def group_captions_by_image(
    caption_to_image: np.ndarray, num_images: int
) -> tuple[np.ndarray, np.ndarray]:
    """(caption rows sorted by image, keeping row order within an image; num_images + 1 group starts).

    Image i's captions are captions_by_image[group_starts[i]:group_starts[i + 1]].
    """
    captions_by_image = np.argsort(caption_to_image, kind="stable")
    group_starts = np.searchsorted(caption_to_image[captions_by_image], np.arange(num_images + 1))
    return captions_by_image, group_starts


def caption_texts_in_row_order(
    caption_to_image: np.ndarray, captions_per_image_texts: Sequence[Sequence[str]]
) -> list[str]:
    """One text per caption row: image i's j-th text goes to the j-th row of caption_to_image equal to i."""
    num_images = len(captions_per_image_texts)
    caption_to_image = check_caption_to_image(
        caption_to_image, num_images, len(np.asarray(caption_to_image))
    )
    captions_by_image, group_starts = group_captions_by_image(caption_to_image, num_images)
    texts: list[str] = [""] * len(caption_to_image)
    for image, image_texts in enumerate(captions_per_image_texts):
        rows = captions_by_image[group_starts[image] : group_starts[image + 1]]
        if isinstance(image_texts, str) or len(image_texts) != len(rows):
            raise ValueError(
                f"image {image} has {len(rows)} caption rows but captions_per_image_texts[{image}] "
                f"is {image_texts!r}; expected a list of {len(rows)} strings"
            )
        for row, text in zip(rows, image_texts, strict=True):
            texts[row] = text
    return texts
