#!/bin/bash
# Generates the test PKI with the openssl CLI into DIR (default: a new temp dir, printed):
#   ca.pem                  the test CA ("greekwire test CA")
#   server.pem/.key         localhost, 127.0.0.1, ::1          (signed by ca)
#   other.pem/.key          other.test, *.wild.test             (signed by ca; for SNI)
#   client.pem/.key         CN=alice,O=Desk 1, email alice@example.com (clientAuth, by ca)
#   rogue-ca.pem            another CA
#   rogue-server.pem/.key   localhost, 127.0.0.1                (signed by rogue-ca)
#   rogue-client.pem/.key   CN=mallory                          (signed by rogue-ca)
# EC P-256 keys: fast to generate and to handshake.
set -euo pipefail
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() {  # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "$2" -days 30 -sha256 -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

leaf() {  # name ca subject extensions
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$3" -out "$1.csr"
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 \
    -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext="subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
client_ext="subjectAltName=email:alice@example.com,URI:greekwire://account/alice
extendedKeyUsage=clientAuth"

ca ca "/CN=greekwire test CA"
leaf server ca "/CN=localhost" "$server_ext"
leaf other ca "/CN=other.test" "subjectAltName=DNS:other.test,DNS:*.wild.test
extendedKeyUsage=serverAuth"
leaf client ca "/O=Desk 1/CN=alice" "$client_ext"
ca rogue-ca "/CN=rogue CA"
leaf rogue-server rogue-ca "/CN=localhost" "$server_ext"
leaf rogue-client rogue-ca "/CN=mallory" "subjectAltName=email:mallory@example.com
extendedKeyUsage=clientAuth"
echo "$dir"
