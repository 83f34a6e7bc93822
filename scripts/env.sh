# Sourced by the build scripts: where the tools that setup.sh installed live.
PYTHON=${PYTHON:-python3}
VITC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VITC_BUILD=${VITC_BUILD:-$VITC_ROOT/build}
CMAKE_BIN=$("$PYTHON" -c 'import cmake, os; print(os.path.join(cmake.CMAKE_BIN_DIR, "cmake"))')
HALIDE_CMAKE_DIR=$("$PYTHON" -c 'import halide, os; print(os.path.join(os.path.dirname(halide.__file__), "lib64", "cmake", "Halide"))')
# ccache keys on paths relative to the checkout, so a clean clone elsewhere (CI) reuses objects.
export CCACHE_BASEDIR=$VITC_ROOT
export CCACHE_NOHASHDIR=1
