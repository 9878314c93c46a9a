#!/usr/bin/env bash
# Makes the certificates of examples/secure-cluster in the current directory: a cluster CA
# (ca.pem) and, for server1 and server2, a certificate CN=serverN,OU=terracotta,O=SAG for
# 127.0.0.1, usable both to serve and to connect to another server (serverN.pem, serverN.key).
set -euo pipefail
command -v openssl >/dev/null || { echo "openssl is missing: apt-get install openssl" >&2; exit 2; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 365 -subj "/CN=Cluster CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
for s in server1 server2; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$s.key" -out "$s.csr" \
        -subj "/O=SAG/OU=terracotta/CN=$s" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$s.ext"
    openssl x509 -req -in "$s.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$s.pem" \
        -days 365 -extfile "$s.ext" 2>/dev/null
    chmod 600 "$s.key"
    rm -f "$s.csr" "$s.ext"
done
chmod 600 ca.key
echo "made ca.pem, server1.pem/.key, server2.pem/.key"
