"""A search web app over an exported SavedModel: a page, a JSON API and gallery thumbnails."""
