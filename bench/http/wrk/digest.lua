-- Digest (RFC 7616 §3.4) for wrk (LuaJIT). Usage, after wrk's own arguments:
--   -- <user> <password> <clients>
-- Each wrk thread plays <clients> clients. Each performs the handshake once (a request without
-- credentials, answered 401 with a challenge) and then reuses its nonce with nc counting up, as
-- browsers and curl do; requests take the clients in turn over the connections. Hashes come from
-- libcrypto (which wrk links) through LuaJIT's FFI: MD5 and SHA-256 and their -sess forms, with
-- qop=auth, which is what the servers under test offer.
dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'report.lua')

local ffi, crypto
local HEX = {}
for i = 0, 255 do HEX[i] = string.format('%02x', i) end

local function hex_digest(algorithm, text)
  local size = algorithm == 'md5' and 16 or 32
  local out = ffi.new('unsigned char[32]')
  if algorithm == 'md5' then crypto.MD5(text, #text, out) else crypto.SHA256(text, #text, out) end
  local parts = {}
  for i = 0, size - 1 do parts[i + 1] = HEX[out[i]] end
  return table.concat(parts)
end

local user, password, wanted
local clients, next_client, pending = {}, 0, 0

-- wrk calls request() once more in its first thread, after init() and before any connection, to
-- check what it returns (wrk.c: `if (i == 0) cfg.pipeline = script_verify_request(t->L)`); that
-- request is never sent. Counted as a handshake under way, it left `pending` at 1 for the whole
-- run: one client short of `wanted`, and the first refusal of a held nonce taken for a handshake.
local threads_set_up = 0
local report_setup = setup
function setup(thread)
  report_setup(thread)
  threads_set_up = threads_set_up + 1
  thread:set('unsent_calls', threads_set_up == 1 and 1 or 0)
end

-- The parameters of the first Digest challenge in a WWW-Authenticate value. The servers under test
-- send one challenge per field; their output is trusted here (this is a benchmark client).
local function parse_challenge(value)
  local start = value:lower():find('digest%s')
  if not start then return nil end
  local params = {}
  local rest = value:sub(start + 7)
  for name, quoted in rest:gmatch('([%w%-]+)%s*=%s*"([^"]*)"') do params[name:lower()] = quoted end
  for name, token in rest:gmatch('([%w%-]+)%s*=%s*([^",%s]+)') do
    if params[name:lower()] == nil then params[name:lower()] = token end
  end
  if not params.realm or not params.nonce then return nil end
  return params
end

local function new_client(challenge)
  local name = (challenge.algorithm or 'MD5'):upper()
  local algorithm = name:find('^SHA%-256') and 'sha256' or 'md5'
  local cnonce = hex_digest('md5', tostring(math.random()) .. tostring(os.clock())):sub(1, 16)
  local ha1 = hex_digest(algorithm, user .. ':' .. challenge.realm .. ':' .. password)
  -- RFC 7616 §3.4.2: the -sess variants fold nonce and cnonce into HA1 once per nonce.
  if name:find('%-SESS$') then
    ha1 = hex_digest(algorithm, ha1 .. ':' .. challenge.nonce .. ':' .. cnonce)
  end
  local prefix = 'Digest username="' .. user .. '", realm="' .. challenge.realm ..
    '", nonce="' .. challenge.nonce .. '", uri="' .. wrk.path .. '", response="'
  local suffix = '"'
  if challenge.algorithm then suffix = suffix .. ', algorithm=' .. challenge.algorithm end
  local qop = challenge.qop and 'auth' or nil
  local opaque = challenge.opaque and (', opaque="' .. challenge.opaque .. '"') or ''
  return {
    algorithm = algorithm,
    ha1 = ha1,
    ha2 = hex_digest(algorithm, wrk.method .. ':' .. wrk.path),
    nonce = challenge.nonce,
    cnonce = cnonce,
    qop = qop,
    nc = 0,
    prefix = prefix,
    suffix = suffix,
    opaque = opaque,
  }
end

local function authorization(client)
  client.nc = client.nc + 1
  if not client.qop then
    local response = hex_digest(client.algorithm, client.ha1 .. ':' .. client.nonce .. ':' .. client.ha2)
    return client.prefix .. response .. client.suffix .. client.opaque
  end
  local nc = string.format('%08x', client.nc)
  local response = hex_digest(client.algorithm,
    client.ha1 .. ':' .. client.nonce .. ':' .. nc .. ':' .. client.cnonce .. ':auth:' .. client.ha2)
  return client.prefix .. response .. client.suffix .. ', qop=auth, nc=' .. nc ..
    ', cnonce="' .. client.cnonce .. '"' .. client.opaque
end

local bare_request

local function digest_request()
  if unsent_calls > 0 then
    unsent_calls = unsent_calls - 1
    return bare_request
  end
  if #clients + pending < wanted or #clients == 0 then
    pending = pending + 1
    return bare_request
  end
  next_client = next_client % #clients + 1
  return wrk.format(nil, nil, { Authorization = authorization(clients[next_client]) })
end

local function challenge_of(headers)
  for name, value in pairs(headers) do
    if name:lower() == 'www-authenticate' then return parse_challenge(value) end
  end
  return nil
end

local function digest_response(status, headers, body)
  if status == 200 then
    if body == 'ok' then counters.ok = counters.ok + 1 else counters.other = counters.other + 1 end
    return
  end
  if status ~= 401 then counters.other = counters.other + 1; return end
  local challenge = challenge_of(headers)
  if not challenge then counters.other = counters.other + 1; return end
  if #clients < wanted and pending > 0 then
    pending = pending - 1
    counters.handshakes = counters.handshakes + 1
    clients[#clients + 1] = new_client(challenge)
  else
    -- A held nonce was refused (replayed, stale or wrong): that client starts over.
    counters.refused = counters.refused + 1
    clients[counters.refused % #clients + 1] = new_client(challenge)
  end
end

function init(args)
  ffi = require('ffi')
  ffi.cdef([[
    unsigned char *MD5(const unsigned char *d, size_t n, unsigned char *md);
    unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
  ]])
  -- wrk links libcrypto, so its symbols are normally in the process already.
  local found = pcall(function() return ffi.C.SHA256 end)
  crypto = found and ffi.C or ffi.load('libcrypto.so.3')
  user, password, wanted = args[1], args[2], tonumber(args[3])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  bare_request = wrk.format()
end

request = digest_request
response = digest_response
