-- One wrk script for every row of bench/run.sh:  wrk -tT ... -s bench.lua URL -- ROW CONF_FILE [REFRESH_POOL_FILE T]
--   a  client_credentials token requests        d  introspection of a live access token
--   b  refresh-token rotation                    e  GET JWKS
--   c  authorization code + PKCE, two steps      f  GET discovery
-- CONF_FILE is written by bench/prepare.mjs (key=value lines). Every response is checked: "ok" counts only answers
-- that did what the row measures (a token, an active introspection, a document); anything else is "bad".
-- done() prints one JSON line that run.sh collects.

local row, conf = nil, {}
ok, bad, flows = 0, 0, 0 -- globals: done() reads them from each thread
local queue, head, tail = {}, 1, 0 -- refresh tokens (b) or authorization codes (c) waiting to be used
local threads = {}
local next_id = 0

local function push(value) tail = tail + 1; queue[tail] = value end
local function pop()
   if head > tail then return nil end
   local value = queue[head]; queue[head] = nil; head = head + 1
   return value
end

local function urlencode(s)
   return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   row = args[1]
   for line in io.lines(args[2]) do
      local key, value = line:match("^([%w_]+)=(.*)$")
      if key then conf[key] = value end
   end
   if row == "b" then
      -- Each thread takes its own share of the pool: no refresh token is ever presented twice.
      local i, count = 0, tonumber(args[4] or "1")
      for line in io.lines(args[3]) do
         if line ~= "" and i % count == id then push(line) end
         i = i + 1
      end
   end
end

local function post(path, auth, body)
   return wrk.format("POST", path, { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = auth }, body)
end

local authorize_request, client_credentials_body
function request()
   if row == "a" then
      client_credentials_body = client_credentials_body
         or "grant_type=client_credentials&scope=api&resource=" .. urlencode(conf.resource)
      return post(conf.token_path, conf.client_auth, client_credentials_body)
   elseif row == "b" then
      -- Rotation: the token sent now is the one the previous answer of this chain returned, used exactly once.
      local token = pop() or "exhausted-pool"
      return post(conf.token_path, conf.client_auth, "grant_type=refresh_token&refresh_token=" .. urlencode(token))
   elseif row == "c" then
      local code = pop()
      if code then
         return post(conf.token_path, conf.client_auth, "grant_type=authorization_code&code=" .. urlencode(code)
            .. "&redirect_uri=" .. urlencode(conf.redirect_uri) .. "&code_verifier=" .. conf.code_verifier
            .. "&resource=" .. urlencode(conf.resource))
      end
      authorize_request = authorize_request or wrk.format("GET", conf.authorize_path
         .. "?response_type=code&client_id=" .. urlencode(conf.client_id)
         .. "&redirect_uri=" .. urlencode(conf.redirect_uri)
         .. "&scope=" .. urlencode("openid api") .. "&state=bench"
         .. "&code_challenge=" .. conf.code_challenge .. "&code_challenge_method=S256"
         .. "&resource=" .. urlencode(conf.resource), { ["Cookie"] = conf.cookie })
      return authorize_request
   elseif row == "d" then
      return post(conf.introspect_path, conf.api_auth, "token=" .. urlencode(conf.introspect_token))
   elseif row == "e" then
      return wrk.format("GET", conf.jwks_path)
   else
      return wrk.format("GET", conf.discovery_path)
   end
end

-- The first few unexpected answers go to stderr (run.sh keeps them), so an error count comes with its cause.
local reported = 0
local function complain(status, body)
   bad = bad + 1
   if reported < 3 then
      reported = reported + 1
      io.stderr:write(string.format("row %s: unexpected answer %d: %s\n", row, status, (body or ""):sub(1, 300)))
   end
end

function response(status, headers, body)
   if row == "c" and (status == 302 or status == 303) then
      local location = headers["Location"] or headers["location"] or ""
      local code = location:match("[?&]code=([^&]+)")
      if code then
         push((code:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)))
         ok = ok + 1
      else
         complain(status, location)
      end
      return
   end
   if status ~= 200 then complain(status, body); return end
   if row == "b" then
      local successor = body:match('"refresh_token"%s*:%s*"([^"]+)"')
      if successor then push(successor); ok = ok + 1 else complain(status, body) end
   elseif row == "c" then
      if body:find('"access_token"', 1, true) then ok = ok + 1; flows = flows + 1 else complain(status, body) end
   elseif row == "d" then
      if body:find('"active"%s*:%s*true') then ok = ok + 1 else complain(status, body) end
   else
      ok = ok + 1
   end
end

function done(summary, latency, requests)
   local total_ok, total_bad, total_flows = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_ok = total_ok + (thread:get("ok") or 0)
      total_bad = total_bad + (thread:get("bad") or 0)
      total_flows = total_flows + (thread:get("flows") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"flows":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, total_ok, total_bad, total_flows,
      e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
