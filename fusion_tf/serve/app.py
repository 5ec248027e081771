"""The ASGI web app: the search page, its JSON API and gallery thumbnails, over a SearchService.

    GET  /                          the page; ?q=TEXT shows the photos nearest a caption
    POST /                          the page; a multipart `photo` shows its nearest captions and photos
    GET  /api/health                {"status": "ok", "gallery_images": N, "captions": M}
    GET  /api/search/text?q=TEXT&k=12
    POST /api/search/image?k=12     multipart field `photo`
    GET  /thumbnails/{id}           a gallery photo by its id in the results

Embedding and thumbnail work runs in Starlette's thread pool, so a slow request leaves the event
loop free to answer the others. Bad input gets a 4xx whose message says what to do.
"""

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from fusion_tf.serve.page import render_page
from fusion_tf.serve.search_service import QueryError, SearchService

DEFAULT_MAX_UPLOAD_BYTES = 10 * 2**20
DEFAULT_RESULTS = 12
# Room for the multipart boundaries and headers around the photo itself.
MULTIPART_OVERHEAD_BYTES = 64 * 2**10


class BodyTooLargeError(QueryError):
    """A request body over the upload limit (HTTP 413)."""

    def __init__(self, max_upload_bytes: int):
        super().__init__(
            f"the upload is larger than the limit of {max_upload_bytes / 2**20:.1f} MiB: "
            "upload a smaller photo (or start fusion-serve with a larger --max_upload_mb)",
            status=413,
        )


class BodySizeLimit:
    """ASGI middleware: reading more than `max_body_bytes` of a request body raises BodyTooLargeError.

    The handler reading the body sees the error, so a client that sends no Content-Length (or a
    false one) still cannot make the server spool an unbounded upload to disk.
    """

    def __init__(self, app, max_body_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_upload_bytes)
            return message

        await self.app(scope, limited_receive, send)


async def _read_photo(request: Request, max_upload_bytes: int) -> tuple[bytes, str]:
    """(bytes, file name) of the multipart field `photo`, checked against the size limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_upload_bytes + MULTIPART_OVERHEAD_BYTES:
        raise BodyTooLargeError(max_upload_bytes)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise QueryError("send the photo as multipart/form-data in a field named 'photo'")
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise QueryError("no photo was sent: choose a photo file (form field 'photo')")
        data = await upload.read(max_upload_bytes + 1)
        filename = upload.filename or "the upload"
    if len(data) > max_upload_bytes:
        raise BodyTooLargeError(max_upload_bytes)
    return data, filename


def _results_count(request: Request) -> int:
    value = request.query_params.get("k", str(DEFAULT_RESULTS))
    try:
        return int(value)
    except ValueError:
        raise QueryError(f"k={value!r}: give a whole number of results") from None


def create_app(
    service: SearchService, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
) -> Starlette:
    """The Starlette app serving `service`; uploads over `max_upload_bytes` get a 413.

    Args:
        service: SearchService. The model, gallery and captions to search.
        max_upload_bytes: int. Largest photo accepted. Defaults to 10 MiB.
    """

    async def page(request: Request) -> HTMLResponse:
        health = service.health()
        query = request.query_params.get("q")
        filename = ""
        try:
            if request.method == "POST":
                data, filename = await _read_photo(request, max_upload_bytes)
                result = await run_in_threadpool(
                    service.search_image, data, DEFAULT_RESULTS, filename
                )
                return HTMLResponse(render_page(health, image_result=result, filename=filename))
            if query is None:
                return HTMLResponse(render_page(health))
            result = await run_in_threadpool(service.search_text, query, DEFAULT_RESULTS)
            return HTMLResponse(render_page(health, query=query, text_result=result))
        except QueryError as error:
            return HTMLResponse(
                render_page(health, query=query or "", error=str(error)), status_code=error.status
            )

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(service.health())

    async def search_text(request: Request) -> JSONResponse:
        query = request.query_params.get("q", "")
        return JSONResponse(
            await run_in_threadpool(service.search_text, query, _results_count(request))
        )

    async def search_image(request: Request) -> JSONResponse:
        count = _results_count(request)
        data, filename = await _read_photo(request, max_upload_bytes)
        return JSONResponse(await run_in_threadpool(service.search_image, data, count, filename))

    async def thumbnail(request: Request) -> Response:
        image_id = request.path_params["image_id"]
        try:
            jpeg = await run_in_threadpool(service.thumbnail, image_id)
        except QueryError as error:
            return Response(str(error), status_code=error.status, media_type="text/plain")
        return Response(
            jpeg, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=3600"}
        )

    async def query_error(request: Request, error: QueryError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=error.status)

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET", "POST"]),
            Route("/api/health", health),
            Route("/api/search/text", search_text),
            Route("/api/search/image", search_image, methods=["POST"]),
            Route("/thumbnails/{image_id:int}", thumbnail),
        ],
        exception_handlers={QueryError: query_error},
    )
    app.add_middleware(
        BodySizeLimit,
        max_body_bytes=max_upload_bytes + MULTIPART_OVERHEAD_BYTES,
        max_upload_bytes=max_upload_bytes,
    )
    return app
