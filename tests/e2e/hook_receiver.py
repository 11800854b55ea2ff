"""A webhook receiver in a process of its own: `python -m tests.e2e.hook_receiver PORT FILE`
appends each POST it receives to FILE, one JSON line (the delivery header and the body)."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    """Serve on 127.0.0.1:PORT until killed."""
    port, path = int(sys.argv[1]), Path(sys.argv[2])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            line = {"delivery": self.headers.get("X-Taskchat-Delivery"),
                    "body": json.loads(body)}  # fmt: skip
            with path.open("a") as out:
                out.write(json.dumps(line) + "\n")
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 (health check)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
