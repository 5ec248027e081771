"""Training objectives beyond the paper's softmax + center loss: batch-wise photo-caption losses."""
