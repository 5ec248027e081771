"""fusion-serve: a search page and JSON API over an exported SavedModel, a gallery and captions.

    fusion-serve --saved_model=runs/x/export --gallery=photos/
    fusion-serve --saved_model=runs/x/export --gallery=photos/ --captions=captions.txt --port=8080

Indexes the gallery (cached in GALLERY/.fusion_index, like fusion-search) and the captions, then
serves http://HOST:PORT/ until interrupted. The API: GET /api/health, GET /api/search/text?q=...,
POST /api/search/image (multipart field `photo`); see the README's "Serve a gallery".
"""

import sys

from absl import app, flags

from fusion_tf.cli.console import configure_logging, run_command

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "Exported SavedModel (fusion-export).", required=True)
flags.DEFINE_string("gallery", None, "Folder of photos to search.", required=True)
flags.DEFINE_string("captions", None, "Text file of captions, one a line, searched by photo.")
flags.DEFINE_string(
    "host", "127.0.0.1", "Address to listen on (0.0.0.0 exposes it to the network)."
)
flags.DEFINE_integer("port", 8080, "Port to listen on.", lower_bound=0, upper_bound=65535)
flags.DEFINE_float("max_upload_mb", 10.0, "Largest photo upload accepted, in MiB.", lower_bound=0)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    configure_logging()
    import uvicorn

    from fusion_tf.serve.app import create_app
    from fusion_tf.serve.search_service import SearchService

    try:
        service = SearchService.load(FLAGS.saved_model, FLAGS.gallery, FLAGS.captions)
    except (FileNotFoundError, NotADirectoryError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"serving http://{FLAGS.host}:{FLAGS.port}/ (Ctrl-C stops)", flush=True)
    uvicorn.run(
        create_app(service, max_upload_bytes=int(FLAGS.max_upload_mb * 2**20)),
        host=FLAGS.host,
        port=FLAGS.port,
        log_level="warning",
    )


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
