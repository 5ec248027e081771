"""fusion_tf: single-network image-text retrieval with captions encoded as images."""
