#!/usr/bin/env bash
# Fetch the local Kafka runtime's jars from Maven Central (idempotent).
#
#   scripts/install_kafka_deps.sh [--force]
#
# Installs a JDK and Maven with apt-get when `java` or `mvn` is missing (needs root,
# as on a fresh Debian 12 machine), then resolves connectors/kafka/pom.xml into
#   $RUSTOK_KAFKA_HOME (default ~/.cache/rustok/kafka/3.9.1-debezium-3.2.7)
#     lib/                          Kafka broker + Kafka Connect + logging backend
#     plugins/debezium-postgres/    the Debezium PostgreSQL connector plugin
# and writes a marker holding the pom's checksum. A later run with the same pom and a
# marker in place does nothing and prints nothing, so it is safe offline.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$here/../connectors/kafka/pom.xml"
home="${RUSTOK_KAFKA_HOME:-$HOME/.cache/rustok/kafka/3.9.1-debezium-3.2.7}"
marker="$home/.complete"
force=0
[[ "${1:-}" == "--force" ]] && force=1

checksum="$(sha256sum "$pom" | cut -d' ' -f1)"
if [[ $force -eq 0 && -f "$marker" && "$(cat "$marker")" == "$checksum" ]]; then
    exit 0
fi

say() { echo "install_kafka_deps: $*" >&2; }

ensure_tools() {
    local packages=()
    command -v java >/dev/null 2>&1 || packages+=(jdk)
    command -v mvn >/dev/null 2>&1 || packages+=(maven)
    [[ ${#packages[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        say "java or mvn is missing and only root can apt-get install them; install a JDK 17 and maven, then re-run"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if [[ "${packages[0]}" == jdk ]]; then
        # Debian 12 ships openjdk-17; elsewhere take the distribution's default JDK.
        if apt-cache show openjdk-17-jdk-headless >/dev/null 2>&1; then
            packages[0]=openjdk-17-jdk-headless
        else
            packages[0]=default-jdk-headless
        fi
    fi
    say "installing ${packages[*]} with apt-get"
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}
ensure_tools

say "resolving Kafka and Debezium jars into $home (first run downloads ~65 MB)"
rm -rf "$home/lib" "$home/plugins" "$marker"
mkdir -p "$home"
resolve() {
    local profile="$1" out="$2" log
    log="$(mktemp)"
    if ! mvn -B -q -Dstyle.color=never -f "$pom" -P "$profile" \
        dependency:copy-dependencies -Drustok.kafka.out="$out" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        say "mvn failed for profile $profile"
        exit 1
    fi
    rm -f "$log"
}
resolve kafka "$home/lib"
resolve debezium "$home/plugins/debezium-postgres"
echo "$checksum" >"$marker"
say "done: $(ls "$home/lib" | wc -l) jars in lib/, $(ls "$home/plugins/debezium-postgres" | wc -l) in plugins/debezium-postgres/"
