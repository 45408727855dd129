# Shared by .ci/run and .ci/start: checks and installs what Carecal needs on a Debian-based machine.
# Sourced, not run. Every failure ends with one clear sentence saying what to do.

# Libraries Qt needs even with no screen (offscreen tests); fonts so text is not drawn as boxes.
QT_RUNTIME_DEBS="libgl1 libegl1 libopengl0 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 fonts-dejavu-core"
# What Qt's X11 (xcb) platform plugin needs on top, for a real window.
QT_X11_DEBS="libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libxcb-xkb1 libx11-xcb1"

die() { echo "carecal setup: $*" >&2; exit 1; }

pick_python() {
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null 2>&1 &&
           "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            PYTHON=$(command -v "$py"); return 0
        fi
    done
    die "Carecal needs Python 3.11 or newer; install it (for example: apt-get install python3) and run this again."
}

# ensure_debs PKG...: installs the missing Debian packages, as root or through sudo.
ensure_debs() {
    command -v dpkg-query >/dev/null 2>&1 || return 0  # not a Debian-based system: nothing to check
    local missing="" p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
        else die "these system packages are missing:$missing. Install them with: sudo apt-get install -y$missing"
        fi
    fi
    echo "carecal setup: installing system packages:$missing" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
        die "apt-get update failed; install these packages by hand:$missing"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        die "could not install:$missing (apt-get install failed)"
}

# make_venv SPEC: a virtual environment in .venv with Carecal installed editable (SPEC: "." or ".[dev]").
make_venv() {
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -m venv .venv 2>/dev/null ||
            die "could not create a virtual environment; on Debian/Ubuntu install python3-venv (apt-get install python3-venv) and run this again."
    fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$1" 2>&1 |
        grep -vE "is ignored: it is neither a file nor a directory" >&2 || true
    .venv/bin/python -c "import carecal" 2>/dev/null ||
        die "installing Carecal's Python packages failed (see the messages above)."
}
