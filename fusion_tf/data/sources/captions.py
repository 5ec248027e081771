"""Turns an image's captions into a Record, reporting empty captions and captionless images."""

from collections.abc import Iterable, Iterator

from fusion_tf.data.records import Problem, Record


def assemble_record(
    image_id: str,
    image: str | bytes,
    captions: Iterable[tuple[str, str]],
    split: str,
    origin: str,
) -> Iterator[Record | Problem]:
    """Yields a Problem per empty caption, then the Record, or a Problem if no caption is left.

    `captions` holds (caption, where the caption came from) pairs; captions are stripped of
    surrounding white space.
    """
    kept = []
    num_given = 0
    for caption, caption_origin in captions:
        num_given += 1
        text = caption.strip()
        if text:
            kept.append(text)
        else:
            yield Problem(image_id, caption_origin, "empty or whitespace-only caption dropped")
    if kept:
        yield Record(image_id, image, tuple(kept), split, origin)
    elif num_given:
        yield Problem(image_id, origin, "no captions left after dropping empty ones")
    else:
        yield Problem(image_id, origin, "image has no captions")
