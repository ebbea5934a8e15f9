"""Makes a session of requests with Python's httpx (Debian's python3-httpx) and its stock auth.

One httpx.Client for the whole session, with httpx.BasicAuth or httpx.DigestAuth as its auth (the
same object for every request, so DigestAuth answers later requests up front on the challenge it
kept), Bearer as a plain header, and the proxy's credentials in the proxy URL.

Usage: httpx_client.py SPEC, SPEC being JSON:
  { "user": "...", "password": "...", "auth": "basic" | "digest" | "none",
    "proxy": "http://USER:PASSWORD@127.0.0.1:PORT",
    "requests": [ { "method": "GET" | "POST", "url": "...", "form": { ... },
                    "bearer": "TOKEN" | "@token" } ] }
A step with "bearer" is sent without the client's auth (httpx would overwrite the field), with
`Authorization: Bearer TOKEN`; "@token" is the access_token of the previous response.

Prints one JSON line: {"responses": [{"status", "body", "exchanges": [{"status",
"authorization", "proxyAuthorization", "challenges", "proxyChallenges"}, ...], "error"}, ...]},
exchanges oldest first (every request httpx sent for the step, seen through its event hooks),
fields one octet a character; "error" is the exception httpx raised (class: message), the
response then being absent (status 0) and the step's exchanges those sent before it.
"""
import json
import sys

import httpx


def octets(value: bytes) -> str:
    """A header field's octets, one character each (the view Node has of a field)."""
    return value.decode("latin-1")


def fields(headers: httpx.Headers, name: str) -> list:
    return [octets(value) for key, value in headers.raw if key.lower() == name]


def first_field(headers: httpx.Headers, name: str):
    found = fields(headers, name)
    return found[0] if found else None


def main() -> None:
    spec = json.loads(sys.argv[1])
    mode = spec.get("auth", "none")
    if mode == "basic":
        auth = httpx.BasicAuth(spec["user"], spec["password"])
    elif mode == "digest":
        auth = httpx.DigestAuth(spec["user"], spec["password"])
    elif mode == "none":
        auth = None
    else:
        raise SystemExit(f"unknown auth {mode}")

    exchanges: list = []

    def on_request(request: httpx.Request) -> None:
        exchanges.append(
            {
                "status": 0,
                "authorization": first_field(request.headers, b"authorization"),
                "proxyAuthorization": first_field(request.headers, b"proxy-authorization"),
                "challenges": [],
                "proxyChallenges": [],
            }
        )

    def on_response(response: httpx.Response) -> None:
        exchange = exchanges[-1]
        exchange["status"] = response.status_code
        exchange["challenges"] = fields(response.headers, b"www-authenticate")
        exchange["proxyChallenges"] = fields(response.headers, b"proxy-authenticate")

    client = httpx.Client(
        auth=auth,
        proxies=spec.get("proxy"),
        trust_env=False,  # no proxy, netrc or CA bundle from the environment
        timeout=10,
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    responses = []
    token = None
    with client:
        for step in spec["requests"]:
            exchanges = []
            headers = {}
            options: dict = {}
            if "bearer" in step:
                bearer = token if step["bearer"] == "@token" else step["bearer"]
                headers["Authorization"] = f"Bearer {bearer}"
                options["auth"] = None
            if "form" in step:
                options["data"] = step["form"]
            try:
                response = client.request(step["method"], step["url"], headers=headers, **options)
            except Exception as error:  # the point is to record how the client fails
                responses.append(
                    {
                        "status": 0,
                        "body": "",
                        "exchanges": exchanges,
                        "error": f"{type(error).__name__}: {error}",
                    }
                )
                continue
            try:
                parsed = response.json()
                if isinstance(parsed, dict) and "access_token" in parsed:
                    token = parsed["access_token"]
            except ValueError:
                pass
            responses.append(
                {
                    "status": response.status_code,
                    "body": response.text,
                    "exchanges": exchanges,
                    "error": None,
                }
            )
    print(json.dumps({"responses": responses}))


if __name__ == "__main__":
    main()
