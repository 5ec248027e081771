"""The paper's Figure 3 (t-SNE of the shared space) and Table 3 (retrieval examples) as PNG and HTML."""

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.manifold import TSNE

from fusion_tf.evaluation.captions import caption_texts_in_row_order, check_caption_to_image
from fusion_tf.evaluation.contact_sheet import (
    ImageSource,
    SheetCell,
    load_thumbnail,
    write_contact_sheet,
)
from fusion_tf.evaluation.similarity import l2_normalize, top_k

TEXT_COLOR = "red"
IMAGE_COLOR = "blue"
GROUND_TRUTH_COLOR = "green"
THUMBNAIL_SIZE = 200


def plot_tsne(
    image_embeddings: np.ndarray,
    caption_embeddings: np.ndarray,
    path: str | os.PathLike,
    perplexity: float = 30.0,
    max_iter: int = 1000,
    random_state: int = 0,
) -> Path:
    """Figure 3: a 2-D t-SNE of L2-normalised image (blue) and caption (red) embeddings, as PNG.

    Both sets are embedded together, so the plot shows whether the two modalities share one space
    or form separate islands. t-SNE is O(n log n) per iteration; subsample beyond ~10k points.
    perplexity is lowered to (n - 1) / 3 for small inputs, where scikit-learn would reject it.
    """
    images = l2_normalize(image_embeddings, "image_embeddings")
    captions = l2_normalize(caption_embeddings, "caption_embeddings")
    points = np.concatenate([images, captions])
    if len(points) < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {len(points)}")
    projected = TSNE(
        n_components=2,
        perplexity=min(perplexity, (len(points) - 1) / 3),
        max_iter=max_iter,
        init="pca",
        random_state=random_state,
    ).fit_transform(points)

    figure = Figure(figsize=(8, 8))
    axes = figure.add_subplot()
    axes.scatter(
        *projected[len(images) :].T, s=4, c=TEXT_COLOR, alpha=0.6, label=f"text ({len(captions)})"
    )
    axes.scatter(
        *projected[: len(images)].T, s=4, c=IMAGE_COLOR, alpha=0.6, label=f"images ({len(images)})"
    )
    axes.set_title("t-SNE of test embeddings")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(loc="upper right", markerscale=4)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    return path


def _show_thumbnail(axes, image: ImageSource, highlighted: bool) -> None:
    thumbnail = load_thumbnail(image, THUMBNAIL_SIZE)
    if thumbnail is None:
        axes.text(0.5, 0.5, "(unreadable image)", ha="center", va="center", color="red")
    else:
        axes.imshow(thumbnail)
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(highlighted)
        spine.set_color(GROUND_TRUTH_COLOR)
        spine.set_linewidth(4)


def write_examples(
    image_embeddings: np.ndarray,
    caption_embeddings: np.ndarray,
    caption_to_image: np.ndarray,
    captions_per_image_texts: Sequence[Sequence[str]],
    images: Sequence[ImageSource],
    output_dir: str | os.PathLike,
    num_queries: int = 5,
    k: int = 5,
    query_captions: Sequence[int] | None = None,
    query_images: Sequence[int] | None = None,
    random_state: int = 0,
) -> dict[str, Path]:
    """Table 3: captions with their top-k images and images with their top-k captions.

    Ground truth is framed in green (images) or ticked and green (captions). Writes
    text_to_image.png, image_to_text.png and examples.html (thumbnails embedded) to output_dir.

    Args:
        image_embeddings, caption_embeddings, caption_to_image: as recall_at_k.
        captions_per_image_texts: per image, its caption texts, in caption row order.
        images: per image, encoded bytes or a file path (decoded with OpenCV).
        output_dir: created if needed.
        num_queries: queries drawn at random per direction when not given explicitly.
        k: results shown per query.
        query_captions, query_images: caption rows / image indices to use as queries.
        random_state: seed for drawing queries.

    Returns:
        {"text_to_image_png", "image_to_text_png", "html"} paths.
    """
    image_embeddings = np.asarray(image_embeddings)
    caption_embeddings = np.asarray(caption_embeddings)
    num_images = len(image_embeddings)
    caption_to_image = check_caption_to_image(caption_to_image, num_images, len(caption_embeddings))
    texts = caption_texts_in_row_order(caption_to_image, captions_per_image_texts)
    if len(images) != num_images:
        raise ValueError(f"got {len(images)} images for {num_images} image embeddings")
    random = np.random.default_rng(random_state)
    if query_captions is None:
        query_captions = random.choice(len(texts), min(num_queries, len(texts)), replace=False)
    if query_images is None:
        query_images = random.choice(num_images, min(num_queries, num_images), replace=False)
    query_captions = [int(row) for row in query_captions]
    query_images = [int(image) for image in query_images]

    caption_results, caption_scores = top_k(caption_embeddings[query_captions], image_embeddings, k)
    image_results, image_scores = top_k(image_embeddings[query_images], caption_embeddings, k)
    k = caption_results.shape[1]

    text_to_image_rows = []
    for row, results, scores in zip(query_captions, caption_results, caption_scores, strict=True):
        cells = [
            SheetCell(f"#{rank + 1}", images[image], float(score), image == caption_to_image[row])
            for rank, (image, score) in enumerate(zip(results, scores, strict=True))
        ]
        text_to_image_rows.append((SheetCell(texts[row]), cells))
    image_to_text_rows = []
    for image, results, scores in zip(query_images, image_results, image_scores, strict=True):
        cells = [
            SheetCell(texts[caption], None, float(score), caption_to_image[caption] == image)
            for caption, score in zip(results, scores, strict=True)
        ]
        image_to_text_rows.append((SheetCell(f"image {image}", images[image]), cells))

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "text_to_image_png": output_dir / "text_to_image.png",
        "image_to_text_png": output_dir / "image_to_text.png",
        "html": output_dir / "examples.html",
    }

    figure = Figure(figsize=(2.2 * (k + 1.6), 2.4 * len(text_to_image_rows)))
    grid = figure.subplots(
        len(text_to_image_rows), k + 1, squeeze=False, width_ratios=[1.6] + [1] * k
    )
    for axes_row, (query, cells) in zip(grid, text_to_image_rows, strict=True):
        axes_row[0].set_axis_off()
        axes_row[0].text(0, 0.5, textwrap.fill(query.text, 36), va="center", ha="left", fontsize=9)
        for axes, cell in zip(axes_row[1:], cells, strict=True):
            _show_thumbnail(axes, cell.image, cell.highlighted)
            axes.set_title(f"{cell.text}  {cell.score:.3f}", fontsize=8)
    figure.suptitle("Text to image: query caption, top results (ground truth framed green)")
    figure.savefig(paths["text_to_image_png"], dpi=100, bbox_inches="tight")

    figure = Figure(figsize=(12, 2.4 * len(image_to_text_rows)))
    grid = figure.subplots(len(image_to_text_rows), 2, squeeze=False, width_ratios=[1, 4])
    for (image_axes, text_axes), (query, cells) in zip(grid, image_to_text_rows, strict=True):
        _show_thumbnail(image_axes, query.image, highlighted=False)
        image_axes.set_title(query.text, fontsize=8)
        text_axes.set_axis_off()
        for rank, cell in enumerate(cells):
            mark = "\u2713" if cell.highlighted else " "
            text_axes.text(
                0,
                1 - (rank + 0.5) / len(cells),
                f"{mark} {rank + 1}. ({cell.score:.3f}) {textwrap.shorten(cell.text, 90)}",
                va="center",
                fontsize=9,
                color=GROUND_TRUTH_COLOR if cell.highlighted else "black",
            )
    figure.suptitle("Image to text: query image, top captions (ground truth green, ticked)")
    figure.savefig(paths["image_to_text_png"], dpi=100, bbox_inches="tight")

    write_contact_sheet(
        paths["html"],
        {"Text to image": text_to_image_rows, "Image to text": image_to_text_rows},
        title="Retrieval examples (ground truth framed green)",
    )
    return paths
