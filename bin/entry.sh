# Sourced by the daemons' bin scripts, with `here` (bin/) and `daemon` set: sets `entry` to the
# file node runs. That is the daemon's bundle, dist/$daemon.mjs (hack/bundle.ts, run by
# hack/setup.sh), while it is newer than every source it is built from; else the sources,
# cmd/$daemon/main.ts, so that an edit since the last set-up is never run stale.
entry="$here/../dist/$daemon.mjs"
if [ ! -f "$entry" ] || [ -n "$(find "$here/../cmd" "$here/../pkg" "$here/../package-lock.json" -type f -newer "$entry" -print -quit 2>/dev/null)" ]; then
  entry="$here/../cmd/$daemon/main.ts"
fi
# Allowed one CPU only (taskset, or a cpuset of one): V8 collects garbage on the main thread
# alone. Its helper threads could not run beside the main thread anyway; on the one CPU they
# took it for whole scheduler slices, during which no query was answered. Measured with two
# signpost-dns pinned to one core, the DNS bench's 10,000 Services, fixed-rate slices taking
# turns: p99 of search-path misses at 5,000 q/s 15.5 and 14.7 ms with the helpers, 3.1 and 3.1
# ms without, in two runs; forwarded names 10.8 against 4.5 ms. (A CPU quota is not read.)
gc_flags=
case $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null) in
  "" | *[-,]*) ;;
  *) gc_flags=--single-threaded-gc ;;
esac
