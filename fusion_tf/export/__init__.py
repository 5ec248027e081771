"""Export: SavedModels that embed JPEG/PNG bytes and raw caption strings."""
