"""A reference app speaking the Gennai AI-app protocol, run as a real process by the tests:
``python reference_app.py <port> <api-key>``. Variants by path:

/sync          200 outputs + usageMetadata (one entry per model), echoes inputs
/files         lists received files (name, size) and returns a file back as an artifact
/chat          answers with the number of chat_history turns; reads ``contents`` style artifacts
/async         202 → status_url (same origin), PENDING, IN_PROGRESS, then COMPLETED
/async-error   202 → ... ERROR
/async-foreign 202 with a status_url on another origin
/never         202 → IN_PROGRESS forever
/error400      400 {"error": "Invalid request: ..."};  /error500  500 {"error": "..."}
/slow          sleeps 30 s;  /nonjson  200 text/html;  /no-outputs  200 without outputs
/oversized     200 with 30 MB;  /wrong-status  204;  /redirect  302 to /sync
/hostile       outputs with <script> and other script variants
/echo          logs the received inputs ({"received": ...}) and answers with them as JSON
/async-echo    the same, answered through 202 → status_url → COMPLETED
Every request must carry ``x-api-key``; requests are logged to stdout as JSON lines.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JOBS: dict[str, dict[str, Any]] = {}
LOCK = threading.Lock()
HOSTILE = (
    "# 結果\n\n<script>document.title='pwned'</script>\n\n"
    "<img src=x onerror=\"document.title='pwned'\">\n\n"
    "[click](javascript:document.title='pwned')\n\n"
    '<a href="javascript:alert(1)">link</a> <iframe src="https://example.com"></iframe>\n\n'
    "**安全な太字**"
)


def usage(model: str, tokens_in: int, tokens_out: int, cost: float) -> dict[str, Any]:
    return {
        "modelVersion": model,
        "requestCount": 1,
        "tokens": {"inputTokens": tokens_in, "outputTokens": tokens_out, "totalTokens": tokens_in + tokens_out},
        "estimatedCostInfo": {"estimatedCost": cost, "currency": "JPY"},
    }


def received(inputs: dict[str, Any]) -> str:
    """Log what the app got (one JSON line) and give it back as text."""
    text = json.dumps(inputs, ensure_ascii=False)
    print(json.dumps({"received": inputs}, ensure_ascii=False), flush=True)
    return text


class Handler(BaseHTTPRequestHandler):
    api_key = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet; requests are logged as JSON
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _authorised(self) -> bool:
        print(json.dumps({"method": self.command, "path": self.path, "host": self.headers.get("host")}), flush=True)
        if self.headers.get("x-api-key") != self.api_key:
            self._send(401, {"error": "Unauthorized"})
            return False
        return True

    def do_GET(self) -> None:
        if not self._authorised():
            return
        if self.path.startswith("/status/"):
            self._status(self.path.rsplit("/", 1)[-1])
        else:
            self._send(404, {"error": "not found"})

    def _status(self, job_id: str) -> None:
        with LOCK:
            job = JOBS.get(job_id)
            if job is None:
                self._send(404, {"error": "no such job"})
                return
            job["polls"] += 1
            polls, kind = job["polls"], job["kind"]
        if kind == "never" or polls < 3:
            self._send(200, {"status": "PENDING" if polls == 1 else "IN_PROGRESS", "request_id": job_id})
        elif kind == "async-error":
            self._send(200, {"status": "ERROR", "error": "非同期処理で失敗しました", "request_id": job_id})
        else:
            self._send(200, {"status": "COMPLETED", "request_id": job_id, **job["answer"]})

    def do_POST(self) -> None:
        if not self._authorised():
            return
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"error": "Invalid request: body is not JSON"})
            return
        inputs = body.get("inputs")
        if not isinstance(inputs, dict):
            self._send(400, {"error": "Invalid request: inputs is required"})
            return
        route = self.path.split("?", 1)[0].strip("/")
        handler = getattr(self, "post_" + route.replace("-", "_"), None)
        if handler is None:
            self._send(404, {"error": "not found"})
            return
        handler(inputs)

    # -- variants ------------------------------------------------------------------------------
    def post_sync(self, inputs: dict[str, Any]) -> None:
        text = str(inputs.get("input_text", ""))
        self._send(
            200,
            {
                "outputs": f"## 受け取った入力\n\n{text}\n\n- keys: {', '.join(sorted(inputs))}",
                "usageMetadata": [usage("model-a", 100, 50, 1.5), usage("model-b", 10, 5, 0.25)],
            },
        )

    def post_files(self, inputs: dict[str, Any]) -> None:
        lines, artifacts = [], []
        for group in inputs.get("files") or []:
            for item in group.get("files", []):
                data = base64.b64decode(item["content"])
                lines.append(f"- {group['key']}: {item['filename']} ({len(data)} bytes)")
                artifacts.append({"display_name": "echo-" + item["filename"], "content": item["content"]})
        self._send(200, {"outputs": "受け取ったファイル:\n\n" + "\n".join(lines), "artifacts": artifacts})

    def post_chat(self, inputs: dict[str, Any]) -> None:
        history = inputs.get("chat_history")
        if not isinstance(history, list):
            self._send(400, {"error": "Invalid request: chat_history is required"})
            return
        report = base64.b64encode("履歴レポート".encode()).decode()
        self._send(
            200, {"outputs": f"履歴 {len(history)} 件", "contents": [{"display_name": "r.txt", "content": report}]}
        )

    def post_echo(self, inputs: dict[str, Any]) -> None:
        self._send(200, {"outputs": received(inputs)})

    def post_async_echo(self, inputs: dict[str, Any]) -> None:
        self._accept("async", outputs=received(inputs))

    def _accept(self, kind: str, status_url: str | None = None, outputs: str = "非同期の結果") -> None:
        job_id = f"job{time.monotonic_ns()}"
        with LOCK:
            JOBS[job_id] = {
                "kind": kind,
                "polls": 0,
                "answer": {"outputs": outputs, "usageMetadata": [usage("model-c", 7, 3, 2)]},
            }
        self._send(202, {"status_url": status_url or f"/status/{job_id}", "request_id": job_id})

    def post_async(self, inputs: dict[str, Any]) -> None:
        self._accept("async")

    def post_async_error(self, inputs: dict[str, Any]) -> None:
        self._accept("async-error")

    def post_async_foreign(self, inputs: dict[str, Any]) -> None:
        self._accept("async", status_url="http://169.254.169.254/latest/meta-data/")

    def post_never(self, inputs: dict[str, Any]) -> None:
        self._accept("never")

    def post_error400(self, inputs: dict[str, Any]) -> None:
        self._send(400, {"error": "Invalid request: input_text is too long"})

    def post_error500(self, inputs: dict[str, Any]) -> None:
        self._send(500, {"error": "backend exploded"})

    def post_slow(self, inputs: dict[str, Any]) -> None:
        time.sleep(30)
        self._send(200, {"outputs": "遅い"})

    def post_nonjson(self, inputs: dict[str, Any]) -> None:
        self._send(200, b"<html>not json</html>", "text/html")

    def post_no_outputs(self, inputs: dict[str, Any]) -> None:
        self._send(200, {"result": "outputs がない"})

    def post_oversized(self, inputs: dict[str, Any]) -> None:
        self._send(200, {"outputs": "x" * (30 * 1024 * 1024)})

    def post_wrong_status(self, inputs: dict[str, Any]) -> None:
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def post_redirect(self, inputs: dict[str, Any]) -> None:
        self.send_response(302)
        self.send_header("Location", "/sync")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def post_hostile(self, inputs: dict[str, Any]) -> None:
        self._send(200, {"outputs": HOSTILE, "usageMetadata": [usage("model-x", 1, 1, 0)]})


def main() -> None:
    port, key = int(sys.argv[1]), sys.argv[2]
    Handler.api_key = key
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(json.dumps({"listening": port}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
