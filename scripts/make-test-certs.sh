#!/bin/sh
# Makes throw-away TLS material for tests in DIR:
#   ca.pem                 a test CA
#   server.pem/server.key  signed by it, SAN IP:127.0.0.1, DNS:localhost
#   wrong.pem/wrong.key    signed by it, SAN DNS:wrong.example only (hostname-mismatch tests)
set -eu
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=smbvol test CA" \
    -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null

issue() { # name, subject CN, SAN
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
        "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
issue server localhost "IP:127.0.0.1,DNS:localhost"
issue wrong wrong.example "DNS:wrong.example"
rm -f ca.srl
chmod 644 ca.pem server.pem wrong.pem
