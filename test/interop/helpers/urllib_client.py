"""Fetches a URL with Python's urllib.request and its stock authentication handlers.

Usage: urllib_client.py HANDLER URL USER PASSWORD [PROXY_URL ORIGIN_USER ORIGIN_PASSWORD]
HANDLER is one of basic, digest, proxy-basic, proxy-digest; with a proxy, USER and PASSWORD are the
proxy's and an HTTPBasicAuthHandler answers the origin with ORIGIN_USER and ORIGIN_PASSWORD. Prints one JSON line:
{"status": 200, "body": "..."} or {"status": 401, ...} or {"error": "ValueError: ..."}.
With URLLIB_REALM set, the credentials are the ones for that realm only (HTTPPasswordMgr), not for
any realm.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def main() -> None:
    handler_name, url, user, password = sys.argv[1:5]
    proxy = sys.argv[5] if len(sys.argv) > 5 else None
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    handlers = []
    if proxy is None:
        passwords.add_password(os.environ.get("URLLIB_REALM"), url, user, password)
        # No proxy from the environment.
        handlers.append(urllib.request.ProxyHandler({}))
    else:
        passwords.add_password(None, proxy, user, password)
        handlers.append(urllib.request.ProxyHandler({"http": proxy}))
        origin_passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        origin_passwords.add_password(None, url, sys.argv[6], sys.argv[7])
        handlers.append(urllib.request.HTTPBasicAuthHandler(origin_passwords))
    handler_class = {
        "basic": urllib.request.HTTPBasicAuthHandler,
        "digest": urllib.request.HTTPDigestAuthHandler,
        "proxy-basic": urllib.request.ProxyBasicAuthHandler,
        "proxy-digest": urllib.request.ProxyDigestAuthHandler,
    }[handler_name]
    handlers.append(handler_class(passwords))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=10) as response:
            print(json.dumps({"status": response.status, "body": response.read().decode("utf-8")}))
    except urllib.error.HTTPError as error:
        print(json.dumps({"status": error.code, "body": error.read().decode("utf-8", "replace")}))
    except Exception as error:  # the point is to record how the client fails
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    main()
