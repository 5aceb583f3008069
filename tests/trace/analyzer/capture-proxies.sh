#!/bin/sh
# capture-proxies.sh DIR: runs curl through squid and through tinyproxy on the
# loopback of the current network namespace (run it under `unshare -n`, so the
# capture holds only this traffic) and writes DIR/trace.pcap and DIR/keys.log.
# With nghttpd installed, curl also fetches over HTTP/2 (TLS, ALPN h2) through
# each proxy's CONNECT tunnel, and DIR/h2 says so.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
D=$1
cd "$D"
ip link set lo up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
  -out cert.pem -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
mkdir -p www
echo "hello from the origin" > www/index.html
pids=""
cleanup () {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
python3 -m http.server 18080 --bind 127.0.0.1 --directory www >origin.log 2>&1 &
pids="$pids $!"
openssl s_server -accept 18443 -cert cert.pem -key key.pem -www -quiet >tls-origin.log 2>&1 &
pids="$pids $!"
listeners=4
if command -v nghttpd >/dev/null 2>&1; then
  nghttpd -a 127.0.0.1 -d www 18444 key.pem cert.pem >h2-origin.log 2>&1 &
  pids="$pids $!"
  listeners=5
  : > h2
fi
cat > squid.conf <<EOC
http_port 127.0.0.1:13128
http_access allow all
dns_nameservers 127.0.0.1
pinger_enable off
shutdown_lifetime 1 seconds
cache deny all
access_log none
cache_log $D/squid-cache.log
pid_filename $D/squid.pid
coredump_dir $D
EOC
squid -N -f squid.conf >squid.out 2>&1 &
pids="$pids $!"
cat > tinyproxy.conf <<EOC
Port 18888
Listen 127.0.0.1
Allow 127.0.0.1
LogLevel Error
MaxClients 10
EOC
tinyproxy -d -c tinyproxy.conf >tinyproxy.out 2>&1 &
pids="$pids $!"
# Wait for the listeners.
for i in $(seq 1 50); do
  n=$(ss -ltn 2>/dev/null | grep -c -E ':(18080|18443|18444|13128|18888) ' || true)
  [ "$n" -ge "$listeners" ] && break
  sleep 0.1
done
tcpdump -i lo -s 65535 -B 16384 --immediate-mode -U -w trace.pcap tcp >tcpdump.log 2>&1 &
dump=$!
for i in $(seq 1 50); do
  grep -q listening tcpdump.log && break
  sleep 0.1
done
export SSLKEYLOGFILE="$D/keys.log"
for proxy in http://127.0.0.1:13128 http://127.0.0.1:18888; do
  curl -sS --max-time 10 -x "$proxy" http://127.0.0.1:18080/index.html -o /dev/null
  curl -sS --max-time 10 -x "$proxy" --cacert cert.pem https://localhost:18443/ -o /dev/null
  if [ -e h2 ]; then
    curl -sS --max-time 10 --http2 -x "$proxy" --cacert cert.pem \
      https://localhost:18444/index.html -o /dev/null
  fi
done
sleep 0.5
kill "$dump"
wait "$dump" || true
