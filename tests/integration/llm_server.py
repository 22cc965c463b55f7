"""A local OpenAI-compatible chat completions server for the integration tests (standard
library only), written from OpenAI's documented request and response shapes.

    llm = LLMServer()                      # listens on 127.0.0.1, a free port
    llm.script.append(answer("We ship to Canada."))          # the next reply
    llm.script.append(tool_call("order_status", {"order_id": "NW-1"}))
    llm.script.append(error(503, "overloaded", "server_error"))
    llm.respond = lambda req: answer("...")  # when the script is empty (default: a polite reply)
    llm.delay = lambda req: 2.0              # seconds to wait before answering (slow answers)
    llm.requests                             # every request: {"json", "headers", "path"}
    env = {"SB_LLM_URL": llm.base_url, ...}  # base_url ends in /v1

`ToolServer` is a plain HTTP server for SB_TOOLS_FILE tools: routes map (method, path) to a
(status, body) pair or a function of the request, and every call is recorded.
"""

import http.server
import json
import threading
import time

from harness import HOST


def answer(text, prompt_tokens=120, completion_tokens=12, usage=True):
    body = {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text, "refusal": None}}]}
    if usage:
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
    return {"status": 200, "body": body}


def tool_call(name, arguments, call_id="call_1", as_string=True):
    """An answer calling one tool; arguments is a dict, sent as a JSON string (OpenAI) or as an
    object (as_string=False, the way some Ollama versions send it)."""
    args = json.dumps(arguments) if as_string else arguments
    body = {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "tool_calls",
                         "message": {"role": "assistant", "content": None,
                                     "tool_calls": [{"id": call_id, "type": "function",
                                                     "function": {"name": name,
                                                                  "arguments": args}}]}}],
            "usage": {"prompt_tokens": 80, "completion_tokens": 9, "total_tokens": 89}}
    return {"status": 200, "body": body}


def error(status, message, type_, code=None, headers=None):
    """OpenAI's error body shape."""
    return {"status": status, "headers": headers or {},
            "body": {"error": {"message": message, "type": type_, "param": None, "code": code}}}


class _Server:
    def __init__(self, handler_class):
        self.httpd = http.server.ThreadingHTTPServer((HOST, 0), handler_class)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _LLMHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        owner = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": "unknown path", "type":
                                              "invalid_request_error", "param": None,
                                              "code": None}}, {})
        try:
            req = json.loads(raw)
        except ValueError:
            return self._send(400, {"error": {"message": "body is not JSON", "type":
                                              "invalid_request_error", "param": None,
                                              "code": None}}, {})
        record = {"json": req, "headers": {k.lower(): v for k, v in self.headers.items()},
                  "path": self.path, "at": time.monotonic()}
        with owner.lock:
            owner.requests.append(record)
            step = owner.script.pop(0) if owner.script else None
        if step is None:
            step = owner.respond(req)
        delay = step.get("delay", owner.delay(req) if owner.delay else 0)
        if delay:
            time.sleep(delay)
        with owner.lock:
            record["answered"] = time.monotonic()
        self._send(step.get("status", 200), step["body"], step.get("headers", {}))

    def _send(self, status, body, headers):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout)

    def log_message(self, *a):
        pass


class LLMServer(_Server):
    def __init__(self):
        self.requests = []
        self.script = []
        self.respond = lambda req: answer("Thanks for your message.")
        self.delay = None
        super().__init__(_LLMHandler)
        self.base_url = "http://%s:%d/v1" % (HOST, self.port)

    def wait_requests(self, n, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.05)
        with self.lock:
            return list(self.requests)


def system_prompt(request):
    return request["json"]["messages"][0]["content"]


def last_user(request):
    msgs = [m for m in request["json"]["messages"] if m["role"] == "user"]
    return msgs[-1]["content"] if msgs else None


class _ToolHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        owner = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = self.path.split("?", 1)[0]
        call = {"method": self.command, "path": self.path, "body": body,
                "headers": {k.lower(): v for k, v in self.headers.items()}}
        with owner.lock:
            owner.calls.append(call)
        route = owner.routes.get((self.command, path))
        status, out = (404, '{"error":"no such route"}') if route is None else (
            route(call) if callable(route) else route)
        data = out.encode() if isinstance(out, str) else out
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, *a):
        pass


class ToolServer(_Server):
    def __init__(self):
        self.calls = []
        self.routes = {}
        super().__init__(_ToolHandler)
        self.base_url = "http://%s:%d" % (HOST, self.port)
