"""Fetches URLs with Python's requests and requests-kerberos's HTTPKerberosAuth (Negotiate).

Usage: requests_kerberos_client.py MUTUAL [--preemptive] URL...
MUTUAL is required, optional or disabled (HTTPKerberosAuth's mutual_authentication);
--preemptive sets force_preemptive (a token on the first request, before any 401).
A URL written "POST <url>" is posted to (a small form body) instead of fetched; redirects are
followed either way, as requests does by default.
The ticket comes from the environment (KRB5CCNAME, KRB5_CONFIG), as for any GSSAPI program.

Each URL gets a session of its own with a fresh HTTPKerberosAuth, so that each response is checked
as a first one (after one success, HTTPKerberosAuth checks no later response of its session).
Prints one JSON line per URL: {"url", "status", "body", "type", "authorization", "challenge",
"history"} or {"url", "error"}: "type" is the class of the response handed back (SanitizedResponse
when requests-kerberos emptied an error answer it could not authenticate), "authorization" the
Authorization field of the request that got it, "challenge" its WWW-Authenticate (as requests joins
the lines) and "history" the statuses of the responses before it.
"""
import json
import sys

import requests
from requests_kerberos import DISABLED, OPTIONAL, REQUIRED, HTTPKerberosAuth

MUTUAL = {"required": REQUIRED, "optional": OPTIONAL, "disabled": DISABLED}


def main() -> None:
    mutual = MUTUAL[sys.argv[1]]
    urls = sys.argv[2:]
    preemptive = bool(urls) and urls[0] == "--preemptive"
    if preemptive:
        urls = urls[1:]
    for url in urls:
        session = requests.Session()
        session.trust_env = False  # no proxy, netrc or CA bundle from the environment
        session.auth = HTTPKerberosAuth(mutual_authentication=mutual, force_preemptive=preemptive)
        try:
            if url.startswith("POST "):
                url = url[len("POST ") :]
                response = session.post(url, data={"field": "value"}, timeout=10)
            else:
                response = session.get(url, timeout=10)
            line = {
                "url": url,
                "status": response.status_code,
                "body": response.text,
                "type": type(response).__name__,
                "authorization": response.request.headers.get("Authorization"),
                "challenge": response.headers.get("WWW-Authenticate"),
                "history": [r.status_code for r in response.history],
            }
        except Exception as error:  # the point is to record how the client fails
            line = {"url": url, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
