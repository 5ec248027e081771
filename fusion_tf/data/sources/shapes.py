"""The built-in `shapes` data set: generated scenes of coloured shapes, each with five captions.

Every scene is an RGB square (128 px by default) on a light grey background holding one to three
objects, each a colour, a shape and a size, in its own cell of a 3 x 3 grid; the caption names
all of them. Scenes come from a NumPy generator seeded with (seed, split, index), so the same
seed gives the same PNG bytes and captions on any machine, and changing one split's count leaves
the other splits unchanged.

Why the captions carry companion words: Word2Vec gives words used in the same contexts nearly the
same vector. In plain templates ("a little red circle", "a little blue circle") every colour has
the same contexts, and 24-d vectors trained on such captions give every pair of colours, shapes,
sizes or positions a cosine similarity of 0.93 to 0.97: indistinguishable once captions become
images of word vectors. So each attribute word comes with companion words that occur only beside
it: colours with things of that colour ("cherry red", "sky blue"), shapes with an adjective or a
likeness ("a round circle", "a square like a tile"), sizes with the word before them ("tiny
little", "great big"), grid positions with their cell's compass word ("top left northwest",
"center middle"). Every size mention, and four of the five wordings of the other attributes,
carry one; the companions give each word contexts of its own, which pulls its vector away from
its rivals' (tests/data/test_shapes.py checks the similarities). Captions stay within 36 words,
the capacity of the default caption canvas.
"""

import dataclasses
from collections.abc import Iterator

import cv2
import numpy as np

from fusion_tf.data.records import SPLITS, Record

DEFAULT_SEED = 0
DEFAULT_NUM_IMAGES = {"train": 1000, "val": 100, "test": 100}
DEFAULT_IMAGE_SIZE = 128
BACKGROUND_RGB = (232, 232, 226)
MAX_OBJECTS = 3
CAPTIONS_PER_IMAGE = 5

# name -> (RGB, companion words that occur only with this colour)
COLOURS = {
    "red": ((214, 38, 38), ("cherry", "tomato", "ruby")),
    "green": ((38, 158, 62), ("grass", "leaf", "emerald")),
    "blue": ((36, 80, 216), ("sky", "ocean", "sapphire")),
    "yellow": ((236, 204, 24), ("lemon", "banana", "sunflower")),
    "purple": ((136, 52, 176), ("grape", "plum", "lavender")),
    "orange": ((244, 132, 24), ("pumpkin", "carrot", "tangerine")),
}
# name -> (adjective, nouns it is likened to)
SHAPES = {
    "circle": ("round", ("coin", "wheel")),
    "square": ("boxy", ("tile", "box")),
    "triangle": ("pointy", ("pyramid", "wedge")),
    "diamond": ("rhombic", ("kite", "gem")),
    "cross": ("cruciform", ("plus", "signpost")),
}
# size word -> (radius as a fraction of the image side, words that come just before it)
SIZES = {
    "little": (0.08, ("tiny", "teeny", "wee")),
    "big": (0.145, ("great", "really", "very")),
}
# grid rows and columns in words (None: the middle one), and each cell's compass word
ROWS = ("top", None, "bottom")
COLUMNS = ("left", None, "right")
CENTER = "center"
COMPASS = (
    ("northwest", "north", "northeast"),
    ("west", "middle", "east"),
    ("southwest", "south", "southeast"),
)

ATTRIBUTE_WORDS = {
    "colour": tuple(COLOURS),
    "shape": tuple(SHAPES),
    "size": tuple(SIZES),
    "position": ("top", "bottom", "left", "right", CENTER),
}


@dataclasses.dataclass(frozen=True)
class SceneObject:
    """One object of a scene: what it is and where its centre lies in pixels."""

    colour: str
    shape: str
    size: str
    row: int
    column: int
    center_x: float
    center_y: float
    radius: float


def _make_scene(rng: np.random.Generator, image_size: int) -> list[SceneObject]:
    num_objects = int(rng.integers(1, MAX_OBJECTS + 1))
    cells = rng.choice(9, size=num_objects, replace=False)
    cell_size = image_size / 3
    objects = []
    for cell in cells:
        row, column = divmod(int(cell), 3)
        size = str(rng.choice(list(SIZES)))
        radius = SIZES[size][0] * image_size * rng.uniform(0.92, 1.08)
        # Keep the object inside its cell so objects never overlap and positions stay true.
        slack = max(cell_size / 2 - radius - 1, 0.0)
        objects.append(
            SceneObject(
                colour=str(rng.choice(list(COLOURS))),
                shape=str(rng.choice(list(SHAPES))),
                size=size,
                row=row,
                column=column,
                center_x=(column + 0.5) * cell_size + rng.uniform(-slack, slack),
                center_y=(row + 0.5) * cell_size + rng.uniform(-slack, slack),
                radius=radius,
            )
        )
    return objects


def _outline(scene_object: SceneObject) -> np.ndarray:
    """The object's polygon as (points, 2) float pixel coordinates."""
    x, y, r = scene_object.center_x, scene_object.center_y, scene_object.radius
    if scene_object.shape == "circle":
        angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif scene_object.shape == "square":
        # Side 1.6 r: about the area of the circle of radius r.
        points = np.array([[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]])
    elif scene_object.shape == "triangle":
        points = np.array([[0.0, -1.0], [1.0, 0.75], [-1.0, 0.75]])
    elif scene_object.shape == "diamond":
        points = np.array([[0.0, -1.0], [0.75, 0.0], [0.0, 1.0], [-0.75, 0.0]])
    else:
        arm = 0.32
        points = np.array(
            [
                [-arm, -1], [arm, -1], [arm, -arm], [1, -arm], [1, arm], [arm, arm],
                [arm, 1], [-arm, 1], [-arm, arm], [-1, arm], [-1, -arm], [-arm, -arm],
            ]
        )  # fmt: skip
    return points * r + np.array([x, y])


def _draw_scene(objects: list[SceneObject], image_size: int) -> np.ndarray:
    """Renders the scene as a BGR uint8 image (OpenCV's channel order)."""
    image = np.empty((image_size, image_size, 3), np.uint8)
    image[:] = BACKGROUND_RGB[::-1]
    fraction_bits = 4  # sub-pixel vertex precision for anti-aliased edges
    for scene_object in objects:
        points = np.rint(_outline(scene_object) * (1 << fraction_bits)).astype(np.int32)
        colour = tuple(int(value) for value in COLOURS[scene_object.colour][0][::-1])
        cv2.fillPoly(image, [points], colour, cv2.LINE_AA, fraction_bits)
    return image


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _position_words(scene_object: SceneObject) -> str:
    """The object's grid cell in words: "top left", "top", "left", "center", ..."""
    words = [word for word in (ROWS[scene_object.row], COLUMNS[scene_object.column]) if word]
    return " ".join(words) or CENTER


def _long_position(position: str) -> str:
    if " " in position:
        return f"in the {position} corner"
    if position == CENTER:
        return f"in the {CENTER}"
    return f"at the {position}" if position in ("top", "bottom") else f"on the {position}"


def _object_phrase(scene_object: SceneObject, style: int, rng: np.random.Generator) -> str:
    """Describes one object in one of five wordings (see the module docstring for the rules)."""
    colour, shape = scene_object.colour, scene_object.shape
    colour_companion = str(rng.choice(COLOURS[colour][1]))
    shape_adjective, shape_nouns = SHAPES[shape]
    shape_noun = str(rng.choice(shape_nouns))
    size = f"{rng.choice(SIZES[scene_object.size][1])} {scene_object.size}"
    position = _position_words(scene_object)
    compass = COMPASS[scene_object.row][scene_object.column]
    if style == 0:
        return (
            f"a {size} {colour_companion} {colour} {shape_adjective} {shape}, {position} {compass}"
        )
    if style == 1:
        return (
            f"{compass}, {position}: {_article(colour_companion)} {colour_companion} {colour} "
            f"{shape} like {_article(shape_noun)} {shape_noun}"
        )
    if style == 2:
        return (
            f"{_article(shape_adjective)} {shape_adjective} {shape}, {size} and {colour}, "
            f"{position} {compass}"
        )
    if style == 3:
        return (
            f"a {size} {shape_adjective} {shape} in {colour_companion} {colour}, "
            f"{compass} {position}"
        )
    return f"a {size} {colour_companion} {colour} {shape} {_long_position(position)}"


def _describe_scene(objects: list[SceneObject], rng: np.random.Generator) -> tuple[str, ...]:
    captions = []
    for style in range(CAPTIONS_PER_IMAGE):
        order = rng.permutation(len(objects))
        phrases = [_object_phrase(objects[index], style, rng) for index in order]
        listed = (
            phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        )
        if style == CAPTIONS_PER_IMAGE - 1:
            count = ("one shape", "two shapes", "three shapes")[len(objects) - 1]
            listed = f"{count}: {listed}"
        captions.append(f"{listed[0].upper()}{listed[1:]}.")
    return tuple(captions)


def read_shapes(
    seed: int = DEFAULT_SEED,
    num_train: int = DEFAULT_NUM_IMAGES["train"],
    num_val: int = DEFAULT_NUM_IMAGES["val"],
    num_test: int = DEFAULT_NUM_IMAGES["test"],
    image_size: int = DEFAULT_IMAGE_SIZE,
) -> Iterator[Record]:
    """Yields the generated scenes of each split as Records holding PNG bytes.

    Args:
        seed: int. Seed of the whole data set. Defaults to 0.
        num_train: int. Scenes in train. Defaults to 1000.
        num_val: int. Scenes in val. Defaults to 100.
        num_test: int. Scenes in test. Defaults to 100.
        image_size: int. Side of each square image in pixels, at least 32. Defaults to 128.
    """
    if seed < 0:
        raise ValueError(f"seed={seed} must not be negative")
    counts = {"train": num_train, "val": num_val, "test": num_test}
    for split, count in counts.items():
        if count < 0:
            raise ValueError(f"num_{split}={count} must not be negative")
    if image_size < 32:
        raise ValueError(f"image_size={image_size} is too small to draw shapes; use at least 32")
    for split_number, split in enumerate(SPLITS):
        for index in range(counts[split]):
            rng = np.random.default_rng([seed, split_number, index])
            objects = _make_scene(rng, image_size)
            encoded, png = cv2.imencode(".png", _draw_scene(objects, image_size))
            if not encoded:
                raise RuntimeError("OpenCV could not encode a PNG image")
            yield Record(
                image_id=f"shapes-{split}-{index:05d}",
                image=png.tobytes(),
                captions=_describe_scene(objects, rng),
                split=split,
                origin=f"shapes(seed={seed}): {split}[{index}]",
            )
