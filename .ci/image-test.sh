#!/usr/bin/env bash
# Build the action image from the repo's Dockerfile with podman and run it on the bundled
# example, the way GitHub runs a container action. Image registries are unreachable here, so
# BASE_IMAGE is built locally from Debian packages (debootstrap + podman import) and reused
# from podman's storage on later runs; everything else is built from scratch every run.
#
# Runs as root, non-interactively, and is safe to run again. Knobs (environment):
#   CASEBANK_REBUILD_BASE=1     build the local base image again even if it exists
#   CASEBANK_DEBIAN_MIRROR=URL  Debian mirror for the base (default: the one apt uses here)
# See docs/container.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=localhost/casebank-base
IMAGE=localhost/casebank:test
SUITE=bookworm
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
export DEBIAN_FRONTEND=noninteractive

started=$SECONDS
step() { echo "image-test [$((SECONDS - started))s] $*"; }
fail() { echo "image-test FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (podman builds rootful here)"

work=$(mktemp -d "${TMPDIR:-/tmp}/casebank-image-test.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# --- tools ----------------------------------------------------------------------------------
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]} (apt)"
  apt-get update -q >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get update"; }
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log"; fail "apt-get install ${missing[*]}"; }
fi

# podman here runs containers with runc (the runtime installed above; podman would prefer crun
# where both exist), and with the host's rlimits every container fails to start ("error setting
# rlimits ... operation not permitted"), so the defaults are lowered.
export CONTAINERS_CONF="$work/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF
step "podman $(podman version --format '{{.Client.Version}}'), runc $(runc --version | awk 'NR == 1 {print $3}')"

# --- base image: Debian with python3, venv and git --------------------------------------------
debian_mirror() {
  # The mirror apt already uses for $SUITE (deb822 .sources or one-line .list), else Debian's.
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk -v suite="$SUITE" '
      /^URIs:/ {u=$2} /^Suites:/ {for (i=2;i<=NF;i++) if ($i==suite) s=1}
      /^$/ {if (u && s) {print u; done=1; exit} u=""; s=0}
      END {if (!done && u && s) print u}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk -v suite="$SUITE" '$1=="deb" && $0 ~ " "suite" " {for (i=2;i<=NF;i++) if ($i ~ /^(https?|ftp):/) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}

if [ "${CASEBANK_REBUILD_BASE:-0}" = 1 ] && podman image exists "$BASE"; then
  step "CASEBANK_REBUILD_BASE=1: removing $BASE"
  podman rmi -f "$BASE" >/dev/null
fi
if podman image exists "$BASE"; then
  step "reusing base image $BASE (CASEBANK_REBUILD_BASE=1 rebuilds it)"
else
  mirror=${CASEBANK_DEBIAN_MIRROR:-$(debian_mirror)}
  step "building base image $BASE: debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase --include=python3,python3-venv,git,ca-certificates \
    "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log"; fail "debootstrap (log above)"; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* \
    "$work"/rootfs/usr/share/doc "$work"/rootfs/usr/share/man "$work"/rootfs/usr/share/info
  step "importing the root filesystem into podman as $BASE"
  tar -C "$work/rootfs" -c . | podman import -q \
    --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV=LANG=C.UTF-8' --change 'CMD=["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$work/rootfs"
fi

# --- pip inside the build reaches the index the way the host's pip does -------------------------
# pip's own view of its configuration (files and PIP_* variables, later ones win) becomes one
# /etc/pip.conf for the build, and every local path it names (CA bundle, find-links, file://
# indexes, constraints) is mounted read-only at the same place. The Dockerfile stays the plain
# one a GitHub user builds: this only travels as build-time volumes.
mounts=()
while IFS= read -r path; do
  [ -n "$path" ] && mounts+=(--volume "$path:$path:ro")
done < <(python3 - "$work/pip.conf" "$CA_BUNDLE" <<'PY'
import ast, configparser, os, subprocess, sys

out, ca_bundle = sys.argv[1], sys.argv[2]
try:
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True, check=True).stdout
except (OSError, subprocess.CalledProcessError):
    listed = ""  # no pip on the host: the build uses pip's defaults plus the CA bundle
values: dict[str, str] = {}
for line in listed.splitlines():
    key, _, raw = line.partition("=")
    section, _, name = key.rpartition(".")
    if not name or not raw:
        continue
    section = "global" if section in (":env:", "") else section
    values[f"{section}.{name}"] = ast.literal_eval(raw)
if os.path.exists(ca_bundle):
    values.setdefault("global.cert", ca_bundle)
config = configparser.ConfigParser(interpolation=None)
paths: set[str] = set()
for key, value in values.items():
    section, name = key.split(".", 1)
    if not config.has_section(section):
        config.add_section(section)
    config.set(section, name, value)
    for token in value.split():
        path = token.removeprefix("file://")
        if not (path.startswith("/") and os.path.exists(path)):
            continue
        if name.endswith("index-url"):
            path = os.path.dirname(path.rstrip("/"))  # a simple/ index links to files beside it
        paths.add(path)
with open(out, "w", encoding="utf-8") as fh:
    config.write(fh)
for path in sorted(paths):
    print(path)
PY
)
[ -f "$work/pip.conf" ] || fail "could not turn the host's pip configuration into a pip.conf"
step "pip config for the build: $(grep -c '=' "$work/pip.conf") settings; mounted read-only:$(printf ' %s' "${mounts[@]}" | sed 's/ --volume \([^:]*\):[^ ]*/ \1/g')"
mounts+=(--volume "$work/pip.conf:/etc/pip.conf:ro")

# --- the image, from scratch ------------------------------------------------------------------
podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
step "building $IMAGE from Dockerfile (BASE_IMAGE=$BASE)"
podman build --pull=never --no-cache --layers=false --network host \
  --build-arg BASE_IMAGE="$BASE" "${mounts[@]}" -t "$IMAGE" -f Dockerfile . \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "podman build (log above)"; }
step "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"

# --- what GitHub relies on ---------------------------------------------------------------------
inspect=$(podman image inspect --format '{{json .Config.Entrypoint}}|{{.Config.User}}|{{.Config.WorkingDir}}' "$IMAGE") \
  || fail "podman image inspect $IMAGE"
[ "$inspect" = '["casebank","action"]||' ] \
  || fail "image config: want entrypoint [casebank action], no user, no workdir; got '$inspect'"
step "ok: entrypoint casebank action, no USER, no WORKDIR"

in_image() { podman run --rm --network none --entrypoint "$1" "$IMAGE" "${@:2}"; }

want_version="casebank $(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/casebank/__init__.py)"
got_version=$(in_image casebank --version) || fail "casebank --version does not run in the image"
[ "$got_version" = "$want_version" ] || fail "casebank --version: want '$want_version', got '$got_version'"
step "ok: $got_version"

# The installed distributions must be exactly the lock (plus casebank itself): nothing
# resolved unpinned during the build, nothing in the lock left out.
# Names as pip compares them (PEP 503: lower case, runs of -_. as -), versions untouched.
normalise() { awk -F'==' '{name = tolower($1); gsub(/[-_.]+/, "-", name); print name "==" $2}' | sort; }
grep -E '^[A-Za-z0-9._-]+==' requirements/action.txt | normalise >"$work/locked"
in_image python3 -m pip list --format=freeze --disable-pip-version-check >"$work/pip-list" \
  || fail "pip list does not run in the image"
grep -v -i -E '^(pip|setuptools|wheel|casebank)==' "$work/pip-list" | normalise >"$work/installed"
diff -u "$work/locked" "$work/installed" >"$work/lock.diff" \
  || { cat "$work/lock.diff"; fail "installed packages differ from requirements/action.txt (- lock, + image)"; }
step "ok: installed packages are exactly requirements/action.txt ($(wc -l <"$work/locked") pins)"

# A workspace shaped like GitHub's: a clone of this commit owned by the runner's uid (1001),
# not by the container's root, so git's safe.directory matters.
git clone -q --no-hardlinks . "$work/workspace"
head_sha=$(git -C "$work/workspace" rev-parse HEAD)
chown -R 1001:1001 "$work/workspace"
mkdir -p "$work/home" "$work/workflow" "$work/file_commands"
github_run() {
  podman run --rm --network none --workdir /github/workspace \
    -v "$work/workspace:/github/workspace" -v "$work/home:/github/home" \
    -v "$work/workflow:/github/workflow" -v "$work/file_commands:/github/file_commands" \
    -e HOME=/github/home -e CI=true -e GITHUB_ACTIONS=true "$@"
}
got_sha=$(github_run --entrypoint git "$IMAGE" rev-parse HEAD) \
  || fail "git in the image refuses the workspace owned by uid 1001 (safe.directory)"
[ "$got_sha" = "$head_sha" ] || fail "git rev-parse in the image: want $head_sha, got '$got_sha'"
step "ok: git in the image reads a workspace owned by another uid (HOME=/github/home)"

has_command() { in_image casebank "$1" --help >/dev/null 2>&1; }

if has_command validate; then
  step "casebank validate on the example"
  github_run --entrypoint casebank "$IMAGE" validate --config examples/support-agent/casebank.yaml \
    || fail "casebank validate on examples/support-agent exited $?"
  step "ok: the example validates inside the image"
else
  step "SKIPPED casebank validate: not in this build yet (casebank validate --help fails)"
fi

# >>> ACTION RUN: enabled as soon as `casebank action --help` works inside the image. <<<
if has_command action; then
  step "casebank action on the example (workflow_dispatch, no GitHub token, no network)"
  cat >"$work/workflow/event.json" <<EOF
{"inputs": {}, "ref": "refs/heads/main", "workflow": ".github/workflows/casebank.yml",
 "repository": {"full_name": "example/casebank-demo", "name": "casebank-demo",
                "owner": {"login": "example"}, "default_branch": "main"},
 "sender": {"login": "octocat", "type": "User"}}
EOF
  : >"$work/file_commands/step_summary"
  : >"$work/file_commands/output"
  set +e
  github_run -e GITHUB_WORKSPACE=/github/workspace -e GITHUB_EVENT_NAME=workflow_dispatch \
    -e GITHUB_EVENT_PATH=/github/workflow/event.json \
    -e GITHUB_STEP_SUMMARY=/github/file_commands/step_summary \
    -e GITHUB_OUTPUT=/github/file_commands/output \
    -e GITHUB_REPOSITORY=example/casebank-demo -e GITHUB_SHA="$head_sha" \
    -e GITHUB_REF=refs/heads/main -e GITHUB_RUN_ID=1 -e GITHUB_SERVER_URL=https://github.com \
    -e GITHUB_API_URL=https://api.github.com \
    -e INPUT_CONFIG=examples/support-agent/casebank.yaml \
    "$IMAGE" >"$work/action.log" 2>&1
  code=$?
  set -e
  # Its log without the ::workflow commands (annotations), which CI would otherwise repeat.
  { grep -v '^::' "$work/action.log" || true; } | sed 's/^/  | /' | tail -8
  if [ -s "$work/workspace/.casebank/crash.log" ]; then
    echo "  casebank's crash log:"; sed 's/^/  ! /' "$work/workspace/.casebank/crash.log" | tail -30
  fi
  case "$code" in
    0 | 1 | 3) ;;  # SHIP, BLOCK, HOLD: a verdict was reached
    *) fail "casebank action exited $code; want a verdict (0 SHIP, 1 BLOCK, 3 HOLD)" ;;
  esac
  [ -s "$work/file_commands/step_summary" ] || fail "casebank action wrote no step summary"
  # GITHUB_OUTPUT holds name<<DELIMITER / value / DELIMITER blocks.
  output() {
    awk -v name="$1" '
      !open && index($0, name "<<") == 1 {delim = substr($0, length(name) + 3); open = 1; next}
      open && $0 == delim {exit}
      open {print}' "$work/file_commands/output"
  }
  verdict=$(output verdict)
  case "$code:$verdict" in
    0:SHIP | 0:HOLD | 1:BLOCK | 3:HOLD) ;;  # HOLD exits 0 under the default fail-on: block
    *) fail "casebank action exited $code but its verdict output is '$verdict'" ;;
  esac
  grep -q "$verdict" "$work/file_commands/step_summary" \
    || fail "the step summary does not state the verdict $verdict"
  evidence=$(output evidence)
  if [ -z "$evidence" ] || [ ! -s "$work/workspace/${evidence#/github/workspace/}" ]; then
    fail "the evidence output '$evidence' names no file in the workspace"
  fi
  step "ok: casebank action exited $code, verdict $verdict, $(wc -c <"$work/file_commands/step_summary")-byte step summary, evidence $evidence"
  # sed stops by itself: `| head` would end it with SIGPIPE, a failure under pipefail.
  sed -n '1,3s/^/  > /p' "$work/file_commands/step_summary"
else
  step "SKIPPED casebank action run: not in this build yet (casebank action --help fails)"
fi
# <<< ACTION RUN >>>

step "image test passed in $((SECONDS - started))s"
