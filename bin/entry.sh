# Sourced by the daemons' bin scripts, with `here` (bin/) and `daemon` set: sets `entry` to the
# file node runs. That is the daemon's bundle, dist/$daemon.mjs (hack/bundle.ts, run by
# hack/setup.sh), while it is newer than every source it is built from; else the sources,
# cmd/$daemon/main.ts, so that an edit since the last set-up is never run stale.
entry="$here/../dist/$daemon.mjs"
if [ ! -f "$entry" ] || [ -n "$(find "$here/../cmd" "$here/../pkg" "$here/../package-lock.json" -type f -newer "$entry" -print -quit 2>/dev/null)" ]; then
  entry="$here/../cmd/$daemon/main.ts"
fi
