#!/bin/sh
# Seeds the fuzz corpora with the configuration test corpus.
set -e
cd "$(dirname "$0")"
mkdir -p seeds/xml seeds/yaml
cp ../tests/configs/valid/*.xml ../tests/configs/invalid/*.xml seeds/xml/ 2>/dev/null || true
cp ../tests/configs/valid/*.yaml ../tests/configs/invalid/*.yaml seeds/yaml/ 2>/dev/null || true
