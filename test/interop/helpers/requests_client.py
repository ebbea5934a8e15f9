"""Fetches a URL twice in one session with Python's requests and its stock auth classes.

Usage: requests_client.py MODE URL USER PASSWORD [PROXY_URL ORIGIN_USER ORIGIN_PASSWORD]
MODE is basic (HTTPBasicAuth), digest (HTTPDigestAuth) or proxy-basic (the proxy's USER and
PASSWORD in the proxy URL, HTTPBasicAuth for the origin with ORIGIN_USER and ORIGIN_PASSWORD).
Prints one JSON line: {"responses": [{"status", "body", "authorization", "after401"}, ...]} or
{"error": "..."}; "authorization" is the Authorization field of the request that got the response.
"""
import json
import sys
from urllib.parse import quote, urlsplit

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth


def main() -> None:
    mode, url, user, password = sys.argv[1:5]
    session = requests.Session()
    session.trust_env = False  # no proxy, netrc or CA bundle from the environment
    if mode == "basic":
        session.auth = HTTPBasicAuth(user, password)
    elif mode == "digest":
        session.auth = HTTPDigestAuth(user, password)
    elif mode == "proxy-basic":
        proxy = urlsplit(sys.argv[5])
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        session.proxies = {"http": f"http://{credentials}@{proxy.netloc}"}
        session.auth = HTTPBasicAuth(sys.argv[6], sys.argv[7])
    else:
        raise SystemExit(f"unknown mode {mode}")
    responses = []
    try:
        for _ in range(2):
            response = session.get(url, timeout=10)
            responses.append(
                {
                    "status": response.status_code,
                    "body": response.text,
                    "authorization": response.request.headers.get("Authorization"),
                    "after401": any(r.status_code == 401 for r in response.history),
                }
            )
        print(json.dumps({"responses": responses}))
    except Exception as error:  # the point is to record how the client fails
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    main()
