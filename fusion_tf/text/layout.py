"""Where each visual word goes on the canvas: the geometry shared by both encoder implementations."""

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class TextImageLayout:
    """Geometry of an encoded caption image (Gallo et al. 2017, "Semantic Text Encoding").

    A word of `dim` vector components is `dim / 3` RGB superpixels, each `superpixel_size`
    pixels square, arranged `superpixels_per_row` across (a "visual word"). Visual words go
    in reading order, left to right then top to bottom, `separator` black pixels apart, from the
    top-left corner of a black `canvas_size` square.

    Defaults with 24-d vectors: a visual word is 4 x 2 superpixels of 13 px (52 x 26 px);
    with 2 px separators 4 words fit across and 9 down a 256 canvas, so 36 words fit. Flickr8k
    captions have 11 words on average and 22-23 at the 99th percentile (README), Flickr30K's are
    about one word longer, so the longest 1% still fit while a typical caption covers about a
    quarter of the canvas, large enough that the 227 px crops of config-2 keep most words.

    Args:
        dim: int. Word vector dimension, a multiple of 3.
        canvas_size: int. Side of the square encoded image in pixels. Defaults to 256.
        superpixel_size: int. Side of one superpixel in pixels. Defaults to 13.
        superpixels_per_row: int. Superpixels across one visual word. Defaults to 4.
        separator: int. Black pixels between neighbouring visual words. Defaults to 2.
    """

    dim: int
    canvas_size: int = 256
    superpixel_size: int = 13
    superpixels_per_row: int = 4
    separator: int = 2

    def __post_init__(self):
        if self.dim <= 0 or self.dim % 3 != 0:
            raise ValueError(f"dim={self.dim} must be a positive multiple of 3")
        for name in ("canvas_size", "superpixel_size", "superpixels_per_row"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}={getattr(self, name)} must be positive")
        if self.separator < 0:
            raise ValueError(f"separator={self.separator} must not be negative")
        if self.capacity == 0:
            raise ValueError(
                f"a {self.word_width}x{self.word_height} px visual word does not fit a "
                f"{self.canvas_size} px canvas"
            )

    @property
    def superpixels(self) -> int:
        return self.dim // 3

    @property
    def superpixel_rows(self) -> int:
        return math.ceil(self.superpixels / self.superpixels_per_row)

    @property
    def word_width(self) -> int:
        return self.superpixels_per_row * self.superpixel_size

    @property
    def word_height(self) -> int:
        return self.superpixel_rows * self.superpixel_size

    @property
    def cell_width(self) -> int:
        """Horizontal distance from one visual word's left edge to the next one's."""
        return self.word_width + self.separator

    @property
    def cell_height(self) -> int:
        return self.word_height + self.separator

    @property
    def columns(self) -> int:
        # The last word in a row needs no separator after it.
        return (self.canvas_size + self.separator) // self.cell_width

    @property
    def rows(self) -> int:
        return (self.canvas_size + self.separator) // self.cell_height

    @property
    def capacity(self) -> int:
        """How many words fit on one canvas; later words are dropped and counted."""
        return self.columns * self.rows

    def to_config(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def fitting(cls, dim: int, words: int, **options) -> "TextImageLayout":
        """The layout for `dim`-d vectors with the largest superpixels, at most `superpixel_size`
        (13 px unless given), on which a caption of `words` words loses none.

        24-d and 12-d vectors keep the default 13 px superpixels for the 22-23 words of a
        99th-percentile Flickr caption; 48-d words (4 x 4 superpixels) shrink to 12 px, 25 a
        canvas, where 13 px would hold 16; 300-d vectors fit 28 words at 4 px.

        Raises:
            ValueError: when not even 1 px superpixels hold `words` words.
        """
        largest = options.pop("superpixel_size", cls.superpixel_size)
        for size in range(largest, 0, -1):
            try:
                layout = cls(dim=dim, superpixel_size=size, **options)
            except ValueError:  # a visual word too large for the canvas at this size
                continue
            if layout.capacity >= words:
                return layout
        raise ValueError(
            f"no superpixel size holds {words} words of {dim}-d vectors on a "
            f"{options.get('canvas_size', cls.canvas_size)} px canvas"
        )
