#!/usr/bin/env bash
# Installs the system tools the test suites and the benchmark drive (the interop clients, Chromium,
# Firefox ESR, JDK 17, Perl's LWP, Ruby, Apache's password tools, redis-server, wrk) when they are
# missing. Idempotent, and a no-op in well under a second when everything is present, so `npm test`
# can run it every time.
#
# Runs as root on a fresh Debian 12 machine. Without root it only checks, and fails (saying what is
# missing) only when something is actually missing.
#
# It starts no long-running service. Services for later suites (Redis, a Kerberos KDC) belong in
# the "Services" section at the end: a test starts and stops its own instance by PID, so this
# script only makes sure the binaries exist.
set -euo pipefail

# command (or file) that proves it is installed -> Debian package that provides it
declare -A wanted=(
  [curl]=curl
  [wget]=wget
  # The text browser (test/interop/w3m.test.ts).
  [w3m]=w3m
  [python3]=python3
  [chromium]=chromium
  # Debian's Firefox ESR, driven over WebDriver BiDi by puppeteer-core (test/interop/firefox.test.ts).
  [firefox-esr]=firefox-esr
  [htpasswd]=apache2-utils
  [htdigest]=apache2-utils
  # The benchmark's load generator (npm run bench).
  [wrk]=wrk
)
# Chromium renders screenshots with whatever fonts exist; without any, text is boxes.
font_file=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

missing=()
for command_name in "${!wanted[@]}"; do
  command -v "$command_name" >/dev/null 2>&1 || missing+=("${wanted[$command_name]}")
done
[ -e "$font_file" ] || missing+=(fonts-dejavu-core)

# --- Services -----------------------------------------------------------------------------------
# Tests start their own instances on 127.0.0.1 and stop them by PID: only the binaries are needed.
# Redis 7 (test/adapters/redis*.test.ts):
wanted[redis-server]=redis-server
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Kerberos (test/adapters/negotiate*.test.ts): a KDC, kadmin.local, kinit/kdestroy, and the GSSAPI
# headers the `kerberos` npm addon compiles against at `npm ci` time, so this script must run before
# `npm ci` (the README's test command does).
wanted[krb5kdc]=krb5-kdc
wanted[kadmin.local]=krb5-admin-server
wanted[kinit]=krb5-user
wanted[krb5-config]=libkrb5-dev
for command_name in krb5kdc kadmin.local kinit krb5-config; do
  command -v "$command_name" >/dev/null 2>&1 || missing+=("${wanted[$command_name]}")
done
gssapi_header=/usr/include/gssapi/gssapi.h
[ -e "$gssapi_header" ] || missing+=(libkrb5-dev)
# Anonymous PKINIT in the test KDC (test/helpers/kdc.ts, for test/adapters/negotiate.test.ts):
# MIT's PKINIT plugin, which krb5kdc and `kinit -n` load, and openssl for the KDC's certificates
# (openssl also makes the TLS certificate of the HTTP/2 tests, test/helpers/tls.ts).
wanted[openssl]=openssl
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
pkinit_plugin='/usr/lib/*/krb5/plugins/preauth/pkinit.so'
compgen -G "$pkinit_plugin" >/dev/null || missing+=(krb5-pkinit)
# Apache httpd, a server nobody here wrote, for authscheme/client (test/interop/client-apache*).
apache_binary=/usr/sbin/apache2
[ -e "$apache_binary" ] || missing+=(apache2)
# lighttpd, a second one, with RFC 7616's SHA-256, SHA-512-256 and userhash
# (test/interop/client-lighttpd.test.ts).
lighttpd_binary=/usr/sbin/lighttpd
[ -e "$lighttpd_binary" ] || missing+=(lighttpd)
# nginx, a reverse proxy nobody here wrote, for Digest behind forward authentication (auth_request;
# test/interop/forward-auth-nginx.test.ts).
nginx_binary=/usr/sbin/nginx
[ -e "$nginx_binary" ] || missing+=(nginx)
# Caddy 2.6, another, for the same behind its forward_auth
# (test/interop/forward-auth-caddy.test.ts).
caddy_binary=/usr/bin/caddy
[ -e "$caddy_binary" ] || missing+=(caddy)
# Python's requests for Debian's own python3 (test/interop/python-requests.test.ts), whatever
# other python3 comes first on PATH.
requests_module=/usr/lib/python3/dist-packages/requests/__init__.py
[ -e "$requests_module" ] || missing+=(python3-requests)
# requests-kerberos for the same python3 (test/adapters/negotiate.test.ts), with pykerberos under it.
requests_kerberos_module=/usr/lib/python3/dist-packages/requests_kerberos/__init__.py
[ -e "$requests_kerberos_module" ] || missing+=(python3-requests-kerberos)
# Python's websockets, likewise for Debian's python3 (test/interop/websocket.test.ts).
websockets_module=/usr/lib/python3/dist-packages/websockets/__init__.py
[ -e "$websockets_module" ] || missing+=(python3-websockets)
# Python's httpx, likewise for Debian's python3 (test/interop/python-httpx.test.ts).
httpx_module=/usr/lib/python3/dist-packages/httpx/__init__.py
[ -e "$httpx_module" ] || missing+=(python3-httpx)
# Perl's LWP::UserAgent for Debian's perl (test/interop/perl-lwp.test.ts).
lwp_module=/usr/share/perl5/LWP/UserAgent.pm
[ -e "$lwp_module" ] || missing+=(libwww-perl)
# Ruby's Net::HTTP::DigestAuth for Debian's ruby, and that ruby by its path, whatever other ruby
# comes first on PATH (test/interop/ruby.test.ts).
ruby_binary=/usr/bin/ruby
[ -e "$ruby_binary" ] || missing+=(ruby)
ruby_digest_module=/usr/lib/ruby/vendor_ruby/net/http/digest_auth.rb
[ -e "$ruby_digest_module" ] || missing+=(ruby-net-http-digest-auth)
required_files=("$font_file" "$gssapi_header" "$apache_binary" "$lighttpd_binary" "$nginx_binary"
  "$caddy_binary" "$requests_module" "$requests_kerberos_module" "$websockets_module"
  "$httpx_module" "$lwp_module" "$ruby_binary" "$ruby_digest_module")
# Checked as globs (the library directory is multiarch).
# Java's HttpURLConnection (test/interop/java-httpurlconnection.test.ts, proxy-connect): Debian's
# JDK 17 by its path, whatever other JDK is on PATH (the tests record JDK 17's behaviour; 25's
# differs), and the JDK, not only the runtime: the tests compile their client with javac.
jdk17_javac='/usr/lib/jvm/java-17-openjdk-*/bin/javac'
compgen -G "$jdk17_javac" >/dev/null || missing+=(openjdk-17-jdk-headless)
required_globs=("$pkinit_plugin" "$jdk17_javac")
# -----------------------------------------------------------------------------------------------

# `--install-only`: just what `npm ci` itself needs (the headers the kerberos addon compiles
# against), e.g. before `npm ci && npm start` on a machine that will not run the test suite.
if [ "${1:-}" = "--install-only" ]; then
  wanted=([krb5-config]=libkrb5-dev)
  required_files=("$gssapi_header")
  required_globs=()
  missing=()
  command -v krb5-config >/dev/null 2>&1 && [ -e "$gssapi_header" ] || missing+=(libkrb5-dev)
elif [ "$#" -ne 0 ]; then
  echo "usage: bash scripts/provision.sh [--install-only]" >&2
  exit 2
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

# Deduplicate (apache2-utils provides two commands) and keep the order stable.
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  echo "provision: missing packages: ${packages[*]}" >&2
  echo "provision: run as root (sudo bash scripts/provision.sh) to install them" >&2
  exit 1
fi

echo "provision: installing ${packages[*]}" >&2
apt-get update -q
# No package may start its service (Apache, lighttpd, nginx or Caddy would take port 80):
# policy-rc.d answers "not now".
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
  trap 'rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
if [ "$own_policy" = true ]; then
  rm -f "$policy"
  trap - EXIT
fi

# Debian starts the packaged Redis as a system service where systemd runs; the tests need none.
if [[ " ${packages[*]} " == *" redis-server "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now redis-server.service >/dev/null 2>&1 || true
fi
# Likewise the packaged KDC and kadmind (they have no realm to serve anyway).
if [[ " ${packages[*]} " == *" krb5-"* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now krb5-kdc.service krb5-admin-server.service >/dev/null 2>&1 || true
fi

# Apache's, lighttpd's, nginx's and Caddy's packages enable their services for the next boot all
# the same (only the start now was refused): where systemd runs, they would take port 80 then.
for server in apache2 lighttpd nginx caddy; do
  if [[ " ${packages[*]} " == *" $server "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable "$server.service" >/dev/null 2>&1 || true
  fi
done

# Fail loudly if a package did not provide what we check for.
for command_name in "${!wanted[@]}"; do
  command -v "$command_name" >/dev/null 2>&1 || {
    echo "provision: $command_name still missing after install" >&2
    exit 1
  }
done
for file in "${required_files[@]}"; do
  [ -e "$file" ] || {
    echo "provision: $file still missing after install" >&2
    exit 1
  }
done
for glob in "${required_globs[@]}"; do
  compgen -G "$glob" >/dev/null || {
    echo "provision: $glob still missing after install" >&2
    exit 1
  }
done
echo "provision: done" >&2
