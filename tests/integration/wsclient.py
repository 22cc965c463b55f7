"""A small WebSocket client (RFC 6455, Python standard library only) for the gateway tests:
the opening handshake with a cookie and an Origin, masked text frames out, text, ping and close
frames in, and pongs answered unless the test wants a silent client."""

import base64
import hashlib
import json
import os
import select
import socket
import struct
import time

from harness import HOST

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Refused(Exception):
    def __init__(self, status, body):
        super().__init__("upgrade refused: %d %r" % (status, body[:200]))
        self.status = status
        self.body = body


class WS:
    def __init__(self, port, path="/ws", cookie=None, origin=None, answer_pings=True,
                 rcvbuf=None, timeout=10, headers=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, port))
        self.answer_pings = answer_pings
        self.buf = b""
        self.closed = None  # (code, reason) once a close frame came, or "eof"
        key = base64.b64encode(os.urandom(16)).decode()
        h = {"Host": "%s:%d" % (HOST, port), "Upgrade": "websocket", "Connection": "Upgrade",
             "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
        if cookie:
            h["Cookie"] = "sb_session=" + cookie
        if origin:
            h["Origin"] = origin
        h.update(headers or {})
        req = "GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % kv for kv in h.items())
        self.sock.sendall(req.encode() + b"\r\n")
        head = self._read_head()
        lines = head.split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status != 101:
            n = int(self.headers.get("content-length", "0"))
            body = self.buf
            while len(body) < n:
                body += self.sock.recv(65536)
            self.sock.close()
            raise Refused(self.status, body)
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise AssertionError("bad Sec-WebSocket-Accept")

    def _read_head(self):
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise AssertionError("connection closed during the handshake")
            self.buf += d
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head.decode("latin-1")

    # -- frames

    def send_frame(self, opcode, payload=b""):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def send_text(self, text):
        self.send_frame(1, text.encode())

    def _frame(self, deadline):
        """One frame (opcode, payload) or None when the deadline passes; raises EOFError."""
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                n, off = b1 & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
                if (b1 & 0x7F) < 126 or off > 2:
                    if len(self.buf) >= off + n:
                        payload = self.buf[off:off + n]
                        self.buf = self.buf[off + n:]
                        assert not (b1 & 0x80), "server frames are never masked"
                        assert b0 & 0x80, "the server sends whole messages"
                        return b0 & 0x0F, payload
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            d = self.sock.recv(65536)
            if not d:
                self.closed = self.closed or "eof"
                raise EOFError()
            self.buf += d

    def recv(self, timeout=5):
        """The next text message as JSON, or None on timeout. Pings are answered (unless
        answer_pings is False); a close frame raises EOFError after recording its code."""
        deadline = time.monotonic() + timeout
        while True:
            f = self._frame(deadline)
            if f is None:
                return None
            op, payload = f
            if op == 1:
                return json.loads(payload)
            if op == 9 and self.answer_pings:
                self.send_frame(10, payload)
            elif op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = (code, payload[2:].decode("utf-8", "replace"))
                raise EOFError()

    def recv_until(self, pred, timeout=10):
        """Messages until one satisfies pred; returns (that one, all seen)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                break
            seen.append(m)
            if pred(m):
                return m, seen
        return None, seen

    def wait_closed(self, timeout=10):
        """True once the server closed the connection (a close frame or EOF)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.recv(max(0.01, deadline - time.monotonic()))
        except (EOFError, ConnectionResetError):
            return True
        return False

    def close(self):
        try:
            self.send_frame(8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()
