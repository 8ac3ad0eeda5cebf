#!/usr/bin/env bash
# Regenerates the types and server stubs of the APIs Portico serves from their own documents:
# the admin API (Sources/PorticoAdmin/openapi.yaml) and the portal's (Sources/PorticoDevPortal/openapi.yaml).
# The output is committed (each target's Generated/), so a build needs only the runtime;
# run this after changing an openapi.yaml. The generator is built once into /tmp/portico-openapi-generator.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${PORTICO_GENERATOR_DIR:-/tmp/portico-openapi-generator}
generator="$tools/.build/release/swift-openapi-generator"
if [ ! -x "$generator" ]; then
    mkdir -p "$tools"
    cat > "$tools/Package.swift" <<'SWIFT'
// swift-tools-version:5.9
import PackageDescription
let package = Package(
    name: "generator", dependencies: [.package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3")], targets: [])
SWIFT
    swift build -c release --package-path "$tools" --product swift-openapi-generator
fi
for target in Sources/PorticoAdmin Sources/PorticoDevPortal; do
    "$generator" generate "$target/openapi.yaml" --config "$target/openapi-generator-config.yaml" \
        --output-directory "$target/Generated"
    echo "generated $target: $(ls "$target/Generated" | tr '\n' ' ')"
done
