#!/bin/sh
# Regenerates vectors.jsonl from JaasVectors.java (needs JDK 17: javac, java).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
javac -d "$tmp" JaasVectors.java
java -cp "$tmp" JaasVectors > vectors.jsonl
wc -l < vectors.jsonl
