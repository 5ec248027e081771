"""Backbone, center loss and fused network of the single-network retrieval model."""
