"""Small real images for the publishing tests, written here in plain Python (no imaging library).

    solid_jpeg(1080, 1350)                 # a decodable baseline JPEG of one colour
    solid_jpeg(8, 8, gray=True)            # one component
    solid_jpeg(10, 10, pad_to=9 * 2**20)   # the same, followed by padding past EOI
    png_header(640, 480), gif_header(...), webp_header(...)   # other formats' first bytes

The JPEG is baseline (SOF0), 4:4:4, every quantiser 1, and every 8x8 block is flat, so each
block is one DC difference and an end-of-block: a real stream any decoder opens (checked
with djpeg), small even at 1080x1350, and quick to write.
"""

import struct
import zlib

# Table K.3 of ITU T.81: the typical luminance DC Huffman table (categories 0..11).
_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_VALS = list(range(12))
# A one-symbol AC table: end-of-block, coded "0" (every block is flat).
_AC_BITS = [1] + [0] * 15
_AC_VALS = [0x00]


def _codes(bits, vals):
    """Symbol -> (code, length), generated as T.81 Annex C does."""
    out, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            out[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return out


class _Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self):
        while self.n:
            self.put(1, 1)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker, payload):
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _ycbcr(rgb):
    r, g, b = rgb
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return [max(0, min(255, round(v))) for v in (y, cb, cr)]


def _scan(width, height, levels):
    """Entropy-coded data: each MCU holds one flat block per component."""
    dc = _codes(_DC_BITS, _DC_VALS)
    eob = _codes(_AC_BITS, _AC_VALS)[0]
    coefs = [8 * (v - 128) for v in levels]  # the DC of a flat block, quantiser 1
    w = _Bits()
    n_mcu = ((width + 7) // 8) * ((height + 7) // 8)
    for i in range(n_mcu):
        for c in coefs:
            diff = c if i == 0 else 0
            cat = abs(diff).bit_length()
            w.put(*dc[cat])
            if cat:
                w.put(diff if diff > 0 else diff + (1 << cat) - 1, cat)
            w.put(*eob)
    return w.flush()


def solid_jpeg(width, height, rgb=(200, 120, 60), gray=False, pad_to=0, sof=0xC0,
               extra_segments=b""):
    """A baseline JPEG of width x height in one colour. sof changes the frame marker (the
    data stays baseline: only for header tests); extra_segments go right after APP0; pad_to
    appends zero bytes after EOI until the file is that long."""
    assert 0 < width < 65536 and 0 < height < 65536
    levels = [_ycbcr(rgb)[0]] if gray else _ycbcr(rgb)
    n = len(levels)
    out = b"\xff\xd8"
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += extra_segments
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)
    comps = b"".join(struct.pack(">BBB", i + 1, 0x11, 0) for i in range(n))
    out += _segment(sof, struct.pack(">BHHB", 8, height, width, n) + comps)
    out += _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALS))
    out += _segment(0xC4, b"\x10" + bytes(_AC_BITS) + bytes(_AC_VALS))
    sel = b"".join(struct.pack(">BB", i + 1, 0x00) for i in range(n))
    out += _segment(0xDA, struct.pack(">B", n) + sel + b"\x00\x3f\x00")
    out += _scan(width, height, levels) + b"\xff\xd9"
    if pad_to > len(out):
        out += b"\x00" * (pad_to - len(out))
    return out


def png_header(width, height):
    """A PNG's signature and IHDR (enough for a format sniffer)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(chunk[4:]))


def gif_header(width, height):
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def webp_header(width, height):
    vp8l = b"\x2f" + struct.pack("<I", (width - 1) | ((height - 1) << 14))
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mpo_jpeg(width, height):
    """A JPEG carrying an MP Format APP2 segment: the first image of an MPO file."""
    mpf = _segment(0xE2, b"MPF\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00" * 8)
    return solid_jpeg(width, height, extra_segments=mpf)
