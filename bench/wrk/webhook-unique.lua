-- wrk script: POST signed Meta (Instagram DM) webhooks with a UNIQUE message id
-- per request, so a server that de-duplicates redeliveries stores every one.
--
--   WEBHOOK_BODY_FILE  template body (bench/payloads/instagram-dm.json of the peers)
--   META_APP_SECRET    HMAC-SHA256 key (default bench-app-secret, the peers' default)
--   WRK_RUN_ID         8 hex chars that make this run's ids unique (default: /dev/urandom)
--   WRK_LIBCRYPTO      libcrypto to dlopen (default: libcrypto.so.3, then "crypto")
--   WRK_HMAC           "ctx" (default): a keyed HMAC_CTX per thread, re-used per request;
--                      "oneshot": OpenSSL's one-call HMAC() per request (slower in OpenSSL 3)
--   WRK_JSON_OUT       optional: append one JSON summary line here (done()), same keys as
--                      the peers' meta-webhook.lua, plus "generated" (requests built)
--   WEBHOOK_SIGNATURE  ignored (run-webhook-bench.sh sets it for its static script)
--
-- The message id keeps the template's length: its last 26 characters become
-- <run id 8 hex><thread 3 digits><counter 15 digits>, so the body stays 595 bytes
-- and the request has the same headers and size as the static one. The request
-- is laid out once per thread in a C buffer; request() patches the counter and
-- the signature in place: HMAC-SHA256 from OpenSSL's libcrypto through the
-- LuaJIT FFI over the body bytes, hex into the X-Hub-Signature-256 header, then
-- one Lua string per request. No response() callback (it would slow wrk down).

local ffi = require("ffi")

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *data, size_t data_len,
                    unsigned char *md, unsigned int *md_len);
typedef struct hmac_ctx_st HMAC_CTX;
HMAC_CTX *HMAC_CTX_new(void);
int HMAC_Init_ex(HMAC_CTX *ctx, const void *key, int len, const EVP_MD *md, void *impl);
int HMAC_Update(HMAC_CTX *ctx, const unsigned char *data, size_t len);
int HMAC_Final(HMAC_CTX *ctx, unsigned char *md, unsigned int *len);
]]

local function load_crypto()
  local names = {}
  local env = os.getenv("WRK_LIBCRYPTO")
  if env and env ~= "" then names[#names + 1] = env end
  names[#names + 1] = "libcrypto.so.3"
  names[#names + 1] = "crypto"
  local last
  for _, n in ipairs(names) do
    local ok, lib = pcall(ffi.load, n)
    if ok then return lib end
    last = lib
  end
  error("cannot load libcrypto (set WRK_LIBCRYPTO): " .. tostring(last))
end

local SUFFIX_LEN = 26          -- 8 (run) + 3 (thread) + 15 (counter)
-- Globals set in each thread's Lua state by setup() through thread:set():
--   tid (1..threads), run_id; and read back by done() through thread:get(): built

-- ------------------------------------------------------------ main state only
local threads, main_run_id = {}, nil
function setup(thread)
  if not main_run_id then
    main_run_id = os.getenv("WRK_RUN_ID")
    if not main_run_id or main_run_id == "" then
      local f = assert(io.open("/dev/urandom", "rb"))
      local b = f:read(4)
      f:close()
      main_run_id = string.format("%02x%02x%02x%02x", b:byte(1, 4))
    end
    assert(#main_run_id == 8 and main_run_id:match("^[0-9a-f]+$"),
      "WRK_RUN_ID must be 8 lower-case hex characters")
  end
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
  thread:set("run_id", main_run_id)
  thread:set("built", 0)
end

-- ------------------------------------------------------------ per thread
local C, sha256, hctx, md, buf, req_len, body_off, body_len, mid_off, sig_off, key, key_len
local oneshot = false
local hexd = ffi.new("const char[16]", "0123456789abcdef")

function init(args)
  C = load_crypto()
  sha256 = C.EVP_sha256()
  local f = assert(io.open(assert(os.getenv("WEBHOOK_BODY_FILE"), "WEBHOOK_BODY_FILE not set"), "rb"))
  local template = f:read("*a")
  f:close()
  key = os.getenv("META_APP_SECRET") or "bench-app-secret"
  key_len = #key
  -- WRK_HMAC=oneshot: HMAC() per request. Default "ctx": one keyed HMAC_CTX per thread,
  -- re-initialised per request (HMAC_Init_ex with a NULL key keeps the key), which
  -- skips OpenSSL 3's per-call algorithm fetch and costs the generator ~3 us less.
  oneshot = os.getenv("WRK_HMAC") == "oneshot"
  if not oneshot then
    hctx = C.HMAC_CTX_new()
    assert(hctx ~= nil and C.HMAC_Init_ex(hctx, key, key_len, sha256, nil) == 1, "HMAC_Init_ex failed")
  end

  -- the (first) message id in the template; its tail is what we vary
  local ms, me = template:find('"mid":"', 1, true)
  assert(ms, "template has no \"mid\"")
  local close = assert(template:find('"', me + 1, true))
  assert(close - me - 1 >= SUFFIX_LEN + 8, "template mid too short")
  local mid_tail = close - SUFFIX_LEN -- 1-based index of the first varied byte in the body
  local body0 = template:sub(1, mid_tail - 1) .. string.rep("0", SUFFIX_LEN) .. template:sub(close)

  -- Same headers as the static script (wrk.format(): Host, Content-Length, and these),
  -- in a fixed order.
  local head = table.concat({
    "POST " .. wrk.path .. " HTTP/1.1",
    "Host: " .. wrk.headers["Host"],
    "Content-Type: application/json",
    "User-Agent: facebookexternalua",
    "Content-Length: " .. #body0,
    "X-Hub-Signature-256: sha256=",
  }, "\r\n")
  sig_off = #head                                  -- 0-based offset of the 64 hex digits
  local req = head .. string.rep("0", 64) .. "\r\n\r\n" .. body0
  req_len, body_len = #req, #body0
  body_off = req_len - body_len
  mid_off = body_off + mid_tail - 1

  buf = ffi.new("uint8_t[?]", req_len)
  ffi.copy(buf, req, req_len)
  md = ffi.new("uint8_t[32]")
  -- run id and thread number are fixed for this thread; the counter varies
  assert(run_id and tid, "setup() did not run")
  ffi.copy(buf + mid_off, string.format("%s%03d", run_id, tid % 1000), 11)
  built = 0
end

function request()
  local v = built + 1
  built = v
  -- 15-digit decimal counter, written right to left
  local p = mid_off + SUFFIX_LEN - 1
  for _ = 1, 15 do
    buf[p] = 48 + v % 10
    v = math.floor(v / 10)
    p = p - 1
  end
  if oneshot then
    C.HMAC(sha256, key, key_len, buf + body_off, body_len, md, nil)
  else
    C.HMAC_Init_ex(hctx, nil, 0, nil, nil)
    C.HMAC_Update(hctx, buf + body_off, body_len)
    C.HMAC_Final(hctx, md, nil)
  end
  local s = sig_off
  for i = 0, 31 do
    local b = md[i]
    buf[s] = hexd[bit.rshift(b, 4)]
    buf[s + 1] = hexd[bit.band(b, 15)]
    s = s + 2
  end
  return ffi.string(buf, req_len)
end

-- ------------------------------------------------------------ main state, at the end
function done(summary, latency, requests)
  local out = os.getenv("WRK_JSON_OUT")
  if not out or out == "" then return end
  local generated = 0
  for _, t in ipairs(threads) do generated = generated + (tonumber(t:get("built")) or 0) end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local f = assert(io.open(out, "a"))
  f:write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,"non2xx3xx":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_stdev_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_p999_us":%d,"lat_max_us":%d,' ..
    '"generated":%d,"run_id":"%s","script":"webhook-unique.lua","hmac":"%s"}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes, e.status,
    e.connect, e.read, e.write, e.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    generated, main_run_id or "", os.getenv("WRK_HMAC") == "oneshot" and "oneshot" or "ctx"))
  f:close()
end
