"""The web app (fusion_tf/serve/app.py) through Starlette's TestClient on a tiny export."""

import threading
import time

import pytest
from starlette.testclient import TestClient

from fusion_tf.serve.app import create_app

MAX_UPLOAD_BYTES = 50_000


@pytest.fixture(scope="module")
def client(search_service):
    with TestClient(create_app(search_service, max_upload_bytes=MAX_UPLOAD_BYTES)) as client:
        yield client


def test_health_counts_photos_and_captions(client):
    response = client.get("/api/health")
    # broken.jpg is skipped; the blank line of the captions file is not a caption.
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "gallery_images": 3, "captions": 3}


def test_text_search_ranks_every_photo_and_names_unknown_words(client):
    response = client.get("/api/search/text", params={"q": "Red square zebra!", "k": 5})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["out_of_vocabulary"] == ["zebra"]
    assert result["words_used"] == 2 and result["dropped_words"] == 0
    names = {photo["name"] for photo in result["images"]}
    assert names == {"red.jpg", "green.png", "more/blue.jpg"}  # paths relative to the gallery
    scores = [photo["score"] for photo in result["images"]]
    assert scores == sorted(scores, reverse=True)
    thumbnail = client.get(f"/thumbnails/{result['images'][0]['id']}")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert thumbnail.content.startswith(b"\xff\xd8")


def test_image_search_returns_captions_and_photos(client, photo_bytes):
    response = client.post(
        "/api/search/image", params={"k": 2}, files={"photo": ("red.jpg", photo_bytes)}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["captions"]) == 2 and len(result["images"]) == 2
    assert {caption["line"] for caption in result["captions"]} <= {1, 2, 4}
    assert result["images"][0]["name"] == "red.jpg"  # the photo itself is its nearest


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": "   "}, "the query is empty"),
        ({}, "the query is empty"),
        ({"q": "dog", "k": "0"}, "ask for 1 to 100"),
        ({"q": "dog", "k": "many"}, "whole number"),
        ({"q": "dog " * 400}, "shorten it"),
    ],
)
def test_bad_text_queries_get_a_400_that_says_what_to_do(client, params, message):
    response = client.get("/api/search/text", params=params)
    assert response.status_code == 400 and message in response.json()["error"]


def test_bad_uploads_get_a_4xx_and_the_server_keeps_serving(client, oversized_png, photo_bytes):
    cases = [
        (("notes.txt", b"hello, not a photo"), 400, "notes.txt is not an image"),
        (("bomb.png", oversized_png), 400, "bomb.png is not an image"),
        (("half.jpg", photo_bytes[: len(photo_bytes) // 3]), 400, "half.jpg is not an image"),
        (("empty.jpg", b""), 400, "empty.jpg is empty"),
        (("big.jpg", b"\xff" * (MAX_UPLOAD_BYTES + 1)), 413, "larger than the limit"),
    ]
    for upload, status, message in cases:
        response = client.post("/api/search/image", files={"photo": upload})
        assert response.status_code == status, (upload[0], response.text)
        assert message in response.json()["error"]
    wrong_field = client.post("/api/search/image", files={"picture": ("a.jpg", photo_bytes)})
    assert wrong_field.status_code == 400 and "no photo was sent" in wrong_field.json()["error"]
    not_multipart = client.post("/api/search/image", content=photo_bytes)
    assert not_multipart.status_code == 400 and "multipart" in not_multipart.json()["error"]
    assert client.get("/api/search/text", params={"q": "red square"}).status_code == 200


def test_a_body_without_a_length_is_cut_at_the_limit(client):
    def chunks():
        for _ in range(MAX_UPLOAD_BYTES // 1000 + 100):
            yield b"x" * 1000

    response = client.post(
        "/api/search/image",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413


def test_thumbnails_only_by_id(client):
    assert client.get("/thumbnails/3").status_code == 404
    assert client.get("/thumbnails/-1").status_code == 404  # not an id: no route
    assert client.get("/thumbnails/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_the_page_shows_empty_state_results_and_errors(client, photo_bytes):
    empty = client.get("/")
    assert empty.status_code == 200 and 'id="empty"' in empty.text
    assert "<script" not in empty.text and "http" not in empty.text.split("<body>")[1]
    results = client.get("/", params={"q": "red <b>square</b> zebra"})
    assert results.status_code == 200
    assert results.text.count('src="/thumbnails/') == 3 and "zebra" in results.text
    assert "<b>square</b>" not in results.text  # the query is escaped
    upload = client.post("/", files={"photo": ("red.jpg", photo_bytes)})
    assert upload.status_code == 200 and 'id="captions"' in upload.text
    bad = client.post("/", files={"photo": ("notes.txt", b"plain text")})
    assert bad.status_code == 400 and 'id="error"' in bad.text and "notes.txt" in bad.text
    blank = client.get("/", params={"q": ""})
    assert blank.status_code == 400 and "the query is empty" in blank.text


def test_embedding_runs_off_the_event_loop(search_service, monkeypatch):
    """A slow text query does not hold up a health check sent while it runs."""
    release = threading.Event()
    original = search_service.embedder.caption_outputs

    def slow_caption_outputs(texts):
        release.wait(10)
        return original(texts)

    monkeypatch.setattr(search_service.embedder, "caption_outputs", slow_caption_outputs)
    with TestClient(create_app(search_service)) as client:
        slow = threading.Thread(
            target=client.get, args=("/api/search/text",), kwargs={"params": {"q": "red"}}
        )
        slow.start()
        time.sleep(0.2)
        started = time.monotonic()
        assert client.get("/api/health").status_code == 200
        answered_in = time.monotonic() - started
        release.set()
        slow.join(10)
    assert answered_in < 2
