# Makes a session of requests with Ruby's Net::HTTP: Basic through Net::HTTP's basic_auth, Digest
# through Net::HTTP::DigestAuth (Debian's ruby-net-http-digest-auth), Bearer as a plain header.
# Neither answers a challenge by itself: as the gem's documentation shows (and Mechanize does),
# the application answers a 401's Digest challenge with auth_header and sends the request again;
# afterwards it answers the challenge it kept for the URL up front, and a 401 to that once more
# (stale=true or not: the gem has no notion of it).
#
# Usage: ruby_client.rb SPEC, SPEC being JSON:
#   { "user": "...", "password": "...", "nextNonceFirst": false,
#     "proxy": { "host": "127.0.0.1", "port": PORT, "user": "...", "password": "..." },
#     "requests": [ { "method": "GET" | "POST", "url": "...", "form": { ... },
#                     "auth": "basic" | "digest" | "none", "bearer": "TOKEN" | "@token" } ] }
# "nextNonceFirst" calls DigestAuth#next_nonce once before the first answer, the upstream
# workaround for its first nc=00000000. "@token" is the access_token of the previous response.
# "proxy" sends the requests through a forward proxy, with Net::HTTP's proxy user and password.
#
# Prints one JSON line: {"responses": [{"status", "body", "exchanges": [{"status",
# "authorization", "proxyAuthorization", "challenges", "proxyChallenges"}, ...], "error"}, ...]},
# exchanges oldest first; "error" is the gem's exception (class: message) when it could not
# answer, the response then being the 401.
require 'cgi'
require 'json'
require 'net/http'
require 'net/http/digest_auth'
require 'uri'

spec = JSON.parse(ARGV[0])
proxy = spec['proxy']
digest_auth = Net::HTTP::DigestAuth.new
digest_auth.next_nonce if spec['nextNonceFirst']
# The last Digest challenge per URL, answered up front next time.
challenges = {}
token = nil

# A header field's octets, one character each (the view Node has of a field): JSON needs UTF-8.
def latin1_view(text)
  text&.b&.force_encoding('ISO-8859-1')&.encode('UTF-8')
end

def with_user(url, user, password)
  uri = URI.parse(url)
  return uri if user.nil?

  # DigestAuth takes the credentials from the URI, percent-decoding them (CGI.unescape).
  uri.user = CGI.escape(user)
  uri.password = CGI.escape(password)
  uri
end

responses = spec['requests'].map do |step|
  uri = with_user(step['url'], spec['user'], spec['password'])
  build = lambda do |authorization|
    request = step['method'] == 'POST' ? Net::HTTP::Post.new(uri.request_uri) : Net::HTTP::Get.new(uri.request_uri)
    request.set_form_data(step['form']) if step['form']
    case step['auth']
    when 'basic' then request.basic_auth(spec['user'], spec['password'])
    when 'digest' then request['Authorization'] = authorization if authorization
    end
    if step['bearer']
      request['Authorization'] = "Bearer #{step['bearer'] == '@token' ? token : step['bearer']}"
    end
    request
  end
  exchanges = []
  error = nil
  transmit = lambda do |request|
    # No proxy from the environment (nil); the spec's, with Basic up front, when given.
    through = proxy ? [proxy['host'], proxy['port'], proxy['user'], proxy['password']] : [nil]
    response = Net::HTTP.start(uri.host, uri.port, *through) { |http| http.request(request) }
    exchanges << {
      status: response.code.to_i,
      authorization: latin1_view(request['Authorization']),
      proxyAuthorization: latin1_view(request['Proxy-Authorization']),
      challenges: (response.get_fields('WWW-Authenticate') || []).map { |line| latin1_view(line) },
      proxyChallenges: (response.get_fields('Proxy-Authenticate') || []).map { |line| latin1_view(line) }
    }
    response
  end
  answer = lambda do
    digest_auth.auth_header(uri, challenges[step['url']], step['method'])
  rescue Net::HTTP::DigestAuth::Error => e
    error = "#{e.class}: #{e.message}"
    nil
  end
  digest = step['auth'] == 'digest'
  response = transmit.call(build.call(digest && challenges[step['url']] ? answer.call : nil))
  if digest && response.code == '401' && error.nil? && response['WWW-Authenticate'] =~ /\ADigest /i
    # Net::HTTP joins the lines of a repeated field with ", ", as the gem expects.
    challenges[step['url']] = response['WWW-Authenticate']
    authorization = answer.call
    response = transmit.call(build.call(authorization)) if authorization
  end
  body = response.body.to_s.dup.force_encoding('UTF-8')
  begin
    parsed = JSON.parse(body)
    token = parsed['access_token'] if parsed.is_a?(Hash) && parsed['access_token']
  rescue JSON::ParserError
    nil
  end
  { status: response.code.to_i, body: body, exchanges: exchanges, error: error }
end
puts JSON.generate({ responses: responses })
