"""The published rows evaluate.py prints beside ours: the paper's Tables 1 and 2, missing figures."""

import json

from fusion_tf.cli import evaluate
from fusion_tf.configs import REFERENCE_RESULTS_FILE

COLUMNS = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10")


def _rows(protocol):
    return {row["method"]: row for row in json.loads(REFERENCE_RESULTS_FILE.read_text())[protocol]}


def test_the_papers_own_rows_are_transcribed():
    flickr, coco = _rows("flickr_1k"), _rows("coco_1k")
    config2 = [flickr[name] for name in flickr if name.startswith("Nawaz et al. config-2")][0]
    assert [config2[c] for c in COLUMNS] == [14.5, 33.0, 42.6, 10.5, 26.74, 37.2]
    standard = [flickr[name] for name in flickr if name.startswith("Nawaz et al. config-stan")][0]
    assert [standard[c] for c in COLUMNS] == [10.5, 26.2, 36.8, 8.2, 22.82, 32.0]
    coco2 = [coco[name] for name in coco if name.startswith("Nawaz et al. config-2")][0]
    assert [coco2[c] for c in COLUMNS] == [12.5, 30.1, 40.0, 11.18, 32.22, 45.76]
    assert len(flickr) == 8 and len(coco) == 11  # Tables 1 and 2, and VSE++ for each
    for rows in (flickr, coco):
        for row in rows.values():
            assert set(row) == {"method", *COLUMNS}


def test_missing_published_figures_print_as_dashes_without_rsum():
    results = {"protocol": "flickr_1k", **dict.fromkeys(COLUMNS, 1.0)}
    results["chance"] = {f"r{k}": {"i2t": 0.5, "t2i": 0.1} for k in (1, 5, 10)}
    table = evaluate.results_table(results, "ours").splitlines()
    two_way = next(line for line in table if line.startswith("| Two-Way Nets"))
    assert two_way.endswith("| 49.8 | 67.5 | - | 36.0 | 55.6 | - | - |")
    assert table[-2] == "| ours | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 6.0 |"
