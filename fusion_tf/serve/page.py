"""The search page as server-rendered HTML: no script, no stylesheet or font from elsewhere."""

import html

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem;margin:0 0 .3rem} form{margin:.6rem 0;display:flex;gap:.5rem;flex-wrap:wrap}
input[type=text]{flex:1;min-width:16rem;padding:.45rem;font-size:1rem}
button{padding:.45rem 1rem;font-size:1rem} .note{color:#666;font-size:.9rem}
.error{background:#fde8e8;border:1px solid #d33;padding:.6rem;margin:.8rem 0}
.words{background:#fff7dd;border:1px solid #d9b300;padding:.5rem;margin:.6rem 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.8rem}
figure{margin:0} figure img{width:100%;aspect-ratio:1;object-fit:cover;background:#eee}
figcaption{font-size:.8rem;word-break:break-all} ol.captions li{margin:.25rem 0}
.score{font-variant-numeric:tabular-nums;color:#555}
"""


def _photo_grid(photos: list[dict]) -> str:
    if not photos:
        return '<p class="note">The gallery has no photos to show.</p>'
    figures = "".join(
        f'<figure><img src="/thumbnails/{photo["id"]}" alt="{html.escape(photo["name"])}" '
        f'loading="lazy"><figcaption><span class="score">{photo["score"]:.3f}</span> '
        f"{html.escape(photo['name'])}</figcaption></figure>"
        for photo in photos
    )
    return f'<div class="grid" id="photos">{figures}</div>'


def _text_results(result: dict) -> str:
    parts = [f"<h2>Photos for &ldquo;{html.escape(result['query'])}&rdquo;</h2>"]
    if result["out_of_vocabulary"]:
        words = ", ".join(html.escape(word) for word in result["out_of_vocabulary"])
        parts.append(
            f'<p class="words" id="out-of-vocabulary">Not in the model&rsquo;s vocabulary, '
            f"ignored: <b>{words}</b></p>"
        )
    if result["dropped_words"]:
        parts.append(
            f'<p class="words">{result["dropped_words"]} words past the canvas capacity were '
            "dropped: shorten the query.</p>"
        )
    if result["words_used"] == 0:
        parts.append(
            '<p class="words">The model knows none of these words, so the order below means '
            "little: try other words.</p>"
        )
    parts.append(_photo_grid(result["images"]))
    return "".join(parts)


def _image_results(result: dict, filename: str, captions_served: bool) -> str:
    parts = [f"<h2>Nearest to {html.escape(filename)}</h2>"]
    if result["captions"]:
        items = "".join(
            f'<li><span class="score">{caption["score"]:.3f}</span> '
            f"{html.escape(caption['text'])}</li>"
            for caption in result["captions"]
        )
        parts.append(f'<h3>Captions</h3><ol class="captions" id="captions">{items}</ol>')
    elif not captions_served:
        parts.append(
            '<p class="note">No captions are served: start fusion-serve with --captions=FILE '
            "to see the nearest captions too.</p>"
        )
    parts.append("<h3>Photos</h3>" + _photo_grid(result["images"]))
    return "".join(parts)


def render_page(
    health: dict,
    query: str = "",
    text_result: dict | None = None,
    image_result: dict | None = None,
    filename: str = "",
    error: str = "",
) -> str:
    """The whole page: the two forms, then an error, the results, or the empty state."""
    if error:
        body = f'<p class="error" id="error" role="alert">{html.escape(error)}</p>'
    elif text_result is not None:
        body = _text_results(text_result)
    elif image_result is not None:
        body = _image_results(image_result, filename, health["captions"] > 0)
    elif health["gallery_images"] == 0:
        body = (
            '<p class="note" id="empty">The gallery has no photos: add JPEG or PNG files to the '
            "gallery folder and restart fusion-serve.</p>"
        )
    else:
        body = (
            '<p class="note" id="empty">Type what a photo shows, e.g. &ldquo;a dog runs on the '
            "beach&rdquo;, or upload a photo to find its nearest captions and photos.</p>"
        )
    captions_note = f", {health['captions']} captions" if health["captions"] else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>fusion_tf search</title><style>{STYLE}</style></head>
<body><h1>Search the gallery</h1>
<p class="note">{health["gallery_images"]} photos{captions_note}.</p>
<form method="get" action="/"><input type="text" name="q" value="{html.escape(query)}"
 placeholder="a dog runs on the beach" aria-label="caption"><button type="submit">Search</button>
</form>
<form method="post" action="/" enctype="multipart/form-data">
<input type="file" name="photo" accept="image/*" aria-label="photo">
<button type="submit" id="upload">Find captions and photos</button></form>
{body}
</body></html>
"""
