"""Training: the fused model's distributed loop, checkpoints and TensorBoard summaries."""
