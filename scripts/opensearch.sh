#!/usr/bin/env bash
# A local OpenSearch cluster on 127.0.0.1 for newsfacet's OpenSearch backend, its tests and its bench.
#
#   scripts/opensearch.sh start [N]     start nodes 0..N-1 (default 1) that are not running, wait for the
#                                       cluster, print its URL as the last line (stdout; progress on stderr)
#   scripts/opensearch.sh stop [--wipe] stop every node (--wipe: also delete their data)
#   scripts/opensearch.sh stop-node I   stop node I only (failover tests); `start N` brings it back
#   scripts/opensearch.sh status        one line per node, and the cluster's health
#   scripts/opensearch.sh deps          install what it needs when missing (Java 17, Maven, curl, unzip:
#                                       Debian packages, as root) and fetch the distribution into ~/.m2
#
# OpenSearch 2.19 comes from Maven Central (scripts/opensearch/pom.xml), cached in ~/.m2: its
# integration-test zip plus the analysis-common and lang-painless modules, laid out as the full
# distribution lays them out. OpenSearch refuses to run as root, so as root the nodes run as an
# unprivileged user (NEWSFACET_OPENSEARCH_USER, created when missing) that owns the node folders.
# Loopback only: OpenSearch then runs its bootstrap checks in development mode (warnings, not errors),
# so vm.max_map_count and file limits need no change.
#
# Environment: NEWSFACET_OPENSEARCH_HOME (folder for node data; default /var/tmp/newsfacet-opensearch, every
# parent must be searchable by that user), NEWSFACET_OPENSEARCH_DIST (the unpacked distribution, shared by
# every cluster; default /var/tmp/newsfacet-opensearch-dist), NEWSFACET_OPENSEARCH_PORT
# (HTTP port of node 0, node i gets +i; transport ports start 100 above; default 9200),
# NEWSFACET_OPENSEARCH_HEAP (per node, default 512m), NEWSFACET_OPENSEARCH_TIMEOUT (seconds to wait for
# the cluster, default 180), JAVA_HOME (else the `java` on PATH).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/opensearch/pom.xml"
HOME_DIR="${NEWSFACET_OPENSEARCH_HOME:-/var/tmp/newsfacet-opensearch}"
PORT="${NEWSFACET_OPENSEARCH_PORT:-9200}"
HEAP="${NEWSFACET_OPENSEARCH_HEAP:-512m}"
TIMEOUT="${NEWSFACET_OPENSEARCH_TIMEOUT:-180}"
RUN_USER="${NEWSFACET_OPENSEARCH_USER:-newsfacet-os}"
VERSION="$(sed -n 's:.*<opensearch.version>\(.*\)</opensearch.version>.*:\1:p' "$POM")"
DIST_ROOT="${NEWSFACET_OPENSEARCH_DIST:-/var/tmp/newsfacet-opensearch-dist}"
DIST="$DIST_ROOT/opensearch-$VERSION"
URL="http://127.0.0.1:$PORT"

say() { echo "opensearch.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

as_user() {
    # Run a command as the node user (as root), or as ourselves otherwise.
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

node_dir() { echo "$HOME_DIR/node$1"; }

node_pid() {
    # The pid of node $1 when its process is alive and is an OpenSearch JVM, else nothing.
    local pidfile pid
    pidfile="$(node_dir "$1")/pid"
    [ -s "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'org.opensearch.bootstrap.OpenSearch'; then
        echo "$pid"
    fi
}

log_tail() {
    # The end of node $1's console output, where a failed start says why.
    local out
    out="$(node_dir "$1")/console.log"
    if [ -s "$out" ]; then
        echo "---- last lines of $out ----" >&2
        tail -n 40 "$out" >&2
        echo "----" >&2
    fi
}

java_home() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME"; return; fi
    local java
    java="$(command -v java || true)"
    [ -n "$java" ] || die "no Java found: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
    dirname "$(dirname "$(readlink -f "$java")")"
}

ensure_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    if ! id -u "$RUN_USER" >/dev/null 2>&1; then
        say "creating the unprivileged user $RUN_USER (OpenSearch refuses to run as root)"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_USER" || die "could not create user $RUN_USER"
    fi
}

ensure_dist() {
    # Resolve the artifacts through Maven (cached in ~/.m2) and lay out the distribution once.
    [ -f "$DIST/.complete" ] && return 0
    mkdir -p "$DIST_ROOT"
    chmod 755 "$DIST_ROOT"
    # One unpacking at a time, and never over a distribution that nodes may be running from.
    exec 8>"$DIST_ROOT/.lock"
    flock 8
    if [ -f "$DIST/.complete" ]; then exec 8>&-; return 0; fi
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch OpenSearch from Maven Central (Debian: apt-get install maven)"
    command -v unzip >/dev/null || die "unzip is needed (Debian: apt-get install unzip)"
    local work artifacts
    work="$(mktemp -d "$DIST_ROOT/.partial.XXXXXX")"
    artifacts="$work/artifacts"
    say "resolving OpenSearch $VERSION from Maven Central (cached in ~/.m2)"
    if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$artifacts" >"$work/mvn.log" 2>&1; then
        tail -n 30 "$work/mvn.log" >&2
        rm -rf "$work"
        die "could not download OpenSearch $VERSION with Maven (output above)"
    fi
    unzip -q "$artifacts/opensearch-$VERSION.zip" -d "$work" || { rm -rf "$work"; die "could not unpack opensearch-$VERSION.zip"; }
    local root="$work/opensearch-$VERSION"
    [ -x "$root/bin/opensearch" ] || { rm -rf "$work"; die "opensearch-$VERSION.zip holds no bin/opensearch"; }
    # The integration-test zip ships only the netty4 transport; add the two modules the mapping needs.
    mkdir -p "$root/modules/lang-painless" "$root/modules/analysis-common"
    cp "$artifacts"/lang-painless-*.jar "$artifacts"/opensearch-scripting-painless-spi-*.jar \
        "$artifacts"/antlr4-runtime-*.jar "$artifacts"/asm-*.jar "$root/modules/lang-painless/"
    cp "$artifacts"/analysis-common-*.jar "$root/modules/analysis-common/"
    write_descriptor "$root/modules/lang-painless" lang-painless org.opensearch.painless.PainlessPlugin \
        "An easy, safe and fast scripting language for OpenSearch" ""
    write_descriptor "$root/modules/analysis-common" analysis-common org.opensearch.analysis.common.CommonAnalysisPlugin \
        "Adds built-in analyzers to OpenSearch" lang-painless
    cat >"$root/modules/lang-painless/plugin-security.policy" <<'EOF'
grant {
  // painless compiles scripts into classes of its own loader
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
    rm -rf "$artifacts"
    chmod -R a+rX "$work"
    touch "$root/.complete"
    rm -rf "$DIST"
    mv "$root" "$DIST"
    rm -rf "$work"
    exec 8>&-
}

write_descriptor() {
    # plugin-descriptor.properties as OpenSearch's build writes it for a module.
    cat >"$1/plugin-descriptor.properties" <<EOF
description=$4
version=$VERSION
name=$2
classname=$3
java.version=11
opensearch.version=$VERSION
custom.foldername=
extended.plugins=$5
has.native.controller=false
EOF
}

recorded_size() { cat "$HOME_DIR/cluster-size" 2>/dev/null || true; }

write_node_config() {
    # Per-node config folder: opensearch.yml for this cluster size, the distribution's JVM options
    # with paths moved into the node folder and the heap set, and its log4j settings.
    local i="$1" n="$2" dir conf seeds="" managers="" j
    dir="$(node_dir "$i")"
    conf="$dir/config"
    mkdir -p "$conf" "$dir/data" "$dir/logs" "$dir/tmp"
    for ((j = 0; j < n; j++)); do
        seeds+="${seeds:+, }\"127.0.0.1:$((PORT + 100 + j))\""
        managers+="${managers:+, }\"nf-$j\""
    done
    {
        echo "cluster.name: newsfacet-$PORT"
        echo "node.name: nf-$i"
        echo "network.host: 127.0.0.1"
        echo "http.port: $((PORT + i))"
        echo "transport.port: $((PORT + 100 + i))"
        echo "path.data: $dir/data"
        echo "path.logs: $dir/logs"
        # A shared development disk may be nearly full; a test cluster must not turn read-only for it.
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        if [ "$n" -eq 1 ]; then
            echo "discovery.type: single-node"
        else
            echo "discovery.seed_hosts: [$seeds]"
            echo "cluster.initial_cluster_manager_nodes: [$managers]"
        fi
    } >"$conf/opensearch.yml"
    sed -e "s|^-Xms.*|-Xms$HEAP|" -e "s|^-Xmx.*|-Xmx$HEAP|" \
        -e "s|HeapDumpPath=data|HeapDumpPath=$dir/data|" \
        -e "s|ErrorFile=logs/|ErrorFile=$dir/logs/|" \
        -e "s|file=logs/gc.log|file=$dir/logs/gc.log|" \
        "$DIST/config/jvm.options" >"$conf/jvm.options"
    cp "$DIST/config/log4j2.properties" "$conf/"
    mkdir -p "$conf/jvm.options.d"
}

start_node() {
    # Launch node $1 of $2 in the background, detached from this shell; its JVM writes $dir/pid.
    local i="$1" n="$2" dir jhome
    dir="$(node_dir "$i")"
    write_node_config "$i" "$n"
    rm -f "$dir/pid"
    : >"$dir/console.log"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$RUN_USER:" "$dir"; fi
    jhome="$(java_home)"
    say "starting node nf-$i on 127.0.0.1:$((PORT + i)) (heap $HEAP, data $dir/data)"
    local runas=()
    [ "$(id -u)" -ne 0 ] || runas=(runuser -u "$RUN_USER" --)
    # 9>&-: the node must not inherit (and so hold) this script's lock.
    (exec 9>&- 8>&-; cd "$dir" && exec setsid "${runas[@]}" env -i PATH=/usr/bin:/bin HOME="$dir" LANG=C.UTF-8 \
        OPENSEARCH_JAVA_HOME="$jhome" OPENSEARCH_PATH_CONF="$dir/config" OPENSEARCH_TMPDIR="$dir/tmp" \
        "$DIST/bin/opensearch" -p "$dir/pid" >"$dir/console.log" 2>&1 </dev/null) &
    echo $! >"$dir/launcher.pid"
}

launcher_alive() { local p; p="$(cat "$(node_dir "$1")/launcher.pid" 2>/dev/null || true)"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

node_urls() {
    local j urls=""
    for ((j = 0; j < $1; j++)); do urls+="${urls:+,}http://127.0.0.1:$((PORT + j))"; done
    echo "$urls"
}

wait_for_cluster() {
    # Poll node 0 until N nodes have joined and the health is right: yellow for one node (a replica
    # cannot be placed), green for more. A node whose process ended fails the start with its log.
    local n="$1" want=green started="$2" deadline i
    [ "$n" -gt 1 ] || want=yellow
    deadline=$((SECONDS + TIMEOUT))
    while :; do
        for i in $started; do
            if ! launcher_alive "$i" && [ -z "$(node_pid "$i")" ]; then
                log_tail "$i"
                die "node nf-$i exited while starting (log above; all of it in $(node_dir "$i")/logs)"
            fi
        done
        if curl -fsS -o /dev/null "$URL/_cluster/health?wait_for_nodes=$n&wait_for_status=$want&timeout=2s" 2>/dev/null; then
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            for i in $started; do log_tail "$i"; done
            curl -sS "$URL/_cluster/health?pretty" >&2 2>/dev/null || true
            die "the cluster did not reach $n node(s) and status $want within ${TIMEOUT}s (NEWSFACET_OPENSEARCH_TIMEOUT)"
        fi
        sleep 1
    done
}

cmd_start() {
    local n="${1:-1}" i started="" size
    [[ "$n" =~ ^[1-9][0-9]?$ ]] || die "start takes a node count (1-99), not '$n'"
    command -v curl >/dev/null || die "curl is needed (Debian: apt-get install curl)"
    mkdir -p "$HOME_DIR"
    chmod 755 "$HOME_DIR"
    exec 9>"$HOME_DIR/.lock"
    flock 9
    size="$(recorded_size)"
    if [ -n "$size" ] && [ "$size" != "$n" ]; then
        die "$HOME_DIR holds a cluster of $size node(s), not $n: run '$0 stop --wipe' first, or set NEWSFACET_OPENSEARCH_HOME to another folder"
    fi
    ensure_user
    if [ "$(id -u)" -eq 0 ] && ! runuser -u "$RUN_USER" -- test -x "$HOME_DIR"; then
        die "user $RUN_USER cannot reach $HOME_DIR: choose a folder whose parents are searchable by others (NEWSFACET_OPENSEARCH_HOME)"
    fi
    java_home >/dev/null
    ensure_dist
    echo "$n" >"$HOME_DIR/cluster-size"
    for ((i = 0; i < n; i++)); do
        if [ -n "$(node_pid "$i")" ]; then
            say "node nf-$i already runs (pid $(node_pid "$i"))"
        elif curl -fsS -o /dev/null "http://127.0.0.1:$((PORT + i))/" 2>/dev/null; then
            die "port $((PORT + i)) answers but is not a node of $HOME_DIR: stop that server or set NEWSFACET_OPENSEARCH_PORT"
        else
            start_node "$i" "$n"
            started+=" $i"
        fi
    done
    wait_for_cluster "$n" "$started"
    say "cluster of $n node(s) ready at $URL"
    node_urls "$n"
}

stop_one() {
    # SIGTERM, then SIGKILL after 30 s: OpenSearch flushes on a clean stop.
    local i="$1" pid t
    pid="$(node_pid "$i")"
    [ -n "$pid" ] || return 0
    say "stopping node nf-$i (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((t = 0; t < 300; t++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "node nf-$i ignored SIGTERM for 30 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(node_dir "$i")/pid"
}

cmd_stop() {
    local d i
    [ -d "$HOME_DIR" ] || { say "nothing to stop in $HOME_DIR"; return 0; }
    for d in "$HOME_DIR"/node*; do
        [ -d "$d" ] || continue
        i="${d##*/node}"
        stop_one "$i"
    done
    if [ "${1:-}" = "--wipe" ]; then
        say "deleting node data in $HOME_DIR"
        rm -rf "$HOME_DIR"/node* "$HOME_DIR/cluster-size"
    elif [ -n "${1:-}" ]; then
        die "stop takes only --wipe, not '$1'"
    fi
}

cmd_stop_node() {
    [[ "${1:-}" =~ ^[0-9]+$ ]] || die "stop-node takes a node number (0 is the first)"
    [ -n "$(node_pid "$1")" ] || die "node nf-$1 is not running"
    stop_one "$1"
}

cmd_status() {
    local d i pid
    for d in "$HOME_DIR"/node*; do
        [ -d "$d" ] || continue
        i="${d##*/node}"
        pid="$(node_pid "$i")"
        if [ -n "$pid" ]; then echo "nf-$i http://127.0.0.1:$((PORT + i)) running (pid $pid)"; else echo "nf-$i http://127.0.0.1:$((PORT + i)) stopped"; fi
    done
    for ((i = 0; i < 100; i++)); do
        if curl -fsS "http://127.0.0.1:$((PORT + i))/_cluster/health" 2>/dev/null; then echo; return 0; fi
        [ -d "$(node_dir "$((i + 1))")" ] || break
    done
    echo "no node answers"
    return 1
}

cmd_deps() {
    local missing=()
    command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
    command -v mvn >/dev/null || missing+=(maven)
    command -v curl >/dev/null || missing+=(curl)
    command -v unzip >/dev/null || missing+=(unzip)
    if [ "${#missing[@]}" -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: install them (Debian: sudo apt-get install ${missing[*]})"
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "could not install ${missing[*]} with apt-get"
    fi
    mkdir -p "$HOME_DIR"
    chmod 755 "$HOME_DIR"
    ensure_dist
    say "OpenSearch $VERSION is ready in $DIST"
}

case "${1:-}" in
    deps) cmd_deps ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    stop-node) shift; cmd_stop_node "$@" ;;
    status) cmd_status ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
