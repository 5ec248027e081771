"""One evaluation of a split's embeddings: Recall@K under a protocol, the semantic measure, chance."""

import math

import numpy as np

from fusion_tf.evaluation.modality_gap import modality_gap
from fusion_tf.evaluation.protocol import evaluate_protocol
from fusion_tf.evaluation.semantic import semantic_r_precision

KS = (1, 5, 10)


def chance_recall(num_images: int, captions_per_image: float, k: int) -> dict[str, float]:
    """Recall@K (percent) of a random ranking, both ways, for a test set of this size.

    Image-to-text: one of the image's captions among the first K of all captions;
    text-to-image: the caption's own image among the first K images.
    """
    relevant = max(int(round(captions_per_image)), 1)
    total = int(round(num_images * captions_per_image))
    k_images, k_captions = min(k, num_images), min(k, total)
    # P(no relevant caption in K draws without replacement) = C(total - relevant, K) / C(total, K)
    miss = math.comb(total - relevant, k_captions) / math.comb(total, k_captions)
    return {"i2t": 100.0 * (1.0 - miss), "t2i": 100.0 * k_images / num_images}


def evaluate_embeddings(embeddings: dict, protocol: str = "all", check_size: bool = True) -> dict:
    """Recall@K (keys as recall_at_k), semantic R-precision, modality gap, counts and chance levels.

    `embeddings` is what `embed_split` returns: photos, captions, caption_to_image, texts.
    """
    photos, captions = embeddings["photos"], embeddings["captions"]
    caption_to_image = np.asarray(embeddings["caption_to_image"])
    results = evaluate_protocol(
        photos, captions, caption_to_image, protocol, ks=KS, check_size=check_size
    )
    texts_per_image = [[] for _ in range(len(photos))]
    for image, text in zip(caption_to_image, embeddings["texts"], strict=True):
        texts_per_image[image].append(str(text))
    results["semantic"] = semantic_r_precision(photos, captions, caption_to_image, texts_per_image)
    results["modality_gap"] = modality_gap(photos, captions)
    per_image = len(captions) / len(photos)
    results["protocol"] = protocol
    results["images"] = len(photos)
    results["captions"] = len(captions)
    results["chance"] = {f"r{k}": chance_recall(len(photos), per_image, k) for k in KS}
    return results


def format_results(results: dict) -> str:
    """A few lines: R@1/5/10 both ways with chance, rsum, ranks and the semantic measure."""
    chance = results["chance"]
    lines = [
        f"{results['images']} images, {results['captions']} captions, protocol {results['protocol']}"
    ]
    for direction, name in (("i2t", "image-to-text"), ("t2i", "text-to-image")):
        recalls = " / ".join(f"{results[f'{direction}_r{k}']:5.1f}" for k in KS)
        chances = " / ".join(f"{chance[f'r{k}'][direction]:.1f}" for k in KS)
        lines.append(
            f"  {name}: R@1/5/10 {recalls}  (chance {chances}), "
            f"median rank {results[f'{direction}_medr']:.0f}"
        )
    semantic = results["semantic"]
    lines.append(
        f"  rsum {results['rsum']:.1f}; semantic R-precision i2t {semantic['i2t_r_precision']:.1f} "
        f"t2i {semantic['t2i_r_precision']:.1f}; modality gap {results['modality_gap']:.3f}"
    )
    return "\n".join(lines)
