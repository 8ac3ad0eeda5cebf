#!/usr/bin/env bash
# Regenerates the admin API's types and server stubs from Sources/PorticoAdmin/openapi.yaml.
# The output is committed (Sources/PorticoAdmin/Generated/), so a build needs only the runtime;
# run this after changing openapi.yaml. The generator is built once into /tmp/portico-openapi-generator.
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
target=Sources/PorticoAdmin
"$generator" generate "$target/openapi.yaml" --config "$target/openapi-generator-config.yaml" --output-directory "$target/Generated"
echo "generated $(ls "$target/Generated" | tr '\n' ' ')"
