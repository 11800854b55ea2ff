"""A webhook receiver in a process of its own: `python -m tests.e2e.hook_receiver PORT FILE`
appends each POST it receives to FILE, one JSON line: its path, the delivery header, the
body as JSON (null when it is not, as a push's encrypted body) and the raw body in base64.
The same process stands in for an ntfy server and a browser's push service."""

import base64
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
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            line = {"path": self.path, "delivery": self.headers.get("X-Taskchat-Delivery"),
                    "body": parsed, "raw": base64.b64encode(body).decode()}  # fmt: skip
            with path.open("a") as out:
                out.write(json.dumps(line) + "\n")
            self.send_response(201 if self.path.startswith("/push/") else 204)
            self.send_header("Content-Length", "0")
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
