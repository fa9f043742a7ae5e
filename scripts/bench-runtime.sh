#!/usr/bin/env bash
# Runtime benchmark: builds one topology three ways and tears each down again.
#
#   topology: N node namespaces ("nodes") x L links each (default 100 x 10 = 1000
#   veth pairs). A separate "switch" namespace holds L Linux bridges s0..s(L-1).
#   Link J of node I is a veth pair created in place: the outer end nI-ethJ in the
#   switch namespace, enslaved to bridge sJ and up; the inner end ethJ in node I's
#   namespace, up, with address 10.J.(I/250).(I%250+1)/16. Every node has lo up.
#
#   (a) one `ip` process per command, as conlink 2.x works; torn down one `ip link
#       del` per interface, as 2.x did, then one `ip netns del` per namespace.
#   (b) `ip -batch`, the best hand-written iproute2: one batch file creates the
#       namespaces, one (run with `ip -n SWITCH -b`) the bridges and every veth in
#       place, one per node (`ip -n NODE -b`) the addresses; torn down by deleting
#       the namespaces from one batch file.
#   (c) `conlink apply` on an equivalent network file, then `conlink destroy`; also
#       the peak RSS of each.
#
# Usage: scripts/bench-runtime.sh [--nodes N] [--links L] [--only a,b,c] [--runs R]
#   --runs R  repeat everything R times (methods interleaved) and report medians.
#   CONLINK=PATH  the conlink binary to use; without it the script runs
#                 `cargo build --release` and uses target/release/conlink.
#   B_QUEUES=1  create (b)'s veths with one queue per end, as conlink does.
#   SETTLE=S  seconds to wait after each teardown before waiting for idle CPUs,
#             so the kernel's asynchronous namespace cleanup does not slow the
#             next method (default 1).
#
# Timings are only meaningful on an otherwise idle machine: the script warns when
# the CPUs are busy before it starts.
#
# Requirements: root, iproute2, nsenter (util-linux). Peak RSS comes from GNU time
# (`/usr/bin/time -f %M`; install it with `apt-get install -y time`); without it the
# script samples VmHWM from /proc/PID/status while conlink runs, which may miss a
# peak in the last few milliseconds.
#
# What is timed: from the first command to the last one of a method, with the
# network described beforehand (batch files and the network file are generated
# before the clock starts; conlink's time includes reading and compiling its file).
# Teardown of (a) and (b) is timed until every veth of the method has vanished from
# the switch namespace (namespace deletion returns before the kernel has finished);
# teardown of (c) is the time `conlink destroy` takes to return.
#
# Names: namespaces are ba-PID-RUN-* for (a), bb-PID-RUN-* for (b) and conlink's
# project is bc-PID-RUN, so a run never meets what an earlier one is still
# cleaning up. Everything with these prefixes is removed when the script exits,
# whether it succeeds, fails or is interrupted.
set -Eeuo pipefail
export LC_ALL=C # EPOCHREALTIME and printf need "." as the decimal separator

nodes=100
links=10
only=a,b,c
runs=1
settle=${SETTLE:-1}
# B_QUEUES=1 gives (b)'s veths one tx/rx queue per end (`numtxqueues 1 numrxqueues 1`),
# as conlink creates them: the same kernel shortcut, by hand.
b_queues=${B_QUEUES:+numtxqueues 1 numrxqueues 1}

usage() {
    sed -n '/^# Usage:/,/^#$/p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "bench-runtime: error: $*" >&2
    exit 1
}

log() {
    echo "bench-runtime: $*" >&2
}

# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

while (($#)); do
    case $1 in
    --nodes) nodes=${2:?--nodes needs a value}; shift 2 ;;
    --links) links=${2:?--links needs a value}; shift 2 ;;
    --only) only=${2:?--only needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
is_count "$nodes" || die "--nodes must be a positive integer, not '$nodes'"
is_count "$links" || die "--links must be a positive integer, not '$links'"
is_count "$runs" || die "--runs must be a positive integer, not '$runs'"
[[ $settle =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SETTLE must be a number of seconds, not '$settle'"
# Addresses are 10.J.(I/250).(I%250+1): J and I/250 must fit in one byte.
((links <= 256)) || die "--links must be at most 256"
((nodes <= 64000)) || die "--nodes must be at most 64000"

want_a=false want_b=false want_c=false
IFS=, read -ra chosen <<<"$only"
for m in "${chosen[@]}"; do
    case $m in
    a) want_a=true ;;
    b) want_b=true ;;
    c) want_c=true ;;
    *) die "--only takes a comma-separated list of a, b and c, not '$only'" ;;
    esac
done

# ---------------------------------------------------------------------------
# Preconditions
# ---------------------------------------------------------------------------

((EUID == 0)) || die "must run as root (it creates network namespaces)"
for tool in ip nsenter awk; do
    command -v "$tool" >/dev/null || die "'$tool' not found"
done
cd "$(dirname "$0")/.."

if $want_c; then
    if [[ -z ${CONLINK:-} ]]; then
        log "building conlink (cargo build --release)"
        cargo build --release --quiet ||
            die "cargo build --release failed; set CONLINK=PATH to a built conlink, or leave conlink out with --only a,b"
        CONLINK=target/release/conlink
    fi
    [[ -x $CONLINK ]] || die "CONLINK=$CONLINK is not an executable file"
fi

# GNU time reports peak RSS; anything else (a shell keyword, BSD time) does not.
if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    gnu_time=true
else
    gnu_time=false
    if $want_c; then log "GNU time not found (apt-get install -y time): sampling VmHWM instead"; fi
fi

# ---------------------------------------------------------------------------
# Clean-up: whatever happens, leave no namespace, process or file behind
# ---------------------------------------------------------------------------

tmp=$(mktemp -d /tmp/bench-runtime.XXXXXX)
holder_pid=""         # a process keeping (b)'s switch namespace alive while we watch it
conlink_project=""    # set while conlink may have something applied
conlink_state=""

cleanup() {
    local status=$?
    trap - ERR
    set +e
    if [[ -n $holder_pid ]]; then
        kill "$holder_pid" 2>/dev/null
        wait "$holder_pid" 2>/dev/null
    fi
    if [[ -n $conlink_project ]]; then
        log "cleaning up conlink project $conlink_project"
        "$CONLINK" --project "$conlink_project" --state-dir "$conlink_state" destroy >/dev/null 2>&1
    fi
    local ns left=0
    for ns in /run/netns/"ba-$$-"* /run/netns/"bb-$$-"* /run/netns/*"bc-$$-"*; do
        [[ -e $ns ]] || continue
        ip netns del "${ns##*/}"
        left=$((left + 1))
    done
    if ((left > 0)); then log "removed $left leftover namespace(s)"; fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'die "line $LINENO: command failed: $BASH_COMMAND"' ERR

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Seconds between two EPOCHREALTIME values (milliseconds kept; the table rounds).
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Median of its arguments (numbers).
median() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Address of link J of node I.
addr() { echo "10.$2.$(($1 / 250)).$(($1 % 250 + 1))/16"; }

# The veths of a namespace given as a path (/run/netns/X, /proc/P/ns/net), one line
# each. To name the namespace of each peer, `ip link show` asks the kernel about every
# entry in /run/netns, and prints "Error: Peer netns reference is invalid." (yet
# succeeds) when one is being deleted meanwhile, by us or anyone else: hide that.
veths() {
    local out
    out=$(nsenter --net="$1" ip -o link show type veth 2>/dev/null) ||
        die "cannot list the interfaces of $1"
    if [[ -n $out ]]; then echo "$out"; fi
}

veth_count() { veths "$1" | wc -l; }

# Waits until a namespace (path) holds no veth, for at most 60 s.
wait_no_veth() {
    local i n
    for ((i = 0; i < 3000; i++)); do
        n=$(veth_count "$1")
        if ((n == 0)); then return 0; fi
        sleep 0.02
    done
    die "veths in $1 still there after 60 s"
}

# Waits until no namespace under /run/netns matches a glob, for at most 60 s.
wait_no_netns() {
    local i ns left
    for ((i = 0; i < 600; i++)); do
        left=0
        for ns in /run/netns/$1; do
            if [[ -e $ns ]]; then left=1; fi
        done
        if ((left == 0)); then return 0; fi
        sleep 0.1
    done
    die "namespaces /run/netns/$1 still there after 60 s"
}

# Percentage of CPU time spent idle over the next $1 seconds (all CPUs).
idle_percent() {
    local a b
    a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep "$1"
    b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        t = y[2] - x[2]; printf "%d", (t > 0 ? 100 * (y[1] - x[1]) / t : 100) }'
}

# After a teardown: sleeps $settle seconds, then waits (at most 10 s) until the CPUs
# are idle, so the kernel's asynchronous cleanup does not slow the next method.
settle_down() {
    local i
    sleep "$settle"
    for ((i = 0; i < 40; i++)); do
        if (($(idle_percent 0.25) >= 90)); then return 0; fi
    done
    log "warning: the machine is still busy 10 s after a teardown; later figures may be inflated"
}

# Names of the pinned namespaces, sorted.
netns_list() { find /run/netns -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort || true; }

# Checks what a method built: every veth in the switch namespace, enslaved and with
# its carrier up (so both ends are up), and all addresses on the first and last node.
verify() {
    local sw=$1 first=$2 last=$3 n ns list
    list=$(veths "/run/netns/$sw")
    n=$(grep -c ' master s[0-9]* state UP ' <<<"$list" || true)
    ((n == nodes * links)) || die "$sw: $n of $((nodes * links)) veths enslaved and up"
    for ns in "$first" "$last"; do
        n=$(ip -n "$ns" -o -4 addr show scope global | wc -l)
        ((n == links)) || die "$ns: $n of $links addresses"
    done
}

# Runs a command, recording its wall time in $m_secs, its exit status in $m_status,
# its peak RSS in $m_rss_kb and its stderr in $tmp/stderr.
measure() {
    local t0 t1
    m_status=0
    m_rss_kb=0
    if $gnu_time; then
        t0=$EPOCHREALTIME
        /usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>"$tmp/stderr" || m_status=$?
        t1=$EPOCHREALTIME
        m_rss_kb=$(tail -n 1 "$tmp/rss")
        [[ $m_rss_kb =~ ^[0-9]+$ ]] || m_rss_kb=0
    else
        local pid hwm
        t0=$EPOCHREALTIME
        "$@" >/dev/null 2>"$tmp/stderr" &
        pid=$!
        while kill -0 "$pid" 2>/dev/null; do
            hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            if [[ -n $hwm ]] && ((hwm > m_rss_kb)); then m_rss_kb=$hwm; fi
            sleep 0.005
        done
        wait "$pid" || m_status=$?
        t1=$EPOCHREALTIME
    fi
    m_secs=$(elapsed "$t0" "$t1")
}

# ---------------------------------------------------------------------------
# (a) one ip process per command
# ---------------------------------------------------------------------------

a_create() {
    local p=$1 sw=$1-sw i j
    ip netns add "$sw"
    for ((j = 0; j < links; j++)); do
        ip -n "$sw" link add "s$j" type bridge
        ip -n "$sw" link set "s$j" up
    done
    for ((i = 0; i < nodes; i++)); do
        ip netns add "$p-n$i"
        ip -n "$p-n$i" link set lo up
        for ((j = 0; j < links; j++)); do
            ip -n "$sw" link add "n$i-eth$j" type veth peer name "eth$j" netns "$p-n$i"
            ip -n "$sw" link set "n$i-eth$j" master "s$j"
            ip -n "$sw" link set "n$i-eth$j" up
            ip -n "$p-n$i" addr add "$(addr "$i" "$j")" dev "eth$j"
            ip -n "$p-n$i" link set "eth$j" up
        done
    done
}

# Deleting one end of a veth pair deletes both; each deletion waits for an RCU grace
# period, which is what makes this slow.
a_teardown() {
    local p=$1 sw=$1-sw i j
    for ((i = 0; i < nodes; i++)); do
        for ((j = 0; j < links; j++)); do
            ip -n "$sw" link del "n$i-eth$j"
        done
    done
    for ((j = 0; j < links; j++)); do
        ip -n "$sw" link del "s$j"
    done
    for ((i = 0; i < nodes; i++)); do
        ip netns del "$p-n$i"
    done
    ip netns del "$sw"
}

# ---------------------------------------------------------------------------
# (b) ip -batch
# ---------------------------------------------------------------------------
#
# iproute2 6.x batch files take one `ip` command per line without the `ip`; a line
# cannot carry options (`-n NS link ...` fails with 'Object "-n" is unknown'), so
# the namespace is chosen per file with `ip -n NS -b FILE`. A batch stops at the
# first failing line (unless -force) and exits 1 naming FILE:LINE.
#
# `link add` can enslave and raise the outer end at once (`master sJ up`), but not
# raise the peer: `peer name ethJ netns N up` fails with "Transport endpoint is not
# connected" (ENOTCONN: the kernel opens the peer before the pair is joined), so the
# inner ends are raised in the node batches, next to their addresses.

b_write() {
    local p=$1 dir=$2 sw=$1-sw i j
    mkdir -p "$dir"
    {
        echo "netns add $sw"
        for ((i = 0; i < nodes; i++)); do echo "netns add $p-n$i"; done
    } >"$dir/netns.batch"
    {
        for ((j = 0; j < links; j++)); do echo "link add s$j up type bridge"; done
        for ((i = 0; i < nodes; i++)); do
            for ((j = 0; j < links; j++)); do
                echo "link add n$i-eth$j up master s$j $b_queues type veth peer name eth$j netns $p-n$i $b_queues"
            done
        done
    } >"$dir/switch.batch"
    for ((i = 0; i < nodes; i++)); do
        {
            echo "link set lo up"
            for ((j = 0; j < links; j++)); do
                echo "addr add $(addr "$i" "$j") dev eth$j"
                echo "link set eth$j up"
            done
        } >"$dir/n$i.batch"
    done
    {
        for ((i = 0; i < nodes; i++)); do echo "netns del $p-n$i"; done
        echo "netns del $sw"
    } >"$dir/delete.batch"
}

b_create() {
    local p=$1 dir=$2 i
    ip -b "$dir/netns.batch"
    ip -n "$p-sw" -b "$dir/switch.batch"
    for ((i = 0; i < nodes; i++)); do
        ip -n "$p-n$i" -b "$dir/n$i.batch"
    done
}

# ---------------------------------------------------------------------------
# (c) conlink
# ---------------------------------------------------------------------------

c_write() {
    local file=$1 i j
    {
        echo "nodes:"
        for ((i = 0; i < nodes; i++)); do echo "  - {name: n$i}"; done
        echo "bridges:"
        for ((j = 0; j < links; j++)); do echo "  - {bridge: s$j, mode: linux}"; done
        echo "links:"
        for ((i = 0; i < nodes; i++)); do
            for ((j = 0; j < links; j++)); do
                echo "  - {node: n$i, dev: eth$j, bridge: s$j, ip: $(addr "$i" "$j")}"
            done
        done
    } >"$file"
}

# ---------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------

idle=$(idle_percent 0.5)
if ((idle < 90)); then
    log "warning: the CPUs are only $idle% idle before the start (other processes running?); figures will be inflated"
fi

a_create_s=() a_teardown_s=()
b_create_s=() b_teardown_s=()
c_create_s=() c_teardown_s=() c_apply_kb=() c_destroy_kb=()
c_na=""  # why conlink has no figures, if it has none

for ((run = 1; run <= runs; run++)); do
    if $want_a; then
        p=ba-$$-$run
        log "(a) run $run/$runs: creating $nodes x $links with one ip per command"
        t0=$EPOCHREALTIME
        a_create "$p"
        t1=$EPOCHREALTIME
        verify "$p-sw" "$p-n0" "$p-n$((nodes - 1))"
        log "(a) tearing down: ip link del per interface"
        t2=$EPOCHREALTIME
        a_teardown "$p"
        t3=$EPOCHREALTIME
        wait_no_netns "$p-*"
        a_create_s+=("$(elapsed "$t0" "$t1")")
        a_teardown_s+=("$(elapsed "$t2" "$t3")")
        log "(a) create ${a_create_s[-1]} s, teardown ${a_teardown_s[-1]} s"
        settle_down
    fi

    if $want_b; then
        p=bb-$$-$run
        log "(b) run $run/$runs: creating $nodes x $links with ip -batch"
        b_write "$p" "$tmp/$p"
        t0=$EPOCHREALTIME
        b_create "$p" "$tmp/$p"
        t1=$EPOCHREALTIME
        verify "$p-sw" "$p-n0" "$p-n$((nodes - 1))"
        # Keep the switch namespace alive after `netns del` so we can watch its veths
        # go; wait until the holder is really inside it.
        nsenter --net="/run/netns/$p-sw" sleep 600 &
        holder_pid=$!
        until [[ $(stat -L -c %i "/proc/$holder_pid/ns/net") == $(stat -L -c %i "/run/netns/$p-sw") ]]; do
            kill -0 "$holder_pid" 2>/dev/null || die "cannot start a process in $p-sw"
            sleep 0.01
        done
        log "(b) tearing down: netns del from one batch file"
        t2=$EPOCHREALTIME
        ip -b "$tmp/$p/delete.batch"
        t_cmd=$EPOCHREALTIME
        wait_no_veth "/proc/$holder_pid/ns/net"
        t3=$EPOCHREALTIME
        kill "$holder_pid"
        wait "$holder_pid" || true
        holder_pid=""
        wait_no_netns "$p-*"
        b_create_s+=("$(elapsed "$t0" "$t1")")
        b_teardown_s+=("$(elapsed "$t2" "$t3")")
        log "(b) create ${b_create_s[-1]} s, teardown ${b_teardown_s[-1]} s (ip -b returned after $(elapsed "$t2" "$t_cmd") s)"
        settle_down
    fi

    if $want_c && [[ -z $c_na ]]; then
        project=bc-$$-$run
        dir=$tmp/$project
        mkdir -p "$dir/state"
        c_write "$dir/network.yaml"
        conlink=("$CONLINK" --project "$project" --state-dir "$dir/state" --keep-veth-offload)
        log "(c) run $run/$runs: conlink apply"
        netns_list >"$dir/netns.before"
        conlink_project=$project conlink_state=$dir/state
        measure "${conlink[@]}" apply -n "$dir/network.yaml"
        if ((m_status != 0)); then
            if grep -q "not implemented" "$tmp/stderr"; then
                c_na="conlink apply not implemented"
                conlink_project=""
                log "(c) $(head -n 1 "$tmp/stderr")"
                continue
            fi
            cat "$tmp/stderr" >&2
            die "conlink apply failed (exit $m_status)"
        fi
        c_create_s+=("$m_secs")
        c_apply_kb+=("$m_rss_kb")
        log "(c) conlink destroy"
        measure "${conlink[@]}" destroy
        if ((m_status != 0)); then
            cat "$tmp/stderr" >&2
            die "conlink destroy failed (exit $m_status)"
        fi
        conlink_project=""
        c_teardown_s+=("$m_secs")
        c_destroy_kb+=("$m_rss_kb")
        wait_no_netns "*$project*"
        # conlink's namespace names need not contain the project: report any new one.
        netns_list | comm -13 "$dir/netns.before" - >"$dir/netns.left"
        if [[ -s $dir/netns.left ]]; then
            log "(c) warning: namespaces left after destroy: $(tr '\n' ' ' <"$dir/netns.left")"
        fi
        log "(c) apply ${c_create_s[-1]} s (${c_apply_kb[-1]} kB), destroy ${c_teardown_s[-1]} s (${c_destroy_kb[-1]} kB)"
        settle_down
    fi
done

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

fmt_s() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
fmt_mb() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }

echo
summary="$nodes nodes x $links links = $((nodes * links)) veth pairs, $runs run(s)"
if ((runs > 1)); then summary+=", medians"; fi
echo "$summary"
printf '%-30s %9s %12s %13s\n' method "create s" "teardown s" "peak RSS MB"
if $want_a; then
    printf '%-30s %9s %12s %13s\n' "(a) ip per command" \
        "$(fmt_s "$(median "${a_create_s[@]}")")" "$(fmt_s "$(median "${a_teardown_s[@]}")")" -
fi
if $want_b; then
    printf '%-30s %9s %12s %13s\n' "(b) ip -batch, in place${B_QUEUES:+, 1 queue}" \
        "$(fmt_s "$(median "${b_create_s[@]}")")" "$(fmt_s "$(median "${b_teardown_s[@]}")")" -
fi
if $want_c; then
    if [[ -n $c_na ]]; then
        printf '%-30s %s\n' "(c) conlink apply / destroy" "n/a ($c_na)"
    else
        c_create=$(median "${c_create_s[@]}")
        c_teardown=$(median "${c_teardown_s[@]}")
        c_apply_rss=$(median "${c_apply_kb[@]}")
        c_destroy_rss=$(median "${c_destroy_kb[@]}")
        c_rss=$(printf '%s\n' "$c_apply_rss" "$c_destroy_rss" | sort -g | tail -n 1)
        printf '%-30s %9s %12s %13s\n' "(c) conlink apply / destroy" \
            "$(fmt_s "$c_create")" "$(fmt_s "$c_teardown")" "$(fmt_mb "$c_rss")"
    fi
fi
how=()
if $want_a; then how+=("(a) ip link del per interface, then netns del"); fi
if $want_b; then how+=("(b) netns del from one batch, until the veths are gone"); fi
if $want_c; then how+=("(c) conlink destroy, until it returns"); fi
(IFS=';'; echo "teardown: ${how[*]}" | sed 's/;/; /g')

if $want_c && [[ -z $c_na ]]; then
    yes_no() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; then echo yes; else echo no; fi; }
    if $want_b; then
        ratio=$(awk -v c="$c_create" -v b="$(median "${b_create_s[@]}")" 'BEGIN { printf "%.2f", c / b }')
    else
        ratio="n/a (needs (b))"
    fi
    echo "conlink apply / (b): $ratio (target <= 0.80);" \
        "destroy < 0.5 s: $(yes_no "$c_teardown" 0.5);" \
        "RSS < 40 MB: $(yes_no "$c_rss" $((40 * 1024)))" \
        "(apply $(fmt_mb "$c_apply_rss") MB, destroy $(fmt_mb "$c_destroy_rss") MB)"
fi
